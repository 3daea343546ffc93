"""API: /api/rl grid worlds and Q-network agents, their live streams, and the 4xx answers to bad input."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import make_client

FOUR = ["S..#", ".#..", "...P", "#..G"]


def create_grid(client, **body):
    r = client.post("/api/rl/gridworlds", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def test_grid_world_step_answers_every_term_of_the_update(client) -> None:
    state = create_grid(client, world={"layout": FOUR, "step_cost": -0.04},
                        learner={"alpha": 0.5, "gamma": 0.9, "epsilon": 0.0})
    assert state["world"]["rows"] == 4 and state["learner"]["algorithm"] == "q-learning"
    assert np.array(state["snapshot"]["q"]).shape == (4, 4, 4)
    sid = state["id"]
    r = client.post(f"/api/rl/gridworlds/{sid}/step")
    assert r.status_code == 200, r.text
    u = r.json()["update"]
    # From an all-zero table: Q(s, a) ← 0 + 0.5 [−0.04 + 0.9 · 0 − 0] = −0.02.
    assert u["state"] == [0, 0] and u["q_old"] == 0 and u["bootstrap"] == 0 and u["reward"] == -0.04
    assert u["target"] == pytest.approx(-0.04) and u["td_error"] == pytest.approx(-0.04)
    assert u["q_new"] == pytest.approx(-0.02)
    q = np.array(r.json()["snapshot"]["q"])
    assert q[0, 0, u["action"]] == pytest.approx(-0.02) and np.count_nonzero(q) == 1
    assert r.json()["snapshot"]["agent"] == u["next_state"]


def test_grid_world_trains_and_its_policy_reaches_the_goal(client) -> None:
    sid = create_grid(client, preset="classic")["id"]
    r = client.post(f"/api/rl/gridworlds/{sid}/train", json={"episodes": 300})
    assert r.status_code == 200, r.text
    body = r.json()
    assert len(body["records"]) == 300 and body["snapshot"]["episodes"] == 300
    assert {"return", "length", "reached_goal"} <= set(body["records"][0])
    q = client.get(f"/api/rl/gridworlds/{sid}/q", params={"optimal": "true"}).json()
    policy = np.array(q["policy"])
    # Following the learned arrows from the start reaches the goal.
    layout = create_grid(client, preset="classic")["world"]["layout"]
    r_, c_ = 0, 0
    for _ in range(40):
        if layout[r_][c_] == "G":
            break
        dr, dc = [(-1, 0), (0, 1), (1, 0), (0, -1)][policy[r_, c_]]
        r_, c_ = r_ + dr, c_ + dc
    assert layout[r_][c_] == "G"
    assert np.array(q["optimal_q"]).shape == (6, 6, 4)
    # base64 encoding of the table
    enc = client.get(f"/api/rl/gridworlds/{sid}/q", params={"encoding": "base64"}).json()
    assert enc["q"]["shape"] == [6, 6, 4] and enc["q"]["dtype"] == "float32"


def test_grid_world_edit_settings_and_reset(client) -> None:
    sid = create_grid(client)["id"]
    client.post(f"/api/rl/gridworlds/{sid}/train", json={"episodes": 5})
    r = client.post(f"/api/rl/gridworlds/{sid}/settings", json={"algorithm": "sarsa", "gamma": 0.5})
    assert r.status_code == 200 and r.json()["learner"]["algorithm"] == "sarsa"
    assert r.json()["snapshot"]["episodes"] == 5  # the table is kept
    layout = ["S.#", "...", "P.G"]
    r = client.post(f"/api/rl/gridworlds/{sid}/world", json={"layout": layout, "slip": 0.1})
    assert r.status_code == 200, r.text
    assert r.json()["world"]["layout"] == layout and r.json()["snapshot"]["step"] == 0
    assert r.json()["learner"]["gamma"] == 0.5
    r = client.post(f"/api/rl/gridworlds/{sid}/world", json={"layout": ["S#.", "##.", "..G"]})
    assert r.status_code == 422 and "walled in" in r.json()["detail"]
    assert client.post(f"/api/rl/gridworlds/{sid}/reset").json()["snapshot"]["step"] == 0
    assert client.delete(f"/api/rl/gridworlds/{sid}").status_code == 204
    assert client.get(f"/api/rl/gridworlds/{sid}").status_code == 404


@pytest.mark.parametrize("body, status, words", [
    ({"world": {"layout": ["S..", "...", "..."]}}, 422, "no goal"),
    ({"world": {"layout": ["S#.", "##.", "..G"]}}, 422, "walled in"),
    ({"learner": {"gamma": 1.5}}, 422, "gamma"),
    ({"learner": {"gamma": -0.1}}, 422, "gamma"),
    ({"learner": {"algorithm": "td"}}, 422, "algorithm"),
    ({"preset": "maze"}, 422, "unknown grid-world preset"),
    ({"world": {"layout": ["S" + "." * 19] + ["." * 20] * 18 + ["." * 19 + "G"]}}, 413, "at most 12 rows"),
    ({"world": {"slip": 2}}, 422, "slip"),
    ({"world": {"max_steps": 10**9}}, 422, "max_steps"),
])
def test_grid_world_bad_input_gets_a_clear_4xx(client, body, status, words) -> None:
    r = client.post("/api/rl/gridworlds", json=body)
    assert r.status_code == status, r.text
    assert words in r.json()["detail"]


def test_too_many_episodes_is_413() -> None:
    with make_client(max_epochs_per_request=10) as c:
        sid = create_grid(c)["id"]
        r = c.post(f"/api/rl/gridworlds/{sid}/train", json={"episodes": 11})
        assert r.status_code == 413 and "GLASSBOX_MAX_EPOCHS_PER_REQUEST" in r.json()["detail"]


def test_grid_world_live_stream(client) -> None:
    sid = create_grid(client, preset="cliff")["id"]
    with client.websocket_connect(f"/ws/rl/gridworlds/{sid}") as ws:
        first = ws.receive_json()
        assert first["type"] == "frame" and first["snapshot"]["step"] == 0
        ws.send_json({"type": "step", "unit": "batch"})
        frame = ws.receive_json()
        assert frame["snapshot"]["step"] == 1 and frame["snapshot"]["last_update"]["step"] == 1
        ws.send_json({"type": "config", "episodes_per_frame": 3, "algorithm": "sarsa"})
        assert ws.receive_json()["episodes_per_frame"] == 3
        ws.send_json({"type": "step"})
        assert ws.receive_json()["snapshot"]["episodes"] == 3
        ws.send_json({"type": "config", "gamma": 3})
        err = ws.receive_json()
        assert err["type"] == "error" and "gamma" in err["detail"]


def test_agent_create_train_play_and_live(client) -> None:
    r = client.post("/api/rl/agents", json={"game": "catch", "hidden": [16], "game_settings": {"rows": 5, "cols": 5},
                                            "learn_start": 32})
    assert r.status_code == 201, r.text
    state = r.json()
    assert state["network"]["input"] == 25 and state["network"]["num_params"] == 25 * 16 + 16 + 16 * 3 + 3
    sid = state["id"]
    r = client.post(f"/api/rl/agents/{sid}/train", json={"steps": 200})
    assert r.status_code == 200, r.text
    snap = r.json()["snapshot"]
    assert snap["step"] == 200 and snap["updates"] > 0 and len(r.json()["records"]) == 50
    assert np.array(snap["board"]).shape == (5, 5) and len(snap["q"]) == 3
    r = client.post(f"/api/rl/agents/{sid}/play", json={"episodes": 2, "seed": 1})
    assert r.status_code == 200, r.text
    ep = r.json()["episodes"][0]
    assert len(ep["frames"]) == 5 and ep["frames"][0]["action_name"] in ("left", "stay", "right")
    with client.websocket_connect(f"/ws/rl/agents/{sid}") as ws:
        assert ws.receive_json()["snapshot"]["step"] == 200
        ws.send_json({"type": "config", "steps_per_frame": 20, "learning_rate": 0.002})
        assert ws.receive_json()["steps_per_frame"] == 20
        ws.send_json({"type": "step"})
        assert ws.receive_json()["snapshot"]["step"] == 220
        ws.send_json({"type": "config", "hidden": [4]})
        assert "cannot change while training" in ws.receive_json()["detail"]


def test_shipped_agent_plays_well(client) -> None:
    state = client.post("/api/rl/agents", json={"game": "catch", "pretrained": True}).json()
    assert state["pretrained"] and state["trained"]["greedy_catch_rate"] >= 0.9
    r = client.post(f"/api/rl/agents/{state['id']}/play", json={"episodes": 20, "seed": 7})
    assert r.json()["catch_rate"] >= 0.9


@pytest.mark.parametrize("body, status, words", [
    ({"game": "pong"}, 422, "unknown game"),
    ({"game": "catch", "gamma": 2}, 422, "gamma"),
    ({"game": "catch", "pretrained": True, "hidden": [8]}, 422, "own settings"),
    ({"game": "catch", "hidden": [10_000]}, 422, "width"),
    ({"game": "catch", "replay_size": 100_000, "game_settings": {"rows": 16, "cols": 16}}, 413, "replay memory"),
    ({"game": "catch", "game_settings": {"rows": 100}}, 422, "rows"),
])
def test_agent_bad_input_gets_a_clear_4xx(client, body, status, words) -> None:
    r = client.post("/api/rl/agents", json=body)
    assert r.status_code == status, r.text
    assert words in r.json()["detail"]


def test_agent_limits_and_unknown_ids() -> None:
    with make_client(max_steps_per_request=100, max_parameters=1000) as c:
        assert c.post("/api/rl/agents", json={"hidden": [64]}).status_code == 413
        sid = c.post("/api/rl/agents", json={"hidden": [8], "game_settings": {"rows": 5, "cols": 5}}).json()["id"]
        r = c.post(f"/api/rl/agents/{sid}/train", json={"steps": 101})
        assert r.status_code == 413 and "GLASSBOX_MAX_STEPS_PER_REQUEST" in r.json()["detail"]
        assert c.post("/api/rl/agents/nope/play", json={}).status_code == 404
        with c.websocket_connect("/ws/rl/agents/nope") as ws:
            assert ws.receive_json()["type"] == "error"


def test_qlearning_page_is_listed(client) -> None:
    assert client.get("/qlearning").status_code == 200
    assert 'href="/qlearning"' in client.get("/").text
