"""The session store against both backends: SQLite (a file) and a real redis-server.

A small trainer that implements the training protocol's state()/load_state() stands for every kind: the store
only ever sees TrainerState bytes.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from app.storage import SESSION, open_backend
from app.storage.redis_backend import RedisBackend
from app.store import (
    Codec,
    ReadOnlySession,
    SessionBusy,
    SessionExpired,
    SessionNotFound,
    SessionStore,
    register_codec,
)
from engine.core.training import TrainerState, rng_from_state, rng_state


class TinyTrainer:
    """Random-walk 'training' with a generator, weights and a history: enough to tell a bit-exact resume."""

    kind = "tiny"

    def __init__(self, seed: int = 0) -> None:
        self.rng = np.random.default_rng(seed)
        self.weights = self.rng.standard_normal(8).astype(np.float32)
        self.learning_rate = 0.1
        self.step_count = 0
        self.history: list[dict[str, Any]] = []

    def step(self) -> None:
        self.weights -= np.float32(self.learning_rate) * self.rng.standard_normal(8).astype(np.float32)
        self.step_count += 1
        self.history.append({"step": self.step_count, "train_loss": float(self.weights @ self.weights)})

    def train(self, steps: int) -> None:
        for _ in range(steps):
            self.step()

    def state(self) -> TrainerState:
        return TrainerState(self.kind, {"weights": self.weights.copy()},
                            {"rng": rng_state(self.rng), "step": self.step_count, "lr": self.learning_rate,
                             "history": [dict(h) for h in self.history]})

    def load_state(self, state: TrainerState) -> None:
        self.weights = np.array(state.arrays["weights"])
        self.rng = rng_from_state(state.meta["rng"])
        self.step_count = state.meta["step"]
        self.learning_rate = state.meta["lr"]
        self.history = [dict(h) for h in state.meta["history"]]

    @classmethod
    def from_state(cls, state: TrainerState) -> TinyTrainer:
        trainer = cls()
        trainer.load_state(state)
        return trainer


register_codec("tiny", Codec(dump=TinyTrainer.state, build=TinyTrainer.from_state,
                             load_into=TinyTrainer.load_state))


@pytest.fixture(params=["sqlite", "redis"])
def store_url(request, tmp_path) -> str:
    """Where a store keeps its sessions: a fresh SQLite folder, or the test Redis emptied."""
    if request.param == "sqlite":
        return f"sqlite:{tmp_path}"
    url = request.getfixturevalue("redis_server")
    RedisBackend(url).redis.flushdb()
    return url


def open_store(url: str, **options: Any) -> SessionStore:
    """A store as a server process opens it (two calls: two processes' stores on the same data)."""
    backend = open_backend("sqlite", Path(url[7:])) if url.startswith("sqlite:") else open_backend(url, None)
    options.setdefault("max_sessions", 16)
    options.setdefault("idle_seconds", 3600)
    return SessionStore(options.pop("max_sessions"), options.pop("idle_seconds"), backend, **options)


@pytest.fixture
def stores(store_url):
    opened: list[SessionStore] = []

    def make(**options: Any) -> SessionStore:
        opened.append(open_store(store_url, **options))
        return opened[-1]

    yield make
    for store in opened:
        store.close()


def same(a: TinyTrainer, b: TinyTrainer) -> None:
    assert a.weights.tobytes() == b.weights.tobytes()
    assert a.history == b.history and a.step_count == b.step_count


def test_a_change_is_written_and_read_back_bit_for_bit_after_a_restart(stores):
    first = stores()
    session = first.add("tiny", TinyTrainer(3), extra={"revision": 2})
    with first.use(session.id, "tiny") as s:
        s.obj.train(25)
    first.close()  # the server stops
    second = stores()  # and starts again
    again = second.get(session.id, "tiny")
    same(again.obj, session.obj)
    assert again.extra == {"revision": 2}
    # It trains on exactly as the original would have.
    session.obj.train(10)
    with second.use(session.id, "tiny") as s:
        s.obj.train(10)
    same(again.obj, session.obj)


def test_reading_does_not_write_and_unknown_ids_are_404(stores):
    store = stores()
    session = store.add("tiny", TinyTrainer())
    version = store.backend.version(session.id)
    with store.use(session.id, "tiny", changes=False):
        pass
    assert store.backend.version(session.id) == version
    with store.use(session.id, "tiny"):
        pass
    assert store.backend.version(session.id) == version + 1
    with pytest.raises(SessionNotFound, match="unknown or the session was deleted"):
        store.get("no-such-id", "tiny")
    with pytest.raises(SessionNotFound):
        store.get(session.id, "other-kind")
    store.delete(session.id, "tiny")
    with pytest.raises(SessionNotFound):
        stores().get(session.id, "tiny")


def test_eviction_moves_a_session_out_of_memory_not_out_of_the_store(stores):
    store = stores(max_sessions=2)
    sessions = [store.add("tiny", TinyTrainer(seed)) for seed in range(3)]
    for s in sessions:
        with store.use(s.id, "tiny") as live:  # the first is evicted by the third, and read back here
            live.obj.train(3)
    assert len(store) == 2
    for seed, s in enumerate(sessions):
        expected = TinyTrainer(seed)
        expected.train(3)
        same(store.get(s.id, "tiny").obj, expected)
    idle = stores(idle_seconds=0)
    s = idle.add("tiny", TinyTrainer(7))
    assert idle.get(s.id, "tiny").obj is not s.obj  # dropped from memory at once, read back from the store
    same(idle.get(s.id, "tiny").obj, s.obj)


def test_expiry_says_that_it_expired_and_when(stores):
    store = stores(retention_seconds=0.2)
    session = store.add("tiny", TinyTrainer())
    time.sleep(0.3)
    removed = store.purge()
    assert [t.id for t in removed] == [session.id]
    with pytest.raises(SessionExpired) as err:
        stores(retention_seconds=0.2).get(session.id, "tiny")
    today = time.strftime("%Y-%m-%d", time.gmtime())
    assert "expired on " + today in str(err.value) and "GLASSBOX_RETENTION_DAYS" in str(err.value)


def test_the_disk_budget_removes_the_oldest_first(stores):
    probe = stores()
    size = len(TinyTrainer().state().to_bytes())
    store = stores(max_bytes=int(size * 2.5))
    sessions = []
    for seed in range(4):
        sessions.append(store.add("tiny", TinyTrainer(seed)))
        time.sleep(0.01)
    removed = {t.id for t in store.purge()}
    assert removed == {sessions[0].id, sessions[1].id}
    assert probe.backend.total_bytes() <= size * 2.5
    with pytest.raises(SessionExpired, match="disk budget"):
        store.get(sessions[0].id, "tiny")
    assert store.get(sessions[3].id, "tiny").obj is sessions[3].obj


def test_a_share_is_read_only_and_forks_into_a_session_that_trains_on(stores):
    store = stores()
    session = store.add("tiny", TinyTrainer(5))
    with store.use(session.id, "tiny") as s:
        s.obj.train(4)
        snapshot = store.share(s, {"view": {"zoom": 2}})
    assert snapshot.id != session.id and snapshot.readonly
    reader = stores()  # another process opens the link
    shared = reader.get(snapshot.id, "tiny")
    same(shared.obj, session.obj)
    assert shared.extra["view"] == {"zoom": 2}
    with pytest.raises(ReadOnlySession, match="fork"):
        with reader.use(snapshot.id, "tiny"):
            pass
    with pytest.raises(ReadOnlySession):
        reader.delete(snapshot.id, "tiny")
    # The original trains on; the share stays as it was.
    with store.use(session.id, "tiny") as s:
        s.obj.train(3)
    assert stores().get(snapshot.id, "tiny").obj.step_count == 4
    fork = reader.fork(snapshot.id, "tiny", drop=("view",))
    assert not fork.readonly and fork.extra == {}
    with reader.use(fork.id, "tiny") as s:
        s.obj.train(3)
    same(fork.obj, session.obj)


def test_live_training_is_written_at_most_once_per_interval_and_on_close(stores):
    store = stores(snapshot_seconds=0.3)
    session = store.add("tiny", TinyTrainer())
    def wake() -> None:
        raise AssertionError("nothing changed elsewhere")

    live = store.open_stream(session.id, "tiny", wake)
    start_version = store.backend.version(session.id)
    deadline = time.monotonic() + 0.75
    while time.monotonic() < deadline:
        store.before_live_change(live)
        with live.lock:
            live.obj.step()
            store.changed_live(live)
        time.sleep(0.005)
    store.flush()
    writes = store.backend.version(session.id) - start_version
    assert 2 <= writes <= 4, writes  # one write per 0.3 s (plus the flush), not one per step
    with live.lock:
        live.obj.train(2)
        store.changed_live(live)
    store.close_stream(live, wake)
    same(stores().get(session.id, "tiny").obj, live.obj)


def test_a_change_on_another_worker_reaches_the_stream(redis_server):
    """Workers share a store only through Redis (SQLite serves one process; see the next test)."""
    RedisBackend(redis_server).redis.flushdb()
    worker_a, worker_b = open_store(redis_server), open_store(redis_server)
    session = worker_a.add("tiny", TinyTrainer(1))
    woken = threading.Event()
    live = worker_a.open_stream(session.id, "tiny", woken.set)
    with pytest.raises(SessionBusy):
        worker_b.open_stream(session.id, "tiny", lambda: None)
    # Worker A trains live (less than a snapshot interval: nothing written yet)...
    with live.lock:
        live.obj.train(5)
        worker_a.changed_live(live)
    # ...worker B changes the learning rate by REST: it works on A's latest state, and A takes the change in.
    with worker_b.use(session.id, "tiny") as s:
        assert s.obj.step_count == 5
        s.obj.learning_rate = 0.5
    assert woken.wait(5)
    assert live.obj.learning_rate == 0.5 and live.obj.step_count == 5
    assert live.may_train.is_set()
    worker_a.close_stream(live, woken.set)
    assert worker_b.backend.lease_holder(session.id) is None
    worker_a.close()
    worker_b.close()


def test_sqlite_writes_refuse_a_stale_copy(tmp_path):
    """Two processes on one SQLite file: the version check (SQLite's own atomic write) keeps the newer one."""
    a, b = open_store(f"sqlite:{tmp_path}"), open_store(f"sqlite:{tmp_path}")
    session = a.add("tiny", TinyTrainer())
    b.get(session.id, "tiny")
    with a.use(session.id, "tiny") as s:
        s.obj.train(1)
    with pytest.raises(SessionBusy, match="another process"):
        with b.use(session.id, "tiny") as s:
            s.obj.train(2)
    assert open_store(f"sqlite:{tmp_path}").get(session.id, "tiny").obj.step_count == 1
    assert a.backend.load(session.id).type == SESSION
