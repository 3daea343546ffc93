"""The one training protocol (engine/core/training.py), checked once for every trainer, and the live stream's
plumbing (app/live.py) checked once for every live feature.

A new trainer adds itself to TRAINERS (a small, fast instance) and, when it has sessions in the API, to
SESSIONS; a new live page adds itself to LIVE.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.api import charlm as charlm_api
from app.api import lenet as lenet_api
from app.api import playground_live, transformers
from engine.charlm.corpus import UNKNOWN, Vocabulary
from engine.charlm.trainer import CharLMTrainer
from engine.core.errors import EngineError
from engine.core.training import (
    TRAINER_CLASSES,
    DivergedError,
    StepResult,
    TrainerProtocol,
    TrainerState,
    restore_trainer,
)
from engine.dense.datasets import make_dataset
from engine.dense.trainer import Trainer
from engine.lenet.mnist import MnistSplit, load_mnist10k
from engine.lenet.model import LeNet5
from engine.lenet.training import DigitArrays, LeNetTraining
from engine.playground import config as pg
from engine.transformer.trainer import TransformerTrainer
from tests.conftest import make_client

# --- every trainer ----------------------------------------------------------------------------------------


def small_digits() -> DigitArrays:
    """20 training and 10 test digits per class: enough for a few steps of LeNet in milliseconds."""
    split = load_mnist10k()
    train = np.concatenate([np.flatnonzero(split.train_labels == d)[:20] for d in range(10)])
    test = np.concatenate([np.flatnonzero(split.test_labels == d)[:10] for d in range(10)])
    return DigitArrays.from_split(MnistSplit(split.train_images[train], split.train_labels[train],
                                             split.test_images[test], split.test_labels[test]))


def shuffled_dense() -> Trainer:
    """Shuffled batches (the order and the generator matter) and Adam (slots and t matter)."""
    spec = {"input_shape": [2], "layers": [{"type": "dense", "units": 6, "activation": "tanh"},
                                           {"type": "dense", "units": 1}],
            "optimizer": {"type": "adam", "learning_rate": 0.01}, "batch_size": 7, "shuffle": True, "seed": 3}
    return Trainer(spec, make_dataset("plane", seed=1, num_samples=60))


# name → a small trainer, fresh on every call. Add new trainers here.
TRAINERS: dict[str, Callable[[], Any]] = {
    "dense-playground": lambda: pg.trainer_from_config({"dataset": "spiral", "optimizer": "momentum",
                                                        "batch_size": 5}),
    "dense-shuffled-adam": shuffled_dense,
    "lenet": lambda: LeNetTraining(LeNet5(seed=1), small_digits(), learning_rate=2e-3, batch_size=16, seed=2),
    "transformer": lambda: TransformerTrainer("reverse-1head", train={"batch_size": 8, "held_out": 16},
                                              model={"d_model": 16, "layers": 1}),
    "charlm": lambda: CharLMTrainer("a bad cab. a dead bee. " * 20, vocab=Vocabulary(list("\n abcde.") + [UNKNOWN]),
                                    model={"layers": 1, "heads": 2, "d_model": 8, "d_ff": 16, "context": 8},
                                    train={"batch_size": 4, "learning_rate": 0.01, "eval_windows": 4}),
}


@pytest.fixture(params=list(TRAINERS))
def make(request) -> Callable[[], Any]:
    return TRAINERS[request.param]


def params_of(trainer: Any) -> list[np.ndarray]:
    return [p.copy() for p in trainer.parameters()]


def losses(trainer: Any, n: int = 10) -> list[float]:
    return [trainer.step().loss for _ in range(n)]


def test_every_kind_is_registered_and_implements_the_protocol(make):
    trainer = make()
    assert isinstance(trainer, TrainerProtocol)
    assert trainer.kind in TRAINER_CLASSES
    assert trainer.step_count == 0 and trainer.history == [] and not trainer.diverged
    assert trainer.diverged_message == ""


def test_steps_move_the_step_count_and_records_share_one_form(make):
    trainer = make()
    result = trainer.step()
    assert isinstance(result, StepResult) and result.step == trainer.step_count == 1
    assert np.isfinite(result.loss)
    added = trainer.train(3)
    assert trainer.step_count == 4 and added and added[-1]["step"] == 4
    for record in trainer.history:
        assert set(record) == {"step", "epoch", "train_loss", "test_loss", "train_accuracy", "test_accuracy",
                               "learning_rate", "time", "extra"}
        assert record["learning_rate"] > 0 and np.isfinite(record["train_loss"])
        json.dumps(record, allow_nan=False)  # plain JSON: no NumPy scalars, no NaN


def test_configure_changes_the_learning_rate_and_refuses_what_it_does_not_know(make):
    trainer = make()
    trainer.train(2)
    weights = params_of(trainer)
    trainer.configure(learning_rate=0.0005)
    assert trainer.optimizer.learning_rate == 0.0005
    assert all(np.array_equal(a, b) for a, b in zip(weights, trainer.parameters(), strict=True))
    for bad in ({"learning_rate": -1}, {"learning_rate": float("nan")}, {"wingspan": 3}):
        with pytest.raises(EngineError):
            trainer.configure(**bad)
    assert trainer.optimizer.learning_rate == 0.0005  # a refused change changes nothing


def test_divergence_keeps_the_last_finite_weights_until_a_reset(make):
    trainer = make()
    trainer.train(3)
    weights, history, steps = params_of(trainer), list(trainer.history), trainer.step_count
    slots = {k: {s: a.copy() for s, a in v.items()} for k, v in trainer.optimizer.state.items()}
    trainer.optimizer.learning_rate = 1e300  # past any limit configure would allow (inf in float32)
    with pytest.raises(DivergedError, match="parameters were kept") as caught:
        trainer.train(20)
    assert trainer.diverged and trainer.diverged_message == str(caught.value)
    assert all(np.array_equal(a, b) for a, b in zip(weights, trainer.parameters(), strict=True))
    assert all(np.isfinite(p).all() for p in trainer.parameters())
    assert trainer.step_count == steps and trainer.history == history
    for key, saved in slots.items():
        assert all(np.array_equal(saved[s], trainer.optimizer.state[key][s]) for s in saved)
    trainer.configure(learning_rate=0.001)  # lowering the rate does not help: the kept weights diverge again
    for again in (trainer.step, lambda: trainer.train(1)):
        with pytest.raises(DivergedError, match="Reset"):
            again()
    trainer.reset()
    assert not trainer.diverged and trainer.step_count == 0 and trainer.history == []
    assert np.isfinite(trainer.step().loss)


def test_load_state_resumes_bit_identically(make):
    trainer = make()
    trainer.train(4)
    state = trainer.state()
    expected = losses(trainer)
    expected_history = list(trainer.history)

    other = make()
    other.train(2)  # somewhere else entirely
    other.load_state(state)
    assert losses(other) == expected
    assert other.history[: len(state.meta["history"])] == state.meta["history"]

    trainer.load_state(state)  # its own state, taken 10 steps ago
    assert losses(trainer) == expected
    assert trainer.history == expected_history


def test_a_new_trainer_from_the_state_bytes_alone_resumes_bit_identically(make):
    trainer = make()
    trainer.train(4)
    data = trainer.state().to_bytes()
    expected = losses(trainer)
    restored = restore_trainer(data)
    assert type(restored) is type(trainer) and restored.step_count == 4
    assert losses(restored) == expected
    assert restored.history == trainer.history
    state = TrainerState.from_bytes(data)
    json.dumps(state.meta, allow_nan=False)  # plain JSON metadata
    assert all(isinstance(a, np.ndarray) and a.dtype != object for a in state.arrays.values())


def test_a_diverged_state_stays_diverged(make):
    trainer = make()
    trainer.optimizer.learning_rate = 1e300
    with pytest.raises(DivergedError):
        trainer.train(20)
    restored = restore_trainer(trainer.state().to_bytes())
    assert restored.diverged and restored.diverged_message == trainer.diverged_message
    with pytest.raises(DivergedError):
        restored.step()


def test_bad_states_are_refused_clearly():
    with pytest.raises(EngineError, match="not a trainer state"):
        restore_trainer(b"hello")
    with pytest.raises(EngineError, match="unknown kind of trainer 'rocket'"):
        restore_trainer(TrainerState("rocket", {}, {}))
    state = TRAINERS["dense-shuffled-adam"]().state()
    del state.meta["rng"]
    with pytest.raises(EngineError, match="no 'rng'"):
        restore_trainer(state)
    with pytest.raises(EngineError, match="cannot be loaded into a transformer"):
        TRAINERS["transformer"]().load_state(TRAINERS["dense-shuffled-adam"]().state())


# --- every kind of session in the API ------------------------------------------------------------------


@dataclass
class SessionCase:
    create: Callable[[TestClient], str]  # a new session's id
    kind: str  # the store's kind
    state: str  # paths with {id}: the session's state,
    train: str  # a training request (POST {"steps": n}),
    reset: str  # a reset (POST),
    live: str | None  # the live stream
    trainer: Callable[[Any], Any] = lambda obj: obj  # the session object → its trainer


def _post(client: TestClient, path: str, body: dict[str, Any]) -> str:
    r = client.post(path, json=body)
    assert r.status_code == 201, r.text
    return r.json()["id"]


# Add new kinds of session here.
SESSIONS: dict[str, SessionCase] = {
    "network": SessionCase(lambda c: _post(c, "/api/networks", {"preset": "playground-default"}), "network",
                           "/api/networks/{id}", "/api/networks/{id}/train", "/api/networks/{id}/reset",
                           "/ws/networks/{id}"),
    "playground": SessionCase(lambda c: _post(c, "/api/playground", {}), "network", "/api/playground/{id}",
                              "/api/networks/{id}/train", "/api/networks/{id}/reset", "/ws/networks/{id}"),
    "lenet": SessionCase(lambda c: _post(c, "/api/lenet/sessions", {"batch_size": 16}), "lenet",
                         "/api/lenet/sessions/{id}", "/api/lenet/sessions/{id}/train",
                         "/api/lenet/sessions/{id}/reset", "/ws/lenet/{id}", trainer=lambda obj: obj.training),
    "transformer": SessionCase(lambda c: _post(c, "/api/transformers", {"preset": "copy"}), "transformer",
                               "/api/transformers/{id}", "/api/transformers/{id}/train",
                               "/api/transformers/{id}/reset", "/ws/transformers/{id}"),
    "charlm": SessionCase(lambda c: _post(c, "/api/charlm/sessions", {"model": {"layers": 1, "d_model": 32,
                                                                                "context": 32}}), "charlm",
                          "/api/charlm/sessions/{id}", "/api/charlm/sessions/{id}/train",
                          "/api/charlm/sessions/{id}/reset", "/ws/charlm/sessions/{id}"),
}


def at(template: str, sid: str) -> str:
    return template.replace("{id}", sid)


@pytest.fixture(scope="module")
def api() -> Any:
    with make_client() as c:
        yield c


@pytest.mark.parametrize("name", list(SESSIONS))
def test_divergence_answers_409_everywhere_until_a_reset(api, name):
    case = SESSIONS[name]
    sid = case.create(api)
    trainer = case.trainer(api.app.state.store.get(sid, case.kind).obj)
    before = api.get(at(case.state, sid)).json()
    trainer.optimizer.learning_rate = 1e300
    r = api.post(at(case.train, sid), json={"steps": 20})
    assert r.status_code == 409 and "parameters were kept" in r.json()["detail"], r.text
    trainer.optimizer.learning_rate = 1e-3  # a rate the state's schema accepts; lowering it does not help
    state = api.get(at(case.state, sid)).json()
    assert state["diverged"] is True and "Reset the session" in state["message"]
    assert state["step"] == before["step"] and state["history"] == before["history"]
    assert all(np.isfinite(p).all() for p in trainer.parameters())
    for body in ({"steps": 1}, {}):  # still refused, not an empty 200
        r = api.post(at(case.train, sid), json=body)
        assert r.status_code in (409, 422) and (r.status_code == 422 or "Reset" in r.json()["detail"]), r.text
    if case.live:
        with api.websocket_connect(at(case.live, sid)) as ws:
            assert ws.receive_json()["diverged"] is True
            ws.send_json({"type": "step", "unit": "batch"})
            refusal = ws.receive_json()
            assert refusal["type"] == "error" and refusal["status"] == 409 and "Reset" in refusal["detail"]
            assert ws.receive_json()["type"] == "frame"
    reset = api.post(at(case.reset, sid))
    assert reset.status_code == 200 and reset.json()["diverged"] is False
    assert api.post(at(case.train, sid), json={"steps": 1}).status_code == 200
    restored = restore_trainer(trainer.state().to_bytes())  # what the app built restores from its state too
    assert restored.step_count == trainer.step_count and not restored.diverged


# --- every live feature -------------------------------------------------------------------------------------

LIVE = [name for name, case in SESSIONS.items() if case.live and name != "network"]


@pytest.mark.parametrize("name", LIVE)
def test_a_streaming_session_outlives_a_short_idle_time_out(name):
    case = SESSIONS[name]
    with make_client(session_idle_seconds=1, busy_wait_seconds=10) as c:  # a loaded machine: a frame may be slow
        sid = case.create(c)
        with c.websocket_connect(at(case.live, sid)) as ws:
            ws.receive_json()
            ws.send_json({"type": "play"})
            started = time.monotonic()
            while time.monotonic() - started < 3:
                frame = ws.receive_json()
                assert frame["type"] == "frame", frame
            assert c.get(at(case.state, sid)).status_code == 200  # while it streams
            ws.send_json({"type": "pause"})
            while ws.receive_json().get("playing"):
                pass
        assert c.get(at(case.state, sid)).status_code == 200  # just after
        assert sid in c.app.state.store
        # The time-out itself still works once nothing uses the session (the stream has closed and its last
        # training chunk, which may still be running on a loaded machine, has finished): it leaves memory...
        deadline = time.monotonic() + 20
        while sid in c.app.state.store and time.monotonic() < deadline:
            time.sleep(0.1)
        assert sid not in c.app.state.store
        assert c.get(at(case.state, sid)).status_code == 200  # ...not the store


class SlowClient:
    """A WebSocket peer that reads slowly: each time it is sent a frame while playing, it takes until the trainer
    has recorded two more entries (two more frames) before it reads on, so the stream must drop frames.

    It plays until it has read `frames` frames, pauses, and leaves after the first paused frame.
    """

    def __init__(self, app: Any, frames: int, progress: Callable[[], int]) -> None:
        self.app, self.frames, self.progress = app, frames, progress
        self.query_params: dict[str, str] = {}  # JSON frames, no acknowledgements: the stream's defaults
        self.received: list[dict[str, Any]] = []
        self.inbox: asyncio.Queue[str | None] = asyncio.Queue()
        self.pausing = False
        self.inbox.put_nowait(json.dumps({"type": "play"}))

    async def accept(self) -> None:
        pass

    async def receive(self) -> dict[str, Any]:
        """The ASGI message the stream reads: the next text frame, or the disconnect."""
        text = await self.inbox.get()
        if text is None:
            return {"type": "websocket.disconnect", "code": 1000}
        return {"type": "websocket.receive", "text": text}

    async def send_text(self, text: str) -> None:
        message = json.loads(text)
        if message.get("playing") and not self.pausing:
            target, deadline = self.progress() + 2, time.monotonic() + 20
            while self.progress() < target and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
        self.received.append(message)
        frames = [m for m in self.received if m.get("type") == "frame"]
        if self.pausing and message.get("type") == "frame" and not message["playing"]:
            self.inbox.put_nowait(None)
        elif not self.pausing and len(frames) >= self.frames:
            self.pausing = True
            self.inbox.put_nowait(json.dumps({"type": "pause"}))

    async def close(self, code: int = 1000, reason: str = "") -> None:
        self.inbox.put_nowait(None)


ENDPOINTS = {"playground": playground_live.live, "lenet": lenet_api.live, "transformer": transformers.live,
             "charlm": charlm_api.live}


@pytest.mark.parametrize("name", LIVE)
def test_a_client_that_falls_behind_still_gets_the_whole_history(api, name, monkeypatch):
    case = SESSIONS[name]
    sid = case.create(api)
    # Quick frames, so that many are dropped in a short test.
    if name in ("transformer", "charlm"):
        api.app.state.store.get(sid, case.kind).extra["every"] = 2
    monkeypatch.setattr(lenet_api, "LIVE_FRAMES_PER_EPOCH", 10_000)  # one batch a frame
    trainer = case.trainer(api.app.state.store.get(sid, case.kind).obj)
    client = SlowClient(api.app, 6, lambda: len(trainer.history))
    with ThreadPoolExecutor(1) as pool:  # an event loop of its own (the browser fixtures may hold this one)
        pool.submit(asyncio.run, ENDPOINTS[name](client, sid)).result(timeout=120)
    history: list[dict[str, Any]] = []
    for message in client.received:
        assert message["type"] == "frame", message
        history = history[: message["history"]["from"]] + message["history"]["entries"]
    assert max(m["dropped"] for m in client.received) > 0  # it did fall behind
    state = api.get(at(case.state, sid)).json()
    assert len(state["history"]) > 2 and history == state["history"]


def test_live_config_messages_are_checked_by_the_features_schema(api):
    sid = SESSIONS["lenet"].create(api)
    with api.websocket_connect(f"/ws/lenet/{sid}") as ws:
        ws.receive_json()
        for message, says in [({"learning_rate": 0}, "config: learning_rate: Input should be greater than 0"),
                              ({"augment": "yes"}, "config: augment: Input should be a valid boolean"),
                              ({"speed": 2}, "unknown config fields ['speed']; use augment, learning_rate")]:
            ws.send_json({"type": "config", **message})
            error = ws.receive_json()
            assert error["type"] == "error" and error["status"] == 422 and error["detail"] == says
        ws.send_json({"type": "config", "learning_rate": 0.01})
        assert ws.receive_json()["learning_rate"] == 0.01
