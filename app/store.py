"""In-memory sessions with least-recently-used eviction and an idle time-out.

Each session has its own lock: requests on one session run one at a time,
requests on different sessions run in parallel (FastAPI runs the sync route
functions in its thread pool, off the event loop).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any


class SessionNotFound(LookupError):
    pass


class SessionBusy(Exception):
    """Another request holds the session for longer than a request waits (409)."""


class MemoryBudgetExceeded(Exception):
    """A session does not fit in the memory budget even after dropping every idle one (413)."""


@dataclass
class Session:
    id: str
    kind: str
    obj: Any
    lock: threading.RLock = field(default_factory=threading.RLock)
    created: float = field(default_factory=time.monotonic)
    last_used: float = field(default_factory=time.monotonic)
    extra: dict[str, Any] = field(default_factory=dict)
    nbytes: int = 0  # estimated memory held (engine.core.budget), counted against the store's total


class SessionStore:
    def __init__(self, max_sessions: int, idle_seconds: float, max_total_bytes: int | None = None,
                 busy_wait: float = 2.0) -> None:
        self.max_sessions = max_sessions
        self.idle_seconds = idle_seconds
        self.max_total_bytes = max_total_bytes
        self.busy_wait = busy_wait
        self._sessions: OrderedDict[str, Session] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, kind: str, obj: Any, nbytes: int = 0) -> Session:
        """Keep `obj` in a new session; the least recently used sessions make room (by count and by bytes)."""
        session = Session(secrets.token_urlsafe(16), kind, obj, nbytes=nbytes)
        with self._lock:
            self._purge_idle()
            while len(self._sessions) >= self.max_sessions:
                self._sessions.popitem(last=False)
            self._make_room(nbytes, exclude=None)
            self._sessions[session.id] = session
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
            if s is exclude or not s.lock.acquire(blocking=False):
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

    def get(self, session_id: str, kind: str) -> Session:
        with self._lock:
            self._purge_idle()
            session = self._sessions.get(session_id)
            if session is None or session.kind != kind:
                raise SessionNotFound(
                    f"no {kind} session '{session_id}': the id is unknown, or the session was dropped after "
                    f"{self.idle_seconds / 60:g} minutes idle or to make room for newer ones; create a new one"
                )
            session.last_used = time.monotonic()
            self._sessions.move_to_end(session_id)
            return session

    @contextmanager
    def use(self, session_id: str, kind: str, timeout: float | None = None) -> Iterator[Session]:
        """The session, held under its lock for the `with` block: one request at a time per session.

        A request waits at most `timeout` seconds (default: the store's busy_wait) for another one using the
        session, then SessionBusy (409): a long training request must not pile up waiting threads."""
        session = self.get(session_id, kind)
        if not session.lock.acquire(timeout=self.busy_wait if timeout is None else timeout):
            raise SessionBusy(f"the {kind} session '{session_id}' is busy with another request (training, or a "
                              f"live stream's frame); try again in a moment")
        try:
            yield session
        finally:
            session.lock.release()

    def delete(self, session_id: str, kind: str) -> None:
        self.get(session_id, kind)
        with self._lock:
            self._sessions.pop(session_id, None)

    def __len__(self) -> int:
        return len(self._sessions)

    def _purge_idle(self) -> None:
        now = time.monotonic()
        for sid in [s.id for s in self._sessions.values() if now - s.last_used > self.idle_seconds]:
            del self._sessions[sid]
