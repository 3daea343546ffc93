"""Save and load a network: its spec as JSON, its weights as JSON lists or .npz.

Loading never unpickles (`allow_pickle=False`), and float32 weights survive
the JSON round trip bit for bit (float32 → float64 is exact, and Python's
float repr round-trips float64).
"""

from __future__ import annotations

import io
import json
from typing import Any

import numpy as np

from engine.core.errors import EngineError
from engine.dense.trainer import Trainer

FORMAT = "glassbox-network/1"


def network_json(state: dict[str, np.ndarray], spec: dict[str, Any], step: int) -> dict[str, Any]:
    """The JSON export of a network's weights (`get_state()`), spec and step."""
    return {"format": FORMAT, "spec": spec, "weights": {k: v.tolist() for k, v in state.items()}, "step": step}


def export_json(trainer: Trainer) -> dict[str, Any]:
    return network_json(trainer.net.get_state(), trainer.spec, trainer.step_count)


def write_npz(state: dict[str, np.ndarray], meta: dict[str, Any]) -> bytes:
    """Weights as `weight:<layer.name>` arrays and `meta` (JSON: format, spec, …) as bytes; no pickles."""
    buf = io.BytesIO()
    arrays = {f"weight:{k}": v for k, v in state.items()}
    np.savez(buf, __meta__=np.frombuffer(json.dumps({"format": FORMAT, **meta}).encode(), dtype=np.uint8), **arrays)
    return buf.getvalue()


def read_npz(data: bytes, what: str = "a .npz file") -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The meta and weights that `write_npz` wrote, loaded with allow_pickle=False."""
    if not data.startswith(b"PK"):
        raise EngineError(f"not {what}: a .npz is a zip archive (export one with /export?format=npz)")
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            meta = json.loads(bytes(npz["__meta__"]).decode())
            state = {k.removeprefix("weight:"): npz[k] for k in npz.files if k.startswith("weight:")}
    except (OSError, ValueError, KeyError, json.JSONDecodeError) as exc:
        raise EngineError(f"not {what}: {exc}") from exc
    return meta, state


def export_npz(trainer: Trainer) -> bytes:
    return write_npz(trainer.net.get_state(), {"spec": trainer.spec, "step": trainer.step_count})


def import_json(doc: dict[str, Any], max_params: int | None = None) -> Trainer:
    if not isinstance(doc, dict) or "spec" not in doc or "weights" not in doc:
        raise EngineError("an exported network is an object with 'spec' and 'weights' (from /export?format=json)")
    trainer = Trainer(doc["spec"], max_params=max_params)
    try:
        state = {k: np.asarray(v, dtype=np.float64) for k, v in doc["weights"].items()}
    except (TypeError, ValueError) as exc:
        raise EngineError(f"weights must be nested lists of numbers: {exc}") from exc
    trainer.net.set_state(state)
    trainer.step_count = int(doc.get("step", 0))
    return trainer


def import_npz(data: bytes, max_params: int | None = None) -> Trainer:
    meta, state = read_npz(data)
    trainer = Trainer(meta["spec"], max_params=max_params)
    trainer.net.set_state(state)
    trainer.step_count = int(meta.get("step", 0))
    return trainer
