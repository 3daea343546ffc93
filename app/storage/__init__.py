"""Where sessions and share snapshots are kept between requests, restarts and workers.

`SessionStore` (app/store.py) keeps the sessions in use in memory and writes them through to a backend:

- `SQLiteBackend`: one file under GLASSBOX_DATA_DIR, the default (`glassbox serve` needs no other service);
- `RedisBackend`: `GLASSBOX_STORE=redis://…`, for several workers and hosts (locks, leases and pub/sub between
  processes);
- none: `GLASSBOX_STORE=memory`, sessions live only in this process's memory and an evicted one is gone (the
  behaviour before the store; the benchmark's baseline).

A record is what the store writes: the session's kind, owner token, timestamps, a version number that grows with
every write, its trainer's `TrainerState.to_bytes()` and JSON metadata. Backends never interpret the state bytes.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

SESSION = "session"
SHARE = "share"


@dataclass
class Record:
    """One stored session or share snapshot."""

    id: str
    type: str  # SESSION or SHARE
    kind: str
    state: bytes
    version: int = 1
    owner: str | None = None
    created: float = 0.0  # Unix time
    updated: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return len(self.state)


@dataclass(frozen=True)
class Tombstone:
    """What is left of a record the store removed: when, and why."""

    id: str
    type: str
    kind: str
    removed: float  # Unix time
    reason: str  # "retention" or "budget"


Listener = Callable[[dict[str, Any]], None]


class Backend(Protocol):
    """What SessionStore needs from a backend. Every method is thread-safe."""

    shared: bool  # True when other processes may use the same data (then locks and leases matter)

    def load(self, record_id: str) -> Record | None: ...

    def version(self, record_id: str) -> int | None: ...

    def save(self, record: Record) -> bool:
        """Write the record unless the stored one has the same or a newer version; True when written."""
        ...

    def delete(self, record_id: str) -> None: ...

    def gone(self, record_id: str) -> Tombstone | None: ...

    def purge(self, now: float, retention_seconds: float, max_bytes: int) -> list[Tombstone]:
        """Remove records last written before now − retention, then the oldest until the rest fit in max_bytes;
        leave a tombstone for each (kept for another retention period)."""
        ...

    def total_bytes(self) -> int: ...

    def lock(self, record_id: str, timeout: float) -> AbstractContextManager[None]:
        """Hold the record's cross-process lock for the block (renewed while held, freed after `timeout` seconds
        if the holder dies)."""
        ...

    def lease(self, record_id: str, holder: str, ttl: float) -> bool:
        """Take or renew the record's streaming lease for `holder`; False when another holder has it."""
        ...

    def lease_holder(self, record_id: str) -> str | None: ...

    def release_lease(self, record_id: str, holder: str) -> None: ...

    def publish(self, record_id: str, message: dict[str, Any]) -> None: ...

    def listen(self, listener: Callable[[str, dict[str, Any]], None]) -> None:
        """Call listener(record_id, message) for every message published on any record (from any process)."""
        ...

    def reply(self, token: str, message: dict[str, Any]) -> None: ...

    def wait_reply(self, token: str, timeout: float) -> dict[str, Any] | None: ...

    def close(self) -> None: ...


def default_data_dir() -> Path:
    """A folder in the user's data directory: XDG_DATA_HOME (~/.local/share), ~/Library/Application Support or
    %LOCALAPPDATA%."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "glassbox"


def open_backend(store: str, data_dir: Path | None) -> Backend | None:
    """The backend GLASSBOX_STORE names: "sqlite" (default), a redis:// / rediss:// URL, or "memory" (None)."""
    from app.storage.sqlite_backend import SQLiteBackend

    if store.startswith(("redis://", "rediss://", "unix://")):
        from app.storage.redis_backend import RedisBackend

        return RedisBackend(store)
    if store == "sqlite":
        folder = data_dir or default_data_dir()
        return SQLiteBackend(folder / "sessions.sqlite3")
    if store == "memory":
        return None
    raise ValueError(f"GLASSBOX_STORE must be 'sqlite', 'memory' or a redis:// URL, got {store!r}")
