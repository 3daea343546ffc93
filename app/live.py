"""Live training over a WebSocket: train between frames, send at most N frames a second,
drop frames (never queue them) when the client falls behind.

A feature plugs in with three callables that run in a worker thread under the
session's lock, so the event loop never does CPU work:
  train(unit)      -> None  one unit of training: "frame" (what one frame covers, e.g. an epoch) or "batch"
  frame()          -> dict  the state to draw (arrays already encoded for the wire)
  configure(dict)  -> None  apply a {"type": "config", ...} message (optional)
and optionally:
  config_schema    a pydantic model of the config message: the stream refuses unknown fields and invalid
                   values with the same sentences as a REST route's 422, and `configure` receives only the
                   fields the message gave, validated (without a schema it receives the raw message)
  history()        -> list  the trainer's metrics history: every frame then carries `history: {from, entries}`
                   (truncate the client's copy to `from`, append `entries`), and a frame dropped for a slow
                   client has its entries merged into the one that replaces it, so none is ever lost
  finished()       -> bool  stop playing (e.g. a limit reached)
  merge(old, new)  -> dict  a feature's own deltas to carry over when `new` replaces an unsent `old` frame
  raw_frame()      -> dict  the frame with its arrays still NumPy: the stream can then send binary frames

The stream owns the plumbing: it keeps the session alive while it streams (each frame marks it used and busy, so
the idle time-out never drops a session that is training live), the history deltas, the config validation and
the close codes. If the session is gone (deleted, or the store expired it), the client gets an error and the
connection closes with code 4404 (4410 when it expired).

With the session store, `serve` holds the session's streaming lease while the connection lasts: the session
stays in memory, is written at most once a second while it trains (by the store's writer thread, never by a
frame), and a change made by a REST request on another worker is loaded and sent as a frame at once.

Client → server messages: {"type": "play"}, {"type": "pause"}, {"type": "step", "unit": "frame"|"batch"},
{"type": "config", ...}, {"type": "frame"} (send the current state without training).
Server → client: {"type": "frame", "playing": bool, "dropped": int, ...frame(), "history"?} and
{"type": "error", "detail": str, "status": int} (the HTTP status a REST route would answer: 409 when training
diverged, 422, 413, 404; the connection stays open unless the session is gone, which closes it with 4404).

Two opt-ins in the URL's query, for clients that draw every frame (the pages):
- `frames=binary` (a feature with `raw_frame`): frames are binary messages — a small JSON header and the arrays
  as raw bytes (app/arrays.py `pack_binary`), instead of JSON with base64 arrays; errors stay JSON text.
- `ack=1`: the client sends {"type": "ack"} when it has drawn a frame, and the stream trains the next frame only
  then (or after `ACK_WAIT` seconds without one): the server never trains faster than the client draws, so a
  background tab, a slow phone or a class of sixty costs only the frames that are seen.

Each frame of play is one worker call: train, check `finished`, build the frame and copy its arrays for the wire,
under the session's lock; the event loop only packs the header and sends.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any, Protocol

from fastapi import WebSocket, WebSocketDisconnect
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.websockets import WebSocketState

from engine.core.errors import EngineError

from .arrays import encode, encode_binary, pack_binary
from .errors import describe_errors, status_of
from .store import ReadOnlySession, Session, SessionBusy, SessionExpired, SessionNotFound, SessionStore
from .work import JobSlots

log = logging.getLogger("glassbox.live")

SESSION_GONE = 4404  # close code: the session id is unknown; reconnecting will not help
SESSION_EXPIRED = 4410  # close code: the store removed the session (retention, disk budget)
SESSION_BUSY = 4409  # close code: another worker streams the session; reconnecting later may succeed
ACK_WAIT = 1.0  # seconds an acknowledging client may take to draw a frame before the next one is trained anyway
BLOBS = "_blobs"  # a binary frame's array bytes, kept beside its header until it is sent


Merge = Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]]


def merge_history(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """`new` replaces the unsent frame `old`: carry `old`'s history entries that `new` does not repeat."""
    a, b = old.get("history"), new.get("history")
    if a is not None and b is not None and b["from"] > a["from"]:
        new["history"] = {"from": a["from"], "entries": a["entries"][: b["from"] - a["from"]] + b["entries"]}
    return new


