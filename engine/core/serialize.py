"""Save and load a network: its spec as JSON, its weights as JSON lists or .npz.

Loading never unpickles (`allow_pickle=False`), and float32 weights survive
the JSON round trip bit for bit (float32 → float64 is exact, and Python's
float repr round-trips float64).

A .npz is a zip archive, and an upload may be hostile: a small file can declare members of gigabytes (a zip
bomb) or `.npy` headers with absurd shapes. `open_npz` reads only the archive's directory and the small
metadata member; `read_weights` compares every member's declared size and its `.npy` header's shape and dtype
with the shapes the network expects before decompressing anything, and reads at most that many bytes.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Mapping
from typing import Any

import numpy as np

from engine.core.errors import EngineError
from engine.dense.trainer import Trainer

FORMAT = "glassbox-network/1"
META_MEMBER = "__meta__.npy"
MAX_META_BYTES = 1024 * 1024
NPY_HEADER_BYTES = 4096  # a .npy header is at most this long for any shape we accept
WEIGHT_KINDS = "fiu"  # float, signed and unsigned integer weights are accepted (and cast); nothing else


def trained_on(trainer: Trainer) -> dict[str, Any] | None:
    """What the weights were trained on, for the reader of an export (importing never uses it): a toy data
    set's name, noise, split and seed, or {"name": "custom"} for points given by hand or as a CSV file."""
    data = trainer.data
    if data is None:
        return None
    return {"name": data.name, "task": data.task, **data.source}


def network_json(state: dict[str, np.ndarray], spec: dict[str, Any], step: int,
                 trained: dict[str, Any] | None = None) -> dict[str, Any]:
    """The JSON export of a network's weights (`get_state()`), spec, step and what it was trained on."""
    return {"format": FORMAT, "spec": spec, "weights": {k: v.tolist() for k, v in state.items()}, "step": step,
            "trained_on": trained}


def export_json(trainer: Trainer) -> dict[str, Any]:
    return network_json(trainer.net.get_state(), trainer.spec, trainer.step_count, trained_on(trainer))


def write_npz(state: dict[str, np.ndarray], meta: dict[str, Any]) -> bytes:
    """Weights as `weight:<layer.name>` arrays and `meta` (JSON: format, spec, …) as bytes; no pickles."""
    buf = io.BytesIO()
    header = np.frombuffer(json.dumps({"format": FORMAT, **meta}).encode(), dtype=np.uint8)
    members: dict[str, Any] = {"__meta__": header, **{f"weight:{k}": v for k, v in state.items()}}
    np.savez(buf, **members)
    return buf.getvalue()


def open_npz(data: bytes, what: str = "a .npz file") -> tuple[dict[str, Any], zipfile.ZipFile]:
    """The metadata `write_npz` wrote (a JSON object) and the open archive, without decompressing any weights."""
    hint = "export one with /export?format=npz"
    if not data.startswith(b"PK"):
        raise EngineError(f"not {what}: a .npz is a zip archive ({hint})")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        info = archive.getinfo(META_MEMBER)
    except KeyError:
        raise EngineError(f"not {what}: the archive has no {META_MEMBER} member with the network's spec "
                          f"({hint})") from None
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise EngineError(f"not {what}: the zip archive is damaged ({exc}; {hint})") from None
    if info.file_size > MAX_META_BYTES:
        raise EngineError(f"not {what}: its metadata member declares {info.file_size:,} bytes, more than "
                          f"{MAX_META_BYTES:,}")
    raw = _read_member(archive, info, MAX_META_BYTES, what)
    meta_bytes = _npy_array(raw, what, META_MEMBER)
    if meta_bytes.dtype != np.uint8 or meta_bytes.ndim != 1:
        raise EngineError(f"not {what}: {META_MEMBER} must hold JSON bytes (uint8), not {meta_bytes.dtype}")
    try:
        meta = json.loads(meta_bytes.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EngineError(f"not {what}: its metadata is not JSON ({exc})") from None
    if not isinstance(meta, dict):
        raise EngineError(f"not {what}: its metadata must be a JSON object with 'spec', got {type(meta).__name__}")
    return meta, archive


def read_weights(archive: zipfile.ZipFile, expected: Mapping[str, tuple[int, ...]],
                 what: str = "a .npz file") -> dict[str, np.ndarray]:
    """Every `weight:<name>` member, checked against `expected` (name → shape) before it is decompressed: its
    declared size, then its `.npy` header's shape and dtype; at most the expected number of bytes is read."""
    names = {n.removesuffix(".npy").removeprefix("weight:"): n for n in archive.namelist()
             if n.startswith("weight:")}
    missing, extra = sorted(set(expected) - set(names)), sorted(set(names) - set(expected))
    if missing or extra:
        raise EngineError(f"the weights in {what} do not match its spec: missing {missing}, unexpected {extra}")
    state = {}
    for key, shape in expected.items():
        info = archive.getinfo(names[key])
        limit = NPY_HEADER_BYTES + 8 * int(np.prod(shape, dtype=np.int64))
        if info.file_size > limit:
            raise EngineError(f"weight '{key}' in {what} declares {info.file_size:,} bytes; its shape {list(shape)} "
                              f"needs at most {limit:,}")
        with archive.open(info) as member:
            header_shape, dtype = _npy_header(member, what, key)
        if header_shape != tuple(shape):
            raise EngineError(f"weight '{key}' in {what} has shape {list(header_shape)}, expected {list(shape)}")
        if dtype.kind not in WEIGHT_KINDS or dtype.itemsize > 8:
            raise EngineError(f"weight '{key}' in {what} is {dtype}; weights are numbers (float32 or float64)")
        state[key] = _npy_array(_read_member(archive, info, limit, what), what, key)
    return state


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int, what: str) -> bytes:
    try:
        with archive.open(info) as member:
            raw = member.read(limit + 1)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
        raise EngineError(f"{info.filename} in {what} cannot be read ({exc})") from None
    if len(raw) > limit:
        raise EngineError(f"{info.filename} in {what} is larger than its declared size")
    return raw


