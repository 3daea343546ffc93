"""Every neuron's output over the input plane (or, for 1-D data, along the x axis).

TensorFlow Playground draws each neuron as a small heatmap of its output over [−6, 6]² and the network's
output as a large one. Here the network runs once on a coarse grid for the thumbnails and once on a fine
grid for the large view; the grids' feature columns are computed once per feature set, since they never
change while the network trains.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .datasets import grid
from .features import apply_features
from .layers import ACTIVATION_LAYERS, Dense
from .network import Sequential

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
        if input_dim == 1:
            self.axis = np.linspace(-EXTENT, EXTENT, CURVE_POINTS)
            points = np.stack([self.axis, np.zeros_like(self.axis)], axis=1)
            self.coarse_inputs = self.fine_inputs = self.features_of(points)
        else:
            self.axis = None
            self.coarse_inputs = self.features_of(grid(COARSE, EXTENT))
            self.fine_inputs = self.features_of(grid(FINE, EXTENT))

    def features_of(self, points: np.ndarray) -> np.ndarray:
        """Raw points → this feature set's network inputs, in the network's dtype."""
        return np.ascontiguousarray(apply_features(points, self.features), dtype=self.dtype)

    def matches(self, features: list[str], input_dim: int, dtype: np.dtype) -> bool:
        return self.features == list(features) and self.input_dim == input_dim and self.dtype == np.dtype(dtype)

    def feature_maps(self) -> np.ndarray:
        """The input features themselves on the coarse sampling, (features, …)."""
        return self._shape(self.coarse_inputs, coarse=True)

    def _shape(self, out: np.ndarray, coarse: bool) -> np.ndarray:
        units = out.shape[1]
        if self.input_dim == 1:
            return np.ascontiguousarray(out.T)
        side = COARSE if coarse else FINE
        return np.ascontiguousarray(out.T.reshape(units, side, side))

    def evaluate(self, net: Sequential, fine: bool = True) -> Maps:
        coarse = [self._shape(o, True) for o in dense_outputs(net, self.coarse_inputs)]
        if self.input_dim == 1:
            fine_maps = coarse
        elif fine:
            fine_maps = [self._shape(o, False) for o in dense_outputs(net, self.fine_inputs)]
        else:
            fine_maps = []
        acts = dense_activations(net)
        ranges = [value_range(a, i == len(acts) - 1) for i, a in enumerate(acts)]
        net.trace = []  # these passes are not a training pass
        return Maps(coarse, fine_maps, acts, ranges)
