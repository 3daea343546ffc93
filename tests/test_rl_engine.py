"""Engine: grid world, tabular Q-learning / SARSA, value iteration, catch, and the Q-network."""

from __future__ import annotations

import numpy as np
import pytest

from engine.core.errors import EngineError
from engine.core.gradcheck import check_layer, check_network, numerical_gradient, relative_error
from engine.core.losses import Huber, get_loss
from engine.core.training import TrainerProtocol, TrainerState
from engine.rl.catch import CatchConfig, CatchGames
from engine.rl.dqn import QNetworkTrainer, load_shipped
from engine.rl.gridworld import PRESETS, GridWorld, greedy_path, value_iteration
from engine.rl.tabular import TabularLearner

FOUR = ["S..#", ".#..", "...P", "#..G"]


def timeless(history: list[dict]) -> list[dict]:
    """A history without its wall-clock times (the only field a resumed run cannot repeat)."""
    return [{k: v for k, v in entry.items() if k != "time"} for entry in history]


def test_layout_errors_say_what_to_fix() -> None:
    with pytest.raises(EngineError, match="no goal"):
        GridWorld(["S..", "...", "..."])
    with pytest.raises(EngineError, match="walled in"):
        GridWorld(["S#.", "##.", "..G"])
    with pytest.raises(EngineError, match="exactly one start"):
        GridWorld(["S.S", "...", "..G"])
    with pytest.raises(EngineError, match="same length"):
        GridWorld(["S..", "..", "..G"])
    with pytest.raises(EngineError, match="at most 12 rows"):
        GridWorld(["S" + "." * 3] + ["...."] * 12 + ["...G"])
    with pytest.raises(EngineError, match="unknown cell"):
        GridWorld(["S.x", "...", "..G"])
    with pytest.raises(EngineError, match="slip"):
        GridWorld(FOUR, slip=1.5)
    with pytest.raises(EngineError, match="gamma"):
        TabularLearner(GridWorld(FOUR), gamma=1.2)
    with pytest.raises(EngineError, match="algorithm"):
        TabularLearner(GridWorld(FOUR), algorithm="td-lambda")


def test_moves_walls_slips_and_the_cliff() -> None:
    world = GridWorld(["S.#", "C..", "..G"], step_cost=-0.5, cliff_reward=-10)
    rng = np.random.default_rng(0)
    assert world.move(0, 0, rng) == (0, 0, -0.5, False, False)  # off the grid: stays, pays the step
    assert world.move(1, 1, rng) == (1, 1, -0.5, False, False)  # into the wall: stays
    assert world.move(0, 2, rng) == (0, 2, -10.0, False, True)  # into the cliff: back to the start
    assert world.move(5, 2, rng) == (8, 2, 1.0, True, False)  # into the goal: +1, over
    probs, rewards = GridWorld(["S..", "...", "..G"], slip=0.2).transition_model()
    # From the middle (4) moving right: 0.8 right (5), 0.1 up (1), 0.1 down (7).
    assert probs[4, 1, 5] == pytest.approx(0.8) and probs[4, 1, 1] == pytest.approx(0.1)
    assert probs[4, 1, 7] == pytest.approx(0.1)
    assert np.allclose(probs[:8].sum(axis=2), 1) and not probs[8].any()  # the goal is terminal


def test_q_learning_converges_to_value_iteration_on_a_deterministic_world() -> None:
    world = GridWorld(FOUR, step_cost=-0.04)
    q_star = value_iteration(world, 0.9)
    # Bellman optimality holds at the fixed point: Q*(s, a) = r + γ max Q*(s′) for the deterministic move.
    s, a = 0, 1
    assert q_star[s, a] == pytest.approx(-0.04 + 0.9 * q_star[1].max())
    learner = TabularLearner(world, alpha=0.5, gamma=0.9, epsilon=1.0, epsilon_decay=1.0, epsilon_min=1.0, seed=1)
    learner.train_episodes(600)
    active = ~(world.wall | world.terminal)
    assert np.abs(learner.q[active] - q_star[active]).max() < 1e-3
    assert np.all(learner.q[~active] == 0)


