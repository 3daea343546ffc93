"""safetensors read and written with NumPy: an 8-byte little-endian header length, a JSON header naming each
tensor's dtype, shape and byte range, then the raw little-endian buffers. Nothing is unpickled or executed.

Reading checks everything before touching the buffers: the header length against the file and a cap, the header
as a JSON object, each tensor's dtype (floating point only: weights), shape and byte range (inside the buffer,
exactly as long as the shape needs, no overlaps), so a hostile file gets an EngineError naming the tensor.
"""

from __future__ import annotations

import json
import struct
from typing import Any

import numpy as np

from engine.core.errors import EngineError

MAX_HEADER_BYTES = 16 * 1024 * 1024  # a header this long would name ~100,000 tensors; real ones are a few KiB
DTYPES: dict[str, np.dtype] = {"F16": np.dtype("<f2"), "F32": np.dtype("<f4"), "F64": np.dtype("<f8"),
                               "BF16": np.dtype("<u2")}
NAMES = {np.dtype("float16"): "F16", np.dtype("float32"): "F32", np.dtype("float64"): "F64"}


def read_safetensors(data: bytes) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """The tensors (float32/float64 arrays, BF16 and F16 widened to float32) and the `__metadata__` strings."""
    if len(data) < 8:
        raise EngineError("not a safetensors file: it is shorter than its 8-byte header length")
    (header_len,) = struct.unpack("<Q", data[:8])
    if header_len > min(len(data) - 8, MAX_HEADER_BYTES):
        raise EngineError(f"not a safetensors file: its header claims {header_len:,} bytes but the file holds "
                          f"{len(data) - 8:,} after the length (and headers stop at {MAX_HEADER_BYTES:,})")
    try:
        header = json.loads(data[8:8 + header_len].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EngineError(f"not a safetensors file: its header is not JSON ({exc})") from None
    if not isinstance(header, dict):
        raise EngineError("not a safetensors file: its header must be a JSON object of tensors")
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise EngineError("safetensors __metadata__ must map names to strings")
    buffer = memoryview(data)[8 + header_len:]
    tensors: dict[str, np.ndarray] = {}
    ranges: list[tuple[int, int, str]] = []
    for name, entry in header.items():
        tensors[name] = _tensor(name, entry, buffer, ranges)
    ranges.sort()
    for (_, end, a), (begin, _, b) in zip(ranges, ranges[1:], strict=False):
        if begin < end:
            raise EngineError(f"safetensors tensors '{a}' and '{b}' overlap in the file")
    return tensors, metadata


def _tensor(name: str, entry: Any, buffer: memoryview, ranges: list[tuple[int, int, str]]) -> np.ndarray:
    if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
        raise EngineError(f"safetensors tensor '{name}' must have exactly dtype, shape and data_offsets")
    dtype_name, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
    if dtype_name not in DTYPES:
        raise EngineError(f"safetensors tensor '{name}' has dtype {dtype_name!r}; weights must be one of "
                          f"{', '.join(DTYPES)}")
    if not isinstance(shape, list) or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0
                                              for s in shape) or len(shape) > 8:
        raise EngineError(f"safetensors tensor '{name}' has shape {shape!r}; a shape is a list of sizes >= 0")
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(isinstance(o, int) and not isinstance(o, bool)
                                                                   for o in offsets)):
        raise EngineError(f"safetensors tensor '{name}': data_offsets must be [begin, end]")
    begin, end = offsets
    dtype = DTYPES[dtype_name]
    count = 1
    for s in shape:
        count *= s
    if not 0 <= begin <= end <= len(buffer) or end - begin != count * dtype.itemsize:
        raise EngineError(f"safetensors tensor '{name}' ({dtype_name} {shape}) needs {count * dtype.itemsize:,} "
                          f"bytes but its data_offsets [{begin}, {end}] give {end - begin:,} in a buffer of "
                          f"{len(buffer):,}")
    ranges.append((begin, end, name))
    raw = np.frombuffer(buffer[begin:end], dtype=dtype).reshape(shape)
    if dtype_name == "BF16":  # bfloat16 is the top half of a float32
        return (raw.astype("<u4") << 16).view("<f4")
    return raw.astype(np.float32 if dtype_name == "F16" else raw.dtype.newbyteorder("="))


def write_safetensors(tensors: dict[str, np.ndarray], metadata: dict[str, str] | None = None) -> bytes:
    """The bytes of a safetensors file (tensors in key order, 8-byte aligned header as the format asks)."""
    header: dict[str, Any] = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    chunks, offset = [], 0
    for name, array in tensors.items():
        array = np.asarray(array)
        if array.dtype not in NAMES:
            raise EngineError(f"tensor '{name}' is {array.dtype}; safetensors export writes float16/32/64")
        raw = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": NAMES[array.dtype], "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(chunks)
