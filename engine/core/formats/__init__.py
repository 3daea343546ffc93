"""Network files in and out: Glassbox's own JSON and .npz, and the ecosystem's safetensors and ONNX.

`import_network(data, format)` turns any of them into a training session's `Trainer`; `export_network(...)`
writes a Sequential network in any of them. Nothing is unpickled; ONNX needs the optional `onnx` package.
"""

from __future__ import annotations

import json
from typing import Any, Literal

import numpy as np

from engine.core import serialize
from engine.core.errors import EngineError
from engine.core.formats.onnx_io import glassbox_export, load_model, read_graph, write_onnx
from engine.core.formats.safetensors_io import read_safetensors, write_safetensors
from engine.core.formats.sequential import engine_state, infer_layers, torch_state, trainer_spec
from engine.core.network import Sequential
from engine.dense.trainer import Trainer

Format = Literal["json", "npz", "onnx", "safetensors"]
FORMATS: tuple[Format, ...] = ("json", "npz", "onnx", "safetensors")
SPEC_KEY = "glassbox_spec"


def sniff(data: bytes) -> Format:
    """The format of a network file from its first bytes."""
    head = data[:16].lstrip()
    if head.startswith(b"{"):
        return "json"
    if data.startswith(b"PK"):
        return "npz"
    if len(data) >= 9 and data[8:9] == b"{":
        return "safetensors"
    if data[:1] == b"\x08":  # protobuf field 1 (ir_version), a varint: how every ONNX model starts
        return "onnx"
    raise EngineError("unknown file format: send a Glassbox export (json or npz), a safetensors file or an ONNX "
                      "model, or name it with ?format=")


def import_network(data: bytes, format: Format | None = None, hints: dict[str, str] | None = None,
                   max_params: int | None = None, name: str = "imported") -> Trainer:
    """A Trainer holding the file's network (float32 unless the file is a float64 Glassbox export)."""
    fmt = format or sniff(data)
    if fmt == "json":
        try:
            doc = json.loads(data)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise EngineError(f"the body is not valid JSON: {exc}") from None
        return serialize.import_json(doc, max_params)
    if fmt == "npz":
        return serialize.import_npz(data, max_params)
    if fmt == "safetensors":
        return _import_safetensors(data, dict(hints or {}), max_params, name)
    if fmt == "onnx":
        model = load_model(data)
        exported = glassbox_export(model)
        if exported is not None:  # a Glassbox export: its spec (features and all) and its weights by name
            return _trainer(exported[0], exported[1], max_params, torch_layout=False)
        layers, state, input_shape = read_graph(model)
        return _trainer(trainer_spec(layers, input_shape, name), state, max_params, torch_layout=False)
    raise EngineError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")


def _import_safetensors(data: bytes, hints: dict[str, str], max_params: int | None, name: str) -> Trainer:
    tensors, metadata = read_safetensors(data)
    if SPEC_KEY in metadata:  # a Glassbox export: the exact architecture
        try:
            spec = json.loads(metadata[SPEC_KEY])
        except json.JSONDecodeError as exc:
            raise EngineError(f"the file's {SPEC_KEY} metadata is not JSON: {exc}") from None
        return _trainer(spec, tensors, max_params, torch_layout=True)
    for key in ("activation", "pooling", "input_shape"):
        if key in metadata and key not in hints:
            hints[key] = metadata[key]
    layers, state, input_shape = infer_layers(tensors, hints)
    return _trainer(trainer_spec(layers, input_shape, name), state, max_params, torch_layout=True)


def _trainer(spec: dict[str, Any], state: dict[str, np.ndarray], max_params: int | None,
             torch_layout: bool) -> Trainer:
    trainer = Trainer(spec, max_params=max_params)
    if torch_layout:
        state = engine_state(trainer.net.layer_specs(), state)
    trainer.net.set_state(state)
    return trainer


def export_network(net: Sequential, spec: dict[str, Any], step: int, format: Format,
                   raw_inputs: int | None = None, trained: dict[str, Any] | None = None) -> Any:
    """json: the export dict; npz, onnx, safetensors: the file's bytes. `raw_inputs`: the width of the raw points
    a network with Playground features reads (2, or 1 for curve fitting)."""
    name = str(spec.get("name") or "network")
    if format == "json":
        return serialize.network_json(net.get_state(), spec, step, trained)
    if format == "npz":
        return serialize.write_npz(net.get_state(), {"spec": spec, "step": step, "trained_on": trained})
    if format == "safetensors":
        return write_safetensors(torch_state(net), {"format": serialize.FORMAT, SPEC_KEY: json.dumps(spec),
                                                    "step": str(step), "layout": "pytorch"})
    if format == "onnx":
        return write_onnx(net, spec, name, raw_inputs)
    raise EngineError(f"unknown format {format!r}; use one of {', '.join(FORMATS)}")
