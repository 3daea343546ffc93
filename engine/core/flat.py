"""A network's parameters and gradients in one flat buffer each, the layers' dicts holding views into them.

A Playground step on a 2-4-2-1 network touches six tiny arrays; NumPy's cost per call (about a microsecond)
then outweighs the arithmetic, so an optimiser that visits every array on its own spends more time calling
than computing. With every parameter a view into one buffer (and every gradient a view into another), an
optimiser step is a few whole-buffer operations, and saving the parameters for the divergence rule is one copy.

The layers keep their `params` and `grads` dicts (every page, test and file format uses them), now holding
views. Whoever replaces an array in a dict (a test setting `grads['weight'] = …`, a state being loaded) simply
unbinds it: `bound()` notices (an identity check per array) and the optimiser falls back to its per-array
path, or the owner rebinds with `FlatParams.bind`, which copies the current values in.
"""

from __future__ import annotations

from typing import Any

import numpy as np

Key = tuple[int, str]


class FlatParams:
    """Views per (layer index, parameter name) into one parameter buffer and one gradient buffer."""

    def __init__(self, layers: list[Any]) -> None:
        entries = [(i, name, p) for i, layer in enumerate(layers) for name, p in layer.params.items()]
        dtypes = {p.dtype for _, _, p in entries}
        if len(dtypes) != 1:
            raise ValueError("a flat buffer needs every parameter in one dtype")
        dtype = dtypes.pop()
        total = sum(p.size for _, _, p in entries)
        self.dtype = dtype
        self.params = np.empty(total, dtype)
        self.grads = np.zeros(total, dtype)
        self.keys: list[Key] = []
        self.slices: list[slice] = []
        self._dicts: list[tuple[dict[str, np.ndarray], dict[str, np.ndarray], str, np.ndarray, np.ndarray]] = []
        offset = 0
        for i, name, p in entries:
            layer = layers[i]
            where = slice(offset, offset + p.size)
            pv = self.params[where].reshape(p.shape)
            gv = self.grads[where].reshape(p.shape)
            pv[...] = p
            old_grad = layer.grads.get(name)
            if old_grad is not None and old_grad.shape == p.shape:
                gv[...] = old_grad
            layer.params[name] = pv
            layer.grads[name] = gv
            self.keys.append((i, name))
            self.slices.append(where)
            self._dicts.append((layer.params, layer.grads, name, pv, gv))
            offset += p.size
        # Regularisation applies to weights only: the slices of everything that is not a bias.
        self.weight_slices = [s for (_, name), s in zip(self.keys, self.slices, strict=True)
                              if not name.endswith("bias")]
        self.layer_count = len(layers)

    @classmethod
    def bind(cls, layers: list[Any], current: FlatParams | None) -> FlatParams | None:
        """`current` when it still holds every parameter of `layers`, else a new binding (None when the
        parameters cannot share one buffer, e.g. mixed dtypes, or there are none)."""
        if current is not None and current.bound(layers):
            return current
        if not any(layer.params for layer in layers):
            return None
        try:
            return cls(layers)
        except ValueError:
            return None

    def bound(self, layers: list[Any]) -> bool:
        """Whether every layer's dicts still hold this buffer's views (nobody replaced an array)."""
        if len(layers) != self.layer_count:
            return False
        n = 0
        for layer in layers:
            n += len(layer.params)
        if n != len(self._dicts):
            return False
        for params, grads, name, pv, gv in self._dicts:
            if params.get(name) is not pv or grads.get(name) is not gv:
                return False
        return True

    def slot_views(self, flat: np.ndarray) -> dict[Key, np.ndarray]:
        """Views of another buffer laid out like the parameters (an optimiser's moments), per key."""
        return {key: flat[s].reshape(pv.shape)
                for key, s, (_, _, _, pv, _) in zip(self.keys, self.slices, self._dicts, strict=True)}
