"""Dense-network sessions: create, inspect, forward, backward, step, train, walk, edit, export."""

from __future__ import annotations

import json
import math
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Query, Request, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from engine.core import formats, serialize
from engine.core.errors import EngineError
from engine.core.network import Sequential
from engine.dense import walk as walks
from engine.dense.datasets import Dataset
from engine.dense.presets import get_preset, list_presets
from engine.dense.reconfigure import reconfigure
from engine.dense.trainer import Trainer, dataset_from_config

from ..arrays import encode
from ..budgets import check, network_cost, rows_cost
from ..errors import too_large, validation_body
from ..schemas.common import EncodingParam
from ..schemas.networks import (
    BackwardRequest,
    BackwardResult,
    Batch,
    CreateNetwork,
    DataSpec,
    ForwardRequest,
    ForwardResult,
    NetworkChange,
    NetworkExport,
    NetworkState,
    ParamPatch,
    ParamValue,
    StepResult,
    TrainRequest,
    TrainResult,
)
from ..schemas.walk import WalkRequest, WalkState
from ..settings import Settings
from ..store import Session, SessionNotFound, SessionStore
from ..work import refuse_diverged, train_until_deadline
from .deps import Config, Enc, Jobs, Store
from .sessions import add_session_routes, with_encoding

router = APIRouter(prefix="/api", tags=["networks"])
KIND = "network"



def check_limits(trainer: Trainer, settings: Settings) -> None:
    if trainer.net.num_params > settings.max_parameters:
        raise too_large("the network's parameter count", trainer.net.num_params, settings.max_parameters,
                        "max_parameters")
    if trainer.spec["batch_size"] > settings.max_batch_size:
        raise too_large("batch_size", trainer.spec["batch_size"], settings.max_batch_size, "max_batch_size")
    if trainer.data is not None and len(trainer.data.x_train) + len(trainer.data.x_test) > settings.max_data_points:
        raise too_large("the number of data points", len(trainer.data.x_train) + len(trainer.data.x_test),
                        settings.max_data_points, "max_data_points")


def check_batch(rows: list | None, settings: Settings) -> None:
    if rows is not None and len(rows) > settings.max_batch_size:
        raise too_large("the number of data points in the request", len(rows), settings.max_batch_size,
                        "max_batch_size")


def check_data_size(data: DataSpec | None, settings: Settings) -> None:
    if data is None:
        return
    n = data.num_samples or 0
    n += len(data.X or []) + len(data.X_test or [])
    if n > settings.max_data_points:
        raise too_large("the number of data points", n, settings.max_data_points, "max_data_points")


def budgeted(trainer: Trainer, data: Dataset | None, settings: Settings, store: SessionStore | None,
             session: Session | None = None) -> Trainer:
    """Check the memory and work budgets, then give the trainer its data: the network's parameters are built
    (bounded by max_parameters) and the data generated (bounded by max_data_points), but nothing has been
    evaluated or trained."""
    check(network_cost(trainer, data), settings, store, session)
    if data is not None:
        trainer.set_data(data)
    check_limits(trainer, settings)
    return trainer


def build_trainer(body: CreateNetwork, settings: Settings, store: SessionStore | None = None) -> Trainer:
    check_data_size(body.data, settings)
    if body.preset is None and body.spec is None:
        raise EngineError("give a 'preset' name (see GET /api/presets) or a 'spec'")
    if body.spec is not None:
        spec, data_cfg = body.spec.engine_spec(), None
    else:
        preset = get_preset(body.preset)  # type: ignore[arg-type]
        spec, data_cfg = preset["spec"], preset.get("data")
    if body.data is not None:
        data_cfg = body.data.model_dump(exclude_none=True)
    if spec.get("batch_size", 0) > settings.max_batch_size:
        raise too_large("batch_size", spec["batch_size"], settings.max_batch_size, "max_batch_size")
    trainer = Trainer(spec, max_params=settings.max_parameters)
    return budgeted(trainer, dataset_from_config(data_cfg), settings, store)


def held_bytes(trainer: Trainer) -> int:
    return network_cost(trainer).held


def check_rows(store: SessionStore, network_id: str, rows: list | None, settings: Settings) -> None:
    """A request's own data points: within max_batch_size, and within the session's memory and work budgets."""
    check_batch(rows, settings)
    if rows:
        check(rows_cost(store.get(network_id, KIND).obj, len(rows)), settings)


