"""Arrays on the wire: nested JSON lists, or base64 of little-endian float32.

`?encoding=base64` turns every array in a response into
{"dtype": "float32", "shape": [...], "data": "<base64>"}, which the pages
decode into typed arrays (static/js/lib/api.js) — 40× faster than long lists.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import struct
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


# --- binary WebSocket frames -------------------------------------------------------------------------------
#
# A live frame as one binary WebSocket message: a little-endian uint32 header length H, H bytes of UTF-8 JSON,
# zero padding to a multiple of 4, then the arrays' raw little-endian bytes, each starting at a multiple of 4 (so
# the page views them as typed arrays without copying). In the header every array is
# {"dtype": "float32" | "uint8", "shape": [...], "bin": [offset, nbytes]}, the offset counted from the start of
# the array section. static/js/lib/socket.js decodes it into the same {data, shape} objects as the base64 form.

_ALIGN = 4


def encode_binary(obj: Any, blobs: list[bytes]) -> Any:
    """Like `encode`, with every ndarray's bytes copied into `blobs` (uint8 stays uint8, everything else float32)
    and replaced by its descriptor. The copies are taken now, so the caller may change the arrays afterwards."""
    if isinstance(obj, np.ndarray):
        dtype = "uint8" if obj.dtype == np.uint8 else "float32"
        data = np.ascontiguousarray(obj, dtype="u1" if dtype == "uint8" else "<f4").tobytes()
        offset = sum(len(b) for b in blobs)
        blobs.append(data)
        pad = -len(data) % _ALIGN
        if pad:
            blobs.append(b"\0" * pad)
        return {"dtype": dtype, "shape": list(obj.shape), "bin": [offset, len(data)]}
    if isinstance(obj, dict):
        return {str(k): encode_binary(v, blobs) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [encode_binary(v, blobs) for v in obj]
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: encode_binary(getattr(obj, f.name), blobs) for f in dataclasses.fields(obj)}
    return encode(obj)


def pack_binary(header: Any, blobs: list[bytes]) -> bytes:
    """One binary message: header length, JSON header, padding, the arrays' bytes (see above)."""
    text = json.dumps(header, separators=(",", ":"), allow_nan=False).encode()
    pad = -(4 + len(text)) % _ALIGN
    return b"".join([struct.pack("<I", len(text)), text, b"\0" * pad, *blobs])


def unpack_binary(message: bytes) -> Any:
    """The inverse of `pack_binary` (for tests and Python clients): the header with every array decoded."""
    (size,) = struct.unpack_from("<I", message)
    header = json.loads(message[4:4 + size])
    base = 4 + size + (-(4 + size) % _ALIGN)

    def decode(value: Any) -> Any:
        if isinstance(value, dict):
            if "bin" in value and "dtype" in value and "shape" in value:
                offset, nbytes = value["bin"]
                dtype = {"float32": "<f4", "uint8": "u1"}[value["dtype"]]
                return np.frombuffer(message, dtype=dtype, count=nbytes // np.dtype(dtype).itemsize,
                                     offset=base + offset).reshape(value["shape"])
            return {k: decode(v) for k, v in value.items()}
        if isinstance(value, list):
            return [decode(v) for v in value]
        return value

    return decode(header)
