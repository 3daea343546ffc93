"""Parameters of a fully connected layer against a convolutional layer on the same image.

A dense layer connects every input number to every unit; a convolutional
layer shares one small kernel per filter across all positions, so its count
does not depend on the image size at all.
"""

from __future__ import annotations

from typing import Any

from engine.core.errors import EngineError


def _whole(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise EngineError(f"{name} must be a whole number >= 1, got {value!r}")
    return value


def _thousands(n: int) -> str:
    return f"{n:,}"


def dense_vs_conv(height: int, width: int, channels: int, units: int, filters: int, kernel: int) -> dict[str, Any]:
    """Weights, biases and totals of both layers, with the formulas written out (Python ints: no overflow)."""
    h, w, c = _whole("height", height), _whole("width", width), _whole("channels", channels)
    units, filters, k = _whole("units", units), _whole("filters", filters), _whole("kernel", kernel)
    fc_weights, conv_weights = h * w * c * units, filters * k * k * c
    fc_total, conv_total = fc_weights + units, conv_weights + filters
    return {
        "fc": {
            "weights": fc_weights, "biases": units, "total": fc_total,
            "formula": f"{h}·{w}·{c}·{units} + {units} = {_thousands(fc_total)}",
            "explanation": f"every one of the {h}·{w}·{c} input numbers connects to each of the {units} units, "
                           f"plus one bias per unit",
        },
        "conv": {
            "weights": conv_weights, "biases": filters, "total": conv_total,
            "formula": f"{filters}·({k}·{k}·{c} + 1) = {_thousands(conv_total)}",
            "explanation": f"each of the {filters} filters has a {k}×{k}×{c} kernel and one bias, shared by every "
                           f"position; the image size does not count",
        },
        "ratio": fc_total / conv_total,
    }
