"""Convolution explained: apply one kernel to one image and report every number a page shows.

Two ways a kernel meets a C-channel image, as the two anchors use them:
- a C×k×k kernel (or any kernel on a one-channel image) is one CNN filter: the
  per-channel window sums plus the bias make one feature map;
- a k×k kernel on a C-channel image filters each channel on its own, as an
  image editor filters a colour photo: C maps out.
Both run through the engine's Conv2D maths (engine.conv.conv2d_forward) in
float64, so the numbers are exact for the worked examples.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from engine.cnn.conv import conv2d_forward, conv_window
from engine.cnn.geometry import conv_output_size
from engine.cnn.images import to_grayscale
from engine.core.activations import canonical_activation, evaluate
from engine.core.errors import EngineError

Mode = Literal["filter", "per_channel"]


def size_report(n: int, kernel: int, stride: int, padding: int) -> dict[str, Any]:
    """The output size (n + 2p − k)/s + 1 written out, whether it is valid, and if not, what to change."""
    padded = n + 2 * padding
    value = (padded - kernel) / stride + 1
    message = None
    try:
        conv_output_size(n, kernel, stride, padding)
    except EngineError as err:
        message = str(err)
    return {
        "n": n, "k": kernel, "s": stride, "p": padding, "padded": padded,
        "expression": f"({n} + 2·{padding} − {kernel})/{stride} + 1 = {value:g}",
        "value": value, "fits": kernel <= padded, "whole": kernel <= padded and (padded - kernel) % stride == 0,
        "ok": message is None, "message": message,
    }


def _check_kernel(kernel: np.ndarray, channels: int) -> tuple[np.ndarray, Mode]:
    """The kernel as (C, k, k) for a filter or (k, k) per channel, and which of the two it is."""
    k = kernel.shape[-1]
    if kernel.shape[-2] != k:
        raise EngineError(f"kernel must be square (k×k), got {kernel.shape[-2]}×{k}")
    if kernel.ndim == 3:
        if kernel.shape[0] != channels:
            raise EngineError(f"kernel has {kernel.shape[0]} channel(s) but the image has {channels}; "
                              f"send a {channels}×{k}×{k} kernel, or a {k}×{k} one to filter each channel")
        return kernel, "filter"
    if channels == 1:
        return kernel[None], "filter"
    return kernel, "per_channel"


def _check_sizes(image: np.ndarray, k: int, stride: int, padding: int) -> dict[str, dict[str, Any]]:
    if isinstance(stride, bool) or stride < 1:
        raise EngineError(f"stride must be a whole number >= 1, got {stride!r}")
    if isinstance(padding, bool) or padding < 0:
        raise EngineError(f"padding must be a whole number >= 0, got {padding!r}")
    sizes = {"height": size_report(image.shape[1], k, stride, padding),
             "width": size_report(image.shape[2], k, stride, padding)}
    for axis, report in sizes.items():
        if not report["ok"]:
            raise EngineError(f"{axis}: {report['message']}")
    return sizes


def _activation(name: str) -> str:
    key = canonical_activation(name)
    if key == "softmax":
        raise EngineError("softmax is not an element-wise activation; use linear, relu, tanh, sigmoid or step")
    return key


def _windows(image: np.ndarray, kernel: np.ndarray, mode: Mode, stride: int, padding: int,
             bias: float) -> dict[str, Any]:
    """Every output position's window, products, per-channel sums and total, as arrays.

    Axes: (map, out_row, out_col, channel, i, j) where map is the output map
    (1 for a filter, C per channel) and channel the channels summed into it
    (C for a filter, 1 per channel).
    """
    k = kernel.shape[-1]
    padded = np.pad(image, ((0, 0), (padding, padding), (padding, padding)))
    views = sliding_window_view(padded, (k, k), axis=(1, 2))[:, ::stride, ::stride]  # (C, oh, ow, k, k)
    if mode == "filter":
        windows = views.transpose(1, 2, 0, 3, 4)[None]  # (1, oh, ow, C, k, k)
        products = windows * kernel[None, None, None]
    else:
        windows = views[:, :, :, None]  # (C, oh, ow, 1, k, k)
        products = windows * kernel
    channel_sums = products.sum(axis=(-2, -1))
    out_h, out_w = windows.shape[1:3]
    return {
        "top": (np.arange(out_h) * stride - padding).tolist(), "left": (np.arange(out_w) * stride - padding).tolist(),
        "window": np.ascontiguousarray(windows), "products": products, "channel_sums": channel_sums,
        "bias": bias, "total": channel_sums.sum(axis=-1) + bias,
    }


def _prepare(
    image: np.ndarray, kernel: np.ndarray, divisor: float, grayscale: bool, activation: str
) -> tuple[np.ndarray, np.ndarray, Mode, str]:
    """The image (luminance when `grayscale`), the kernel divided by `divisor`, its mode, the activation."""
    if divisor == 0:
        raise EngineError("divisor must not be 0 (the kernel is divided by it)")
    image = to_grayscale(image) if grayscale else image
    values, mode = _check_kernel(kernel / divisor, image.shape[0])
    return image, values, mode, _activation(activation)


def apply_kernel(
    image: np.ndarray,
    kernel: np.ndarray,
    *,
    stride: int = 1,
    padding: int = 0,
    bias: float = 0.0,
    divisor: float = 1.0,
    activation: str = "linear",
    grayscale: bool = False,
    windows: bool = False,
) -> dict[str, Any]:
    """Convolve (cross-correlate) a (C, H, W) image with a (k, k) or (C, k, k) kernel.

    The kernel is divided by `divisor` first (kernels are written "ones / 9").
    Returns the feature map(s) (2-D for a filter, (C, H', W') per channel), the
    map before the activation when there is one, the output-size formulas,
    value statistics (how many fall below 0 or above 255, which clipping would
    hide), and with `windows` every position's arithmetic.
    """
    image, values, mode, act = _prepare(image, kernel, divisor, grayscale, activation)
    sizes = _check_sizes(image, values.shape[-1], stride, padding)
    if mode == "filter":
        z = conv2d_forward(image, values[None], np.array([bias]), stride, padding)[0]
    else:
        z = conv2d_forward(image[:, None], values[None, None], np.array([bias]), stride, padding)[:, 0]
    out = evaluate(act, z)[0] if act != "linear" else z
    result: dict[str, Any] = {
        "mode": mode, "kernel": values if mode == "per_channel" or kernel.ndim == 3 else values[0],
        "output": out, "shape": list(out.shape), "activation": act, "output_size": sizes,
        "stats": {"min": float(out.min()), "max": float(out.max()), "below_0": int((out < 0).sum()),
                  "above_255": int((out > 255).sum()), "count": int(out.size),
                  "abs_p99": float(np.percentile(np.abs(out), 99))},
    }
    if act != "linear":
        result["pre_activation"] = z
    if grayscale:
        result["input"] = image[0]
    if windows:
        result["windows"] = _windows(image, values, mode, stride, padding, bias)
    return result


def window_numbers(image_shape: tuple[int, ...], kernel_shape: tuple[int, ...], stride: int, padding: int) -> int:
    """How many window numbers apply_kernel(windows=True) would return (for a size limit), 0 if sizes don't fit."""
    c, h, w = image_shape
    k = kernel_shape[-1]
    try:
        out_h, out_w = conv_output_size(h, k, stride, padding), conv_output_size(w, k, stride, padding)
    except EngineError:
        return 0
    # A filter sums all c channels into one map; a k×k kernel per channel makes c maps of one channel each.
    return c * out_h * out_w * k * k


