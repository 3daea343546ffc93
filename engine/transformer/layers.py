"""The layers a transformer is made of: embedding, positional encodings, layer norm,
multi-head attention and the position-wise feed-forward network.

They follow the project's layer API (`params` / `grads` under the same names,
`forward` caching what `backward` needs) on sequences shaped (batch, time, d_model).
Attention is vectorised over batch and heads with batched matmuls: heads are an
array axis, never a Python loop.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from engine.core.activations import softmax
from engine.core.errors import EngineError
from engine.core.init import initialise
from engine.core.layers import Dense, Layer, ReLU


def _normal(shape: tuple[int, ...], std: float, rng: np.random.Generator, dtype: np.dtype) -> np.ndarray:
    # Goes through `initialise` so the parameter budget of the session counts it.
    w = initialise("zeros", shape, 1, 1, rng, dtype)
    w += rng.normal(0.0, std, size=shape).astype(dtype)
    return w


class Embedding(Layer):
    """Token ids (batch, time) → vectors (batch, time, d_model): rows of `weight`, times √d_model as in the paper."""

    type = "embedding"

    def __init__(self, vocab_size: int, d_model: int, *, rng: np.random.Generator,
                 dtype: DTypeLike = np.float32, scale: bool = True) -> None:
        super().__init__()
        self.dtype = np.dtype(dtype)
        self.vocab_size, self.d_model = vocab_size, d_model
        # std 1/√d with the √d scale below gives unit-size vectors, on a par with the positional encoding.
        self.params["weight"] = _normal((vocab_size, d_model), d_model**-0.5, rng, self.dtype)
        self.scale = float(np.sqrt(d_model)) if scale else 1.0
        self.zero_grads()
        self.tokens: np.ndarray | None = None

    def forward(self, tokens: np.ndarray) -> np.ndarray:
        tokens = np.asarray(tokens)
        if tokens.dtype.kind not in "iu":
            raise EngineError("token ids must be whole numbers")
        if tokens.size and (tokens.min() < 0 or tokens.max() >= self.vocab_size):
            raise EngineError(f"token ids must be between 0 and {self.vocab_size - 1}")
        self.tokens = tokens
        return self.params["weight"][tokens] * np.asarray(self.scale, dtype=self.dtype)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Fills grads['weight'] and returns the input gradient like every layer: zeros shaped like the token ids
        (batch, time), since the loss does not change smoothly with a token id — nothing flows below an
        embedding."""
        assert self.tokens is not None, "forward must run before backward"
        flat = self.tokens.reshape(-1)
        # A one-hot matmul sums the rows of repeated tokens without a Python loop (np.add.at is ~10× slower).
        one_hot = np.zeros((flat.size, self.vocab_size), dtype=dout.dtype)
        one_hot[np.arange(flat.size), flat] = 1
        grad = one_hot.T @ dout.reshape(flat.size, -1)
        self.grads["weight"] = np.ascontiguousarray(grad * dout.dtype.type(self.scale))
        return np.zeros(self.tokens.shape, dtype=dout.dtype)


