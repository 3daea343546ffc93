"""Classrooms through the API: codes, tokens, the roster, forks, checkpoints, revocation, rate limits, escaping,
follow frames built once, and a student on another worker (two server processes on one Redis)."""

from __future__ import annotations

import json
import re
import time

import httpx
import pytest
from websockets.sync.client import connect

from app.rooms import ALPHABET
from app.storage.redis_backend import RedisBackend

from .conftest import free_port, make_client, start_server, stop_server

PLAYGROUND = {"dataset": "xor", "hidden": [4, 2], "learning_rate": 0.03, "seed": 5}
CODE = re.compile(rf"^[{ALPHABET}]{{6}}$")


def teach(c, page="/playground"):
    sid = c.post("/api/playground", json=PLAYGROUND).json()["id"]
    r = c.post("/api/rooms", json={"page": page, "session": sid, "kind": "network"})
    assert r.status_code == 201, r.text
    return sid, r.json()


def as_(token: str) -> dict[str, str]:
    return {"X-Room-Token": token}


def test_codes_are_six_unambiguous_characters_and_tokens_decide_who_may_do_what(client):
    sid, room = teach(client)
    code, teacher = room["code"], room["teacher_token"]
    assert CODE.match(code) and not set(code) & set("01ILO") and room["join_url"] == f"/join?code={code}"
    assert room["expires"] - time.time() == pytest.approx(4 * 3600, abs=60)
    joined = client.post(f"/api/rooms/{code.lower()}/join", json={"name": "  Ana  "})
    assert joined.status_code == 201 and joined.json()["name"] == "Ana" and joined.json()["page"] == "/playground"
    student = joined.json()["student_token"]
    # Anyone with the code: the page and a read-only snapshot, never the teacher's session id nor the roster.
    guest = client.get(f"/api/rooms/{code}").json()
    assert guest["role"] == "guest" and guest["roster"] is None and guest["students"] == 1
    assert sid not in json.dumps(guest) and guest["share"]
    assert client.post(f"/api/networks/{guest['share']}/train", json={"steps": 1}).status_code == 403
    mine = client.get(f"/api/rooms/{code}", headers=as_(student)).json()
    assert mine["role"] == "student" and mine["roster"] is None and mine["me"]["name"] == "Ana"
    assert sid not in json.dumps(mine)
    roster = client.get(f"/api/rooms/{code}", headers=as_(teacher)).json()["roster"]
    assert [(r["name"], r["mode"], r["has_copy"]) for r in roster] == [("Ana", "following", False)]
    # Only the teacher drives the room; only a student takes a copy.
    for token in (None, student, "forged"):
        headers = as_(token) if token else {}
        assert client.delete(f"/api/rooms/{code}", headers=headers).status_code == 403
        assert client.post(f"/api/rooms/{code}/checkpoint", json={"value": 1}, headers=headers).status_code == 403
        r = client.put(f"/api/rooms/{code}", json={"page": "/neuron"}, headers=headers)
        assert r.status_code == 403 and "teacher token" in r.json()["detail"]
    assert client.post(f"/api/rooms/{code}/fork", headers=as_(teacher)).status_code == 403
    assert client.post(f"/api/rooms/{code}/fork").status_code == 403
    assert client.get("/api/rooms/ZZZZZZ").status_code == 404
    assert client.get("/api/rooms/short").status_code == 404
    # A room id is never readable as a session or a share.
    assert client.get(f"/api/shares/room:{code}").status_code == 404
    assert client.get(f"/api/networks/room:{code}").status_code == 404


