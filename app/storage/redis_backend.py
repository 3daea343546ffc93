"""Redis: sessions for several workers and hosts.

Records are hashes; a sorted set orders them by their last write (retention, then the disk budget, oldest first).
Every worker may serve any request: a request that changes a session holds the session's Redis lock (a key with
a time-out, renewed while held, so a worker that dies frees it); a live stream holds a lease (a key renewed while
it streams) and hears about changes made elsewhere through pub/sub.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import redis
from redis.lock import Lock

from app.storage import Record, Tombstone

log = logging.getLogger("glassbox.store")

PREFIX = "glassbox:"
UPDATED = PREFIX + "updated"  # sorted set: record id → last write (Unix time)
SIZES = PREFIX + "sizes"  # hash: record id → bytes
CHANNELS = PREFIX + "ch:"

SAVE = """
local v = redis.call('HGET', KEYS[1], 'version')
if v and tonumber(v) >= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'version', ARGV[1], 'type', ARGV[2], 'kind', ARGV[3], 'owner', ARGV[4],
           'created', ARGV[5], 'updated', ARGV[6], 'size', ARGV[7], 'extra', ARGV[8], 'state', ARGV[9])
redis.call('ZADD', KEYS[2], ARGV[6], ARGV[10])
redis.call('HSET', KEYS[3], ARGV[10], ARGV[7])
return 1
"""

# Remove a record unless it was written again since the purge looked at it; leave a tombstone.
REMOVE = """
if redis.call('HGET', KEYS[1], 'version') ~= ARGV[1] then return 0 end
local rtype = redis.call('HGET', KEYS[1], 'type')
local kind = redis.call('HGET', KEYS[1], 'kind')
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('HDEL', KEYS[3], ARGV[2])
redis.call('HSET', KEYS[4], 'type', rtype, 'kind', kind, 'removed', ARGV[3], 'reason', ARGV[4])
redis.call('EXPIRE', KEYS[4], ARGV[5])
return 1
"""

LEASE = """
local h = redis.call('GET', KEYS[1])
if (not h) or h == ARGV[1] then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
return 0
"""

RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def _key(record_id: str) -> str:
    return f"{PREFIX}r:{record_id}"


class RedisBackend:
    shared = True

    def __init__(self, url: str) -> None:
        self.url = url
        # Typed Any: redis-py's annotations mix the blocking and the asyncio client's return types.
        self.redis: Any = redis.Redis.from_url(url, health_check_interval=30)
        self.redis.ping()  # fail at start-up, with Redis's own message, rather than on the first request
        self._save = self.redis.register_script(SAVE)
        self._remove = self.redis.register_script(REMOVE)
        self._lease = self.redis.register_script(LEASE)
        self._release = self.redis.register_script(RELEASE)
        self._held: dict[int, tuple[Lock, float]] = {}
        self._held_guard = threading.Lock()
        self._closed = threading.Event()
        self._listeners: list[Callable[[str, dict[str, Any]], None]] = []
        self._renewer = threading.Thread(target=self._renew_locks, name="glassbox-redis-locks", daemon=True)
        self._renewer.start()
        self._listener: threading.Thread | None = None

    # --- records ----------------------------------------------------------------------------------------------

    def load(self, record_id: str) -> Record | None:
        data = self.redis.hgetall(_key(record_id))
        if not data:
            return None
        text = {k.decode(): v for k, v in data.items()}
        owner = text["owner"].decode()
        return Record(record_id, text["type"].decode(), text["kind"].decode(), text["state"], int(text["version"]),
                      owner or None, float(text["created"]), float(text["updated"]), json.loads(text["extra"]))

    def version(self, record_id: str) -> int | None:
        value = self.redis.hget(_key(record_id), "version")
        return None if value is None else int(value)

    def save(self, record: Record) -> bool:
        return bool(self._save(keys=[_key(record.id), UPDATED, SIZES], args=[
            record.version, record.type, record.kind, record.owner or "", repr(record.created),
            repr(record.updated), record.size, json.dumps(record.extra), record.state, record.id]))

    def delete(self, record_id: str) -> None:
        with self.redis.pipeline() as pipe:
            pipe.delete(_key(record_id))
            pipe.zrem(UPDATED, record_id)
            pipe.hdel(SIZES, record_id)
            pipe.execute()

    def gone(self, record_id: str) -> Tombstone | None:
        data = self.redis.hgetall(f"{PREFIX}gone:{record_id}")
        if not data:
            return None
        text = {k.decode(): v.decode() for k, v in data.items()}
        return Tombstone(record_id, text["type"], text["kind"], float(text["removed"]), text["reason"])

    def purge(self, now: float, retention_seconds: float, max_bytes: int) -> list[Tombstone]:
        cutoff = now - retention_seconds
        doomed = [(rid.decode(), "retention") for rid in self.redis.zrangebyscore(UPDATED, "-inf", f"({cutoff!r}")]
        sizes = {k.decode(): int(v) for k, v in self.redis.hgetall(SIZES).items()}
        total = sum(sizes.values()) - sum(sizes.get(rid, 0) for rid, _ in doomed)
        if total > max_bytes:
            for raw in self.redis.zrangebyscore(UPDATED, cutoff, "+inf"):
                if total <= max_bytes:
                    break
                rid = raw.decode()
                doomed.append((rid, "budget"))
                total -= sizes.get(rid, 0)
        removed = []
        keep_tombstone = max(1, int(retention_seconds))
        for rid, reason in doomed:
            version = self.redis.hget(_key(rid), "version")
            if version is None:
                continue
            if self._remove(keys=[_key(rid), UPDATED, SIZES, f"{PREFIX}gone:{rid}"],
                            args=[version, rid, repr(now), reason, keep_tombstone]):
                tomb = self.gone(rid)
                if tomb is not None:
                    removed.append(tomb)
        return removed

    def total_bytes(self) -> int:
        return sum(int(v) for v in self.redis.hvals(SIZES))

    # --- locks and leases ------------------------------------------------------------------------------------

    @contextmanager
    def lock(self, record_id: str, timeout: float) -> Iterator[None]:
        lock = self.redis.lock(f"{PREFIX}lock:{record_id}", timeout=timeout, sleep=0.005,
                               blocking_timeout=max(timeout * 3, 30), thread_local=False)
        if not lock.acquire():
            raise TimeoutError(f"session '{record_id}' stayed locked by another worker; try again")
        with self._held_guard:
            self._held[id(lock)] = (lock, timeout)
        try:
            yield
        finally:
            with self._held_guard:
                self._held.pop(id(lock), None)
            try:
                lock.release()
            except redis.exceptions.LockError:  # expired meanwhile (a very long request): nothing left to free
                log.warning("the lock on %s had expired before its release", record_id)

    def _renew_locks(self) -> None:
        """Keep every lock this process holds from timing out while its request runs."""
        while not self._closed.wait(1.0):
            with self._held_guard:
                held = list(self._held.values())
            for lock, timeout in held:
                try:
                    lock.extend(timeout, replace_ttl=True)
                except (redis.exceptions.LockError, redis.exceptions.RedisError):
                    pass  # released meanwhile, or Redis away for a moment: the next round tries again

    def lease(self, record_id: str, holder: str, ttl: float) -> bool:
        return bool(self._lease(keys=[f"{PREFIX}lease:{record_id}"], args=[holder, int(ttl * 1000)]))

    def lease_holder(self, record_id: str) -> str | None:
        value = self.redis.get(f"{PREFIX}lease:{record_id}")
        return None if value is None else value.decode()

    def release_lease(self, record_id: str, holder: str) -> None:
        self._release(keys=[f"{PREFIX}lease:{record_id}"], args=[holder])

    # --- messages --------------------------------------------------------------------------------------------

    def publish(self, record_id: str, message: dict[str, Any]) -> None:
        self.redis.publish(CHANNELS + record_id, json.dumps(message))

    def listen(self, listener: Callable[[str, dict[str, Any]], None]) -> None:
        self._listeners.append(listener)
        if self._listener is None:
            ready = threading.Event()
            self._listener = threading.Thread(target=self._listen, args=(ready,), name="glassbox-redis-pubsub",
                                              daemon=True)
            self._listener.start()
            ready.wait(5)  # subscribed before the first lease is taken, so no change message is missed

    def _listen(self, ready: threading.Event) -> None:
        while not self._closed.is_set():
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                pubsub.psubscribe(CHANNELS + "*")
                ready.set()
                while not self._closed.is_set():
                    message = pubsub.get_message(timeout=0.5)
                    if message is None:
                        continue
                    record_id = message["channel"].decode()[len(CHANNELS):]
                    body = json.loads(message["data"])
                    for listener in list(self._listeners):
                        listener(record_id, body)
            except redis.exceptions.RedisError as exc:
                log.warning("pub/sub connection lost (%s); reconnecting", exc)
                time.sleep(0.5)
            finally:
                pubsub.close()

    def reply(self, token: str, message: dict[str, Any]) -> None:
        key = f"{PREFIX}reply:{token}"
        with self.redis.pipeline() as pipe:
            pipe.rpush(key, json.dumps(message))
            pipe.expire(key, 30)
            pipe.execute()

    def wait_reply(self, token: str, timeout: float) -> dict[str, Any] | None:
        got = self.redis.blpop([f"{PREFIX}reply:{token}"], timeout=timeout)
        return None if got is None else json.loads(got[1])

    def close(self) -> None:
        self._closed.set()
        if self._listener is not None:
            self._listener.join(2)
        self.redis.close()
