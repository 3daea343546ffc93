"""A character-level language model: a decoder-only (causal) transformer built from the engine's layers.

`CharLM` wraps `engine.transformer.model.Transformer` (arch "decoder": masked self-attention, learned positions,
pre-norm blocks ending in a final layer norm, as GPT-2) with a character vocabulary and what a reader asks of a
language model: the next character's distribution (reshaped by a temperature and top-k), generation one
character at a time from a seeded generator, every head's attention over the context, and the logit lens (what
the head would predict from the residual stream after each block). Texts longer than the context are windowed:
the model reads the last `context` characters.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from engine.charlm.corpus import Vocabulary
from engine.core.activations import softmax
from engine.core.errors import EngineError
from engine.transformer.model import Transformer, TransformerConfig

DEFAULT_WEIGHTS = Path(__file__).resolve().parent / "weights" / "charlm.npz"
MIN_TEMPERATURE = 1e-3  # below this, sampling is the argmax (temperature → 0)


@dataclass
class CharLMConfig:
    """Sizes of the model (the vocabulary size comes from the vocabulary)."""

    layers: int = 3
    heads: int = 4
    d_model: int = 128
    d_ff: int = 512
    context: int = 128
    seed: int = 0
    dtype: str = "float32"

    def check(self) -> None:
        for name in ("layers", "heads", "d_model", "d_ff", "context"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise EngineError(f"{name} must be a whole number >= 1, got {value!r}")
        if self.d_model % self.heads:
            raise EngineError(f"d_model ({self.d_model}) must be a multiple of heads ({self.heads})")


class DecoderStack(Transformer):
    """A decoder-only Transformer that keeps the residual stream after the embedding and after every block
    (`streams`, each (batch, time, d_model)) from its last forward: the logit lens reads them."""

    def forward(self, tokens: np.ndarray, src: np.ndarray | None = None,
                memory: np.ndarray | None = None) -> np.ndarray:
        tokens = np.asarray(tokens)
        if tokens.ndim != 2:
            raise EngineError(f"tokens must be (batch, time), got shape {list(tokens.shape)}")
        x = self.pos.forward(self.embed.forward(tokens))
        self.streams = [x]
        for block in self.decoder:
            x = block.forward(x)
            self.streams.append(x)
        if self.final_norm is not None:
            x = self.final_norm.forward(x)
        batch, length, d = x.shape
        return self.head.forward(x.reshape(batch * length, d)).reshape(batch, length, -1)


@dataclass
class Reading:
    """One text as the model read it (the last `context` characters)."""

    text: str  # the window the model read, unknown characters shown as UNKNOWN
    ids: np.ndarray  # (time,)
    unknown: list[int]  # positions (in the window) of characters outside the vocabulary
    dropped: int  # characters before the window that the model could not see
    logits: np.ndarray  # (time, vocab), float64


@dataclass
class Sampled:
    """One generated character: what was written, with the model's probability of it (temperature 1) and the
    probability it had in the reshaped distribution it was drawn from."""

    char: str
    id: int
    probability: float
    sampled_probability: float


class CharLM:
    def __init__(self, vocab: Vocabulary, config: CharLMConfig | None = None, max_params: int | None = None) -> None:
        self.vocab = vocab
        self.config = config or CharLMConfig()
        self.config.check()
        c = self.config
        self.net = DecoderStack(TransformerConfig(
            arch="decoder", tgt_vocab=len(vocab), out_vocab=len(vocab), max_len=c.context, d_model=c.d_model,
            heads=c.heads, layers=c.layers, d_ff=c.d_ff, positional="learned", norm="pre", ffn=True, seed=c.seed,
            dtype=c.dtype), max_params=max_params)
        self.meta: dict[str, Any] = {}

    @property
    def context(self) -> int:
        return self.config.context

    @property
    def num_params(self) -> int:
        return self.net.num_params

    # --- reading a text ----------------------------------------------------------------------------

    def read(self, text: str) -> Reading:
        """Run the model on the last `context` characters of `text`; its layers keep this pass for `attention`
        and `lens`. An empty text reads as a single newline (the start of a line)."""
        if not isinstance(text, str):
            raise EngineError("the text must be a string")
        if text == "":
            text = "\n"
        dropped = max(0, len(text) - self.context)
        window = text[dropped:]
        ids = self.vocab.encode(window)
        unknown = np.flatnonzero(ids == self.vocab.unknown_id).tolist()
        logits = self.net.forward(ids[None, :])[0].astype(np.float64)
        return Reading(self.vocab.decode(ids), ids, unknown, dropped, logits)

    def attention(self) -> np.ndarray:
        """Every head's weights from the last pass: (layers, heads, time, time); row i is query position i."""
        return np.stack([block.self_attention.weights[0] for block in self.net.decoder])

    def lens(self, position: int, top: int = 5) -> list[dict[str, Any]]:
        """The logit lens at `position` of the last pass: the final norm and the head applied to the residual
        stream after the embedding and after each block; the last entry is the model's own prediction.
        (It runs those two layers forward again, so call it after reading, never between forward and backward.)"""
        net = self.net
        if not -len(net.streams[0][0]) <= position < len(net.streams[0][0]):
            raise EngineError(f"position {position} is outside the text the model read")
        x = np.stack([stream[0, position] for stream in net.streams])  # (layers + 1, d_model)
        if net.final_norm is not None:
            x = net.final_norm.forward(x)
        probs = softmax(net.head.forward(x).astype(np.float64))
        out = []
        for depth, row in enumerate(probs):
            order = np.argsort(-row, kind="stable")[:top]
            out.append({"layer": depth, "name": "embedding" if depth == 0 else f"after block {depth}",
                        "top": [{"char": self.vocab.symbols[i], "probability": float(row[i])} for i in order]})
        return out

    # --- distributions and sampling ------------------------------------------------------------------

    @staticmethod
    def reshape(logits: np.ndarray, temperature: float = 1.0, top_k: int | None = None) -> np.ndarray:
        """softmax(logits / T) over the `top_k` largest logits (0 elsewhere). T → 0 puts all mass on the argmax
        (ties: the first)."""
        logits = np.asarray(logits, dtype=np.float64)
        if not math.isfinite(temperature) or temperature < 0:
            raise EngineError(f"temperature must be a number >= 0, got {temperature}")
        if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer)) or top_k < 1):
            raise EngineError(f"top_k must be a whole number >= 1, got {top_k!r}")
        if temperature < MIN_TEMPERATURE:
            out = np.zeros_like(logits)
            out[int(np.argmax(logits))] = 1.0
            return out
        scaled = logits / temperature
        if top_k is not None and top_k < logits.size:
            cutoff = np.partition(scaled, -top_k)[-top_k]
            scaled = np.where(scaled >= cutoff, scaled, -np.inf)
        return softmax(scaled[None, :])[0]

    def generate(self, text: str, length: int, temperature: float = 0.8, top_k: int | None = None,
                 seed: int = 0) -> Iterator[Sampled]:
        """Write `length` characters after `text`, one at a time, each read back in (windowed to the context).
        The same seed, text and settings write the same characters."""
        if isinstance(length, bool) or not isinstance(length, int) or length < 0:
            raise EngineError(f"length must be a whole number >= 0, got {length!r}")
        rng = np.random.default_rng(seed)
        written = text
        for _ in range(length):
            logits = self.read(written[-self.context:]).logits[-1]
            probs = self.reshape(logits, temperature, top_k)
            # Inverse-CDF sampling with one uniform draw per character: the draws depend only on the seed.
            u = rng.random()
            index = int(min(np.searchsorted(np.cumsum(probs), u * probs.sum(), side="right"), probs.size - 1))
            while probs[index] == 0:  # rounding at the top end of the CDF: step back to a possible character
                index -= 1
            model_probs = softmax(logits[None, :])[0]
            char = self.vocab.symbols[index]
            written += char
            yield Sampled(char, index, float(model_probs[index]), float(probs[index]))

    # --- embedding map --------------------------------------------------------------------------------

    def embedding_pca(self) -> dict[str, Any]:
        """The character embedding matrix projected on its first two principal components."""
        weight = self.net.embed.params["weight"].astype(np.float64)
        centred = weight - weight.mean(axis=0)
        _, s, vt = np.linalg.svd(centred, full_matrices=False)
        coords = centred @ vt[:2].T
        # Fix each component's sign (an SVD may flip it): the largest coordinate is positive.
        signs = np.sign(coords[np.abs(coords).argmax(axis=0), np.arange(2)])
        coords *= np.where(signs == 0, 1.0, signs)
        variance = s**2 / max(float((s**2).sum()), 1e-300)
        return {"symbols": self.vocab.symbols, "coords": coords, "explained": variance[:2]}

    # --- saving ---------------------------------------------------------------------------------------

    def save(self, path: Path | str) -> None:
        header = {"config": asdict(self.config), "vocab": self.vocab.symbols, "meta": self.meta}
        payload: dict[str, Any] = {"__header__": np.array(json.dumps(header))}
        payload.update({f"param/{name}": p for name, p in self.named_params()})
        np.savez_compressed(path, **payload)

    @classmethod
    def load(cls, path: Path | str = DEFAULT_WEIGHTS) -> CharLM:
        try:
            with np.load(path, allow_pickle=False) as npz:
                header = json.loads(str(npz["__header__"]))
                arrays = {k[len("param/"):]: npz[k] for k in npz.files if k.startswith("param/")}
        except (OSError, KeyError, ValueError, json.JSONDecodeError) as exc:
            raise EngineError(f"cannot read a character model from {path}: {exc}") from None
        model = cls(Vocabulary(header["vocab"]), CharLMConfig(**header["config"]))
        model.load_params(arrays)
        model.meta = header.get("meta", {})
        return model

    def named_params(self) -> list[tuple[str, np.ndarray]]:
        """Every parameter as ('{layer index}.{layer type}.{name}', live array), the names the saved file uses."""
        return [(f"{i}.{layer.type}.{name}", p) for i, layer in enumerate(self.net.layers())
                for name, p in layer.params.items()]

    def load_params(self, arrays: dict[str, np.ndarray]) -> None:
        named = dict(self.named_params())
        if set(named) != set(arrays):
            raise EngineError(f"the weights do not fit this model: missing {sorted(set(named) - set(arrays))[:3]}, "
                              f"unexpected {sorted(set(arrays) - set(named))[:3]}")
        for name, p in named.items():
            if arrays[name].shape != p.shape:
                raise EngineError(f"{name} has shape {list(arrays[name].shape)}, the model needs {list(p.shape)}")
            np.copyto(p, arrays[name])

