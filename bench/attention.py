"""The transformer of the `reverse` preset: the Glassbox engine against PyTorch CPU.

    python bench/attention.py

Two measurements on the same architecture (encoder-decoder, 2 layers, 2 heads, d_model 32,
d_ff 64, post-norm, learned positions, length 8, vocabulary 10 + a start token):
  - one training step at batch 64 (forward, cross-entropy, backward, Adam with clipping);
  - one forward pass at batch 1 keeping the full attention trace (Q, K, V, every score stage,
    weights, head outputs), which is what the page asks for on every typed sequence.
PyTorch's model is written out explicitly with torch.nn modules, the same layers in the same order.
"""

from __future__ import annotations

import math
import os
import sys

# Same thread count on both sides (set before NumPy loads its BLAS).
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))

from _common import interleaved_median_times, print_table, try_import_torch  # noqa: E402

from engine.transformer.trainer import TransformerTrainer  # noqa: E402

BATCH = 64


def glassbox_cases():
    trainer = TransformerTrainer("reverse", train={"batch_size": BATCH})
    batch = trainer.training_batch()
    probe = trainer.task.sample(np.random.default_rng(5), 1)

    def step() -> None:
        trainer.step(batch)

    def forward_trace() -> None:
        trainer.model.forward(probe.inputs, probe.src)
        for _, _, attention in trainer.model.attention_layers():
            attention.trace()

    return trainer, batch, probe, step, forward_trace


def torch_cases(torch, trainer: TransformerTrainer, batch, probe):
    nn = torch.nn
    cfg = trainer.model.config
    d, heads, d_ff, max_len = cfg.d_model, cfg.heads, cfg.d_ff, cfg.max_len

    class Attention(nn.Module):
        def __init__(self, causal: bool) -> None:
            super().__init__()
            self.q, self.k, self.v, self.out = (nn.Linear(d, d), nn.Linear(d, d, bias=False), nn.Linear(d, d),
                                                nn.Linear(d, d))
            self.causal = causal
            self.trace: dict = {}

        def forward(self, x, context=None):
            src = x if context is None else context
            b, tq, _ = x.shape
            tk = src.shape[1]
            q = self.q(x).view(b, tq, heads, d // heads).transpose(1, 2)
            k = self.k(src).view(b, tk, heads, d // heads).transpose(1, 2)
            v = self.v(src).view(b, tk, heads, d // heads).transpose(1, 2)
            raw = q @ k.transpose(-1, -2)
            scaled = raw / math.sqrt(d // heads)
            masked = scaled
            if self.causal:
                masked = scaled.masked_fill(torch.ones(tq, tk, dtype=torch.bool).triu(1), float("-inf"))
            weights = masked.softmax(-1)
            head_out = weights @ v
            self.trace = {"q": q, "k": k, "v": v, "raw": raw, "scaled": scaled, "masked": masked,
                          "weights": weights, "head_out": head_out}
            return self.out(head_out.transpose(1, 2).reshape(b, tq, d))

    class FeedForward(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner, self.outer = nn.Linear(d, d_ff), nn.Linear(d_ff, d)

        def forward(self, x):
            return self.outer(torch.relu(self.inner(x)))

    class EncoderBlock(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.attn, self.ff = Attention(False), FeedForward()
            self.n1, self.n2 = nn.LayerNorm(d), nn.LayerNorm(d)

        def forward(self, x):
            x = self.n1(x + self.attn(x))
            return self.n2(x + self.ff(x))

    class DecoderBlock(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.attn, self.cross, self.ff = Attention(True), Attention(False), FeedForward()
            self.n1, self.n2, self.n3 = nn.LayerNorm(d), nn.LayerNorm(d), nn.LayerNorm(d)

        def forward(self, x, memory):
            x = self.n1(x + self.attn(x))
            x = self.n2(x + self.cross(x, memory))
            return self.n3(x + self.ff(x))

    class Model(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.src_embed = nn.Embedding(cfg.src_vocab, d)
            self.embed = nn.Embedding(cfg.tgt_vocab, d)
            # Learned positions, one table per stack, as the preset has.
            self.src_pos = nn.Parameter(torch.randn(max_len, d))
            self.pos = nn.Parameter(torch.randn(max_len, d))
            self.encoder = nn.ModuleList([EncoderBlock() for _ in range(cfg.layers)])
            self.decoder = nn.ModuleList([DecoderBlock() for _ in range(cfg.layers)])
            self.head = nn.Linear(d, cfg.out_vocab)

        def forward(self, tokens, src):
            memory = self.src_embed(src) * math.sqrt(d) + self.src_pos[: src.shape[1]]
            for block in self.encoder:
                memory = block(memory)
            x = self.embed(tokens) * math.sqrt(d) + self.pos[: tokens.shape[1]]
            for block in self.decoder:
                x = block(x, memory)
            return self.head(x)

    model = Model()
    assert sum(p.numel() for p in model.parameters()) == trainer.model.num_params, "the two models differ in size"
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    tokens, src = torch.from_numpy(batch.inputs), torch.from_numpy(batch.src)
    targets = torch.from_numpy(batch.targets)

    def step() -> None:
        opt.zero_grad()
        logits = model(tokens, src)
        nn.functional.cross_entropy(logits.reshape(-1, cfg.out_vocab), targets.reshape(-1)).backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()

    p_tokens, p_src = torch.from_numpy(probe.inputs), torch.from_numpy(probe.src)

    def forward_trace() -> None:
        with torch.no_grad():
            model(p_tokens, p_src)

    return step, forward_trace


def main() -> None:
    torch = try_import_torch()
    if torch is not None:
        torch.set_num_threads(1)
    trainer, batch, probe, ours_step, ours_forward = glassbox_cases()
    cases = [("training step, batch 64", ours_step), ("forward + full trace, batch 1", ours_forward)]
    theirs = torch_cases(torch, trainer, batch, probe) if torch is not None else None
    rows = []
    for i, (name, fn) in enumerate(cases):
        # Both sides take turns, so that a load spike on a shared machine hits them alike.
        fns = [fn] if theirs is None else [fn, theirs[i]]
        ours, *other = interleaved_median_times(fns, repeats=200)
        row = [name, f"{ours * 1e3:.3f}"]
        if other:
            row += [f"{other[0] * 1e3:.3f}", f"{ours / other[0]:.2f}×"]
        rows.append(row)
    headers = ["reverse preset (2 layers, 2 heads, d_model 32, length 8)", "Glassbox ms"]
    if theirs is not None:
        headers += [f"PyTorch {torch.__version__} ms", "ratio (Glassbox / PyTorch, < 1 is faster)"]
    print_table(headers, rows)


if __name__ == "__main__":
    main()
