"""Layers in the CS231n / ConvNetJS style.

Every layer has `params` and `grads` dicts under the same names,
`forward(x)` that caches what backward needs, and `backward(dout)` that
fills `grads` and returns the gradient with respect to its input, an array
shaped like that input. Two exceptions, each with one fixed form: a layer
with two inputs (cross-attention's `forward(x, context)`) returns one
gradient per input, as a tuple in `forward`'s order; a layer whose input is
discrete (an embedding's token ids) returns zeros shaped like it, since
nothing flows below it.

Layers are built from JSON-able specs through a registry so that new layer
families (convolution, attention) plug in without touching the network code:
`@register("dense")` a builder `(spec, input_shape, rng, dtype) -> (layer,
output_shape)`, where shapes exclude the batch axis; `build_layer` records
both shapes on the layer (`input_shape`, `output_shape`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import DTypeLike

from engine.core import activations as act
from engine.core.errors import EngineError
from engine.core.init import weight_and_bias

Shape = tuple[int, ...]


class Layer:
    """Base class: no parameters.

    `input_shape` / `output_shape` are the shapes of one example (no batch axis) when the layer was built for a
    network from a spec (`build_layer`); None for a layer used on its own (the transformer's), whose shapes
    follow its input.
    """

    type: str = "layer"

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.input_shape: Shape | None = None
        self.output_shape: Shape | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Fill `grads` from dL/d(output) and return dL/d(input), shaped like the input."""
        raise NotImplementedError

    def backward_params(self, dout: np.ndarray) -> None:
        """Fill `grads` only: the first layer of a network in training, whose input gradient nothing uses.
        Layers with parameters skip computing the input gradient; the rest have nothing to fill."""
        if self.params:
            self.backward(dout)

    def spec(self) -> dict[str, Any]:
        """The JSON-able description that rebuilds this layer (without weights)."""
        return {"type": self.type}

    def zero_grads(self) -> None:
        for name, p in self.params.items():
            self.grads[name] = np.zeros_like(p)

    @property
    def num_params(self) -> int:
        return int(sum(p.size for p in self.params.values()))


class NamedParam(NamedTuple):
    """One parameter of a model: the index of its layer in the model's layer list, its name in that layer's
    `params`, and the live array. Unpacks as (layer, name, value)."""

    layer: int
    name: str
    value: np.ndarray

    @property
    def key(self) -> str:
        """'layer.name', e.g. '0.weight': how the API and saved files name it."""
        return f"{self.layer}.{self.name}"


def named_params(layers: list[Layer]) -> list[NamedParam]:
    """Every parameter of `layers`, layer by layer in `params` order (the order optimisers key their state by)."""
    return [NamedParam(i, name, p) for i, layer in enumerate(layers) for name, p in layer.params.items()]


class Dense(Layer):
    """Fully connected: z = x @ weight + bias, weight of shape (in, out)."""

    type = "dense"

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        bias: bool = True,
        init: str = "xavier",
        bias_init: float = 0.0,
        rng: np.random.Generator | None = None,
        dtype: DTypeLike = np.float32,
        weight_values: object = None,
        bias_values: object = None,
    ) -> None:
        super().__init__()
        rng = rng if rng is not None else np.random.default_rng(0)
        self.dtype = np.dtype(dtype)
        self.in_features, self.out_features = in_features, out_features
        self.init, self.bias_init, self.use_bias = init, bias_init, bias
        self.params = weight_and_bias((in_features, out_features), out_features, in_features, out_features,
                                      init=init, bias=bias, rng=rng, dtype=self.dtype, bias_init=bias_init,
                                      weight_values=weight_values, bias_values=bias_values)
        self.zero_grads()
        self.x: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = x
        z = x @ self.params["weight"]
        if self.use_bias:
            z += self.params["bias"]
        return z

    def backward(self, dout: np.ndarray) -> np.ndarray:
        self.backward_params(dout)
        return np.ascontiguousarray(dout @ self.params["weight"].T)

    def backward_params(self, dout: np.ndarray) -> None:
        # Written into the grads arrays already there (views into a network's flat gradient buffer, see
        # engine/core/flat.py), the same arithmetic as `x.T @ dout` and `dout.sum(axis=0)`.
        assert self.x is not None, "forward must run before backward"
        grads = self.grads
        gw = grads.get("weight")
        if gw is not None and gw.shape == (self.in_features, self.out_features) and gw.dtype == dout.dtype \
                and self.x.dtype == dout.dtype:
            np.matmul(self.x.T, dout, out=gw)
        else:
            grads["weight"] = np.ascontiguousarray(self.x.T @ dout)
        if self.use_bias:
            gb = grads.get("bias")
            if gb is not None and gb.shape == (self.out_features,) and gb.dtype == dout.dtype:
                np.add.reduce(dout, axis=0, out=gb)
            else:
                grads["bias"] = dout.sum(axis=0)

    def spec(self) -> dict[str, Any]:
        return {"type": "dense", "units": self.out_features, "bias": self.use_bias, "init": self.init,
                "bias_init": self.bias_init}


