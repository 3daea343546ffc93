"""`glassbox train lenet`: train LeNet-5 on the shipped MNIST digits with the engine, save the weights.

glassbox train lenet [--epochs N] [--batch 64] [--lr 0.002] [--augment/--no-augment] [--seed 0] [--out PATH]
                     [--activation relu|tanh] [--pooling max|avg] [--mnist-idx FOLDER]
glassbox train autoencoder [--epochs 30] [--batch 64] [--lr 0.002] [--latent 2|3] [--hidden 256,64]
                           [--loss bce|mse] [--denoise 0] [--activation relu|tanh] [--seed 0] [--out PATH]
glassbox train catch [--steps 20000] [--seed 0] [--out PATH]   (the Q-network that plays catch; app/train_rl.py)
glassbox train charlm [--epochs 10] [--epoch-steps 250] [--batch 16] [--lr 0.002] [--layers 3] [--context 128] ...
                      (the character language model; app/charlm_cli.py)
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

import numpy as np

from engine.core.errors import EngineError
from engine.lenet.mnist import load_idx, load_mnist10k
from engine.lenet.model import ACTIVATION_CHOICES, POOLING_CHOICES, LeNet5
from engine.lenet.training import LeNetTraining

from .charlm_cli import add_charlm_args, train_charlm
from .cli import command
from .train_autoencoder import add_autoencoder_args, train_autoencoder
from .train_rl import add_catch_args, train_catch


def _args(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", choices=["lenet", "autoencoder", "catch", "charlm"],
                   help="what to train: LeNet-5 on MNIST digits, the digits' autoencoder (no labels), the "
                        "Q-network that plays catch, or the character language model on the shipped Shakespeare")
    p.add_argument("--epochs", type=int, default=None,
                   help="passes over the training digits (default 40 for lenet, 30 for autoencoder; for charlm, "
                        "10 rounds of --epoch-steps steps)")
    p.add_argument("--batch", type=int, default=None, help="mini-batch size (default 64; 16 windows for charlm)")
    p.add_argument("--lr", type=float, default=2e-3,
                   help="Adam's learning rate at the start; it decays along a cosine to 2%% of it (default 0.002)")
    p.add_argument("--augment", action=argparse.BooleanOptionalAction, default=True,
                   help="random small shifts, rotations and scalings of every batch (default on)")
    p.add_argument("--seed", type=int, default=0, help="seed of the weights, the batch order and the augmentation")
    p.add_argument("--activation", choices=ACTIVATION_CHOICES, default="relu")
    p.add_argument("--pooling", choices=POOLING_CHOICES, default="max")
    p.add_argument("--out", default=None,
                   help="where to write the weights (.npz; default lenet5.npz, autoencoder.npz, or for catch the "
                        "shipped engine/rl/weights/catch.npz)")
    p.add_argument("--mnist-idx", metavar="FOLDER",
                   help="train on the full MNIST IDX files in FOLDER instead of the shipped 10,000 digits")
    add_autoencoder_args(p)
    add_catch_args(p)
    add_charlm_args(p)


def format_confusion(counts: np.ndarray) -> str:
    """The confusion matrix as text: rows the true digit, columns the prediction."""
    width = max(4, len(str(int(counts.max()))) + 1)
    lines = ["true\\pred" + "".join(f"{d:>{width}}" for d in range(counts.shape[1]))]
    for digit, row in enumerate(counts):
        lines.append(f"{digit:>9}" + "".join(f"{int(c):>{width}}" for c in row))
    return "\n".join(lines)


def command_line(args: argparse.Namespace) -> str:
    """The full command that reproduces this run (every option spelled out)."""
    parts = ["glassbox", "train", "lenet", "--epochs", str(args.epochs), "--batch", str(args.batch), "--lr",
             f"{args.lr:g}", "--augment" if args.augment else "--no-augment", "--seed", str(args.seed),
             "--activation", args.activation, "--pooling", args.pooling, "--out", args.out]
    if args.mnist_idx:
        parts += ["--mnist-idx", args.mnist_idx]
    return " ".join(shlex.quote(p) for p in parts)


@command("train", _args)
def train(args: argparse.Namespace) -> int:
    if args.batch is None:
        args.batch = 16 if args.model == "charlm" else 64
    if args.model == "charlm":
        return train_charlm(args)
    if args.model == "autoencoder":
        return train_autoencoder(args)
    if args.model == "catch":
        return train_catch(args)
    args.epochs = 40 if args.epochs is None else args.epochs
    args.out = "lenet5.npz" if args.out is None else args.out
    from tqdm import tqdm

    if args.epochs < 1 or args.batch < 1 or not args.lr > 0:
        print("--epochs and --batch must be at least 1 and --lr positive", file=sys.stderr)
        return 2
    try:
        data = load_idx(args.mnist_idx) if args.mnist_idx else load_mnist10k()
        model = LeNet5(args.activation, args.pooling, seed=args.seed)
        run = LeNetTraining(model, data, learning_rate=args.lr, batch_size=args.batch, augment=args.augment,
                            seed=args.seed, epochs=args.epochs)
    except EngineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"LeNet-5 ({args.activation}, {args.pooling} pooling, {model.net.num_params:,} parameters) on "
          f"{len(run.x_train):,} training digits, testing on {len(run.x_test):,}; "
          f"augmentation {'on' if args.augment else 'off'}", flush=True)
    started = time.monotonic()
    steps = run.steps_per_epoch
    with tqdm(total=args.epochs * steps, unit="batch", dynamic_ncols=True) as bar:
        for epoch in range(1, args.epochs + 1):
            bar.set_description(f"epoch {epoch}/{args.epochs}")
            for _ in range(steps):
                try:
                    run.step()
                except EngineError as exc:
                    bar.close()
                    print(f"error: {exc}", file=sys.stderr)
                    return 1
                loss_sum, correct, seen = run.pending  # the batches since the last record: this epoch's
                bar.update(1)
                bar.set_postfix(loss=f"{loss_sum / seen:.4f}", acc=f"{correct / seen:.2%}",
                                lr=f"{run.learning_rate:.2g}")
            entry = run.record()  # the epoch ended: the record has the test metrics
            bar.write(f"epoch {epoch:>3}: train loss {entry['train_loss']:.4f}, train accuracy "
                      f"{entry['train_accuracy']:.2%}, test loss {entry['test_loss']:.4f}, test accuracy "
                      f"{entry['test_accuracy']:.2%}")
    final = run.evaluate()  # the weights have not changed since the last epoch's record
    seconds = time.monotonic() - started
    model.meta = {
        "test_accuracy": final["accuracy"], "test_loss": final["loss"], "epochs": args.epochs,
        "batch_size": args.batch, "learning_rate": args.lr, "augment": args.augment, "seed": args.seed,
        "steps": run.step_count, "training_digits": len(run.x_train), "test_digits": len(run.x_test),
        "train_seconds": round(seconds, 1),
        "command": command_line(args),
    }
    model.save(args.out)
    correct = int(np.trace(final["confusion"]))
    print(f"\nTest accuracy: {final['accuracy']:.2%} ({correct} of {len(run.y_test)} test digits) "
          f"after {args.epochs} epochs in {seconds:.0f} s")
    print("Confusion matrix (rows: true digit, columns: predicted):")
    print(format_confusion(final["confusion"]))
    print(f"Weights written to {Path(args.out)}")
    return 0
