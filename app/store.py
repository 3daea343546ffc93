"""Sessions: in memory while in use, written through to a durable backend (app/storage).

Each session has its own lock: requests on one session run one at a time, requests on different sessions run in
parallel (FastAPI runs the sync route functions in its thread pool, off the event loop).

With a backend (SQLite by default, Redis for several workers), a session is its trainer's `state()` bytes plus
JSON metadata (`Session.extra`), written:
- after every request that changes it (`use()` writes back when its block ends);
- while it trains live, at most once every `snapshot_seconds`, by a background thread (a frame only pays for the
  copy `state()` makes, never for the write), and once more when the stream ends or the server stops.
Any worker reads it back on demand. Eviction (LRU, idle time-out) moves a session out of memory, never out of the
store; the store forgets sessions after the retention period and beyond its disk budget (oldest first), and a
request for such a session answers that it expired, and when (410).

Several workers (Redis): a request that changes a session holds the session's cross-process lock; a live stream
holds a lease on its session; a change made by another worker while the session streams goes like this: that
worker asks the streaming one (pub/sub) to write its latest state and hold training, applies the change to what
it reads, writes it, and says so; the streaming worker loads the change in place and sends a frame.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from engine.core.errors import EngineError
from engine.core.training import TrainerState

from .storage import SESSION, SHARE, Backend, Record, Tombstone

log = logging.getLogger("glassbox.store")


class SessionNotFound(LookupError):
    """404: no such session (or a session of another kind)."""


class SessionExpired(SessionNotFound):
    """410: the store removed the session after its retention period or to keep within its disk budget."""


class ReadOnlySession(PermissionError):
    """403: a share id opens a snapshot for reading only."""


class SessionBusy(RuntimeError):
    """409: the session is busy with another request, streams on another worker, or another process wrote it
    first."""


class MemoryBudgetExceeded(Exception):
    """413: the sessions in memory and the new one would hold more than the server's memory budget."""


@dataclass
class Session:
    id: str
    kind: str
    obj: Any
    lock: threading.RLock = field(default_factory=threading.RLock)
    created: float = field(default_factory=time.monotonic)
    last_used: float = field(default_factory=time.monotonic)
    extra: dict[str, Any] = field(default_factory=dict)  # JSON metadata the routes keep; stored with the state
    nbytes: int = 0  # estimated memory held (engine.core.budget), counted against the store's total
    # Requests and live frames working on the session right now: a busy session is not idle, however long a
    # request or a frame takes.
    busy: int = 0
    cache: dict[str, Any] = field(default_factory=dict)  # what a route may recompute; memory only
    owner: str | None = None
    readonly: bool = False  # a share snapshot
    version: int = 0  # of the last write (or read) of the stored record
    created_at: float = field(default_factory=time.time)
    # Live streaming.
    streams: int = 0  # live connections on this worker; a streaming session stays in memory
    dirty: bool = False  # trained live since its last write
    saved_at: float = field(default_factory=time.monotonic)
    deleted: bool = False
    may_train: threading.Event = field(default_factory=threading.Event)  # cleared while a change comes from afar
    on_change: list[Callable[[], None]] = field(default_factory=list)  # streams to wake after such a change

    def __post_init__(self) -> None:
        self.may_train.set()


# --- how a session's object becomes a TrainerState and back ----------------------------------------------------


@dataclass(frozen=True)
class Codec:
    dump: Callable[[Any], TrainerState]  # the object's state (a copy)
    build: Callable[[TrainerState], Any]  # a new object from a state
    load_into: Callable[[Any, TrainerState], None]  # an existing object takes a state in place


def _restore(state: TrainerState) -> Any:
    from engine.core.training import restore_trainer

    return restore_trainer(state)


TRAINER_CODEC = Codec(dump=lambda obj: obj.state(), build=_restore, load_into=lambda obj, st: obj.load_state(st))
CODECS: dict[str, Codec] = {}


def register_codec(kind: str, codec: Codec) -> None:
    """Sessions of `kind` whose object is not a trainer itself (e.g. a trainer with a cached copy) say here how
    they are stored; every other kind stores its trainer's state()."""
    CODECS[kind] = codec


def codec_for(kind: str, obj: Any) -> Codec | None:
    if kind in CODECS:
        return CODECS[kind]
    return TRAINER_CODEC if hasattr(obj, "state") and hasattr(obj, "load_state") else None


