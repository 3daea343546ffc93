"""The character language model API: predictions, generation (REST and WebSocket), attention, the embedding map,
training sessions and their live stream, and every limit."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from app.arrays import decode_array
from engine.charlm.corpus import UNKNOWN

from .conftest import make_client


def test_model_info_names_its_loss_and_command(client):
    info = client.get("/api/charlm").json()
    assert info["heads"] == 4 and info["context"] >= 64 and len(info["vocab"]) == 81
    assert info["unknown_symbol"] == UNKNOWN == info["vocab"][-1]
    assert math.isclose(info["bits_per_char"], info["validation_loss"] / math.log(2))
    assert info["command"].startswith("glassbox train charlm")


def test_the_next_character_distribution_sums_to_one(client):
    r = client.post("/api/charlm/predict", json={"text": "To be, or not to b"})
    assert r.status_code == 200, r.text
    out = r.json()
    assert math.isclose(sum(out["probabilities"]), 1.0, abs_tol=1e-6)
    assert math.isclose(sum(out["model_probabilities"]), 1.0, abs_tol=1e-6)
    assert len(out["top"]) == 10 and out["top"][0]["char"] == "e"  # "To be, or not to b" → "e"
    assert [t["probability"] for t in out["top"]] == sorted((t["probability"] for t in out["top"]), reverse=True)
    assert out["position"] == len("To be, or not to b") - 1 and out["note"] is None
    assert out["char_probabilities"][0] is None and all(0 < p <= 1 for p in out["char_probabilities"][1:])
    lens = out["lens"]
    assert lens[0]["name"] == "embedding" and len(lens) == client.get("/api/charlm").json()["layers"] + 1
    assert lens[-1]["top"][0]["char"] == out["top"][0]["char"]


def test_temperature_reshapes_and_zero_is_the_argmax(client):
    def top(**body):
        return client.post("/api/charlm/predict", json={"text": "What say yo", **body}).json()

    base, hot, cold = top(), top(temperature=2.0), top(temperature=0.0)
    assert hot["top"][0]["probability"] < base["top"][0]["probability"]  # flatter
    assert cold["top"][0]["probability"] == 1.0 and cold["top"][0]["char"] == base["top"][0]["char"]
    assert hot["model_probabilities"] == base["model_probabilities"]  # the model's own distribution stays
    k3 = top(top_k=3)
    assert sum(p > 0 for p in k3["probabilities"]) == 3 and math.isclose(sum(k3["probabilities"]), 1, abs_tol=1e-9)


def test_a_chosen_position_predicts_after_it(client):
    out = client.post("/api/charlm/predict", json={"text": "my lord", "position": 2}).json()
    assert out["position"] == 2
    assert client.post("/api/charlm/predict", json={"text": "my lord", "position": -1}).json()["position"] == 6
    r = client.post("/api/charlm/predict", json={"text": "my lord", "position": 7})
    assert r.status_code == 422 and "outside" in r.json()["detail"]


def test_unknown_characters_are_read_as_the_unknown_symbol(client):
    out = client.post("/api/charlm/predict", json={"text": "naïve ☃ café"}).json()
    assert out["chars"] == list(f"na{UNKNOWN}ve {UNKNOWN} caf{UNKNOWN}") and out["unknown_positions"] == [2, 6, 11]
    assert "3 characters outside" in out["note"] and UNKNOWN in out["note"]
    assert math.isclose(sum(out["probabilities"]), 1.0, abs_tol=1e-6)


def test_long_texts_are_windowed_with_a_note(client):
    context = client.get("/api/charlm").json()["context"]
    text = "Friends, Romans, countrymen, lend me your ears; " * 10
    out = client.post("/api/charlm/predict", json={"text": text}).json()
    assert len(out["chars"]) == context and out["dropped"] == len(text) - context
    assert "".join(out["chars"]) == text[-context:] and f"only the last {context}" in out["note"]


def test_generation_is_seeded_and_greedy_at_zero(client):
    body = {"text": "ROMEO.\n", "length": 40, "temperature": 0.8, "seed": 3}
    first = client.post("/api/charlm/generate", json=body).json()
    assert len(first["text"]) == 40 and first["text"] == "".join(c["char"] for c in first["characters"])
    assert client.post("/api/charlm/generate", json=body).json()["text"] == first["text"]
    assert client.post("/api/charlm/generate", json={**body, "seed": 4}).json()["text"] != first["text"]
    greedy = client.post("/api/charlm/generate", json={**body, "temperature": 0, "length": 5}).json()
    assert all(c["sampled_probability"] == 1.0 for c in greedy["characters"])
    text = body["text"]
    for c in greedy["characters"]:  # each is the top of the distribution after the text so far
        assert client.post("/api/charlm/predict", json={"text": text}).json()["top"][0]["char"] == c["char"]
        text += c["char"]


def test_generation_streams_on_the_websocket(client):
    with client.websocket_connect("/ws/charlm/generate") as ws:
        ws.send_json({"text": "ROMEO.\n", "length": 12, "temperature": 0.8, "seed": 3})
        start = ws.receive_json()
        assert start["type"] == "start" and start["chars"] == list("ROMEO.\n")
        chars = [ws.receive_json() for _ in range(12)]
        assert [c["index"] for c in chars] == list(range(12)) and all(c["type"] == "char" for c in chars)
        done = ws.receive_json()
        assert done == {"type": "done", "text": "".join(c["char"] for c in chars)}
        rest = client.post("/api/charlm/generate", json={"text": "ROMEO.\n", "length": 12, "temperature": 0.8,
                                                         "seed": 3}).json()
        assert rest["text"] == done["text"]
        ws.send_json({"text": "x", "length": 10**6})
        error = ws.receive_json()
        assert error["type"] == "error" and "GLASSBOX_CHARLM_MAX_GENERATE" in error["detail"]
        ws.send_text("not json")
        assert ws.receive_json()["type"] == "error"
        ws.send_json({"text": "x", "length": 2, "temperature": -1})
        assert "temperature" in ws.receive_json()["detail"]


def test_attention_of_every_head(client):
    out = client.post("/api/charlm/attention", json={"text": "Good night, sweet prince"},
                      params={"encoding": "base64"}).json()
    weights = decode_array(out["weights"])
    n = len("Good night, sweet prince")
    assert weights.shape == (out["layers"], out["heads"], n, n)
    np.testing.assert_allclose(weights.sum(axis=-1), 1, atol=1e-5)
    assert np.all(weights[..., np.triu(np.ones((n, n), dtype=bool), k=1)] == 0)  # later characters are masked


def test_embedding_map_groups_every_symbol(client):
    out = client.get("/api/charlm/embedding").json()
    assert len(out["symbols"]) == 81 and np.array(out["coords"]).shape == (81, 2)
    groups = dict(zip(out["symbols"], out["groups"], strict=True))
    assert groups["a"] == "vowel" and groups["t"] == "consonant" and groups["7"] == "digit" and groups[","] == \
        "punctuation" and groups["E"] == "capital vowel" and groups[" "] == "space" and groups[UNKNOWN] == "unknown"


@pytest.mark.parametrize("path,body,setting", [
    ("/api/charlm/predict", {"text": "x" * 10_001}, "CHARLM_MAX_TEXT"),
    ("/api/charlm/attention", {"text": "x" * 10_001}, "CHARLM_MAX_TEXT"),
    ("/api/charlm/generate", {"text": "x", "length": 1001}, "CHARLM_MAX_GENERATE"),
    ("/api/charlm/sessions", {"text": "x" * 300_001}, "CHARLM_MAX_TRAIN_TEXT"),
])
def test_limits_answer_413(client, path, body, setting):
    r = client.post(path, json=body)
    assert r.status_code == 413 and setting in r.json()["detail"]


def test_limits_follow_the_settings():
    with make_client(charlm_max_text=20, charlm_max_generate=5) as small:
        assert small.post("/api/charlm/predict", json={"text": "x" * 21}).status_code == 413
        assert small.post("/api/charlm/generate", json={"text": "x", "length": 6}).status_code == 413
        assert small.get("/api/charlm").json()["max_generate"] == 5
    with make_client(max_step_work=1e6) as small:  # a session's training step is budgeted like the others'
        r = small.post("/api/charlm/sessions", json={})
        assert r.status_code == 413 and "MAX_STEP_WORK" in r.json()["detail"]


@pytest.mark.parametrize("body", [{"text": 3}, {"text": "a", "temperature": float("nan")}, {"text": "a", "top_k": 0},
                                  {"text": "a", "temperature": 11}, {"text": "a", "extra": 1}, {}])
def test_bad_requests_answer_422(client, body):
    r = client.post("/api/charlm/predict", content=json.dumps(body, allow_nan=True),
                    headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and r.json()["detail"]


def test_a_training_session_trains_streams_and_answers(client):
    r = client.post("/api/charlm/sessions", json={"model": {"layers": 1, "d_model": 32, "context": 32},
                                                  "train": {"batch_size": 8, "learning_rate": 0.01, "warmup": 0}})
    assert r.status_code == 201, r.text
    state = r.json()
    sid, first = state["id"], state["latest"]["test_loss"]
    assert state["step"] == 0 and state["sample"].startswith("ROMEO.\n")
    trained = client.post(f"/api/charlm/sessions/{sid}/train", json={"steps": 40}).json()
    assert trained["step"] == 40 and trained["latest"]["test_loss"] < first - 0.5
    out = client.post("/api/charlm/predict", json={"text": "to be", "session": sid}).json()
    assert len(out["chars"]) == 5 and len(out["lens"]) == 2  # the session's one-block model answered
    with client.websocket_connect(f"/ws/charlm/sessions/{sid}") as ws:
        assert ws.receive_json()["step"] == 40
        ws.send_json({"type": "config", "every": 5, "prompt": "HAMLET."})
        assert ws.receive_json()["sample"].startswith("HAMLET.")
        ws.send_json({"type": "step"})
        frame = ws.receive_json()
        assert frame["step"] == 45 and frame["history"]["entries"][-1]["step"] == 45
        ws.send_json({"type": "config", "momentum": 1})
        assert "unknown config" in ws.receive_json()["detail"]
        ws.send_json({"type": "config", "every": 0})
        assert ws.receive_json()["status"] == 422
    assert client.post(f"/api/charlm/sessions/{sid}/reset").json()["step"] == 0
    assert client.delete(f"/api/charlm/sessions/{sid}").status_code == 204
    assert client.post("/api/charlm/predict", json={"text": "a", "session": sid}).status_code == 404


def test_a_session_on_your_own_text(client):
    text = "the cat sat on the mat. " * 30
    state = client.post("/api/charlm/sessions", json={"text": text + "😀", "model": {"context": 16}}).json()
    assert state["text_characters"] == len(text) + 1 and state["held_out_characters"] == round(0.1 * (len(text) + 1))
    r = client.post("/api/charlm/sessions", json={"text": "too short", "model": {"context": 64}})
    assert r.status_code == 422 and "too short" in r.json()["detail"]
    r = client.post("/api/charlm/sessions", json={"model": {"d_model": 30, "heads": 4}})
    assert r.status_code == 422 and "multiple" in r.json()["detail"]
