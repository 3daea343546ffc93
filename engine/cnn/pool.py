"""Pooling (max, average) and Flatten over NCHW batches, vectorised, plus one pooled output's window.

Registered as "maxpool2d", "avgpool2d" and "flatten" (engine/conv.py imports this module, so a network that
can build conv2d layers can build these too).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from engine.cnn.geometry import check_images, check_position, conv_output_size, image_shape
from engine.core.errors import EngineError
from engine.core.layers import Builder, Layer, Shape, register, require_int


def _pool_offsets(x: np.ndarray, size: int, stride: int, out_h: int, out_w: int) -> list[np.ndarray]:
    """One strided view per position (a, b) inside the window: view[..., y, x] = x[..., y·s + a, x·s + b].

    Pooling loops over the size×size window offsets only; each step is one
    vectorised element-wise op over the whole output. (NumPy reductions over a
    trailing axis of 4, and masked assignment like np.where / putmask, measured
    5-30× slower than these plain arithmetic ufuncs.)
    """
    h_end, w_end = stride * (out_h - 1) + 1, stride * (out_w - 1) + 1
    return [x[:, :, a:a + h_end:stride, b:b + w_end:stride] for a in range(size) for b in range(size)]


def _fold(ufunc: Callable[..., np.ndarray], views: list[np.ndarray]) -> np.ndarray:
    """ufunc(…ufunc(views[0], views[1])…, views[-1]) into one new contiguous array."""
    out = views[0].copy() if len(views) == 1 else ufunc(views[0], views[1])
    for view in views[2:]:
        ufunc(out, view, out=out)
    return out


class _Pool2D(Layer):
    def __init__(self, size: int, stride: int | None = None) -> None:
        super().__init__()
        self.size = size
        self.stride = stride if stride is not None else size
        self.x_shape: tuple[int, ...] | None = None

    def out_hw(self, h: int, w: int) -> tuple[int, int]:
        return (conv_output_size(h, self.size, self.stride, what="pooling window"),
                conv_output_size(w, self.size, self.stride, what="pooling window"))

    def windows(self, x: np.ndarray) -> list[np.ndarray]:
        """The window-offset views of a checked input batch (remembering its shape for backward)."""
        self.x_shape = check_images(x).shape
        return _pool_offsets(x, self.size, self.stride, *self.out_hw(x.shape[2], x.shape[3]))

    def input_gradient(self, dout: np.ndarray) -> tuple[np.ndarray, list[np.ndarray], bool]:
        """dx and its per-offset views; `tiles` when the windows cover the input exactly once."""
        assert self.x_shape is not None, "forward must run before backward"
        h, w = self.x_shape[2:]
        tiles = self.stride == self.size and h == self.size * dout.shape[2] and w == self.size * dout.shape[3]
        # Tiling windows write every element exactly once, so dx needs no zero fill.
        dx = (np.empty if tiles else np.zeros)(self.x_shape, dtype=dout.dtype)
        return dx, _pool_offsets(dx, self.size, self.stride, dout.shape[2], dout.shape[3]), tiles

    def spec(self) -> dict[str, Any]:
        return {"type": self.type, "size": self.size, "stride": self.stride}


class MaxPool2D(_Pool2D):
    """Maximum over each size×size window; the gradient goes to the maximum (the first one on ties)."""

    type = "maxpool2d"
    # Set by a trainer (engine/lenet/training.py): forward then finds where each maximum sits too, which
    # backward needs; an inference pass (most passes on a page) costs only the maxima.
    keep_argmax = False

    def forward(self, x: np.ndarray) -> np.ndarray:
        views = self.windows(x)
        self.kept: np.ndarray | None = None
        if self.keep_argmax and len(views) > 1:
            out = views[0].copy()
            # The first maximum in reading order: a later offset takes over only when strictly greater.
            kept = np.zeros(out.shape, dtype=np.min_scalar_type(len(views)))
            greater = np.empty(out.shape, dtype=bool)
            for offset, view in enumerate(views[1:], 1):
                np.greater(view, out, out=greater)
                np.maximum(out, view, out=out)
                np.copyto(kept, offset, where=greater)
            self.kept = kept
        else:
            out = _fold(np.maximum, views)
        # Otherwise backward finds where each maximum sits from these. Layers never write into their inputs or
        # outputs, so the references stay valid.
        self.x, self.out = x, out
        return out

    def argmax(self) -> np.ndarray:
        """Each window's offset (a·size + b) of its first maximum in reading order: the element backward
        routes the gradient to. Counted as how many leading offsets all miss the maximum."""
        views = _pool_offsets(self.x, self.size, self.stride, self.out.shape[2], self.out.shape[3])
        argmax = np.zeros(self.out.shape, dtype=np.min_scalar_type(len(views)))
        missed = np.ones(self.out.shape, dtype=bool)
        below = np.empty(self.out.shape, dtype=bool)
        for view in views[:-1]:
            np.not_equal(view, self.out, out=below)
            missed &= below
            argmax += missed
        return argmax

    def backward(self, dout: np.ndarray) -> np.ndarray:
        kept = getattr(self, "kept", None)
        argmax = kept if kept is not None else self.argmax()
        dx, views, tiles = self.input_gradient(dout)
        for offset, view in enumerate(views):
            if tiles:
                np.multiply(argmax == offset, dout, out=view)
            else:
                view += (argmax == offset) * dout
        return dx


class AvgPool2D(_Pool2D):
    """Mean over each size×size window; the gradient is shared equally."""

    type = "avgpool2d"

    def forward(self, x: np.ndarray) -> np.ndarray:
        out = _fold(np.add, self.windows(x))
        out *= x.dtype.type(1.0 / self.size**2)
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        dx, views, tiles = self.input_gradient(dout)
        share = dout * dout.dtype.type(1.0 / self.size**2)
        for view in views:
            if tiles:
                view[...] = share
            else:
                view += share
        return dx


class Flatten(Layer):
    """(N, C, H, W) → (N, C·H·W), channel-major, as PyTorch's flatten."""

    type = "flatten"

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x_shape = x.shape
        return np.ascontiguousarray(x).reshape(x.shape[0], -1)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(dout).reshape(self.x_shape)


