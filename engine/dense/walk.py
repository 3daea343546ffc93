"""A step-by-step cursor over one training step of a dense network.

The whole step (forward, loss, backward, update) is computed at once with the
engine's own forward/backward and optimiser; the cursor then reveals it one
stage at a time. Parameters on the network follow the cursor: before the
`update` stage they are the old values, at it the new ones, so stepping back
undoes the update exactly.

Per-example quantities (one value per data point) are reported without the
1/N of the batch mean; every gradient is their mean, which is what the
optimiser uses.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.core.activations import evaluate
from engine.core.errors import EngineError
from engine.core.layers import ACTIVATION_LAYERS, Dense
from engine.dense.trainer import Trainer

GRANULARITIES = ("layer", "neuron")
MAX_WALK_STAGES = 2000


@dataclass
class Block:
    """A dense layer and the activation after it (linear when there is none)."""

    number: int  # 1-based, as on the page
    dense_index: int
    activation_index: int | None
    activation: str


def dense_blocks(trainer: Trainer) -> list[Block]:
    layers = trainer.net.layers
    blocks: list[Block] = []
    i = 0
    while i < len(layers):
        if not isinstance(layers[i], Dense):
            raise EngineError(
                f"the walk explains dense networks; layer {i} is '{layers[i].type}', which it cannot show"
            )
        act_index = i + 1 if i + 1 < len(layers) and layers[i + 1].type in ACTIVATION_LAYERS else None
        name = layers[act_index].type if act_index is not None else "linear"
        blocks.append(Block(len(blocks) + 1, i, act_index, name))
        i += 2 if act_index is not None else 1
    return blocks


def dense_labels(trainer: Trainer) -> dict[str, Any]:
    """Names as in the worked example: i1, i2 → h1, h2 → prediction; w1… by (layer, target, source); b1…."""
    blocks = dense_blocks(trainer)
    layers = trainer.net.layers
    n_in = layers[blocks[0].dense_index].params["weight"].shape[0]
    neurons = [[f"i{k + 1}" for k in range(n_in)]]
    hidden = len(blocks) - 1
    for b in blocks:
        units = layers[b.dense_index].params["weight"].shape[1]
        if b.number == len(blocks):
            neurons.append(["prediction"] if units == 1 else [f"o{j + 1}" for j in range(units)])
        elif hidden == 1:
            neurons.append([f"h{j + 1}" for j in range(units)])
        else:
            neurons.append([f"h{b.number}_{j + 1}" for j in range(units)])
    weights, biases = [], []
    w_count = b_count = 0
    for b in blocks:
        layer = layers[b.dense_index]
        n_from, n_to = layer.params["weight"].shape
        grid = [[""] * n_to for _ in range(n_from)]
        for j in range(n_to):
            for i in range(n_from):
                w_count += 1
                grid[i][j] = f"w{w_count}"
        weights.append(grid)
        if "bias" in layer.params:
            names = []
            for _ in range(n_to):
                b_count += 1
                names.append(f"b{b_count}")
            biases.append(names)
        else:
            biases.append(None)
    return {"neurons": neurons, "weights": weights, "biases": biases}


@dataclass
class Walk:
    granularity: str
    stages: list[dict[str, Any]]
    update_index: int
    state_before: dict[str, np.ndarray]
    state_after: dict[str, np.ndarray]
    optimizer_before: Any
    optimizer_after: Any
    step_before: int
    position: int = -1
    labels: dict[str, Any] = field(default_factory=dict)
    inputs: np.ndarray | None = None
    targets: np.ndarray | None = None
    network_inputs: np.ndarray | None = None  # what the first layer saw (feature columns when features are set)
    loss_targets: np.ndarray | None = None  # the targets as the loss compares them, one row per data point

    @property
    def finished(self) -> bool:
        return self.position == len(self.stages) - 1


def start_walk(trainer: Trainer, granularity: str, x: np.ndarray | None = None,
               labels: np.ndarray | None = None) -> Walk:
    if granularity not in GRANULARITIES:
        raise EngineError(f"granularity must be one of {list(GRANULARITIES)}, got '{granularity}'")
    blocks = dense_blocks(trainer)
    names = dense_labels(trainer)
    if granularity == "neuron":
        neurons = sum(len(n) for n in names["neurons"][1:])
        if 2 * neurons + 2 > MAX_WALK_STAGES:
            raise EngineError(f"this network has {neurons} neurons: too many to walk one neuron at a time; "
                              "use granularity 'layer'")
    if x is None:
        if trainer.data is None or len(trainer.data.x_train) == 0:
            raise EngineError("give 'inputs' and 'targets' for the walk: this session has no data")
        count = min(int(trainer.spec["batch_size"]), len(trainer.data.x_train))
        x, labels = trainer.data.x_train[:count], trainer.data.y_train[:count]
    elif labels is None:
        raise EngineError("give 'targets' together with 'inputs'")
    net, opt = trainer.net, trainer.optimizer
    state_before = net.get_state()
    opt_before = (copy.deepcopy(opt.state), opt.t)
    value = trainer.backward(x, labels)
    if not np.isfinite(value):
        raise EngineError("the loss is not finite for these inputs; lower the weights or the inputs")
    n = net.trace[0].input.shape[0]
    network_inputs = net.trace[0].input.copy()
    loss_targets = trainer.loss.prepare_target(trainer.targets(labels), net.trace[-1].output.shape, net.dtype)
    stages: list[dict[str, Any]] = []
    stages += _forward_stages(trainer, blocks, names, granularity)
    stages.append(_loss_stage(trainer, value, labels))
    grads = {f"{i}.{k}": g.copy() for i, layer in enumerate(net.layers) for k, g in layer.grads.items()}
    stages += _backward_stages(trainer, blocks, names, granularity, n)
    opt.step(net.layers)
    state_after = net.get_state()
    opt_after = (copy.deepcopy(opt.state), opt.t)
    stages.append(_update_stage(trainer, blocks, names, state_before, state_after, grads))
    net.set_state(state_before)
    opt.state, opt.t = copy.deepcopy(opt_before[0]), opt_before[1]
    for k, stage in enumerate(stages):
        stage["index"] = k
        stage["total"] = len(stages)
    return Walk(granularity, stages, len(stages) - 1, state_before, state_after, opt_before, opt_after,
                trainer.step_count, labels=names, inputs=np.asarray(x), targets=np.asarray(labels),
                network_inputs=network_inputs, loss_targets=loss_targets)


def move(trainer: Trainer, walk: Walk, delta: int) -> None:
    """Move the cursor by ±1 and put the matching parameters on the network."""
    walk.position = max(-1, min(len(walk.stages) - 1, walk.position + delta))
    applied = walk.position >= walk.update_index
    net, opt = trainer.net, trainer.optimizer
    net.set_state(walk.state_after if applied else walk.state_before)
    source = walk.optimizer_after if applied else walk.optimizer_before
    opt.state, opt.t = copy.deepcopy(source[0]), source[1]
    trainer.step_count = walk.step_before + (1 if applied else 0)


def _col(a: np.ndarray, j: int) -> np.ndarray:
    return np.ascontiguousarray(a[:, j])


def _forward_stages(trainer: Trainer, blocks: list[Block], names: dict[str, Any], granularity: str) -> list[dict]:
    net = trainer.net
    stages = []
    for b in blocks:
        dense = net.layers[b.dense_index]
        a_prev = net.trace[b.dense_index].input
        z = net.trace[b.dense_index].output
        a = net.trace[b.activation_index].output if b.activation_index is not None else z
        w = dense.params["weight"]
        bias = dense.params.get("bias")
        in_labels, out_labels = names["neurons"][b.number - 1], names["neurons"][b.number]
        base = {"phase": "forward", "layer": b.number, "activation": b.activation}
        if granularity == "layer":
            stages.append({**base, "neuron": None, "title": f"Forward: layer {b.number}",
                           "caption": f"Every neuron of layer {b.number} takes the weighted sum of the layer "
                                      f"before{' plus its bias' if bias is not None else ''}"
                                      f"{'' if b.activation == 'linear' else f', then applies {b.activation}'}.",
                           "inputs": a_prev, "weight": w.copy(), "bias": None if bias is None else bias.copy(),
                           "z": z, "a": a, "input_labels": in_labels, "output_labels": out_labels,
                           "weight_labels": names["weights"][b.number - 1],
                           "bias_labels": names["biases"][b.number - 1]})
            continue
        for j, label in enumerate(out_labels):
            terms = [{"input_label": in_labels[i], "weight_label": names["weights"][b.number - 1][i][j],
                      "input": _col(a_prev, i), "weight": float(w[i, j]), "product": _col(a_prev, i) * w[i, j]}
                     for i in range(w.shape[0])]
            stages.append({**base, "neuron": j, "neuron_label": label, "title": f"Forward: {label}",
                           "caption": f"{label} adds up each input times the weight on its link"
                                      f"{' plus its bias' if bias is not None else ''}"
                                      f"{'' if b.activation == 'linear' else f', then applies {b.activation}'}.",
                           "terms": terms, "bias": None if bias is None else float(bias[j]),
                           "bias_label": None if bias is None else names["biases"][b.number - 1][j],
                           "z": _col(z, j), "a": _col(a, j)})
    return stages


def _loss_stage(trainer: Trainer, value: float, labels: np.ndarray) -> dict[str, Any]:
    net = trainer.net
    out = net.trace[-1].output
    target = trainer.loss.prepare_target(trainer.targets(labels), out.shape, net.dtype)
    n = out.shape[0]
    per_example = trainer.loss.per_example(out, target)
    captions = {
        "mse": "The error ½(prediction − target)² measures how far off the prediction is; Δ = prediction − target "
               "is how much, with its sign.",
        "bce": "Cross-entropy −y log ŷ − (1 − y) log(1 − ŷ) is small when the predicted probability of the right "
               "answer is high.",
    }
    return {"phase": "loss", "layer": None, "neuron": None, "title": "Loss", "loss_name": trainer.loss.name,
            "caption": captions.get(trainer.loss.name, "The loss compares the output with the target."),
            "prediction": out, "target": target, "per_example": per_example, "value": value,
            "delta": out - target, "dE_dout": net.trace[-1].grad_output * n}


def _backward_stages(trainer: Trainer, blocks: list[Block], names: dict[str, Any], granularity: str,
                     n: int) -> list[dict]:
    net = trainer.net
    stages = []
    for b in reversed(blocks):
        dense = net.layers[b.dense_index]
        top = b.activation_index if b.activation_index is not None else b.dense_index
        de_da = net.trace[top].grad_output * n
        delta = net.trace[b.dense_index].grad_output * n
        z = net.trace[b.dense_index].output
        g_prime = evaluate(b.activation, z)[1] if b.activation != "softmax" else None
        a_prev = net.trace[b.dense_index].input
        w = dense.params["weight"]
        in_labels, out_labels = names["neurons"][b.number - 1], names["neurons"][b.number]
        w_labels = names["weights"][b.number - 1]
        b_labels = names["biases"][b.number - 1]
        is_last = b.number == len(blocks)
        next_block = None if is_last else blocks[b.number]
        base = {"phase": "backward", "layer": b.number, "activation": b.activation}
        if granularity == "layer":
            stages.append({**base, "neuron": None, "title": f"Backward: layer {b.number}",
                           "caption": f"The chain rule carries ∂E/∂a back through layer {b.number}: times g′(z) "
                                      "gives δ, times the inputs gives each weight's gradient.",
                           "dE_da": de_da, "g_prime": g_prime, "delta": delta, "inputs": a_prev,
                           "grad_weight": dense.grads["weight"].copy(),
                           "grad_bias": dense.grads["bias"].copy() if "bias" in dense.grads else None,
                           "dE_dinputs": net.trace[b.dense_index].grad_input * n,
                           "input_labels": in_labels, "output_labels": out_labels, "weight_labels": w_labels,
                           "bias_labels": b_labels})
            continue
        for j, label in enumerate(out_labels):
            if is_last:
                sources = None
            else:
                nxt = net.layers[next_block.dense_index]
                nxt_delta = net.trace[next_block.dense_index].grad_output * n
                w_next = nxt.params["weight"]
                sources = [{"weight_label": names["weights"][b.number][j][k], "weight": float(w_next[j, k]),
                            "delta_label": names["neurons"][b.number + 1][k], "delta": _col(nxt_delta, k)}
                           for k in range(nxt.params["weight"].shape[1])]
            weight_grads = [{"weight_label": w_labels[i][j], "input_label": in_labels[i], "input": _col(a_prev, i),
                             "per_example": _col(delta, j) * a_prev[:, i],
                             "grad": float(dense.grads["weight"][i, j])} for i in range(w.shape[0])]
            bias_grad = None
            if "bias" in dense.grads:
                bias_grad = {"bias_label": b_labels[j], "per_example": _col(delta, j),
                             "grad": float(dense.grads["bias"][j])}
            stages.append({**base, "neuron": j, "neuron_label": label, "title": f"Backward: {label}",
                           "caption": f"How much the error changes when {label} changes a little (∂E/∂{label}), "
                                      "and from it the gradient of every weight into it.",
                           "dE_da": _col(de_da, j), "dE_da_sources": sources, "z": _col(z, j),
                           "g_prime": None if g_prime is None else _col(g_prime, j), "delta": _col(delta, j),
                           "weight_grads": weight_grads, "bias_grad": bias_grad})
    return stages


def _update_stage(trainer: Trainer, blocks: list[Block], names: dict[str, Any], before: dict[str, np.ndarray],
                  after: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> dict[str, Any]:
    opt = trainer.optimizer
    params = []
    for b in blocks:
        for pname in ("weight", "bias"):
            key = f"{b.dense_index}.{pname}"
            if key not in before:
                continue
            old, new, g = before[key], after[key], grads[key]
            for idx in np.ndindex(old.shape):
                label = (names["weights"][b.number - 1][idx[0]][idx[1]] if pname == "weight"
                         else names["biases"][b.number - 1][idx[0]])
                params.append({"order": (b.number, pname != "weight", idx[::-1]), "label": label,
                               "layer": b.number, "name": pname, "index": list(idx),
                               "old": float(old[idx]), "grad": float(g[idx]), "new": float(new[idx])})
    params.sort(key=lambda p: p.pop("order"))
    rules = {"sgd": "w ← w − α · ∂E/∂w", "momentum": "v ← μv − α · ∂E/∂w;  w ← w + v",
             "adam": "w ← w − α · m̂ / (√v̂ + ε)"}
    reg = "" if opt.regularization == "none" else f" (the gradient includes the {opt.regularization.upper()} term)"
    return {"phase": "update", "layer": None, "neuron": None, "title": "Update",
            "caption": f"Every weight moves a small step (α = {opt.learning_rate:g}) against its gradient{reg}.",
            "rule": rules[opt.name], "optimizer": opt.name, "learning_rate": opt.learning_rate, "params": params,
            "before": {k: v for k, v in before.items()}, "after": {k: v for k, v in after.items()}}
