"""Optimisers over a network's (layer, name) parameters, with L1/L2 regularisation.

Regularisation applies to weights only (not biases), as TensorFlow Playground
and most textbooks do: L2 adds rate·w to the gradient, L1 adds rate·sign(w).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.core.errors import EngineError
from engine.core.flat import FlatParams

REGULARIZATIONS = ("none", "l1", "l2")
StateKey = tuple[int, str]


class Optimizer:
    name = "sgd"

    def __init__(self, learning_rate: float = 0.01, regularization: str = "none", reg_rate: float = 0.0,
                 clip_norm: float | None = None) -> None:
        if not np.isfinite(learning_rate) or learning_rate <= 0:
            raise EngineError(f"learning rate must be a positive number, got {learning_rate}")
        if regularization not in REGULARIZATIONS:
            raise EngineError(f"regularization must be one of {list(REGULARIZATIONS)}, got '{regularization}'")
        if not np.isfinite(reg_rate) or reg_rate < 0:
            raise EngineError(f"regularization rate must be >= 0, got {reg_rate}")
        self.learning_rate = float(learning_rate)
        self.regularization = regularization
        self.reg_rate = float(reg_rate)
        self.clip_norm = clip_norm
        # Per parameter, keyed (layer index, parameter name): the optimiser's slots (velocity, moments).
        self.state: dict[StateKey, dict[str, np.ndarray]] = {}
        self.t = 0
        # Slot name → (the FlatParams it is laid out like, its flat buffer, its views per key in `state`).
        self._flat_slots: dict[str, tuple[FlatParams, np.ndarray, dict[StateKey, np.ndarray]]] = {}

    def regularized_grad(self, name: str, p: np.ndarray, g: np.ndarray) -> np.ndarray:
        if self.regularization == "none" or self.reg_rate == 0 or name.endswith("bias"):
            return g
        rate = p.dtype.type(self.reg_rate)
        return g + rate * (np.sign(p) if self.regularization == "l1" else p)

    def penalty(self, params: list[tuple[str, np.ndarray]]) -> float:
        """The regularisation term added to the objective (reported separately)."""
        if self.regularization == "none":
            return 0.0
        weights = [p for name, p in params if not name.endswith("bias")]
        if self.regularization == "l1":
            return self.reg_rate * float(sum(np.abs(p).sum() for p in weights))
        return 0.5 * self.reg_rate * float(sum((p * p).sum() for p in weights))

    def step(self, layers: list[Any], lr_scale: float = 1.0, flat: FlatParams | None = None) -> None:
        """Update every parameter in place from the layers' grads.

        With `flat` (the layers' parameters and gradients bound to one buffer each, engine/core/flat.py) the
        update is a few whole-buffer operations, element for element the same arithmetic as the per-array
        path, which is taken when `flat` no longer holds the layers' arrays or gradients are clipped."""
        if flat is not None and self.clip_norm is None and flat.bound(layers):
            self.step_flat(flat, lr_scale)
            return
        self.t += 1
        lr = self.learning_rate * lr_scale
        items = [((i, name), p, self.regularized_grad(name, p, layer.grads[name]))
                 for i, layer in enumerate(layers) for name, p in layer.params.items()]
        if self.clip_norm is not None:
            total = float(np.sqrt(sum(float((g.astype(np.float64) ** 2).sum()) for _, _, g in items)))
            if total > self.clip_norm:
                items = [(key, p, g * g.dtype.type(self.clip_norm / (total + 1e-12))) for key, p, g in items]
        for key, p, g in items:
            self.update(key, p, g, lr)

    def step_flat(self, flat: FlatParams, lr_scale: float = 1.0) -> None:
        """`step` on parameters known to be bound to `flat` (checked by the caller once per chunk of training);
        no gradient clipping."""
        if self.clip_norm is not None:
            raise EngineError("step_flat does not clip gradients; use step(layers)")
        self.t += 1
        grad = flat.grads
        if self.regularization != "none" and self.reg_rate != 0 and flat.weight_slices:
            grad = grad.copy()
            rate = grad.dtype.type(self.reg_rate)
            for where in flat.weight_slices:
                p = flat.params[where]
                grad[where] += rate * (np.sign(p) if self.regularization == "l1" else p)
        self.update_flat(flat, grad, self.learning_rate * lr_scale)

    def snapshot(self) -> tuple[dict[StateKey, dict[str, np.ndarray]], int]:
        """A copy of the moment estimates and step count, for undoing a step."""
        return {key: {slot: a.copy() for slot, a in slots.items()} for key, slots in self.state.items()}, self.t

    def restore(self, snapshot: tuple[dict[StateKey, dict[str, np.ndarray]], int]) -> None:
        state, self.t = snapshot
        self.state = {key: {slot: a.copy() for slot, a in slots.items()} for key, slots in state.items()}

    def update(self, key: StateKey, p: np.ndarray, g: np.ndarray, lr: float) -> None:
        p -= p.dtype.type(lr) * g

    def update_flat(self, flat: FlatParams, g: np.ndarray, lr: float) -> None:
        """`update` on every parameter at once (flat buffers)."""
        self.update((-1, "flat"), flat.params, g, lr)

    def flat_slot(self, flat: FlatParams, slot: str) -> np.ndarray:
        """The flat buffer of one optimiser slot ('v', 'm'), whose views per key are what `state` holds; built
        (from the values `state` holds, zeros where it has none) when `state` was replaced since."""
        flat_slots = self.__dict__.setdefault("_flat_slots", {})
        cached = flat_slots.get(slot)
        if cached is not None and cached[0] is flat:
            state = self.state
            if all(state.get(key, {}).get(slot) is view for key, view in cached[2].items()):
                return cached[1]
        buffer = np.zeros_like(flat.params)
        views = flat.slot_views(buffer)
        for key, view in views.items():
            old = self.state.get(key, {}).get(slot)
            if old is not None and old.shape == view.shape:
                view[...] = old
            self.state.setdefault(key, {})[slot] = view
        flat_slots[slot] = (flat, buffer, views)
        return buffer

    def config(self) -> dict[str, Any]:
        return {"type": self.name, "learning_rate": self.learning_rate,
                "regularization": self.regularization, "reg_rate": self.reg_rate}


class SGD(Optimizer):
    name = "sgd"


class Momentum(Optimizer):
    """Heavy-ball momentum: v ← μv − αg; w ← w + v.

    The learning rate is folded into the velocity, so changing it mid-training (`Trainer.configure`, the
    Playground's control, a schedule's `lr_scale`) does not rescale the velocity already built up: only the new
    gradients enter at the new rate, and the old velocity decays by μ per step. For about 1/(1−μ) steps (10 at
    μ = 0.9) the steps still carry the old rate's size: lowering the rate slows training down gradually, not at
    once, and raising it speeds it up gradually. (PyTorch's SGD keeps the velocity unscaled, v ← μv + g;
    w ← w − αv, so a new rate applies to the whole step at once; with a constant rate the two are the same.)
    Switching to another optimiser type starts fresh slots; the same type keeps them, and keeps `t`.
    """

    name = "momentum"

    def __init__(self, learning_rate: float = 0.01, momentum: float = 0.9, **kw: Any) -> None:
        super().__init__(learning_rate, **kw)
        if not 0 <= momentum < 1:
            raise EngineError(f"momentum must be in [0, 1), got {momentum}")
        self.momentum = float(momentum)

    def update(self, key: StateKey, p: np.ndarray, g: np.ndarray, lr: float) -> None:
        self._momentum(self.state.setdefault(key, {}).setdefault("v", np.zeros_like(p)), p, g, lr)

    def update_flat(self, flat: FlatParams, g: np.ndarray, lr: float) -> None:
        self._momentum(self.flat_slot(flat, "v"), flat.params, g, lr)

    def _momentum(self, v: np.ndarray, p: np.ndarray, g: np.ndarray, lr: float) -> None:
        v *= p.dtype.type(self.momentum)
        v -= p.dtype.type(lr) * g
        p += v

    def config(self) -> dict[str, Any]:
        return {**super().config(), "momentum": self.momentum}


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015) with bias correction.

    The moments hold gradients only, not the learning rate, so a new learning rate applies to the very next
    step in full; the bias correction counts on with `t` (it is not restarted by a change of rate).
    """

    name = "adam"

    def __init__(self, learning_rate: float = 0.001, beta1: float = 0.9, beta2: float = 0.999,
                 eps: float = 1e-8, **kw: Any) -> None:
        super().__init__(learning_rate, **kw)
        self.beta1, self.beta2, self.eps = float(beta1), float(beta2), float(eps)

    def update(self, key: StateKey, p: np.ndarray, g: np.ndarray, lr: float) -> None:
        s = self.state.setdefault(key, {})
        self._adam(s.setdefault("m", np.zeros_like(p)), s.setdefault("v", np.zeros_like(p)), p, g, lr)

    def update_flat(self, flat: FlatParams, g: np.ndarray, lr: float) -> None:
        self._adam(self.flat_slot(flat, "m"), self.flat_slot(flat, "v"), flat.params, g, lr)

    def _adam(self, m: np.ndarray, v: np.ndarray, p: np.ndarray, g: np.ndarray, lr: float) -> None:
        t = p.dtype.type
        m *= t(self.beta1)
        m += t(1 - self.beta1) * g
        v *= t(self.beta2)
        v += t(1 - self.beta2) * (g * g)
        m_hat_scale = 1 / (1 - self.beta1**self.t)
        v_hat_scale = 1 / (1 - self.beta2**self.t)
        p -= t(lr * m_hat_scale) * m / (np.sqrt(v * t(v_hat_scale)) + t(self.eps))

    def config(self) -> dict[str, Any]:
        return {**super().config(), "beta1": self.beta1, "beta2": self.beta2, "eps": self.eps}


OPTIMIZERS: dict[str, type[Optimizer]] = {"sgd": SGD, "momentum": Momentum, "adam": Adam}


def make_optimizer(config: dict[str, Any]) -> Optimizer:
    config = dict(config)
    kind = str(config.pop("type", "sgd")).lower()
    if kind not in OPTIMIZERS:
        raise EngineError(f"unknown optimizer '{kind}'; use one of: {', '.join(OPTIMIZERS)}")
    allowed = {"learning_rate", "regularization", "reg_rate", "clip_norm", "momentum", "beta1", "beta2", "eps"}
    unknown = set(config) - allowed
    if unknown:
        raise EngineError(f"unknown optimizer settings {sorted(unknown)}; known: {sorted(allowed)}")
    if kind != "momentum":
        config.pop("momentum", None)
    if kind != "adam":
        for k in ("beta1", "beta2", "eps"):
            config.pop(k, None)
    return OPTIMIZERS[kind](**config)
