"""Lesson 6: training as minimising E — the loss surface of two weights and the paths optimisers take.

The surface is the squared error E(w) = ½·mean((t − o)²) of one linear neuron o = w₁x₁ + w₂x₂ (an engine
Dense layer without bias) on a fixed data set whose two inputs are strongly correlated: E is a long, narrow
bowl, steep across and nearly flat along its floor — the shape on which plain gradient descent zig-zags and
momentum and Adam earn their keep. Each path is the engine's own optimiser (engine.core.optim) stepping the
layer's weights with the gradients of the layer's backward pass.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.core.errors import EngineError
from engine.core.layers import Dense
from engine.core.losses import get_loss
from engine.core.optim import make_optimizer

OPTIMIZERS = ("sgd", "momentum", "adam")
TRUE_WEIGHTS = (1.0, -0.5)
EXTENT = 3.0  # the surface is drawn over [centre − EXTENT, centre + EXTENT]² around the minimum
MAX_STEPS = 500
MAX_RESOLUTION = 161
DIVERGED_LOSS = 1e6  # a path whose loss passes this has left the surface for good


def _data() -> tuple[np.ndarray, np.ndarray]:
    """40 points whose inputs' second moments are exactly [[1, 0.9], [0.9, 1]] (eigenvalues 1.9 and 0.1, so the
    bowl is 19 times steeper across than along), targets from TRUE_WEIGHTS plus a little noise."""
    rng = np.random.default_rng(6)
    raw = rng.normal(size=(40, 2))
    raw -= raw.mean(axis=0)
    # Whiten, then colour with the wanted second-moment matrix: XᵀX / n is then exactly `moments`.
    white = raw @ np.linalg.inv(np.linalg.cholesky(raw.T @ raw / len(raw))).T
    moments = np.array([[1.0, 0.9], [0.9, 1.0]])
    x = white @ np.linalg.cholesky(moments).T
    t = x @ np.array(TRUE_WEIGHTS) + 0.1 * rng.normal(size=len(x))
    return x, t[:, None]


X, T = _data()
HESSIAN = X.T @ X / len(X)  # E is quadratic: its curvature is the inputs' second moments
MINIMUM = np.linalg.solve(HESSIAN, X.T @ T[:, 0] / len(X))
CENTRE = (round(float(MINIMUM[0]), 1), round(float(MINIMUM[1]), 1))


def _neuron(weights: tuple[float, float]) -> Dense:
    return Dense(2, 1, bias=False, init="values", dtype=np.float64, weight_values=[[weights[0]], [weights[1]]])


def loss_at(weights: tuple[float, float]) -> float:
    layer = _neuron(weights)
    return float(get_loss("mse").value(layer.forward(X), T))


MIN_LOSS = loss_at((float(MINIMUM[0]), float(MINIMUM[1])))


@dataclass
class Path:
    optimizer: str
    points: np.ndarray  # (steps + 1, 2) the weights after each step, the start first
    losses: np.ndarray  # (steps + 1,) E at each of them
    diverged: bool
    steps_to_minimum: int | None  # first step within 0.01 of the lowest loss, if any


def _check_start(start: tuple[float, float]) -> tuple[float, float]:
    w = np.asarray(start, dtype=np.float64)
    if w.shape != (2,) or not np.all(np.isfinite(w)):
        raise EngineError(f"start must be two finite weights [w1, w2], got {start!r}")
    lo = np.array(CENTRE) - 2 * EXTENT
    hi = np.array(CENTRE) + 2 * EXTENT
    if np.any(w < lo) or np.any(w > hi):
        raise EngineError(f"start must lie within [{lo[0]:g}, {hi[0]:g}] × [{lo[1]:g}, {hi[1]:g}], got {start!r}")
    return float(w[0]), float(w[1])


def optimizer_path(optimizer: str, start: tuple[float, float], learning_rate: float, steps: int,
                   momentum: float = 0.9) -> Path:
    """Run one engine optimiser on the neuron's two weights from `start` for `steps` full-batch steps."""
    if optimizer not in OPTIMIZERS:
        raise EngineError(f"optimizer must be one of {list(OPTIMIZERS)}, got {optimizer!r}")
    if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= MAX_STEPS:
        raise EngineError(f"steps must be a whole number from 1 to {MAX_STEPS}, got {steps!r}")
    if not np.isfinite(learning_rate) or not 0 < learning_rate <= 10:
        raise EngineError(f"learning_rate must be a number in (0, 10], got {learning_rate!r}")
    config: dict[str, object] = {"type": optimizer, "learning_rate": float(learning_rate)}
    if optimizer == "momentum":
        config["momentum"] = float(momentum)
    opt = make_optimizer(config)
    layer = _neuron(_check_start(start))
    loss = get_loss("mse")
    points = [layer.params["weight"][:, 0].copy()]
    losses: list[float] = []
    diverged = False
    for _ in range(steps):
        out = layer.forward(X)
        losses.append(float(loss.value(out, T)))
        if not np.isfinite(losses[-1]) or losses[-1] > DIVERGED_LOSS:
            diverged = True
            break
        layer.backward(loss.grad(out, T))
        opt.step([layer])
        points.append(layer.params["weight"][:, 0].copy())
    if not diverged:
        losses.append(loss_at((float(points[-1][0]), float(points[-1][1]))))
        diverged = not np.isfinite(losses[-1]) or losses[-1] > DIVERGED_LOSS
    within = [i for i, value in enumerate(losses) if value - MIN_LOSS < 0.01]
    pts = np.array(points[:len(losses)])
    return Path(optimizer, pts, np.array(losses), diverged, within[0] if within else None)


@dataclass
class Surface:
    w1: np.ndarray  # (resolution,) grid columns, left to right
    w2: np.ndarray  # (resolution,) grid rows, top (largest w2) to bottom
    loss: np.ndarray  # (resolution, resolution) E at each grid point
    minimum: tuple[float, float]
    min_loss: float
    curvatures: tuple[float, float]  # the Hessian's eigenvalues: SGD diverges above 2 / the largest


def surface(resolution: int = 81) -> Surface:
    """E over the square around the minimum, for all grid points at once (one matrix product)."""
    if isinstance(resolution, bool) or not isinstance(resolution, int) or not 11 <= resolution <= MAX_RESOLUTION:
        raise EngineError(f"resolution must be a whole number from 11 to {MAX_RESOLUTION}, got {resolution!r}")
    w1 = np.linspace(CENTRE[0] - EXTENT, CENTRE[0] + EXTENT, resolution)
    w2 = np.linspace(CENTRE[1] + EXTENT, CENTRE[1] - EXTENT, resolution)
    grid = np.stack(np.meshgrid(w1, w2), axis=-1).reshape(-1, 2)  # (G, 2), row-major from the top left
    out = X @ grid.T  # (n, G): every grid point's neuron on every input
    loss = 0.5 * np.mean((T - out) ** 2, axis=0).reshape(resolution, resolution)
    eig = np.linalg.eigvalsh(HESSIAN)
    return Surface(w1, w2, loss, (float(MINIMUM[0]), float(MINIMUM[1])), MIN_LOSS,
                   (float(eig[0]), float(eig[1])))
