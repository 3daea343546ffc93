"""The network-session API: every route and its error cases."""

import threading

import numpy as np
import pytest

from app.arrays import decode_array
from engine.dense.trainer import Trainer, dataset_from_config

from .conftest import make_client

SMALL_SPEC = {
    "features": ["x1", "x2"],
    "layers": [{"type": "dense", "units": 3, "activation": "tanh"},
               {"type": "dense", "units": 1, "activation": "tanh"}],
    "optimizer": {"type": "sgd", "learning_rate": 0.03},
    "batch_size": 10,
    "seed": 1,
}


def create(client, **body):
    r = client.post("/api/networks", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def test_health_and_presets(client):
    r = client.get("/api/health")
    assert r.status_code == 200
    assert r.json()["status"] == "ok"
    names = [p["name"] for p in client.get("/api/presets").json()]
    assert "worked-example" in names and "playground-default" in names


def test_create_from_preset_and_get_state(client):
    state = create(client, preset="worked-example")
    assert state["params"] == {"0.weight": [[0.11, 0.12], [0.21, 0.08]], "1.weight": [[0.14], [0.15]]}
    assert state["num_params"] == 6
    assert [layer["type"] for layer in state["layers"]] == ["dense", "dense"]
    assert state["layers"][0]["params"] == {"weight": [2, 2]}
    again = client.get(f"/api/networks/{state['id']}").json()
    assert again["params"] == state["params"]
    assert again["step"] == 0 and again["diverged"] is False
    assert len(state["id"]) >= 20  # unguessable token


def test_create_from_spec_with_data(client):
    state = create(client, spec=SMALL_SPEC, data={"name": "xor", "noise": 0.1, "train_ratio": 0.6, "seed": 2})
    assert state["data"]["name"] == "xor" and state["data"]["num_train"] == 300
    assert state["history"][0]["train_loss"] is not None
    assert state["spec"]["features"] == ["x1", "x2"]


def test_forward_returns_every_layer(client):
    state = create(client, preset="worked-example")
    r = client.post(f"/api/networks/{state['id']}/forward", json={"inputs": [[2, 3]]})
    body = r.json()
    assert body["output"] == [[pytest.approx(0.191)]]
    assert body["layers"][0]["output"] == [[pytest.approx(0.85), pytest.approx(0.48)]]


def test_backward_returns_grads_without_updating(client):
    state = create(client, preset="worked-example")
    sid = state["id"]
    body = client.post(f"/api/networks/{sid}/backward", json={"inputs": [[2, 3]], "targets": [1]}).json()
    assert body["loss"] == pytest.approx(0.5 * 0.809**2)
    assert body["grads"]["1.weight"][1][0] == pytest.approx(0.48 * -0.809)
    assert body["activation_grads"][-1]["grad_output"] == [[pytest.approx(-0.809)]]
    assert np.array(body["input_grad"]).shape == (1, 2)
    assert client.get(f"/api/networks/{sid}").json()["params"] == state["params"]


def test_step_on_given_batch_and_on_session_data(client):
    sid = create(client, preset="worked-example")["id"]
    body = client.post(f"/api/networks/{sid}/step", json={"inputs": [[2, 3]], "targets": [1]}).json()
    assert body["step"] == 1
    assert body["params"]["1.weight"][1][0] == pytest.approx(0.15 - 0.05 * 0.48 * -0.809)
    body = client.post(f"/api/networks/{sid}/step").json()  # next mini-batch of the preset's data
    assert body["step"] == 2


def test_train_records_history(client):
    sid = create(client, spec=SMALL_SPEC, data={"name": "gauss", "seed": 0})["id"]
    body = client.post(f"/api/networks/{sid}/train", json={"epochs": 3}).json()
    assert [h["epoch"] for h in body["history"]] == [1, 2, 3]
    assert body["step"] == 75
    body = client.post(f"/api/networks/{sid}/train", json={"steps": 5}).json()
    assert body["step"] == 80
    state = client.get(f"/api/networks/{sid}").json()
    assert state["history"][-1]["step"] == 80
    assert state["history"][-1]["test_accuracy"] > 0.9


def test_reset_gives_fresh_weights(client):
    state = create(client, spec=SMALL_SPEC, data={"name": "circle"})
    sid = state["id"]
    client.post(f"/api/networks/{sid}/train", json={"epochs": 2})
    reset = client.post(f"/api/networks/{sid}/reset").json()
    assert reset["params"] == state["params"] and reset["step"] == 0


def test_base64_encoding(client):
    state = create(client, preset="playground-default")
    enc = client.get(f"/api/networks/{state['id']}?encoding=base64").json()["params"]["0.weight"]
    assert enc["dtype"] == "float32" and enc["shape"] == [2, 4]
    np.testing.assert_array_equal(decode_array(enc), np.array(state["params"]["0.weight"], dtype=np.float32))


def test_patch_param(client):
    sid = create(client, preset="worked-example")["id"]
    r = client.patch(f"/api/networks/{sid}/params", json={"layer": 1, "name": "weight", "index": [0, 0], "value": 0.5})
    assert r.json()["value"] == 0.5
    out = client.post(f"/api/networks/{sid}/forward", json={"inputs": [[2, 3]]}).json()["output"]
    assert out[0][0] == pytest.approx(0.85 * 0.5 + 0.48 * 0.15)


@pytest.mark.parametrize("body, message", [
    ({"layer": 5, "name": "weight", "index": [0, 0], "value": 1}, "layer must be between"),
    ({"layer": 0, "name": "bias", "index": [0], "value": 1}, "there is no 'bias'"),
    ({"layer": 0, "name": "weight", "index": [2, 0], "value": 1}, "outside"),
])
def test_patch_param_errors(client, body, message):
    sid = create(client, preset="worked-example")["id"]
    r = client.patch(f"/api/networks/{sid}/params", json=body)
    assert r.status_code == 422 and message in r.json()["detail"]


def test_export_import_json_and_npz(client):
    sid = create(client, spec=SMALL_SPEC, data={"name": "circle"})["id"]
    client.post(f"/api/networks/{sid}/train", json={"epochs": 2})
    points = {"inputs": [[0.5, -1.0], [3.0, 2.0]]}
    expected = client.post(f"/api/networks/{sid}/forward", json=points).json()["output"]
    doc = client.get(f"/api/networks/{sid}/export?format=json").json()
    assert doc["format"] == "glassbox-network/1"
    npz = client.get(f"/api/networks/{sid}/export?format=npz")
    assert npz.headers["content-type"] == "application/octet-stream"
    for r in (client.post("/api/networks/import", json=doc),
              client.post("/api/networks/import", content=npz.content,
                          headers={"content-type": "application/octet-stream"})):
        assert r.status_code == 201, r.text
        new_id = r.json()["id"]
        assert new_id != sid
        assert client.post(f"/api/networks/{new_id}/forward", json=points).json()["output"] == expected


def test_delete(client):
    sid = create(client, preset="worked-example")["id"]
    assert client.delete(f"/api/networks/{sid}").status_code == 204
    assert client.get(f"/api/networks/{sid}").status_code == 404


# --- the walk -----------------------------------------------------------------

def walk(client, sid, **body):
    r = client.post(f"/api/networks/{sid}/walk", json=body)
    assert r.status_code == 200, r.text
    return r.json()


def test_walk_layer_granularity_on_the_worked_example(client):
    sid = create(client, preset="worked-example")["id"]
    assert client.get(f"/api/networks/{sid}/walk").json()["position"] == -1
    titles = []
    for _ in range(6):
        state = walk(client, sid, granularity="layer")
        titles.append(state["current"]["title"])
    assert titles == ["Forward: layer 1", "Forward: layer 2", "Loss", "Backward: layer 2", "Backward: layer 1",
                      "Update"]
    assert state["labels"]["neurons"] == [["i1", "i2"], ["h1", "h2"], ["prediction"]]
    assert state["labels"]["weights"][0] == [["w1", "w3"], ["w2", "w4"]]
    loss = state["revealed"][2]
    assert loss["value"] == pytest.approx(0.327, abs=5e-4) and loss["delta"] == [[pytest.approx(-0.809)]]
    update = {p["label"]: p for p in state["current"]["params"]}
    assert [p["label"] for p in state["current"]["params"]] == ["w1", "w2", "w3", "w4", "w5", "w6"]
    assert update["w6"]["new"] == pytest.approx(0.15 - 0.05 * 0.48 * -0.809)
    assert state["step"] == 1
    # The update is on the network now; back undoes it.
    assert client.get(f"/api/networks/{sid}").json()["params"]["1.weight"][1][0] == pytest.approx(update["w6"]["new"])
    back = walk(client, sid, granularity="layer", action="back")
    assert back["position"] == 4 and back["step"] == 0
    assert client.get(f"/api/networks/{sid}").json()["params"]["1.weight"][1][0] == 0.15
    walk(client, sid, granularity="layer")
    nxt = walk(client, sid, granularity="layer")  # the next step begins from the new weights
    assert nxt["position"] == 0 and nxt["current"]["title"] == "Forward: layer 1"
    assert nxt["current"]["weight"][0][0] == pytest.approx(update["w1"]["new"])


def test_walk_neuron_granularity_terms_and_chain(client):
    sid = create(client, preset="worked-example")["id"]
    first = walk(client, sid, granularity="neuron")["current"]
    assert first["neuron_label"] == "h1"
    assert [(t["input_label"], t["weight_label"], t["product"]) for t in first["terms"]] == [
        ("i1", "w1", [pytest.approx(0.22)]), ("i2", "w2", [pytest.approx(0.63)])]
    assert first["z"] == [pytest.approx(0.85)]
    for _ in range(5):
        state = walk(client, sid, granularity="neuron")
    h1 = state["current"]
    assert h1["title"] == "Backward: h1"
    assert h1["dE_da_sources"][0]["weight_label"] == "w5"
    assert h1["dE_da"] == [pytest.approx(-0.809 * 0.14)]
    grads = {g["weight_label"]: g["grad"] for g in h1["weight_grads"]}
    assert grads == {"w1": pytest.approx(2 * -0.809 * 0.14), "w2": pytest.approx(3 * -0.809 * 0.14)}


def test_walk_matches_engine_backward_with_biases_and_activations(client):
    spec = {"input_shape": [3], "dtype": "float64", "seed": 4, "batch_size": 4, "loss": "bce",
            "layers": [{"type": "dense", "units": 3, "activation": "tanh", "bias_init": 0.1},
                       {"type": "dense", "units": 2, "activation": "relu", "bias_init": 0.2},
                       {"type": "dense", "units": 1, "activation": "sigmoid"}],
            "optimizer": {"type": "momentum", "learning_rate": 0.1}}
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 3)).tolist()
    y = [0.0, 1.0, 1.0, 0.0]
    reference = Trainer(spec)
    reference.backward(np.array(x), np.array(y))
    for granularity in ("layer", "neuron"):
        sid = create(client, spec=spec)["id"]
        state = walk(client, sid, granularity=granularity, inputs=x, targets=y)
        while state["current"]["phase"] != "update":
            state = walk(client, sid, granularity=granularity)
        backward = [s for s in state["revealed"] if s["phase"] == "backward"]
        if granularity == "layer":
            by_layer = {s["layer"]: s for s in backward}
            for number, dense_index in ((1, 0), (2, 2), (3, 4)):
                np.testing.assert_allclose(by_layer[number]["grad_weight"],
                                           reference.net.layers[dense_index].grads["weight"], atol=1e-12)
                np.testing.assert_allclose(by_layer[number]["grad_bias"],
                                           reference.net.layers[dense_index].grads["bias"], atol=1e-12)
            assert by_layer[3]["g_prime"] is not None
        else:
            stage = next(s for s in backward if s["layer"] == 2 and s["neuron"] == 1)
            expected = reference.net.layers[2].grads["weight"][:, 1]
            np.testing.assert_allclose([g["grad"] for g in stage["weight_grads"]], expected, atol=1e-12)
            assert stage["bias_grad"]["grad"] == pytest.approx(reference.net.layers[2].grads["bias"][1])
            # δ = ∂E/∂a · g′(z), per data point.
            np.testing.assert_allclose(np.array(stage["dE_da"]) * np.array(stage["g_prime"]), stage["delta"])
    # Resetting the walk before the update leaves the weights untouched.
    walk(client, sid, granularity="layer")
    client.delete(f"/api/networks/{sid}/walk")
    np.testing.assert_allclose(client.get(f"/api/networks/{sid}").json()["params"]["0.weight"],
                               reference.net.layers[0].params["weight"])


