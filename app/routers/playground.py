"""The Playground: its page, its configuration API, data editing, and the live WebSocket of a network session.

A Playground is an ordinary network session (so /api/networks/{id}/export, /forward, /params … work on it)
built from a Playground configuration. The data routes and /ws/networks/{id} work on any network session
whose data they fit.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Body, Depends, Query, Request, WebSocket
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from engine import playground as pg
from engine.datasets import CURVE_FORMULAS, DATASETS, make_dataset
from engine.errors import EngineError
from engine.features import FEATURES, ONE_D_FEATURES
from engine.neuron_maps import NeuronMaps
from engine.playground_frame import maps_for, playground_frame
from engine.points import add_point, parse_points_csv, remove_point
from engine.trainer import Trainer, dataset_from_config

from ..arrays import encode
from ..deps import get_store, settings_of
from ..errors import too_large
from ..live import LiveHandlers, reject, stream
from ..pages import render
from ..schemas.common import EncodingParam
from ..schemas.networks import DataSpec
from ..schemas.playground import (
    Catalog,
    DataPoints,
    Frame,
    GalleryResult,
    Hyperparameters,
    HyperparameterState,
    NewPoint,
    PlaygroundConfig,
    PlaygroundState,
    PointEdit,
)
from ..settings import Settings
from ..store import Session, SessionNotFound, SessionStore
from .networks import KIND, check_limits

PAGE = {"path": "/playground", "title": "Playground", "order": 2,
        "blurb": "Train small networks live on toy data: every neuron's map, the weights and their gradients, "
                 "loss curves, editable weights — TensorFlow Playground, computed by the NumPy engine."}

router = APIRouter(tags=["playground"])
Store = Annotated[SessionStore, Depends(get_store)]
Config = Annotated[Settings, Depends(settings_of)]
Enc = Annotated[EncodingParam, Query(description="json: nested lists; base64: {dtype, shape, data} per array")]


@router.get("/playground", response_class=HTMLResponse, include_in_schema=False)
def page(request: Request) -> HTMLResponse:
    return render(request, "playground.html", title="Playground")


# --- catalogue and gallery ------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def catalog_document() -> dict[str, Any]:
    datasets = []
    for name, (_, task, _) in DATASETS.items():
        curve = pg.is_curve(name)
        preview = make_dataset(name, seed=0, train_ratio=0.9, num_samples=120 if curve else 240)
        x = np.concatenate([preview.x_train, preview.x_test])
        y = np.concatenate([preview.y_train, preview.y_test]).astype(np.float64)
        datasets.append({"name": name, "title": pg.TITLES[name], "task": task, "kind": "curve" if curve else "plane",
                         "formula": CURVE_FORMULAS.get(name), "preview": {"x": x, "y": y}})
    plane = NeuronMaps(list(FEATURES), 2, np.dtype(np.float32)).feature_maps()
    line = NeuronMaps(list(ONE_D_FEATURES), 1, np.dtype(np.float32))
    curves = dict(zip(ONE_D_FEATURES, line.feature_maps(), strict=True))
    features = [{"name": name, "label": label, "map": plane[i], "curve": curves.get(name)}
                for i, (name, (label, _)) in enumerate(FEATURES.items())]
    choices = {"learning_rates": pg.LEARNING_RATES, "reg_rates": pg.REG_RATES,
               "activations": pg.HIDDEN_ACTIVATIONS, "losses": pg.LOSSES, "optimizers": pg.OPTIMIZERS,
               "regularizations": pg.REGULARIZATIONS, "max_hidden_layers": pg.MAX_HIDDEN_LAYERS,
               "max_neurons": pg.MAX_NEURONS, "max_batch_size": pg.MAX_BATCH_SIZE,
               "one_d_features": ONE_D_FEATURES}
    gallery = [{"name": name, "title": f"{pg.TITLES[c['dataset']]}, {c['hidden'][0]} neurons",
                "description": f"One hidden layer of {c['hidden'][0]} tanh neurons", "config": c}
               for name, c in pg.GALLERY.items()]
    return encode({"datasets": datasets, "features": features, "axis": line.axis, "choices": choices,
                   "defaults": pg.DEFAULT_CONFIG, "gallery": gallery}, "base64")


@router.get("/api/playground/catalog", response_model=Catalog, summary="Data sets, features and choices",
            description="Everything the page's pickers show: each data set with a small preview, each input "
                        "feature over the plane, the allowed values of every setting, the defaults and the "
                        "universal-approximation gallery.")
def catalog() -> dict[str, Any]:
    return catalog_document()


_gallery_lock = threading.Lock()
_gallery_results: dict[str, dict[str, Any]] = {}


def gallery_result(name: str) -> dict[str, Any]:
    """Train a gallery preset (deterministic: fixed seeds) once per process and keep its picture."""
    with _gallery_lock:
        if name not in _gallery_results:
            _gallery_results[name] = {"name": name, **pg.train_gallery_preset(name)}
        return _gallery_results[name]


@router.get("/api/playground/gallery/{name}", response_model=GalleryResult,
            summary="A universal-approximation preset, trained")
def gallery(name: str, encoding: Enc = "base64") -> dict[str, Any]:
    """The preset trained for a fixed number of epochs (once per server; later calls are instant)."""
    if name not in pg.GALLERY:
        raise SessionNotFound(f"no gallery preset '{name}'; use one of: {', '.join(pg.GALLERY)}")
    return encode(gallery_result(name), encoding)


# --- sessions from a configuration ---------------------------------------------------------------------


def kind_of(input_dim: int) -> str:
    return "curve" if input_dim == 1 else "plane"


def bump(session: Session) -> int:
    session.extra["revision"] = session.extra.get("revision", 0) + 1
    return session.extra["revision"]


def playground_state(session: Session) -> dict[str, Any]:
    trainer: Trainer = session.obj
    config = pg.config_from_trainer(trainer)
    data = require_data(trainer)
    return {
        "id": session.id, "config": config, "revision": session.extra.get("revision", 0),
        "layout": [int(trainer.net.input_shape[0]), *(u for u in pg_units(trainer))],
        "num_params": trainer.net.num_params,
        "data": {"name": data.name, "task": data.task, "kind": kind_of(data.input_dim), "num_train": len(data.x_train),
                 "num_test": len(data.x_test), "num_classes": data.num_classes, "source": data.source},
        "step": trainer.step_count, "epoch": trainer.epoch, "diverged": trainer.diverged,
        "message": trainer.diverged_message, "history": trainer.history,
    }


def pg_units(trainer: Trainer) -> list[int]:
    return [layer.out_features for layer in trainer.net.layers if layer.type == "dense"]  # type: ignore[attr-defined]


def build_from_config(config: dict[str, Any], settings: Settings, data: Any = None) -> Trainer:
    config = pg.normalize_config(config)
    trainer = Trainer(pg.spec_from_config(config), max_params=settings.max_parameters)
    trainer.set_data(data if data is not None else dataset_from_config(pg.data_config(config)))
    check_limits(trainer, settings)
    trainer.record()
    return trainer


@router.post("/api/playground", response_model=PlaygroundState, status_code=201,
             summary="Create a Playground network session from a configuration")
def create_playground(store: Store, settings: Config,
                      body: Annotated[PlaygroundConfig | None, Body()] = None) -> dict[str, Any]:
    """The output layer and loss follow from the data set (see PlaygroundConfig). The session is a network
    session: train it over /ws/networks/{id} or /api/networks/{id}/train, export it, edit its weights."""
    config = (body or PlaygroundConfig()).model_dump()
    trainer = build_from_config(config, settings)
    session = store.add(KIND, trainer)
    return playground_state(session)


@router.get("/api/playground/{network_id}", response_model=PlaygroundState,
            summary="A network session seen as a Playground configuration")
def get_playground(network_id: str, store: Store) -> dict[str, Any]:
    """Works for any Playground-shaped network, also one imported with POST /api/networks/import."""
    session = store.get(network_id, KIND)
    with session.lock:
        return playground_state(session)


@router.put("/api/playground/{network_id}", response_model=PlaygroundState,
            summary="Rebuild the session's network from a configuration (fresh weights)")
def rebuild_playground(
        network_id: str, body: PlaygroundConfig, store: Store, settings: Config,
        keep_points: Annotated[bool, Query(description="Keep the session's points (hand edits, an uploaded CSV) when "
                                                       "they suit the configuration; false: generate its data set")]
        = True) -> dict[str, Any]:
    """New weights from the seed, as TensorFlow Playground resets on every change but the learning rate.
    The points are kept (with any hand-made edits) when the data fields are unchanged and still fit, and
    uploaded points while `keep_points` holds; otherwise the configuration's data set is generated."""
    session = store.get(network_id, KIND)
    config = pg.normalize_config(body.model_dump())
    with session.lock:
        old: Trainer = session.obj
        keep = None
        if old.data is not None and keep_points:
            source = dict(old.data.source)
            same = source.get("name") == "custom" or all(
                source.get(k) == v for k, v in pg.data_config(config).items())
            if same and kind_of(old.data.input_dim) == kind_of(1 if pg.is_curve(config["dataset"]) else 2) and (
                    old.data.task == pg.task_of(config["dataset"])):
                keep = old.data
        session.obj = build_from_config(config, settings, keep)
        bump(session)
        return playground_state(session)