class Activation(Layer):
    """An element-wise function g applied to z; backward multiplies by g'(z)."""

    name = "linear"

    def __init__(self) -> None:
        super().__init__()
        self.fn, self.prime = act.ACTIVATIONS[self.name]
        self.z: np.ndarray | None = None

    @property
    def type(self) -> str:  # type: ignore[override]
        return self.name

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.z = x
        return self.fn(x)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        assert self.z is not None, "forward must run before backward"
        return dout * self.prime(self.z)


class Linear(Activation):
    name = "linear"


class ReLU(Activation):
    name = "relu"


class Tanh(Activation):
    name = "tanh"

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.z = x
        self.out = np.tanh(x)
        return self.out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        # g'(z) = 1 − tanh²(z), from the output kept by forward (the same numbers as tanh_prime, one tanh fewer).
        return dout * (1 - self.out * self.out)


class Sigmoid(Activation):
    name = "sigmoid"

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.z = x
        self.out = act.sigmoid(x)
        return self.out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return dout * self.out * (1 - self.out)


class Step(Activation):
    name = "step"


class Softmax(Layer):
    """Numerically stable softmax over the last axis."""

    type = "softmax"

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.out = act.softmax(x)
        return self.out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        # Jacobian-vector product: s * (dout - sum(dout * s)).
        s = self.out
        return s * (dout - (dout * s).sum(axis=-1, keepdims=True))


ACTIVATION_LAYERS: dict[str, type[Layer]] = {
    "linear": Linear, "relu": ReLU, "tanh": Tanh, "sigmoid": Sigmoid, "step": Step, "softmax": Softmax,
}


def activation_layer(name: str) -> Layer:
    return ACTIVATION_LAYERS[act.canonical_activation(name)]()


# --- registry -----------------------------------------------------------------

Builder = Callable[[dict[str, Any], Shape, np.random.Generator, np.dtype], tuple[Layer, Shape]]
LAYER_BUILDERS: dict[str, Builder] = {}


def register(type_name: str) -> Callable[[Builder], Builder]:
    def deco(fn: Builder) -> Builder:
        LAYER_BUILDERS[type_name] = fn
        return fn

    return deco


def require_int(spec: dict[str, Any], key: str, low: int = 1, default: int | None = None) -> int:
    value = spec.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise EngineError(f"layer '{spec.get('type')}' needs '{key}' as a whole number >= {low}, got {value!r}")
    return int(value)


@register("dense")
def _build_dense(spec: dict[str, Any], shape: Shape, rng: np.random.Generator, dtype: np.dtype) -> tuple[Layer, Shape]:
    if len(shape) != 1:
        raise EngineError(f"dense layer needs a flat input, got shape {list(shape)}; add a 'flatten' layer first")
    units = require_int(spec, "units")
    layer = Dense(
        shape[0], units, bias=bool(spec.get("bias", True)), init=spec.get("init", "xavier"),
        bias_init=float(spec.get("bias_init", 0.0)), rng=rng, dtype=dtype,
        weight_values=spec.get("weight"), bias_values=spec.get("bias_values"),
    )
    return layer, (units,)


def _activation_builder(name: str) -> Builder:
    def build(spec: dict[str, Any], shape: Shape, rng: np.random.Generator, dtype: np.dtype) -> tuple[Layer, Shape]:
        return activation_layer(name), shape

    return build


for _name in ACTIVATION_LAYERS:
    register(_name)(_activation_builder(_name))


def build_layer(spec: dict[str, Any], shape: Shape, rng: np.random.Generator, dtype: np.dtype) -> Layer:
    """The layer `spec` describes, for inputs of `shape`, with its `input_shape` and `output_shape` set."""
    kind = str(spec.get("type", "")).lower()
    if kind not in LAYER_BUILDERS:
        known = ", ".join(sorted(LAYER_BUILDERS))
        raise EngineError(f"unknown layer type '{spec.get('type')}'; use one of: {known}")
    layer, out_shape = LAYER_BUILDERS[kind](spec, shape, rng, dtype)
    layer.input_shape, layer.output_shape = tuple(shape), tuple(out_shape)
    return layer
