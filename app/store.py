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
        with session.lock:
            yield session

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