@router.patch("/api/networks/{network_id}/config", response_model=HyperparameterState,
              summary="Change training settings, keeping the weights")
def patch_config(network_id: str, body: Hyperparameters, store: Store, settings: Config) -> dict[str, Any]:
    """Learning rate, batch size, optimiser, regularisation: applied at the next step. Lowering the learning
    rate of a diverged network lets it train on from its last finite parameters."""
    if body.batch_size is not None and body.batch_size > settings.max_batch_size:
        raise too_large("batch_size", body.batch_size, settings.max_batch_size, "max_batch_size")
    session = store.get(network_id, KIND)
    with session.lock:
        trainer: Trainer = session.obj
        trainer.update_hyperparameters(**body.model_dump(exclude_none=True))
        return {"optimizer": trainer.optimizer.config(), "batch_size": trainer.spec["batch_size"],
                "diverged": trainer.diverged}


# --- data -----------------------------------------------------------------------------------------------


def require_data(trainer: Trainer) -> Any:
    if trainer.data is None:
        raise EngineError("this session has no data; give it some with PUT /api/networks/{id}/data")
    return trainer.data


def replace_data(session: Session, data: Any, settings: Settings) -> None:
    """Put new points under the same weights (the epoch counter and history go on)."""
    trainer: Trainer = session.obj
    if trainer.spec.get("features"):
        pg.check_data_fits(trainer, data.task, data.input_dim)
    if len(data.x_train) + len(data.x_test) > settings.max_data_points:
        raise too_large("the number of data points", len(data.x_train) + len(data.x_test), settings.max_data_points,
                        "max_data_points")
    trainer.set_data(data)
    trainer.record()
    bump(session)


