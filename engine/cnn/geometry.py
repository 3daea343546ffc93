"""What convolution and pooling share: a window sliding over an image, its output size and the shape checks.

Both layer families (engine/conv.py, engine/pool.py) read NCHW batches and size their output by
(n + 2p − k)/s + 1, so the formula and its error messages live here, once.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.core.errors import EngineError
from engine.core.layers import Shape


def conv_output_size(n: int, kernel: int, stride: int = 1, padding: int = 0, *, what: str = "kernel") -> int:
    """(n + 2p − k)/s + 1, or an EngineError saying which number to change."""
    padded = n + 2 * padding
    if kernel > padded:
        raise EngineError(
            f"the {what} ({kernel}×{kernel}) is larger than the padded input ({padded} = {n} + 2·{padding}); "
            f"use a smaller {what} or more padding"
        )
    span = padded - kernel
    if span % stride != 0:
        raise EngineError(
            f"output size (n + 2p − k)/s + 1 = ({n} + 2·{padding} − {kernel})/{stride} + 1 = "
            f"{span / stride + 1:g} is not a whole number; change the stride, padding or {what} size"
        )
    return span // stride + 1


def check_images(x: np.ndarray, name: str = "input") -> np.ndarray:
    """x itself when it is a (batch, channels, height, width) array, else an EngineError."""
    if x.ndim != 4:
        raise EngineError(f"{name} must have shape (batch, channels, height, width), got {list(x.shape)}")
    return x


def image_shape(spec: dict[str, Any], shape: Shape) -> tuple[int, int, int]:
    """A builder's input shape as (channels, height, width), or an EngineError naming the layer."""
    if len(shape) != 3:
        raise EngineError(
            f"layer '{spec.get('type')}' needs a (channels, height, width) input, got shape {list(shape)}"
        )
    return shape


def check_position(limits: tuple[tuple[str, int, int], ...]) -> None:
    """Each (name, value, limit): 0 <= value < limit, else an EngineError saying the allowed range."""
    for name, value, limit in limits:
        if not 0 <= value < limit:
            raise EngineError(f"{name} must be between 0 and {limit - 1}, got {value}")
