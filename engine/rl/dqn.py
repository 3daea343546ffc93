"""A Q-network that learns a game: the engine's dense layers, experience replay, a target network, ε-greedy.

Each `step()` is one move of the game and (once the replay memory holds `learn_start` transitions) one
optimiser step on a random mini-batch of remembered transitions (s, a, r, s′, done):

    target  y = r + γ · (1 − done) · maxₐ′ Q_target(s′, a′)        (the target network: a copy refreshed every
    TD error δ = Q(s, a) − y                                          `target_every` steps, so y holds still)
    loss      = mean over the batch of huber(δ) (or ½δ²)

The loss goes through the engine's own losses (Huber or SquaredError) with a target matrix equal to the network's
output except at the action taken, so only Q(s, a) gets a gradient. ε falls linearly from `epsilon_start` to
`epsilon_end` over `epsilon_steps` moves. The trainer follows the training protocol (engine/core/training.py).
"""

from __future__ import annotations

import math
from collections import deque
from pathlib import Path
from typing import Any

import numpy as np

from engine.core.errors import EngineError, SizeLimitError
from engine.core.losses import Loss, get_loss, loss_and_backward
from engine.core.network import Sequential, build_sequential
from engine.core.optim import Adam
from engine.core.training import (
    DivergedError,
    DivergenceGuard,
    MetricsRecord,
    StepResult,
    TrainerState,
    append_record,
    check_learning_rate,
    diverged_message,
    load_optimizer_arrays,
    optimizer_arrays,
    rng_from_state,
    rng_state,
)
from engine.rl.catch import ACTIONS, CatchConfig, CatchGames, make_game_config

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
SHIPPED = {"catch": WEIGHTS_DIR / "catch.npz"}
MAX_HISTORY = 4000
RATE_WINDOW = 100  # episodes the catch rate is averaged over
MAX_REPLAY = 100_000
MAX_REPLAY_NUMBERS = 4_000_000  # transitions × board cells the replay memory may hold (two float32 copies: 32 MB)
MAX_HIDDEN_UNITS = 512
MAX_HIDDEN_LAYERS = 4

DEFAULTS: dict[str, Any] = {
    "game": "catch", "game_settings": {}, "hidden": [64], "activation": "relu", "learning_rate": 1e-3,
    "gamma": 0.9, "batch_size": 32, "replay_size": 5000, "learn_start": 200, "target_every": 100,
    "epsilon_start": 1.0, "epsilon_end": 0.05, "epsilon_steps": 4000, "loss": "huber", "seed": 0,
}
SETTING_KEYS = tuple(DEFAULTS)
LIVE_KEYS = ("learning_rate", "gamma", "epsilon_end", "epsilon_steps", "target_every", "batch_size", "loss")