@router.get("/api/networks/{network_id}/data", response_model=DataPoints, summary="The session's data points")
def get_points(network_id: str, store: Store, encoding: Enc = "json") -> dict[str, Any]:
    session = store.get(network_id, KIND)
    with session.lock:
        data = require_data(session.obj)
        return encode({"task": data.task, "kind": kind_of(data.input_dim), "num_classes": data.num_classes,
                       "train": {"x": data.x_train, "y": np.asarray(data.y_train, dtype=np.float64)},
                       "test": {"x": data.x_test, "y": np.asarray(data.y_test, dtype=np.float64)},
                       "source": data.source}, encoding)


@router.put("/api/networks/{network_id}/data", response_model=PointEdit,
            summary="Replace the data, keeping the weights (\"regenerate\")")
def put_data(network_id: str, body: DataSpec, store: Store, settings: Config) -> dict[str, Any]:
    """A named toy set (new seed = TensorFlow Playground's "regenerate") or explicit points."""
    session = store.get(network_id, KIND)
    with session.lock:
        data = dataset_from_config(body.model_dump(exclude_none=True))
        replace_data(session, data, settings)
        return {"removed": None, "num_train": len(data.x_train), "num_test": len(data.x_test),
                "revision": session.extra["revision"]}


@router.post("/api/networks/{network_id}/data/points", response_model=PointEdit, status_code=201,
             summary="Add one data point")
def post_point(network_id: str, body: NewPoint, store: Store, settings: Config) -> dict[str, Any]:
    session = store.get(network_id, KIND)
    with session.lock:
        data = add_point(require_data(session.obj), body.point, body.label, body.split)
        replace_data(session, data, settings)
        return {"removed": None, "num_train": len(data.x_train), "num_test": len(data.x_test),
                "revision": session.extra["revision"]}


@router.delete("/api/networks/{network_id}/data/points", response_model=PointEdit,
               summary="Remove the data point nearest to a position")
