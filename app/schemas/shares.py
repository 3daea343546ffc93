"""Share links: read-only snapshots of a page and its session."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class CreateShare(BaseModel):
    page: str = Field(description="The page's path, e.g. '/playground': where /s/{id} opens the snapshot",
                      pattern=r"^/[a-z0-9/-]*$", max_length=100)
    session: str | None = Field(None, description="The session to copy (network, weights, data); none for a page "
                                                  "without a session", max_length=100)
    kind: str | None = Field(None, description="The session's kind: network, lenet, transformer, …",
                             pattern=r"^[a-z_]+$", max_length=40)
    view: dict[str, Any] = Field(default_factory=dict, description="The page's view state (what it shows and how), "
                                                                   "as the page reads it back; at most 64 KB of JSON")


class Share(BaseModel):
    id: str = Field(description="The share's id: it grants reading only (a session id stays a private capability)")
    url: str = Field(description="Where anyone opens it read-only: /s/{id}")
    page: str
    kind: str | None = Field(description="The kind of the copied session, or null for a view alone")
    session: str | None = Field(description="The id to read the snapshot with through the kind's GET routes (the "
                                            "share id itself); null for a view alone")
    view: dict[str, Any]
    created: float = Field(description="Unix time")


class Fork(BaseModel):
    session: str | None = Field(description="The new session of your own (null when the share has no session)")
    kind: str | None
    page: str
    view: dict[str, Any]
