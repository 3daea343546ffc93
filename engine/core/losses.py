"""Losses: each returns its value (mean over the batch) and dL/d(output).

`fuses_with` names the output activation whose backward the loss can skip:
for sigmoid + binary cross-entropy and softmax + cross-entropy the gradient
with respect to the pre-activation z is simply (output - target) / N, which
stays finite when the output saturates at 0 or 1.
"""

from __future__ import annotations

import numpy as np

from engine.core.activations import softmax
from engine.core.errors import EngineError


def _eps(dtype: np.dtype) -> float:
    return float(np.finfo(dtype).eps)


class Loss:
    name = "loss"
    fuses_with: str | None = None

    def value(self, out: np.ndarray, target: np.ndarray) -> float:
        raise NotImplementedError

    def grad(self, out: np.ndarray, target: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def grad_pre_activation(self, out: np.ndarray, target: np.ndarray) -> np.ndarray:
        """dL/dz when the network's last layer is `fuses_with` and `out` its output."""
        return (out - target) / out.shape[0]

    def per_example(self, out: np.ndarray, target: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def point_value(self, out: np.ndarray, target: np.ndarray) -> np.ndarray:
        """The loss of every output on its own (no sum over outputs, no batch mean), same shape as `out`."""
        raise EngineError(f"the '{self.name}' loss couples its outputs; it has no value per single output")

    def point_grad(self, out: np.ndarray, target: np.ndarray) -> np.ndarray:
        """d point_value / d out, element by element."""
        raise EngineError(f"the '{self.name}' loss couples its outputs; it has no gradient per single output")

    def prepare_target(self, target: np.ndarray, out_shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        target = np.asarray(target, dtype=dtype)
        if target.ndim == 1 and len(out_shape) == 2 and out_shape[1] == 1:
            target = target[:, None]
        if target.shape != tuple(out_shape):
            raise EngineError(f"targets have shape {list(target.shape)}, the network's output has {list(out_shape)}")
        if not np.all(np.isfinite(target)):
            raise EngineError("targets contain NaN or infinite numbers")
        return target


class SquaredError(Loss):
    """E = ½ (T − O)², summed over outputs, averaged over the batch."""

    name = "mse"

    def point_value(self, out: np.ndarray, target: np.ndarray) -> np.ndarray:
        d = out - target
        return 0.5 * (d * d)

    def point_grad(self, out: np.ndarray, target: np.ndarray) -> np.ndarray:
        return out - target

    def per_example(self, out: np.ndarray, target: np.ndarray) -> np.ndarray:
        return self.point_value(out, target).reshape(out.shape[0], -1).sum(axis=1)

    def value(self, out: np.ndarray, target: np.ndarray) -> float:
        return float(self.per_example(out, target).mean())

    def grad(self, out: np.ndarray, target: np.ndarray) -> np.ndarray:
        return self.point_grad(out, target) / out.shape[0]


class BinaryCrossEntropy(Loss):
    """H = −y log ŷ − (1−y) log(1−ŷ), ŷ clipped away from 0 and 1."""

    name = "bce"
    fuses_with = "sigmoid"

    def prepare_target(self, target: np.ndarray, out_shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        target = super().prepare_target(target, out_shape, dtype)
        if np.any((target < 0) | (target > 1)):
            raise EngineError("binary cross-entropy needs targets between 0 and 1")
        return target

    def point_value(self, out: np.ndarray, target: np.ndarray) -> np.ndarray:
        eps = _eps(out.dtype)
        p = np.clip(out, eps, 1 - eps)
        return -(target * np.log(p) + (1 - target) * np.log(1 - p))

    def point_grad(self, out: np.ndarray, target: np.ndarray) -> np.ndarray:
        eps = _eps(out.dtype)
        p = np.clip(out, eps, 1 - eps)
        return (p - target) / (p * (1 - p))

    def per_example(self, out: np.ndarray, target: np.ndarray) -> np.ndarray:
        return self.point_value(out, target).reshape(out.shape[0], -1).sum(axis=1)

    def value(self, out: np.ndarray, target: np.ndarray) -> float:
        return float(self.per_example(out, target).mean())

    def grad(self, out: np.ndarray, target: np.ndarray) -> np.ndarray:
        return self.point_grad(out, target) / out.shape[0]

    @staticmethod
    def point_value_from_logits(z: np.ndarray, target: np.ndarray) -> np.ndarray:
        """The same H, element by element, from the sigmoid's input z instead of its output (same shape as z).

        H = softplus(z) − y z, written max(z, 0) − y z + log1p(exp(−|z|)) so that exp never overflows: exact
        where ŷ = sigmoid(z) rounds to 0 or 1 (there the clipped form above is capped at −log eps).
        """
        return np.maximum(z, 0) - target * z + np.log1p(np.exp(-np.abs(z)))


class CrossEntropy(Loss):
    """Categorical cross-entropy −Σ y log p on probabilities (after a softmax layer)."""

    name = "cross_entropy"
    fuses_with = "softmax"

    def prepare_target(self, target: np.ndarray, out_shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        return _one_hot_target(target, out_shape, dtype)

    def per_example(self, out: np.ndarray, target: np.ndarray) -> np.ndarray:
        eps = _eps(out.dtype)
        return -(target * np.log(np.clip(out, eps, 1.0))).sum(axis=1)

    def value(self, out: np.ndarray, target: np.ndarray) -> float:
        return float(self.per_example(out, target).mean())

    def grad(self, out: np.ndarray, target: np.ndarray) -> np.ndarray:
        eps = _eps(out.dtype)
        return -target / np.clip(out, eps, 1.0) / out.shape[0]


class SoftmaxCrossEntropy(Loss):
    """Cross-entropy of softmax(logits): the network ends on raw logits."""

    name = "softmax_cross_entropy"

    def prepare_target(self, target: np.ndarray, out_shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        return _one_hot_target(target, out_shape, dtype)

    def per_example(self, out: np.ndarray, target: np.ndarray) -> np.ndarray:
        shifted = out - out.max(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        return -(target * log_probs).sum(axis=1)

    def value(self, out: np.ndarray, target: np.ndarray) -> float:
        return float(self.per_example(out, target).mean())

    def grad(self, out: np.ndarray, target: np.ndarray) -> np.ndarray:
        return (softmax(out) - target) / out.shape[0]


def _one_hot_target(target: np.ndarray, out_shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """Accept class indices (N,) or one-hot / probability rows (N, C)."""
    target = np.asarray(target)
    n, classes = out_shape[0], out_shape[-1]
    if target.ndim == 1:
        if target.shape[0] != n:
            raise EngineError(f"got {target.shape[0]} class labels for a batch of {n}")
        if not np.all(np.isfinite(target)) or np.any(target != np.round(target)):
            raise EngineError("class labels must be whole numbers")
        labels = target.astype(np.int64)
        if labels.min(initial=0) < 0 or labels.max(initial=0) >= classes:
            raise EngineError(f"class labels must be between 0 and {classes - 1}")
        onehot = np.zeros((n, classes), dtype=dtype)
        onehot[np.arange(n), labels] = 1
        return onehot
    if target.shape != tuple(out_shape):
        raise EngineError(f"targets have shape {list(target.shape)}, the network's output has {list(out_shape)}")
    if not np.all(np.isfinite(target)):
        raise EngineError("targets contain NaN or infinite numbers")
    return target.astype(dtype)


LOSSES: dict[str, type[Loss]] = {
    "mse": SquaredError,
    "bce": BinaryCrossEntropy,
    "cross_entropy": CrossEntropy,
    "softmax_cross_entropy": SoftmaxCrossEntropy,
}
LOSS_ALIASES = {"squared_error": "mse", "binary_cross_entropy": "bce", "ce": "cross_entropy"}


def get_loss(name: str) -> Loss:
    key = LOSS_ALIASES.get(name.lower(), name.lower())
    if key not in LOSSES:
        raise EngineError(f"unknown loss '{name}'; use one of: {', '.join(LOSSES)}")
    return LOSSES[key]()


def loss_and_backward(net, loss: Loss, target: np.ndarray) -> tuple[float, np.ndarray]:
    """Loss of the network's last forward pass, then backward through it.

    When the last layer is the activation the loss fuses with, backward starts
    below it from dL/dz = (output - target) / N, the stable form.
    Returns the loss and dL/d(output).
    """
    out = net.trace[-1].output if net.trace else None
    if out is None:
        raise EngineError("run forward before backward")
    target = loss.prepare_target(target, out.shape, net.dtype)
    value = loss.value(out, target)
    last = net.layers[-1]
    dout = loss.grad(out, target).astype(net.dtype, copy=False)
    if loss.fuses_with is not None and last.type == loss.fuses_with and len(net.layers) > 1:
        dz = loss.grad_pre_activation(out, target).astype(net.dtype, copy=False)
        net.trace[-1].grad_output = dout
        net.trace[-1].grad_input = dz
        net.backward(dz, start=len(net.layers) - 2)
        net.trace[-1].grad_output = dout
        net.trace[-1].grad_input = dz
    else:
        net.backward(dout)
    return value, dout
