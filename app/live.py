"""Live training over a WebSocket: train between frames, send at most N frames a second,
drop frames (never queue them) when the client falls behind.

A feature plugs in with three callables that run in a worker thread under the
session's lock, so the event loop never does CPU work:
  train(unit)      -> None  one unit of training: "frame" (what one frame covers, e.g. an epoch) or "batch"
  frame()          -> dict  the state to draw (arrays already encoded for the wire)
  configure(msg)   -> None  apply a {"type": "config", ...} message (optional)
  merge(old, new)  -> dict  when `new` replaces an unsent `old` frame, what to send instead (optional): lets a
                            frame carry deltas (e.g. new history entries) that a dropped frame must not lose
  revision()       -> Any   what changes when the session's model does (optional; e.g. its step count): while
                            the stream is paused it is polled a few times a second, and a change sends a frame, so
                            a page follows training driven by someone else (a script's REST calls, another tab)
If a handler raises LookupError (the session was evicted or deleted), the client gets an error and the
connection closes with code 4404.

Client → server messages: {"type": "play"}, {"type": "pause"}, {"type": "step", "unit": "frame"|"batch"},
{"type": "config", ...}, {"type": "frame"} (send the current state without training).
Server → client: {"type": "frame", "playing": bool, "dropped": int, ...frame()} and
{"type": "error", "detail": str} (the connection stays open).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import WebSocket, WebSocketDisconnect
from starlette.concurrency import run_in_threadpool

from engine.core.errors import EngineError

from .store import Session, SessionNotFound, SessionStore

SESSION_GONE = 4404  # close code: the session id is unknown; reconnecting will not help


Merge = Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]]


class LatestFrame:
    """A one-slot mailbox: putting a frame replaces an unsent one, which counts as dropped.

    Errors are never dropped: they wait in order and go out before the frame.
    """

    def __init__(self, merge: Merge | None = None) -> None:
        self._frame: dict[str, Any] | None = None
        self._messages: list[dict[str, Any]] = []
        self._ready = asyncio.Event()
        self._merge = merge
        self.dropped = 0

    def put(self, message: dict[str, Any]) -> None:
        if message.get("type") == "error":
            self._messages.append(message)
        else:
            if self._frame is not None:
                self.dropped += 1
                if self._merge is not None:
                    message = self._merge(self._frame, message)
            self._frame = message
        self._ready.set()

    async def get(self) -> dict[str, Any]:
        await self._ready.wait()
        if self._messages:
            message = self._messages.pop(0)
        else:
            message, self._frame = self._frame, None
        if not self._messages and self._frame is None:
            self._ready.clear()
        assert message is not None
        return message


@dataclass
class LiveHandlers:
    train: Callable[[str], None]
    frame: Callable[[], dict[str, Any]]
    configure: Callable[[dict[str, Any]], None] | None = None
    finished: Callable[[], bool] = lambda: False
    merge: Merge | None = None
    revision: Callable[[], Any] | None = None


FOLLOW_INTERVAL = 0.25  # seconds between looks at a paused stream's revision


async def stream(websocket: WebSocket, session: Session, handlers: LiveHandlers, max_fps: float) -> None:
    """Serve one live connection until the client goes away."""
    await websocket.accept()
    mailbox = LatestFrame(handlers.merge)
    playing = asyncio.Event()
    min_interval = 1.0 / max_fps if max_fps > 0 else 0.0

    seen: list[Any] = [None]  # the revision of the last frame

    def locked(fn: Callable[..., Any], *args: Any) -> Any:
        with session.lock:
            return fn(*args)

    def frame_and_revision() -> dict[str, Any]:
        with session.lock:
            if handlers.revision is not None:
                seen[0] = handlers.revision()
            return handlers.frame()

    async def snapshot() -> None:
        frame = await run_in_threadpool(frame_and_revision)
        mailbox.put({"type": "frame", "playing": playing.is_set(), **frame})

    async def follower_loop() -> None:
        # The revision is read without the lock: a torn read only delays the frame to the next look.
        assert handlers.revision is not None
        while True:
            await asyncio.sleep(FOLLOW_INTERVAL)
            if not playing.is_set() and handlers.revision() != seen[0]:
                await snapshot()

    async def trainer_loop() -> None:
        while True:
            await playing.wait()
            started = time.monotonic()
            try:
                await run_in_threadpool(locked, handlers.train, "frame")
            except EngineError as exc:
                playing.clear()
                mailbox.put({"type": "error", "detail": str(exc)})
                await snapshot()
                continue
            except LookupError as exc:
                playing.clear()
                mailbox.put({"type": "error", "detail": str(exc), "close": SESSION_GONE})
                return
            if await run_in_threadpool(locked, handlers.finished):
                playing.clear()
            await snapshot()
            # Cap the frame rate; the remaining time is the CPU left for other users.
            await asyncio.sleep(max(0.0, min_interval - (time.monotonic() - started)))

    async def sender_loop() -> None:
        while True:
            frame = await mailbox.get()
            if frame.get("type") == "frame":
                frame["dropped"] = mailbox.dropped
            close = frame.pop("close", None)
            await websocket.send_text(json.dumps(frame))
            if close is not None:
                await websocket.close(code=close, reason=frame["detail"][:120])
                return

    async def handle(message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "play":
            playing.set()
            await snapshot()
        elif kind == "pause":
            playing.clear()
            await snapshot()
        elif kind == "step":
            playing.clear()
            unit = "batch" if message.get("unit") == "batch" else "frame"
            await run_in_threadpool(locked, handlers.train, unit)
            await snapshot()
        elif kind == "config":
            if handlers.configure is None:
                raise EngineError("this stream takes no configuration")
            await run_in_threadpool(locked, handlers.configure, message)
            await snapshot()
        elif kind == "frame":
            await snapshot()
        else:
            raise EngineError(f"unknown message type {kind!r}; use play, pause, step, config or frame")

    tasks = [asyncio.create_task(trainer_loop()), asyncio.create_task(sender_loop())]
    if handlers.revision is not None:
        tasks.append(asyncio.create_task(follower_loop()))
    try:
        await snapshot()
        while True:
            text = await websocket.receive_text()
            try:
                message = json.loads(text)
                if not isinstance(message, dict):
                    raise EngineError("messages are JSON objects with a 'type'")
                await handle(message)
            except json.JSONDecodeError:
                mailbox.put({"type": "error", "detail": "messages must be JSON objects, e.g. {\"type\": \"play\"}"})
            except EngineError as exc:
                mailbox.put({"type": "error", "detail": str(exc)})
            except LookupError as exc:
                playing.clear()
                mailbox.put({"type": "error", "detail": str(exc), "close": SESSION_GONE})
    except WebSocketDisconnect:
        pass
    finally:
        # Closing the tab stops the training loop; the session stays for a reconnect.
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def serve(websocket: WebSocket, kind: str, session_id: str,
                handlers_for: Callable[[Session], LiveHandlers]) -> None:
    """Look the session up and stream it; an unknown id is refused with close code 4404."""
    store: SessionStore = websocket.app.state.store
    try:
        session = store.get(session_id, kind)
    except SessionNotFound as exc:
        await reject(websocket, str(exc))
        return
    await stream(websocket, session, handlers_for(session), websocket.app.state.settings.max_frames_per_second)


async def reject(websocket: WebSocket, detail: str) -> None:
    """Refuse a connection for an unknown session: the client sees close code 4404 and the reason."""
    await websocket.accept()
    await websocket.send_text(json.dumps({"type": "error", "detail": detail}))
    await websocket.close(code=SESSION_GONE, reason=detail[:120])
