"""Weight initialisers, all driven by a seeded numpy.random.Generator."""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

import numpy as np

from engine.core.errors import EngineError, SizeLimitError

INITIALISERS = ("xavier", "he", "uniform", "zeros", "values")

# Parameters still allowed while a network is being built, so that a huge spec
# fails before its arrays are allocated rather than exhausting memory.
_budget: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar("param_budget", default=None)


@contextlib.contextmanager
def param_budget(limit: int | None) -> Iterator[None]:
    token = _budget.set(None if limit is None else [limit, limit])
    try:
        yield
    finally:
        _budget.reset(token)


def reserve(count: int) -> None:
    """Count `count` parameters against the active budget; raise before allocating past it."""
    budget = _budget.get()
    if budget is None:
        return
    budget[0] -= count
    if budget[0] < 0:
        raise SizeLimitError(
            f"the network has more than {budget[1]:,} parameters, the limit; make the layers smaller"
        )


def initialise(
    name: str,
    shape: tuple[int, ...],
    fan_in: int,
    fan_out: int,
    rng: np.random.Generator,
    dtype: np.dtype,
    values: object = None,
) -> np.ndarray:
    """Return a new array of `shape` filled by the named scheme.

    xavier: uniform(±sqrt(6 / (fan_in + fan_out))) (Glorot & Bengio 2010).
    he: normal(0, sqrt(2 / fan_in)) (He et al. 2015), for ReLU networks.
    uniform: uniform(-0.5, 0.5), TensorFlow Playground's choice.
    zeros; values: explicit numbers of exactly this shape.
    """
    reserve(int(np.prod(shape, dtype=np.int64)))
    if name == "xavier":
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        w = rng.uniform(-limit, limit, size=shape)
    elif name == "he":
        w = rng.normal(0.0, np.sqrt(2.0 / fan_in), size=shape)
    elif name == "uniform":
        w = rng.uniform(-0.5, 0.5, size=shape)
    elif name == "zeros":
        w = np.zeros(shape)
    elif name == "values":
        w = np.asarray(values, dtype=np.float64)
        if w.shape != tuple(shape):
            raise EngineError(f"explicit values have shape {list(w.shape)}, expected {list(shape)}")
        if not np.all(np.isfinite(w)):
            raise EngineError("explicit values must be finite numbers")
    else:
        raise EngineError(f"unknown initialiser '{name}'; use one of: {', '.join(INITIALISERS)}")
    return np.ascontiguousarray(w, dtype=dtype)


def weight_and_bias(
    weight_shape: tuple[int, ...],
    outputs: int,
    fan_in: int,
    fan_out: int,
    *,
    init: str,
    bias: bool,
    rng: np.random.Generator,
    dtype: np.dtype,
    bias_init: float = 0.0,
    weight_values: object = None,
    bias_values: object = None,
) -> dict[str, np.ndarray]:
    """The `params` of a layer with a weight and one bias per output (dense, convolution).

    Explicit values win over the scheme; the bias starts at `bias_init` (TensorFlow Playground uses 0.1).
    """
    params = {"weight": initialise("values" if weight_values is not None else init, weight_shape, fan_in, fan_out,
                                   rng, dtype, weight_values)}
    if bias:
        b = initialise("values" if bias_values is not None else "zeros", (outputs,), fan_in, fan_out, rng, dtype,
                       bias_values)
        if bias_values is None and bias_init:
            b += dtype.type(bias_init)
        params["bias"] = b
    return params
