"""A grid world for tabular reinforcement learning: walls, a start, goals, pits, a cliff, a step cost, slippery moves.

A layout is a list of equal-length strings, one character per cell:

    .  empty          S  the start (exactly one)     #  wall (never entered)
    G  goal (ends the episode, `goal_reward`)        P  pit (ends the episode, `pit_reward`)
    C  cliff (`cliff_reward`, and the agent is sent back to the start; the episode goes on — Sutton & Barto's
       cliff walking)

The agent has four actions, up, right, down, left. A move into a wall or off the grid leaves it where it is. With
`slip` > 0 a move goes sideways instead (to either perpendicular direction, `slip`/2 each). Entering a goal, pit
or cliff cell earns that cell's reward; every other move earns `step_cost` (negative: a cost).

States are numbered row-major, s = row · cols + col. `transition_model()` gives the whole model as arrays
(P[s, a, s′] and the expected reward R[s, a]), which `value_iteration` uses over all states at once.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.core.errors import EngineError, SizeLimitError

ACTIONS = ("up", "right", "down", "left")
ARROWS = ("↑", "→", "↓", "←")
# (row, col) change of each action.
MOVES = np.array([(-1, 0), (0, 1), (1, 0), (0, -1)], dtype=np.int64)

EMPTY, WALL, GOAL, PIT, CLIFF, START = ".", "#", "G", "P", "C", "S"
CELL_CHARS = (EMPTY, WALL, GOAL, PIT, CLIFF, START)
CELL_NAMES = {EMPTY: "empty", WALL: "wall", GOAL: "goal", PIT: "pit", CLIFF: "cliff", START: "start"}
MIN_SIDE, MAX_SIDE = 2, 12
MAX_REWARD = 1000.0


def _sideways(action: int) -> tuple[int, int]:
    """The two actions perpendicular to `action` (a slip goes to one of them)."""
    return (action + 1) % 4, (action + 3) % 4


@dataclass
class GridWorld:
    """The world: its layout and rewards. Immutable in use; edits build a new one."""

    layout: list[str]
    step_cost: float = -0.01
    goal_reward: float = 1.0
    pit_reward: float = -1.0
    cliff_reward: float = -1.0
    slip: float = 0.0
    max_steps: int = 200
    cells: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.layout = parse_layout(self.layout)
        self.rows, self.cols = len(self.layout), len(self.layout[0])
        self.cells = np.array([list(row) for row in self.layout])
        for name in ("step_cost", "goal_reward", "pit_reward", "cliff_reward"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                    or abs(value) > MAX_REWARD:
                raise EngineError(f"{name} must be a number between −{MAX_REWARD:g} and {MAX_REWARD:g}, got {value!r}")
            setattr(self, name, float(value))
        self.slip = check_probability(self.slip, "slip")
        if isinstance(self.max_steps, bool) or not isinstance(self.max_steps, int) or not 1 <= self.max_steps <= 10_000:
            raise EngineError(f"max_steps (per episode) must be a whole number from 1 to 10000, got {self.max_steps!r}")
        starts = np.argwhere(self.cells == START)
        self.start = int(starts[0][0] * self.cols + starts[0][1])
        flat = self.cells.ravel()
        self.wall = flat == WALL
        self.terminal = (flat == GOAL) | (flat == PIT)
        self.cliff = flat == CLIFF
        self.reward_on_entry = np.full(flat.size, self.step_cost)
        self.reward_on_entry[flat == GOAL] = self.goal_reward
        self.reward_on_entry[flat == PIT] = self.pit_reward
        self.reward_on_entry[self.cliff] = self.cliff_reward
        self.next_cell = self._next_cells()
        if not self.reachable_goal():
            raise EngineError("the agent is walled in: no goal can be reached from the start; open a path through "
                              "the walls (cliff cells send the agent back, so they do not count as a path)")

    @property
    def num_states(self) -> int:
        return self.rows * self.cols

    def _next_cells(self) -> np.ndarray:
        """next_cell[s, a]: the cell a move `a` from `s` enters (before a cliff sends the agent back)."""
        r, c = np.divmod(np.arange(self.num_states), self.cols)
        nr = np.clip(r[:, None] + MOVES[None, :, 0], 0, self.rows - 1)
        nc = np.clip(c[:, None] + MOVES[None, :, 1], 0, self.cols - 1)
        dest = nr * self.cols + nc
        blocked = self.wall[dest]
        return np.where(blocked, np.arange(self.num_states)[:, None], dest)

    def reachable_goal(self) -> bool:
        """Whether some goal can be reached from the start by moves that avoid walls, pits and cliffs."""
        seen = {self.start}
        queue = deque([self.start])
        while queue:
            s = queue.popleft()
            if self.layout[s // self.cols][s % self.cols] == GOAL:
                return True
            if self.terminal[s] or self.cliff[s]:
                continue
            for t in self.next_cell[s]:
                if int(t) not in seen:
                    seen.add(int(t))
                    queue.append(int(t))
        return False

    def move(self, s: int, action: int, rng: np.random.Generator) -> tuple[int, int, float, bool, bool]:
        """One move: (next state, direction actually taken, reward, episode over, sent back to the start)."""
        moved = action
        if self.slip > 0 and rng.random() < self.slip:
            moved = _sideways(action)[int(rng.random() < 0.5)]
        entered = int(self.next_cell[s, moved])
        reward = float(self.reward_on_entry[entered])
        if self.cliff[entered]:
            return self.start, moved, reward, False, True
        return entered, moved, reward, bool(self.terminal[entered]), False

    def transition_model(self) -> tuple[np.ndarray, np.ndarray]:
        """P[s, a, s′] (probabilities) and R[s, a] (expected reward) for every state and action at once.
        Rows of walls and terminal states are zero: nothing happens there."""
        n = self.num_states
        probs = np.zeros((n, 4, n))
        rewards = np.zeros((n, 4))
        states = np.arange(n)
        for a in range(4):
            side_a, side_b = _sideways(a)
            for moved, p in ((a, 1.0 - self.slip), (side_a, self.slip / 2), (side_b, self.slip / 2)):
                if p == 0:
                    continue
                entered = self.next_cell[:, moved]
                landed = np.where(self.cliff[entered], self.start, entered)
                np.add.at(probs, (states, np.full(n, a), landed), p)
                rewards[:, a] += p * self.reward_on_entry[entered]
        inactive = self.wall | self.terminal
        probs[inactive] = 0
        rewards[inactive] = 0
        return probs, rewards

    def describe(self) -> dict[str, Any]:
        return {"layout": list(self.layout), "rows": self.rows, "cols": self.cols,
                "start": [self.start // self.cols, self.start % self.cols], "step_cost": self.step_cost,
                "goal_reward": self.goal_reward, "pit_reward": self.pit_reward, "cliff_reward": self.cliff_reward,
                "slip": self.slip, "max_steps": self.max_steps}


def _check_side(count: int, what: str) -> None:
    if count > MAX_SIDE:
        raise SizeLimitError(f"a grid has at most {MAX_SIDE} {what}, this layout has {count}")
    if count < MIN_SIDE:
        raise EngineError(f"a grid has {MIN_SIDE} to {MAX_SIDE} {what}, this layout has {count}")


def parse_layout(layout: Any) -> list[str]:
    if isinstance(layout, str):
        layout = [row for row in layout.replace("\r", "").split("\n") if row.strip()]
    if not isinstance(layout, (list, tuple)) or not all(isinstance(row, str) for row in layout):
        raise EngineError("layout must be a list of strings, one per row, e.g. ['S..', '.#.', '..G']")
    rows = [row.strip().upper() for row in layout]
    _check_side(len(rows), "rows")
    widths = {len(row) for row in rows}
    if len(widths) != 1:
        raise EngineError(f"every row of the layout must have the same length, got lengths {sorted(widths)}")
    _check_side(widths.pop(), "columns")
    bad = sorted({ch for row in rows for ch in row} - set(CELL_CHARS))
    if bad:
        raise EngineError(f"unknown cell characters {bad}; use . empty, # wall, S start, G goal, P pit, C cliff")
    text = "".join(rows)
    if text.count(START) != 1:
        raise EngineError(f"the layout needs exactly one start cell 'S', it has {text.count(START)}")
    if GOAL not in text:
        raise EngineError("the layout has no goal: put at least one 'G' cell where the agent should go")
    return rows


def check_probability(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise EngineError(f"{name} must be a number in [0, 1], got {value!r}")
    return float(value)


def value_iteration(world: GridWorld, gamma: float, tol: float = 1e-12, max_iter: int = 100_000) -> np.ndarray:
    """The optimal action values Q*(s, a), (states, 4), by value iteration over all states at once:
    Q(s, a) ← R(s, a) + γ Σ_s′ P(s′ | s, a) maxₐ′ Q(s′, a′), until no value moves by more than `tol`.
    Walls and terminal states keep Q = 0."""
    gamma = check_probability(gamma, "gamma")
    probs, rewards = world.transition_model()
    q = np.zeros((world.num_states, 4))
    for _ in range(max_iter):
        new_q = rewards + gamma * probs @ q.max(axis=1)
        change = float(np.abs(new_q - q).max())
        q = new_q
        if change <= tol:
            return q
        if not np.isfinite(change):
            break
    raise EngineError(f"value iteration did not settle within {max_iter} sweeps at γ = {gamma:g}: with γ = 1 the "
                      f"returns must stay bounded (a negative step cost, or goals the agent cannot avoid)")


def greedy_path(world: GridWorld, q: np.ndarray, limit: int | None = None) -> list[int]:
    """The states the greedy policy (argmax Q, first best on ties) visits from the start, ignoring slips; stops at
    a terminal state, when it revisits a state, or after `limit` moves."""
    limit = limit if limit is not None else world.num_states * 2
    s = world.start
    path = [s]
    seen = {s}
    for _ in range(limit):
        entered = int(world.next_cell[s, int(np.argmax(q[s]))])
        s = world.start if world.cliff[entered] else entered
        path.append(s)
        if world.terminal[s] or s in seen:
            break
        seen.add(s)
    return path


# --- presets -------------------------------------------------------------------------------------------------

PRESETS: dict[str, dict[str, Any]] = {
    "classic": {
        "title": "6 × 6 world",
        "description": "A goal (+1), two pits (−1) and some walls; each step costs 0.01.",
        "world": {"layout": ["S.....", ".##.#.", "...P#.", ".#....", ".#.#P.", "...#.G"],
                  "step_cost": -0.01, "goal_reward": 1.0, "pit_reward": -1.0, "cliff_reward": -1.0, "slip": 0.0},
        "learner": {"alpha": 0.5, "gamma": 0.9, "epsilon": 0.3, "epsilon_decay": 0.99, "epsilon_min": 0.05},
    },
    "cliff": {
        "title": "Cliff walking",
        "description": "Sutton & Barto's 4 × 12 cliff: −1 per step, −100 and back to the start for stepping off "
                       "the cliff. With ε = 0.1 Q-learning learns the short path along the edge, SARSA the safe "
                       "one further up.",
        "world": {"layout": ["............", "............", "............", "SCCCCCCCCCCG"],
                  "step_cost": -1.0, "goal_reward": -1.0, "pit_reward": -1.0, "cliff_reward": -100.0, "slip": 0.0},
        "learner": {"alpha": 0.5, "gamma": 1.0, "epsilon": 0.1, "epsilon_decay": 1.0, "epsilon_min": 0.1},
    },
    "slippery": {
        "title": "Slippery ice",
        "description": "The 6 × 6 world where one move in five slides sideways: the best policy keeps away from "
                       "the pits.",
        "world": {"layout": ["S.....", ".##.#.", "...P#.", ".#....", ".#.#P.", "...#.G"],
                  "step_cost": -0.01, "goal_reward": 1.0, "pit_reward": -1.0, "cliff_reward": -1.0, "slip": 0.2},
        "learner": {"alpha": 0.2, "gamma": 0.95, "epsilon": 0.3, "epsilon_decay": 0.99, "epsilon_min": 0.05},
    },
}
DEFAULT_PRESET = "classic"


def get_preset(name: str) -> dict[str, Any]:
    if name not in PRESETS:
        raise EngineError(f"unknown grid-world preset '{name}'; use one of: {', '.join(PRESETS)}")
    return PRESETS[name]
