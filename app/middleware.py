"""The server's front door, as one ASGI middleware: the access token, the WebSocket Origin, the body limit.

- Token: when `GLASSBOX_TOKEN` is set, every request but static files and the health check must carry it — an
  `Authorization: Bearer <token>` header, a `?token=` query parameter or the `glassbox_token` cookie. A page
  opened with `?token=` sets the cookie (HttpOnly, SameSite=Strict), so the page's own fetches and WebSockets
  carry it without the scripts seeing it.
- Origin: a WebSocket opened by a browser page from another site is refused (close code 4403), unless its origin
  is listed in `GLASSBOX_ALLOWED_ORIGINS`; scripts that send no Origin are not browsers and may connect.
- Body limit: a request body is counted on the bytes actually received, chunked or not, and refused with 413 as
  soon as it passes the limit (the declared Content-Length is checked first, so an honest client is refused
  before it sends anything). The body then goes to the app in one piece.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs, urlsplit

from engine.dense.points import MAX_CSV_BYTES

from .settings import Settings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

TOKEN_COOKIE = "glassbox_token"
ORIGIN_REFUSED = 4403  # WebSocket close code: a page from another site may not open this stream
OPEN_PATHS = ("/static/", "/favicon.ico", "/api/health")
BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def body_limit(path: str, settings: Settings) -> tuple[int, str]:
    """The byte limit of a path's body and the setting that raises it."""
    if path == "/api/networks/import":
        return settings.max_upload_bytes, "GLASSBOX_MAX_UPLOAD_BYTES"
    if path.endswith("/data/csv"):
        return MAX_CSV_BYTES, "the CSV limit"
    return settings.max_body_bytes, "GLASSBOX_MAX_BODY_BYTES"


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


def presented_token(scope: Scope, headers: dict[str, str]) -> str | None:
    auth = headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    if query.get("token"):
        return query["token"][0]
    cookie = SimpleCookie()
    try:
        cookie.load(headers.get("cookie", ""))
    except Exception:  # noqa: BLE001 - a malformed cookie header is the same as none
        return None
    morsel = cookie.get(TOKEN_COOKIE)
    return morsel.value if morsel is not None else None


def origin_allowed(headers: dict[str, str], settings: Settings) -> bool:
    origin = headers.get("origin")
    if origin is None:
        return True
    if origin in settings.allowed_origins:
        return True
    return urlsplit(origin).netloc.lower() == headers.get("host", "").lower() != ""


async def send_json(send: Send, status: int, body: dict[str, Any],
                    headers: Sequence[tuple[bytes, bytes]] = ()) -> None:
    payload = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()),
                            *headers]})
    await send({"type": "http.response.body", "body": payload})


async def refuse_websocket(receive: Receive, send: Send, code: int, detail: str) -> None:
    """Accept, say why in a message, close with `code`: a browser shows the reason, unlike a failed handshake."""
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.send", "text": json.dumps({"type": "error", "detail": detail})})
    await send({"type": "websocket.close", "code": code, "reason": detail[:120]})


class GuardMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        path: str = scope.get("path", "")
        refusal = self._token_refusal(scope, headers, path)
        if refusal is not None:
            if scope["type"] == "websocket":
                await refuse_websocket(receive, send, 4401, refusal)
            else:
                await send_json(send, 401, {"detail": refusal}, [(b"www-authenticate", b"Bearer")])
            return
        if scope["type"] == "websocket":
            if not origin_allowed(headers, self.settings):
                await refuse_websocket(receive, send, ORIGIN_REFUSED,
                                       f"WebSockets from {headers.get('origin')} are not allowed: open the page "
                                       "from this server, or list the origin in GLASSBOX_ALLOWED_ORIGINS")
                return
            await self.app(scope, receive, send)
            return
        send = self._cookie_sender(scope, path, send)
        if scope.get("method") not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        body = await self._read_body(headers, path, receive, send)
        if body is None:
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # later calls: disconnect detection

        await self.app(scope, replay, send)

    def _token_refusal(self, scope: Scope, headers: dict[str, str], path: str) -> str | None:
        """Why a request without the server's access token is refused; None when it may pass."""
        token = self.settings.token
        if not token or path.startswith(OPEN_PATHS):
            return None
        given = presented_token(scope, headers)
        if given is not None and hmac.compare_digest(given.encode(), token.encode()):
            return None
        return ("this server needs its access token: open the page with ?token=… or send "
                "'Authorization: Bearer …' (the token is the server's GLASSBOX_TOKEN)")

    async def _read_body(self, headers: dict[str, str], path: str, receive: Receive, send: Send) -> bytes | None:
        """The whole body, counted on the bytes received (chunked too); None when it was refused (413 sent) or
        the client left."""
        limit, setting = body_limit(path, self.settings)
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await send_json(send, 413, {"detail": f"the request body is {int(declared):,} bytes, over the limit of "
                                                  f"{limit:,} ({setting})"})
            return None
        chunks: list[bytes] = []
        received = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > limit:
                await send_json(send, 413, {"detail": f"the request body is over the limit of {limit:,} bytes "
                                                      f"({setting}); it was refused after {received:,} bytes"},
                                [(b"connection", b"close")])
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    def _cookie_sender(self, scope: Scope, path: str, send: Send) -> Send:
        """A page opened with ?token= keeps it in a cookie for its own calls (API clients send it each time)."""
        token = self.settings.token
        if token and not path.startswith((*OPEN_PATHS, "/api/", "/docs", "/openapi")) \
                and b"token=" in scope.get("query_string", b""):
            return self._with_cookie(send, token)
        return send

    @staticmethod
    def _with_cookie(send: Send, token: str) -> Send:
        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                cookie = f"{TOKEN_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict"
                message = {**message, "headers": [*message.get("headers", []),
                                                   (b"set-cookie", cookie.encode("latin-1"))]}
            await send(message)

        return sending