class HistoryFeed:
    """What one connection has been sent of a trainer's history, and the delta to send next.

    The last entry sent is sent again (a record at the same step replaces it in place); a new history list
    (a reset, a rebuilt trainer) is sent from the start; a shorter one (a diverged chunk rolled back) from
    where it now ends.
    """

    def __init__(self, source: Callable[[], list[dict[str, Any]]]) -> None:
        self.source = source
        self.sent_list: list[dict[str, Any]] | None = None
        self.sent = 0

    def delta(self) -> dict[str, Any]:
        history = self.source()
        if history is not self.sent_list:
            self.sent_list, start = history, 0
        else:
            start = min(max(0, self.sent - 1), len(history))
        self.sent = len(history)
        return {"from": start, "entries": list(history[start:])}


class LatestFrame:
    """A one-slot mailbox: putting a frame replaces an unsent one, which counts as dropped (its history
    entries are merged into the replacing frame, and `merge` may carry more).

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
                message = merge_history(self._frame, message)
                if self._merge is not None:
                    message = self._merge(self._frame, message)
            self._frame = message
        self._ready.set()

    async def get(self) -> dict[str, Any]:
        await self._ready.wait()
        message: dict[str, Any] | None
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
    history: Callable[[], list[dict[str, Any]]] | None = None
    config_schema: type[BaseModel] | None = None
    config_hint: str = ""  # added to the unknown-fields message, e.g. where other settings change
    raw_frame: Callable[[], dict[str, Any]] | None = None  # arrays as NumPy: binary frames are possible


def validate_config(message: dict[str, Any], schema: type[BaseModel], hint: str = "") -> dict[str, Any]:
    """A config message checked by the feature's schema: the fields it gave, validated, without 'type'."""
    changes = {k: v for k, v in message.items() if k != "type"}
    known = sorted(schema.model_fields)
    unknown = sorted(set(changes) - set(known))
    if unknown:
        raise EngineError(f"unknown config fields {unknown}; use {', '.join(known)}{hint}")
    try:
        valid = schema.model_validate(changes)
    except ValidationError as exc:
        raise EngineError(f"config: {describe_errors(list(exc.errors()))}") from None
    return {name: getattr(valid, name) for name in valid.model_fields_set}


class FrameTap(Protocol):
    """Something else that wants a session's live frames as they are built (a classroom following a teacher's
    session, app/rooms.py): `sent` runs in the stream's worker thread under the session's lock, with each frame
    message the stream sends (history delta included), so the frame is computed once for everyone; `ended` when
    the stream closes. A tap may ask the stream for a frame now with `stream.want_frame()`."""

    def sent(self, stream: LiveStream, message: dict[str, Any]) -> None: ...

    def ended(self, stream: LiveStream) -> None: ...


