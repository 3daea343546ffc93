"""Arrays on the wire: nested JSON lists, or base64 of little-endian float32.

`?encoding=base64` turns every array in a response into
{"dtype": "float32", "shape": [...], "data": "<base64>"}, which the pages
decode into typed arrays (static/js/lib/api.js) — 40× faster than long lists.
"""

from __future__ import annotations

import base64
import dataclasses
from typing import Any, Literal

import numpy as np

Encoding = Literal["json", "base64"]


def encode_array(a: np.ndarray, encoding: Encoding = "json") -> Any:
    if encoding == "base64":
        if a.dtype == np.uint8:
            data = np.ascontiguousarray(a)
            dtype = "uint8"
        else:
            data = np.ascontiguousarray(a, dtype="<f4")
            dtype = "float32"
        return {"dtype": dtype, "shape": list(a.shape), "data": base64.b64encode(data.tobytes()).decode("ascii")}
    if a.dtype.kind == "f" and not np.all(np.isfinite(a)):
        # JSON has no NaN/Infinity; a masked score (−∞) travels as null.
        out = a.astype(object)
        out[~np.isfinite(a)] = None
        return out.tolist()
    return a.tolist()


def encode(obj: Any, encoding: Encoding = "json") -> Any:
    """Recursively make `obj` JSON-able, encoding every ndarray (a dataclass becomes a dict of its fields)."""
    if isinstance(obj, np.ndarray):
        return encode_array(obj, encoding)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: encode(getattr(obj, f.name), encoding) for f in dataclasses.fields(obj)}
    if isinstance(obj, dict):
        return {str(k): encode(v, encoding) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [encode(v, encoding) for v in obj]
    if isinstance(obj, np.generic):
        value = obj.item()
        if isinstance(value, float) and not np.isfinite(value):
            return None
        return value
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    return obj


def decode_array(obj: Any) -> np.ndarray:
    """Inverse of encode_array for either form (used by tests and imports)."""
    if isinstance(obj, dict) and "data" in obj:
        dtype = {"float32": "<f4", "uint8": "u1"}[obj["dtype"]]
        return np.frombuffer(base64.b64decode(obj["data"]), dtype=dtype).reshape(obj["shape"])
    return np.asarray(obj, dtype=np.float64)
