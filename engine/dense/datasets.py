"""Toy data sets, after TensorFlow Playground's generators, plus a few more.

Every generator takes a seeded numpy Generator and a noise level in 0..0.5
(the page's 0–50 slider divided by 100). Class labels are 0/1 (or 0..2);
the trainer turns them into what the loss needs (±1 for a tanh output with
squared error, 0/1 for cross-entropy).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.core.errors import EngineError

Generator = Callable[[int, float, np.random.Generator], tuple[np.ndarray, np.ndarray]]


@dataclass
class Dataset:
    name: str
    task: str  # "binary", "multiclass" or "regression"
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    num_classes: int = 0
    input_dim: int = 2
    # How the points were made, e.g. {"name", "noise", "train_ratio", "seed"} for a generated set, so that a
    # page can show (and a link reproduce) where they came from.
    source: dict[str, Any] = field(default_factory=dict)


def _circle(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    radius = 5.0
    half = n // 2
    r = np.concatenate([rng.uniform(0, radius * 0.5, half), rng.uniform(radius * 0.7, radius, n - half)])
    angle = rng.uniform(0, 2 * np.pi, n)
    x = np.stack([r * np.sin(angle), r * np.cos(angle)], axis=1)
    # Noise moves the point used for the label, not the drawn point: labels flip near the border.
    jitter = rng.uniform(-radius, radius, (n, 2)) * noise
    label = (np.linalg.norm(x + jitter, axis=1) < radius * 0.5).astype(np.int64)
    return x, label


def _xor(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    x = rng.uniform(-5, 5, (n, 2))
    x += np.where(x > 0, 0.3, -0.3)  # keep points off the axes
    jitter = rng.uniform(-5, 5, (n, 2)) * noise
    p = x + jitter
    label = (p[:, 0] * p[:, 1] >= 0).astype(np.int64)
    return x, label


def _gauss(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    variance = 0.5 + (4.0 - 0.5) * min(noise / 0.5, 1.0)
    half = n // 2
    pos = rng.normal(2.0, np.sqrt(variance), (half, 2))
    neg = rng.normal(-2.0, np.sqrt(variance), (n - half, 2))
    return np.concatenate([pos, neg]), np.concatenate([np.ones(half, np.int64), np.zeros(n - half, np.int64)])


def _spiral_arms(n: int, noise: float, rng: np.random.Generator, arms: int) -> tuple[np.ndarray, np.ndarray]:
    per = n // arms
    xs, ys = [], []
    i = np.arange(per)
    for arm in range(arms):
        r = i / per * 5
        t = 1.75 * i / per * 2 * np.pi + arm * 2 * np.pi / arms
        pts = np.stack([r * np.sin(t), r * np.cos(t)], axis=1) + rng.uniform(-1, 1, (per, 2)) * noise
        xs.append(pts)
        # Playground labels the first arm positive.
        ys.append(np.full(per, (1 - arm) if arms == 2 else arm, np.int64))
    return np.concatenate(xs), np.concatenate(ys)


def _spiral(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    return _spiral_arms(n, noise, rng, 2)


def _spiral3(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    return _spiral_arms(n, noise, rng, 3)


def _plane(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    radius = 6.0
    x = rng.uniform(-radius, radius, (n, 2))
    p = x + rng.uniform(-radius, radius, (n, 2)) * noise
    # (x + y) rescaled from [-10, 10] to [-1, 1], as the Playground does (not clamped).
    return x, (p[:, 0] + p[:, 1]) / 10.0


MULTIGAUSS_CENTRES = np.array([[-4, 2.5, 1], [0, 2.5, -1], [4, 2.5, 1], [-4, -2.5, -1], [0, -2.5, 1], [4, -2.5, -1]])


def _multigauss(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    x = rng.uniform(-6, 6, (n, 2))
    p = x + rng.uniform(-6, 6, (n, 2)) * noise
    d = np.linalg.norm(p[:, None, :] - MULTIGAUSS_CENTRES[None, :, :2], axis=2)
    # Each bump falls linearly from ±1 at its centre to 0 at distance 2; the strongest wins.
    values = MULTIGAUSS_CENTRES[None, :, 2] * np.clip(1 - d / 2, 0, 1)
    pick = np.abs(values).argmax(axis=1)
    return x, values[np.arange(n), pick]


def _curve(fn: Callable[[np.ndarray], np.ndarray]) -> Generator:
    def gen(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        x = rng.uniform(-6, 6, (n, 1))
        y = fn(x[:, 0]) + rng.uniform(-1, 1, n) * noise
        return x, y

    return gen


CLASSIFICATION: dict[str, Generator] = {"circle": _circle, "xor": _xor, "gauss": _gauss, "spiral": _spiral}
REGRESSION: dict[str, Generator] = {"plane": _plane, "multigauss": _multigauss}
CURVES: dict[str, Generator] = {
    "sin": _curve(np.sin),
    "abs": _curve(lambda x: np.abs(x) / 3 - 1),
    "step": _curve(lambda x: np.where(x >= 0, 1.0, -1.0)),
    "xsinx": _curve(lambda x: x * np.sin(x) / 3),
}
CURVE_FORMULAS = {"sin": "sin x", "abs": "|x|/3 − 1", "step": "step(x) = ±1", "xsinx": "x·sin x / 3"}

DATASETS: dict[str, tuple[Generator, str, int]] = {
    **{k: (g, "binary", 500) for k, g in CLASSIFICATION.items()},
    "spiral3": (_spiral3, "multiclass", 600),
    **{k: (g, "regression", 1200) for k, g in REGRESSION.items()},
    **{k: (g, "regression", 200) for k, g in CURVES.items()},
}


def make_dataset(name: str, *, noise: float = 0.0, train_ratio: float = 0.5, seed: int = 0,
                 num_samples: int | None = None) -> Dataset:
    """Generate, shuffle with the seed, then split by `train_ratio`."""
    if name not in DATASETS:
        raise EngineError(f"unknown data set '{name}'; use one of: {', '.join(DATASETS)}")
    if not 0 <= noise <= 0.5:
        raise EngineError(f"noise must be between 0 and 0.5 (the slider's 0–50 divided by 100), got {noise}")
    if not 0.1 <= train_ratio <= 0.9:
        raise EngineError(f"train ratio must be between 0.1 and 0.9, got {train_ratio}")
    gen, task, default_n = DATASETS[name]
    n = default_n if num_samples is None else num_samples
    if not 4 <= n <= 100_000:
        raise EngineError(f"number of samples must be between 4 and 100000, got {n}")
    rng = np.random.default_rng(seed)
    x, y = gen(n, noise, rng)
    order = rng.permutation(len(x))
    x, y = x[order], y[order]
    split = int(round(len(x) * train_ratio))
    num_classes = 3 if name == "spiral3" else (2 if task == "binary" else 0)
    source = {"name": name, "noise": noise, "train_ratio": train_ratio, "seed": seed}
    if num_samples is not None:
        source["num_samples"] = n
    return Dataset(name, task, x[:split], y[:split], x[split:], y[split:], num_classes, x.shape[1], source)


def explicit_dataset(x: np.ndarray, y: np.ndarray, *, task: str, x_test: np.ndarray | None = None,
                     y_test: np.ndarray | None = None, num_classes: int = 0) -> Dataset:
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.ndim != 2 or len(x) == 0:
        raise EngineError(f"X must be a non-empty list of rows, got shape {list(x.shape)}")
    if len(y) != len(x):
        raise EngineError(f"X has {len(x)} rows but y has {len(y)}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise EngineError("X and y must contain finite numbers only (no NaN or infinity)")
    if x_test is None:
        x_test, y_test = x[:0], y[:0]
    x_test = np.asarray(x_test, dtype=np.float64).reshape(-1, x.shape[1])
    y_test = np.asarray(y_test, dtype=np.float64)
    if len(x_test) != len(y_test):
        raise EngineError(f"X_test has {len(x_test)} rows but y_test has {len(y_test)}")
    return Dataset("custom", task, x, y, x_test, y_test, num_classes, x.shape[1])


def grid(resolution: int = 100, extent: float = 6.0) -> np.ndarray:
    """Cell-centre points of a resolution² grid over [-extent, extent]², row 0 at the top (y = +extent)."""
    step = 2 * extent / resolution
    centres = -extent + step * (np.arange(resolution) + 0.5)
    xs, ys = np.meshgrid(centres, centres[::-1])
    return np.stack([xs.ravel(), ys.ravel()], axis=1)