def refuse_if_diverged(trainer: Trainer, network_id: str) -> None:
    refuse_diverged(trainer, "network", f"/api/networks/{network_id}/reset")


def state_of(session: Session, encoding: EncodingParam = "json") -> dict[str, Any]:
    trainer: Trainer = session.obj
    layers = [{"index": i, "type": layer.type, "input_shape": layer.input_shape, "output_shape": layer.output_shape,
               "params": {k: list(v.shape) for k, v in layer.params.items()}}
              for i, layer in enumerate(trainer.net.layers)]
    data = None
    if trainer.data is not None:
        d = trainer.data
        data = {"name": d.name, "task": d.task, "num_train": len(d.x_train), "num_test": len(d.x_test),
                "num_classes": d.num_classes, "input_dim": d.input_dim}
    return {
        "id": session.id, "spec": trainer.spec, "layers": layers, "num_params": trainer.net.num_params,
        "params": encode(trainer.net.param_arrays(), encoding), "history": trainer.history, "step": trainer.step_count,
        "epoch": trainer.epoch, "diverged": trainer.diverged, "message": trainer.diverged_message, "data": data,
    }


@router.get("/presets", summary="List the network presets")
def presets() -> list[dict[str, str]]:
    return list_presets()


@router.post("/networks", response_model=NetworkState, status_code=201, summary="Create a network session")
def create_network(body: CreateNetwork, store: Store, settings: Config, encoding: Enc = "json") -> dict[str, Any]:
    """Build a network from a preset or a spec, with optional data, and keep it in a new session."""
    trainer = build_trainer(body, settings, store)
    if trainer.data is not None:
        trainer.record()
    session = store.add(KIND, trainer, nbytes=held_bytes(trainer))
    return state_of(session, encoding)


add_session_routes(router, "/networks/{network_id}", KIND, with_encoding(state_of), id_name="network_id",
                   response_model=NetworkState, names=("get_network", "delete_network"),
                   get_summary="A session's full state", delete_summary="Delete a session")


@router.post("/networks/{network_id}/forward", response_model=ForwardResult, summary="Forward pass with every "
             "layer's output")
def forward(network_id: str, body: ForwardRequest, store: Store, settings: Config,
            encoding: Enc = "json") -> dict[str, Any]:
    check_rows(store, network_id, body.inputs, settings)
    with store.use(network_id, KIND, changes=False) as session:
        trainer: Trainer = session.obj
        out = trainer.forward(np.asarray(body.inputs, dtype=np.float64))
        trace = trainer.net.trace
        return encode({"inputs": trace[0].input, "output": out,
                       "layers": [{"index": t.index, "type": t.type, "output": t.output} for t in trace]}, encoding)


@router.post("/networks/{network_id}/backward", response_model=BackwardResult, summary="Loss and every gradient, "
             "without updating")
def backward(network_id: str, body: BackwardRequest, store: Store, settings: Config,
             encoding: Enc = "json") -> dict[str, Any]:
    check_rows(store, network_id, body.inputs, settings)
    with store.use(network_id, KIND, changes=False) as session:
        trainer: Trainer = session.obj
        loss = trainer.backward(np.asarray(body.inputs, dtype=np.float64), np.asarray(body.targets))
        trace = trainer.net.trace
        return encode({"loss": loss, "grads": trainer.net.grad_arrays(), "input_grad": trace[0].grad_input,
                       "activation_grads": [{"index": t.index, "type": t.type, "grad_output": t.grad_output}
                                            for t in trace]}, encoding)


@router.post("/networks/{network_id}/step", response_model=StepResult, summary="One optimiser step",
             responses={409: {"description": "The step diverged, or the session had: reset it to train on"}})
def step(network_id: str, store: Store, settings: Config, body: Batch | None = None,
         encoding: Enc = "json") -> dict[str, Any]:
    """On the given batch, or (with no body) on the next mini-batch of the session's data."""
    body = body or Batch()
    check_rows(store, network_id, body.inputs, settings)
    with store.use(network_id, KIND) as session:
        trainer: Trainer = session.obj
        x = None if body.inputs is None else np.asarray(body.inputs, dtype=np.float64)
        y = None if body.targets is None else np.asarray(body.targets)
        refuse_if_diverged(trainer, network_id)
        result = trainer.step(x, y)
        return encode({"loss": result.loss, "step": result.step, "diverged": trainer.diverged,
                       "message": trainer.diverged_message, "grads": trainer.net.grad_arrays(),
                       "params": trainer.net.param_arrays()}, encoding)


