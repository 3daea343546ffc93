"""`glassbox train autoencoder`: train the digits' autoencoder with the engine (no labels), compare it with PCA on
the 2,000 test digits, and save the weights the /autoencoder page starts from.

glassbox train autoencoder [--epochs 30] [--batch 64] [--lr 0.002] [--latent 2|3] [--hidden 256,64]
                           [--loss bce|mse] [--denoise 0] [--activation relu|tanh] [--seed 0] [--out PATH]

The shipped engine/autoencoder/weights/autoencoder.npz was written by the defaults with
`--out engine/autoencoder/weights/autoencoder.npz` (about 30 s on one core).
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

from engine.autoencoder.data import DigitData, reconstruction_mse
from engine.autoencoder.model import LOSS_CHOICES, Autoencoder, AutoencoderConfig
from engine.autoencoder.pca import PCA
from engine.autoencoder.trainer import AutoencoderTrainer
from engine.core.errors import EngineError

DEFAULT_EPOCHS = 30
MAX_FILE_BYTES = 2 * 1024 * 1024


def add_autoencoder_args(p: argparse.ArgumentParser) -> None:
    group = p.add_argument_group("autoencoder only")
    group.add_argument("--latent", type=int, choices=[2, 3], default=2, help="width of the code (default 2)")
    group.add_argument("--hidden", default="256,64",
                       help="encoder layer widths, comma-separated; the decoder mirrors them (default 256,64)")
    group.add_argument("--loss", choices=LOSS_CHOICES, default="bce",
                       help="bce: binary cross-entropy per pixel; mse: squared error (default bce)")
    group.add_argument("--denoise", type=float, default=0.0,
                       help="share of each input's pixels dropped at random, the clean digit the target (default 0)")


def command_line(args: argparse.Namespace) -> str:
    parts = ["glassbox", "train", "autoencoder", "--epochs", str(args.epochs), "--batch", str(args.batch), "--lr",
             f"{args.lr:g}", "--latent", str(args.latent), "--hidden", args.hidden, "--loss", args.loss,
             "--denoise", f"{args.denoise:g}", "--activation", args.activation, "--seed", str(args.seed),
             "--out", args.out]
    return " ".join(shlex.quote(p) for p in parts)


def train_autoencoder(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    args.epochs = DEFAULT_EPOCHS if args.epochs is None else args.epochs
    args.out = "autoencoder.npz" if args.out is None else args.out
    if args.mnist_idx:
        print("--mnist-idx is for lenet; the autoencoder trains on the shipped 10,000 digits", file=sys.stderr)
        return 2
    if args.epochs < 1 or args.batch < 1 or not args.lr > 0:
        print("--epochs and --batch must be at least 1 and --lr positive", file=sys.stderr)
        return 2
    try:
        hidden = tuple(int(h) for h in args.hidden.split(","))
        config = AutoencoderConfig(hidden=hidden, latent=args.latent, activation=args.activation, loss=args.loss,
                                   seed=args.seed)
        data = DigitData.load()
        run = AutoencoderTrainer(config, data, learning_rate=args.lr, batch_size=args.batch, denoise=args.denoise,
                                 schedule_epochs=args.epochs)
    except (EngineError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"Autoencoder {' → '.join(map(str, config.sizes))} ({run.model.net.num_params:,} parameters, {args.loss}) on "
          f"{len(data.x_train):,} training digits without labels; testing on {len(data.x_test):,}", flush=True)
    started = time.monotonic()
    with tqdm(total=args.epochs, unit="epoch", dynamic_ncols=True) as bar:
        for epoch in range(1, args.epochs + 1):
            try:
                (record,) = run.train(run.steps_per_epoch)
            except EngineError as exc:
                bar.close()
                print(f"error: {exc}", file=sys.stderr)
                return 1
            bar.update(1)
            bar.write(f"epoch {epoch:>3}: train loss {record['train_loss']:.4f}, test loss {record['test_loss']:.4f}, "
                      f"test squared error per pixel {record['extra']['test_mse']:.4f}")
    seconds = time.monotonic() - started
    # Scored as shipped: the weights rounded to their storage type, read back.
    run.model.save(args.out)
    model = Autoencoder.load(args.out)
    ours = model.evaluate(data.x_test)
    pca = PCA.fit(data.x_train, config.latent)
    pca_mse = reconstruction_mse(data.x_test, pca.reconstruct(data.x_test))
    model.meta = {
        "epochs": args.epochs, "batch_size": args.batch, "learning_rate": args.lr, "denoise": args.denoise,
        "steps": run.step_count, "test_loss": ours["loss"], "test_mse": ours["mse"], "pca_test_mse": pca_mse,
        "training_digits": len(data.x_train), "test_digits": len(data.x_test), "train_seconds": round(seconds, 1),
        "command": command_line(args),
    }
    size = model.save(args.out)
    print(f"\nTest reconstruction error (mean squared error per pixel) on {len(data.x_test):,} digits:")
    print(f"  autoencoder ({config.latent}-D code, float16 weights): {ours['mse']:.5f}")
    print(f"  PCA ({config.latent} components):                     {pca_mse:.5f}")
    print(f"Trained in {seconds:.0f} s; weights ({size / 1024:.0f} KiB, float16) written to {Path(args.out)}")
    if size > MAX_FILE_BYTES:
        print("warning: the file is over 2 MB, too large to ship with the code", file=sys.stderr)
    return 0
