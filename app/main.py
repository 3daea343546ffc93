"""The FastAPI application: routers discovered from app/api, static files, offline docs."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline

import engine

from . import api
from .bodies import guard_routes
from .errors import install_error_handlers, install_openapi
from .middleware import GuardMiddleware
from .rooms import Rooms
from .settings import Settings, get_settings
from .storage import open_backend
from .store import SessionStore
from .work import JobSlots

DESCRIPTION = """
Glassbox turns the black box into a glass box: every activation, weight and gradient of a network,
computed by a NumPy engine, as JSON. The pages of this site use exactly this API.

Arrays travel as nested lists; add `?encoding=base64` to get each as `{dtype, shape, data}`
(base64 of little-endian float32). Errors are 4xx with a `detail` that says what to fix (a 422 from request
validation also lists `errors` with their locations); each operation lists the codes it can answer.

Limits keep one request from taking the server from everyone else: request bodies (413), memory and work
per session (413, naming the setting), training requests at once (429 with Retry-After), a busy session (409).
When the server runs with `GLASSBOX_TOKEN`, send it as `Authorization: Bearer <token>` (401 otherwise).
"""


def make_store(settings: Settings) -> SessionStore:
    return SessionStore(settings.max_sessions, settings.session_idle_seconds,
                        open_backend(settings.store, settings.data_dir),
                        retention_seconds=settings.retention_days * 86400, max_bytes=settings.store_max_bytes,
                        snapshot_seconds=settings.snapshot_seconds, max_total_bytes=settings.max_total_bytes,
                        busy_wait=settings.busy_wait_seconds)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    app.state.store.close()  # write the sessions trained live since their last write


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    # fastapi-offline serves Swagger UI's own JS/CSS from its package, so /docs works with no network.
    app = FastAPIOffline(title="Glassbox", version=engine.__version__, description=DESCRIPTION, lifespan=lifespan)
    app.state.settings = settings
    app.state.store = make_store(settings)
    app.state.rooms = Rooms(app.state.store, hours=settings.room_hours,
                            joins_per_minute=settings.room_joins_per_minute, max_students=settings.max_room_students)
    app.state.frame_tap = app.state.rooms  # teachers' live frames go to their rooms, built once
    app.state.jobs = JobSlots(settings.max_training_jobs, retry_after=min(settings.train_deadline_seconds, 10))
    install_error_handlers(app)
    install_openapi(app)
    for info in sorted(pkgutil.iter_modules(api.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{api.__name__}.{info.name}")
        if hasattr(module, "router"):
            guard_routes(module.router)
            app.include_router(module.router)
    app.add_middleware(GuardMiddleware, settings=settings)
    app.mount("/static", StaticFiles(directory=str(settings.static_dir)), name="static")
    if settings.test_assets_dir is not None:
        app.mount("/test-assets", StaticFiles(directory=str(settings.test_assets_dir)), name="test-assets")
    return app


app = create_app()
