"""Input features for the 2-D toy data, as in TensorFlow Playground.

With no hidden layer, x1 and x2 alone give the linear classifier sign(wᵀx);
adding the non-linear features gives a fixed-feature ("kernel") model wᵀφ(x).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from engine.core.errors import EngineError

FEATURES: dict[str, tuple[str, Callable[[np.ndarray], np.ndarray]]] = {
    "x1": ("x₁", lambda x: x[:, 0]),
    "x2": ("x₂", lambda x: x[:, 1]),
    "x1sq": ("x₁²", lambda x: x[:, 0] ** 2),
    "x2sq": ("x₂²", lambda x: x[:, 1] ** 2),
    "x1x2": ("x₁x₂", lambda x: x[:, 0] * x[:, 1]),
    "sinx1": ("sin x₁", lambda x: np.sin(x[:, 0])),
    "sinx2": ("sin x₂", lambda x: np.sin(x[:, 1])),
}
# Features of x1 alone: the ones 1-D data (curve fitting) can use.
ONE_D_FEATURES = ("x1", "x1sq", "sinx1")


def check_features(names: list[str], input_dim: int) -> None:
    if not names:
        raise EngineError("choose at least one input feature")
    unknown = [n for n in names if n not in FEATURES]
    if unknown:
        raise EngineError(f"unknown features {unknown}; use any of: {', '.join(FEATURES)}")
    if len(set(names)) != len(names):
        raise EngineError(f"features listed twice: {names}")
    if input_dim == 1 and any(n not in ONE_D_FEATURES for n in names):
        raise EngineError(f"1-D data has only the features {', '.join(ONE_D_FEATURES)} (functions of x1)")


def apply_features(x: np.ndarray, names: list[str]) -> np.ndarray:
    """Map raw points (N, 2) to the chosen feature columns (N, len(names))."""
    return np.stack([FEATURES[n][1](x) for n in names], axis=1)