def explain_position(
    image: np.ndarray,
    kernel: np.ndarray,
    row: int,
    col: int,
    *,
    channel: int = 0,
    stride: int = 1,
    padding: int = 0,
    bias: float = 0.0,
    divisor: float = 1.0,
    activation: str = "linear",
    grayscale: bool = False,
) -> dict[str, Any]:
    """One output number's arithmetic: its window, the kernel, the products, per-channel sums, bias, total.

    `channel` picks the output map when a k×k kernel filters each channel of a colour image.
    """
    image, values, mode, act = _prepare(image, kernel, divisor, grayscale, activation)
    _check_sizes(image, values.shape[-1], stride, padding)
    if mode == "per_channel":
        if not 0 <= channel < image.shape[0]:
            raise EngineError(f"channel must be between 0 and {image.shape[0] - 1}, got {channel}")
        report = conv_window(image[channel], values, bias, stride, padding, row, col)
    else:
        if channel != 0:
            raise EngineError(f"a {values.shape[0]}×k×k filter makes one map; channel must be 0, got {channel}")
        report = conv_window(image, values, bias, stride, padding, row, col)
    report["out_channel"] = channel
    report["mode"] = mode
    report["activation"] = act
    report["output"] = float(evaluate(act, np.array([report["total"]]))[0][0]) if act != "linear" \
        else report["total"]
    return report