def optimiser_steps(trainer: Trainer, steps: int, epochs: int) -> int:
    """What a /train request costs in optimiser steps: its steps plus epochs × batches per epoch."""
    n = len(trainer.data.x_train) if trainer.data is not None else 0
    return steps + epochs * max(1, math.ceil(n / int(trainer.spec["batch_size"])))


@router.post("/networks/{network_id}/train", response_model=TrainResult, summary="Train for steps or epochs",
             responses={409: {"description": "Training diverged (now or before): the parameters were kept from "
                                             "before this request; reset the session to train on"}})
def train(network_id: str, body: TrainRequest, request: Request, store: Store, settings: Config,
          jobs: Jobs) -> dict[str, Any]:
    """Runs `steps` mini-batch steps, then `epochs` epochs — at most max_steps_per_request optimiser steps in
    all (epochs count as their batches). It stops early, answering with what it did and `stopped`, after
    train_deadline_seconds or when the client disconnects."""
    if body.epochs > settings.max_epochs_per_request:
        raise too_large("epochs", body.epochs, settings.max_epochs_per_request, "max_epochs_per_request")
    total = optimiser_steps(store.get(network_id, KIND).obj, body.steps, body.epochs)  # before the lock
    if total > settings.max_steps_per_request:
        raise too_large("the optimiser steps of this request (steps + epochs × batches per epoch)", total,
                        settings.max_steps_per_request, "max_steps_per_request")
    with jobs.job(), store.use(network_id, KIND) as session:
        trainer: Trainer = session.obj
        refuse_if_diverged(trainer, network_id)
        start = len(trainer.history)
        # `train` steps through `data_step` (no nested chunk per step): that is where the deadline checks.
        stopped = train_until_deadline(trainer, settings.train_deadline_seconds, request,
                                       lambda: trainer.train(steps=body.steps, epochs=body.epochs),
                                       method="data_step")
        if stopped is not None and not trainer.diverged and trainer.data is not None:
            trainer.record()
        return encode({"history": trainer.history[start:], "step": trainer.step_count, "epoch": trainer.epoch,
                       "diverged": trainer.diverged, "message": trainer.diverged_message, "stopped": stopped})


@router.post("/networks/{network_id}/reset", response_model=NetworkState, summary="Fresh weights, same data")
def reset(network_id: str, store: Store, encoding: Enc = "json") -> dict[str, Any]:
    with store.use(network_id, KIND) as session:
        session.obj.reset()
        if session.obj.data is not None:
            session.obj.record()
        return state_of(session, encoding)


def walk_state(trainer: Trainer, encoding: EncodingParam) -> dict[str, Any]:
    return encode(walks.view(trainer), encoding)


@router.post("/networks/{network_id}/walk", response_model=WalkState, summary="Advance the step-by-step cursor")
def walk_advance(network_id: str, body: WalkRequest, store: Store, settings: Config,
                 encoding: Enc = "json") -> dict[str, Any]:
    """Reveal the next (or previous) stage of one training step: forward layer 1 … L, loss,
    backward layer L … 1, update. Past the update stage, `next` starts the next step on the same data points
    (or on `inputs`/`targets` when given). With `to`, jump straight to that stage of the current step
    (`to: -1` starts a walk without revealing anything). Each stage is one of the typed records of the
    `kind` union (forward_layer, forward_neuron, loss, backward_layer, backward_neuron, update)."""
    check_rows(store, network_id, body.inputs, settings)
    with store.use(network_id, KIND) as session:
        trainer: Trainer = session.obj
        walks.advance(trainer, body.granularity, body.action, body.to,
                      None if body.inputs is None else np.asarray(body.inputs, dtype=np.float64),
                      None if body.targets is None else np.asarray(body.targets))
        return walk_state(trainer, encoding)


@router.get("/networks/{network_id}/walk", response_model=WalkState, summary="Where the cursor stands")
def walk_get(network_id: str, store: Store, encoding: Enc = "json") -> dict[str, Any]:
    with store.use(network_id, KIND, changes=False) as session:
        return walk_state(session.obj, encoding)


@router.delete("/networks/{network_id}/walk", response_model=WalkState, summary="Reset the cursor")
def walk_reset(network_id: str, store: Store, encoding: Enc = "json") -> dict[str, Any]:
    """Undo a revealed-but-unfinished step (its update, if shown) and forget the walk."""
    with store.use(network_id, KIND) as session:
        walks.forget(session.obj)
        return walk_state(session.obj, encoding)


