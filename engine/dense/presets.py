"""Named starting points: a spec and, optionally, its data.

Other modules add their own presets with `register_preset`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from engine.core.errors import EngineError

PresetFactory = Callable[[], dict[str, Any]]
PRESETS: dict[str, tuple[str, PresetFactory]] = {}


def register_preset(name: str, description: str) -> Callable[[PresetFactory], PresetFactory]:
    def deco(fn: PresetFactory) -> PresetFactory:
        PRESETS[name] = (description, fn)
        return fn

    return deco


def get_preset(name: str) -> dict[str, Any]:
    """A fresh copy of the preset: {"spec": ..., "data": ... or None, "labels": ... optional}."""
    if name not in PRESETS:
        raise EngineError(f"unknown preset '{name}'; use one of: {', '.join(PRESETS)}")
    return copy.deepcopy(PRESETS[name][1]())


def list_presets() -> list[dict[str, str]]:
    return [{"name": name, "description": desc} for name, (desc, _) in PRESETS.items()]


@register_preset(
    "worked-example",
    "The classic step-by-step backpropagation example (HMKCode): inputs 2 and 3, weights 0.11 … 0.15, "
    "target 1, learning rate 0.05, no activation functions, no biases.",
)
def worked_example() -> dict[str, Any]:
    # w1..w6 as in the tutorial: h1 = i1·w1 + i2·w2, h2 = i1·w3 + i2·w4, prediction = h1·w5 + h2·w6.
    # With x @ W, column j of W holds the weights into neuron j.
    w1, w2, w3, w4, w5, w6 = 0.11, 0.21, 0.12, 0.08, 0.14, 0.15
    return {
        "spec": {
            "name": "worked-example",
            "input_shape": [2],
            "layers": [
                {"type": "dense", "units": 2, "bias": False, "init": "values", "weight": [[w1, w3], [w2, w4]]},
                {"type": "dense", "units": 1, "bias": False, "init": "values", "weight": [[w5], [w6]]},
            ],
            "loss": "mse",
            "optimizer": {"type": "sgd", "learning_rate": 0.05},
            "batch_size": 1,
            "seed": 0,
            "dtype": "float64",
        },
        "data": {"X": [[2.0, 3.0]], "y": [1.0], "task": "regression"},
    }


@register_preset("playground-default", "TensorFlow Playground's default: x1, x2 → 4 → 2 → 1, tanh, circle data.")
def playground_default() -> dict[str, Any]:
    return {
        "spec": {
            "name": "playground-default",
            "features": ["x1", "x2"],
            "layers": [
                {"type": "dense", "units": 4, "activation": "tanh", "init": "uniform", "bias_init": 0.1},
                {"type": "dense", "units": 2, "activation": "tanh", "init": "uniform", "bias_init": 0.1},
                {"type": "dense", "units": 1, "activation": "tanh", "init": "uniform", "bias_init": 0.1},
            ],
            "loss": "mse",
            "optimizer": {"type": "sgd", "learning_rate": 0.03},
            "batch_size": 10,
            "seed": 0,
        },
        "data": {"name": "circle", "noise": 0.0, "train_ratio": 0.5, "seed": 0},
    }