def test_walk_errors(client):
    sid = create(client, spec={"input_shape": [2], "layers": [{"type": "dense", "units": 1}]})["id"]
    r = client.post(f"/api/networks/{sid}/walk", json={"granularity": "layer"})
    assert r.status_code == 422 and "no data" in r.json()["detail"]
    r = client.post(f"/api/networks/{sid}/walk", json={"granularity": "pixel"})
    assert r.status_code == 422
    r = client.post(f"/api/networks/{sid}/walk", json={"inputs": [[1, 2]]})
    assert r.status_code == 422 and "targets" in r.json()["detail"]


# --- errors -------------------------------------------------------------------

@pytest.mark.parametrize("body, status, message", [
    ({}, 422, "preset"),
    ({"preset": "nope"}, 422, "unknown preset 'nope'"),
    ({"spec": {"input_shape": [2], "layers": [{"type": "conv9"}]}}, 422, "unknown layer type 'conv9'"),
    ({"spec": {"input_shape": [2], "layers": []}}, 422, "layers"),
    ({"spec": {"layers": [{"type": "dense", "units": 1}]}}, 422, "input_shape"),
    ({"spec": {"input_shape": [2], "layers": [{"type": "dense", "units": 1}], "loss": "hinge"}}, 422, "loss"),
    ({"spec": {"input_shape": [2], "layers": [{"type": "dense", "units": 1}],
               "optimizer": {"type": "sgd", "learning_rate": -1}}}, 422, "learning_rate"),
    ({"spec": SMALL_SPEC, "data": {"name": "moons"}}, 422, "unknown data set"),
    ({"spec": SMALL_SPEC, "data": {"name": "circle", "noise": 3}}, 422, "noise"),
    ({"spec": {"input_shape": [2], "layers": [{"type": "dense", "units": 50000}, {"type": "dense", "units": 50000}]}},
     413, "parameters"),
    ({"spec": {**SMALL_SPEC, "batch_size": 10**6}}, 413, "batch_size"),
    ({"spec": SMALL_SPEC, "data": {"name": "circle", "num_samples": 10**7}}, 413, "data points"),
    ({"spec": {"input_shape": [3], "layers": [{"type": "dense", "units": 1}]},
      "data": {"X": [[1, 2]], "y": [1]}}, 422, "shape"),
])
def test_create_errors(client, body, status, message):
    r = client.post("/api/networks", json=body)
    assert r.status_code == status, r.text
    assert message in r.json()["detail"]


