"""The routes every kind of session has, declared once: read a session's state (GET) and delete it (DELETE).

A feature calls `add_session_routes` where it would have declared the two routes (order matters: a fixed path
such as /api/autoencoders/digits must come before /api/autoencoders/{session_id}). What differs from feature to
feature is how a session's state is drawn up and what that needs from the request (the array encoding, the
settings, nothing); the feature says it with a dependency that returns the function drawing up the state, so
the GET route declares exactly the query parameters that function uses, as a hand-written route would.
"""

# No `from __future__ import annotations`: FastAPI reads the routes' annotations, which name a local alias.

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Response

from ..schemas.common import EncodingParam
from ..settings import Settings
from ..store import Session
from .deps import Config, Enc, Store

StateOf = Callable[[Session], dict[str, Any]]


def plain(state: StateOf) -> Callable[[], StateOf]:
    """The dependency of a state that needs nothing from the request."""
    return lambda: state


def with_encoding(state: Callable[[Session, EncodingParam], dict[str, Any]]) -> Callable[..., StateOf]:
    """The dependency of a state with arrays: the `encoding` query parameter."""

    def dependency(encoding: Enc = "json") -> StateOf:
        return lambda session: state(session, encoding)

    return dependency


def with_settings(state: Callable[[Session, Settings], dict[str, Any]]) -> Callable[..., StateOf]:
    """The dependency of a state that shows the server's settings."""

    def dependency(settings: Config) -> StateOf:
        return lambda session: state(session, settings)

    return dependency


def add_session_routes(router: APIRouter, path: str, kind: str, state_of: Callable[..., StateOf], *,
                       response_model: Any, names: tuple[str, str], get_summary: str, delete_summary: str,
                       changes: bool = False, id_name: str = "session_id") -> None:
    """GET `path` (the state, from `state_of`'s function; 404 for an unknown id) and DELETE `path` (204).

    `path` names the session's id `{id_name}`; `names` are the GET and DELETE routes' names (which also name
    their OpenAPI operations). `changes`: whether drawing up the state changes the session (a
    cached evaluation), so that the store keeps the changed session."""
    SessionId = Annotated[str, Path(alias=id_name)]  # noqa: N806 - a type alias, named as one

    def read(session_id: SessionId, store: Store, state: Annotated[StateOf, Depends(state_of)]) -> dict[str, Any]:
        with store.use(session_id, kind, changes=changes) as session:
            return state(session)

    def delete(session_id: SessionId, store: Store) -> Response:
        store.delete(session_id, kind)
        return Response(status_code=204)

    router.add_api_route(path, read, methods=["GET"], response_model=response_model, summary=get_summary,
                         name=names[0])
    router.add_api_route(path, delete, methods=["DELETE"], status_code=204, summary=delete_summary,
                         name=names[1])
