"""`glassbox train charlm`: train the character language model on the shipped corpus with the engine, save it.

glassbox train charlm [--epochs 10] [--epoch-steps 250] [--batch 16] [--lr 0.002] [--warmup 100] [--layers 3]
                      [--heads 4] [--d-model 128] [--context 128] [--seed 0] [--out PATH]

An "epoch" here is `--epoch-steps` optimiser steps (the text is sampled at random offsets, so there is no natural
pass); after each one the loss on the whole held-out tail is printed. The learning rate warms up, then follows a
cosine down to 10 % of it by the last step. `--batch`, `--lr`, `--seed`, `--out` and `--epochs` are the shared
options of `glassbox train` (app/train_cli.py); the others are this model's.
"""

from __future__ import annotations

import argparse
import math
import shlex
import sys
import time
from pathlib import Path
from typing import Any

from engine.charlm.model import DEFAULT_WEIGHTS
from engine.charlm.trainer import CharLMTrainer
from engine.core.errors import EngineError


def add_charlm_args(p: argparse.ArgumentParser) -> None:
    group = p.add_argument_group("charlm only")
    group.add_argument("--epoch-steps", type=int, default=250,
                       help="optimiser steps per epoch, after each of which the held-out loss is printed (default 250)")
    group.add_argument("--warmup", type=int, default=100, help="steps of linear warm-up (default 100)")
    group.add_argument("--layers", type=int, default=3, help="transformer blocks (default 3)")
    group.add_argument("--heads", type=int, default=4, help="attention heads per block (default 4)")
    group.add_argument("--d-model", type=int, default=128, help="width of every vector (default 128)")
    group.add_argument("--context", type=int, default=128, help="characters the model reads (default 128)")


def command_line(args: argparse.Namespace) -> str:
    parts = ["glassbox", "train", "charlm", "--epochs", str(args.epochs), "--epoch-steps", str(args.epoch_steps),
             "--batch", str(args.batch), "--lr", f"{args.lr:g}", "--warmup", str(args.warmup), "--layers",
             str(args.layers), "--heads", str(args.heads), "--d-model", str(args.d_model), "--context",
             str(args.context), "--seed", str(args.seed), "--out", args.out]
    return " ".join(shlex.quote(p) for p in parts)


def held_out_windows(trainer: CharLMTrainer) -> int:
    """Non-overlapping windows that cover the whole held-out tail."""
    return max(1, (len(trainer.val_ids) - 1) // trainer.model.context)


def train_charlm(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    args.epochs = 10 if args.epochs is None else args.epochs
    args.out = str(DEFAULT_WEIGHTS) if args.out is None else args.out
    if args.epochs < 1 or args.epoch_steps < 1 or args.batch < 1 or not args.lr > 0:
        print("--epochs, --epoch-steps and --batch must be at least 1 and --lr positive", file=sys.stderr)
        return 2
    steps = args.epochs * args.epoch_steps
    try:
        trainer = CharLMTrainer(
            model={"layers": args.layers, "heads": args.heads, "d_model": args.d_model, "d_ff": 4 * args.d_model,
                   "context": args.context, "seed": args.seed},
            train={"batch_size": args.batch, "learning_rate": args.lr, "warmup": args.warmup, "seed": args.seed,
                   "total_steps": steps, "eval_windows": 32})
    except EngineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    model = trainer.model
    windows = held_out_windows(trainer)
    print(f"Character model: {args.layers} blocks × {args.heads} heads, d_model {args.d_model}, context "
          f"{args.context}, {model.num_params:,} parameters, {len(model.vocab)} symbols; "
          f"{len(trainer.train_ids):,} training characters, {len(trainer.val_ids):,} held out", flush=True)
    started = time.monotonic()
    held_out: dict[str, Any] = {}
    with tqdm(total=steps, unit="step", dynamic_ncols=True) as bar:
        for epoch in range(1, args.epochs + 1):
            bar.set_description(f"epoch {epoch}/{args.epochs}")
            losses = []
            for _ in range(args.epoch_steps):
                try:
                    losses.append(trainer.step().loss)
                except EngineError as exc:
                    bar.close()
                    print(f"error: {exc}", file=sys.stderr)
                    return 1
                bar.update(1)
                bar.set_postfix(loss=f"{sum(losses[-50:]) / len(losses[-50:]):.4f}", lr=f"{trainer.learning_rate:.2g}")
            if not all(math.isfinite(v) for v in losses):
                bar.close()
                print("error: the training loss stopped being finite; try a lower --lr", file=sys.stderr)
                return 1
            val = trainer.evaluate(windows)
            trainer.record()
            held_out = {"loss": val, "bits_per_char": val / math.log(2)}
            bar.write(f"epoch {epoch:>3} (step {trainer.step_count:>6}): train loss {sum(losses) / len(losses):.4f}, "
                      f"validation loss {val:.4f} nats/char = {held_out['bits_per_char']:.3f} bits/char")
    seconds = time.monotonic() - started
    sample = "".join(s.char for s in model.generate("ROMEO.\n", 300, temperature=0.8, seed=0))
    model.meta = {
        "validation_loss": held_out["loss"], "bits_per_char": held_out["bits_per_char"],
        "validation_windows": windows, "validation_characters": windows * args.context, "steps": trainer.step_count,
        "batch_size": args.batch, "learning_rate": args.lr, "warmup": args.warmup, "seed": args.seed,
        "train_seconds": round(seconds, 1), "training_characters": len(trainer.train_ids),
        "held_out_characters": len(trainer.val_ids), "history": trainer.history, "command": command_line(args),
        "sample": sample,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    model.save(args.out)
    print(f"\nValidation loss {held_out['loss']:.4f} nats/char ({held_out['bits_per_char']:.3f} bits/char) on the "
          f"held-out tail ({windows} windows of {args.context}) after {trainer.step_count} steps in {seconds:.0f} s")
    print("Sample at temperature 0.8 after 'ROMEO.\\n':\n" + sample)
    print(f"Model written to {args.out} ({Path(args.out).stat().st_size / 1e6:.2f} MB)")
    return 0
