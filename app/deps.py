"""Shared dependencies: settings and the session store, kept on app.state."""

from __future__ import annotations

from fastapi import Request

from .settings import Settings
from .store import SessionStore


def get_store(request: Request) -> SessionStore:
    return request.app.state.store


def settings_of(request: Request) -> Settings:
    return request.app.state.settings