def delete_point(network_id: str, store: Store, settings: Config,
                 x1: Annotated[float, Query(description="Position, first coordinate (x for curves)")],
                 x2: Annotated[float | None, Query(description="Second coordinate (2-D data)")] = None,
                 radius: Annotated[float, Query(gt=0, le=12, description="Only a point this close is removed")] = 0.5,
                 ) -> dict[str, Any]:
    session = store.get(network_id, KIND)
    with session.lock:
        data = require_data(session.obj)
        at = [x1] if data.input_dim == 1 else [x1, x2 if x2 is not None else float("nan")]
        new, removed = remove_point(data, at, radius)
        if removed is not None:
            replace_data(session, new, settings)
        return {"removed": removed, "num_train": len(new.x_train), "num_test": len(new.x_test),
                "revision": session.extra.get("revision", 0)}


@router.put("/api/networks/{network_id}/data/csv", response_model=PointEdit, summary="Upload points as CSV",
            openapi_extra={"requestBody": {"required": True, "content": {"text/csv": {"schema": {
                "type": "string", "example": "x1,x2,label\n1.5,2.0,1\n-3.0,0.5,0\n"}}}}})
async def put_csv(network_id: str, request: Request, store: Store, settings: Config,
                  train_ratio: Annotated[float, Query(ge=0.1, le=0.9, description="Share used for training")] = 0.5,
                  seed: Annotated[int, Query(ge=0, le=2**32 - 1, description="Seed of the shuffle")] = 0,
                  ) -> dict[str, Any]:
    """Rows `x1,x2,label` (or `x,y` for curve data), an optional header. Labels must suit the session's
    current data: 0/1 (or −1/+1) for two classes, 0–2 for three, any number for regression. A malformed
    file is refused with the line at fault, and nothing changes."""
    raw = await request.body()
    if len(raw) > 2_000_000:
        raise too_large("the CSV file (bytes)", len(raw), 2_000_000, "max_data_points")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise EngineError("the file is not UTF-8 text; save it as a plain CSV") from exc
    session = store.get(network_id, KIND)

    def load() -> dict[str, Any]:
        with session.lock:
            current = require_data(session.obj)
            data = parse_points_csv(text, task=current.task, input_dim=current.input_dim, train_ratio=train_ratio,
                                    seed=seed, max_points=settings.max_data_points)
            replace_data(session, data, settings)
            return {"removed": None, "num_train": len(data.x_train), "num_test": len(data.x_test),
                    "revision": session.extra["revision"]}

    return await run_in_threadpool(load)


# --- frames ---------------------------------------------------------------------------------------------


def frame_of(session: Session, focus: tuple[int, int] | None = None) -> dict[str, Any]:
    """The current frame, arrays still NumPy (the caller encodes them)."""
    trainer: Trainer = session.obj
    maps = maps_for(trainer, session.extra.get("maps"))
    session.extra["maps"] = maps
    frame = playground_frame(trainer, maps, focus)
    frame["revision"] = session.extra.get("revision", 0)
    return frame


@router.get("/api/playground/{network_id}/frame", response_model=Frame,
            summary="The frame the live stream would send now")
def get_frame(network_id: str, store: Store,
              focus_layer: Annotated[int | None, Query(ge=1, description="Dense layer (from 1) to focus")] = None,
              focus_index: Annotated[int, Query(ge=0, description="Neuron in that layer")] = 0) -> dict[str, Any]:
    """**Live training over the WebSocket `/ws/networks/{id}`** (OpenAPI cannot describe WebSockets, so here):

    - send `{"type": "play"}` / `{"type": "pause"}`: train between frames, one epoch per frame, at most
      `GLASSBOX_MAX_FRAMES_PER_SECOND` (60) frames a second;
    - `{"type": "step", "unit": "frame"}` one epoch, `"unit": "batch"` one mini-batch (pauses);
    - `{"type": "config", "learning_rate": 0.1, "batch_size": 20, "optimizer": "adam", "regularization": "l2",
      "reg_rate": 0.001, "focus": [layer, index] | null}`: settings that keep the weights, and which neuron's
      map comes at full resolution in `focus` (layer 0 = the input features);
    - `{"type": "frame"}`: send the current frame without training.

    The server answers with frames — this response plus `type: "frame"`, `playing`, `dropped` (frames a slow
    client missed: only the latest waits, never a queue) and `history: {from, entries}` (truncate your copy of
    the metrics history to `from`, then append `entries`; no entry is lost with a dropped frame) — and
    `{"type": "error", "detail"}` messages. Closing the socket stops the training; reconnecting resumes the
    session. An unknown or expired session closes with code 4404."""
    session = store.get(network_id, KIND)
    with session.lock:
        focus = None if focus_layer is None else (focus_layer, focus_index)
        return encode(frame_of(session, focus), "base64")


