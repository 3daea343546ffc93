"""The Playground API and the live WebSocket: configurations, data editing, frames, the frame protocol,
frame dropping for slow clients, reconnecting."""

import json
import socket
import time

import httpx
import numpy as np
import pytest
from websockets.sync.client import connect

from app.arrays import decode_array
from app.live import merge_history


def create(client, **config):
    r = client.post("/api/playground", json=config)
    assert r.status_code == 201, r.text
    return r.json()


def weights(client, sid):
    return client.get(f"/api/networks/{sid}").json()["params"]


def test_create_with_defaults_and_read_back(client):
    state = create(client)
    assert state["config"]["hidden"] == [4, 2] and state["config"]["learning_rate"] == 0.03
    assert state["layout"] == [2, 4, 2, 1] and state["num_params"] == 25
    assert state["data"] == {"name": "circle", "task": "binary", "kind": "plane", "num_train": 250, "num_test": 250,
                             "num_classes": 2, "source": {"name": "circle", "noise": 0.0, "train_ratio": 0.5,
                                                          "seed": 0}}
    assert len(state["history"]) == 1 and state["history"][0]["epoch"] == 0
    again = client.get(f"/api/playground/{state['id']}").json()
    assert again["config"] == state["config"]
    # It is an ordinary network session.
    assert client.get(f"/api/networks/{state['id']}").json()["num_params"] == 25


def test_sessions_without_data_or_features_are_refused_as_playgrounds(client):
    sid = client.post("/api/networks", json={"preset": "worked-example"}).json()["id"]
    r = client.get(f"/api/playground/{sid}")
    assert r.status_code == 422 and "raw inputs" in r.json()["detail"]
    spec = {"features": ["x1", "x2"], "layers": [{"type": "dense", "units": 1, "activation": "tanh"}]}
    sid = client.post("/api/networks", json={"spec": spec}).json()["id"]
    r = client.get(f"/api/playground/{sid}")
    assert r.status_code == 422 and "no data" in r.json()["detail"]


def test_same_config_gives_the_same_network_and_data(client):
    a, b = create(client, dataset="xor", data_seed=3, seed=7), create(client, dataset="xor", data_seed=3, seed=7)
    assert weights(client, a["id"]) == weights(client, b["id"])
    pa = client.get(f"/api/networks/{a['id']}/data").json()
    assert pa == client.get(f"/api/networks/{b['id']}/data").json()


@pytest.mark.parametrize("config,fragment", [
    ({"dataset": "plane", "loss": "cross_entropy"}, "squared error"),
    ({"hidden": [4] * 7}, "hidden"), ({"batch_size": 0}, "batch_size"),
    ({"features": ["x1", "x2"], "dataset": "sin"}, "1-D data"), ({"learning_rate": float("nan")}, "")])
