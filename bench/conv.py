"""Benchmark: Glassbox Conv2D / pooling against PyTorch CPU on LeNet's shapes.

Run from the repository root:  python bench/conv.py [--threads 1] [--repeats 200]

Needs PyTorch (benchmark-only extra, never a runtime dependency):
    pip install torch==2.13.0
Both libraries get the same thread count: OpenBLAS (NumPy's matrix products)
through OPENBLAS_NUM_THREADS, set before NumPy is imported, and PyTorch through
torch.set_num_threads. Times are medians over interleaved rounds, float32,
batch 64. "backward" is dL/dx, dL/dweight and dL/dbias from a cached forward
(PyTorch: autograd.grad on a retained graph). Target: ours/torch <= 1.5 for Conv2D.

Threads: the default, 1, compares the implementations like for like (NumPy
code is single-threaded apart from BLAS, and a 2-core server shares its cores
between sessions). With 2 threads PyTorch's direct convolution splits every
call across both cores, while our per-block matrix products are too small for
OpenBLAS to split (they take the same time with 1 and 2 threads) and NumPy's
copies are single-threaded, so our times barely change and the ratios roughly
double.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=1, help="threads for both NumPy's BLAS and PyTorch")
    parser.add_argument("--repeats", type=int, default=200, help="timed calls per case")
    parser.add_argument("--batch", type=int, default=64)
    return parser.parse_args()


ARGS = parse_args()
for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(ARGS.threads)
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import interleaved_median_times, print_table  # noqa: E402

from engine.cnn.conv import Conv2D  # noqa: E402
from engine.cnn.pool import AvgPool2D, MaxPool2D  # noqa: E402

try:
    import torch
    import torch.nn.functional as F  # noqa: N812
except ImportError:  # pragma: no cover - depends on the machine
    sys.exit("PyTorch is needed for the reference timings: pip install torch==2.13.0")

TARGET = 1.5


def milliseconds(fns: list[Callable[[], object]], repeats: int) -> list[float]:
    return [t * 1e3 for t in interleaved_median_times(fns, repeats)]


def conv_case(batch: int, c_in: int, c_out: int, size: int, k: int, pad: int, repeats: int,
              first: bool = False) -> list[tuple]:
    """`first`: the network's first layer, whose input is the images: training asks both sides for the
    weights' and bias's gradients only (ours `backward_params`, PyTorch's autograd without the input)."""
    rng = np.random.default_rng(0)
    layer = Conv2D(c_in, c_out, k, padding=pad, rng=rng, dtype=np.float32)
    layer.params["bias"][...] = rng.standard_normal(c_out).astype(np.float32)
    x = rng.standard_normal((batch, c_in, size, size), dtype=np.float32)
    out = layer.forward(x)
    dout = rng.standard_normal(out.shape, dtype=np.float32)
    dx = layer.backward(dout)

    tx = torch.from_numpy(x.copy()).requires_grad_()
    tw = torch.from_numpy(layer.params["weight"].copy()).requires_grad_()
    tb = torch.from_numpy(layer.params["bias"].copy()).requires_grad_()
    ty = F.conv2d(tx, tw, tb, padding=pad)
    tg = torch.from_numpy(dout)
    tdx, tdw, _ = torch.autograd.grad(ty, (tx, tw, tb), tg, retain_graph=True)
    error = max(
        np.abs(out - ty.detach().numpy()).max(), np.abs(dx - tdx.numpy()).max(),
        np.abs(layer.grads["weight"] - tdw.numpy()).max() / max(1.0, np.abs(tdw.numpy()).max()),
    )

    if first:
        tx_in = torch.from_numpy(x.copy())
        ty_params = F.conv2d(tx_in, tw, tb, padding=pad)
        ours_b_fn = lambda: layer.backward_params(dout)  # noqa: E731
        torch_b_fn = lambda: torch.autograd.grad(ty_params, (tw, tb), tg, retain_graph=True)  # noqa: E731
    else:
        ours_b_fn = lambda: layer.backward(dout)  # noqa: E731
        torch_b_fn = lambda: torch.autograd.grad(ty, (tx, tw, tb), tg, retain_graph=True)  # noqa: E731
    ours_f, torch_f, ours_b, torch_b = milliseconds(
        [lambda: layer.forward(x), lambda: F.conv2d(tx, tw, tb, padding=pad), ours_b_fn, torch_b_fn], repeats)
    layer.forward(x)  # leave the cache consistent with the last forward
    name = f"Conv2D {c_in}->{c_out} {k}x{k} on {size}x{size} pad {pad}{' (weights only)' if first else ''}"
    return [(name, "forward", ours_f, torch_f, error), (name, "backward", ours_b, torch_b, error)]


def pool_case(batch: int, channels: int, size: int, kind: str, repeats: int) -> list[tuple]:
    rng = np.random.default_rng(1)
    layer = MaxPool2D(2) if kind == "max" else AvgPool2D(2)
    if kind == "max":
        layer.keep_argmax = True  # as in training: forward keeps where the maxima are, as PyTorch's does
    torch_pool = F.max_pool2d if kind == "max" else F.avg_pool2d
    x = rng.standard_normal((batch, channels, size, size), dtype=np.float32)
    out = layer.forward(x)
    dout = rng.standard_normal(out.shape, dtype=np.float32)
    dx = layer.backward(dout)
    tx = torch.from_numpy(x.copy()).requires_grad_()
    ty = torch_pool(tx, 2)
    tg = torch.from_numpy(dout)
    (tdx,) = torch.autograd.grad(ty, (tx,), tg, retain_graph=True)
    error = max(np.abs(out - ty.detach().numpy()).max(), np.abs(dx - tdx.numpy()).max())
    ours_f, torch_f, ours_b, torch_b = milliseconds(
        [
            lambda: layer.forward(x),
            lambda: torch_pool(tx, 2),
            lambda: layer.backward(dout),
            lambda: torch.autograd.grad(ty, (tx,), tg, retain_graph=True),
        ],
        repeats,
    )
    name = f"{'MaxPool2D' if kind == 'max' else 'AvgPool2D'} 2x2 on {channels}x{size}x{size}"
    return [(name, "forward", ours_f, torch_f, error), (name, "backward", ours_b, torch_b, error)]


def main() -> None:
    torch.set_num_threads(ARGS.threads)
    b, r = ARGS.batch, ARGS.repeats
    print(f"threads: {ARGS.threads} (NumPy/OpenBLAS and PyTorch), batch {b}, float32, "
          f"median of {r} calls; numpy {np.__version__}, torch {torch.__version__}")
    rows = []
    rows += conv_case(b, 1, 6, 28, 5, 2, r, first=True)
    rows += conv_case(b, 6, 16, 14, 5, 0, r)
    rows += pool_case(b, 6, 28, "max", r)
    rows += pool_case(b, 16, 10, "max", r)
    rows += pool_case(b, 6, 28, "avg", r)
    rows += pool_case(b, 16, 10, "avg", r)
    table = []
    for name, direction, ours, ref, err in rows:
        ratio = ours / ref
        targeted = name.startswith("Conv2D") or (name.startswith("MaxPool2D") and direction == "backward")
        verdict = ("ok" if ratio <= TARGET else "MISSED") if targeted else "-"
        table.append([name, direction, f"{ours:.3f}", f"{ref:.3f}", f"{ratio:.2f}", f"{err:.1e}", verdict])
    print_table(["case", "pass", "glassbox ms", "torch ms", "ratio", "max |diff|", "target"], table)


if __name__ == "__main__":
    main()
