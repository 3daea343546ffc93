"""Sequential networks built from JSON specs, with a full trace of every pass."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.cnn import conv, pool  # noqa: F401  (register their layer types)
from engine.core.activations import canonical_activation
from engine.core.dtypes import dtype_named
from engine.core.errors import EngineError
from engine.core.flat import FlatParams
from engine.core.init import param_budget
from engine.core.layers import Layer, NamedParam, Shape, build_layer, named_params


@dataclass
class TraceEntry:
    """What one layer saw and produced in the last pass.

    For a dense layer `output` is the pre-activation z; for the activation
    layer after it, `input` is that z and `output` the activation a.
    `grad_output` is dL/d(output), filled by backward.
    """

    index: int
    type: str
    input: np.ndarray
    output: np.ndarray
    grad_output: np.ndarray | None = None
    grad_input: np.ndarray | None = None


@dataclass
class Sequential:
    layers: list[Layer]
    input_shape: Shape
    dtype: np.dtype = field(default_factory=lambda: np.dtype(np.float32))
    trace: list[TraceEntry] = field(default_factory=list)

    def forward(self, x: np.ndarray, keep_trace: bool = True) -> np.ndarray:
        x = self.check_input(x)
        trace = []
        for i, layer in enumerate(self.layers):
            out = layer.forward(x)
            if keep_trace:
                trace.append(TraceEntry(i, layer.type, x, out))
            x = out
        self.trace = trace
        return x

    def forward_untraced(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The training hot path on a checked input: no trace. Returns the last layer's input — the logits when
        the network ends on the activation its loss fuses with — and the output."""
        self.trace = []  # the trace of an earlier pass no longer matches the layers' caches
        for layer in self.layers[:-1]:
            x = layer.forward(x)
        return x, self.layers[-1].forward(x)

    def check_input(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        if x.ndim == len(self.input_shape):
            x = x[None]
        if tuple(x.shape[1:]) != tuple(self.input_shape):
            raise EngineError(
                f"input has shape {list(x.shape)}; this network takes (batch, {', '.join(map(str, self.input_shape))})"
            )
        if not np.all(np.isfinite(x)):
            raise EngineError("input contains NaN or infinite numbers")
        # Cast explicitly so a float64 batch never silently up-casts a float32 network.
        return np.ascontiguousarray(x, dtype=self.dtype)

    def backward(self, dout: np.ndarray, start: int | None = None, input_grad: bool = True) -> np.ndarray | None:
        """Backpropagate dL/d(output of layer `start`) (default: the last layer). With `input_grad` False (training)
        the first layer only fills its grads: the gradient with respect to the data is never used there, and
        None is returned."""
        start = len(self.layers) - 1 if start is None else start
        dout = np.ascontiguousarray(dout, dtype=self.dtype)
        if not self.trace:  # the training hot path
            layers = self.layers
            for i in range(start, 0, -1):
                dout = layers[i].backward(dout)
            if input_grad:
                return layers[0].backward(dout)
            layers[0].backward_params(dout)
            return None
        grad: np.ndarray | None = dout
        for i in range(start, -1, -1):
            assert grad is not None
            self.trace[i].grad_output = grad
            if i == 0 and not input_grad:
                self.layers[0].backward_params(grad)
                grad = None
            else:
                grad = self.layers[i].backward(grad)
            self.trace[i].grad_input = grad
        for i in range(start + 1, len(self.layers)):
            if self.trace:
                self.trace[i].grad_output = None
                self.trace[i].grad_input = None
        return grad

    # --- parameters -----------------------------------------------------------

    def named_params(self) -> list[NamedParam]:
        return named_params(self.layers)

    def flat_params(self) -> FlatParams | None:
        """Every parameter and gradient in one buffer each, the layers' dicts holding views (bound again when
        someone replaced an array); None when they cannot share one (engine/core/flat.py)."""
        flat = FlatParams.bind(self.layers, self.__dict__.get("_flat"))
        self.__dict__["_flat"] = flat
        return flat

    @property
    def num_params(self) -> int:
        return sum(layer.num_params for layer in self.layers)

    def param_arrays(self) -> dict[str, np.ndarray]:
        """Parameters keyed 'layer.name' (e.g. '0.weight'), the live arrays."""
        return {param.key: param.value for param in self.named_params()}

    def grad_arrays(self) -> dict[str, np.ndarray]:
        """Gradients of the last backward, keyed like `param_arrays`."""
        return {param.key: self.layers[param.layer].grads[param.name] for param in self.named_params()}

    def get_state(self) -> dict[str, np.ndarray]:
        """Parameters keyed 'layer.name', copied."""
        return {key: p.copy() for key, p in self.param_arrays().items()}

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        expected = self.param_arrays()
        missing = sorted(set(expected) - set(state))
        extra = sorted(set(state) - set(expected))
        if missing or extra:
            raise EngineError(f"weights do not match the network: missing {missing}, unexpected {extra}")
        for key, p in expected.items():
            value = np.asarray(state[key])
            if value.shape != p.shape:
                raise EngineError(f"weight '{key}' has shape {list(value.shape)}, expected {list(p.shape)}")
            if not np.all(np.isfinite(value)):
                raise EngineError(f"weight '{key}' contains NaN or infinite numbers")
            p[...] = value.astype(self.dtype)

    def layer_specs(self) -> list[dict[str, Any]]:
        return [layer.spec() for layer in self.layers]

    def output_shapes(self) -> list[Shape]:
        """The shape of one example after each layer (no batch axis)."""
        shapes = []
        for layer in self.layers:
            assert layer.output_shape is not None, "a network's layers are built with their shapes"
            shapes.append(layer.output_shape)
        return shapes

    def clone(self) -> Sequential:
        return copy.deepcopy(self)


def expand_layer_specs(layers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Turn the shorthand {"type": "dense", "units": 4, "activation": "tanh"} into two layers."""
    out = []
    for spec in layers:
        if not isinstance(spec, dict):
            raise EngineError(f"each layer must be an object with a 'type', got {spec!r}")
        spec = dict(spec)
        activation = spec.pop("activation", None)
        out.append(spec)
        if activation is not None:
            out.append({"type": canonical_activation(str(activation))})
    return out


def build_sequential(
    input_shape: Shape | int,
    layers: list[dict[str, Any]],
    *,
    seed: int = 0,
    dtype: str = "float32",
    max_params: int | None = None,
) -> Sequential:
    """Build a network; `layers` may use the dense+activation shorthand."""
    np_dtype = dtype_named(dtype)
    shape: Shape = (input_shape,) if isinstance(input_shape, int) else tuple(int(s) for s in input_shape)
    if not shape or any(s < 1 for s in shape):
        raise EngineError(f"input shape must be positive sizes, got {list(shape)}")
    rng = np.random.default_rng(seed)
    built: list[Layer] = []
    in_shape = shape
    with param_budget(max_params):
        for spec in expand_layer_specs(layers):
            layer = build_layer(spec, in_shape, rng, np_dtype)
            assert layer.output_shape is not None
            built.append(layer)
            in_shape = layer.output_shape
    if not built:
        raise EngineError("a network needs at least one layer")
    return Sequential(built, shape, np_dtype)
