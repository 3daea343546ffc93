"""Every neuron's output over the input plane (or, for 1-D data, along the x axis).

TensorFlow Playground draws each neuron as a small heatmap of its output over [−6, 6]² and the network's
output as a large one. Here the network runs once on a coarse grid for the thumbnails and once on a fine
grid for the large view; the grids' feature columns are computed once per feature set, since they never
change while the network trains.

The grid passes apply each dense layer's own weights and activation function, laid out neurons × points
and written into buffers kept from frame to frame: with only a few neurons per layer, the (points, neurons)
layout of training spends its time on short inner loops and on fresh pages for every 10,000-point array
(measured: 5 ms instead of 1 ms per frame for six layers of eight).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.core.activations import ACTIVATIONS
from engine.core.layers import ACTIVATION_LAYERS, Dense
from engine.core.network import Sequential
from engine.dense.datasets import grid
from engine.dense.features import apply_features

EXTENT = 6.0
FINE = 100  # the large output heatmap: 100 × 100
COARSE = 25  # every neuron's thumbnail: 25 × 25
CURVE_POINTS = 241  # 1-D: samples along x ∈ [−6, 6], every 0.05


def value_range(activation: str, is_output: bool) -> tuple[float, float]:
    """The values a neuron's colour scale spans: [−1, 1] as TensorFlow Playground colours every neuron
    (ReLU and linear outputs past 1 saturate), [0, 1] for output probabilities (sigmoid, softmax)."""
    if is_output and activation in ("sigmoid", "softmax"):
        return 0.0, 1.0
    return -1.0, 1.0


def quantize(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """Map [low, high] onto 0…255 (clamped), for maps that are only ever drawn as colours."""
    scaled = (np.clip(values, low, high) - low) * (255.0 / (high - low))
    return np.rint(scaled).astype(np.uint8)


def dense_outputs(net: Sequential, x: np.ndarray) -> list[np.ndarray]:
    """Run `x` through the network; for every dense layer, the output of its neurons (after the activation
    that follows it, if any), each (N, units)."""
    outputs = []
    layers = net.layers
    for i, layer in enumerate(layers):
        x = layer.forward(x)
        if isinstance(layer, Dense) and not (i + 1 < len(layers) and layers[i + 1].type in ACTIVATION_LAYERS):
            outputs.append(x)
        elif layer.type in ACTIVATION_LAYERS and i > 0 and isinstance(layers[i - 1], Dense):
            outputs.append(x)
    return outputs


def _activate_in_place(name: str, z: np.ndarray) -> None:
    """z ← g(z) for an activation, neurons on axis 0 (the same functions as engine/activations.py)."""
    if name == "tanh":
        np.tanh(z, out=z)
    elif name == "relu":
        np.maximum(z, 0, out=z)
    elif name == "sigmoid":
        np.negative(z, out=z)
        np.exp(z, out=z)  # may overflow to inf for very negative z: 1 / (1 + inf) = 0, the right limit
        z += 1
        np.reciprocal(z, out=z)
    elif name == "softmax":
        z -= z.max(axis=0)
        np.exp(z, out=z)
        z /= z.sum(axis=0)
    elif name != "linear":
        z[...] = ACTIVATIONS[name][0](z)


def dense_activations(net: Sequential) -> list[str]:
    """The activation of every dense layer's neurons ('linear' when none follows)."""
    layers = net.layers
    acts = []
    for i, layer in enumerate(layers):
        if isinstance(layer, Dense):
            nxt = layers[i + 1].type if i + 1 < len(layers) else "linear"
            acts.append(nxt if nxt in ACTIVATION_LAYERS else "linear")
    return acts


@dataclass
class Maps:
    """One evaluation: per dense layer, its neurons' outputs on the coarse and the fine sampling."""

    coarse: list[np.ndarray]  # (units, COARSE, COARSE) or (units, CURVE_POINTS) for 1-D
    fine: list[np.ndarray]  # (units, FINE, FINE) or the same curves for 1-D
    activations: list[str]
    ranges: list[tuple[float, float]]