def sinusoid_table(max_len: int, d_model: int, dtype: DTypeLike = np.float32) -> np.ndarray:
    """PE(pos, 2i) = sin(pos / 10000^(2i/d)), PE(pos, 2i+1) = cos(pos / 10000^(2i/d)) ("Attention is all you need")."""
    pos = np.arange(max_len, dtype=np.float64)[:, None]
    i = np.arange(0, d_model, 2, dtype=np.float64)[None, :]
    angle = pos / np.power(10000.0, i / d_model)
    table = np.zeros((max_len, d_model))
    table[:, 0::2] = np.sin(angle)
    table[:, 1::2] = np.cos(angle[:, : d_model // 2])
    return table.astype(dtype)


class SinusoidalPositionalEncoding(Layer):
    """Adds the fixed sinusoid table: no parameters, the gradient passes straight through."""

    type = "sinusoidal_position"

    def __init__(self, max_len: int, d_model: int, *, dtype: DTypeLike = np.float32) -> None:
        super().__init__()
        self.max_len, self.d_model = max_len, d_model
        self.table = sinusoid_table(max_len, d_model, dtype)

    def forward(self, x: np.ndarray) -> np.ndarray:
        _check_length(x.shape[1], self.max_len)
        return x + self.table[: x.shape[1]].astype(x.dtype, copy=False)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return dout


class LearnedPositionalEncoding(Layer):
    """Adds a trained vector per position (`weight`, shape (max_len, d_model))."""

    type = "learned_position"

    def __init__(self, max_len: int, d_model: int, *, rng: np.random.Generator,
                 dtype: DTypeLike = np.float32) -> None:
        super().__init__()
        self.max_len, self.d_model = max_len, d_model
        self.params["weight"] = _normal((max_len, d_model), 1.0, rng, np.dtype(dtype))
        self.zero_grads()
        self.length = 0

    def forward(self, x: np.ndarray) -> np.ndarray:
        _check_length(x.shape[1], self.max_len)
        self.length = x.shape[1]
        return x + self.params["weight"][: self.length]

    def backward(self, dout: np.ndarray) -> np.ndarray:
        grad = np.zeros_like(self.params["weight"])
        grad[: self.length] = dout.sum(axis=0)
        self.grads["weight"] = grad
        return dout


def _check_length(length: int, max_len: int) -> None:
    if length > max_len:
        raise EngineError(f"the sequence has {length} positions; this model takes at most {max_len}")


class LayerNorm(Layer):
    """Normalise each vector over its last axis, then scale by `gamma` and shift by `beta` (Ba et al. 2016)."""

    type = "layer_norm"

    def __init__(self, d_model: int, *, eps: float = 1e-5, dtype: DTypeLike = np.float32) -> None:
        super().__init__()
        self.dtype = np.dtype(dtype)
        self.eps = eps
        self.params["gamma"] = initialise("zeros", (d_model,), d_model, d_model, np.random.default_rng(0),
                                          self.dtype) + self.dtype.type(1)
        self.params["beta"] = initialise("zeros", (d_model,), d_model, d_model, np.random.default_rng(0), self.dtype)
        self.zero_grads()

    def forward(self, x: np.ndarray) -> np.ndarray:
        mean = x.mean(axis=-1, keepdims=True)
        centred = x - mean
        var = (centred * centred).mean(axis=-1, keepdims=True)
        self.inv_std = 1.0 / np.sqrt(var + x.dtype.type(self.eps))
        self.x_hat = centred * self.inv_std
        return self.x_hat * self.params["gamma"] + self.params["beta"]

    def backward(self, dout: np.ndarray) -> np.ndarray:
        d = dout.shape[-1]
        flat_dout = dout.reshape(-1, d)
        flat_xhat = self.x_hat.reshape(-1, d)
        self.grads["gamma"] = (flat_dout * flat_xhat).sum(axis=0)
        self.grads["beta"] = flat_dout.sum(axis=0)
        dxhat = dout * self.params["gamma"]
        # d x = (1/σ) (dx̂ − mean(dx̂) − x̂ · mean(dx̂ · x̂)), the standard closed form.
        return self.inv_std * (dxhat - dxhat.mean(axis=-1, keepdims=True)
                               - self.x_hat * (dxhat * self.x_hat).mean(axis=-1, keepdims=True))


def causal_mask(length_q: int, length_k: int, dtype: DTypeLike = np.float32) -> np.ndarray:
    """0 where query i may look at key j (j ≤ i), −∞ above the diagonal."""
    above = np.triu(np.ones((length_q, length_k), dtype=bool), k=1)
    return np.where(above, -np.inf, 0.0).astype(dtype)


class MultiHeadAttention(Layer):
    """Self-attention: softmax(Q·Kᵀ / √d_k + mask) · V for every head at once, then the output projection.

    `forward(x)` takes queries, keys and values from x (batch, time, d_model); `backward(dout)` returns dx, the
    gradient through all three. `causal=True` masks keys after each query's position. `CrossAttention` is
    the two-input form.
    Everything the trace shows stays cached after forward: q, k, v (batch, heads, time, d_k),
    `raw` = QKᵀ, `scaled` = QKᵀ/√d_k, `masked` (−∞ where masked), `weights`, and `head_out`.
    """

    type = "multi_head_attention"
    cross = False

    def __init__(self, d_model: int, num_heads: int, *, causal: bool = False,
                 rng: np.random.Generator, dtype: DTypeLike = np.float32) -> None:
        super().__init__()
        if d_model % num_heads:
            raise EngineError(f"d_model ({d_model}) must be a multiple of the number of heads ({num_heads})")
        if causal and self.cross:
            raise EngineError("a causal mask applies to self-attention, not cross-attention")
        self.dtype = np.dtype(dtype)
        self.d_model, self.num_heads, self.d_k = d_model, num_heads, d_model // num_heads
        self.causal = causal
        for name in ("q", "k", "v", "out"):
            self.params[f"{name}_weight"] = initialise("xavier", (d_model, d_model), d_model, d_model, rng,
                                                       self.dtype)
            # No key bias: it adds the same q·b to every score of a row, which softmax ignores,
            # so its gradient is exactly zero and it could never learn anything.
            if name != "k":
                self.params[f"{name}_bias"] = initialise("zeros", (d_model,), d_model, d_model, rng, self.dtype)
        self.zero_grads()
        self.scale = 1.0 / np.sqrt(self.d_k)

    def _project(self, x2d: np.ndarray, name: str, batch: int, length: int) -> np.ndarray:
        """(batch·time, d_model) → (batch, heads, time, d_k)."""
        y = x2d @ self.params[f"{name}_weight"]
        if name != "k":
            y += self.params[f"{name}_bias"]
        return y.reshape(batch, length, self.num_heads, self.d_k).transpose(0, 2, 1, 3)

    def forward(self, x: np.ndarray) -> np.ndarray:
        return self._attend(x, None)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        dx, dsource = self._attend_backward(dout)
        return dx + dsource  # x gave the queries and (as the source) the keys and values

    def _attend(self, x: np.ndarray, context: np.ndarray | None) -> np.ndarray:
        """Queries from x, keys and values from `context` (from x itself when None)."""
        source = x if context is None else context
        batch, len_q, d = x.shape
        len_k = source.shape[1]
        self.x2d = x.reshape(batch * len_q, d)
        self.source2d = self.x2d if context is None else source.reshape(batch * len_k, d)
        self.q = self._project(self.x2d, "q", batch, len_q)
        self.k = self._project(self.source2d, "k", batch, len_k)
        self.v = self._project(self.source2d, "v", batch, len_k)
        self.raw = self.q @ self.k.transpose(0, 1, 3, 2)
        self.scaled = self.raw * x.dtype.type(self.scale)
        self.masked = self.scaled + causal_mask(len_q, len_k, x.dtype) if self.causal else self.scaled
        self.weights = softmax(self.masked)
        self.head_out = self.weights @ self.v
        self.concat = np.ascontiguousarray(self.head_out.transpose(0, 2, 1, 3)).reshape(batch * len_q, d)
        out = self.concat @ self.params["out_weight"]
        out += self.params["out_bias"]
        return out.reshape(batch, len_q, d)

    def _attend_backward(self, dout: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Gradients of the queries' input and of the keys' and values' input (the source), both (batch, time,
        d_model); fills grads."""
        batch, len_q, d = dout.shape
        len_k = self.k.shape[2]
        heads, d_k = self.num_heads, self.d_k
        dout2d = dout.reshape(batch * len_q, d)
        self.grads["out_weight"] = self.concat.T @ dout2d
        self.grads["out_bias"] = dout2d.sum(axis=0)
        dhead = (dout2d @ self.params["out_weight"].T).reshape(batch, len_q, heads, d_k).transpose(0, 2, 1, 3)
        dweights = dhead @ self.v.transpose(0, 1, 3, 2)
        dv = self.weights.transpose(0, 1, 3, 2) @ dhead
        # Softmax backward row by row; masked cells have weight 0, so their gradient is 0.
        dscores = self.weights * (dweights - (dweights * self.weights).sum(axis=-1, keepdims=True))
        dscores *= dout.dtype.type(self.scale)
        dq = dscores @ self.k
        dk = dscores.transpose(0, 1, 3, 2) @ self.q

        def unproject(dproj: np.ndarray, name: str, inputs2d: np.ndarray, length: int) -> np.ndarray:
            d2d = dproj.transpose(0, 2, 1, 3).reshape(batch * length, d)
            self.grads[f"{name}_weight"] = inputs2d.T @ d2d
            if name != "k":
                self.grads[f"{name}_bias"] = d2d.sum(axis=0)
            return d2d @ self.params[f"{name}_weight"].T

        dx = unproject(dq, "q", self.x2d, len_q)
        dsource = unproject(dk, "k", self.source2d, len_k)
        dsource += unproject(dv, "v", self.source2d, len_k)
        return dx.reshape(batch, len_q, d), dsource.reshape(batch, len_k, d)

    def trace(self) -> dict[str, np.ndarray]:
        """The last forward pass, per head: every stage from Q, K, V to the head's output."""
        return {"q": self.q, "k": self.k, "v": self.v, "raw": self.raw, "scaled": self.scaled,
                "masked": self.masked, "weights": self.weights, "head_out": self.head_out}

    def spec(self) -> dict[str, Any]:
        return {"type": self.type, "d_model": self.d_model, "heads": self.num_heads, "causal": self.causal,
                "cross": self.cross}


class CrossAttention(MultiHeadAttention):
    """Attention with two inputs: queries from x (batch, time_q, d_model), keys and values from `context`
    (batch, time_k, d_model), the encoder's output in an encoder-decoder model.

    Like every layer with two inputs, `backward` returns one gradient per input, in `forward`'s order:
    (dx, dcontext).
    """

    cross = True

    def __init__(self, d_model: int, num_heads: int, *, rng: np.random.Generator,
                 dtype: DTypeLike = np.float32) -> None:
        super().__init__(d_model, num_heads, rng=rng, dtype=dtype)

    def forward(self, x: np.ndarray, context: np.ndarray | None = None) -> np.ndarray:
        if context is None:
            raise EngineError("cross-attention needs a context (the encoder's output) as its second input")
        return self._attend(x, context)

    def backward(self, dout: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[override]  # two inputs
        return self._attend_backward(dout)


class FeedForward(Layer):
    """Position-wise FFN(x) = max(0, x·W₁ + b₁)·W₂ + b₂, the same two dense layers at every position."""

    type = "feed_forward"

    def __init__(self, d_model: int, d_ff: int, *, rng: np.random.Generator,
                 dtype: DTypeLike = np.float32) -> None:
        super().__init__()
        self.inner = Dense(d_model, d_ff, init="he", rng=rng, dtype=dtype)
        self.relu = ReLU()
        self.outer = Dense(d_ff, d_model, init="xavier", rng=rng, dtype=dtype)
        # The children's arrays, under names that say which one: one dict, shared, not copied.
        self.children = {"inner": self.inner, "outer": self.outer}
        self.relink()

    def relink(self) -> None:
        """Point params/grads at the children's current arrays (after they are replaced, e.g. by views)."""
        self.params = {f"{c}_{n}": p for c, layer in self.children.items() for n, p in layer.params.items()}
        self.grads = {f"{c}_{n}": g for c, layer in self.children.items() for n, g in layer.grads.items()}

    def forward(self, x: np.ndarray) -> np.ndarray:
        batch, length, d = x.shape
        hidden = self.relu.forward(self.inner.forward(x.reshape(batch * length, d)))
        self.hidden = hidden
        return self.outer.forward(hidden).reshape(batch, length, d)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        batch, length, d = dout.shape
        dhidden = self.relu.backward(self.outer.backward(dout.reshape(batch * length, d)))
        dx = self.inner.backward(dhidden).reshape(batch, length, d)
        self.relink()
        return dx

    def zero_grads(self) -> None:
        for layer in self.children.values():
            layer.zero_grads()
        self.relink()