def test_malformed_json_and_nan(client):
    r = client.post("/api/networks", content="{bad", headers={"content-type": "application/json"})
    assert r.status_code == 422 and "not valid JSON" in r.json()["detail"]
    sid = create(client, preset="worked-example")["id"]
    r = client.post(f"/api/networks/{sid}/step", content='{"inputs": [[2, 3]], "targets": [NaN]}',
                    headers={"content-type": "application/json"})
    assert r.status_code == 422 and "finite" in r.json()["detail"]
    r = client.post(f"/api/networks/{sid}/forward", content='{"inputs": [[Infinity, 3]]}',
                    headers={"content-type": "application/json"})
    assert r.status_code == 422


def test_wrong_shapes(client):
    sid = create(client, preset="worked-example")["id"]
    r = client.post(f"/api/networks/{sid}/forward", json={"inputs": [[1, 2, 3]]})
    assert r.status_code == 422 and "input has shape [1, 3]" in r.json()["detail"]
    r = client.post(f"/api/networks/{sid}/backward", json={"inputs": [[1, 2]], "targets": [[1, 2]]})
    assert r.status_code == 422 and "targets have shape" in r.json()["detail"]
    r = client.post(f"/api/networks/{sid}/step", json={"inputs": [[1, 2]]})
    assert r.status_code == 422 and "targets" in r.json()["detail"]


