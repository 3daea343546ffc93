"""One artificial neuron, z = Σ xᵢwᵢ + b and a = g(z), and what the neuron page draws of it.

The neuron is the engine's own Dense layer (one unit) followed by the engine's activation
functions, in float64, so the numbers on the page are the numbers a network computes.
The extras a single neuron needs are here too: softmax as one neuron among several, its
output over the input plane, the line where z = 0, and a loss's value and gradients per prediction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.core.activations import canonical_activation, evaluate
from engine.core.errors import EngineError
from engine.core.layers import Dense
from engine.core.losses import get_loss

DTYPE = np.float64


def _finite_vector(values: object, what: str) -> np.ndarray:
    a = np.asarray(values, dtype=DTYPE)
    if a.ndim != 1 or a.size == 0:
        raise EngineError(f"{what} must be a non-empty list of numbers")
    if not np.all(np.isfinite(a)):
        raise EngineError(f"{what} contains NaN or infinite numbers")
    return a


def _finite_scalar(value: float, what: str) -> float:
    value = float(value)
    if not np.isfinite(value):
        raise EngineError(f"{what} must be a finite number")
    return value


def neuron_layer(weights: object, bias: float) -> Dense:
    """A Dense layer with one unit holding exactly these weights and bias."""
    w = _finite_vector(weights, "weights")
    b = _finite_scalar(bias, "bias")
    return Dense(w.size, 1, dtype=DTYPE, weight_values=w[:, None], bias_values=[b])


def activate(z: np.ndarray, activation: str, other_z: object = None) -> tuple[np.ndarray, np.ndarray]:
    """g(z) and g′(z) at every z.

    Softmax only means something over several neurons: `other_z` are the other neurons'
    pre-activations, and the result is this neuron's share, softmax(z, *other_z)[0], with
    its own slope ∂sᵢ/∂zᵢ = sᵢ(1 − sᵢ).
    """
    key = canonical_activation(activation)
    if key != "softmax":
        return evaluate(key, z)
    others = _softmax_others(other_z)
    rows = np.empty((z.size, 1 + others.size), dtype=DTYPE)
    rows[:, 0] = z.ravel()
    rows[:, 1:] = others
    value, slope = evaluate("softmax", rows)
    return value[:, 0].reshape(z.shape), slope[:, 0].reshape(z.shape)


def activation_points(activation: str, z: object) -> tuple[str, np.ndarray, np.ndarray, np.ndarray]:
    """g and g′ at a list of points or a list of rows (softmax: across each row, or across the list).

    Returns the canonical name, z as an array, g(z) and g′(z).
    """
    key = canonical_activation(activation)
    try:
        points = np.asarray(z, dtype=DTYPE)
    except ValueError as err:
        raise EngineError("z must be a list of numbers or a list of rows of equal length") from err
    if points.ndim not in (1, 2) or points.size == 0:
        raise EngineError("z must be a non-empty list of numbers or a list of rows of equal length")
    if not np.all(np.isfinite(points)):
        raise EngineError("z contains NaN or infinite numbers")
    value, slope = evaluate(key, points)
    return key, points, value, slope


def _softmax_others(other_z: object) -> np.ndarray:
    if other_z is None or len(other_z) == 0:  # type: ignore[arg-type]
        raise EngineError("softmax needs the other neurons' pre-activations in 'other_z' "
                          "(over a single neuron it is always 1)")
    return _finite_vector(other_z, "other_z")


@dataclass
class SoftmaxGroup:
    """Softmax over this neuron (first) and the others."""

    z: np.ndarray
    outputs: np.ndarray
    total: float


@dataclass
class NeuronForward:
    terms: np.ndarray  # xᵢwᵢ, one per input
    z: float
    output: float
    derivative: float  # g′(z)
    fires: bool  # the step function's verdict: z > 0
    softmax: SoftmaxGroup | None


def forward(inputs: object, weights: object, bias: float, activation: str,
            other_z: object = None) -> NeuronForward:
    x = _finite_vector(inputs, "inputs")
    layer = neuron_layer(weights, bias)
    if x.size != layer.in_features:
        raise EngineError(f"got {x.size} inputs and {layer.in_features} weights; give one weight per input")
    z = layer.forward(x[None, :])[:, 0]
    terms = x * layer.params["weight"][:, 0]
    output, slope = activate(z, activation, other_z)
    fires = bool(evaluate("step", z)[0][0] == 1)
    group = None
    if canonical_activation(activation) == "softmax":
        all_z = np.concatenate([z, _softmax_others(other_z)])
        outputs, _ = evaluate("softmax", all_z)
        group = SoftmaxGroup(z=all_z, outputs=outputs, total=float(outputs.sum()))
    return NeuronForward(terms=terms, z=float(z[0]), output=float(output[0]), derivative=float(slope[0]),
                         fires=fires, softmax=group)


@dataclass
class Plane:
    """A two-input neuron's output over the square [−extent, extent]², row 0 at the top (x₂ = +extent)."""

    weights: np.ndarray
    bias: float
    x1: np.ndarray  # column coordinates, left to right
    x2: np.ndarray  # row coordinates, top to bottom
    z: np.ndarray  # (resolution, resolution)
    output: np.ndarray  # (resolution, resolution)
    line: np.ndarray | None  # the visible part of w₁x₁ + w₂x₂ + b = 0 as two end points, or None
    handles: np.ndarray | None  # two points on that line a person can drag


