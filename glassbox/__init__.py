"""Glassbox from Python: `Client` for the REST API, `show` for a session's page inside a notebook cell."""

from __future__ import annotations

from typing import Any

from glassbox.client import (
    Autoencoder,
    Client,
    GlassboxError,
    LeNetSession,
    Network,
    Record,
    Session,
    Transformer,
)


def show(session: Session, page: str | None = None, *, height: int = 720) -> Any:
    """Display `session`'s page in a notebook cell (see glassbox.notebook)."""
    from glassbox.notebook import show as _show

    return _show(session, page, height=height)


__all__ = ["Autoencoder", "Client", "GlassboxError", "LeNetSession", "Network", "Record", "Session", "Transformer",
           "show"]