def test_a_copy_is_the_students_own_and_the_teachers_session_is_untouched(client):
    sid, room = teach(client)
    code, teacher = room["code"], room["teacher_token"]
    client.post(f"/api/networks/{sid}/train", json={"steps": 20})
    student = client.post(f"/api/rooms/{code}/join", json={"name": "Bo"}).json()["student_token"]
    fork = client.post(f"/api/rooms/{code}/fork", headers=as_(student))
    assert fork.status_code == 201, fork.text
    copy = fork.json()["session"]
    assert copy != sid and fork.json()["kind"] == "network" and fork.json()["page"] == "/playground"
    assert client.get(f"/api/networks/{copy}").json()["step"] == 20
    assert client.patch(f"/api/networks/{copy}/config", json={"learning_rate": 0.3}).status_code == 200
    client.post(f"/api/networks/{copy}/train", json={"steps": 30})
    teacher_net = client.get(f"/api/playground/{sid}").json()
    assert teacher_net["config"]["learning_rate"] == 0.03 and teacher_net["step"] == 20
    # The copy reports its metrics to the room when it trains live; the roster shows them.
    with client.websocket_connect(f"/ws/networks/{copy}") as ws:
        ws.receive_json()
        ws.send_json({"type": "step"})
        stepped = ws.receive_json()
    row = client.get(f"/api/rooms/{code}", headers=as_(teacher)).json()["roster"][0]
    assert row["mode"] == "exploring" and row["has_copy"] and row["metrics"]["step"] == stepped["step"]
    assert row["metrics"]["test_loss"] == pytest.approx(stepped["metrics"]["test_loss"])
    # A checkpoint judged on the copy's metrics (computed by the engine).
    loss = row["metrics"]["test_loss"]
    state = client.post(f"/api/rooms/{code}/checkpoint", json={"check": "test_loss_below", "value": loss + 1},
                        headers=as_(teacher)).json()
    assert state["checkpoint"]["passed"] == 1 and state["checkpoint"]["total"] == 1
    state = client.post(f"/api/rooms/{code}/checkpoint", json={"check": "test_loss_below", "value": loss / 2},
                        headers=as_(teacher)).json()
    assert state["checkpoint"]["passed"] == 0 and state["checkpoint"]["id"] == 2
    assert client.post(f"/api/rooms/{code}/checkpoint", json={"check": "nope", "value": 1},
                       headers=as_(teacher)).status_code == 422
    assert {c["check"] for c in client.get("/api/rooms/checks").json()} >= {"test_loss_below", "test_accuracy_above"}
    # Spotlight only with the student's consent.
    r = client.post(f"/api/rooms/{code}/spotlight", json={"name": "Bo"}, headers=as_(teacher))
    assert r.status_code == 403 and "not allowed" in r.json()["detail"]
    me = client.patch(f"/api/rooms/{code}/me", json={"consent": True}, headers=as_(student)).json()["me"]
    assert me["consent"] and me["copy_session"] == copy
    spot = client.post(f"/api/rooms/{code}/spotlight", json={"name": "bo"}, headers=as_(teacher)).json()
    assert spot["url"] == f"/s/{spot['share']}" and client.get(f"/api/playground/{spot['share']}").json()["step"] \
        == client.get(f"/api/networks/{copy}").json()["step"]
    # Follow again.
    me = client.patch(f"/api/rooms/{code}/me", json={"mode": "following"}, headers=as_(student)).json()["me"]
    assert me["mode"] == "following"


def test_names_are_kept_as_typed_checked_and_unique(client):
    _, room = teach(client)
    code = room["code"]
    hostile = "<script>alert('x')</script>"
    r = client.post(f"/api/rooms/{code}/join", json={"name": hostile})
    assert r.status_code == 201 and r.json()["name"] == hostile  # kept as text: the pages never parse it as HTML
    assert client.post(f"/api/rooms/{code}/join", json={"name": hostile.upper()}).status_code == 409
    for bad, status in (("", 422), ("   ", 422), ("x" * 41, 422), ("a\u0000b", 422), ("a\nb", 201)):
        assert client.post(f"/api/rooms/{code}/join", json={"name": bad}).status_code == status, bad
    # The join page is static: a name never reaches HTML from the server.
    assert hostile not in client.get(f"/join?code={code}").text