def _whole(value: Any, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not low <= value <= high:
        raise EngineError(f"{name} must be a whole number from {low} to {high}, got {value!r}")
    return int(value)


def _unit(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise EngineError(f"{name} must be a number in [0, 1], got {value!r}")
    return float(value)


def _network_settings(s: dict[str, Any]) -> dict[str, Any]:
    """The network's shape and its loss, of the settings given."""
    out: dict[str, Any] = {}
    if "hidden" in s:
        hidden = s["hidden"]
        if not isinstance(hidden, (list, tuple)) or len(hidden) > MAX_HIDDEN_LAYERS:
            raise EngineError(f"hidden must be a list of up to {MAX_HIDDEN_LAYERS} layer widths, got {hidden!r}")
        out["hidden"] = [_whole(h, "each hidden layer's width", 1, MAX_HIDDEN_UNITS) for h in hidden]
    if "activation" in s:
        if s["activation"] not in ("relu", "tanh"):
            raise EngineError(f"activation must be relu or tanh, got {s['activation']!r}")
        out["activation"] = s["activation"]
    if "loss" in s:
        if s["loss"] not in ("huber", "mse"):
            raise EngineError(f"loss must be huber or mse (½δ²), got {s['loss']!r}")
        out["loss"] = s["loss"]
    return out


def check_settings(settings: dict[str, Any], partial: bool = False) -> dict[str, Any]:
    """Validate Q-network settings (every one before anything changes); returns them cleaned."""
    unknown = set(settings) - set(SETTING_KEYS)
    if unknown:
        raise EngineError(f"unknown Q-network settings {sorted(unknown)}; use {', '.join(SETTING_KEYS)}")
    s = dict(settings) if partial else {**DEFAULTS, **settings}
    out: dict[str, Any] = {}
    if "game" in s:
        make_game_config(s["game"], s.get("game_settings") or {})
        out["game"], out["game_settings"] = s["game"], dict(s.get("game_settings") or {})
    out.update(_network_settings(s))
    if "learning_rate" in s:
        out["learning_rate"] = check_learning_rate(s["learning_rate"], high=1.0)
    for name in ("gamma", "epsilon_start", "epsilon_end"):
        if name in s:
            out[name] = _unit(s[name], name)
    limits = {"batch_size": (1, 1024), "replay_size": (1, MAX_REPLAY), "learn_start": (1, MAX_REPLAY),
              "target_every": (1, 100_000), "epsilon_steps": (1, 10_000_000), "seed": (0, 2**32 - 1)}
    for name, (low, high) in limits.items():
        if name in s:
            out[name] = _whole(s[name], name, low, high)
    if not partial:
        _check_replay(out)
    return out


def _check_replay(out: dict[str, Any]) -> None:
    """The replay memory of complete settings: within the size limit, and holding at least one batch."""
    numbers = out["replay_size"] * make_game_config(out["game"], out["game_settings"]).observation_size
    if numbers > MAX_REPLAY_NUMBERS:
        raise SizeLimitError(f"the replay memory would hold {numbers:,} numbers (replay_size × board cells), over "
                             f"the limit of {MAX_REPLAY_NUMBERS:,}; lower replay_size or the board")
    if out["replay_size"] < out["batch_size"]:
        raise EngineError(f"replay_size ({out['replay_size']}) must hold at least one batch ({out['batch_size']})")


class ReplayMemory:
    """The last `capacity` transitions in ring buffers; sampled uniformly."""

    def __init__(self, capacity: int, observation_size: int) -> None:
        self.capacity = capacity
        self.states = np.zeros((capacity, observation_size), dtype=np.float32)
        self.next_states = np.zeros((capacity, observation_size), dtype=np.float32)
        self.actions = np.zeros(capacity, dtype=np.int64)
        self.rewards = np.zeros(capacity, dtype=np.float32)
        self.dones = np.zeros(capacity, dtype=np.float32)
        self.size = 0
        self.position = 0

    def add(self, s: np.ndarray, a: int, r: float, s_next: np.ndarray, done: bool) -> None:
        i = self.position
        self.states[i], self.actions[i], self.rewards[i] = s, a, r
        self.next_states[i], self.dones[i] = s_next, float(done)
        self.position = (i + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, ...]:
        idx = rng.integers(0, self.size, n)
        return self.states[idx], self.actions[idx], self.rewards[idx], self.next_states[idx], self.dones[idx]

    def arrays(self) -> dict[str, np.ndarray]:
        n = self.size
        return {"replay/states": self.states[:n].copy(), "replay/next_states": self.next_states[:n].copy(),
                "replay/actions": self.actions[:n].copy(), "replay/rewards": self.rewards[:n].copy(),
                "replay/dones": self.dones[:n].copy()}

    def load(self, arrays: dict[str, np.ndarray], size: int, position: int) -> None:
        if not 0 <= size <= self.capacity or not 0 <= position < self.capacity:
            raise EngineError("the replay memory's size or position does not fit its capacity")
        for name in ("states", "next_states", "actions", "rewards", "dones"):
            value = np.asarray(arrays[f"replay/{name}"])
            target = getattr(self, name)
            if value.shape != (size, *target.shape[1:]):
                raise EngineError(f"the replay memory's {name} have the wrong shape {list(value.shape)}")
            target[:size] = value
        self.size, self.position = size, position


class QNetworkTrainer:
    """A deep Q-network on a game (default: catch)."""

    kind = "qnetwork"

    def __init__(self, max_params: int | None = None, **settings: Any) -> None:
        self.settings = check_settings(settings)
        self.max_params = max_params
        self.game_config: CatchConfig = make_game_config(self.settings["game"], self.settings["game_settings"])
        self.num_actions = len(ACTIONS)
        self.diverged = False
        self.diverged_message = ""
        self.guard = DivergenceGuard()
        self.reset()

    # --- building ------------------------------------------------------------------------------------------------

    def layer_specs(self) -> list[dict[str, Any]]:
        act = self.settings["activation"]
        return [*({"type": "dense", "units": h, "activation": act, "init": "he" if act == "relu" else "xavier"}
                  for h in self.settings["hidden"]),
                {"type": "dense", "units": self.num_actions}]

    def build_network(self, dtype: str = "float32") -> Sequential:
        try:
            return build_sequential(self.game_config.observation_size, self.layer_specs(), seed=self.settings["seed"],
                                    dtype=dtype, max_params=self.max_params)
        except SizeLimitError:
            raise
        except EngineError as exc:
            raise EngineError(f"cannot build the Q-network: {exc}") from None

    def reset(self) -> None:
        """Fresh weights (from the seed), an empty replay memory, ε back at its start, a new game."""
        s = self.settings
        self.net = self.build_network()
        self.target = self.net.clone()
        self.optimizer = Adam(s["learning_rate"])
        self.loss: Loss = get_loss(s["loss"])
        self.rng = np.random.default_rng(s["seed"] + 1)
        self.memory = ReplayMemory(s["replay_size"], self.game_config.observation_size)
        self.game = CatchGames(self.game_config, 1, self.rng)
        self.observation = self.game.observe()[0]
        self.step_count = 0  # moves played
        self.updates = 0  # optimiser steps taken
        self.episodes = 0
        self.history: list[dict[str, Any]] = []
        self.recent: deque[float] = deque(maxlen=RATE_WINDOW)  # 1 caught / 0 missed, last episodes
        self.episode_return = 0.0
        self.losses_since_record: list[float] = []
        self.last_loss: float | None = None
        self.diverged = False
        self.diverged_message = ""

    # --- acting --------------------------------------------------------------------------------------------------

    @property
    def epsilon(self) -> float:
        s = self.settings
        frac = min(1.0, self.step_count / s["epsilon_steps"])
        return s["epsilon_start"] + frac * (s["epsilon_end"] - s["epsilon_start"])

    def q_values(self, observations: np.ndarray) -> np.ndarray:
        """Q(s, ·) for a batch of observations (n, observation size) → (n, actions)."""
        return self.net.forward(observations, keep_trace=False)

    def act(self, observation: np.ndarray, epsilon: float) -> int:
        if self.rng.random() < epsilon:
            return int(self.rng.integers(self.num_actions))
        with np.errstate(over="ignore", invalid="ignore"):  # a diverging network is caught by train()
            return int(np.argmax(self.q_values(observation[None])[0]))

    # --- learning ------------------------------------------------------------------------------------------------

    def td_targets(self, rewards: np.ndarray, next_states: np.ndarray, dones: np.ndarray) -> np.ndarray:
        """y = r + γ (1 − done) maxₐ′ Q_target(s′, a′)."""
        q_next = self.target.forward(next_states, keep_trace=False)
        return rewards + self.settings["gamma"] * (1.0 - dones) * q_next.max(axis=1)

    def td_loss_and_backward(self, states: np.ndarray, actions: np.ndarray, y: np.ndarray) -> float:
        """Forward the batch, the loss of Q(s, a) against y, backward: fills every layer's grads.
        A non-finite Q or target (a diverging network) answers NaN without a backward pass."""
        q = self.net.forward(states)
        if not (np.isfinite(q).all() and np.isfinite(y).all()):
            return math.nan
        target = q.copy()
        target[np.arange(len(actions)), actions] = y
        value, _ = loss_and_backward(self.net, self.loss, target)
        return value

    def learn(self) -> float:
        states, actions, rewards, next_states, dones = self.memory.sample(self.rng, self.settings["batch_size"])
        with np.errstate(over="ignore", invalid="ignore"):  # a diverging network is caught by train()
            y = self.td_targets(rewards, next_states, dones).astype(self.net.dtype)
            value = self.td_loss_and_backward(states, actions, y)
        if not math.isfinite(value):
            return value
        self.optimizer.step(self.net.layers)
        self.updates += 1
        if self.updates % self.settings["target_every"] == 0:
            self.sync_target()
        return value

    def sync_target(self) -> None:
        self.target.set_state(self.net.get_state())

    # --- the training protocol -----------------------------------------------------------------------------------

    def step(self) -> StepResult:
        if self.diverged:
            raise DivergedError(self.diverged_message)
        obs = self.observation
        action = self.act(obs, self.epsilon)
        reward, done = self.game.act(np.array([action]))
        r, finished = float(reward[0]), bool(done[0])
        next_obs = self.game.observe()[0]
        self.memory.add(obs, action, r, next_obs, finished)
        self.step_count += 1
        self.episode_return += r
        loss = math.nan
        if self.memory.size >= max(self.settings["learn_start"], self.settings["batch_size"]):
            loss = self.learn()
            self.last_loss = loss
            self.losses_since_record.append(loss)
        if finished:
            self._end_episode(caught=r > 0)
        else:
            self.observation = next_obs
        return StepResult(loss=loss, step=self.step_count, epoch=float(self.episodes))

    def _end_episode(self, caught: bool) -> None:
        self.episodes += 1
        self.recent.append(1.0 if caught else 0.0)
        losses = self.losses_since_record
        record = MetricsRecord(
            step=self.step_count, epoch=float(self.episodes),
            train_loss=float(np.mean(losses)) if losses else None, learning_rate=self.optimizer.learning_rate,
            train_accuracy=float(np.mean(self.recent)),
            extra={"return": self.episode_return, "caught": 1.0 if caught else 0.0, "epsilon": self.epsilon})
        append_record(self.history, record)
        if len(self.history) > MAX_HISTORY:
            half = len(self.history) // 2
            self.history[:] = self.history[:half:2] + self.history[half:]
        self.losses_since_record = []
        self.episode_return = 0.0
        self.game.reset(self.rng)
        self.observation = self.game.observe()[0]

    def params(self) -> list[np.ndarray]:
        return [p for _, _, p in self.net.named_params()]

    def train(self, steps: int) -> list[dict[str, Any]]:
        """`steps` moves (and optimiser steps); returns the history records of the episodes they finished.
        A non-finite loss or weight rolls the network back to the start of this call and raises DivergedError."""
        if self.diverged:
            raise DivergedError(self.diverged_message)
        self.guard.save(self.params(), self.optimizer)
        before = self.episodes
        for _ in range(steps):
            self.step()
            if self.last_loss is not None and not math.isfinite(self.last_loss):
                break
        loss = self.last_loss if self.last_loss is not None else 0.0
        if not DivergenceGuard.finite(loss, self.params()):
            self.guard.restore(self.params(), self.optimizer)
            self.sync_target()
            self.diverged = True
            self.diverged_message = diverged_message(loss, self.step_count)
            raise DivergedError(self.diverged_message)
        return self.history[len(self.history) - min(self.episodes - before, len(self.history)):] \
            if self.episodes > before else []

    def configure(self, **settings: Any) -> None:
        """Change the learning rate, γ, ε's end and schedule, the target refresh, the batch size or the loss while
        training; the weights and the memory are kept."""
        not_live = set(settings) - set(LIVE_KEYS)
        if not_live:
            raise EngineError(f"{sorted(not_live)} cannot change while training; live settings: "
                              f"{', '.join(LIVE_KEYS)} (create a new agent for the others)")
        clean = check_settings(settings, partial=True)
        if clean.get("batch_size", 0) > self.settings["replay_size"]:
            raise EngineError(f"batch_size must not exceed replay_size ({self.settings['replay_size']})")
        self.settings.update(clean)
        self.optimizer.learning_rate = self.settings["learning_rate"]
        self.loss = get_loss(self.settings["loss"])

    def state(self) -> TrainerState:
        arrays = {f"params/{k}": v for k, v in self.net.get_state().items()}
        arrays.update({f"target/{k}": v for k, v in self.target.get_state().items()})
        arrays.update(optimizer_arrays(self.optimizer))
        arrays.update(self.memory.arrays())
        arrays["observation"] = self.observation.copy()
        meta = {"settings": self.settings, "step_count": self.step_count, "updates": self.updates,
                "episodes": self.episodes, "history": self.history, "recent": list(self.recent),
                "episode_return": self.episode_return, "losses_since_record": self.losses_since_record,
                "last_loss": self.last_loss, "optimizer_t": self.optimizer.t, "rng": rng_state(self.rng),
                "game": self.game.snapshot(), "replay_size": self.memory.size,
                "replay_position": self.memory.position, "diverged": self.diverged,
                "diverged_message": self.diverged_message}
        return TrainerState(self.kind, arrays, meta)

    def load_state(self, state: TrainerState) -> None:
        if state.kind != self.kind:
            raise EngineError(f"this is a {state.kind!r} state, not a Q-network trainer's")
        meta, arrays = state.meta, state.arrays
        try:
            fresh = QNetworkTrainer(max_params=self.max_params, **meta["settings"])
            fresh.net.set_state({k[len("params/"):]: v for k, v in arrays.items() if k.startswith("params/")})
            fresh.target.set_state({k[len("target/"):]: v for k, v in arrays.items() if k.startswith("target/")})
            load_optimizer_arrays(fresh.optimizer, arrays, meta["optimizer_t"])
            fresh.memory.load(arrays, int(meta["replay_size"]), int(meta["replay_position"]))
            fresh.rng = rng_from_state(meta["rng"])
            fresh.game.restore(meta["game"])
            observation = np.asarray(arrays["observation"], dtype=np.float32)
            if observation.shape != fresh.observation.shape:
                raise EngineError("the saved observation does not fit the game")
        except KeyError as exc:
            raise EngineError(f"the Q-network state lacks {exc}") from None
        fresh.observation = observation
        fresh.step_count, fresh.updates = int(meta["step_count"]), int(meta["updates"])
        fresh.episodes = int(meta["episodes"])
        fresh.history = list(meta["history"])
        fresh.recent = deque((float(x) for x in meta["recent"]), maxlen=RATE_WINDOW)
        fresh.episode_return = float(meta["episode_return"])
        fresh.losses_since_record = [float(x) for x in meta["losses_since_record"]]
        fresh.last_loss = meta["last_loss"]
        fresh.diverged, fresh.diverged_message = bool(meta["diverged"]), str(meta["diverged_message"])
        self.__dict__.update(fresh.__dict__)

    # --- playing and evaluating ------------------------------------------------------------------------------------

    def catch_rate(self) -> float | None:
        return float(np.mean(self.recent)) if self.recent else None

    def evaluate(self, episodes: int = 200, seed: int = 12345) -> float:
        """The greedy policy's share of fruit caught over `episodes` fresh games, all played at once."""
        games = CatchGames(self.game_config, episodes, np.random.default_rng(seed))
        reward = np.zeros(episodes, dtype=np.float32)
        for _ in range(self.game_config.episode_length):
            actions = np.argmax(self.q_values(games.observe()), axis=1)
            reward, _ = games.act(actions)
        return float(np.mean(reward > 0))

    def play(self, episodes: int = 1, epsilon: float = 0.0, seed: int | None = None) -> list[dict[str, Any]]:
        """Play whole episodes without learning (not touching the training game): every frame's board, the
        Q-values of its state, the action taken and the reward."""
        rng = np.random.default_rng(seed) if seed is not None else np.random.default_rng(self.rng.integers(2**32))
        out = []
        for _ in range(episodes):
            game = CatchGames(self.game_config, 1, rng)
            frames = []
            total = 0.0
            for _ in range(self.game_config.episode_length):
                q = self.q_values(game.observe())[0]
                explored = bool(rng.random() < epsilon)
                action = int(rng.integers(self.num_actions)) if explored else int(np.argmax(q))
                board = game.boards()[0]
                reward, done = game.act(np.array([action]))
                total += float(reward[0])
                frames.append({"board": board, "q": q.copy(), "action": action, "explored": explored,
                               "reward": float(reward[0]), "done": bool(done[0])})
            frames.append({"board": game.boards()[0], "q": None, "action": None, "explored": False,
                           "reward": 0.0, "done": True})
            out.append({"frames": frames, "return": total, "caught": total > 0})
        return out

    def current(self) -> dict[str, Any]:
        """The training game's board now and the Q-values of its state."""
        return {"board": self.game.boards()[0], "q": self.q_values(self.observation[None])[0]}

    def describe(self) -> dict[str, Any]:
        return {"input": self.game_config.observation_size, "hidden": list(self.settings["hidden"]),
                "outputs": self.num_actions, "activation": self.settings["activation"],
                "num_params": self.net.num_params, "actions": list(ACTIONS),
                "rows": self.game_config.rows, "cols": self.game_config.cols}

    # --- shipped weights -----------------------------------------------------------------------------------------

    def weights_bytes(self, extra_meta: dict[str, Any] | None = None) -> bytes:
        """The network's weights and settings (no replay, no optimiser): what ships under engine/rl/weights/."""
        arrays = {f"params/{k}": v for k, v in self.net.get_state().items()}
        return TrainerState("qnetwork-weights", arrays,
                            {"settings": self.settings, "step_count": self.step_count, "episodes": self.episodes,
                             **(extra_meta or {})}).to_bytes()

    @classmethod
    def from_weights(cls, data: bytes, max_params: int | None = None) -> tuple[QNetworkTrainer, dict[str, Any]]:
        """A trainer holding shipped weights (ε already at its end: it plays as trained), and the file's meta."""
        saved = TrainerState.from_bytes(data)
        if saved.kind != "qnetwork-weights":
            raise EngineError(f"not Q-network weights (kind {saved.kind!r})")
        trainer = cls(max_params=max_params, **saved.meta["settings"])
        trainer.net.set_state({k[len("params/"):]: v for k, v in saved.arrays.items() if k.startswith("params/")})
        trainer.sync_target()
        # Its counters as trained, so ε is where training left it.
        trainer.step_count, trainer.episodes = int(saved.meta["step_count"]), int(saved.meta["episodes"])
        return trainer, saved.meta


def load_shipped(game: str = "catch", max_params: int | None = None) -> tuple[QNetworkTrainer, dict[str, Any]]:
    """The trained agent that ships with Glassbox (`glassbox train catch` wrote it)."""
    path = SHIPPED.get(game)
    if path is None or not path.exists():
        raise EngineError(f"no trained agent ships for '{game}'; train one with `glassbox train {game}`")
    return QNetworkTrainer.from_weights(path.read_bytes(), max_params=max_params)