def test_bad_configs_are_422_with_a_reason(client, config, fragment):
    r = client.post("/api/playground", content=json.dumps(config, allow_nan=True),
                    headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and fragment in r.json()["detail"]


def test_rebuild_keeps_edited_data_but_regenerates_for_new_data_fields(client):
    state = create(client)
    sid = state["id"]
    r = client.post(f"/api/networks/{sid}/data/points", json={"point": [0.5, 0.5], "label": 0})
    assert r.status_code == 201 and r.json()["num_train"] == 251
    config = {**state["config"], "hidden": [3], "activation": "relu"}
    rebuilt = client.put(f"/api/playground/{sid}", json=config).json()
    assert rebuilt["layout"] == [2, 3, 1] and rebuilt["data"]["num_train"] == 251 and rebuilt["step"] == 0
    assert rebuilt["revision"] > state["revision"]
    r = client.put(f"/api/networks/{sid}/data/csv", content="1,1,1\n-1,-1,0\n2,2,1\n-2,-2,0\n",
                   headers={"Content-Type": "text/csv"})
    assert r.status_code == 200
    kept = client.put(f"/api/playground/{sid}", json={**config, "hidden": [2]}).json()
    assert kept["data"]["name"] == "custom" and kept["data"]["num_train"] == 2
    fresh = client.put(f"/api/playground/{sid}", json=config, params={"keep_points": "false"}).json()
    assert fresh["data"]["name"] == "circle" and fresh["data"]["num_train"] == 250
    spiral3 = client.put(f"/api/playground/{sid}", json={**config, "dataset": "spiral3"}).json()
    assert spiral3["layout"] == [2, 3, 3] and spiral3["data"]["task"] == "multiclass"
    assert spiral3["data"]["num_train"] == 300


def test_learning_rate_changes_without_reset(client):
    sid = create(client)["id"]
    client.post(f"/api/networks/{sid}/train", json={"epochs": 1})
    before = weights(client, sid)
    r = client.patch(f"/api/networks/{sid}/config", json={"learning_rate": 0.3, "batch_size": 5})
    assert r.status_code == 200
    assert r.json()["optimizer"]["learning_rate"] == 0.3 and r.json()["batch_size"] == 5
    assert weights(client, sid) == before
    assert client.patch(f"/api/networks/{sid}/config", json={"learning_rate": -1}).status_code == 422
    assert client.patch(f"/api/networks/{sid}/config", json={"optimizer": "rmsprop"}).status_code == 422
    assert client.patch("/api/networks/nope/config", json={"learning_rate": 0.1}).status_code == 404


def test_regenerate_keeps_the_weights(client):
    sid = create(client)["id"]
    before = weights(client, sid)
    old = client.get(f"/api/networks/{sid}/data").json()
    r = client.put(f"/api/networks/{sid}/data", json={"name": "circle", "seed": 42})
    assert r.status_code == 200
    assert weights(client, sid) == before
    new = client.get(f"/api/networks/{sid}/data").json()
    assert new["train"]["x"] != old["train"]["x"] and new["source"]["seed"] == 42
    r = client.put(f"/api/networks/{sid}/data", json={"name": "spiral3"})
    assert r.status_code == 422 and "rebuild" in r.json()["detail"]


def test_points_add_and_remove(client):
    sid = create(client)["id"]
    r = client.post(f"/api/networks/{sid}/data/points", json={"point": [5.5, 5.5], "label": 1, "split": "test"})
    assert r.json()["num_test"] == 251
    r = client.delete(f"/api/networks/{sid}/data/points", params={"x1": 5.45, "x2": 5.5, "radius": 0.2})
    assert r.json()["removed"] == {"split": "test", "point": [5.5, 5.5], "label": 1.0}
    r = client.delete(f"/api/networks/{sid}/data/points", params={"x1": 5.9, "x2": -5.9, "radius": 0.01})
    assert r.status_code == 200 and r.json()["removed"] is None
    assert client.post(f"/api/networks/{sid}/data/points", json={"point": [9, 0], "label": 1}).status_code == 422
    assert client.post(f"/api/networks/{sid}/data/points", json={"point": [0, 0], "label": 0.3}).status_code == 422


def test_csv_upload_and_malformed_files_change_nothing(client):
    sid = create(client)["id"]
    good = "x1,x2,label\n" + "\n".join(f"{x:.2f},{-x:.2f},{int(x > 0)}" for x in np.linspace(-5, 5, 40))
    r = client.put(f"/api/networks/{sid}/data/csv", content=good, headers={"Content-Type": "text/csv"},
                   params={"train_ratio": 0.5})
    assert r.status_code == 200 and r.json()["num_train"] == 20 and r.json()["num_test"] == 20
    assert client.get(f"/api/playground/{sid}").json()["data"]["name"] == "custom"
    before = client.get(f"/api/networks/{sid}/data").json()
    r = client.put(f"/api/networks/{sid}/data/csv", content="x1,x2,label\n1,2,1\n3,4\n",
                   headers={"Content-Type": "text/csv"})
    assert r.status_code == 422 and r.json()["detail"].startswith("line 3:")
    r = client.put(f"/api/networks/{sid}/data/csv", content=b"\xff\xfe\x00", headers={"Content-Type": "text/csv"})
    assert r.status_code == 422 and "UTF-8" in r.json()["detail"]
    assert client.get(f"/api/networks/{sid}/data").json() == before


def test_frame_arrays(client):
    sid = create(client)["id"]
    frame = client.get(f"/api/playground/{sid}/frame", params={"focus_layer": 2, "focus_index": 1}).json()
    neurons = [decode_array(n) for n in frame["neurons"]]
    assert [n.shape for n in neurons] == [(4, 25, 25), (2, 25, 25), (1, 25, 25)] and neurons[0].dtype == np.uint8
    assert decode_array(frame["output"]).shape == (1, 100, 100)
    assert frame["focus"]["layer"] == 2 and decode_array(frame["focus"]["values"]).shape == (100, 100)
    w = decode_array(frame["weights"][0])
    np.testing.assert_array_equal(w, np.asarray(weights(client, sid)["0.weight"], dtype=np.float32))
    assert decode_array(frame["weight_grads"][1]).shape == (4, 2) and frame["ranges"][-1] == [-1.0, 1.0]


def test_catalog_and_gallery(client):
    cat = client.get("/api/playground/catalog").json()
    names = [d["name"] for d in cat["datasets"]]
    assert names == ["circle", "xor", "gauss", "spiral", "spiral3", "plane", "multigauss", "sin", "abs", "step",
                     "xsinx"]
    assert decode_array(cat["features"][0]["map"]).shape == (25, 25)
    assert cat["choices"]["learning_rates"][0] == 0.00001 and cat["defaults"]["hidden"] == [4, 2]
    assert len(cat["gallery"]) == 6
    assert client.get("/api/playground/gallery/ua-moons-3").status_code == 404


# --- the live WebSocket ---------------------------------------------------------------------------------


def apply_history(local: list, delta: dict) -> list:
    return local[: delta["from"]] + delta["entries"]


def test_frame_protocol(client):
    sid = create(client)["id"]
    with client.websocket_connect(f"/ws/networks/{sid}") as ws:
        first = ws.receive_json()
        assert first["type"] == "frame" and first["playing"] is False and first["dropped"] == 0
        assert first["epoch"] == 0 and first["layout"] == [2, 4, 2, 1]
        assert first["neurons"][0]["dtype"] == "uint8" and first["weights"][0]["dtype"] == "float32"
        history = apply_history([], first["history"])
        ws.send_json({"type": "step"})
        frame = ws.receive_json()
        assert frame["epoch"] == 1 and frame["step"] == 25
        history = apply_history(history, frame["history"])
        assert [h["epoch"] for h in history] == [0, 1]
        ws.send_json({"type": "step", "unit": "batch"})
        frame = ws.receive_json()
        assert frame["step"] == 26 and frame["epoch"] == 1
        ws.send_json({"type": "config", "learning_rate": 0.1, "focus": [1, 3]})
        frame = ws.receive_json()
        assert frame["focus"]["layer"] == 1 and frame["focus"]["index"] == 3
        assert client.get(f"/api/networks/{sid}").json()["spec"]["optimizer"]["learning_rate"] == 0.1
        ws.send_json({"type": "config", "hidden": [8]})
        assert "PUT /api/playground" in ws.receive_json()["detail"]
        ws.send_json({"type": "config", "focus": "everything"})
        assert "focus is [layer, index]" in ws.receive_json()["detail"]
        ws.send_json({"type": "config", "learning_rate": "fast"})
        assert ws.receive_json()["detail"].startswith("config: learning_rate")
        ws.send_json({"type": "config", "learning_rate": -1})
        assert "greater than 0" in ws.receive_json()["detail"]
        ws.send_json({"type": "play"})
        seen = [ws.receive_json() for _ in range(6)]
        assert seen[-1]["playing"] and seen[-1]["epoch"] > 1
        for f in seen:
            history = apply_history(history, f["history"])
        ws.send_json({"type": "pause"})
        while (f := ws.receive_json())["playing"]:
            history = apply_history(history, f["history"])
        history = apply_history(history, f["history"])
        # Every recorded step is in the history exactly once, in order; every epoch is there.
        steps = [h["step"] for h in history]
        assert steps == sorted(set(steps)) and steps[-1] == f["step"]
        assert {h["epoch"] for h in history} == set(range(f["epoch"] + 1))


def test_divergence_pauses_with_a_message(client):
    sid = create(client, dataset="plane", hidden=[8, 8], activation="relu", learning_rate=10)["id"]
    with client.websocket_connect(f"/ws/networks/{sid}") as ws:
        ws.receive_json()
        ws.send_json({"type": "play"})
        while not (f := ws.receive_json()).get("diverged"):
            pass
        while f["playing"]:
            f = ws.receive_json()
        assert "parameters were kept" in f["message"]
        ws.send_json({"type": "step"})
        while (refusal := ws.receive_json())["type"] == "frame":
            pass  # a frame still on its way from before the step
        assert refusal["status"] == 409 and "Reset the session" in refusal["detail"]
        assert ws.receive_json()["diverged"] is True  # the frame after the refusal still says so


def test_unknown_session_closes_with_4404(client):
    from starlette.websockets import WebSocketDisconnect

    with client.websocket_connect("/ws/networks/nope") as ws:
        assert "no network session" in ws.receive_json()["detail"]
        with pytest.raises(WebSocketDisconnect) as exc:
            ws.receive_json()
        assert exc.value.code == 4404


def test_merge_keeps_dropped_history():
    old = {"type": "frame", "epoch": 5, "history": {"from": 3, "entries": [{"epoch": 3}, {"epoch": 4}, {"epoch": 5}]}}
    new = {"type": "frame", "epoch": 6, "history": {"from": 5, "entries": [{"epoch": 5}, {"epoch": 6}]}}
    merged = merge_history(old, new)
    assert merged["history"] == {"from": 3, "entries": [{"epoch": e} for e in (3, 4, 5, 6)]}
    reset = {"type": "frame", "history": {"from": 0, "entries": [{"epoch": 0}]}}
    assert merge_history(old, reset)["history"] == reset["history"]


def test_slow_client_gets_dropped_frames_and_no_history_is_lost(live_server):
    """A client that stops reading: the server drops frames instead of queueing them, and the frames it does
    send still carry every epoch's metrics."""
    big = {"dataset": "xor", "hidden": [8] * 6, "features": ["x1", "x2", "x1sq", "x2sq", "x1x2", "sinx1", "sinx2"]}
    sid = httpx.post(f"{live_server}/api/playground", json=big).json()["id"]
    url = live_server.replace("http", "ws") + f"/ws/networks/{sid}"
    host, port = live_server.removeprefix("http://").split(":")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a small window, so the server feels it
    sock.connect((host, int(port)))
    with connect(url, sock=sock, max_size=None, max_queue=1) as ws:
        history = apply_history([], json.loads(ws.recv())["history"])
        ws.send(json.dumps({"type": "play"}))
        time.sleep(4)  # not reading: the socket buffers fill up, the sender blocks, the mailbox drops
        frames = []
        for _ in range(400):
            f = json.loads(ws.recv())
            frames.append(f)
            history = apply_history(history, f["history"])
            if len(frames) > 5 and f["dropped"] > 0 and frames[-2]["dropped"] == f["dropped"]:
                break  # caught up: frames arrive one by one again
        ws.send(json.dumps({"type": "pause"}))
        while (f := json.loads(ws.recv()))["playing"]:
            history = apply_history(history, f["history"])
        history = apply_history(history, f["history"])
    assert f["dropped"] > 0
    assert len(frames) + 2 < f["epoch"]  # fewer frames than epochs reached us
    assert [h["epoch"] for h in history] == list(range(f["epoch"] + 1))


def test_closing_stops_training_and_a_reconnect_resumes(client):
    sid = create(client)["id"]
    with client.websocket_connect(f"/ws/networks/{sid}") as ws:
        ws.receive_json()
        ws.send_json({"type": "play"})
        for _ in range(3):
            ws.receive_json()
    time.sleep(0.2)
    step = client.get(f"/api/networks/{sid}").json()["step"]
    time.sleep(0.3)
    assert client.get(f"/api/networks/{sid}").json()["step"] == step  # no training without a connection
    with client.websocket_connect(f"/ws/networks/{sid}") as ws:
        frame = ws.receive_json()
        assert frame["step"] == step and frame["playing"] is False
        history = apply_history([], frame["history"])
        assert history[0]["epoch"] == 0 and history[-1]["step"] == step


def test_binary_frames_carry_the_same_numbers_as_json_frames(client):
    """?frames=binary: a JSON header and the arrays as raw bytes, decoding to what the base64 frame holds."""
    from app.arrays import unpack_binary

    sid = client.post("/api/playground", json={}).json()["id"]
    with client.websocket_connect(f"/ws/networks/{sid}?frames=binary") as ws:
        message = ws.receive_bytes()
    binary = unpack_binary(message)
    with client.websocket_connect(f"/ws/networks/{sid}") as ws:
        text = json.loads(ws.receive_text())
    assert binary["type"] == text["type"] == "frame" and binary["step"] == text["step"] == 0
    for key in ("weights", "biases", "weight_grads", "bias_grads", "neurons"):
        for got, want in zip(binary[key], text[key], strict=True):
            np.testing.assert_array_equal(got, decode_array(want))
    np.testing.assert_array_equal(binary["output"], decode_array(text["output"]))
    assert binary["output"].dtype == np.uint8 and binary["neurons"][0].shape == (4, 25, 25)
    assert len(message) < 0.8 * len(json.dumps(text))  # base64 is 4/3 of the bytes


def test_an_acknowledging_client_is_sent_no_faster_than_it_draws(client):
    """With ?ack=1 the next frame is trained only after the client acknowledged the last (or ACK_WAIT)."""
    from app.arrays import unpack_binary
    from app.live import ACK_WAIT

    sid = client.post("/api/playground", json={}).json()["id"]
    with client.websocket_connect(f"/ws/networks/{sid}?frames=binary&ack=1") as ws:
        ws.receive_bytes()
        ws.send_text(json.dumps({"type": "play"}))
        ws.send_text(json.dumps({"type": "ack"}))
        epochs = []
        start = time.monotonic()
        while time.monotonic() - start < 0.6 * ACK_WAIT:  # no acks from here on
            ws.send_text(json.dumps({"type": "frame"}))  # answered at once, whatever the acks
            epochs.append(unpack_binary(ws.receive_bytes())["epoch"])
        ws.send_text(json.dumps({"type": "pause"}))
    # Without acks, training stalls after at most the frames already on their way.
    assert epochs[-1] <= 3, epochs