def test_revoked_and_expired_rooms_answer_410_and_close_their_followers(tmp_path):
    with make_client(data_dir=tmp_path, room_hours=1 / 3600) as c:  # one second
        _, room = teach(c)
        time.sleep(1.1)
        r = c.post(f"/api/rooms/{room['code']}/join", json={"name": "Late"})
        assert r.status_code == 410 and "hours" in r.json()["detail"]
    with make_client(data_dir=tmp_path / "2") as c:
        sid, room = teach(c)
        code, teacher = room["code"], room["teacher_token"]
        student = c.post(f"/api/rooms/{code}/join", json={"name": "Ana"}).json()["student_token"]
        with c.websocket_connect(f"/ws/rooms/{code}?room_token={student}") as ws:
            assert ws.receive_json()["type"] == "room"
            assert ws.receive_json()["type"] == "session"
            assert c.delete(f"/api/rooms/{code}", headers=as_(teacher)).status_code == 204
            while (msg := ws.receive_json())["type"] != "closed":
                pass
            assert "closed by the teacher" in msg["detail"]
        assert c.get(f"/api/rooms/{code}").status_code == 410
        assert c.post(f"/api/rooms/{code}/join", json={"name": "Bo"}).status_code == 410
        assert c.delete(f"/api/rooms/{code}", headers=as_(teacher)).status_code == 410
        with c.websocket_connect(f"/ws/rooms/{code}?room_token={student}") as ws:
            assert "closed" in ws.receive_json()["detail"]
        with c.websocket_connect(f"/ws/networks/{sid}") as ws:  # the teacher's session lives on, roomless
            assert ws.receive_json()["type"] == "frame"
        assert "room" not in c.app.state.store.get(sid, "network").extra


def test_joins_are_rate_limited_per_address(tmp_path):
    with make_client(data_dir=tmp_path, room_joins_per_minute=3) as c:
        _, room = teach(c)
        codes = [room["code"], "ZZZZZZ", room["code"]]
        assert [c.post(f"/api/rooms/{code}/join", json={"name": f"s{i}"}).status_code
                for i, code in enumerate(codes)] == [201, 404, 201]
        r = c.post(f"/api/rooms/{room['code']}/join", json={"name": "s9"})
        assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
        assert "GLASSBOX_ROOM_JOINS_PER_MINUTE" in r.json()["detail"]
    with make_client(data_dir=tmp_path / "2", max_room_students=1) as c:
        _, room = teach(c)
        assert c.post(f"/api/rooms/{room['code']}/join", json={"name": "a"}).status_code == 201
        r = c.post(f"/api/rooms/{room['code']}/join", json={"name": "b"})
        assert r.status_code == 413 and "GLASSBOX_MAX_ROOM_STUDENTS" in r.json()["detail"]


def test_bad_rooms_are_refused_and_the_api_is_documented(client):
    assert client.post("/api/rooms", json={"page": "/nowhere"}).status_code == 422
    assert client.post("/api/rooms", json={"page": "/playground", "session": "x"}).status_code == 422
    assert client.post("/api/rooms", json={"page": "/playground", "session": "nope", "kind": "network"}) \
        .status_code == 404
    r = client.post("/api/rooms", json={"page": "/neuron", "view": {"big": "x" * 70_000}})
    assert r.status_code == 413
    room = client.post("/api/rooms", json={"page": "/neuron", "view": {"w": [1, 2]}}).json()
    assert client.get(f"/api/rooms/{room['code']}").json()["view"] == {"w": [1, 2]}
    qr = client.get(f"/api/rooms/{room['code']}/qr")
    assert qr.status_code == 200 and qr.headers["content-type"].startswith("image/svg+xml")
    assert qr.text.startswith("<svg") and f"Join room {room['code']}" in qr.text
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    for path in ("/api/rooms", "/api/rooms/{code}", "/api/rooms/{code}/join", "/api/rooms/{code}/fork",
                 "/api/rooms/{code}/checkpoint", "/api/rooms/{code}/spotlight", "/api/rooms/{code}/me"):
        assert path in paths, path
    assert "429" in paths["/api/rooms/{code}/join"]["post"]["responses"]
    assert paths["/api/rooms/{code}"]["get"]["responses"]["200"]["content"]["application/json"]["schema"] == \
        {"$ref": "#/components/schemas/RoomState"}