# --- builders -------------------------------------------------------------------


def _pool_builder(cls: type[_Pool2D]) -> Builder:
    def build(spec: dict[str, Any], shape: Shape, rng: np.random.Generator, dtype: np.dtype) -> tuple[Layer, Shape]:
        c, h, w = image_shape(spec, shape)
        size = require_int(spec, "size")
        stride = require_int(spec, "stride", default=size)
        layer = cls(size, stride)
        return layer, (c, *layer.out_hw(h, w))

    return build


register("maxpool2d")(_pool_builder(MaxPool2D))
register("avgpool2d")(_pool_builder(AvgPool2D))


@register("flatten")
def _build_flatten(
    spec: dict[str, Any], shape: Shape, rng: np.random.Generator, dtype: np.dtype
) -> tuple[Layer, Shape]:
    return Flatten(), (int(np.prod(shape)),)


# --- inspection -------------------------------------------------------------------


def pool_window(
    x: np.ndarray, size: int, stride: int | None, mode: str, out_row: int, out_col: int, channel: int = 0
) -> dict[str, Any]:
    """One output of max or average pooling: its window, and the max (with its place) or the mean.

    x: (C, H, W) or (H, W). For max pooling `argmax` is [row, col] inside the
    window, the first in reading order on ties (the element backward routes to).
    """
    img = np.asarray(x)
    if img.ndim == 2:
        img = img[None]
    if img.ndim != 3:
        raise EngineError(f"image must have shape (channels, height, width) or (height, width), got {list(img.shape)}")
    if mode not in ("max", "avg"):
        raise EngineError(f"pooling mode must be 'max' or 'avg', got {mode!r}")
    stride = size if stride is None else stride
    out_h = conv_output_size(img.shape[1], size, stride, what="pooling window")
    out_w = conv_output_size(img.shape[2], size, stride, what="pooling window")
    check_position((("out_row", out_row, out_h), ("out_col", out_col, out_w), ("channel", channel, img.shape[0])))
    top, left = out_row * stride, out_col * stride
    window = img[channel, top:top + size, left:left + size]
    report: dict[str, Any] = {"mode": mode, "out_row": out_row, "out_col": out_col, "channel": channel,
                              "top": top, "left": left, "size": size, "stride": stride, "window": window.tolist()}
    if mode == "max":
        flat_index = int(np.argmax(window))
        report["argmax"] = [flat_index // size, flat_index % size]
        report["value"] = float(window.flat[flat_index])
    else:
        report["sum"] = float(window.sum())
        report["value"] = float(window.sum() / window.size)
    return report
