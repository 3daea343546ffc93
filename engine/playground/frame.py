"""One Playground frame: everything the page draws after an epoch, as numbers and arrays.

The app encodes the arrays for the wire (base64 float32, or uint8 for maps that are only drawn as colours).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.core.layers import Dense
from engine.dense.neuron_maps import NeuronMaps, quantize
from engine.dense.trainer import Trainer


def maps_for(trainer: Trainer, cached: NeuronMaps | None = None) -> NeuronMaps | None:
    """The grid evaluator for this network's features (reusing `cached` when it fits); None without features."""
    features = trainer.spec.get("features")
    if not features:
        return None
    input_dim = trainer.data.input_dim if trainer.data is not None else (1 if features == ["x1"] else 2)
    if cached is not None and cached.matches(features, input_dim, trainer.net.dtype):
        return cached
    return NeuronMaps(features, input_dim, trainer.net.dtype)


def playground_frame(trainer: Trainer, maps: NeuronMaps | None, focus: tuple[int, int] | None = None,
                     fine: bool = True) -> dict[str, Any]:
    """Counters, metrics, weights, the training gradients and every neuron's map.

    `focus` = (dense layer number from 1, neuron index): that neuron's map is added at full resolution.
    With `fine` False the large output map is left out (a thumbnail-only frame).
    """
    net = trainer.net
    dense_index = [i for i, layer in enumerate(net.layers) if isinstance(layer, Dense)]
    dense: list[Dense] = [layer for layer in net.layers if isinstance(layer, Dense)]
    if trainer.data is not None and len(trainer.data.x_train):
        _, grads = trainer.training_gradients()
    else:
        grads = {f"{i}.{name}": np.zeros_like(p) for i, name, p in net.named_params()}
    frame: dict[str, Any] = {
        "step": trainer.step_count,
        "epoch": trainer.epoch,
        "diverged": trainer.diverged,
        "message": trainer.diverged_message,
        "metrics": trainer.history[-1] if trainer.history else None,
        "layout": [int(net.input_shape[0]), *(layer.out_features for layer in dense)],
        "dense_layers": dense_index,
        "weights": [layer.params["weight"] for layer in dense],
        "biases": [layer.params.get("bias", np.zeros(layer.out_features, net.dtype)) for layer in dense],
        "weight_grads": [grads[f"{i}.weight"] for i in dense_index],
        "bias_grads": [grads.get(f"{i}.bias", np.zeros(layer.out_features, net.dtype))
                       for i, layer in zip(dense_index, dense, strict=True)],
    }
    if maps is None:
        return frame
    result = maps.evaluate(net, fine=fine)
    frame["activations"] = result.activations
    frame["ranges"] = [list(r) for r in result.ranges]
    if maps.axis is not None:
        # Curves are drawn as lines with their exact values.
        frame["kind"] = "curve"
        frame["axis"] = maps.axis.astype(np.float32)
        frame["neurons"] = result.coarse
        frame["output"] = result.coarse[-1]
    else:
        # Heatmaps are only drawn as colours: uint8 over each layer's range (255 steps, finer than the
        # 30-step colour scale, and the sign survives for "discretize"); a read-out asks /forward instead.
        frame["kind"] = "plane"
        frame["neurons"] = [quantize(m, lo, hi) for m, (lo, hi) in zip(result.coarse, result.ranges, strict=True)]
        if fine:
            frame["output"] = quantize(result.fine[-1], *result.ranges[-1])
    if focus is not None and (fine or maps.input_dim == 1):
        frame["focus"] = _focus_map(maps, result, dense, focus)
        if frame["focus"] is None:
            del frame["focus"]
    return frame


def _focus_map(maps: NeuronMaps, result: Any, dense: list, focus: tuple[int, int]) -> dict[str, Any] | None:
    """One neuron's map at full resolution; layer 0 is the input features (on their own symmetric range)."""
    layer, index = focus
    if layer == 0:
        inputs = maps.feature_values(fine=True)
        if not 0 <= index < inputs.shape[0]:
            return None
        values = inputs[index]
        high = float(np.abs(values).max()) or 1.0
        low = -high
    elif 1 <= layer <= len(dense) and 0 <= index < dense[layer - 1].out_features:
        values = result.fine[layer - 1][index]
        low, high = result.ranges[layer - 1]
    else:
        return None
    if maps.input_dim == 2:
        values = quantize(values, low, high)
    return {"layer": layer, "index": index, "range": [low, high], "values": values}
