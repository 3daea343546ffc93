"""Request bodies at each route: only the documented content types, and large JSON parsed off the event loop.

`guard_routes(router)` makes every API route's handler check its body before FastAPI reads it:
- a body must come in one of the types the operation documents (JSON operations: application/json or a +json
  type; /import: JSON or application/octet-stream; CSV: text/csv or text/plain); anything else is 415 — which
  also keeps other sites' plain HTML forms (text/plain, form encodings) from changing a session;
- a JSON body over `PARSE_IN_THREAD_BYTES` is parsed in the thread pool, so that one large upload does not
  stall every other connection while it is decoded (FastAPI would parse it on the event loop).
"""

from __future__ import annotations

import email.message
import json
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute, request_response
from starlette.concurrency import run_in_threadpool

from engine.core.errors import EngineError

from .errors import Unsupported

PARSE_IN_THREAD_BYTES = 256 * 1024
JSON_TYPES = ("application/json",)


def media_type(request: Request) -> str:
    raw = request.headers.get("content-type")
    if not raw:
        return ""
    message = email.message.Message()
    message["content-type"] = raw
    return message.get_content_type()


def is_json(kind: str) -> bool:
    return kind == "application/json" or (kind.startswith("application/") and kind.endswith("+json"))


def documented_types(route: APIRoute) -> list[str] | None:
    """The content types an operation takes, or None when it takes no body."""
    extra = (route.openapi_extra or {}).get("requestBody", {}).get("content")
    if extra:
        return list(extra)
    if route.body_field is not None:
        return list(JSON_TYPES)
    return None


def _utf8(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EngineError(f"the body is not UTF-8 text (byte {exc.start} cannot be decoded); send JSON in "
                          "UTF-8") from None


def guard(handler: Callable[[Request], Awaitable[Response]],
          types: list[str]) -> Callable[[Request], Coroutine[Any, Any, Response]]:
    takes_json = any(is_json(t) for t in types)

    async def guarded(request: Request) -> Response:
        body = await request.body()
        if body:
            kind = media_type(request)
            if kind not in types and not (takes_json and is_json(kind)):
                raise Unsupported(f"this operation takes {' or '.join(types)}, not "
                                  f"{kind or 'a body without a Content-Type'}; set the Content-Type header")
            if is_json(kind) or not kind:
                if len(body) > PARSE_IN_THREAD_BYTES:
                    text = await run_in_threadpool(_utf8, body)
                    try:
                        # FastAPI's handler reads request.json(), which returns this when set.
                        request._json = await run_in_threadpool(json.loads, text)
                    except ValueError:
                        pass  # FastAPI parses it again and answers 422 with the position of the error
                else:
                    _utf8(body)
        return await handler(request)

    return guarded


class GuardedRoute(APIRoute):
    """An APIRoute whose handler checks the body's content type and parses large JSON in a thread."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        types = documented_types(self)
        return handler if types is None else guard(handler, types)


def guard_routes(router: APIRouter) -> None:
    """Make every route of a feature's router a GuardedRoute (before the app includes it: FastAPI builds the
    handlers of included routes from `get_route_handler` when they first serve)."""
    for route in router.routes:
        if type(route) is APIRoute:
            route.__class__ = GuardedRoute
            route.app = request_response(route.get_route_handler())
