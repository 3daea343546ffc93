""""Catch": a fruit falls one row per step down a small board; a paddle on the bottom row moves left, stays or
moves right to catch it. +1 for a catch, −1 for a miss, 0 otherwise; one fruit is one episode.

The game is vectorised over a batch of boards (one row per game), so a greedy evaluation over 200 episodes is a
handful of array steps; training plays one game (a batch of one).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.core.errors import EngineError

ACTIONS = ("left", "stay", "right")
EMPTY, FRUIT, PADDLE = 0, 1, 2
PADDLE_WIDTH = 3
MIN_ROWS, MAX_ROWS = 4, 16
MIN_COLS, MAX_COLS = 4, 16


@dataclass(frozen=True)
class CatchConfig:
    rows: int = 10
    cols: int = 10

    def __post_init__(self) -> None:
        for name, low, high in (("rows", MIN_ROWS, MAX_ROWS), ("cols", MIN_COLS, MAX_COLS)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise EngineError(f"catch's {name} must be a whole number from {low} to {high}, got {value!r}")

    @property
    def observation_size(self) -> int:
        return self.rows * self.cols

    @property
    def episode_length(self) -> int:
        """Moves per fruit: it falls from the top row to the bottom one."""
        return self.rows - 1


class CatchGames:
    """`n` games at once: the fruit's row and column and the paddle's centre column per game."""

    num_actions = len(ACTIONS)

    def __init__(self, config: CatchConfig, n: int, rng: np.random.Generator) -> None:
        self.config = config
        self.fruit_row = np.zeros(n, dtype=np.int64)
        self.fruit_col = np.zeros(n, dtype=np.int64)
        self.paddle = np.zeros(n, dtype=np.int64)
        self.reset(rng)

    def reset(self, rng: np.random.Generator, which: np.ndarray | None = None) -> None:
        """A new fruit at a random column of the top row and the paddle at a random place, for `which` games
        (a boolean mask; all by default)."""
        cols = self.config.cols
        idx = np.arange(len(self.fruit_row)) if which is None else np.flatnonzero(which)
        self.fruit_row[idx] = 0
        self.fruit_col[idx] = rng.integers(0, cols, len(idx))
        self.paddle[idx] = rng.integers(1, cols - 1, len(idx))

    def observe(self) -> np.ndarray:
        """Each game's board as the network sees it: (n, rows · cols) float32, 1 where the fruit or the paddle
        is, 0 elsewhere."""
        return (self.boards() != EMPTY).reshape(len(self.paddle), -1).astype(np.float32)

    def boards(self) -> np.ndarray:
        """(n, rows, cols) uint8: 0 empty, 1 fruit, 2 paddle."""
        n, rows, cols = len(self.paddle), self.config.rows, self.config.cols
        board = np.zeros((n, rows, cols), dtype=np.uint8)
        games = np.arange(n)
        for offset in (-1, 0, 1):
            board[games, rows - 1, self.paddle + offset] = PADDLE
        board[games, self.fruit_row, self.fruit_col] = FRUIT
        return board

    def act(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Move every paddle (0 left, 1 stay, 2 right; held inside the board) and let every fruit fall one row.
        Returns (reward, done) per game: done when the fruit reaches the bottom row, reward +1 caught, −1 missed."""
        actions = np.asarray(actions, dtype=np.int64)
        if actions.shape != self.paddle.shape or np.any((actions < 0) | (actions >= len(ACTIONS))):
            raise EngineError("catch takes one action per game, each 0 (left), 1 (stay) or 2 (right)")
        self.paddle = np.clip(self.paddle + actions - 1, 1, self.config.cols - 2)
        self.fruit_row = self.fruit_row + 1
        done = self.fruit_row >= self.config.rows - 1
        caught = np.abs(self.fruit_col - self.paddle) <= PADDLE_WIDTH // 2
        reward = np.where(done, np.where(caught, 1.0, -1.0), 0.0).astype(np.float32)
        return reward, done

    def snapshot(self) -> dict[str, Any]:
        return {"fruit_row": self.fruit_row.tolist(), "fruit_col": self.fruit_col.tolist(),
                "paddle": self.paddle.tolist()}

    def restore(self, snap: dict[str, Any]) -> None:
        for name in ("fruit_row", "fruit_col", "paddle"):
            value = np.asarray(snap[name], dtype=np.int64)
            if value.shape != self.paddle.shape:
                raise EngineError(f"the saved game's {name} does not match")
            setattr(self, name, value)


GAMES = {"catch": CatchConfig}


def make_game_config(game: str, settings: dict[str, Any] | None = None) -> CatchConfig:
    if game not in GAMES:
        raise EngineError(f"unknown game '{game}'; the games are: {', '.join(GAMES)}")
    settings = dict(settings or {})
    unknown = set(settings) - {"rows", "cols"}
    if unknown:
        raise EngineError(f"unknown {game} settings {sorted(unknown)}; use rows and cols")
    return GAMES[game](**settings)