@router.patch("/networks/{network_id}", response_model=NetworkState, summary="Change activations, loss, learning "
              "rate, batch size or data, keeping the weights")
def change_network(network_id: str, body: NetworkChange, store: Store, settings: Config,
                   encoding: Enc = "json") -> dict[str, Any]:
    """For dense networks: rebuild with the given changes and the same weights (a walk in progress is dropped
    and its step undone). The session id stays; the metrics history restarts under the new loss."""
    check_data_size(body.data, settings)
    if body.batch_size is not None and body.batch_size > settings.max_batch_size:
        raise too_large("batch_size", body.batch_size, settings.max_batch_size, "max_batch_size")
    with store.use(network_id, KIND) as session:
        old: Trainer = session.obj
        trainer = reconfigure(old, activation=body.activation, output_activation=body.output_activation,
                              loss=body.loss, learning_rate=body.learning_rate, batch_size=body.batch_size,
                              dtype=body.dtype, state=walks.starting_state(old))
        data = dataset_from_config(body.data.model_dump(exclude_none=True)) if body.data is not None else None
        budgeted(trainer, data if data is not None else trainer.data, settings, store, session)
        if trainer.data is not None:
            trainer.record()
        session.obj = trainer
        store.resize(session, held_bytes(trainer))
        return state_of(session, encoding)


@router.patch("/networks/{network_id}/params", response_model=ParamValue, summary="Set one weight or bias")
def patch_param(network_id: str, body: ParamPatch, store: Store) -> dict[str, Any]:
    with store.use(network_id, KIND) as session:
        trainer: Trainer = session.obj
        walks.undo_unfinished(trainer)
        value = trainer.set_param(body.layer, body.name, body.index, body.value)
        return {"layer": body.layer, "name": body.name, "index": body.index, "value": value}


EXPORT_TYPES = {"json": "application/json", "npz": "application/octet-stream", "onnx": "application/onnx",
                "safetensors": "application/octet-stream"}


def exportable(store: SessionStore, session_id: str) -> tuple[Sequential, dict[str, Any], int, int | None,
                                                               dict[str, Any] | None]:
    """The network, spec, step, raw input width (None: the network's own) and what it was trained on (None:
    not said) of a network or LeNet session."""
    try:
        with store.use(session_id, KIND, changes=False) as session:
            trainer: Trainer = session.obj
            raw = trainer.data.input_dim if trainer.data is not None else None
            return trainer.net.clone(), trainer.spec, trainer.step_count, raw, serialize.trained_on(trainer)
    except SessionNotFound:
        try:
            with store.use(session_id, "lenet", changes=False) as session:
                model = session.obj.training.model
                return model.net.clone(), model.spec(), int(session.obj.training.step_count), None, None
        except SessionNotFound:
            pass
        raise


@router.get("/networks/{network_id}/export", summary="Download the network: Glassbox json/npz, ONNX or safetensors",
            responses={200: {"content": {t: {} for t in sorted(set(EXPORT_TYPES.values()))}}})
def export(network_id: str, store: Store,
           format: Annotated[str, Query(pattern="^(json|npz|onnx|safetensors)$",
                                        description="json or npz (Glassbox's own, spec + weights); onnx (opset 17, "
                                                    "input 'input' (the raw points when the network reads "
                                                    "Playground features: the graph computes them), output "
                                                    "'output'; needs the formats extra); "
                                                    "safetensors (PyTorch's nn.Sequential layout, the spec in the "
                                                    "metadata)")] = "json") -> Response:
    """Any network session (dense or convolutional, Playground or imported) or LeNet training session, so a model
    trained here runs in other tools. A layer with no ONNX operator (the step activation) answers 422."""
    net, spec, step, raw, trained = exportable(store, network_id)
    name = spec.get("name") or "network"
    data = formats.export_network(net, spec, step, format, raw, trained)  # type: ignore[arg-type]
    if format == "json":
        data = json.dumps(data).encode()
    return Response(data, media_type=EXPORT_TYPES[format],
                    headers={"Content-Disposition": f'attachment; filename="{name}.{format}"'})


@router.post("/networks/import", response_model=NetworkState, status_code=201,
             summary="Load a network file: a Glassbox export, safetensors or ONNX",
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/json": {"schema": {"type": "object", "description": "An export (format=json), "
                                                 "optionally with 'data' as in POST /api/networks"}},
                 "application/octet-stream": {"schema": {"type": "string", "format": "binary",
                                                         "description": "npz, safetensors or ONNX bytes"}}}}})