def test_a_teacher_frame_is_built_once_and_fanned_out_to_every_follower(client):
    sid, room = teach(client)
    code = room["code"]
    tokens = [client.post(f"/api/rooms/{code}/join", json={"name": f"s{i}"}).json()["student_token"]
              for i in range(3)]
    built = []
    from app.api import playground_live

    original = playground_live.frame_of

    def counting(*args, **kwargs):
        built.append(1)
        return original(*args, **kwargs)

    playground_live.frame_of = counting
    try:
        with client.websocket_connect(f"/ws/networks/{sid}") as teacher:
            teacher.receive_json()
            followers = [client.websocket_connect(f"/ws/rooms/{code}?room_token={t}") for t in tokens]
            sockets = [f.__enter__() for f in followers]
            try:
                for ws in sockets:
                    assert ws.receive_json()["type"] == "room"
                    assert ws.receive_json()["type"] == "session"
                built.clear()
                for _ in range(3):
                    teacher.send_json({"type": "step"})
                    last = teacher.receive_json()
                    while last["type"] != "frame":
                        last = teacher.receive_json()
                seen = []
                for ws in sockets:
                    history: list = []
                    step = None
                    while step != last["step"]:
                        msg = ws.receive_json()
                        if msg["type"] == "frame":
                            step = msg["step"]
                            delta = msg["history"]
                            history = history[:delta["from"]] + delta["entries"]
                    seen.append((step, history[-1]["step"]))
                assert seen == [(last["step"], last["step"])] * 3
                # Three teacher frames (plus any keyframe a follower asked for), not three per follower.
                assert len(built) <= 4, built
            finally:
                for f in followers:
                    f.__exit__(None, None, None)
    finally:
        playground_live.frame_of = original


def test_a_student_on_another_worker_follows_the_teacher(redis_server):
    """Two server processes on one Redis: the teacher streams on one, a student follows on the other."""
    RedisBackend(redis_server).redis.flushdb()
    env = {"GLASSBOX_STORE": redis_server}
    ports = free_port(), free_port()
    servers = [start_server(port, f"room-worker-{i}.log", env) for i, port in enumerate(ports)]
    one, two = (f"http://127.0.0.1:{port}" for port in ports)
    try:
        sid = httpx.post(f"{one}/api/playground", json=PLAYGROUND).json()["id"]
        room = httpx.post(f"{one}/api/rooms", json={"page": "/playground", "session": sid, "kind": "network"}).json()
        code = room["code"]
        joined = httpx.post(f"{two}/api/rooms/{code}/join", json={"name": "Far"})
        assert joined.status_code == 201
        token = joined.json()["student_token"]
        with connect(f"ws://127.0.0.1:{ports[0]}/ws/networks/{sid}") as teacher, \
                connect(f"ws://127.0.0.1:{ports[1]}/ws/rooms/{code}?room_token={token}") as student:
            json.loads(teacher.recv())
            assert json.loads(student.recv())["type"] == "room"
            session = json.loads(student.recv())
            assert session["type"] == "session" and session["share"] and session["share"] != sid
            teacher.send(json.dumps({"type": "play"}))
            steps = []
            deadline = time.monotonic() + 20
            while len(steps) < 5 and time.monotonic() < deadline:
                msg = json.loads(student.recv(timeout=10))
                if msg["type"] == "frame":
                    steps.append(msg["step"])
            teacher.send(json.dumps({"type": "pause"}))
            assert len(steps) == 5 and steps == sorted(steps) and steps[-1] > steps[0], steps
            # The copy taken on worker two is the teacher's network as it trained on worker one.
            fork = httpx.post(f"{two}/api/rooms/{code}/fork", headers=as_(token)).json()
            assert httpx.get(f"{two}/api/networks/{fork['session']}").json()["step"] >= steps[0]
        roster = httpx.get(f"{one}/api/rooms/{code}", headers=as_(room["teacher_token"])).json()["roster"]
        assert [(r["name"], r["mode"]) for r in roster] == [("Far", "exploring")]
    finally:
        for server in servers:
            stop_server(server)
