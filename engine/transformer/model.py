"""Transformer models: encoder, decoder, encoder-decoder ("Attention is all you need") and decoder-only.

A block is attention (and, optionally, a feed-forward network), each wrapped in a residual
connection and a layer norm — after the sum as in the paper ("post", Add & Norm), before the
sublayer ("pre"), or not at all ("none", the attention-only models of the induction-head studies).
Blocks call their children forward and, in reverse, backward, like every composite in the engine.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np

from engine.core.dtypes import dtype_named
from engine.core.errors import EngineError
from engine.core.init import param_budget
from engine.core.layers import Dense, Layer, NamedParam, named_params
from engine.transformer.layers import (
    CrossAttention,
    Embedding,
    FeedForward,
    LayerNorm,
    LearnedPositionalEncoding,
    MultiHeadAttention,
    SinusoidalPositionalEncoding,
)

Architecture = Literal["encoder-decoder", "encoder", "decoder"]
NormPlacement = Literal["post", "pre", "none"]
ARCHITECTURES = ("encoder-decoder", "encoder", "decoder")
NORMS = ("post", "pre", "none")
POSITIONALS = ("sinusoidal", "learned")


class ParameterVector(Layer):
    """Every parameter of a model as one flat array, the layers' arrays being views into it.

    The optimiser then updates (and clips) one array with a handful of NumPy calls instead of
    ~8 calls per parameter: for a small transformer that is most of a training step's overhead.
    """

    type = "parameter_vector"

    def __init__(self, layers: list[Layer]) -> None:
        super().__init__()
        self.layers = layers
        arrays = [p for layer in layers for p in layer.params.values()]
        dtype = arrays[0].dtype if arrays else np.dtype(np.float32)
        flat = np.concatenate([p.ravel() for p in arrays]) if arrays else np.zeros(0, dtype)
        offset = 0
        for layer in layers:
            for name, p in list(layer.params.items()):
                layer.params[name] = flat[offset: offset + p.size].reshape(p.shape)
                offset += p.size
        self.params["all"] = flat
        self.grads["all"] = np.zeros_like(flat)

    def gather_grads(self) -> None:
        """Copy the layers' grads (set by their backward) into grads['all'], in the same order."""
        np.concatenate([layer.grads[name].ravel() for layer in self.layers for name in layer.params],
                       out=self.grads["all"])


class Residual:
    """x + sublayer(x) with the block's layer norm placed post, pre, or nowhere.

    The sublayer is called through `run(x)` / `back(d)`, which `CrossResidual` overrides for cross-attention's
    second input, so that one wrapper serves self-attention, cross-attention and the feed-forward network.
    """

    def __init__(self, sublayer: Layer, norm: LayerNorm | None, placement: NormPlacement) -> None:
        self.sublayer, self.norm, self.placement = sublayer, norm, placement

    def run(self, x: np.ndarray) -> np.ndarray:
        return self.sublayer.forward(x)

    def back(self, dout: np.ndarray) -> np.ndarray:
        return self.sublayer.backward(dout)

    def forward(self, x: np.ndarray) -> np.ndarray:
        if self.placement == "pre":
            assert self.norm is not None
            return x + self.run(self.norm.forward(x))
        total = x + self.run(x)
        if self.placement == "post":
            assert self.norm is not None
            return self.norm.forward(total)
        return total

    def backward(self, dout: np.ndarray) -> np.ndarray:
        if self.placement == "post":
            assert self.norm is not None
            dout = self.norm.backward(dout)
        dsub = self.back(dout)
        if self.placement == "pre":
            assert self.norm is not None
            dsub = self.norm.backward(dsub)
        return dout + dsub

    def layers(self) -> list[Layer]:
        """The layers holding parameters: a composite sublayer (the feed-forward network) lists its children."""
        children = getattr(self.sublayer, "children", None)
        own = list(children.values()) if children else [self.sublayer]
        return own + ([self.norm] if self.norm is not None else [])