class NeuronMaps:
    """Grids (or the 1-D axis) for one feature set, ready to push through any network using it."""

    def __init__(self, features: list[str], input_dim: int, dtype: np.dtype) -> None:
        self.features, self.input_dim, self.dtype = list(features), input_dim, np.dtype(dtype)
        self.axis: np.ndarray | None = None
        if input_dim == 1:
            axis = self.axis = np.linspace(-EXTENT, EXTENT, CURVE_POINTS)
            points = np.stack([axis, np.zeros_like(axis)], axis=1)
            self.coarse_inputs = self.fine_inputs = self.features_of(points)
        else:
            self.coarse_inputs = self.features_of(grid(COARSE, EXTENT))
            self.fine_inputs = self.features_of(grid(FINE, EXTENT))
        # Features on axis 0 (features × points), and per-layer output buffers, reused by every pass.
        self._coarse_t = np.ascontiguousarray(self.coarse_inputs.T)
        self._fine_t = np.ascontiguousarray(self.fine_inputs.T)
        self._buffers: dict[tuple[str, int], np.ndarray] = {}

    def features_of(self, points: np.ndarray) -> np.ndarray:
        """Raw points → this feature set's network inputs, in the network's dtype."""
        return np.ascontiguousarray(apply_features(points, self.features), dtype=self.dtype)

    def matches(self, features: list[str], input_dim: int, dtype: np.dtype) -> bool:
        return self.features == list(features) and self.input_dim == input_dim and self.dtype == np.dtype(dtype)

    def feature_maps(self) -> np.ndarray:
        """The input features themselves on the coarse sampling, (features, …)."""
        return self._shape(self._coarse_t, coarse=True)

    def feature_values(self, fine: bool = True) -> np.ndarray:
        """The input features on the fine (or coarse) sampling, (features, …)."""
        return self._shape(self._fine_t if fine else self._coarse_t, coarse=not fine)

    def _shape(self, out: np.ndarray, coarse: bool) -> np.ndarray:
        if self.input_dim == 1:
            return out
        side = COARSE if coarse else FINE
        return out.reshape(out.shape[0], side, side)

    def _pass(self, net: Sequential, which: str) -> list[np.ndarray]:
        """Every dense layer's neuron outputs on the coarse or fine sampling, each (units, points)."""
        a = self._coarse_t if which == "coarse" else self._fine_t
        outputs = []
        with np.errstate(over="ignore", invalid="ignore"):
            for k, (layer, activation) in enumerate(dense_blocks(net)):
                shape = (layer.out_features, a.shape[1])
                z = self._buffers.get((which, k))
                if z is None or z.shape != shape or z.dtype != self.dtype:
                    z = self._buffers[(which, k)] = np.empty(shape, self.dtype)
                np.matmul(layer.params["weight"].T, a, out=z)
                if "bias" in layer.params:
                    z += layer.params["bias"][:, None]
                _activate_in_place(activation, z)
                outputs.append(z)
                a = z
        return outputs

    def evaluate(self, net: Sequential, fine: bool = True) -> Maps:
        """Every neuron's map. The arrays are this object's buffers: use them before the next evaluate."""
        coarse = [self._shape(o, True) for o in self._pass(net, "coarse")]
        if self.input_dim == 1:
            fine_maps = coarse
        elif fine:
            fine_maps = [self._shape(o, False) for o in self._pass(net, "fine")]
        else:
            fine_maps = []
        acts = dense_activations(net)
        ranges = [value_range(a, i == len(acts) - 1) for i, a in enumerate(acts)]
        return Maps(coarse, fine_maps, acts, ranges)


def dense_blocks(net: Sequential) -> list[tuple[Dense, str]]:
    """Each dense layer with the activation applied to its neurons ('linear' when none follows)."""
    dense = [layer for layer in net.layers if isinstance(layer, Dense)]
    return list(zip(dense, dense_activations(net), strict=True))