def _utc(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")


class SessionStore:
    def __init__(self, max_sessions: int, idle_seconds: float, backend: Backend | None = None, *,
                 retention_seconds: float = 30 * 86400.0, max_bytes: int = 2 << 30, snapshot_seconds: float = 1.0,
                 lock_timeout: float = 30.0, lease_seconds: float = 6.0, purge_seconds: float = 600.0,
                 max_total_bytes: int | None = None, busy_wait: float = 2.0) -> None:
        self.max_sessions = max_sessions
        self.idle_seconds = idle_seconds
        self.max_total_bytes = max_total_bytes
        self.busy_wait = busy_wait
        self.backend = backend
        self.retention_seconds = retention_seconds
        self.max_bytes = max_bytes
        self.snapshot_seconds = snapshot_seconds
        self.lock_timeout = lock_timeout
        self.lease_seconds = lease_seconds
        self.purge_seconds = purge_seconds
        self.worker = uuid.uuid4().hex  # this process, as leases and messages name it
        self._sessions: OrderedDict[str, Session] = OrderedDict()
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._pending: dict[str, tuple[Session, Record, TrainerState]] = {}  # snapshots the writer has yet to write
        self._pending_ready = threading.Condition()
        self._threads: list[threading.Thread] = []
        if backend is not None:
            backend.listen(self._on_message)
            self.purge()
            for target, name in ((self._writer, "glassbox-store-writer"), (self._keeper, "glassbox-store-keeper")):
                thread = threading.Thread(target=target, name=name, daemon=True)
                thread.start()
                self._threads.append(thread)

    # --- sessions ----------------------------------------------------------------------------------------------

    def add(self, kind: str, obj: Any, *, extra: dict[str, Any] | None = None, owner: str | None = None,
            nbytes: int = 0) -> Session:
        """Keep `obj` in a new session, written to the store; the least recently used sessions leave memory to
        make room (by count and by the memory budget)."""
        session = Session(secrets.token_urlsafe(16), kind, obj, extra=dict(extra or {}), owner=owner, nbytes=nbytes)
        self.reserve(nbytes)
        with session.lock:
            self._write(session)
        self._remember(session)
        return session

    def reserve(self, nbytes: int, session: Session | None = None) -> None:
        """Check before building something of `nbytes` (a new session, or `session` growing to that size) that it
        fits the total budget, dropping least recently used idle sessions to make room; MemoryBudgetExceeded if
        it cannot fit."""
        with self._lock:
            self._purge_idle()
            self._make_room(nbytes - (session.nbytes if session is not None else 0), exclude=session)

    def resize(self, session: Session, nbytes: int) -> None:
        """Record a session's new size (after `reserve` said it fits)."""
        with self._lock:
            session.nbytes = nbytes

    def in_memory(self) -> list[str]:
        """The ids of the sessions held in this process's memory now (the store keeps the others)."""
        with self._lock:
            return list(self._sessions)

    def total_bytes(self) -> int:
        with self._lock:
            return sum(s.nbytes for s in self._sessions.values())

    def _make_room(self, nbytes: int, exclude: Session | None) -> None:
        if self.max_total_bytes is None or nbytes <= 0:
            return
        total = sum(s.nbytes for s in self._sessions.values())
        if total + nbytes <= self.max_total_bytes:
            return
        # Oldest first; a session a request is using right now stays.
        for sid, s in list(self._sessions.items()):
            if total + nbytes <= self.max_total_bytes:
                break
            if s is exclude or s.streams or s.busy or not s.lock.acquire(blocking=False):
                continue
            try:
                del self._sessions[sid]
                total -= s.nbytes
            finally:
                s.lock.release()
        if total + nbytes > self.max_total_bytes:
            raise MemoryBudgetExceeded(
                f"the session needs about {nbytes / 2**20:,.0f} MiB and the sessions in use hold "
                f"{total / 2**20:,.0f} MiB of the server's {self.max_total_bytes / 2**20:,.0f} MiB (setting "
                f"GLASSBOX_MAX_TOTAL_BYTES); make it smaller or try again when others have finished")

    def get(self, session_id: str, kind: str | None) -> Session:
        """The session (of `kind`, or of any kind for None), from memory or else from the store; raises
        SessionNotFound / SessionExpired."""
        with self._lock:
            self._purge_idle()
            session = self._sessions.get(session_id)
            if session is not None:
                session.last_used = time.monotonic()
                self._sessions.move_to_end(session_id)
        if session is None:
            session = self._load(session_id, kind)
        elif self._may_be_stale(session):
            stored = self.backend.version(session_id) if self.backend is not None else None
            if stored is None:
                self._forget(session_id)
                raise self._not_found(session_id, kind)
            if stored > session.version:
                with session.lock:
                    self._refresh(session)
        if kind is not None and session.kind != kind:
            raise self._not_found(session_id, kind)
        return session

    @contextmanager
    def use(self, session_id: str, kind: str, *, changes: bool = True,
            timeout: float | None = None) -> Iterator[Session]:
        """The session, held under its lock for the `with` block: one request at a time per session. A request
        waits at most `timeout` seconds (default: the store's busy_wait) for another one using the session, then
        SessionBusy (409): a long training request must not pile up waiting threads.

        With `changes` (every route that may change the session), the block runs under the session's
        cross-process lock, after any live stream on another worker has written its latest state, and the
        session is written back when the block ends. A share (read-only) refuses changes. After a change, the
        session's live streams in this process send a frame: a page follows what a script does over REST."""
        if not changes or self.backend is None:
            session = self.get(session_id, kind)
            if changes and session.readonly:
                raise self._read_only(session)
            with self._locked(session, timeout), self.working(session):
                yield session
            if changes:
                self._wake_streams(session)
            return
        with self.backend.lock(session_id, self.lock_timeout):
            held_elsewhere = self._sync_with_stream(session_id)
            session = self.get(session_id, kind)
            if session.readonly:
                raise self._read_only(session)
            with self._locked(session, timeout), self.working(session):
                try:
                    yield session
                finally:
                    self._write(session)
            if held_elsewhere:
                self.backend.publish(session_id, {"type": "changed", "version": session.version,
                                                  "from": self.worker})
        self._wake_streams(session)

    @staticmethod
    def _wake_streams(session: Session) -> None:
        for wake in list(session.on_change):
            wake()

    @contextmanager
    def _locked(self, session: Session, timeout: float | None) -> Iterator[None]:
        if not session.lock.acquire(timeout=self.busy_wait if timeout is None else timeout):
            raise SessionBusy(f"the {session.kind} session '{session.id}' is busy with another request (training, "
                              f"or a live stream's frame); try again in a moment")
        try:
            yield
        finally:
            session.lock.release()

    @contextmanager
    def working(self, session: Session) -> Iterator[None]:
        """Mark the session busy for the block (the idle time-out skips it) and used at its start and end; a
        live stream's frames go through here. Raises SessionNotFound when the session was deleted meanwhile."""
        self.touch(session)
        session.busy += 1
        try:
            yield
        finally:
            session.busy -= 1
            session.last_used = time.monotonic()

    def touch(self, session: Session) -> None:
        """The session was used now. SessionNotFound when it was deleted, or (without a backend) dropped from
        memory; with a backend, a session evicted meanwhile comes back into memory (it is still stored)."""
        with self._lock:
            self._purge_idle()
            current = self._sessions.get(session.id)
            if current is not session and (session.deleted or self.backend is None or current is not None):
                raise SessionNotFound(f"the {session.kind} session '{session.id}' was dropped (deleted, idle for "
                                      f"{self.idle_seconds / 60:g} minutes, or to make room for newer ones); "
                                      f"create a new one")
            session.last_used = time.monotonic()
            self._sessions[session.id] = session
            self._sessions.move_to_end(session.id)

    def delete(self, session_id: str, kind: str) -> None:
        session = self.get(session_id, kind)
        if session.readonly:
            raise self._read_only(session)
        session.deleted = True
        self._forget(session_id)
        if self.backend is not None:
            self.backend.delete(session_id)
            self.backend.publish(session_id, {"type": "deleted", "from": self.worker})

    def __len__(self) -> int:
        return len(self._sessions)

    def __contains__(self, session_id: object) -> bool:
        """Whether the session is in memory now (purging idle ones first)."""
        with self._lock:
            self._purge_idle()
            return session_id in self._sessions

    # --- share snapshots ---------------------------------------------------------------------------------------

    def share(self, session: Session, extra: dict[str, Any]) -> Session:
        """An immutable, read-only copy of a session (the caller holds its lock) under a new random id."""
        codec = codec_for(session.kind, session.obj)
        if codec is None:
            raise EngineError(f"a {session.kind} session cannot be copied")
        state = codec.dump(session.obj)
        snapshot = Session(secrets.token_urlsafe(16), session.kind, codec.build(state), readonly=True,
                           extra={**session.extra, **extra})
        if self.backend is not None:
            now = time.time()
            snapshot.version = 1
            self.backend.save(Record(snapshot.id, SHARE, snapshot.kind, state.to_bytes(), 1, None, now, now,
                                     snapshot.extra))
        self._remember(snapshot)
        return snapshot

    def fork(self, share_id: str, kind: str, drop: tuple[str, ...] = ()) -> Session:
        """A new session of one's own from a share snapshot (or from any session)."""
        with self.use(share_id, kind, changes=False) as source:
            codec = codec_for(source.kind, source.obj)
            if codec is None:
                raise EngineError(f"a {source.kind} session cannot be copied")
            obj = codec.build(codec.dump(source.obj))
            extra = {k: v for k, v in source.extra.items() if k not in drop}
        return self.add(kind, obj, extra=extra)

    # --- live streams ------------------------------------------------------------------------------------------

    def open_stream(self, session_id: str, kind: str, on_change: Callable[[], None]) -> Session:
        """Start streaming a session on this worker: take its lease (SessionBusy if another worker streams it),
        keep it in memory, and call `on_change` (from another thread) after a change made elsewhere."""
        if self.backend is None:
            session = self.get(session_id, kind)
        else:
            with self.backend.lock(session_id, self.lock_timeout):
                if not self.backend.lease(session_id, self.worker, self.lease_seconds):
                    raise SessionBusy(f"session '{session_id}' is training live in another window served by "
                                      "another worker; close that window (or wait a few seconds) and reconnect")
                try:
                    session = self.get(session_id, kind)
                except BaseException:
                    self.backend.release_lease(session_id, self.worker)
                    raise
        with session.lock:
            session.streams += 1
            session.on_change.append(on_change)
        return session

    def close_stream(self, session: Session, on_change: Callable[[], None]) -> None:
        with session.lock:
            session.streams -= 1
            session.on_change.remove(on_change)
            if session.dirty and not session.deleted:
                self._write(session)
            last = session.streams == 0
        if last and self.backend is not None:
            self.backend.release_lease(session.id, self.worker)

    def before_live_change(self, session: Session) -> None:
        """Called by a live stream before it trains: wait while a change made elsewhere is on its way (at most a
        few seconds); refuse when the session was deleted."""
        session.may_train.wait(self.lease_seconds)
        if session.deleted:
            raise SessionNotFound(f"the {session.kind} session '{session.id}' was deleted")
        if session.readonly:
            raise self._read_only(session)

    def changed_live(self, session: Session) -> None:
        """Called by a live stream, under the session's lock, after it trained or took a setting: the session
        is written at most once every `snapshot_seconds`, by the writer thread."""
        session.dirty = True
        session.last_used = time.monotonic()
        if self.backend is not None and time.monotonic() - session.saved_at >= self.snapshot_seconds:
            self._snapshot(session)

    # --- housekeeping ------------------------------------------------------------------------------------------

    def purge(self) -> list[Tombstone]:
        """Remove what is past retention or over the disk budget from the store (and from memory)."""
        if self.backend is None:
            return []
        removed = self.backend.purge(time.time(), self.retention_seconds, self.max_bytes)
        for tomb in removed:
            log.info("removed %s %s (%s)", tomb.type, tomb.id, tomb.reason)
            self._forget(tomb.id, keep_streaming=True)
        return removed

    def flush(self) -> None:
        """Write every session trained live since its last write, now."""
        with self._lock:
            sessions = list(self._sessions.values())
        for session in sessions:
            with session.lock:
                if session.dirty and not session.deleted:
                    self._write(session)
        with self._pending_ready:
            while self._pending:
                self._pending_ready.wait(0.1)

    def close(self) -> None:
        """Write what is unwritten and stop the background threads (the server shuts down)."""
        if self.backend is None or self._closed.is_set():
            return
        self.flush()
        self._closed.set()
        with self._pending_ready:
            self._pending_ready.notify_all()
        for thread in self._threads:
            thread.join(5)
        self.backend.close()

    # --- inside ------------------------------------------------------------------------------------------------

    def _remember(self, session: Session) -> Session:
        """Keep a session in memory (or return the copy another thread loaded first), evicting others."""
        with self._lock:
            self._purge_idle()
            existing = self._sessions.get(session.id)
            if existing is not None:
                return existing
            while len(self._sessions) >= self.max_sessions:
                victim = next((s for s in self._sessions.values() if not s.streams and not s.busy), None)
                if victim is None:
                    break  # every session in memory streams: keep them all
                del self._sessions[victim.id]
            self._sessions[session.id] = session
            return session

    def _forget(self, session_id: str, keep_streaming: bool = False) -> None:
        with self._lock:
            session = self._sessions.get(session_id)
            if session is not None and not (keep_streaming and session.streams):
                del self._sessions[session_id]

    def _purge_idle(self) -> None:
        now = time.monotonic()
        for sid in [s.id for s in self._sessions.values()
                    if now - s.last_used > self.idle_seconds and not s.streams and not s.busy]:
            del self._sessions[sid]

    def _may_be_stale(self, session: Session) -> bool:
        """Whether another process may have written a newer version (not for a session streaming here, whose
        lease makes every other worker ask before changing it, nor for an immutable share)."""
        return self.backend is not None and self.backend.shared and not session.streams and not session.readonly

    def _not_found(self, session_id: str, kind: str | None) -> SessionNotFound:
        tomb = self.backend.gone(session_id) if self.backend is not None else None
        what = "share" if tomb is not None and tomb.type == SHARE else f"{kind or 'a'} session"
        if tomb is not None and tomb.reason == "retention":
            days = self.retention_seconds / 86400
            return SessionExpired(f"the {what} '{session_id}' expired on {_utc(tomb.removed)}: the store keeps them "
                                  f"{days:g} days after their last change (GLASSBOX_RETENTION_DAYS); start a new one")
        if tomb is not None:
            return SessionExpired(f"the {what} '{session_id}' was removed on {_utc(tomb.removed)} to keep the store "
                                  f"within its disk budget (GLASSBOX_STORE_MAX_BYTES, oldest first); start a new one")
        if self.backend is None:
            return SessionNotFound(
                f"no {kind} session '{session_id}': the id is unknown, or the session was dropped after "
                f"{self.idle_seconds / 60:g} minutes idle or to make room for newer ones; create a new one")
        return SessionNotFound(f"no {kind} session '{session_id}': the id is unknown or the session was deleted; "
                               "create a new one")

    @staticmethod
    def _read_only(session: Session) -> ReadOnlySession:
        return ReadOnlySession(f"'{session.id}' is a read-only share: it cannot be changed or trained; fork it "
                               f"(POST /api/shares/{session.id}/fork) to get a session of your own")

    def _load(self, session_id: str, kind: str | None) -> Session:
        record = self.backend.load(session_id) if self.backend is not None else None
        if record is None:
            raise self._not_found(session_id, kind)
        if kind is not None and record.kind != kind:
            raise self._not_found(session_id, kind)
        session = Session(record.id, record.kind, None, extra=record.extra, owner=record.owner,
                          readonly=record.type == SHARE, version=record.version, created_at=record.created)
        self._apply(session, record, in_place=False)
        return self._remember(session)

    def _refresh(self, session: Session) -> None:
        """Take the stored version in (caller holds the session's lock)."""
        record = self.backend.load(session.id) if self.backend is not None else None
        if record is not None and record.version > session.version:
            self._apply(session, record, in_place=bool(session.streams))

    def _apply(self, session: Session, record: Record, in_place: bool) -> None:
        state = TrainerState.from_bytes(record.state)
        codec = codec_for(session.kind, session.obj) if session.obj is not None else None
        codec = codec or CODECS.get(session.kind, TRAINER_CODEC)
        if in_place:  # live handlers hold on to the object: it takes the state itself
            codec.load_into(session.obj, state)
        else:
            session.obj = codec.build(state)
        session.extra = record.extra
        session.version = record.version
        session.dirty = False

    def _record(self, session: Session, state: TrainerState) -> Record:
        session.version += 1
        now = time.time()
        session.saved_at = time.monotonic()
        session.dirty = False
        return Record(session.id, SESSION, session.kind, b"", session.version, session.owner, session.created_at,
                      now, dict(session.extra))

    def _write(self, session: Session) -> None:
        """Write the session now (the caller holds its lock)."""
        if self.backend is None or session.readonly or session.deleted:
            return
        codec = codec_for(session.kind, session.obj)
        if codec is None:
            return  # a kind of session that is not stored: it lives in memory only
        state = codec.dump(session.obj)
        record = self._record(session, state)
        record.state = state.to_bytes()
        if not self.backend.save(record):
            raise SessionBusy(f"session '{session.id}' was changed by another process at the same time; try again")

    def _snapshot(self, session: Session) -> None:
        """Copy the state now (the caller holds the lock), write it from the writer thread."""
        codec = codec_for(session.kind, session.obj)
        if codec is None or session.readonly or session.deleted:
            return
        state = codec.dump(session.obj)
        record = self._record(session, state)
        with self._pending_ready:
            self._pending[session.id] = (session, record, state)  # replaces an older snapshot not yet written
            self._pending_ready.notify()

    def _writer(self) -> None:
        while True:
            with self._pending_ready:
                while not self._pending and not self._closed.is_set():
                    self._pending_ready.wait()
                if not self._pending:
                    return
                sid = next(iter(self._pending))
                session, record, state = self._pending[sid]
            try:
                record.state = state.to_bytes()
                assert self.backend is not None
                self.backend.save(record)  # an older version than the stored one is not written
            except Exception:  # noqa: BLE001 - the writer must live on; the next snapshot tries again
                log.exception("writing a snapshot of %s failed", sid)
                session.dirty = True
            with self._pending_ready:
                if self._pending.get(sid, (None, None))[1] is record:
                    del self._pending[sid]
                self._pending_ready.notify_all()

    def _keeper(self) -> None:
        """Once a second: renew the leases of streaming sessions, write sessions left dirty (a stream that paused
        less than a second after its last write), purge now and then."""
        last_purge = time.monotonic()
        assert self.backend is not None
        while not self._closed.wait(min(1.0, self.snapshot_seconds)):
            with self._lock:
                streaming = [s for s in self._sessions.values() if s.streams]
            for session in streaming:
                try:
                    self.backend.lease(session.id, self.worker, self.lease_seconds)
                    if session.dirty and time.monotonic() - session.saved_at >= self.snapshot_seconds:
                        with session.lock:
                            if session.dirty and not session.deleted:
                                self._snapshot(session)
                except Exception:  # noqa: BLE001 - e.g. Redis away for a moment: the next round tries again
                    log.exception("keeping session %s failed", session.id)
            if time.monotonic() - last_purge >= self.purge_seconds:
                last_purge = time.monotonic()
                try:
                    self.purge()
                except Exception:  # noqa: BLE001
                    log.exception("purging the store failed")

    # --- a change on another worker while this one streams --------------------------------------------------

    def _sync_with_stream(self, session_id: str) -> bool:
        """If another worker streams the session, have it write its latest state and hold training until our
        change is written (it resumes by itself after `lease_seconds` if we never say so). True if it does."""
        assert self.backend is not None
        holder = self.backend.lease_holder(session_id)
        if holder is None or holder == self.worker:
            return False
        token = secrets.token_hex(8)
        self.backend.publish(session_id, {"type": "sync", "token": token, "from": self.worker})
        if self.backend.wait_reply(token, self.lease_seconds) is None:
            log.warning("the worker streaming %s did not answer; changing the stored state", session_id)
        return True

    def _on_message(self, session_id: str, message: dict[str, Any]) -> None:
        if message.get("from") == self.worker:
            return
        with self._lock:
            session = self._sessions.get(session_id)
        if session is None:
            return
        kind = message.get("type")
        if kind == "deleted":
            session.deleted = True
            self._forget(session_id)
        elif kind in ("sync", "changed") and session.streams:
            # Not on the listener's thread: it must go on delivering messages meanwhile.
            target = self._answer_sync if kind == "sync" else self._take_change
            threading.Thread(target=target, args=(session, message), daemon=True).start()

    def _answer_sync(self, session: Session, message: dict[str, Any]) -> None:
        assert self.backend is not None
        session.may_train.clear()
        with session.lock:  # waits for the frame in progress
            self._write(session)
        self.backend.reply(str(message.get("token")), {"version": session.version})
        threading.Timer(self.lease_seconds, session.may_train.set).start()

    def _take_change(self, session: Session, message: dict[str, Any]) -> None:
        try:
            with session.lock:
                self._refresh(session)
        finally:
            session.may_train.set()
        for wake in list(session.on_change):
            wake()