class CrossResidual(Residual):
    """The residual around cross-attention: the attention also reads `memory` (the encoder's output, set before
    forward), and backward leaves the gradient of that memory in `memory_grad`."""

    def __init__(self, attention: CrossAttention, norm: LayerNorm | None, placement: NormPlacement) -> None:
        super().__init__(attention, norm, placement)
        self.attention = attention
        self.memory: np.ndarray | None = None
        self.memory_grad: np.ndarray | None = None

    def run(self, x: np.ndarray) -> np.ndarray:
        assert self.memory is not None, "cross-attention needs the encoder's output"
        return self.attention.forward(x, self.memory)

    def back(self, dout: np.ndarray) -> np.ndarray:
        dx, self.memory_grad = self.attention.backward(dout)
        return dx


class Block:
    """One layer of a stack: self-attention, then (decoder with an encoder) cross-attention, then feed-forward.

    `kind` says which stack it belongs to: "encoder" (attention sees every position),
    "decoder" (masked: each position sees itself and earlier ones).
    """

    def __init__(self, kind: Literal["encoder", "decoder"], d_model: int, heads: int, d_ff: int, *,
                 cross: bool, ffn: bool, norm: NormPlacement, rng: np.random.Generator, dtype: np.dtype) -> None:
        def add_norm() -> LayerNorm | None:
            return None if norm == "none" else LayerNorm(d_model, dtype=dtype)

        self.kind = kind
        self.self_attention = MultiHeadAttention(d_model, heads, causal=kind == "decoder", rng=rng, dtype=dtype)
        self.cross_attention = CrossAttention(d_model, heads, rng=rng, dtype=dtype) if cross else None
        self.feed_forward = FeedForward(d_model, d_ff, rng=rng, dtype=dtype) if ffn else None
        self.parts = [Residual(self.self_attention, add_norm(), norm)]
        self.cross_part: CrossResidual | None = None
        if self.cross_attention is not None:
            self.cross_part = CrossResidual(self.cross_attention, add_norm(), norm)
            self.parts.append(self.cross_part)
        if self.feed_forward is not None:
            self.parts.append(Residual(self.feed_forward, add_norm(), norm))

    def forward(self, x: np.ndarray, memory: np.ndarray | None = None) -> np.ndarray:
        if self.cross_part is not None:
            self.cross_part.memory = memory
        for part in self.parts:
            x = part.forward(x)
        return x

    def backward(self, dout: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Returns d(input) and, with cross-attention, d(encoder output)."""
        for part in reversed(self.parts):
            dout = part.backward(dout)
        return dout, None if self.cross_part is None else self.cross_part.memory_grad

    def layers(self) -> list[Layer]:
        return [layer for part in self.parts for layer in part.layers()]


@dataclass
class TransformerConfig:
    """Sizes and shape of a model. Vocabulary sizes count every token id the model reads or writes."""

    arch: Architecture = "encoder-decoder"
    src_vocab: int = 10
    tgt_vocab: int = 11
    out_vocab: int = 10
    max_len: int = 16
    d_model: int = 32
    heads: int = 2
    layers: int = 2
    d_ff: int = 64
    positional: Literal["sinusoidal", "learned"] = "sinusoidal"
    norm: NormPlacement = "post"
    ffn: bool = True
    seed: int = 0
    dtype: str = "float32"
    extra: dict[str, Any] = field(default_factory=dict)

    def check(self) -> None:
        if self.arch not in ARCHITECTURES:
            raise EngineError(f"arch must be one of {list(ARCHITECTURES)}, got '{self.arch}'")
        if self.norm not in NORMS:
            raise EngineError(f"norm must be one of {list(NORMS)}, got '{self.norm}'")
        if self.positional not in POSITIONALS:
            raise EngineError(f"positional must be one of {list(POSITIONALS)}, got '{self.positional}'")
        dtype_named(self.dtype)
        for name in ("src_vocab", "tgt_vocab", "out_vocab", "max_len", "d_model", "heads", "layers", "d_ff"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise EngineError(f"{name} must be a whole number >= 1, got {value!r}")
        if self.d_model % self.heads:
            raise EngineError(f"d_model ({self.d_model}) must be a multiple of heads ({self.heads})")


class Transformer:
    """Token ids in, logits (batch, time, out_vocab) out.

    encoder-decoder: `forward(tokens, src)`; the encoder reads `src`, the decoder reads `tokens`
    (shifted right: a start token, then the answer so far) and attends to the encoder's output.
    encoder: `forward(tokens)` through unmasked blocks. decoder: `forward(tokens)` through masked blocks.
    """

    def __init__(self, config: TransformerConfig, max_params: int | None = None) -> None:
        config.check()
        self.config = config
        self.dtype = dtype_named(config.dtype)
        rng = np.random.default_rng(config.seed)
        c, dt = config, self.dtype

        def positional() -> Layer:
            if c.positional == "learned":
                return LearnedPositionalEncoding(c.max_len, c.d_model, rng=rng, dtype=dt)
            return SinusoidalPositionalEncoding(c.max_len, c.d_model, dtype=dt)

        def stack(kind: Literal["encoder", "decoder"], cross: bool) -> list[Block]:
            return [Block(kind, c.d_model, c.heads, c.d_ff, cross=cross, ffn=c.ffn, norm=c.norm, rng=rng, dtype=dt)
                    for _ in range(c.layers)]

        with param_budget(max_params):
            self.encoder: list[Block] = []
            self.decoder: list[Block] = []
            self.src_embed = self.src_pos = None
            if c.arch == "encoder-decoder":
                self.src_embed = Embedding(c.src_vocab, c.d_model, rng=rng, dtype=dt)
                self.src_pos = positional()
                self.encoder = stack("encoder", cross=False)
                self.decoder = stack("decoder", cross=True)
            elif c.arch == "encoder":
                self.encoder = stack("encoder", cross=False)
            else:
                self.decoder = stack("decoder", cross=False)
            self.embed = Embedding(c.tgt_vocab, c.d_model, rng=rng, dtype=dt)
            self.pos = positional()
            # Pre-norm stacks end with a norm so that the head sees normalised vectors, as GPT-2 does.
            self.final_norm = LayerNorm(c.d_model, dtype=dt) if c.norm == "pre" else None
            self.enc_final_norm = (LayerNorm(c.d_model, dtype=dt)
                                   if c.norm == "pre" and c.arch == "encoder-decoder" else None)
            self.head = Dense(c.d_model, c.out_vocab, init="xavier", rng=rng, dtype=dt)
        self.main_stack = self.decoder if c.arch in ("encoder-decoder", "decoder") else self.encoder
        self.vector = ParameterVector(self.layers())
        for block in self.encoder + self.decoder:
            if block.feed_forward is not None:
                block.feed_forward.relink()

    # --- forward / backward ---------------------------------------------------

    def encode(self, src: np.ndarray) -> np.ndarray:
        """The encoder's output for `src` (encoder-decoder models); decoding reuses it for every step."""
        if self.src_embed is None or self.src_pos is None:
            raise EngineError("only an encoder-decoder model encodes a separate source sequence")
        src = np.asarray(src)
        if src.ndim != 2:
            raise EngineError(f"src must be (batch, time), got shape {list(src.shape)}")
        memory = self.src_pos.forward(self.src_embed.forward(src))
        for block in self.encoder:
            memory = block.forward(memory)
        if self.enc_final_norm is not None:
            memory = self.enc_final_norm.forward(memory)
        return memory

    def forward(self, tokens: np.ndarray, src: np.ndarray | None = None,
                memory: np.ndarray | None = None) -> np.ndarray:
        """Logits for every position. Encoder-decoder models take `src`, or `memory` = encode(src) already run."""
        tokens = np.asarray(tokens)
        if tokens.ndim != 2:
            raise EngineError(f"tokens must be (batch, time), got shape {list(tokens.shape)}")
        if self.config.arch == "encoder-decoder":
            if memory is None:
                if src is None:
                    raise EngineError("an encoder-decoder model needs the source sequence")
                memory = self.encode(src)
            if memory.shape[0] != tokens.shape[0]:
                raise EngineError(f"the source has {memory.shape[0]} sequences, the target {tokens.shape[0]}")
        else:
            memory = None
        x = self.pos.forward(self.embed.forward(tokens))
        for block in self.main_stack:
            x = block.forward(x, memory)
        if self.final_norm is not None:
            x = self.final_norm.forward(x)
        batch, length, d = x.shape
        return self.head.forward(x.reshape(batch * length, d)).reshape(batch, length, -1)

    def backward(self, dlogits: np.ndarray) -> None:
        """Fill every layer's grads from dL/d(logits) (batch, time, out_vocab)."""
        batch, length, vocab = dlogits.shape
        dx = self.head.backward(dlogits.reshape(batch * length, vocab)).reshape(batch, length, -1)
        if self.final_norm is not None:
            dx = self.final_norm.backward(dx)
        dmemory = None
        for block in reversed(self.main_stack):
            dx, dm = block.backward(dx)
            if dm is not None:
                dmemory = dm if dmemory is None else dmemory + dm
        self.embed.backward(self.pos.backward(dx))
        if self.config.arch == "encoder-decoder":
            assert dmemory is not None and self.src_embed is not None and self.src_pos is not None
            if self.enc_final_norm is not None:
                dmemory = self.enc_final_norm.backward(dmemory)
            for block in reversed(self.encoder):
                dmemory, _ = block.backward(dmemory)
            self.src_embed.backward(self.src_pos.backward(dmemory))

    # --- parameters -----------------------------------------------------------

    def layers(self) -> list[Layer]:
        """Every layer with parameters, in a fixed order (the optimiser keys its state by position)."""
        out: list[Layer] = []
        if self.src_embed is not None and self.src_pos is not None:
            out += [self.src_embed, self.src_pos]
        for block in self.encoder:
            out += block.layers()
        if self.enc_final_norm is not None:
            out.append(self.enc_final_norm)
        out += [self.embed, self.pos]
        for block in self.decoder:
            out += block.layers()
        if self.final_norm is not None:
            out.append(self.final_norm)
        out.append(self.head)
        return [layer for layer in out if layer.params]

    def step(self, optimizer: Any, lr_scale: float = 1.0) -> None:
        """Apply one optimiser update from the grads of the last backward."""
        self.vector.gather_grads()
        optimizer.step([self.vector], lr_scale=lr_scale)

    def named_params(self) -> list[NamedParam]:
        """Every parameter, indexed by position in `layers()`, as for a Sequential network."""
        return named_params(self.layers())

    @property
    def num_params(self) -> int:
        return sum(layer.num_params for layer in self.layers())

    # --- attention maps -------------------------------------------------------

    def attention_layers(self) -> list[tuple[str, int, MultiHeadAttention]]:
        """(kind, layer index, module) for every attention: kind is encoder, decoder or cross.

        Single-stack models use the kind "self" so that their heads are named plainly.
        """
        single = self.config.arch != "encoder-decoder"
        out: list[tuple[str, int, MultiHeadAttention]] = []
        for i, block in enumerate(self.encoder):
            out.append(("self" if single else "encoder", i, block.self_attention))
        for i, block in enumerate(self.decoder):
            out.append(("self" if single else "decoder", i, block.self_attention))
            if block.cross_attention is not None:
                out.append(("cross", i, block.cross_attention))
        return out

    def describe(self) -> dict[str, Any]:
        return {**{k: v for k, v in asdict(self.config).items() if k != "extra"}, "num_params": self.num_params}
