"""The dependencies every route shares, declared once: settings, the session store, the array encoding."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request

from app.schemas.common import EncodingParam
from app.settings import Settings
from app.store import SessionStore
from app.work import JobSlots


def get_store(request: Request) -> SessionStore:
    return request.app.state.store


def settings_of(request: Request) -> Settings:
    return request.app.state.settings


def get_jobs(request: Request) -> JobSlots:
    return request.app.state.jobs


Store = Annotated[SessionStore, Depends(get_store)]
Jobs = Annotated[JobSlots, Depends(get_jobs)]
Config = Annotated[Settings, Depends(settings_of)]
Enc = Annotated[EncodingParam, Query(description="json: nested lists; base64: {dtype, shape, data} per array")]
