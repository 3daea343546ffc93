"""Share links: POST /api/shares makes an immutable, read-only snapshot of a page (its view state) and of its
session (network, weights, data) under a new random id; /s/{id} opens it for anyone; fork makes a session of
one's own from it."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter
from fastapi.responses import RedirectResponse

from engine.core.errors import EngineError, SizeLimitError
from engine.core.training import TrainerState

from ..pages import discovered_pages
from ..schemas.shares import CreateShare, Fork, Share
from ..store import Codec, Session, SessionExpired, SessionNotFound, register_codec
from .deps import Store

router = APIRouter(tags=["shares"])

VIEW = "view"  # the kind of a share without a session: a page's view alone
MAX_VIEW_BYTES = 64 * 1024
SHARE_KEYS = ("page", "view", "shared_kind")  # what a share adds to the session's metadata; a fork drops them

register_codec(VIEW, Codec(dump=lambda _: TrainerState(VIEW, {}, {}), build=lambda _: None,
                           load_into=lambda _obj, _state: None))


def share_of(snapshot: Session) -> dict[str, Any]:
    kind = snapshot.extra.get("shared_kind")
    return {"id": snapshot.id, "url": f"/s/{snapshot.id}", "page": snapshot.extra["page"], "kind": kind,
            "session": snapshot.id if kind else None, "view": snapshot.extra.get("view", {}),
            "created": snapshot.created_at}


def _page_paths() -> set[str]:
    return {"/"} | {page["path"] for page in discovered_pages()}


@router.post("/api/shares", response_model=Share, status_code=201, summary="Share a page read-only")
def create_share(body: CreateShare, store: Store) -> dict[str, Any]:
    """Copy the session (if any) and keep the page's view state with it, under a new id that grants reading only.
    The snapshot never changes (the session trains on without it) and survives restarts like a session."""
    if body.page not in _page_paths():
        raise EngineError(f"page '{body.page}' is not one of this site's pages: {', '.join(sorted(_page_paths()))}")
    size = len(json.dumps(body.view))
    if size > MAX_VIEW_BYTES:
        raise SizeLimitError(f"the view state is {size} bytes of JSON, over the limit of {MAX_VIEW_BYTES}: share "
                             "what the page needs to show the same thing, not its data")
    if (body.session is None) != (body.kind is None):
        raise EngineError("give both 'session' and its 'kind', or neither (a view alone)")
    extra = {"page": body.page, "view": body.view, "shared_kind": body.kind}
    if body.session is None or body.kind is None:
        return share_of(store.share(Session("", VIEW, None), extra))
    with store.use(body.session, body.kind, changes=False) as session:
        return share_of(store.share(session, extra))


def _load(share_id: str, store: Store) -> Session:
    try:
        session = store.get(share_id, None)
    except SessionExpired:
        raise
    except SessionNotFound:
        session = None
    if session is None or not session.readonly:  # a session id is a private capability: not a share
        raise SessionNotFound(f"no share '{share_id}': the link is mistyped, or the share was never made")
    return session


@router.get("/api/shares/{share_id}", response_model=Share, summary="A share's page, view state and kind")
def get_share(share_id: str, store: Store) -> dict[str, Any]:
    """Read the snapshot's network, weights and data through its kind's GET routes with the share id as the
    session id (e.g. GET /api/playground/{share_id}); every route that changes something answers 403."""
    return share_of(_load(share_id, store))


@router.post("/api/shares/{share_id}/fork", response_model=Fork, status_code=201,
             summary="Make a session of your own from a share")
def fork_share(share_id: str, store: Store) -> dict[str, Any]:
    snapshot = _load(share_id, store)
    kind = snapshot.extra.get("shared_kind")
    out = {"session": None, "kind": kind, "page": snapshot.extra["page"], "view": snapshot.extra.get("view", {})}
    if kind:
        out["session"] = store.fork(share_id, snapshot.kind, drop=SHARE_KEYS).id
    return out


@router.get("/s/{share_id}", include_in_schema=False)
def open_share(share_id: str, store: Store) -> RedirectResponse:
    """The share link: its page, told to open the snapshot read-only."""
    snapshot = _load(share_id, store)
    view_hash = snapshot.extra.get("view", {}).get("hash")
    tail = view_hash if isinstance(view_hash, str) and view_hash.startswith("#") else ""
    return RedirectResponse(f"{snapshot.extra['page']}?share={share_id}{tail}", status_code=307)

