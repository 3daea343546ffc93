"""Conv2D over NCHW batches, vectorised, plus one output number's arithmetic (pooling: engine/pool.py).

"Convolution" here is cross-correlation, as deep-learning libraries define it:
out[n, o, y, x] = bias[o] + Σ_c Σ_i Σ_j weight[o, c, i, j] · xpad[n, c, y·s + i, x·s + j]
(a mathematician's convolution would flip the kernel first).

How the convolution is computed (measured on LeNet's shapes against PyTorch,
see bench/conv.py):
- A full im2col copies every input value k·k times, and in NCHW the copy runs
  in rows only `out_width` long, so NumPy's copy loop overhead dominates.
  Instead we copy each value only k times, one shifted copy per kernel column
  j ("column shifts"), and pick the kernel row i by an offset into that copy:
  for each i the (channel, j) × (output position) matrix is then a plain
  strided view that BLAS reads directly. The output is the sum of k matrix
  products, one per kernel row.
- Images are grouped into blocks of `nb` (up to 8) with the block member as
  the innermost axis, so one output row of a block is a contiguous run of
  out_width·nb numbers: long copy runs, no wasted columns, and per-block
  matrices that stay in cache.
- Stride s is handled by splitting the padded rows by phase (row mod s), so
  the rows y·s + i for consecutive y are again consecutive in memory.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided
from numpy.typing import DTypeLike

from engine.cnn.geometry import check_images, check_position, conv_output_size, image_shape
from engine.core.errors import EngineError
from engine.core.init import weight_and_bias
from engine.core.layers import Layer, Shape, register, require_int

MAX_BATCH_BLOCK = 8


# --- convolution maths ----------------------------------------------------------


def _batch_block(n: int) -> int:
    return math.gcd(n, MAX_BATCH_BLOCK)


class _ConvGeometry:
    """Sizes of one convolution call and of its blocked, phase-split buffers."""

    def __init__(self, x_shape: tuple[int, ...], out_channels: int, kernel: int, stride: int, padding: int) -> None:
        self.n, self.c, self.h, self.w = x_shape
        self.o, self.k, self.s, self.p = out_channels, kernel, stride, padding
        self.out_h = conv_output_size(self.h, kernel, stride, padding)
        self.out_w = conv_output_size(self.w, kernel, stride, padding)
        self.nb = _batch_block(self.n)
        self.blocks = self.n // self.nb
        self.padded_w = self.w + 2 * padding
        # Rows per phase: kernel row i reads phase i % s, rows i // s ... i // s + out_h − 1.
        self.phase_rows = (kernel - 1) // stride + self.out_h
        self.row_len = self.out_w * self.nb  # one output row of a block
        self.positions = self.out_h * self.row_len  # output positions of a block

    def row_slice(self, i: int) -> tuple[int, slice]:
        start = (i // self.s) * self.row_len
        return i % self.s, slice(start, start + self.positions)


class Scratch:
    """Work buffers a layer keeps between calls, reused while the shapes stay the same.

    Fresh multi-megabyte arrays on every call cost more in page faults than the
    arithmetic itself on LeNet's shapes (the allocator hands large blocks back to
    the system on free). Only intermediates live here; arrays a layer returns
    are always new, since the trace keeps them.
    """

    def __init__(self) -> None:
        self.buffers: dict[str, np.ndarray] = {}

    def __deepcopy__(self, memo: dict) -> Scratch:
        return Scratch()  # a cloned network makes its own buffers when it first runs

    def get(self, name: str, shape: tuple[int, ...], dtype: np.dtype) -> tuple[np.ndarray, bool]:
        """The buffer and whether it was just made (callers then initialise what stays constant)."""
        buf = self.buffers.get(name)
        if buf is not None and buf.shape == shape and buf.dtype == dtype:
            return buf, False
        buf = np.empty(shape, dtype=dtype)
        self.buffers[name] = buf
        return buf, True


def _padded_blocks(x: np.ndarray, g: _ConvGeometry, scratch: Scratch) -> np.ndarray:
    """x (N, C, H, W) → zero-padded (blocks, C, rows, padded_w, nb), block member innermost."""
    shape = (g.blocks, g.c, g.phase_rows * g.s, g.padded_w, g.nb)
    xt, new = scratch.get(f"padded{g.p}", shape, x.dtype)
    if new:
        xt.fill(0)  # the border stays zero: later calls only write the interior
    xt[:, :, g.p:g.p + g.h, g.p:g.p + g.w, :] = x.reshape(g.blocks, g.nb, g.c, g.h, g.w).transpose(0, 2, 3, 4, 1)
    return xt


def _column_shifts(xt: np.ndarray, g: _ConvGeometry, scratch: Scratch) -> np.ndarray:
    """cols[b, c·k + j, phase, r·row_len + x·nb + m] = xt[b, c, r·s + phase, x·s + j, m], plus a row of ones.

    Each input value is copied k times (once per kernel column j), in runs of
    out_w·nb contiguous numbers. The last row (index C·k) is all ones, so the
    bias rides along in the first matrix product instead of costing a separate
    pass. The source is a read-only strided view of xt (the sliding windows
    along the width, built directly: sliding_window_view costs ~15 µs of
    Python per call, a third of a small layer's time).
    """
    sb, sc, s_row, s_col, sm = xt.strides
    windows = as_strided(
        xt,
        shape=(g.blocks, g.c, g.k, g.s, g.phase_rows, g.out_w, g.nb),
        strides=(sb, sc, s_col, s_row, g.s * s_row, g.s * s_col, sm),
        writeable=False,
    )
    ck = g.c * g.k
    cols, new = scratch.get("cols", (g.blocks, ck + 1, g.s, g.phase_rows * g.row_len), xt.dtype)
    if new:
        cols[:, ck] = 1
    shifts = cols[:, :ck].reshape(windows.shape)  # splitting axes: always a view, never a copy
    np.copyto(shifts, windows)
    return cols


def _kernel_rows(weight: np.ndarray, bias: np.ndarray | None) -> list[np.ndarray]:
    """weight (O, C, k, k) → for each kernel row i the (O, C·k) matrix, columns ordered (c, j).

    With a bias, row 0's matrix gains a last column holding it (it meets the ones row of the columns).
    """
    o, c, k, _ = weight.shape
    rows = [np.ascontiguousarray(weight[:, :, i, :]).reshape(o, c * k) for i in range(k)]
    if bias is not None:
        rows[0] = np.concatenate([rows[0], bias[:, None]], axis=1)
    return rows


def _conv_forward(
    x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None, stride: int, padding: int, scratch: Scratch
) -> tuple[np.ndarray, _ConvGeometry, np.ndarray]:
    """Returns the output and what backward needs: the geometry and the column shifts (without the ones row)."""
    g = _ConvGeometry(x.shape, weight.shape[0], weight.shape[2], stride, padding)
    cols = _column_shifts(_padded_blocks(x, g, scratch), g, scratch)
    acc, _ = scratch.get("acc", (g.blocks, g.o, g.positions), x.dtype)
    product, _ = scratch.get("product", acc.shape, x.dtype)
    for i, w_row in enumerate(_kernel_rows(weight, bias)):
        phase, span = g.row_slice(i)
        np.matmul(w_row, cols[:, :w_row.shape[1], phase, span], out=product if i else acc)
        if i:
            acc += product
    out = np.empty((g.n, g.o, g.out_h, g.out_w), dtype=x.dtype)
    blocked = acc.reshape(g.blocks, g.o, g.out_h, g.out_w, g.nb).transpose(0, 4, 1, 2, 3)
    np.copyto(out.reshape(g.blocks, g.nb, g.o, g.out_h, g.out_w), blocked)
    return out, g, cols[:, :g.c * g.k]


def _conv_backward(
    dout: np.ndarray, weight: np.ndarray, g: _ConvGeometry, cols: np.ndarray, scratch: Scratch,
    input_grad: bool = True,
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """Returns (dx, dweight, dbias) for the forward pass that produced `cols`; dx is None without
    `input_grad` (a network's first layer in training: nothing uses the gradient of the images)."""
    dt = dout.dtype
    dout_blocks, _ = scratch.get("dout", (g.blocks, g.o, g.out_h, g.out_w, g.nb), dt)
    np.copyto(dout_blocks, dout.reshape(g.blocks, g.nb, g.o, g.out_h, g.out_w).transpose(0, 2, 3, 4, 1))
    dout_blocks = dout_blocks.reshape(g.blocks, g.o, g.positions)
    dbias = dout.sum(axis=(0, 2, 3))
    dweight = np.empty_like(weight)
    if input_grad:
        dcols, _ = scratch.get("dcols", (g.blocks, g.c * g.k, g.s, g.phase_rows * g.row_len), dt)
        dcols.fill(0)
        dshift, _ = scratch.get("dshift", (g.blocks, g.c * g.k, g.positions), dt)
    for i, w_row in enumerate(_kernel_rows(weight, None)):
        phase, span = g.row_slice(i)
        shifted = cols[:, :, phase, span]  # (blocks, C·k, positions)
        per_block = np.matmul(dout_blocks, shifted.transpose(0, 2, 1))  # (blocks, O, C·k)
        dweight[:, :, i, :] = per_block.sum(axis=0).reshape(g.o, g.c, g.k)
        if input_grad:
            np.matmul(w_row.T, dout_blocks, out=dshift)
            dcols[:, :, phase, span] += dshift
    if not input_grad:
        return None, dweight, dbias
    # Scatter the k column shifts back: the transpose of _column_shifts, k strided adds.
    dxt, _ = scratch.get("dpadded", (g.blocks, g.c, g.phase_rows, g.s, g.padded_w, g.nb), dt)
    dxt.fill(0)
    shifts = dcols.reshape(g.blocks, g.c, g.k, g.s, g.phase_rows, g.out_w, g.nb).transpose(0, 1, 2, 4, 3, 5, 6)
    last = g.s * (g.out_w - 1) + 1
    for j in range(g.k):
        dxt[:, :, :, :, j:j + last:g.s, :] += shifts[:, :, j]
    rows = dxt.reshape(g.blocks, g.c, g.phase_rows * g.s, g.padded_w, g.nb)
    dx = np.empty((g.n, g.c, g.h, g.w), dtype=dt)
    dx.reshape(g.blocks, g.nb, g.c, g.h, g.w)[...] = rows[:, :, g.p:g.p + g.h, g.p:g.p + g.w, :].transpose(
        0, 4, 1, 2, 3
    )
    return dx, dweight, dbias


def _as_conv_args(
    x: object, weight: object, bias: object, stride: int, padding: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, bool]:
    x = np.asarray(x)
    single = x.ndim == 3
    if single:
        x = x[None]
    if x.ndim != 4:
        raise EngineError(f"image must have shape (channels, height, width) or (batch, channels, height, width), "
                          f"got {list(x.shape)}")
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64)
    dtype = x.dtype
    w = np.asarray(weight, dtype=dtype)
    if w.ndim != 4 or w.shape[2] != w.shape[3]:
        raise EngineError(f"kernel must have shape (out_channels, in_channels, k, k), got {list(w.shape)}")
    if w.shape[1] != x.shape[1]:
        raise EngineError(f"kernel has {w.shape[1]} input channels but the image has {x.shape[1]}")
    b = None
    if bias is not None:
        b = np.asarray(bias, dtype=dtype).reshape(-1)
        if b.shape != (w.shape[0],):
            raise EngineError(f"bias must have one number per output channel ({w.shape[0]}), got {b.size}")
    for name, value, low in (("stride", stride, 1), ("padding", padding, 0)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise EngineError(f"{name} must be a whole number >= {low}, got {value!r}")
    return np.ascontiguousarray(x), np.ascontiguousarray(w), b, single


def conv2d_forward(
    x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None, stride: int = 1, padding: int = 0
) -> np.ndarray:
    """Cross-correlate images with kernels, without building a layer.

    x: (C, H, W) or (N, C, H, W); weight: (O, C, k, k); bias: (O,) or None.
    Computes in x's float dtype (float64 for exact worked examples); returns
    (O, out_h, out_w) for a single image, else (N, O, out_h, out_w).
    """
    xb, w, b, single = _as_conv_args(x, weight, bias, stride, padding)
    out, _, _ = _conv_forward(xb, w, b, int(stride), int(padding), Scratch())
    return out[0] if single else out


# --- layers -------------------------------------------------------------------


class Conv2D(Layer):
    """2-D cross-correlation over NCHW batches; weight (out, in, k, k), bias (out,)."""

    type = "conv2d"

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        *,
        stride: int = 1,
        padding: int = 0,
        bias: bool = True,
        init: str = "he",
        rng: np.random.Generator | None = None,
        dtype: DTypeLike = np.float32,
        weight_values: object = None,
        bias_values: object = None,
    ) -> None:
        super().__init__()
        rng = rng if rng is not None else np.random.default_rng(0)
        self.dtype = np.dtype(dtype)
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, kernel_size
        self.stride, self.padding, self.init, self.use_bias = stride, padding, init, bias
        shape = (out_channels, in_channels, kernel_size, kernel_size)
        # Each output sums in·k·k inputs and each input feeds out·k·k outputs.
        fan_in, fan_out = in_channels * kernel_size**2, out_channels * kernel_size**2
        self.params = weight_and_bias(shape, out_channels, fan_in, fan_out, init=init, bias=bias, rng=rng,
                                      dtype=self.dtype, weight_values=weight_values, bias_values=bias_values)
        self.zero_grads()
        self.cache: tuple[_ConvGeometry, np.ndarray] | None = None
        self.scratch = Scratch()

    def forward(self, x: np.ndarray) -> np.ndarray:
        # Cast explicitly so a float64 batch never silently up-casts a float32 layer.
        x = np.ascontiguousarray(check_images(x), dtype=self.dtype)
        out, geometry, cols = _conv_forward(x, self.params["weight"], self.params.get("bias"), self.stride,
                                            self.padding, self.scratch)
        self.cache = (geometry, cols)
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        dx = self._backward(dout, True)
        assert dx is not None
        return dx

    def backward_params(self, dout: np.ndarray) -> None:
        self._backward(dout, False)

    def _backward(self, dout: np.ndarray, input_grad: bool) -> np.ndarray | None:
        assert self.cache is not None, "forward must run before backward"
        geometry, cols = self.cache
        dx, dweight, dbias = _conv_backward(dout, self.params["weight"], geometry, cols, self.scratch, input_grad)
        self.grads["weight"] = dweight
        if self.use_bias:
            self.grads["bias"] = dbias
        return dx

    def output_shape_for(self, shape: Shape) -> Shape:
        c, h, w = shape
        k, s, p = self.kernel_size, self.stride, self.padding
        return (self.out_channels, conv_output_size(h, k, s, p), conv_output_size(w, k, s, p))

    def spec(self) -> dict[str, Any]:
        return {"type": "conv2d", "out_channels": self.out_channels, "kernel_size": self.kernel_size,
                "stride": self.stride, "padding": self.padding, "bias": self.use_bias, "init": self.init}


# --- builders -------------------------------------------------------------------


@register("conv2d")
def _build_conv2d(spec: dict[str, Any], shape: Shape, rng: np.random.Generator, dtype: np.dtype) -> tuple[Layer, Shape]:
    c, h, w = image_shape(spec, shape)
    if "in_channels" in spec and require_int(spec, "in_channels") != c:
        raise EngineError(f"conv2d says in_channels={spec['in_channels']} but its input has {c} channels")
    layer = Conv2D(
        c, require_int(spec, "out_channels"), require_int(spec, "kernel_size"),
        stride=require_int(spec, "stride", default=1), padding=require_int(spec, "padding", low=0, default=0),
        bias=bool(spec.get("bias", True)), init=str(spec.get("init", "he")), rng=rng, dtype=dtype,
        weight_values=spec.get("weight"), bias_values=spec.get("bias_values"),
    )
    return layer, layer.output_shape_for((c, h, w))


# --- inspection -------------------------------------------------------------------


def conv_window(
    x: np.ndarray,
    weight: np.ndarray,
    bias: np.ndarray | float | None,
    stride: int,
    padding: int,
    out_row: int,
    out_col: int,
    out_channel: int = 0,
) -> dict[str, Any]:
    """The arithmetic behind one output number of conv2d_forward.

    x: (C, H, W) or (H, W); weight: (O, C, k, k), (C, k, k) or (k, k).
    Reports the receptive window of the zero-padded input per channel, the
    kernel, the element-wise products, the per-channel sums, the bias and the
    total; `top`/`left` locate the window in the unpadded input (negative when
    it starts in the padding).
    """
    img = np.asarray(x)
    if img.ndim == 2:
        img = img[None]
    w = np.asarray(weight)
    if w.ndim == 2:
        w = w[None, None]
    elif w.ndim == 3:
        w = w[None]
    b = None if bias is None else np.atleast_1d(np.asarray(bias))
    img4, w, b, _ = _as_conv_args(img, w, b, stride, padding)
    image = img4[0]
    c, h, width = image.shape
    k = w.shape[2]
    out_h = conv_output_size(h, k, stride, padding)
    out_w = conv_output_size(width, k, stride, padding)
    check_position((("out_row", out_row, out_h), ("out_col", out_col, out_w), ("out_channel", out_channel, w.shape[0])))
    padded = np.pad(image, ((0, 0), (padding, padding), (padding, padding)))
    top, left = out_row * stride, out_col * stride
    window = padded[:, top:top + k, left:left + k]
    kernel = w[out_channel]
    products = window * kernel
    channel_sums = products.reshape(c, -1).sum(axis=1)
    bias_value = image.dtype.type(0) if b is None else b[out_channel]
    total = channel_sums.sum() + bias_value
    return {
        "out_row": out_row, "out_col": out_col, "out_channel": out_channel,
        "top": top - padding, "left": left - padding, "size": k, "stride": stride, "padding": padding,
        "window": window.tolist(), "kernel": kernel.tolist(), "products": products.tolist(),
        "channel_sums": channel_sums.tolist(), "bias": float(bias_value), "total": float(total),
    }
