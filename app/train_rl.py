"""`glassbox train catch`: train the Q-network that plays catch and write the agent the Q-learning page ships.

glassbox train catch [--steps 20000] [--seed 0] [--out engine/rl/weights/catch.npz]
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

from engine.core.errors import EngineError
from engine.rl.dqn import SHIPPED, QNetworkTrainer

EVAL_EPISODES = 200
EVAL_SEED = 12345
CHUNK = 500


def add_catch_args(p: argparse.ArgumentParser) -> None:
    group = p.add_argument_group("catch only")
    group.add_argument("--steps", type=int, default=20_000,
                       help="moves played, each followed by one optimiser step once learning starts (default 20000)")


def train_catch(args: argparse.Namespace) -> int:
    """Train with the default settings (the seed from --seed); the weights go to --out or the shipped file."""
    from tqdm import tqdm

    if args.steps < 1:
        print("--steps must be at least 1", file=sys.stderr)
        return 2
    out = Path(args.out) if args.out else SHIPPED["catch"]
    try:
        trainer = QNetworkTrainer(seed=args.seed)
    except EngineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    d = trainer.describe()
    print(f"Q-network {d['input']}-{'-'.join(map(str, d['hidden']))}-{d['outputs']} ({d['num_params']:,} "
          f"parameters) on catch {d['rows']} × {d['cols']}; ε from {trainer.settings['epsilon_start']:g} to "
          f"{trainer.settings['epsilon_end']:g} over {trainer.settings['epsilon_steps']} moves", flush=True)
    started = time.monotonic()
    with tqdm(total=args.steps, unit="move", dynamic_ncols=True) as bar:
        done = 0
        while done < args.steps:
            n = min(CHUNK, args.steps - done)
            try:
                trainer.train(n)
            except EngineError as exc:
                bar.close()
                print(f"error: {exc}", file=sys.stderr)
                return 1
            done += n
            bar.update(n)
            rate = trainer.catch_rate()
            bar.set_postfix(episodes=trainer.episodes, caught=f"{rate:.0%}" if rate is not None else "—",
                            eps=f"{trainer.epsilon:.2f}", loss=f"{trainer.last_loss or 0:.4f}")
    seconds = time.monotonic() - started
    caught = trainer.evaluate(EVAL_EPISODES, seed=EVAL_SEED)
    parts = ["glassbox", "train", "catch", "--steps", str(args.steps), "--seed", str(args.seed)]
    command = " ".join(shlex.quote(p) for p in parts + (["--out", args.out] if args.out else []))
    meta = {"greedy_catch_rate": caught, "eval_episodes": EVAL_EPISODES, "eval_seed": EVAL_SEED,
            "train_seconds": round(seconds, 1), "command": command}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(trainer.weights_bytes(meta))
    print(f"\nThe greedy agent caught {caught:.1%} of {EVAL_EPISODES} fruit after {trainer.episodes} training episodes "
          f"({args.steps} moves, {seconds:.0f} s)")
    print(f"Weights written to {out}")
    return 0