def test_unknown_ids_are_404_everywhere(client):
    for method, path in [("get", "/api/networks/x"), ("delete", "/api/networks/x"),
                         ("post", "/api/networks/x/step"), ("get", "/api/networks/x/walk"),
                         ("get", "/api/networks/x/export")]:
        r = getattr(client, method)(path)
        assert r.status_code == 404, path
        assert "no network session 'x'" in r.json()["detail"]


def test_request_limits():
    with make_client(max_batch_size=2, max_steps_per_request=10) as c:
        sid = create(c, preset="worked-example")["id"]
        r = c.post(f"/api/networks/{sid}/forward", json={"inputs": [[1, 2]] * 3})
        assert r.status_code == 413 and "GLASSBOX_MAX_BATCH_SIZE" in r.json()["detail"]
        r = c.post(f"/api/networks/{sid}/train", json={"steps": 11})
        assert r.status_code == 413 and "steps" in r.json()["detail"]


def test_divergence_is_reported_not_a_500(client):
    spec = {"input_shape": [2], "layers": [{"type": "dense", "units": 1}],
            "optimizer": {"type": "sgd", "learning_rate": 50}}
    sid = create(client, spec=spec, data={"name": "plane"})["id"]
    before = client.get(f"/api/networks/{sid}").json()
    r = client.post(f"/api/networks/{sid}/train", json={"epochs": 5})
    assert r.status_code == 409 and "parameters were kept" in r.json()["detail"]
    state = client.get(f"/api/networks/{sid}").json()
    assert state["diverged"] is True and "parameters were kept" in state["message"]
    # The whole request is undone: the parameters, step count and history it started from.
    assert state["params"] == before["params"] and state["step"] == before["step"]
    assert state["history"] == before["history"]
    for path in ("step", "train"):
        r = client.post(f"/api/networks/{sid}/{path}", json={"steps": 1} if path == "train" else None)
        assert r.status_code == 409 and "Reset" in r.json()["detail"], path
    assert client.post(f"/api/networks/{sid}/reset").json()["diverged"] is False


