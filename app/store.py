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


@dataclass
class Session:
    id: str
    kind: str
    obj: Any
    lock: threading.RLock = field(default_factory=threading.RLock)
    created: float = field(default_factory=time.monotonic)
    last_used: float = field(default_factory=time.monotonic)
    extra: dict[str, Any] = field(default_factory=dict)
    # Requests and live frames working on the session right now: a busy session is not idle, however long a
    # request or a frame takes.
    busy: int = 0


class SessionStore:
    def __init__(self, max_sessions: int, idle_seconds: float) -> None:
        self.max_sessions = max_sessions
        self.idle_seconds = idle_seconds
        self._sessions: OrderedDict[str, Session] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, kind: str, obj: Any) -> Session:
        session = Session(secrets.token_urlsafe(16), kind, obj)
        with self._lock:
            self._purge_idle()
            while len(self._sessions) >= self.max_sessions:
                self._sessions.popitem(last=False)
            self._sessions[session.id] = session
        return session

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
    def use(self, session_id: str, kind: str) -> Iterator[Session]:
        """The session, held under its lock for the `with` block: one request at a time per session."""
        session = self.get(session_id, kind)
        with session.lock, self.working(session):
            yield session

    @contextmanager
    def working(self, session: Session) -> Iterator[None]:
        """Mark the session busy for the block (the idle time-out skips it) and used at its start and end; a
        live stream's frames go through here. Raises SessionNotFound when the session was dropped meanwhile."""
        self.touch(session)
        session.busy += 1
        try:
            yield
        finally:
            session.busy -= 1
            session.last_used = time.monotonic()

    def touch(self, session: Session) -> None:
        """The session was used now; SessionNotFound when it is no longer in the store (evicted or deleted)."""
        with self._lock:
            self._purge_idle()
            if self._sessions.get(session.id) is not session:
                raise SessionNotFound(f"the {session.kind} session '{session.id}' was dropped (deleted, idle for "
                                      f"{self.idle_seconds / 60:g} minutes, or to make room for newer ones); "
                                      f"create a new one")
            session.last_used = time.monotonic()
            self._sessions.move_to_end(session.id)

    def delete(self, session_id: str, kind: str) -> None:
        self.get(session_id, kind)
        with self._lock:
            self._sessions.pop(session_id, None)

    def __len__(self) -> int:
        return len(self._sessions)

    def _purge_idle(self) -> None:
        now = time.monotonic()
        for sid in [s.id for s in self._sessions.values() if not s.busy and now - s.last_used > self.idle_seconds]:
            del self._sessions[sid]
