"""The character language model: the Glassbox engine against PyTorch CPU, one thread each.

    python bench/charlm.py                     # latency, generation speed, training step
    python bench/charlm.py --train-torch       # also train the same architecture in PyTorch for as many steps as
                                               # the shipped model, on the same batches with the same schedule, and
                                               # compare held-out losses (minutes)

Measured on the shipped model (engine/charlm/weights/charlm.npz) and on the same architecture in PyTorch, written
out with torch.nn modules, the same layers in the same order (pre-norm decoder blocks, learned positions, the
embedding scaled by √d_model, no key bias, a final layer norm):
  - next-character prediction for a full context (one forward pass of `context` characters, batch 1);
  - generation: characters written per second (each one a full forward pass over the last `context` characters);
  - one training step (forward, cross-entropy over every position, backward, Adam with gradient clipping) at the
    batch size the shipped model was trained with.
Both sides take turns round by round (a load spike on this shared machine hits both alike); the table prints
medians with the 10th–90th percentile spread.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))

from _common import interleaved_samples, median_and_spread, print_table, try_import_torch  # noqa: E402

from engine.charlm.corpus import load_corpus  # noqa: E402
from engine.charlm.model import CharLM  # noqa: E402
from engine.charlm.trainer import CharLMTrainer  # noqa: E402


def torch_model(torch: Any, model: CharLM) -> Any:
    nn = torch.nn
    c = model.config
    d, heads, vocab = c.d_model, c.heads, len(model.vocab)

    class Attention(nn.Module):  # type: ignore[name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.q, self.k, self.v, self.out = (nn.Linear(d, d), nn.Linear(d, d, bias=False), nn.Linear(d, d),
                                                nn.Linear(d, d))

        def forward(self, x):
            b, t, _ = x.shape
            q = self.q(x).view(b, t, heads, d // heads).transpose(1, 2)
            k = self.k(x).view(b, t, heads, d // heads).transpose(1, 2)
            v = self.v(x).view(b, t, heads, d // heads).transpose(1, 2)
            scores = (q @ k.transpose(-1, -2)) / math.sqrt(d // heads)
            scores = scores.masked_fill(torch.ones(t, t, dtype=torch.bool).triu(1), float("-inf"))
            return self.out((scores.softmax(-1) @ v).transpose(1, 2).reshape(b, t, d))

    class Block(nn.Module):  # type: ignore[name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.n1, self.attn, self.n2 = nn.LayerNorm(d), Attention(), nn.LayerNorm(d)
            self.ff = nn.Sequential(nn.Linear(d, c.d_ff), nn.ReLU(), nn.Linear(c.d_ff, d))

        def forward(self, x):
            x = x + self.attn(self.n1(x))
            return x + self.ff(self.n2(x))

    class Model(nn.Module):  # type: ignore[name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Embedding(vocab, d)
            nn.init.normal_(self.embed.weight, std=d**-0.5)
            self.pos = nn.Parameter(torch.randn(c.context, d))
            self.blocks = nn.ModuleList([Block() for _ in range(c.layers)])
            self.norm = nn.LayerNorm(d)
            self.head = nn.Linear(d, vocab)

        def forward(self, tokens):
            x = self.embed(tokens) * math.sqrt(d) + self.pos[: tokens.shape[1]]
            for block in self.blocks:
                x = block(x)
            return self.head(self.norm(x))

    torch.manual_seed(0)
    net = Model()
    assert sum(p.numel() for p in net.parameters()) == model.num_params, "the two models differ in size"
    return net


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--train-torch", type=int, metavar="STEPS", nargs="?", const=-1, default=0,
                        help="also train the PyTorch model (for as many steps as the shipped model, or STEPS) and "
                             "compare held-out losses")
    parser.add_argument("--repeats", type=int, default=100, help="timed calls per case and side (default 100)")
    args = parser.parse_args()
    torch = try_import_torch()
    if torch is not None:
        torch.set_num_threads(1)

    model = CharLM.load()
    meta, c = model.meta, model.config
    batch_size = int(meta.get("batch_size", 16))
    text = load_corpus().text
    context_text = text[-c.context:]
    trainer = CharLMTrainer(model={"layers": c.layers, "heads": c.heads, "d_model": c.d_model, "d_ff": c.d_ff,
                                   "context": c.context, "seed": 0},
                            train={"batch_size": batch_size, "clip_norm": 1.0, "warmup": 0})
    inputs, targets = trainer.batch(np.random.default_rng(5))

    def ours_predict() -> None:
        model.reshape(model.read(context_text).logits[-1], 0.8)

    def ours_step() -> None:
        value, dlogits = trainer.loss_and_grad(inputs, targets)
        trainer.model.net.backward(dlogits)
        trainer.model.net.step(trainer.optimizer)

    cases: list[tuple[str, Callable[[], object]]] = [
        ("next-character prediction, full context", ours_predict),
        (f"training step, batch {batch_size}", ours_step)]
    theirs: list[Callable[[], object]] = []
    if torch is not None:
        net = torch_model(torch, model)
        opt = torch.optim.Adam(net.parameters(), lr=1e-3)
        t_inputs, t_targets = torch.from_numpy(inputs), torch.from_numpy(targets)
        t_context = torch.from_numpy(model.vocab.encode(context_text)[None, :])
        vocab = len(model.vocab)

        def torch_predict() -> None:
            with torch.no_grad():
                (net(t_context)[0, -1] / 0.8).softmax(-1)

        def torch_step() -> None:
            opt.zero_grad()
            logits = net(t_inputs)
            torch.nn.functional.cross_entropy(logits.reshape(-1, vocab), t_targets.reshape(-1)).backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()

        theirs = [torch_predict, torch_step]

    rows = []
    for i, (name, fn) in enumerate(cases):
        fns = [fn] + ([theirs[i]] if theirs else [])
        samples = interleaved_samples(fns, repeats=args.repeats if i == 0 else max(10, args.repeats // 4))
        row = [name, median_and_spread(samples[0])]
        if theirs:
            ratio = statistics.median(samples[0]) / statistics.median(samples[1])
            row += [median_and_spread(samples[1]), f"{ratio:.2f}×"]
        rows.append(row)

    # Generation: whole requests of 200 characters, alternating sides.
    gen_ours, gen_theirs = [], []
    for round_ in range(3):
        start = time.perf_counter()
        for _ in model.generate("ROMEO.\n", 200, temperature=0.8, seed=round_):
            pass
        gen_ours.append(200 / (time.perf_counter() - start))
        if torch is not None:
            gen = torch.Generator().manual_seed(round_)
            ids = list(model.vocab.encode("ROMEO.\n"))
            start = time.perf_counter()
            with torch.no_grad():
                for _ in range(200):
                    logits = net(torch.tensor([ids[-c.context:]]))[0, -1]
                    ids.append(int(torch.multinomial((logits / 0.8).softmax(-1), 1, generator=gen)))
            gen_theirs.append(200 / (time.perf_counter() - start))
    row = ["generation, characters per second (200 per request)",
           f"{statistics.median(gen_ours):.0f} ({min(gen_ours):.0f}–{max(gen_ours):.0f})"]
    if gen_theirs:
        row += [f"{statistics.median(gen_theirs):.0f} ({min(gen_theirs):.0f}–{max(gen_theirs):.0f})",
                f"{statistics.median(gen_ours) / statistics.median(gen_theirs):.2f}×"]
    rows.append(row)

    headers = [f"character model ({c.layers} blocks × {c.heads} heads, d_model {c.d_model}, context {c.context})",
               "Glassbox ms (p10–p90)"]
    if theirs:
        headers += [f"PyTorch {torch.__version__} ms (p10–p90)", "Glassbox / PyTorch"]
    print_table(headers, rows)
    print("(generation row: characters per second, not ms; for it, above 1× means Glassbox is faster)")

    if args.train_torch and torch is not None:
        steps = int(meta.get("steps", 0)) if args.train_torch < 0 else args.train_torch
        compare_training(torch, model, steps, batch_size)


def compare_training(torch: Any, model: CharLM, steps: int, batch_size: int) -> None:
    """Train the PyTorch twin on the same batches with the same schedule; print both held-out losses."""
    meta, c = model.meta, model.config
    trainer = CharLMTrainer(model={"layers": c.layers, "heads": c.heads, "d_model": c.d_model, "d_ff": c.d_ff,
                                   "context": c.context, "seed": int(meta.get("seed", 0))},
                            train={"batch_size": batch_size, "learning_rate": float(meta.get("learning_rate", 2e-3)),
                                   "warmup": int(meta.get("warmup", 100)), "seed": int(meta.get("seed", 0)),
                                   "total_steps": steps})
    net = torch_model(torch, model)
    opt = torch.optim.Adam(net.parameters(), lr=trainer.optimizer.learning_rate)
    vocab = len(model.vocab)
    started = time.monotonic()
    for step in range(1, steps + 1):
        inputs, targets = trainer.batch()  # the same random windows the engine's run drew
        for group in opt.param_groups:
            group["lr"] = trainer.optimizer.learning_rate * trainer.lr_scale(step)
        opt.zero_grad()
        logits = net(torch.from_numpy(inputs))
        torch.nn.functional.cross_entropy(logits.reshape(-1, vocab), torch.from_numpy(targets).reshape(-1)).backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        if step % 500 == 0:
            print(f"  PyTorch step {step}/{steps}", flush=True)
    inputs, targets = trainer.eval_windows(int(meta.get("validation_windows", 100)))
    with torch.no_grad():
        total = 0.0
        for i in range(0, len(inputs), 64):
            logits = net(torch.from_numpy(inputs[i: i + 64]))
            total += float(torch.nn.functional.cross_entropy(logits.reshape(-1, vocab),
                                                             torch.from_numpy(targets[i: i + 64]).reshape(-1),
                                                             reduction="sum"))
    torch_loss = total / targets.size
    ours = float(meta["validation_loss"])
    print(f"\nheld-out loss after {steps} steps ({time.monotonic() - started:.0f} s of PyTorch training):")
    print_table(["model", "nats/char", "bits/char"], [
        ["Glassbox (shipped, `glassbox train charlm`)", f"{ours:.4f}", f"{ours / math.log(2):.3f}"],
        [f"PyTorch {torch.__version__}, same architecture, batches and schedule", f"{torch_loss:.4f}",
         f"{torch_loss / math.log(2):.3f}"],
        ["ratio Glassbox / PyTorch (target ≤ 1.25)", f"{ours / torch_loss:.3f}", ""]])


if __name__ == "__main__":
    main()
