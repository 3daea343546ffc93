"""Activation functions as pure functions: value g(z) and derivative g'(z).

The layers in `layers.py` and the neuron explorer both evaluate these, so the
page shows exactly what training uses.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from engine.core.errors import EngineError


def linear(z: np.ndarray) -> np.ndarray:
    return z.copy()


def linear_prime(z: np.ndarray) -> np.ndarray:
    return np.ones_like(z)


def relu(z: np.ndarray) -> np.ndarray:
    return np.maximum(z, 0).astype(z.dtype, copy=False)


def relu_prime(z: np.ndarray) -> np.ndarray:
    # The subgradient at 0 is taken as 0, as PyTorch and TensorFlow do.
    return (z > 0).astype(z.dtype)


def tanh(z: np.ndarray) -> np.ndarray:
    return np.tanh(z)


def tanh_prime(z: np.ndarray) -> np.ndarray:
    t = np.tanh(z)
    return 1 - t * t


def sigmoid(z: np.ndarray) -> np.ndarray:
    # Split by sign so that exp never overflows.
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1 / (1 + np.exp(-z[pos]))
    ez = np.exp(z[~pos])
    out[~pos] = ez / (1 + ez)
    return out


def sigmoid_prime(z: np.ndarray) -> np.ndarray:
    s = sigmoid(z)
    return s * (1 - s)


def step(z: np.ndarray) -> np.ndarray:
    """Heaviside step: the neuron fires (1) when z > 0."""
    return (z > 0).astype(z.dtype)


def step_prime(z: np.ndarray) -> np.ndarray:
    # Zero almost everywhere: why the perceptron rule, not backprop, trains it.
    return np.zeros_like(z)


def softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    shifted = z - z.max(axis=axis, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    """log softmax(z) = z − logsumexp(z), exact where softmax rounds to 0 (log(softmax) would give −∞)."""
    shifted = z - z.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def softplus(z: np.ndarray) -> np.ndarray:
    """log(1 + eᶻ) = max(z, 0) + log(1 + e^−|z|): never overflows, and exact for large |z|."""
    return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))


ACTIVATIONS: dict[str, tuple[Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray], np.ndarray]]] = {
    "linear": (linear, linear_prime),
    "relu": (relu, relu_prime),
    "tanh": (tanh, tanh_prime),
    "sigmoid": (sigmoid, sigmoid_prime),
    "step": (step, step_prime),
}

ALIASES = {"none": "linear", "identity": "linear"}


def activation_names() -> list[str]:
    """Every activation a network layer may be: the element-wise ones, then softmax (across a layer's neurons)."""
    return [*ACTIVATIONS, "softmax"]


def canonical_activation(name: str) -> str:
    key = ALIASES.get(name.lower(), name.lower())
    if key not in activation_names():
        known = ", ".join(sorted(activation_names()))
        raise EngineError(f"unknown activation '{name}'; use one of: {known}")
    return key


def evaluate(name: str, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Value and derivative of an element-wise activation at every z.

    For softmax the derivative returned is the diagonal of the Jacobian,
    s_i (1 - s_i), the part that scales each neuron's own gradient.
    """
    key = canonical_activation(name)
    if key == "softmax":
        s = softmax(z)
        return s, s * (1 - s)
    fn, prime = ACTIVATIONS[key]
    return fn(z), prime(z)
