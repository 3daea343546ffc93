"""The default backend: one SQLite file, no other service to run.

SQLite's own locking makes every write atomic, and a write only lands when its version is newer than the stored
one, so a stale copy never overwrites a newer one. Locks, leases and messages between requests stay inside this
process (`LocalCoordination`): several workers need the Redis backend (`glassbox serve --workers N` refuses to
start them on SQLite).
"""

from __future__ import annotations

import json
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from app.storage import Record, Tombstone

SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    id TEXT PRIMARY KEY, type TEXT NOT NULL, kind TEXT NOT NULL, owner TEXT,
    created REAL NOT NULL, updated REAL NOT NULL, version INTEGER NOT NULL, size INTEGER NOT NULL,
    extra TEXT NOT NULL, state BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS records_by_updated ON records (updated);
CREATE TABLE IF NOT EXISTS tombstones (
    id TEXT PRIMARY KEY, type TEXT NOT NULL, kind TEXT NOT NULL, removed REAL NOT NULL, reason TEXT NOT NULL
);
"""

UPSERT = """
INSERT INTO records (id, type, kind, owner, created, updated, version, size, extra, state)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, owner = excluded.owner, updated = excluded.updated,
    version = excluded.version, size = excluded.size, extra = excluded.extra, state = excluded.state
WHERE excluded.version > records.version
"""


class LocalCoordination:
    """Per-record locks, streaming leases and messages within one process."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, tuple[threading.RLock, int]] = {}
        self._leases: dict[str, tuple[str, float]] = {}
        self._listeners: list[Callable[[str, dict[str, Any]], None]] = []
        self._replies: dict[str, queue.SimpleQueue[dict[str, Any]]] = {}

    @contextmanager
    def lock(self, record_id: str, timeout: float) -> Iterator[None]:
        with self._guard:
            lock, users = self._locks.get(record_id) or (threading.RLock(), 0)
            self._locks[record_id] = (lock, users + 1)
        try:
            with lock:
                yield
        finally:
            with self._guard:
                lock, users = self._locks[record_id]
                if users == 1:
                    del self._locks[record_id]
                else:
                    self._locks[record_id] = (lock, users - 1)

    def lease(self, record_id: str, holder: str, ttl: float) -> bool:
        now = time.monotonic()
        with self._guard:
            current = self._leases.get(record_id)
            if current is not None and current[0] != holder and current[1] > now:
                return False
            self._leases[record_id] = (holder, now + ttl)
            return True

    def lease_holder(self, record_id: str) -> str | None:
        with self._guard:
            current = self._leases.get(record_id)
            return current[0] if current is not None and current[1] > time.monotonic() else None

    def release_lease(self, record_id: str, holder: str) -> None:
        with self._guard:
            if self._leases.get(record_id, ("",))[0] == holder:
                del self._leases[record_id]

    def publish(self, record_id: str, message: dict[str, Any]) -> None:
        for listener in list(self._listeners):
            listener(record_id, message)

    def listen(self, listener: Callable[[str, dict[str, Any]], None]) -> None:
        self._listeners.append(listener)

    def _reply_queue(self, token: str) -> queue.SimpleQueue[dict[str, Any]]:
        with self._guard:
            return self._replies.setdefault(token, queue.SimpleQueue())

    def reply(self, token: str, message: dict[str, Any]) -> None:
        self._reply_queue(token).put(message)

    def wait_reply(self, token: str, timeout: float) -> dict[str, Any] | None:
        try:
            return self._reply_queue(token).get(timeout=timeout)
        except queue.Empty:
            return None
        finally:
            with self._guard:
                self._replies.pop(token, None)


class SQLiteBackend(LocalCoordination):
    shared = False

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        conn = self._conn()
        conn.executescript(SCHEMA)

    def _conn(self) -> sqlite3.Connection:
        """One connection per thread (sqlite3 connections are not shared between threads)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode = WAL")  # readers never wait for the writer
            conn.execute("PRAGMA synchronous = NORMAL")  # WAL stays consistent on a crash; no fsync per write
            self._local.conn = conn
            with self._guard:
                self._all.append(conn)
        return conn

    def load(self, record_id: str) -> Record | None:
        row = self._conn().execute(
            "SELECT id, type, kind, owner, created, updated, version, extra, state FROM records WHERE id = ?",
            (record_id,)).fetchone()
        if row is None:
            return None
        rid, rtype, kind, owner, created, updated, version, extra, state = row
        return Record(rid, rtype, kind, bytes(state), version, owner, created, updated, json.loads(extra))

    def version(self, record_id: str) -> int | None:
        row = self._conn().execute("SELECT version FROM records WHERE id = ?", (record_id,)).fetchone()
        return None if row is None else int(row[0])

    def save(self, record: Record) -> bool:
        cur = self._conn().execute(UPSERT, (
            record.id, record.type, record.kind, record.owner, record.created, record.updated, record.version,
            record.size, json.dumps(record.extra), record.state))
        return cur.rowcount > 0

    def delete(self, record_id: str) -> None:
        self._conn().execute("DELETE FROM records WHERE id = ?", (record_id,))

    def gone(self, record_id: str) -> Tombstone | None:
        row = self._conn().execute("SELECT id, type, kind, removed, reason FROM tombstones WHERE id = ?",
                                   (record_id,)).fetchone()
        return None if row is None else Tombstone(*row)

    def purge(self, now: float, retention_seconds: float, max_bytes: int) -> list[Tombstone]:
        cutoff = now - retention_seconds
        conn = self._conn()
        removed: list[Tombstone] = []
        conn.execute("BEGIN IMMEDIATE")
        try:
            for rid, rtype, kind in conn.execute("SELECT id, type, kind FROM records WHERE updated < ?",
                                                 (cutoff,)).fetchall():
                removed.append(Tombstone(rid, rtype, kind, now, "retention"))
            total = conn.execute("SELECT COALESCE(SUM(size), 0) FROM records WHERE updated >= ?",
                                 (cutoff,)).fetchone()[0]
            if total > max_bytes:
                for rid, rtype, kind, size in conn.execute(
                        "SELECT id, type, kind, size FROM records WHERE updated >= ? ORDER BY updated",
                        (cutoff,)).fetchall():
                    if total <= max_bytes:
                        break
                    removed.append(Tombstone(rid, rtype, kind, now, "budget"))
                    total -= size
            conn.executemany("DELETE FROM records WHERE id = ?", [(t.id,) for t in removed])
            conn.executemany("INSERT OR REPLACE INTO tombstones VALUES (?, ?, ?, ?, ?)",
                             [(t.id, t.type, t.kind, t.removed, t.reason) for t in removed])
            conn.execute("DELETE FROM tombstones WHERE removed < ?", (cutoff,))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        if removed:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.execute("VACUUM")  # give the space back to the disk, which is what the budget is about
        return removed

    def total_bytes(self) -> int:
        return int(self._conn().execute("SELECT COALESCE(SUM(size), 0) FROM records").fetchone()[0])

    def close(self) -> None:
        with self._guard:
            conns, self._all = self._all, []
        for conn in conns:
            try:
                conn.close()
            except sqlite3.ProgrammingError:  # made in another thread that has ended; nothing to flush
                pass
        self._local = threading.local()