class LiveStream:
    """One live connection: a trainer loop that trains while playing, a sender that empties the mailbox, and the
    client's messages. With a store, every piece of work on the session marks it used and busy."""

    def __init__(self, websocket: WebSocket, session: Session, handlers: LiveHandlers, max_fps: float,
                 store: SessionStore | None, wake: asyncio.Event | None = None, *, jobs: JobSlots | None = None,
                 max_queued_steps: int = 4, busy_wait: float = 2.0, tap: FrameTap | None = None,
                 binary: bool = False, ack: bool = False) -> None:
        self.websocket, self.session, self.handlers, self.store = websocket, session, handlers, store
        # Set (from another thread) when a change made elsewhere was loaded, or a tap wants a frame: send one.
        self.wake = wake if wake is not None else asyncio.Event()
        self.tap = tap
        self.loop: asyncio.AbstractEventLoop | None = None
        self.binary = binary and handlers.raw_frame is not None
        # Set while the client may take another frame: cleared when a frame goes out to an acknowledging client,
        # set again by its ack.
        self.ack = ack
        self.drawn = asyncio.Event()
        self.drawn.set()
        self.mailbox = LatestFrame(handlers.merge)
        self.playing = asyncio.Event()
        # Step messages wait here and are trained by the trainer loop, under the same frame-rate cap as playing;
        # `ready` wakes the loop for playing or for a queued step. Each training chunk takes one of the server's
        # training slots (`jobs`), waiting its turn without holding a thread.
        self.queued: list[str] = []
        self.ready = asyncio.Event()
        self.jobs, self.max_queued_steps, self.busy_wait = jobs, max_queued_steps, busy_wait
        self.min_interval = 1.0 / max_fps if max_fps > 0 else 0.0
        self.feed = HistoryFeed(handlers.history) if handlers.history is not None else None

    # --- work on the session, in a worker thread under its lock ------------------------------------------

    @contextmanager
    def _held(self) -> Iterator[None]:
        """The session's lock, waited for at most busy_wait seconds (then SessionBusy: a long REST training
        request must not stall the stream's thread for its whole length)."""
        if not self.session.lock.acquire(timeout=self.busy_wait):
            raise SessionBusy("the session is busy with another request (a training request or another stream); "
                              "try again in a moment")
        try:
            yield
        finally:
            self.session.lock.release()

    def _locked(self, fn: Callable[..., Any], *args: Any) -> Any:
        with self._held(), (self.store.working(self.session) if self.store is not None else nullcontext()):
            return fn(*args)

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await run_in_threadpool(self._locked, fn, *args)

    def _changing(self, fn: Callable[..., Any], *args: Any) -> Any:
        if self.store is not None:
            self.store.before_live_change(self.session)  # waits while a change made elsewhere is on its way
        with self._held(), (self.store.working(self.session) if self.store is not None else nullcontext()):
            result = fn(*args)
            if self.store is not None:
                self.store.changed_live(self.session)  # written at most once a second, by the store's thread
            return result

    async def change(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Like run, for work that changes the session (training, settings)."""
        return await run_in_threadpool(self._changing, fn, *args)

    def _frame(self) -> dict[str, Any]:
        raw = None
        if self.binary:
            assert self.handlers.raw_frame is not None
            raw = self.handlers.raw_frame()
            blobs: list[bytes] = []
            frame = encode_binary(raw, blobs)  # copies the arrays: training may go on
            frame[BLOBS] = blobs
        else:
            frame = self.handlers.frame()
        if self.feed is not None:
            frame["history"] = self.feed.delta()  # under the same lock as the frame: the same moment
        wants = getattr(self.tap, "wants", None)
        if self.tap is not None and (wants is None or wants(self)):
            # A tap takes frames in the JSON form (base64 arrays), whatever this connection is sent.
            tapped = frame if raw is None else {**encode(raw, "base64"), "history": frame.get("history")}
            if tapped.get("history") is None:
                tapped.pop("history", None)
            try:
                self.tap.sent(self, {"type": "frame", "playing": self.playing.is_set(), **tapped})
            except Exception:  # noqa: BLE001 - a follower's trouble must never stop the teacher's stream
                log.exception("a frame tap failed")
        return frame

    def _train_frame(self, unit: str, while_playing: bool) -> tuple[dict[str, Any], bool]:
        """One frame of play in one worker call: train, whether to stop, the frame."""
        self._train(unit, while_playing)
        return self._frame(), bool(self.handlers.finished())

    def want_frame(self) -> None:
        """Send a frame soon (thread-safe): a tap needs the current state, e.g. for a follower that just came."""
        if self.loop is not None:
            self.loop.call_soon_threadsafe(self.wake.set)

    def _configure(self, message: dict[str, Any]) -> None:
        if self.handlers.configure is None:
            raise EngineError("this stream takes no configuration")
        if self.handlers.config_schema is not None:
            message = validate_config(message, self.handlers.config_schema, self.handlers.config_hint)
        self.handlers.configure(message)

    async def snapshot(self) -> None:
        frame = await self.run(self._frame)
        self.mailbox.put({"type": "frame", "playing": self.playing.is_set(), **frame})

    def error(self, exc: Exception) -> None:
        """Report an error with the status a REST route would answer (409 diverged, 422, 413, 404); a session
        that is gone also closes the connection (4404)."""
        message = {"type": "error", "detail": str(exc), "status": status_of(exc)}
        if isinstance(exc, LookupError):
            self.playing.clear()
            message["close"] = SESSION_EXPIRED if isinstance(exc, SessionExpired) else SESSION_GONE
        self.mailbox.put(message)

    # --- the three loops ---------------------------------------------------------------------------------

    async def trainer_loop(self) -> None:
        while True:
            while not (self.playing.is_set() or self.queued):
                self.ready.clear()
                await self.ready.wait()
            if self.ack and not self.drawn.is_set():
                # The client has not drawn the last frame yet: train the next one when it has.
                try:
                    await asyncio.wait_for(self.drawn.wait(), ACK_WAIT)
                except TimeoutError:
                    pass
                if not (self.playing.is_set() or self.queued):
                    continue
            started = time.monotonic()
            try:
                unit, while_playing = (self.queued.pop(0), False) if self.queued else ("frame", True)
                frame, finished = await self.train(unit, while_playing=while_playing)
                if finished:
                    self.playing.clear()
                self.mailbox.put({"type": "frame", "playing": self.playing.is_set(), **frame})
            except SessionBusy as exc:
                self.error(exc)
                await asyncio.sleep(max(self.min_interval, 0.05))
                continue
            except _Reported:
                self.queued.clear()
                continue
            except LookupError as exc:
                self.error(exc)
                return
            # Cap the frame rate; the remaining time is the CPU left for other users.
            await asyncio.sleep(max(0.0, self.min_interval - (time.monotonic() - started)))

    def _train(self, unit: str, while_playing: bool) -> None:
        # Checked under the session's lock: a pause that came while this waited for it wins, so the frame
        # that answers the pause shows all the training there will be.
        if not while_playing or self.playing.is_set():
            self.handlers.train(unit)

    async def train(self, unit: str, while_playing: bool = False) -> tuple[dict[str, Any], bool]:
        """Train one unit and build its frame (one worker call); returns the frame and whether to stop playing.
        A training error (divergence) pauses, is reported, and is followed by a frame that shows the state it
        left."""
        if self.jobs is not None:
            await self.jobs.wait()
        try:
            return await self.change(self._train_frame, unit, while_playing)
        except (EngineError, ReadOnlySession) as exc:
            self.playing.clear()
            self.error(exc)
            await self.snapshot()
            raise _Reported from None
        finally:
            if self.jobs is not None:
                self.jobs.release()

    async def sender_loop(self) -> None:
        while True:
            frame = await self.mailbox.get()
            if frame.get("type") == "frame":
                frame["dropped"] = self.mailbox.dropped
                if self.ack:
                    self.drawn.clear()
            close = frame.pop("close", None)
            blobs = frame.pop(BLOBS, None)
            if blobs is not None:
                await self.websocket.send_bytes(pack_binary(frame, blobs))
            else:
                await self.websocket.send_text(json.dumps(frame))
            if close is not None:
                await self.websocket.close(code=close, reason=frame["detail"][:120])
                return

    async def handle(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "ack":  # the client drew a frame: the next may be trained
            self.drawn.set()
            return
        if kind == "play":
            self.playing.set()
            self.ready.set()
        elif kind == "pause":
            self.playing.clear()
        elif kind == "step":
            # Trained by the trainer loop, under the same frame-rate cap as playing; its frame follows.
            self.playing.clear()
            if len(self.queued) >= self.max_queued_steps:
                raise EngineError(f"{len(self.queued)} steps are already waiting to train (at most "
                                  f"{self.max_queued_steps}, setting GLASSBOX_MAX_QUEUED_STEPS); wait for their "
                                  f"frames")
            self.queued.append("batch" if message.get("unit") == "batch" else "frame")
            self.ready.set()
            return
        elif kind == "config":
            await self.change(self._configure, message)
        elif kind != "frame":
            raise EngineError(f"unknown message type {kind!r}; use play, pause, step, config, frame or ack")
        await self.snapshot()

    async def receive_loop(self) -> None:
        while True:
            received = await self.websocket.receive()
            if received["type"] == "websocket.disconnect":
                raise WebSocketDisconnect(received.get("code", 1000))
            text = received.get("text")
            if text is None:
                self.error(EngineError("send text frames holding JSON, e.g. {\"type\": \"play\"}; binary frames "
                                       "are not understood"))
                continue
            try:
                message = json.loads(text)
                if not isinstance(message, dict):
                    raise EngineError("messages are JSON objects with a 'type'")
                await self.handle(message)
            except json.JSONDecodeError:
                self.error(EngineError("messages must be JSON objects, e.g. {\"type\": \"play\"}"))
            except _Reported:
                pass
            except (EngineError, LookupError, ReadOnlySession, SessionBusy) as exc:
                self.error(exc)

    async def waker_loop(self) -> None:
        while True:
            await self.wake.wait()
            self.wake.clear()
            await self.snapshot()

    async def serve(self) -> None:
        self.loop = asyncio.get_running_loop()
        await self.websocket.accept()
        tasks = [asyncio.create_task(loop()) for loop in (self.trainer_loop, self.sender_loop, self.waker_loop)]
        try:
            try:
                await self.snapshot()
            except LookupError as exc:
                self.error(exc)
            await self.receive_loop()
        except WebSocketDisconnect:
            pass
        except RuntimeError:
            # Starlette raises this instead of WebSocketDisconnect once a failed send (the client left) or
            # our own close (4404) has ended the connection; anything else is a bug.
            if getattr(self.websocket, "application_state", None) != WebSocketState.DISCONNECTED:
                raise
        finally:
            # Closing the tab stops the training loop; the session stays for a reconnect.
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if self.tap is not None:
                self.tap.ended(self)


class _Reported(Exception):
    """A training error already sent to the client."""


async def stream(websocket: WebSocket, session: Session, handlers: LiveHandlers, max_fps: float,
                 store: SessionStore | None = None) -> None:
    """Serve one live connection until the client goes away. With `store`, every frame and message marks the
    session used (and busy while it works), and a session gone from the store closes the stream with 4404."""
    await LiveStream(websocket, session, handlers, max_fps, store).serve()


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
    settings = websocket.app.state.settings
    query = websocket.query_params
    try:
        await LiveStream(websocket, session, handlers_for(session), settings.max_frames_per_second, store, wake,
                         jobs=getattr(websocket.app.state, "jobs", None), max_queued_steps=settings.max_queued_steps,
                         busy_wait=settings.busy_wait_seconds,
                         tap=getattr(websocket.app.state, "frame_tap", None), binary=query.get("frames") == "binary",
                         ack=query.get("ack") in ("1", "true")).serve()
    finally:
        # Shielded: a server (or test client) that cancels the connection's task must not leave the session
        # counted as streaming; the stream's last state is written and its lease released all the same.
        await asyncio.shield(run_in_threadpool(store.close_stream, session, on_change))


async def reject(websocket: WebSocket, detail: str, code: int = SESSION_GONE) -> None:
    """Refuse a connection: the client sees the close code and the reason."""
    await websocket.accept()
    await websocket.send_text(json.dumps({"type": "error", "detail": detail}))
    await websocket.close(code=code, reason=detail[:120])
