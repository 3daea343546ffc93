"""Tabular Q-learning and SARSA on a grid world, one transition at a time, every update's terms kept.

Q-learning (off-policy):  Q(s, a) ← Q(s, a) + α [r + γ maxₐ′ Q(s′, a′) − Q(s, a)]
SARSA (on-policy):        Q(s, a) ← Q(s, a) + α [r + γ Q(s′, a′) − Q(s, a)],  a′ the action it will take next
At a terminal s′ the bootstrap term is 0. Actions are ε-greedy (ties between equal Q-values broken at random, so
an all-zero table does not always walk up); ε decays by `epsilon_decay` after each episode, down to
`epsilon_min`.

The learner follows the training protocol (engine/core/training.py): `step()` is one transition and one update,
`train(steps)` several, `train_episodes(n)` whole episodes; `state()`/`load_state()` resume bit for bit. Its values
stay bounded (each update is a convex mix of the old value and a target built from bounded rewards), so it
cannot diverge; `diverged` is always False.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from engine.core.errors import EngineError
from engine.core.training import (
    MetricsRecord,
    StepResult,
    TrainerState,
    append_record,
    rng_from_state,
    rng_state,
)
from engine.rl.gridworld import ACTIONS, GridWorld, check_probability

ALGORITHMS = ("q-learning", "sarsa")
MAX_HISTORY = 4000  # episodes kept in the history; older ones are thinned to every other one
MAX_PATH = 400  # cells of the current episode's path kept for drawing
LEARNER_KEYS = ("alpha", "gamma", "epsilon", "epsilon_decay", "epsilon_min", "algorithm", "seed")
DEFAULT_LEARNER: dict[str, Any] = {"alpha": 0.5, "gamma": 0.9, "epsilon": 0.3, "epsilon_decay": 0.99,
                                   "epsilon_min": 0.05, "algorithm": "q-learning", "seed": 0}


@dataclass
class BellmanUpdate:
    """One transition and its update, every term of the formula filled in."""

    step: int
    episode: int
    algorithm: str
    state: tuple[int, int]
    action: int
    explored: bool  # the action was ε's random pick, not the greedy one
    moved: int  # the direction actually taken (differs from `action` after a slip)
    slipped: bool
    reward: float
    next_state: tuple[int, int]
    done: bool  # s′ is terminal: the bootstrap term is 0
    truncated: bool  # the episode hit max_steps (s′ is not terminal, the update still bootstraps)
    sent_to_start: bool  # the move entered a cliff cell
    alpha: float
    gamma: float
    epsilon: float
    q_old: float
    next_action: int | None  # a′: argmax for Q-learning, the next action taken for SARSA (None at a terminal s′)
    bootstrap: float  # maxₐ′ Q(s′, a′) or Q(s′, a′); 0 at a terminal s′
    target: float  # r + γ · bootstrap
    td_error: float  # target − Q(s, a)
    q_new: float  # Q(s, a) + α · td_error

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["state"], out["next_state"] = list(self.state), list(self.next_state)
        out["action_name"] = ACTIONS[self.action]
        out["moved_name"] = ACTIONS[self.moved]
        out["next_action_name"] = None if self.next_action is None else ACTIONS[self.next_action]
        return out


def check_learner(settings: dict[str, Any]) -> dict[str, Any]:
    """Validate learner settings (all of them, before anything changes); returns them cleaned."""
    unknown = set(settings) - set(LEARNER_KEYS)
    if unknown:
        raise EngineError(f"unknown learner settings {sorted(unknown)}; use {', '.join(LEARNER_KEYS)}")
    out = dict(settings)
    if "alpha" in out:
        alpha = out["alpha"]
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 < alpha <= 1:
            raise EngineError(f"alpha (the learning rate) must be a number in (0, 1], got {alpha!r}")
        out["alpha"] = float(alpha)
    for name in ("gamma", "epsilon", "epsilon_decay", "epsilon_min"):
        if name in out:
            out[name] = check_probability(out[name], name)
    if "algorithm" in out and out["algorithm"] not in ALGORITHMS:
        raise EngineError(f"algorithm must be one of {list(ALGORITHMS)}, got {out['algorithm']!r}")
    if "seed" in out:
        seed = out["seed"]
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
            raise EngineError(f"seed must be a whole number from 0 to 2³² − 1, got {seed!r}")
    return out


class TabularLearner:
    """A Q-table on a grid world, learning by Q-learning or SARSA."""

    kind = "gridworld"

    def __init__(self, world: GridWorld, **learner: Any) -> None:
        self.world = world
        self.settings = {**DEFAULT_LEARNER, **check_learner(learner)}
        self.diverged = False
        self.diverged_message = ""
        self.pending_action: int | None = None  # SARSA's a′, chosen by the last transition, taken by the next
        self.reset()

    # --- settings --------------------------------------------------------------------------------------------

    @property
    def alpha(self) -> float:
        return float(self.settings["alpha"])

    @property
    def gamma(self) -> float:
        return float(self.settings["gamma"])

    @property
    def algorithm(self) -> str:
        return str(self.settings["algorithm"])

    def configure(self, **settings: Any) -> None:
        """Change α, γ, ε (which restarts its decay from the new value), the decay, ε's floor or the algorithm
        while learning; the Q-table is kept."""
        clean = check_learner(settings)
        if "seed" in clean:
            raise EngineError("the seed is fixed for a session; reset with a new session to change it")
        self.settings.update(clean)
        if "epsilon" in clean:
            self.epsilon = clean["epsilon"]
        if "algorithm" in clean:
            self.pending_action = None  # SARSA's a′ was chosen under the old rule

    def reset(self) -> None:
        """Zero the Q-table and start again from the first episode with the same settings and seed."""
        self.q = np.zeros((self.world.num_states, 4))
        self.rng = np.random.default_rng(int(self.settings["seed"]))
        self.epsilon = float(self.settings["epsilon"])
        self.step_count = 0
        self.episodes = 0
        self.history: list[dict[str, Any]] = []
        self.last_update: BellmanUpdate | None = None
        self._begin_episode()

    def _begin_episode(self) -> None:
        self.position = self.world.start
        self.pending_action = None
        self.pending_explored = False
        self.path = [self.position]
        self.episode_return = 0.0
        self.episode_length = 0
        self.episode_sq_td = 0.0

    # --- acting and learning ---------------------------------------------------------------------------------

    def greedy(self, s: int) -> int:
        """argmax_a Q(s, a), ties broken at random."""
        row = self.q[s]
        best = np.flatnonzero(row == row.max())
        return int(best[0] if len(best) == 1 else best[self.rng.integers(len(best))])

    def choose(self, s: int) -> tuple[int, bool]:
        """ε-greedy: (action, whether it was the random pick)."""
        if self.rng.random() < self.epsilon:
            return int(self.rng.integers(4)), True
        return self.greedy(s), False

    def transition(self) -> BellmanUpdate:
        """One move of the agent and one update of Q(s, a)."""
        world = self.world
        s = self.position
        if self.pending_action is not None:
            a, explored = self.pending_action, self.pending_explored
        else:
            a, explored = self.choose(s)
        s_next, moved, reward, done, to_start = world.move(s, a, self.rng)
        self.episode_length += 1
        truncated = not done and self.episode_length >= world.max_steps
        next_action: int | None = None
        if done:
            bootstrap = 0.0
            self.pending_action = None
        elif self.algorithm == "sarsa":
            next_action, self.pending_explored = self.choose(s_next)
            bootstrap = float(self.q[s_next, next_action])
            self.pending_action = None if truncated else next_action
        else:
            row = self.q[s_next]
            next_action = int(np.argmax(row))
            bootstrap = float(row[next_action])
            self.pending_action = None
        q_old = float(self.q[s, a])
        target = reward + self.gamma * bootstrap
        td_error = target - q_old
        q_new = q_old + self.alpha * td_error
        self.q[s, a] = q_new
        self.step_count += 1
        cols = world.cols
        update = BellmanUpdate(
            step=self.step_count, episode=self.episodes, algorithm=self.algorithm, state=divmod(s, cols),
            action=a, explored=explored, moved=moved, slipped=moved != a, reward=reward,
            next_state=divmod(s_next, cols), done=done, truncated=truncated, sent_to_start=to_start, alpha=self.alpha,
            gamma=self.gamma, epsilon=self.epsilon, q_old=q_old, next_action=next_action, bootstrap=bootstrap,
            target=target, td_error=td_error, q_new=q_new)
        self.last_update = update
        self.episode_return += reward
        self.episode_sq_td += td_error * td_error
        self.position = s_next
        if len(self.path) < MAX_PATH:
            self.path.append(s_next)
        if done or truncated:
            self._end_episode(reached_goal=done and world.layout[s_next // cols][s_next % cols] == "G")
        return update

    def _end_episode(self, reached_goal: bool) -> None:
        self.episodes += 1
        record = MetricsRecord(
            step=self.step_count, epoch=float(self.episodes),
            train_loss=self.episode_sq_td / max(1, self.episode_length),
            extra={"return": self.episode_return, "length": float(self.episode_length),
                   "epsilon": self.epsilon, "reached_goal": float(reached_goal)})
        append_record(self.history, record)
        if len(self.history) > MAX_HISTORY:
            half = len(self.history) // 2
            self.history[:] = self.history[:half:2] + self.history[half:]
        self.epsilon = max(float(self.settings["epsilon_min"]), self.epsilon * float(self.settings["epsilon_decay"]))
        self._begin_episode()

    # --- the training protocol ---------------------------------------------------------------------------------

    def step(self) -> StepResult:
        update = self.transition()
        return StepResult(loss=update.td_error ** 2, step=self.step_count, epoch=float(self.episodes))

    def train(self, steps: int) -> list[dict[str, Any]]:
        """`steps` transitions; returns the history records of the episodes they finished."""
        before = self.episodes
        for _ in range(steps):
            self.transition()
        return self.history[-(self.episodes - before):] if self.episodes > before else []

    def train_episodes(self, episodes: int) -> list[dict[str, Any]]:
        """Finish the current episode and run `episodes` − 1 more (each ends at a goal or pit or after
        max_steps); returns their history records."""
        records: list[dict[str, Any]] = []
        for _ in range(episodes):
            target = self.episodes + 1
            while self.episodes < target:
                self.transition()
            records.append(self.history[-1])
        return records

    def state(self) -> TrainerState:
        arrays = {"q": self.q.copy(), "path": np.array(self.path, dtype=np.int64)}
        meta = {"world": self.world.describe(), "settings": dict(self.settings), "epsilon": self.epsilon,
                "step_count": self.step_count, "episodes": self.episodes, "history": self.history,
                "rng": rng_state(self.rng), "position": self.position,
                "pending_action": self.pending_action,
                "pending_explored": self.pending_explored,
                "episode_return": self.episode_return, "episode_length": self.episode_length,
                "episode_sq_td": self.episode_sq_td}
        return TrainerState(self.kind, arrays, meta)

    def load_state(self, state: TrainerState) -> None:
        if state.kind != self.kind:
            raise EngineError(f"this is a {state.kind!r} state, not a grid-world learner's")
        meta = state.meta
        try:
            w = dict(meta["world"])
            world = GridWorld(w.pop("layout"), **{k: w[k] for k in ("step_cost", "goal_reward", "pit_reward",
                                                                       "cliff_reward", "slip", "max_steps")})
            q = np.asarray(state.arrays["q"], dtype=np.float64)
            if q.shape != (world.num_states, 4) or not np.all(np.isfinite(q)):
                raise EngineError(f"the Q-table must be finite with shape ({world.num_states}, 4)")
            settings = {**DEFAULT_LEARNER, **check_learner(meta["settings"])}
            rng = rng_from_state(meta["rng"])
            path = [int(s) for s in state.arrays["path"]]
        except KeyError as exc:
            raise EngineError(f"the grid-world state lacks {exc}") from None
        self.world, self.settings, self.q, self.rng, self.path = world, settings, q.copy(), rng, path
        self.epsilon = float(meta["epsilon"])
        self.step_count, self.episodes = int(meta["step_count"]), int(meta["episodes"])
        self.history = list(meta["history"])
        self.position = int(meta["position"])
        self.pending_action = meta["pending_action"]
        self.pending_explored = bool(meta["pending_explored"])
        self.episode_return = float(meta["episode_return"])
        self.episode_length = int(meta["episode_length"])
        self.episode_sq_td = float(meta["episode_sq_td"])
        self.last_update = None

    # --- what the page draws -----------------------------------------------------------------------------------

    def q_grid(self) -> np.ndarray:
        """Q as (rows, cols, 4)."""
        return self.q.reshape(self.world.rows, self.world.cols, 4)

    def policy(self) -> np.ndarray:
        """The greedy action per cell (rows, cols): argmax Q; −1 where nothing is decided (walls, terminal and cliff
        cells, where the agent never stands, and cells where two or more actions share the best value, e.g. moves
        not tried yet)."""
        q = self.q
        best = np.argmax(q, axis=1)
        tied = (q == q.max(axis=1, keepdims=True)).sum(axis=1) > 1
        undecided = tied | self.world.wall | self.world.terminal | self.world.cliff
        return np.where(undecided, -1, best).reshape(self.world.rows, self.world.cols)

    def values(self) -> np.ndarray:
        """V(s) = maxₐ Q(s, a) per cell (rows, cols)."""
        return self.q.max(axis=1).reshape(self.world.rows, self.world.cols)
