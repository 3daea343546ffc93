"""Durable sessions through the API: share links, a server restart, two workers on one Redis, expiry."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import time

import httpx
import numpy as np
import pytest
from websockets.sync.client import connect

from app.storage.redis_backend import RedisBackend

from .conftest import ROOT, free_port, make_client, start_server, stop_server

PLAYGROUND = {"dataset": "xor", "hidden": [4, 2], "learning_rate": 0.03, "seed": 5}


def params_of(state: dict) -> dict[str, np.ndarray]:
    return {name: np.asarray(value, dtype=np.float32) for name, value in state["params"].items()}


def assert_same_network(a: dict, b: dict, same_run: bool = True) -> None:
    """Same weights and history, bit for bit; two separate runs differ only in their records' wall-clock time."""
    pa, pb = params_of(a), params_of(b)
    assert pa.keys() == pb.keys()
    for name in pa:
        assert pa[name].tobytes() == pb[name].tobytes(), name
    ha, hb = a["history"], b["history"]
    if not same_run:
        ha, hb = ([{k: v for k, v in h.items() if k != "time"} for h in hist] for hist in (ha, hb))
    assert ha == hb and a["step"] == b["step"]


# --- share links ----------------------------------------------------------------------------------------------


def test_a_share_opens_read_only_refuses_changes_and_forks_into_a_session_that_trains_on(client):
    sid = client.post("/api/playground", json=PLAYGROUND).json()["id"]
    client.post(f"/api/networks/{sid}/train", json={"steps": 30})
    at_share = client.get(f"/api/networks/{sid}").json()
    r = client.post("/api/shares", json={"page": "/playground", "session": sid, "kind": "network",
                                         "view": {"hash": "#dataset=xor", "focus": [1, 2]}})
    assert r.status_code == 201, r.text
    share = r.json()
    assert share["id"] != sid and share["url"] == f"/s/{share['id']}" and share["session"] == share["id"]
    # The original trains on; the snapshot stays as it was.
    client.post(f"/api/networks/{sid}/train", json={"steps": 20})
    later = client.get(f"/api/networks/{sid}").json()
    shared = client.get(f"/api/networks/{share['id']}").json()
    assert_same_network({**shared, "id": sid}, at_share)
    assert client.get(f"/api/shares/{share['id']}").json()["view"] == {"hash": "#dataset=xor", "focus": [1, 2]}
    link = client.get(share["url"], follow_redirects=False)
    assert link.status_code == 307 and link.headers["location"] == f"/playground?share={share['id']}#dataset=xor"
    # Reading works through the kind's own routes; every change is refused with what to do instead.
    assert client.get(f"/api/playground/{share['id']}").status_code == 200
    assert client.get(f"/api/playground/{share['id']}/frame").status_code == 200
    for method, path, body in [("post", "train", {"steps": 1}), ("post", "reset", None),
                               ("patch", "config", {"learning_rate": 0.1}),
                               ("patch", "params", {"layer": 0, "name": "weight", "index": [0, 0], "value": 1.0})]:
        r = client.request(method.upper(), f"/api/networks/{share['id']}/{path}", json=body)
        assert r.status_code == 403 and "read-only share" in r.json()["detail"] and "fork" in r.json()["detail"]
    assert client.delete(f"/api/networks/{share['id']}").status_code == 403
    with client.websocket_connect(f"/ws/networks/{share['id']}") as ws:
        assert ws.receive_json()["type"] == "frame"
        ws.send_json({"type": "step"})
        assert "read-only share" in ws.receive_json()["detail"]
    # A session id is never readable as a share.
    assert client.get(f"/api/shares/{sid}").status_code == 404
    # Fork: a session of one's own, which trains on exactly as the original did from the same point.
    fork = client.post(f"/api/shares/{share['id']}/fork").json()
    assert fork["kind"] == "network" and fork["page"] == "/playground" and fork["session"] not in (sid, share["id"])
    client.post(f"/api/networks/{fork['session']}/train", json={"steps": 20})
    assert_same_network({**client.get(f"/api/networks/{fork['session']}").json(), "id": sid}, later, False)


def test_a_page_without_a_session_shares_its_view_and_bad_shares_are_refused(client):
    r = client.post("/api/shares", json={"page": "/neuron", "view": {"weights": [1, 2], "bias": -1}})
    assert r.status_code == 201 and r.json()["session"] is None and r.json()["kind"] is None
    fork = client.post(f"/api/shares/{r.json()['id']}/fork").json()
    assert fork == {"session": None, "kind": None, "page": "/neuron", "view": {"weights": [1, 2], "bias": -1}}
    assert client.post("/api/shares", json={"page": "/nowhere"}).status_code == 422
    assert client.post("/api/shares", json={"page": "/playground", "session": "x"}).status_code == 422
    r = client.post("/api/shares", json={"page": "/playground", "session": "nope", "kind": "network"})
    assert r.status_code == 404
    r = client.post("/api/shares", json={"page": "/neuron", "view": {"big": "x" * 70_000}})
    assert r.status_code == 413 and "65536" in r.json()["detail"]
    assert client.get("/api/shares/unknown").status_code == 404


# --- expiry -----------------------------------------------------------------------------------------------------