class LiveConnection:
    """One WebSocket's view of a session: which neuron it focuses and how much history it has been sent."""

    CONFIG_KEYS = {"learning_rate", "batch_size", "optimizer", "regularization", "reg_rate", "momentum"}

    def __init__(self, session: Session, store: SessionStore, settings: Settings) -> None:
        self.session, self.store, self.settings = session, store, settings
        self.focus: tuple[int, int] | None = None
        self.history: list | None = None  # the trainer's history list last sent from (a new one: resend all)
        self.sent = 0

    def touch(self) -> None:
        # Raises SessionNotFound when the session was evicted; keeps an active stream from idling out.
        self.store.get(self.session.id, KIND)

    def train(self, unit: str) -> None:
        self.touch()
        trainer: Trainer = self.session.obj
        if unit == "batch":
            trainer.step()
        else:
            trainer.train_epoch()
        if not trainer.diverged:
            trainer.record()

    def frame(self) -> dict[str, Any]:
        trainer: Trainer = self.session.obj
        frame = frame_of(self.session, self.focus)
        history = trainer.history
        if history is not self.history:
            self.history, start = history, 0
        else:
            start = max(0, self.sent - 1)  # the last entry may have been updated in place since
        frame["history"] = {"from": start, "entries": history[start:]}
        self.sent = len(history)
        return encode(frame, "base64")

    def configure(self, message: dict[str, Any]) -> None:
        changes = {k: v for k, v in message.items() if k != "type"}
        unknown = set(changes) - self.CONFIG_KEYS - {"focus"}
        if unknown:
            raise EngineError(f"unknown config fields {sorted(unknown)}; use focus or "
                              f"{', '.join(sorted(self.CONFIG_KEYS))} (for architecture changes, "
                              "PUT /api/playground/{id})")
        if "focus" in changes:
            focus = changes.pop("focus")
            if focus is None:
                self.focus = None
            elif (isinstance(focus, list) and len(focus) == 2 and all(isinstance(v, int) and not isinstance(v, bool)
                                                                        for v in focus)):
                self.focus = (focus[0], focus[1])
            else:
                raise EngineError("focus is [layer, index] (dense layer from 1, neuron from 0) or null")
        if changes:
            batch = changes.get("batch_size")
            if isinstance(batch, int) and batch > self.settings.max_batch_size:
                raise EngineError(f"batch_size {batch} is over the limit of {self.settings.max_batch_size}")
            self.session.obj.update_hyperparameters(**changes)

    def finished(self) -> bool:
        return bool(self.session.obj.diverged)


def merge_frames(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """A dropped frame's history entries must not be lost: carry them into the frame that replaces it."""
    a, b = old.get("history"), new.get("history")
    if a is not None and b is not None and b["from"] > a["from"]:
        new["history"] = {"from": a["from"], "entries": a["entries"][: b["from"] - a["from"]] + b["entries"]}
    return new


@router.websocket("/ws/networks/{network_id}")
async def live(websocket: WebSocket, network_id: str) -> None:
    """Live training. Send {"type": "play"|"pause"|"frame"}, {"type": "step", "unit": "frame"|"batch"} (one
    epoch or one mini-batch), {"type": "config", "learning_rate": …, "focus": [layer, index], …}. Receive
    frames (see GET /api/playground/{id}/frame) with `playing`, `dropped` and a `history` delta {from, entries}:
    truncate the local history to `from`, then append `entries`."""
    store: SessionStore = websocket.app.state.store
    settings: Settings = websocket.app.state.settings
    try:
        session = store.get(network_id, KIND)
    except SessionNotFound as exc:
        await reject(websocket, str(exc))
        return
    conn = LiveConnection(session, store, settings)
    handlers = LiveHandlers(train=conn.train, frame=conn.frame, configure=conn.configure, finished=conn.finished,
                            merge=merge_frames)
    await stream(websocket, session, handlers, settings.max_frames_per_second)
