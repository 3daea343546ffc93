"""Change a dense network's activations, loss, learning rate, batch size or dtype, keeping its weights.

The backprop walkthrough lets a learner switch the worked example from "no
activation" to sigmoid, or from squared error to cross-entropy, and see what
the same weights do under the new rule. That needs a new network built from
an edited spec with the old weights carried over, dense layer by dense layer
(the layer indices move when activation layers come or go).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.core.activations import canonical_activation
from engine.core.errors import EngineError
from engine.core.losses import get_loss
from engine.core.network import expand_layer_specs
from engine.dense.trainer import Trainer
from engine.dense.walk import dense_blocks

# Which output activation each loss reads its output through.
LOSS_OUTPUTS = {
    "bce": ("sigmoid", "binary cross-entropy reads the output as a probability: use the 'sigmoid' output "
                       "activation with it"),
    "cross_entropy": ("softmax", "cross-entropy on several classes needs the 'softmax' output activation"),
    "softmax_cross_entropy": ("linear", "softmax_cross_entropy applies the softmax itself: use no output "
                                        "activation ('none') with it"),
}


def _changed_spec(spec: dict[str, Any], *, loss: str | None, learning_rate: float | None, batch_size: int | None,
                  dtype: str | None) -> dict[str, Any]:
    """A copy of the spec with the loss, learning rate, batch size and dtype changed (None keeps a setting)."""
    spec = dict(spec)
    if loss is not None:
        spec["loss"] = get_loss(loss).name
    if learning_rate is not None:
        if not np.isfinite(learning_rate) or learning_rate <= 0:
            raise EngineError(f"learning_rate must be a positive number, got {learning_rate}")
        spec["optimizer"] = {**spec["optimizer"], "learning_rate": float(learning_rate)}
    if batch_size is not None:
        spec["batch_size"] = batch_size
    if dtype is not None:
        spec["dtype"] = dtype
    return spec


def _layers_with_activations(trainer: Trainer, blocks: list[Any], hidden_act: str | None,
                             output_act: str | None) -> list[dict[str, Any]]:
    """The layer specs with `hidden_act` after every hidden dense layer and `output_act` after the last one."""
    expanded = expand_layer_specs(trainer.spec["layers"])
    if len(expanded) != len(trainer.net.layers):
        raise EngineError("this network's spec does not match its layers; export and import it again")
    layers: list[dict[str, Any]] = []
    for block in blocks:
        chosen = output_act if block.number == len(blocks) else hidden_act
        name = chosen if chosen is not None else block.activation
        layers.append(dict(expanded[block.dense_index]))
        if name != "linear":
            layers.append({"type": name})
    return layers


def _activation_or_none(name: str | None) -> str | None:
    return None if name is None else canonical_activation(name)


def reconfigure(
    trainer: Trainer,
    *,
    activation: str | None = None,
    output_activation: str | None = None,
    loss: str | None = None,
    learning_rate: float | None = None,
    batch_size: int | None = None,
    dtype: str | None = None,
    state: dict[str, np.ndarray] | None = None,
) -> Trainer:
    """A new trainer for the same dense network with the given changes (None keeps a setting).

    `activation` goes on every hidden layer, `output_activation` on the last one ('linear' or 'none'
    removes it). Weights come from `state` (a `get_state()` of `trainer`, e.g. a walk's starting point)
    or from the network as it stands; data, step count and epoch carry over, the metrics history does not
    (its losses were measured under the old rule).
    """
    blocks = dense_blocks(trainer)  # raises for anything but dense (+ activation) layers
    hidden_act = _activation_or_none(activation)
    output_act = _activation_or_none(output_activation)
    if hidden_act == "softmax":
        raise EngineError("softmax is an output activation; choose none, sigmoid, tanh or relu for hidden layers")
    spec = _changed_spec(trainer.spec, loss=loss, learning_rate=learning_rate, batch_size=batch_size, dtype=dtype)
    spec["layers"] = _layers_with_activations(trainer, blocks, hidden_act, output_act)
    if loss is not None or output_activation is not None:
        wanted = LOSS_OUTPUTS.get(spec["loss"])
        final = blocks[-1].activation if output_act is None else output_act
        if wanted is not None and final != wanted[0]:
            raise EngineError(wanted[1])
    new = Trainer(spec, max_params=trainer.max_params)
    source = trainer.net.get_state() if state is None else state
    carried = {}
    for old_block, new_block in zip(blocks, dense_blocks(new), strict=True):
        for pname in trainer.net.layers[old_block.dense_index].params:
            carried[f"{new_block.dense_index}.{pname}"] = source[f"{old_block.dense_index}.{pname}"]
    new.net.set_state(carried)
    if trainer.data is not None:
        new.set_data(trainer.data)
    new.step_count, new.epoch = trainer.step_count, trainer.epoch
    return new