def test_eviction_and_idle_timeout_move_sessions_out_of_memory_not_out_of_the_store():
    with make_client(max_sessions=2) as c:
        first = create(c, preset="worked-example", data={"name": "xor", "seed": 3})
        c.post(f"/api/networks/{first['id']}/train", json={"steps": 7})
        trained = c.get(f"/api/networks/{first['id']}").json()
        ids = [create(c, preset="worked-example")["id"] for _ in range(2)]
        assert len(c.app.state.store) == 2  # the first one left memory...
        again = c.get(f"/api/networks/{first['id']}")  # ...and comes back from the store, as it was
        assert again.status_code == 200 and again.json() == trained
        assert c.get(f"/api/networks/{ids[1]}").status_code == 200
    with make_client(session_idle_seconds=0) as c:
        sid = create(c, preset="worked-example")["id"]
        assert c.get(f"/api/networks/{sid}").status_code == 200


def test_without_a_store_evicted_and_idle_sessions_are_gone():
    with make_client(store="memory", max_sessions=2) as c:
        ids = [create(c, preset="worked-example")["id"] for _ in range(3)]
        r = c.get(f"/api/networks/{ids[0]}")
        assert r.status_code == 404 and "to make room for newer ones" in r.json()["detail"]
        assert c.get(f"/api/networks/{ids[2]}").status_code == 200
    with make_client(store="memory", session_idle_seconds=0) as c:
        sid = create(c, preset="worked-example")["id"]
        assert c.get(f"/api/networks/{sid}").status_code == 404


def test_two_sessions_trained_from_two_threads_stay_independent():
    """Each session trained concurrently ends exactly where the same training alone ends (four training slots:
    beyond GLASSBOX_MAX_TRAINING_JOBS a request is answered 429, see test_hardening.py)."""
    client = make_client(max_training_jobs=4, busy_wait_seconds=30)
    cfgs = [(SMALL_SPEC, {"name": "circle", "seed": 1}), ({**SMALL_SPEC, "seed": 9}, {"name": "xor", "seed": 2})]
    ids = [create(client, spec=s, data=d)["id"] for s, d in cfgs]
    errors = []

    def run(sid):
        try:
            for _ in range(10):
                r = client.post(f"/api/networks/{sid}/train", json={"steps": 25})
                assert r.status_code == 200
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(sid,)) for sid in ids for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for sid, (spec, data) in zip(ids, cfgs, strict=True):
        alone = Trainer(spec, dataset_from_config(data))
        alone.train(steps=500)
        got = client.get(f"/api/networks/{sid}").json()
        assert got["step"] == 500
        for key, value in alone.net.get_state().items():
            np.testing.assert_array_equal(np.array(got["params"][key], dtype=np.float32), value)