def test_an_expired_session_answers_410_with_the_date(tmp_path):
    with make_client(data_dir=tmp_path, retention_days=1e-6) as c:  # 0.0864 s
        sid = c.post("/api/networks", json={"preset": "worked-example"}).json()["id"]
        time.sleep(0.2)
        c.app.state.store.purge()
        r = c.get(f"/api/networks/{sid}")
        assert r.status_code == 410
        assert f"expired on {time.strftime('%Y-%m-%d', time.gmtime())}" in r.json()["detail"]
        with c.websocket_connect(f"/ws/networks/{sid}") as ws:
            assert "expired on" in ws.receive_json()["detail"]


# --- a restart ----------------------------------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "redis"])
def store_env(request, tmp_path) -> dict[str, str]:
    if request.param == "sqlite":
        return {"GLASSBOX_STORE": "sqlite", "GLASSBOX_DATA_DIR": str(tmp_path)}
    url = request.getfixturevalue("redis_server")
    RedisBackend(url).redis.flushdb()
    return {"GLASSBOX_STORE": url}


def test_a_restart_keeps_weights_and_history_bit_for_bit(store_env):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = start_server(port, "restart-server.log", store_env)
    try:
        sid = httpx.post(f"{url}/api/playground", json=PLAYGROUND).json()["id"]
        httpx.post(f"{url}/api/networks/{sid}/train", json={"steps": 40})
        with connect(f"ws://127.0.0.1:{port}/ws/networks/{sid}") as ws:  # and two epochs live
            json.loads(ws.recv())
            for _ in range(2):
                ws.send(json.dumps({"type": "step"}))
                last = json.loads(ws.recv())
        before = httpx.get(f"{url}/api/networks/{sid}").json()
        assert before["step"] == last["step"]
    finally:
        stop_server(server)
    server = start_server(port, "restart-server.log", store_env)
    try:
        after = httpx.get(f"{url}/api/networks/{sid}").json()
        assert_same_network(after, before)
        httpx.post(f"{url}/api/networks/{sid}/train", json={"steps": 25})
        resumed = httpx.get(f"{url}/api/networks/{sid}").json()
    finally:
        stop_server(server)
    # The same training without the restart, in one process, ends at the same bits.
    with make_client(store="memory") as c:
        ref = c.post("/api/playground", json=PLAYGROUND).json()["id"]
        c.post(f"/api/networks/{ref}/train", json={"steps": 40})
        with c.websocket_connect(f"/ws/networks/{ref}") as ws:
            ws.receive_json()
            for _ in range(2):
                ws.send_json({"type": "step"})
                ws.receive_json()
        c.post(f"/api/networks/{ref}/train", json={"steps": 25})
        assert_same_network({**c.get(f"/api/networks/{ref}").json(), "id": sid}, resumed, False)


# --- two workers ------------------------------------------------------------------------------------------------


def test_serve_refuses_several_workers_without_redis(tmp_path):
    done = subprocess.run([sys.executable, "-m", "app", "serve", "--workers", "2", "--port", str(free_port())],
                          cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "GLASSBOX_DATA_DIR": str(tmp_path)})
    assert done.returncode == 2 and "GLASSBOX_STORE=redis://" in done.stderr


def test_two_workers_create_on_one_train_on_the_other_stream_and_patch(redis_server):
    """Two server processes on one Redis (what `serve --workers 2` or two hosts behind a balancer are): any of
    them serves any session, and a change made on one reaches a stream on the other within a frame."""
    RedisBackend(redis_server).redis.flushdb()
    env = {"GLASSBOX_STORE": redis_server}
    ports = free_port(), free_port()
    servers = [start_server(port, f"worker-{i}.log", env) for i, port in enumerate(ports)]
    one, two = (f"http://127.0.0.1:{port}" for port in ports)
    try:
        sid = httpx.post(f"{one}/api/playground", json=PLAYGROUND).json()["id"]
        trained = httpx.post(f"{two}/api/networks/{sid}/train", json={"steps": 15})
        assert trained.status_code == 200
        assert httpx.get(f"{one}/api/networks/{sid}").json()["step"] == 15
        with connect(f"ws://127.0.0.1:{ports[0]}/ws/networks/{sid}") as ws:
            first = json.loads(ws.recv())
            assert first["step"] == 15
            # A weight edit on worker two while the stream on worker one is paused: a frame shows it.
            r = httpx.patch(f"{two}/api/networks/{sid}/params",
                            json={"layer": 0, "name": "weight", "index": [0, 0], "value": 1.25})
            assert r.status_code == 200
            frame = json.loads(ws.recv())
            weights = np.frombuffer(base64.b64decode(frame["weights"][0]["data"]), np.float32)
            assert weights[0] == np.float32(1.25)
            # Training live on worker one; the learning rate changed on worker two takes effect in the stream.
            ws.send(json.dumps({"type": "play"}))
            for _ in range(3):
                json.loads(ws.recv())
            r = httpx.patch(f"{two}/api/networks/{sid}/config", json={"learning_rate": 0.3})
            assert r.status_code == 200
            rates = []
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and 0.3 not in rates:
                msg = json.loads(ws.recv())
                if msg["type"] == "frame" and msg.get("metrics"):
                    rates.append(msg["metrics"]["learning_rate"])
            assert 0.3 in rates, rates
            ws.send(json.dumps({"type": "pause"}))
        # Nothing was lost: the stream's training and worker two's changes are all in the stored session.
        final_one = httpx.get(f"{one}/api/networks/{sid}").json()
        time.sleep(0.2)
        final_two = httpx.get(f"{two}/api/networks/{sid}").json()
        assert_same_network(final_one, final_two)
        assert final_two["step"] > 15
    finally:
        for server in servers:
            stop_server(server)
