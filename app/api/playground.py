"""The Playground: its page, its catalogue and gallery, and network sessions built from a configuration.

A Playground is an ordinary network session (so /api/networks/{id}/export, /forward, /params … work on it)
built from a Playground configuration. Its data routes are in playground_data.py, its frames and the live
WebSocket in playground_live.py.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import HTMLResponse

from engine.core.errors import EngineError
from engine.dense.datasets import Dataset
from engine.dense.trainer import Trainer
from engine.playground import config as pg

from ..arrays import encode
from ..budgets import check, network_cost
from ..errors import too_large
from ..pages import render
from ..schemas.playground import (
    Catalog,
    GalleryResult,
    Hyperparameters,
    HyperparameterState,
    PlaygroundConfig,
    PlaygroundState,
)
from ..settings import Settings
from ..store import Session, SessionNotFound, SessionStore
from .deps import Config, Enc, Store
from .networks import KIND, check_limits

PAGE = {"path": "/playground", "title": "Playground", "order": 2,
        "blurb": "Train small networks live on toy data: every neuron's map, the weights and their gradients, "
                 "loss curves, editable weights — TensorFlow Playground, computed by the NumPy engine."}

router = APIRouter(tags=["playground"])


@router.get("/playground", response_class=HTMLResponse, include_in_schema=False)
def page(request: Request) -> HTMLResponse:
    return render(request, "playground.html", title="Playground")


# --- catalogue and gallery ------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def catalog_document() -> dict[str, Any]:
    return encode(pg.catalog(), "base64")


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


def revision(session: Session) -> int:
    """Grows whenever the session's network or data are replaced; frames carry it so that the page can
    ignore one computed before."""
    return session.extra.get("revision", 0)


def bump(session: Session) -> int:
    session.extra["revision"] = revision(session) + 1
    return session.extra["revision"]


def require_data(trainer: Trainer) -> Dataset:
    if trainer.data is None:
        raise EngineError("this session has no data; give it some with PUT /api/networks/{id}/data")
    return trainer.data


def playground_state(session: Session) -> dict[str, Any]:
    trainer: Trainer = session.obj
    config = pg.config_from_trainer(trainer)
    data = require_data(trainer)
    units = [layer.out_features for layer in trainer.net.layers if layer.type == "dense"]  # type: ignore[attr-defined]
    return {
        "id": session.id, "config": config, "revision": revision(session),
        "layout": [int(trainer.net.input_shape[0]), *units],
        "num_params": trainer.net.num_params,
        "data": {"name": data.name, "task": data.task, "kind": pg.kind_of(data.input_dim),
                 "num_train": len(data.x_train), "num_test": len(data.x_test), "num_classes": data.num_classes,
                 "source": data.source},
        "step": trainer.step_count, "epoch": trainer.epoch, "diverged": trainer.diverged,
        "message": trainer.diverged_message, "history": trainer.history,
    }


def build_from_config(config: dict[str, Any], settings: Settings, data: Dataset | None = None,
                      store: SessionStore | None = None, session: Session | None = None) -> Trainer:
    """The network and its data (both small: the configuration's sizes are bounded by its schema), checked
    against the limits and the memory and work budgets before the first evaluation."""
    trainer = pg.trainer_from_config(config, data, settings.max_parameters)
    check_limits(trainer, settings)
    check(network_cost(trainer), settings, store, session)
    trainer.record()
    return trainer


@router.post("/api/playground", response_model=PlaygroundState, status_code=201,
             summary="Create a Playground network session from a configuration")
def create_playground(store: Store, settings: Config,
                      body: Annotated[PlaygroundConfig | None, Body()] = None) -> dict[str, Any]:
    """The output layer and loss follow from the data set (see PlaygroundConfig). The session is a network
    session: train it over /ws/networks/{id} or /api/networks/{id}/train, export it, edit its weights."""
    config = (body or PlaygroundConfig()).model_dump()
    trainer = build_from_config(config, settings, store=store)
    session = store.add(KIND, trainer, nbytes=network_cost(trainer).held)
    return playground_state(session)


@router.get("/api/playground/{network_id}", response_model=PlaygroundState,
            summary="A network session seen as a Playground configuration")
def get_playground(network_id: str, store: Store) -> dict[str, Any]:
    """Works for any Playground-shaped network, also one imported with POST /api/networks/import."""
    with store.use(network_id, KIND, changes=False) as session:
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
    config = pg.normalize_config(body.model_dump())
    with store.use(network_id, KIND) as session:
        keep = pg.reusable_data(session.obj.data, config) if keep_points else None
        session.obj = build_from_config(config, settings, keep, store, session)
        store.resize(session, network_cost(session.obj).held)
        bump(session)
        return playground_state(session)


def apply_hyperparameters(trainer: Trainer, changes: Hyperparameters, settings: Settings) -> None:
    """Settings that keep the weights, from PATCH /config and the live stream's config messages alike."""
    if changes.batch_size is not None and changes.batch_size > settings.max_batch_size:
        raise too_large("batch_size", changes.batch_size, settings.max_batch_size, "max_batch_size")
    if changes.batch_size is not None:
        check(network_cost(trainer, batch_size=changes.batch_size), settings)
    trainer.configure(**changes.model_dump(exclude_none=True))


@router.patch("/api/networks/{network_id}/config", response_model=HyperparameterState,
              summary="Change training settings, keeping the weights")
def patch_config(network_id: str, body: Hyperparameters, store: Store, settings: Config) -> dict[str, Any]:
    """Learning rate, batch size, optimiser, regularisation: applied at the next step. A diverged network
    stays diverged (its kept parameters lead to the same divergence): reset it to train on."""
    with store.use(network_id, KIND) as session:
        trainer: Trainer = session.obj
        apply_hyperparameters(trainer, body, settings)
        return {"optimizer": trainer.optimizer.config(), "batch_size": trainer.spec["batch_size"],
                "diverged": trainer.diverged}
