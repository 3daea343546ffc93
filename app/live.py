"""Live training over a WebSocket: train between frames, send at most N frames a second,
drop frames (never queue them) when the client falls behind.

A feature plugs in with three callables that run in a worker thread under the
session's lock, so the event loop never does CPU work:
  train(unit)      -> None  one unit of training: "frame" (what one frame covers, e.g. an epoch) or "batch"
  frame()          -> dict  the state to draw (arrays already encoded for the wire)
  configure(msg)   -> None  apply a {"type": "config", ...} message (optional)

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

from engine.errors import EngineError

from .store import Session

SESSION_GONE = 4404  # close code: the session id is unknown; reconnecting will not help


class LatestFrame:
    """A one-slot mailbox: putting a frame replaces an unsent one, which counts as dropped."""

    def __init__(self) -> None:
        self._frame: dict[str, Any] | None = None
        self._ready = asyncio.Event()
        self.dropped = 0

    def put(self, frame: dict[str, Any]) -> None:
        if self._frame is not None:
            self.dropped += 1
        self._frame = frame
        self._ready.set()

    async def get(self) -> dict[str, Any]:
        await self._ready.wait()
        frame, self._frame = self._frame, None
        self._ready.clear()
        assert frame is not None
        return frame


@dataclass
class LiveHandlers:
    train: Callable[[str], None]
    frame: Callable[[], dict[str, Any]]
    configure: Callable[[dict[str, Any]], None] | None = None
    finished: Callable[[], bool] = lambda: False


async def stream(websocket: WebSocket, session: Session, handlers: LiveHandlers, max_fps: float) -> None:
    """Serve one live connection until the client goes away."""
    await websocket.accept()
    mailbox = LatestFrame()
    playing = asyncio.Event()
    min_interval = 1.0 / max_fps if max_fps > 0 else 0.0

    def locked(fn: Callable[..., Any], *args: Any) -> Any:
        with session.lock:
            return fn(*args)

    async def snapshot() -> None:
        frame = await run_in_threadpool(locked, handlers.frame)
        mailbox.put({"type": "frame", "playing": playing.is_set(), **frame})

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
            await websocket.send_text(json.dumps(frame))

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
    except WebSocketDisconnect:
        pass
    finally:
        # Closing the tab stops the training loop; the session stays for a reconnect.
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def reject(websocket: WebSocket, detail: str) -> None:
    """Refuse a connection for an unknown session: the client sees close code 4404 and the reason."""
    await websocket.accept()
    await websocket.send_text(json.dumps({"type": "error", "detail": detail}))
    await websocket.close(code=SESSION_GONE, reason=detail[:120])
