"""Training steps per second of dense networks: the Glassbox engine against PyTorch CPU.

    python bench/dense.py

Shapes: a 2-8-8-1 tanh network at batch 10 (Playground-sized) and a 784-128-10 ReLU network at
batch 64 (MNIST-sized), float32, SGD, one forward + backward + update per step. Ours and PyTorch take turns in
interleaved rounds (a load spike hits both alike); the table shows medians and the spread (10th–90th
percentile of the single steps).
"""

from __future__ import annotations

import os
import sys

# Same thread count on both sides (set before NumPy loads its BLAS).
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))

import statistics  # noqa: E402

from _common import interleaved_samples, print_table, try_import_torch  # noqa: E402

from engine.dense.trainer import Trainer  # noqa: E402

CASES = [
    ("2-8-8-1 tanh, batch 10", [2, 8, 8, 1], "tanh", 10, "mse"),
    ("784-128-10 relu, batch 64", [784, 128, 10], "relu", 64, "softmax_cross_entropy"),
]


def glassbox_step(sizes: list[int], act: str, batch: int, loss: str):
    layers = [{"type": "dense", "units": n, "activation": act} for n in sizes[1:-1]]
    layers.append({"type": "dense", "units": sizes[-1], **({"activation": "tanh"} if loss == "mse" else {})})
    trainer = Trainer({"input_shape": [sizes[0]], "layers": layers, "loss": loss,
                       "optimizer": {"type": "sgd", "learning_rate": 0.01}})
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, sizes[0])).astype(np.float32)
    y = rng.uniform(-1, 1, batch) if loss == "mse" else rng.integers(0, sizes[-1], batch)
    return lambda: trainer.step(x, y)


def torch_step(torch, sizes: list[int], act: str, batch: int, loss: str):
    mods = []
    for a, b in zip(sizes[:-2], sizes[1:-1], strict=True):
        mods += [torch.nn.Linear(a, b), torch.nn.Tanh() if act == "tanh" else torch.nn.ReLU()]
    mods.append(torch.nn.Linear(sizes[-2], sizes[-1]))
    if loss == "mse":
        mods.append(torch.nn.Tanh())
    model = torch.nn.Sequential(*mods)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    x = torch.randn(batch, sizes[0])
    if loss == "mse":
        y = torch.rand(batch, 1) * 2 - 1
        criterion = lambda out: 0.5 * ((out - y) ** 2).sum(dim=1).mean()  # noqa: E731
    else:
        y = torch.randint(0, sizes[-1], (batch,))
        criterion = lambda out: torch.nn.functional.cross_entropy(out, y)  # noqa: E731

    def step() -> None:
        opt.zero_grad()
        criterion(model(x)).backward()
        opt.step()

    return step


def main() -> None:
    torch = try_import_torch()
    if torch is not None:
        torch.set_num_threads(1)
    rows = []
    for name, sizes, act, batch, loss in CASES:
        fns = [glassbox_step(sizes, act, batch, loss)]
        if torch is not None:
            fns.append(torch_step(torch, sizes, act, batch, loss))
        samples = interleaved_samples(fns, repeats=4000, rounds=20)
        ours = statistics.median(samples[0])
        row = [name, f"{1 / ours:,.0f}", spread(samples[0])]
        if torch is not None:
            theirs = statistics.median(samples[1])
            row += [f"{1 / theirs:,.0f}", spread(samples[1]), f"{ours / theirs:.2f}×"]
        else:
            row += ["—", "—", "—"]
        rows.append(row)
    print(f"Dense training steps (float32, SGD, 1 thread each; NumPy {np.__version__}"
          f"{'' if torch is None else ', PyTorch ' + torch.__version__})")
    load = os.getloadavg()[0]
    print(f"{os.cpu_count()} cores, load average {load:.1f}; µs/step: median (10th–90th percentile)")
    print_table(["network", "glassbox steps/s", "µs/step", "torch steps/s", "torch µs/step", "time ratio"], rows)


def spread(times: list[float]) -> str:
    q = statistics.quantiles(times, n=10)
    return f"{statistics.median(times) * 1e6:,.0f} ({q[0] * 1e6:,.0f}–{q[-1] * 1e6:,.0f})"


if __name__ == "__main__":
    main()
