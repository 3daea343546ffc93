"""Numerical gradient checking with central differences in float64."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def numerical_gradient(f: Callable[[], float], x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """d f / d x by central differences, perturbing `x` in place."""
    grad = np.zeros_like(x, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"], op_flags=[["readwrite"]])  # type: ignore[list-item]
    for _ in it:
        idx = it.multi_index
        old = x[idx]
        x[idx] = old + h
        plus = f()
        x[idx] = old - h
        minus = f()
        x[idx] = old
        grad[idx] = (plus - minus) / (2 * h)
    return grad


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """‖a − b‖ / (‖a‖ + ‖b‖): scale-free, 0 for identical arrays.

    Norms rather than element-wise ratios, so entries that are zero up to
    rounding (a ReLU that is off) do not dominate the verdict.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    denom = np.linalg.norm(a) + np.linalg.norm(b)
    return float(np.linalg.norm(a - b) / denom) if denom > 1e-12 else 0.0


def check_layer(layer, x: np.ndarray, seed: int = 0, h: float = 1e-6) -> dict[str, float]:
    """Compare a layer's backward with numerical gradients of sum(out * r).

    `r` is a fixed random projection so every output element matters.
    Returns the relative error for the input and each parameter.
    """
    rng = np.random.default_rng(seed)
    x = np.array(x, dtype=np.float64)
    out = layer.forward(x)
    r = rng.standard_normal(out.shape)

    def f() -> float:
        return float((layer.forward(x) * r).sum())

    layer.forward(x)
    dx = layer.backward(r.copy())
    grads = {name: g.copy() for name, g in layer.grads.items()}
    errors = {"input": relative_error(dx, numerical_gradient(f, x, h))}
    for name, p in layer.params.items():
        errors[name] = relative_error(grads[name], numerical_gradient(f, p, h))
    return errors


def check_network(net, loss, x: np.ndarray, target: np.ndarray, h: float = 1e-6) -> dict[str, float]:
    """Compare backward through network + loss with numerical gradients of the loss."""
    from engine.core.losses import loss_and_backward

    x = np.asarray(x, dtype=np.float64)

    def value_at(inputs: np.ndarray) -> float:
        out = net.forward(inputs)
        return loss.network_value(net.layers[-1].type, out, net.trace[-1].input,
                                  loss.prepare_target(target, out.shape, net.dtype))

    def f() -> float:
        return value_at(x)

    net.forward(x)
    loss_and_backward(net, loss, target)
    analytic = {key: g.copy() for key, g in net.grad_arrays().items()}
    dx = net.trace[0].grad_input.copy()
    errors = {}
    for key, p in net.param_arrays().items():
        errors[key] = relative_error(analytic[key], numerical_gradient(f, p, h))
    x_var = x.copy()

    def fx() -> float:
        return value_at(x_var)

    errors["input"] = relative_error(dx, numerical_gradient(fx, x_var, h))
    return errors