def plane(weights: object, bias: float, activation: str, extent: float, resolution: int,
          other_z: object = None, through: object = None) -> Plane:
    """The output over a grid of the input plane, and the decision line z = 0.

    With `through` (two points), the line is first moved to pass through them: the weights
    turn to be normal to it and keep their length, and the side the weights pointed to stays
    positive, so dragging a handle moves the boundary without flipping or sharpening it.
    """
    w = _finite_vector(weights, "weights")
    if w.size != 2:
        raise EngineError(f"the input plane needs exactly 2 weights, got {w.size}")
    b = _finite_scalar(bias, "bias")
    extent = _finite_scalar(extent, "extent")
    if extent <= 0:
        raise EngineError("extent must be positive")
    if resolution < 2:
        raise EngineError("resolution must be at least 2")
    handles = None
    if through is not None:
        points = np.asarray(through, dtype=DTYPE)
        if points.shape != (2, 2) or not np.all(np.isfinite(points)):
            raise EngineError("'through' must be two finite points [[x1, x2], [x1, x2]]")
        w, b = line_through(points[0], points[1], w)
        handles = points
    coords = np.linspace(-extent, extent, resolution, dtype=DTYPE)
    grid_x1, grid_x2 = np.meshgrid(coords, coords[::-1])
    points_xy = np.stack([grid_x1.ravel(), grid_x2.ravel()], axis=1)
    z = neuron_layer(w, b).forward(points_xy)[:, 0]
    output, _ = activate(z, activation, other_z)
    line = decision_segment(w, b, extent)
    if handles is None and line is not None:
        handles = line[0] + np.outer([0.25, 0.75], line[1] - line[0])
    shape = (resolution, resolution)
    return Plane(weights=w, bias=b, x1=coords, x2=coords[::-1].copy(), z=z.reshape(shape),
                 output=output.reshape(shape), line=line, handles=handles)


def decision_segment(weights: np.ndarray, bias: float, extent: float) -> np.ndarray | None:
    """End points of w₁x₁ + w₂x₂ + b = 0 inside the square [−extent, extent]², or None if it misses it."""
    w1, w2 = float(weights[0]), float(weights[1])
    scale = max(abs(w1), abs(w2))
    if scale == 0:
        return None  # z = b everywhere: no boundary
    found = []
    for edge in (-extent, extent):
        if abs(w2) > 1e-12 * scale:  # crosses the vertical edge x₁ = edge at x₂:
            found.append((edge, -(bias + w1 * edge) / w2))
        if abs(w1) > 1e-12 * scale:  # crosses the horizontal edge x₂ = edge at x₁:
            found.append((-(bias + w2 * edge) / w1, edge))
    tol = 1e-9 * extent
    inside = np.array([p for p in found if abs(p[0]) <= extent + tol and abs(p[1]) <= extent + tol], dtype=DTYPE)
    if len(inside) < 2:
        return None
    # Corners appear twice; the two points farthest apart are the segment's ends.
    gaps = np.linalg.norm(inside[:, None, :] - inside[None, :, :], axis=-1)
    i, j = np.unravel_index(np.argmax(gaps), gaps.shape)
    if gaps[i, j] <= tol:
        return None  # touches a corner only
    return np.clip(inside[[i, j]], -extent, extent)


def line_through(p: np.ndarray, q: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, float]:
    """Weights and bias whose line w·x + b = 0 passes through p and q (see `plane`)."""
    direction = q - p
    length = float(np.hypot(direction[0], direction[1]))
    if length < 1e-9:
        raise EngineError("the two points of 'through' are the same; a line needs two different points")
    normal = np.array([-direction[1], direction[0]], dtype=DTYPE) / length
    norm = float(np.hypot(weights[0], weights[1])) or 1.0
    if normal @ weights < 0:
        normal = -normal
    w = normal * norm + 0.0  # + 0.0 turns −0 into 0
    return w, float(-(w @ p)) + 0.0


@dataclass
class LossCurve:
    """A loss and its gradients at each prediction ŷ for one target y."""

    value: np.ndarray  # L(y, ŷ)
    derivative: np.ndarray  # ∂L/∂ŷ
    derivative_z: np.ndarray | None  # ∂L/∂z when ŷ = σ(z), as training computes it; None if ŷ ∉ [0, 1]


def loss_curve(loss: str, target: float, predictions: object) -> LossCurve:
    fn = get_loss(loss)
    y_hat = _finite_vector(predictions, "predictions")
    y = _finite_scalar(target, "target")
    if fn.fuses_with == "sigmoid":
        if not 0 <= y <= 1:
            raise EngineError(f"the '{fn.name}' loss needs a target between 0 and 1, got {y:g}")
        if np.any((y_hat < 0) | (y_hat > 1)):
            raise EngineError(f"the '{fn.name}' loss needs predictions between 0 and 1 (probabilities)")
    target_array = np.full_like(y_hat, y)
    value = fn.point_value(y_hat, target_array)
    derivative = fn.point_grad(y_hat, target_array)
    if fn.fuses_with == "sigmoid":
        # Training skips σ′ here: ∂L/∂z = ŷ − y exactly (losses.Loss.grad_pre_activation, per point).
        derivative_z = y_hat - target_array
    elif np.all((y_hat >= 0) & (y_hat <= 1)):
        derivative_z = derivative * y_hat * (1 - y_hat)  # ŷ = σ(z) makes σ′(z) = ŷ(1 − ŷ)
    else:
        derivative_z = None  # no sigmoid gives these predictions
    return LossCurve(value=value, derivative=derivative, derivative_z=derivative_z)

