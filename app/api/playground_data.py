"""A network session's data points: read them, regenerate them, add or remove one, or upload a CSV file.

These routes work on any network session whose data they fit; the Playground page uses them under the
same weights (the epoch counter and history go on).
"""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from engine.core.errors import EngineError, SizeLimitError
from engine.dense.datasets import Dataset
from engine.dense.points import MAX_CSV_BYTES, add_point, parse_points_csv, remove_point
from engine.dense.trainer import Trainer, dataset_from_config
from engine.playground import config as pg

from ..arrays import encode
from ..budgets import check, network_cost
from ..errors import too_large
from ..schemas.networks import DataSpec
from ..schemas.playground import DataPoints, NewPoint, PointEdit
from ..settings import Settings
from ..store import Session, SessionStore
from .deps import Config, Enc, Store
from .networks import KIND
from .playground import bump, require_data, revision

router = APIRouter(tags=["playground"])


def replace_data(session: Session, data: Dataset, settings: Settings, store: SessionStore | None = None) -> None:
    """Put new points under the same weights (the epoch counter and history go on)."""
    trainer: Trainer = session.obj
    if trainer.spec.get("features"):
        pg.check_data_fits(trainer, data.task, data.input_dim)
    if len(data.x_train) + len(data.x_test) > settings.max_data_points:
        raise too_large("the number of data points", len(data.x_train) + len(data.x_test), settings.max_data_points,
                        "max_data_points")
    check(network_cost(trainer, data), settings, store, session)
    trainer.set_data(data)
    trainer.record()
    if store is not None:
        store.resize(session, network_cost(trainer).held)
    bump(session)


def point_edit(session: Session, data: Dataset, removed: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"removed": removed, "num_train": len(data.x_train), "num_test": len(data.x_test),
            "revision": revision(session)}


@router.get("/api/networks/{network_id}/data", response_model=DataPoints, summary="The session's data points")
def get_points(network_id: str, store: Store, encoding: Enc = "json") -> dict[str, Any]:
    with store.use(network_id, KIND, changes=False) as session:
        data = require_data(session.obj)
        return encode({"task": data.task, "kind": pg.kind_of(data.input_dim), "num_classes": data.num_classes,
                       "train": {"x": data.x_train, "y": np.asarray(data.y_train, dtype=np.float64)},
                       "test": {"x": data.x_test, "y": np.asarray(data.y_test, dtype=np.float64)},
                       "source": data.source}, encoding)


@router.put("/api/networks/{network_id}/data", response_model=PointEdit,
            summary="Replace the data, keeping the weights (\"regenerate\")")
def put_data(network_id: str, body: DataSpec, store: Store, settings: Config) -> dict[str, Any]:
    """A named toy set (new seed = TensorFlow Playground's "regenerate") or explicit points."""
    with store.use(network_id, KIND) as session:
        data = dataset_from_config(body.model_dump(exclude_none=True))
        assert data is not None  # the schema asks for a name or points
        replace_data(session, data, settings, store)
        return point_edit(session, data)


@router.post("/api/networks/{network_id}/data/points", response_model=PointEdit, status_code=201,
             summary="Add one data point")
def post_point(network_id: str, body: NewPoint, store: Store, settings: Config) -> dict[str, Any]:
    with store.use(network_id, KIND) as session:
        data = add_point(require_data(session.obj), body.point, body.label, body.split)
        replace_data(session, data, settings, store)
        return point_edit(session, data)


@router.delete("/api/networks/{network_id}/data/points", response_model=PointEdit,
               summary="Remove the data point nearest to a position")
def delete_point(network_id: str, store: Store, settings: Config,
                 x1: Annotated[float, Query(description="Position, first coordinate (x for curves)")],
                 x2: Annotated[float | None, Query(description="Second coordinate (2-D data)")] = None,
                 radius: Annotated[float, Query(gt=0, le=12, description="Only a point this close is removed")] = 0.5,
                 ) -> dict[str, Any]:
    with store.use(network_id, KIND) as session:
        data = require_data(session.obj)
        at = [x1] if data.input_dim == 1 else [x1, x2 if x2 is not None else float("nan")]
        new, removed = remove_point(data, at, radius)
        if removed is not None:
            replace_data(session, new, settings, store)
        return point_edit(session, new, removed)


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
    if len(raw) > MAX_CSV_BYTES:  # before decoding it; the engine checks the text's length again
        raise SizeLimitError(f"the file is {len(raw):,} bytes; the limit is {MAX_CSV_BYTES:,}")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise EngineError("the file is not UTF-8 text; save it as a plain CSV") from exc

    def load() -> dict[str, Any]:
        with store.use(network_id, KIND) as session:
            current = require_data(session.obj)
            data = parse_points_csv(text, task=current.task, input_dim=current.input_dim, train_ratio=train_ratio,
                                    seed=seed, max_points=settings.max_data_points)
            replace_data(session, data, settings, store)
            return point_edit(session, data)

    return await run_in_threadpool(load)