def test_one_step_equals_the_bellman_formula_by_hand() -> None:
    world = GridWorld(FOUR, step_cost=-0.04)
    learner = TabularLearner(world, alpha=0.3, gamma=0.8, epsilon=0.0, seed=3)
    learner.q[:] = np.arange(64).reshape(16, 4) / 10  # distinct values so the terms are visible
    learner.q[world.wall | world.terminal] = 0
    before = learner.q.copy()
    u = learner.transition()
    s = u.state[0] * 4 + u.state[1]
    s_next = u.next_state[0] * 4 + u.next_state[1]
    assert u.action == int(np.argmax(before[s]))  # ε = 0: greedy
    assert u.q_old == before[s, u.action]
    assert u.bootstrap == before[s_next].max()
    by_hand = before[s, u.action] + 0.3 * (-0.04 + 0.8 * before[s_next].max() - before[s, u.action])
    assert u.q_new == pytest.approx(by_hand, abs=1e-15)
    assert learner.q[s, u.action] == u.q_new
    assert u.target == pytest.approx(-0.04 + 0.8 * u.bootstrap) and u.td_error == pytest.approx(u.target - u.q_old)
    changed = np.argwhere(learner.q != before)
    assert changed.tolist() == [[s, u.action]]


def test_sarsa_bootstraps_on_the_action_it_takes_next() -> None:
    world = GridWorld(FOUR, step_cost=-0.04)
    learner = TabularLearner(world, alpha=0.5, gamma=0.9, epsilon=0.5, algorithm="sarsa", seed=7)
    learner.q[:] = np.random.default_rng(0).normal(size=(16, 4))
    for _ in range(20):
        q = learner.q.copy()
        u = learner.transition()
        if u.done:
            assert u.bootstrap == 0 and u.next_action is None
            continue
        s_next = u.next_state[0] * 4 + u.next_state[1]
        assert u.bootstrap == q[s_next, u.next_action]
        if not u.truncated:
            assert learner.position == s_next and learner.pending_action == u.next_action
            assert learner.transition().action == u.next_action  # it then takes that very action
            break


def test_cliff_q_learning_walks_the_edge_sarsa_keeps_away() -> None:
    preset = PRESETS["cliff"]
    paths = {}
    for algorithm in ("q-learning", "sarsa"):
        world = GridWorld(**preset["world"])
        learner = TabularLearner(world, **preset["learner"], algorithm=algorithm, seed=0)
        learner.train_episodes(500)
        path = [divmod(s, world.cols) for s in greedy_path(world, learner.q)]
        assert path[-1] == (3, 11), f"{algorithm} does not reach the goal: {path}"
        paths[algorithm] = path
    # Q-learning: up one row, along the edge (row 2), down into the goal: 13 moves.
    assert paths["q-learning"] == [(3, 0)] + [(2, c) for c in range(12)] + [(3, 11)]
    middle = [r for r, c in paths["sarsa"] if 1 <= c <= 10]
    assert max(middle) <= 1, f"SARSA's path comes near the cliff: {paths['sarsa']}"


def test_tabular_state_resumes_bit_identical() -> None:
    world = GridWorld(**PRESETS["slippery"]["world"])
    a = TabularLearner(world, algorithm="sarsa", seed=5)
    a.train(137)
    b = TabularLearner(GridWorld(FOUR))
    b.load_state(TrainerState.from_bytes(a.state().to_bytes()))
    a.train(300)
    b.train(300)
    assert np.array_equal(a.q, b.q) and timeless(a.history) == timeless(b.history) and a.position == b.position
    assert isinstance(a, TrainerProtocol)


