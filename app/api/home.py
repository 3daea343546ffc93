"""The home page and the health check."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse
from pydantic import BaseModel, Field

import engine

from ..pages import render

router = APIRouter()


class Health(BaseModel):
    status: str = Field(description="'ok' when the server answers")
    version: str
    sessions: int = Field(description="Sessions held in memory")


# The health check and the home page run on the event loop (async, no blocking work): they answer even while
# every worker thread is busy training.
@router.get("/api/health", response_model=Health, tags=["meta"], summary="Is the server up?")
async def health(request: Request) -> dict:
    return {"status": "ok", "version": engine.__version__, "sessions": len(request.app.state.store)}


@router.get("/favicon.ico", include_in_schema=False)
def favicon(request: Request) -> FileResponse:
    return FileResponse(request.app.state.settings.static_dir / "img" / "favicon.svg", media_type="image/svg+xml")


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def home(request: Request) -> HTMLResponse:
    return render(request, "index.html", title="Glassbox")