def _npy_header(stream: Any, what: str, key: str) -> tuple[tuple[int, ...], np.dtype]:
    """The shape and dtype a .npy stream declares (reads only its header)."""
    try:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(stream, max_header_size=NPY_HEADER_BYTES)
        elif version == (2, 0):
            shape, _, dtype = np.lib.format.read_array_header_2_0(stream, max_header_size=NPY_HEADER_BYTES)
        else:
            raise ValueError(f".npy format version {version} is not supported; save with NumPy's defaults")
    except (ValueError, OSError, EOFError, SyntaxError, zipfile.BadZipFile) as exc:
        raise EngineError(f"'{key}' in {what} is not a .npy array ({exc})") from None
    if dtype.hasobject:
        raise EngineError(f"'{key}' in {what} holds Python objects; only numbers are accepted")
    return tuple(int(n) for n in shape), dtype


def _npy_array(raw: bytes, what: str, key: str) -> np.ndarray:
    try:
        return np.load(io.BytesIO(raw), allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        reason = "it holds Python objects" if "pickle" in str(exc) else "its data does not match its header"
        raise EngineError(f"'{key}' in {what} is not a .npy array of numbers ({reason})") from None


def read_npz(data: bytes, what: str = "a .npz file",
             expected: Mapping[str, tuple[int, ...]] | None = None) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The meta and weights that `write_npz` wrote, loaded with allow_pickle=False. With `expected` (name →
    shape) every weight is checked before it is decompressed; without it (trusted files, such as the shipped
    weights) the members' own headers are believed."""
    meta, archive = open_npz(data, what)
    if expected is None:
        expected = {}
        for name in archive.namelist():
            if name.startswith("weight:"):
                with archive.open(name) as member:
                    expected[name.removesuffix(".npy").removeprefix("weight:")] = _npy_header(member, what, name)[0]
    return meta, read_weights(archive, expected, what)


def network_shapes(trainer: Trainer) -> dict[str, tuple[int, ...]]:
    return {k: tuple(v.shape) for k, v in trainer.net.param_arrays().items()}


def load_weights(trainer: Trainer, weights: Any, step: Any = 0) -> None:
    """JSON weights (name → nested lists) into a built network, shapes checked before any array is made."""
    if not isinstance(weights, dict):
        raise EngineError(f"'weights' must be an object (parameter name → nested lists), got "
                          f"{type(weights).__name__}")
    expected = network_shapes(trainer)
    missing, extra = sorted(set(expected) - set(weights)), sorted(set(weights) - set(expected))
    if missing or extra:
        raise EngineError(f"weights do not match the network: missing {missing}, unexpected {extra}")
    state = {}
    for key, shape in expected.items():
        try:  # the document is no bigger than the upload limit, so neither is this array
            value = np.asarray(weights[key], dtype=np.float64)
        except (TypeError, ValueError):
            raise EngineError(f"weight '{key}' must be nested lists of numbers with rows of equal length, "
                              f"shaped {list(shape)}") from None
        if value.shape != shape:
            raise EngineError(f"weight '{key}' has shape {list(value.shape)}, expected {list(shape)}")
        state[key] = value
    trainer.net.set_state(state)
    trainer.step_count = _step(step)


def _step(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise EngineError(f"'step' must be a whole number >= 0, got {value!r}")
    return value


def export_npz(trainer: Trainer) -> bytes:
    return write_npz(trainer.net.get_state(),
                     {"spec": trainer.spec, "step": trainer.step_count, "trained_on": trained_on(trainer)})


def check_document(doc: Any, what: str = "an exported network") -> dict[str, Any]:
    if not isinstance(doc, dict) or not isinstance(doc.get("spec"), dict):
        raise EngineError(f"{what} is an object with 'spec' (an object) and 'weights' (from /export)")
    return doc


def import_json(doc: dict[str, Any], max_params: int | None = None) -> Trainer:
    doc = check_document(doc)
    if "weights" not in doc:
        raise EngineError("an exported network is an object with 'spec' and 'weights' (from /export?format=json)")
    trainer = Trainer(doc["spec"], max_params=max_params)
    load_weights(trainer, doc["weights"], doc.get("step", 0))
    return trainer


def import_npz(data: bytes, max_params: int | None = None) -> Trainer:
    meta, archive = open_npz(data)
    meta = check_document(meta, "the .npz's metadata")
    trainer = Trainer(meta["spec"], max_params=max_params)
    trainer.net.set_state(read_weights(archive, network_shapes(trainer)))
    trainer.step_count = _step(meta.get("step", 0))
    return trainer