def test_huber_gradient_and_q_network_gradients_pass_the_check() -> None:
    rng = np.random.default_rng(0)
    out, target = rng.normal(size=(5, 3)) * 2, rng.normal(size=(5, 3))
    loss = Huber()
    f = lambda: loss.value(out, target)  # noqa: E731
    assert relative_error(loss.grad(out, target), numerical_gradient(f, out)) < 1e-7
    trainer = QNetworkTrainer(hidden=[8, 6], game_settings={"rows": 5, "cols": 4})
    net = trainer.build_network(dtype="float64")
    for layer in net.layers:
        if layer.params:
            assert max(check_layer(layer, rng.normal(size=(4, layer.params["weight"].shape[0]))).values()) < 1e-6
    x = rng.integers(0, 2, size=(6, 20)).astype(np.float64)
    q = net.forward(x)
    td_target = q.copy()
    actions = rng.integers(0, 3, 6)
    td_target[np.arange(6), actions] = rng.normal(size=6)
    for name in ("huber", "mse"):
        errors = check_network(net, get_loss(name), x, td_target)
        assert max(errors.values()) < 1e-6, errors
    # The trainer's own TD step: its gradients equal central differences of its TD loss.
    trainer.net = net
    y = rng.normal(size=6)

    def td_loss() -> float:
        q = net.forward(x, keep_trace=False)
        return float(loss.per_example(q[np.arange(6), actions][:, None], y[:, None]).mean())

    trainer.td_loss_and_backward(x, actions, y)
    analytic = {k: g.copy() for k, g in net.grad_arrays().items()}
    for key, p in net.param_arrays().items():
        assert relative_error(analytic[key], numerical_gradient(td_loss, p)) < 1e-6, key


def test_catch_game_rules() -> None:
    games = CatchGames(CatchConfig(rows=5, cols=5), 3, np.random.default_rng(0))
    games.fruit_col[:] = [0, 2, 4]
    games.paddle[:] = [2, 2, 2]
    boards = games.boards()
    assert boards.shape == (3, 5, 5) and boards[0, 0, 0] == 1 and list(boards[0, 4]) == [0, 2, 2, 2, 0]
    for _ in range(3):
        reward, done = games.act(np.array([0, 1, 2]))
        assert not done.any() and not reward.any()
    reward, done = games.act(np.array([0, 1, 2]))
    assert done.all() and list(reward) == [1, 1, 1]
    assert list(games.paddle) == [1, 2, 3]  # held inside the board
    with pytest.raises(EngineError, match="unknown game"):
        QNetworkTrainer(game="pong")
    with pytest.raises(EngineError, match="rows"):
        QNetworkTrainer(game_settings={"rows": 100})


def test_q_network_learns_catch_and_resumes_bit_identical() -> None:
    trainer = QNetworkTrainer(seed=1, game_settings={"rows": 6, "cols": 5}, epsilon_steps=600, learn_start=64)
    before = trainer.evaluate(200)
    trainer.train(1000)
    state = TrainerState.from_bytes(trainer.state().to_bytes())
    trainer.train(800)
    assert trainer.evaluate(200) >= 0.9 > before
    resumed = QNetworkTrainer()
    resumed.load_state(state)
    resumed.train(800)
    for (key, p), (_, r) in zip(trainer.net.param_arrays().items(), resumed.net.param_arrays().items(), strict=True):
        assert np.array_equal(p, r), key
    assert timeless(resumed.history) == timeless(trainer.history) and resumed.step_count == trainer.step_count
    assert isinstance(trainer, TrainerProtocol)


def test_shipped_catch_agent_catches_at_least_90_percent() -> None:
    agent, meta = load_shipped("catch")
    assert agent.evaluate(200, seed=2024) >= 0.9
    assert meta["command"].startswith("glassbox train catch")
    episode = agent.play(1, seed=3)[0]
    assert len(episode["frames"]) == agent.game_config.rows and episode["caught"]


def test_diverging_q_network_rolls_back_and_refuses_until_reset() -> None:
    trainer = QNetworkTrainer(seed=0, game_settings={"rows": 5, "cols": 4}, learn_start=32)
    trainer.train(50)
    kept = [p.copy() for p in trainer.params()]
    trainer.optimizer.learning_rate = 1e30  # past what configure allows: Adam's steps of 1e30 overflow float32
    with pytest.raises(EngineError, match="diverged"):
        trainer.train(40)
    assert trainer.diverged
    assert all(np.array_equal(a, b) for a, b in zip(kept, trainer.params(), strict=True))
    with pytest.raises(EngineError, match="diverged"):
        trainer.step()
    trainer.reset()
    assert not trainer.diverged and trainer.step_count == 0
