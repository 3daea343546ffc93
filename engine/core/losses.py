"""Losses: each returns its value (mean over the batch) and dL/d(output).

`fuses_with` names the output activation the loss is fused with: for sigmoid +
binary cross-entropy and softmax + cross-entropy the gradient with respect to
the pre-activation z (the logits) is simply (output - target) / N, and the
value is computed from z too — softplus(z) − y·z and −Σ y·log_softmax(z) — so
both stay exact when the output saturates at 0 or 1 (log of a clipped
probability would cap the loss near 36 in float64, 16 in float32).
"""

from __future__ import annotations

import numpy as np

from engine.core.activations import log_softmax, softmax, softplus
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

    def fuses(self, last_layer_type: str) -> bool:
        """Whether a network ending on a `last_layer_type` layer has its loss taken from that layer's input."""
        return self.fuses_with is not None and last_layer_type == self.fuses_with

    def per_example_from_logits(self, logits: np.ndarray, target: np.ndarray) -> np.ndarray:
        """The loss of every example of `fuses_with`(logits), computed from the logits themselves."""
        raise EngineError(f"the '{self.name}' loss is not fused with an output activation; it has no logit form")

    def value_from_logits(self, logits: np.ndarray, target: np.ndarray) -> float:
        return float(self.per_example_from_logits(logits, target).mean())

    def network_per_example(self, last_layer_type: str, out: np.ndarray, logits: np.ndarray,
                            target: np.ndarray) -> np.ndarray:
        """The loss of every example of a network whose last layer (of type `last_layer_type`) took `logits`
        and gave `out`: from the logits when the loss fuses with that layer, else from the output."""
        if self.fuses(last_layer_type):
            return self.per_example_from_logits(logits, target)
        return self.per_example(out, target)

    def network_value(self, last_layer_type: str, out: np.ndarray, logits: np.ndarray, target: np.ndarray) -> float:
        """The batch mean of `network_per_example`: the value every trainer reports."""
        return float(self.network_per_example(last_layer_type, out, logits, target).mean())

    def per_example(self, out: np.ndarray, target: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def value_and_grad(self, last_layer_type: str, out: np.ndarray, logits: np.ndarray,
                       target: np.ndarray) -> tuple[float, np.ndarray, bool]:
        """The training step's loss: `network_value`, the gradient backward starts from, and whether that is
        dL/d(logits) (the loss fuses with the last layer) rather than dL/d(output)."""
        value = self.network_value(last_layer_type, out, logits, target)
        if self.fuses(last_layer_type):
            return value, self.grad_pre_activation(out, target), True
        return value, self.grad(out, target), False

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

    def value_and_grad(self, last_layer_type: str, out: np.ndarray, logits: np.ndarray,
                       target: np.ndarray) -> tuple[float, np.ndarray, bool]:
        # The same operations as `value` and `grad` (so the same numbers), with d = O − T computed once.
        if type(self) is not SquaredError or out.ndim != 2:
            return super().value_and_grad(last_layer_type, out, logits, target)
        n = out.shape[0]
        d = out - target
        per_point = 0.5 * (d * d)
        per_example = per_point[:, 0] if out.shape[1] == 1 else np.add.reduce(per_point, axis=1)
        return float(np.add.reduce(per_example) / n), d / n, False


class Huber(SquaredError):
    """Huber loss with threshold δ = 1: ½d² for |d| ≤ 1 (the squared error), |d| − ½ beyond (d = O − T), summed
    over outputs, averaged over the batch. Its gradient is d clipped to [−1, 1], so one surprising target cannot
    blow a step up (DQN's "TD-error clamp")."""

    name = "huber"

    def point_value(self, out: np.ndarray, target: np.ndarray) -> np.ndarray:
        a = np.abs(out - target)
        return np.where(a <= 1, 0.5 * a * a, a - 0.5)

    def point_grad(self, out: np.ndarray, target: np.ndarray) -> np.ndarray:
        return np.clip(out - target, -1, 1)


class BinaryCrossEntropy(Loss):
    """H = −y log ŷ − (1−y) log(1−ŷ), ŷ clipped away from 0 and 1; on a sigmoid output, from its logit z as
    softplus(z) − y·z, which is exact at any z."""

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

    def per_example_from_logits(self, logits: np.ndarray, target: np.ndarray) -> np.ndarray:
        # −y log σ(z) − (1−y) log(1−σ(z)) = y·softplus(−z) + (1−y)·softplus(z) = softplus(z) − y·z.
        return (softplus(logits) - target * logits).reshape(logits.shape[0], -1).sum(axis=1)

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
    """Categorical cross-entropy −Σ y log p on probabilities (after a softmax layer); from the softmax's logits z
    as −Σ y·log_softmax(z), exact at any z."""

    name = "cross_entropy"
    fuses_with = "softmax"

    def prepare_target(self, target: np.ndarray, out_shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        return _one_hot_target(target, out_shape, dtype)

    def per_example(self, out: np.ndarray, target: np.ndarray) -> np.ndarray:
        eps = _eps(out.dtype)
        return -(target * np.log(np.clip(out, eps, 1.0))).sum(axis=1)

    def per_example_from_logits(self, logits: np.ndarray, target: np.ndarray) -> np.ndarray:
        return -(target * log_softmax(logits)).sum(axis=1)

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
        return -(target * log_softmax(out)).sum(axis=1)

    def value(self, out: np.ndarray, target: np.ndarray) -> float:
        return float(self.per_example(out, target).mean())

    def grad(self, out: np.ndarray, target: np.ndarray) -> np.ndarray:
        return (softmax(out) - target) / out.shape[0]


def _one_hot_target(target: np.ndarray, out_shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """Accept class indices (N,) or one-hot / probability rows (N, C).

    Rows must be probability distributions: the gradient (softmax(z) − y) / N is the gradient of −Σ y log p
    only when Σ y = 1, so any other row would train on a gradient that is not the loss's.
    """
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
    _check_distributions(target)
    return target.astype(dtype)


def _check_distributions(rows: np.ndarray) -> None:
    """Refuse target rows that are not probability distributions (entries ≥ 0 summing to 1)."""
    rows = rows.astype(np.float64).reshape(-1, rows.shape[-1])
    what = "cross-entropy targets must be class labels, or rows of probabilities (entries ≥ 0 summing to 1)"
    negative = np.flatnonzero((rows < 0).any(axis=1))
    if negative.size:
        raise EngineError(f"{what}; row {negative[0]} has a negative entry")
    sums = rows.sum(axis=1)
    off = np.flatnonzero(np.abs(sums - 1) > 1e-6 * rows.shape[1])
    if off.size:
        raise EngineError(f"{what}; row {off[0]} sums to {sums[off[0]]:.6g}")


LOSSES: dict[str, type[Loss]] = {
    "mse": SquaredError,
    "huber": Huber,
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


def loss_and_backward(net, loss: Loss, target: np.ndarray, input_grad: bool = True) -> tuple[float, np.ndarray]:
    """Loss of the network's last forward pass, then backward through it.

    When the last layer is the activation the loss fuses with, the value comes
    from that layer's input (the logits) and backward starts below it from
    dL/dz = (output - target) / N: both stay exact when the output saturates.
    Returns the loss and dL/d(output). Without `input_grad` (training) the first layer's input gradient is not
    computed (see Sequential.backward).
    """
    out = net.trace[-1].output if net.trace else None
    if out is None:
        raise EngineError("run forward before backward")
    target = loss.prepare_target(target, out.shape, net.dtype)
    last = net.layers[-1]
    value = loss.network_value(last.type, out, net.trace[-1].input, target)
    dout = loss.grad(out, target).astype(net.dtype, copy=False)
    if loss.fuses(last.type) and len(net.layers) > 1:
        dz = loss.grad_pre_activation(out, target).astype(net.dtype, copy=False)
        net.trace[-1].grad_output = dout
        net.trace[-1].grad_input = dz
        net.backward(dz, start=len(net.layers) - 2, input_grad=input_grad)
        net.trace[-1].grad_output = dout
        net.trace[-1].grad_input = dz
    else:
        net.backward(dout, input_grad=input_grad)
    return value, dout
