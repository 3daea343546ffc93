"""The transformer-session API: create, state, train, forward on typed sequences, live stream, every error."""

from __future__ import annotations

import numpy as np
import pytest

from app.arrays import decode_array

from .conftest import make_client


def create(client, **body):
    r = client.post("/api/transformers", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def test_presets_list_every_task(client):
    presets = {p["name"]: p for p in client.get("/api/transformers/presets").json()}
    assert set(presets) == {"reverse", "reverse-1head", "sort", "copy", "induction", "induction-1layer", "brackets"}
    assert presets["reverse"]["model"] == {"arch": "encoder-decoder", "layers": 2, "heads": 2, "d_model": 32,
                                           "d_ff": 64, "positional": "learned"}
    assert presets["reverse"]["train"]["batch_size"] == 64 and presets["reverse"]["train"]["warmup"] == 100


def test_create_reverse_and_read_its_state(client):
    state = create(client)  # reverse is the default
    assert state["preset"] == "reverse"
    assert state["task"]["mode"] == "seq2seq" and state["task"]["max_typed"] == 8
    assert state["model"]["arch"] == "encoder-decoder" and state["model"]["num_params"] > 10_000
    ids = [a["id"] for a in state["attention"]]
    assert ids == ["encoder-0", "encoder-1", "decoder-0", "cross-0", "decoder-1", "cross-1"]
    cross = state["attention"][3]
    assert cross == {"id": "cross-0", "kind": "cross", "layer": 0, "heads": 2, "causal": False, "queries": "inputs",
                     "keys": "src"}
    assert state["attention"][2]["causal"] is True
    assert state["step"] == 0 and len(state["history"]) == 1
    assert state["latest"]["extra"]["sequence_accuracy"] < 0.05
    assert state["latest"]["test_accuracy"] == state["latest"]["extra"]["sequence_accuracy"]
    again = client.get(f"/api/transformers/{state['id']}").json()
    assert again["id"] == state["id"] and again["settings"] == state["settings"]


def test_sizes_override_the_preset(client):
    state = create(client, preset="copy", model={"d_model": 16, "heads": 4, "layers": 1},
                   train={"learning_rate": 0.002}, task={"length": 4})
    assert state["model"]["d_model"] == 16 and state["model"]["heads"] == 4 and state["model"]["layers"] == 1
    assert state["settings"]["train"]["learning_rate"] == 0.002
    assert state["task"]["max_typed"] == 4
    assert [a["id"] for a in state["attention"]] == ["self-0"]


def test_train_then_forward_a_typed_sequence(client):
    state = create(client, preset="reverse-1head")
    sid = state["id"]
    r = client.post(f"/api/transformers/{sid}/train", json={"steps": 250, "record_every": 50})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["step"] == 250 and [h["step"] for h in body["history"]] == [50, 100, 150, 200, 250]
    assert body["latest"]["extra"]["sequence_accuracy"] > 0.9
    for tokens in ("3 1 4 1 5 9 2 6", [3, 1, 4, 1, 5, 9, 2, 6], ["3", "1", "4", "1", "5", "9", "2", "6"]):
        out = client.post(f"/api/transformers/{sid}/forward", json={"tokens": tokens}).json()
        assert out["output"] == ["6", "2", "9", "5", "1", "4", "1", "3"]
        assert out["expected"] == out["output"] and out["correct"] is True
    assert out["typed"] == ["3", "1", "4", "1", "5", "9", "2", "6"]
    [attn] = out["attention"]
    weights = np.array(attn["weights"])
    assert attn["id"] == "self-0" and weights.shape == (1, 8, 8)
    np.testing.assert_allclose(weights.sum(axis=-1), 1, atol=1e-5)
    assert "q" not in attn or attn["q"] is None
    assert np.array(out["probabilities"]).shape == (8, 10)


def test_forward_with_the_full_trace_and_base64(client):
    sid = create(client)["id"]
    out = client.post(f"/api/transformers/{sid}/forward", json={"tokens": "1 2 3", "trace": True}).json()
    assert out["src_tokens"] == ["1", "2", "3"]
    assert out["input_tokens"][0] == "<s>" and len(out["input_tokens"]) == 3 and len(out["output"]) == 3
    by_id = {a["id"]: a for a in out["attention"]}
    dec = by_id["decoder-0"]
    masked = np.array(dec["masked"], dtype=object)
    assert masked[0, 0, 1] is None and masked[0, 1, 0] is not None  # −∞ travels as null
    np.testing.assert_allclose(np.array(dec["scaled"]), np.array(dec["raw"]) / np.sqrt(out["d_k"]), rtol=1e-5)
    assert np.array(by_id["cross-1"]["weights"]).shape == (2, 3, 3)
    assert by_id["cross-1"]["key_tokens"] == ["1", "2", "3"]
    assert [a["causal"] for a in out["attention"]] == [False, False, True, False, True, False]
    q, k = np.array(dec["q"]), np.array(dec["k"])
    np.testing.assert_allclose(q @ k.transpose(0, 2, 1), np.array(dec["raw"]), rtol=1e-4, atol=1e-5)
    weights = np.array(dec["weights"])
    np.testing.assert_allclose(weights @ np.array(dec["v"]), np.array(dec["head_out"]), rtol=1e-4, atol=1e-6)
    b64 = client.post(f"/api/transformers/{sid}/forward?encoding=base64", json={"tokens": "1 2 3"}).json()
    w = decode_array(b64["attention"][3]["weights"])
    np.testing.assert_allclose(w, np.array(by_id["cross-0"]["weights"]), rtol=1e-6)


def test_brackets_and_induction_forward(client):
    sid = create(client, preset="brackets")["id"]
    out = client.post(f"/api/transformers/{sid}/forward", json={"tokens": "(()())"}).json()
    assert out["typed"] == ["(", "(", ")", "(", ")", ")"] and out["expected"] == ["balanced"]
    assert out["output"][0] in ("balanced", "unbalanced") and out["output_vocab"] == ["unbalanced", "balanced"]
    sid = create(client, preset="induction")["id"]
    out = client.post(f"/api/transformers/{sid}/forward", json={"tokens": "Q A B C A B"}).json()
    assert out["expected"] == [None, None, None, None, "B", "C"] and len(out["output"]) == 6
    assert len(out["attention"]) == 2 and np.array(out["attention"][0]["weights"]).shape == (4, 6, 6)
    assert all(a["causal"] for a in out["attention"])  # decoder-only: every layer is masked


@pytest.mark.parametrize("tokens,message", [
    ("3 1 x", "unknown token x: the reverse task's vocabulary is 0, 1, 2, 3, 4, 5, 6, 7, 8, 9"),
    ([1, 2, 10], "unknown token 10"),
    ("1 2 3 4 5 6 7 8 9", "9 tokens, over this model's limit of 8"),
    ("", "the sequence is empty"),
])
def test_forward_errors_name_the_vocabulary_and_the_limit(client, tokens, message):
    sid = create(client)["id"]
    r = client.post(f"/api/transformers/{sid}/forward", json={"tokens": tokens})
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert message in detail
    assert "0, 1, 2, 3, 4, 5, 6, 7, 8, 9" in detail and "8" in detail


@pytest.mark.parametrize("body,fragment", [
    ({"preset": "juggle"}, "unknown task preset 'juggle'"),
    ({"model": {"d_model": 30, "heads": 4}}, "multiple of"),
    ({"model": {"layers": 0}}, "model.layers"),
    ({"model": {"heads": 99}}, "model.heads"),
    ({"model": {"colour": "red"}}, "model.colour"),
    ({"train": {"learning_rate": float("nan")}}, "train.learning_rate"),
    ({"train": {"learning_rate": -1}}, "train.learning_rate"),
    ({"task": {"length": 1}}, "task.length"),
    ({"preset": "brackets", "task": {"length": 7}}, "even length"),
])
def test_create_errors(client, body, fragment):
    r = client.post("/api/transformers", content=__import__("json").dumps(body, allow_nan=True),
                    headers={"Content-Type": "application/json"})
    assert r.status_code == 422, r.text
    assert fragment in r.json()["detail"]


def test_size_limits_are_413():
    with make_client(max_parameters=5000) as small:
        r = small.post("/api/transformers", json={"preset": "reverse"})
        assert r.status_code == 413 and "parameters" in r.json()["detail"]
    with make_client(max_batch_size=32, max_steps_per_request=10) as small:
        r = small.post("/api/transformers", json={"train": {"batch_size": 64}})
        assert r.status_code == 413 and "GLASSBOX_MAX_BATCH_SIZE" in r.json()["detail"]
        sid = small.post("/api/transformers", json={"preset": "copy"}).json()["id"]
        r = small.post(f"/api/transformers/{sid}/train", json={"steps": 11})
        assert r.status_code == 413 and "steps" in r.json()["detail"]


def test_unknown_ids_bad_bodies_and_delete(client):
    assert client.get("/api/transformers/nope").status_code == 404
    assert client.post("/api/transformers/nope/train", json={"steps": 1}).status_code == 404
    assert client.post("/api/transformers/nope/forward", json={"tokens": "1"}).status_code == 404
    sid = create(client, preset="copy")["id"]
    assert client.get(f"/api/networks/{sid}").status_code == 404  # a transformer is not a dense network
    r = client.post(f"/api/transformers/{sid}/train", content="{steps: 1", headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and "not valid JSON" in r.json()["detail"]
    assert client.post(f"/api/transformers/{sid}/train", json={"steps": 0}).status_code == 422
    assert client.post(f"/api/transformers/{sid}/forward", json={"tokens": [[1, 2]]}).status_code == 422
    assert client.post(f"/api/transformers/{sid}/forward", json={}).status_code == 422
    assert client.delete(f"/api/transformers/{sid}").status_code == 204
    assert client.get(f"/api/transformers/{sid}").status_code == 404


def test_reset_restores_the_initial_weights(client):
    sid = create(client, preset="copy")["id"]
    before = client.post(f"/api/transformers/{sid}/forward", json={"tokens": "1 2 3"}).json()
    client.post(f"/api/transformers/{sid}/train", json={"steps": 20})
    state = client.post(f"/api/transformers/{sid}/reset").json()
    assert state["step"] == 0 and len(state["history"]) == 1
    after = client.post(f"/api/transformers/{sid}/forward", json={"tokens": "1 2 3"}).json()
    assert after["attention"][0]["weights"] == before["attention"][0]["weights"]


def test_a_diverged_session_answers_409_and_keeps_serving_forward(client):
    sid = create(client, preset="copy")["id"]
    session = client.app.state.store.get(sid, "transformer")
    session.obj.model.head.params["bias"][0] = np.inf
    r = client.post(f"/api/transformers/{sid}/train", json={"steps": 5})
    assert r.status_code == 409 and "loss became" in r.json()["detail"]
    assert client.get(f"/api/transformers/{sid}").json()["diverged"] is True
    assert client.post(f"/api/transformers/{sid}/forward", json={"tokens": "1 2"}).status_code == 200


def test_live_stream_trains_and_sends_maps_as_base64(client):
    sid = create(client, preset="reverse")["id"]
    with client.websocket_connect(f"/ws/transformers/{sid}") as ws:
        first = ws.receive_json()
        assert first["type"] == "frame" and first["step"] == 0 and first["every"] == 10
        maps = first["probe"]["attention"]
        assert [m["id"] for m in maps][3] == "cross-0"
        w = decode_array(maps[3]["weights"])
        assert w.shape == (2, 8, 8) and maps[3]["weights"]["dtype"] == "float32"
        ws.send_json({"type": "step"})
        frame = ws.receive_json()
        assert frame["step"] == 10 and frame["history"]["entries"][-1]["step"] == 10
        ws.send_json({"type": "step", "unit": "batch"})
        assert ws.receive_json()["step"] == 11
        ws.send_json({"type": "config", "every": 3, "probe": "1 2 3"})
        frame = ws.receive_json()
        assert frame["every"] == 3 and frame["probe"]["typed"] == ["1", "2", "3"]
        assert decode_array(frame["probe"]["attention"][3]["weights"]).shape == (2, 3, 3)
        ws.send_json({"type": "config", "probe": "1 x"})
        assert "unknown token x" in ws.receive_json()["detail"]
        ws.send_json({"type": "config", "learning_rate": 2})
        assert "config: learning_rate: Input should be less than or equal to 1" in ws.receive_json()["detail"]
        ws.send_json({"type": "config", "speed": 2})
        assert "unknown config fields" in ws.receive_json()["detail"]
        ws.send_json({"type": "play"})
        steps = [ws.receive_json().get("step") for _ in range(4)]
        assert steps[-1] > 14
        ws.send_json({"type": "pause"})
        while ws.receive_json().get("playing"):
            pass
    state = client.get(f"/api/transformers/{sid}").json()
    assert state["stream_every"] == 3 and state["step"] >= 14


def test_live_stream_for_an_unknown_session_closes_with_4404(client):
    with client.websocket_connect("/ws/transformers/nope") as ws:
        message = ws.receive_json()
        assert message["type"] == "error" and "no transformer session" in message["detail"]
