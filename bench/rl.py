"""Reinforcement learning speed: grid-world episodes per second, and Q-network training steps per second against
the same network in PyTorch CPU.

    python bench/rl.py

Grid world: tabular Q-learning on the 6 × 6 preset and on the 4 × 12 cliff (episodes and transitions per second;
a table update has no PyTorch counterpart). Q-network: the catch agent's 100-64-3 ReLU network, Adam, Huber TD
loss, batch 32, a target network; "learn" is one optimiser step on a replayed batch (sample, targets from the
target network, forward, backward, update), "move" is a whole training move (ε-greedy action from a forward pass
of one board, the game step, remembering it, and the learn step). Both sides take turns round by round on one
thread each; the table gives medians and the spread (25th–75th percentile) of the per-call times.
"""

from __future__ import annotations

import os
import statistics
import sys
import time

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))

from _common import interleaved_samples, print_table, try_import_torch  # noqa: E402

from engine.rl.catch import CatchGames  # noqa: E402
from engine.rl.dqn import QNetworkTrainer  # noqa: E402
from engine.rl.gridworld import PRESETS, GridWorld  # noqa: E402
from engine.rl.tabular import TabularLearner  # noqa: E402

ROUNDS = 10


def summary(samples: list[float]) -> tuple[float, float, float]:
    q = statistics.quantiles(samples, n=4)
    return statistics.median(samples), q[0], q[2]


def fmt_us(samples: list[float]) -> str:
    med, lo, hi = summary(samples)
    return f"{med * 1e6:,.0f} ({lo * 1e6:,.0f}–{hi * 1e6:,.0f})"


def grid_rows() -> list[list[str]]:
    rows = []
    for preset in ("classic", "cliff"):
        p = PRESETS[preset]
        learner = TabularLearner(GridWorld(**p["world"]), **p["learner"], seed=0)
        learner.train_episodes(200)  # past the first, long, exploring episodes
        episodes = []
        transitions = []
        for _ in range(ROUNDS):
            before = learner.step_count
            start = time.perf_counter()
            learner.train_episodes(50)
            seconds = time.perf_counter() - start
            episodes.append(50 / seconds)
            transitions.append((learner.step_count - before) / seconds)
        rows.append([f"{preset} ({learner.world.rows}×{learner.world.cols}), Q-learning",
                     f"{statistics.median(episodes):,.0f} ({min(episodes):,.0f}–{max(episodes):,.0f})",
                     f"{statistics.median(transitions):,.0f}"])
    return rows


class TorchDQN:
    """The same agent in PyTorch: 100-64-3 ReLU, Adam, smooth-L1 (Huber, δ = 1) on Q(s, a), a target network, the
    same NumPy replay memory and game."""

    def __init__(self, torch, ours: QNetworkTrainer) -> None:
        self.torch = torch
        hidden = ours.settings["hidden"][0]
        size = ours.game_config.observation_size
        self.net = torch.nn.Sequential(torch.nn.Linear(size, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 3))
        self.target = torch.nn.Sequential(torch.nn.Linear(size, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 3))
        self.target.load_state_dict(self.net.state_dict())
        self.opt = torch.optim.Adam(self.net.parameters(), lr=ours.settings["learning_rate"])
        self.memory = ours.memory  # the same remembered transitions
        self.gamma = ours.settings["gamma"]
        self.batch = ours.settings["batch_size"]
        self.rng = np.random.default_rng(1)
        self.game = CatchGames(ours.game_config, 1, self.rng)
        self.updates = 0

    def learn(self) -> None:
        torch = self.torch
        s, a, r, s2, d = (torch.from_numpy(x) for x in self.memory.sample(self.rng, self.batch))
        with torch.no_grad():
            y = r + self.gamma * (1 - d) * self.target(s2).max(dim=1).values
        q = self.net(s).gather(1, a[:, None])[:, 0]
        loss = torch.nn.functional.smooth_l1_loss(q, y)
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        self.updates += 1
        if self.updates % 100 == 0:
            self.target.load_state_dict(self.net.state_dict())

    def move(self) -> None:
        torch = self.torch
        obs = self.game.observe()
        if self.rng.random() < 0.05:
            action = int(self.rng.integers(3))
        else:
            with torch.no_grad():
                action = int(self.net(torch.from_numpy(obs)).argmax())
        reward, done = self.game.act(np.array([action]))
        self.memory.add(obs[0], action, float(reward[0]), self.game.observe()[0], bool(done[0]))
        if done[0]:
            self.game.reset(self.rng)
        self.learn()


def main() -> None:
    torch = try_import_torch()
    if torch is not None:
        torch.set_num_threads(1)
    print(f"Grid-world episodes (tabular Q-learning, NumPy {np.__version__}); median (min–max) over {ROUNDS} runs "
          f"of 50 episodes")
    print_table(["world", "episodes/s", "transitions/s"], grid_rows())
    print()

    ours = QNetworkTrainer(seed=0)
    ours.train(1000)  # a memory full enough to sample from, learning under way
    fns = {"learn": [ours.learn], "move": [lambda: ours.step()]}
    if torch is not None:
        theirs = TorchDQN(torch, ours)
        fns["learn"].append(theirs.learn)
        fns["move"].append(theirs.move)
    rows = []
    for what, label in (("learn", "learn step (batch 32)"), ("move", "training move (act + learn)")):
        samples = interleaved_samples(fns[what], repeats=200 * ROUNDS, rounds=ROUNDS, warmup=20)
        med = statistics.median(samples[0])
        row = [label, f"{1 / med:,.0f}", fmt_us(samples[0])]
        if torch is not None:
            med_t = statistics.median(samples[1])
            row += [f"{1 / med_t:,.0f}", fmt_us(samples[1]), f"{med / med_t:.2f}×"]
        else:
            row += ["—", "—", "—"]
        rows.append(row)
    d = ours.describe()
    print(f"Q-network {d['input']}-{d['hidden'][0]}-{d['outputs']} on catch (float32, Adam, Huber, 1 thread each"
          f"{'' if torch is None else ', PyTorch ' + torch.__version__}); per-call µs: median (25th–75th percentile), "
          f"{ROUNDS} interleaved rounds")
    print_table(["work", "glassbox /s", "glassbox µs", "torch /s", "torch µs", "time ratio"], rows)


if __name__ == "__main__":
    main()
