"""Live training over a WebSocket: train between frames, send at most N frames a second,
drop frames (never queue them) when the client falls behind.

A feature plugs in with three callables that run in a worker thread under the
session's lock, so the event loop never does CPU work:
  train(unit)      -> None  one unit of training: "frame" (what one frame covers, e.g. an epoch) or "batch"
  frame()          -> dict  the state to draw (arrays already encoded for the wire)
  configure(msg)   -> None  apply a {"type": "config", ...} message (optional)
  merge(old, new)  -> dict  when `new` replaces an unsent `old` frame, what to send instead (optional): lets a
                            frame carry deltas (e.g. new history entries) that a dropped frame must not lose
If a handler raises LookupError (the session was evicted or deleted), the client gets an error and the
connection closes with code 4404 (4410 when the store says it expired).

With the session store, `serve` holds the session's streaming lease while the connection lasts: the session
stays in memory, is written at most once a second while it trains (by the store's writer thread, never by a
frame), and a change made by a REST request on another worker is loaded and sent as a frame at once.

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

from .store import ReadOnlySession, Session, SessionBusy, SessionExpired, SessionNotFound, SessionStore

SESSION_GONE = 4404  # close code: the session id is unknown; reconnecting will not help
SESSION_EXPIRED = 4410  # close code: the store removed the session (retention, disk budget)
SESSION_BUSY = 4409  # close code: another worker streams the session; reconnecting later may succeed


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


async def stream(websocket: WebSocket, session: Session, handlers: LiveHandlers, max_fps: float,
                 store: SessionStore | None = None, wake: asyncio.Event | None = None) -> None:
    """Serve one live connection until the client goes away. With a store, training and settings are reported
    to it (it writes them at most once a second); `wake` is set when a change made elsewhere arrived."""
    await websocket.accept()
    mailbox = LatestFrame(handlers.merge)
    playing = asyncio.Event()
    min_interval = 1.0 / max_fps if max_fps > 0 else 0.0

    def locked(fn: Callable[..., Any], *args: Any) -> Any:
        with session.lock:
            return fn(*args)

    def changing(fn: Callable[..., Any], *args: Any) -> Any:
        if store is not None:
            store.before_live_change(session)
        with session.lock:
            result = fn(*args)
            if store is not None:
                store.changed_live(session)
            return result

    async def snapshot() -> None:
        frame = await run_in_threadpool(locked, handlers.frame)
        mailbox.put({"type": "frame", "playing": playing.is_set(), **frame})

    async def trainer_loop() -> None:
        while True:
            await playing.wait()
            started = time.monotonic()
            try:
                await run_in_threadpool(changing, handlers.train, "frame")
            except (EngineError, ReadOnlySession) as exc:
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
            await run_in_threadpool(changing, handlers.train, unit)
            await snapshot()
        elif kind == "config":
            if handlers.configure is None:
                raise EngineError("this stream takes no configuration")
            await run_in_threadpool(changing, handlers.configure, message)
            await snapshot()
        elif kind == "frame":
            await snapshot()
        else:
            raise EngineError(f"unknown message type {kind!r}; use play, pause, step, config or frame")

    async def waker_loop() -> None:
        while wake is not None:
            await wake.wait()
            wake.clear()
            await snapshot()

    tasks = [asyncio.create_task(trainer_loop()), asyncio.create_task(sender_loop()),
             asyncio.create_task(waker_loop())]
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
            except (EngineError, ReadOnlySession) as exc:
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
    """Look the session up and stream it under its lease; an unknown id is refused with close code 4404, an
    expired one with 4410, one streaming on another worker with 4409."""
    store: SessionStore = websocket.app.state.store
    loop = asyncio.get_running_loop()
    wake = asyncio.Event()

    def on_change() -> None:  # from the store's thread: a change made elsewhere was loaded
        loop.call_soon_threadsafe(wake.set)

    try:
        session = await run_in_threadpool(store.open_stream, session_id, kind, on_change)
    except SessionNotFound as exc:
        await reject(websocket, str(exc), SESSION_EXPIRED if isinstance(exc, SessionExpired) else SESSION_GONE)
        return
    except SessionBusy as exc:
        await reject(websocket, str(exc), SESSION_BUSY)
        return
    try:
        await stream(websocket, session, handlers_for(session), websocket.app.state.settings.max_frames_per_second,
                     store, wake)
    finally:
        await run_in_threadpool(store.close_stream, session, on_change)


async def reject(websocket: WebSocket, detail: str, code: int = SESSION_GONE) -> None:
    """Refuse a connection: the client sees the close code and the reason."""
    await websocket.accept()
    await websocket.send_text(json.dumps({"type": "error", "detail": detail}))
    await websocket.close(code=code, reason=detail[:120])