async def import_network(
    request: Request, store: Store, settings: Config, encoding: Enc = "json",
    format: Annotated[str | None, Query(pattern="^(json|npz|onnx|safetensors)$",
                                        description="The file's format (default: told from its first bytes)")] = None,
    activation: Annotated[str | None, Query(description="safetensors without a Glassbox spec: the activation "
                                                        "between weighted layers (relu, tanh, sigmoid)")] = None,
    pooling: Annotated[str | None, Query(description="safetensors without a Glassbox spec: max or avg 2×2 "
                                                     "pooling after a convolution")] = None,
    input_shape: Annotated[str | None, Query(description="safetensors without a Glassbox spec: the input's shape, "
                                                         "e.g. 1,28,28 (default: 28×28 images for a convolution "
                                                         "first, else the first layer's inputs)")] = None,
) -> dict[str, Any]:
    """Glassbox's json and npz exports get the same checks as creating a network (the spec's schema, the size
    limits, the memory and work budgets; an .npz's weights are checked against the spec's shapes before anything
    is decompressed). A sequential network of the engine's layers from elsewhere becomes a network session
    (float32): ONNX (Gemm or MatMul+Add, Conv, MaxPool/AveragePool, Flatten/Reshape, Relu/Tanh/Sigmoid/Softmax;
    anything else is refused with a 422 naming the first unsupported operator), or safetensors (no pickle: a
    Glassbox export, or a PyTorch `nn.Sequential` state dict, whose parameter-free layers are read from the gaps
    in its numbering, see the hints). A 1×28×28 → 10 network also reads digits on the LeNet page
    (`/lenet?session={id}`). The body's size limit is max_upload_bytes."""
    body = await request.body()  # the middleware has counted it against max_upload_bytes
    is_json = "json" in request.headers.get("content-type", "")
    hints = {k: v for k, v in {"activation": activation, "pooling": pooling, "input_shape": input_shape}.items()
             if v is not None}

    def load() -> dict[str, Any]:
        fmt = format or ("json" if is_json else formats.sniff(body))
        if fmt in ("onnx", "safetensors"):
            trainer = formats.import_network(body, fmt, hints, settings.max_parameters)  # type: ignore[arg-type]
            budgeted(trainer, None, settings, store)
            return state_of(store.add(KIND, trainer, nbytes=held_bytes(trainer)), encoding)
        if fmt == "json":
            try:
                doc = json.loads(body.decode("utf-8"))
            except UnicodeDecodeError:
                raise EngineError("the body is not UTF-8 text; send the JSON file /export?format=json gave") from None
            except json.JSONDecodeError as exc:
                raise EngineError(f"the body is not valid JSON ({exc.msg} at character {exc.pos}); send the file "
                                  "/export?format=json gave") from None
            export = validated(doc, "")
            if export.weights is None:
                raise EngineError("an exported network has 'weights' (from /export?format=json)")
            weights, step = export.weights, export.step
            archive = None
        else:
            meta, archive = serialize.open_npz(body)
            export = validated(meta, "the .npz's metadata: ")
            weights, step = None, export.step
        spec = export.spec.engine_spec()
        if spec.get("batch_size", 0) > settings.max_batch_size:
            raise too_large("batch_size", spec["batch_size"], settings.max_batch_size, "max_batch_size")
        trainer = Trainer(spec, max_params=settings.max_parameters)
        if archive is not None:
            trainer.net.set_state(serialize.read_weights(archive, serialize.network_shapes(trainer)))
            trainer.step_count = step
        else:
            serialize.load_weights(trainer, weights, step)
        data = dataset_from_config(export.data.model_dump(exclude_none=True)) if export.data is not None else None
        budgeted(trainer, data, settings, store)
        if trainer.data is not None:
            trainer.record()
        return state_of(store.add(KIND, trainer, nbytes=held_bytes(trainer)), encoding)

    return await run_in_threadpool(load)


def validated(doc: Any, where: str) -> NetworkExport:
    """An export checked by the creation schemas (NetworkSpec, DataSpec): an import is held to the same limits."""
    if not isinstance(doc, dict):
        raise EngineError(f"{where}an exported network is a JSON object with 'spec' and 'weights', got "
                          f"{type(doc).__name__}")
    try:
        return NetworkExport.model_validate(doc)
    except ValidationError as exc:
        raise EngineError(where + validation_body(list(exc.errors()))["detail"]) from None
