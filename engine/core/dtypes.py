"""The floating-point types a model may compute in, by the name specs and requests use."""

from __future__ import annotations

import numpy as np

from engine.core.errors import EngineError

# float32 by default (fast, what the pages show); float64 for worked examples and gradient checks.
DTYPES: dict[str, np.dtype] = {"float32": np.dtype(np.float32), "float64": np.dtype(np.float64)}


def dtype_named(name: str) -> np.dtype:
    """The NumPy dtype called `name` in a spec; a clear error for any other name."""
    if not isinstance(name, str) or name not in DTYPES:
        raise EngineError(f"dtype must be one of {list(DTYPES)}, got {name!r}")
    return DTYPES[name]
