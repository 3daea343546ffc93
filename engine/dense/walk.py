"""A step-by-step cursor over one training step of a dense network.

The whole step (forward, loss, backward, update) is computed at once with the
engine's own forward/backward and optimiser; the cursor then reveals it one
stage at a time. Parameters on the network follow the cursor: before the
`update` stage they are the old values, at it the new ones, so stepping back
undoes the update exactly.

Each stage is a typed record, one dataclass per kind: `ForwardLayerStage` /
`ForwardNeuronStage` (one per layer, or per neuron, with granularity "layer"
or "neuron"), `LossStage`, `BackwardLayerStage` / `BackwardNeuronStage`, and
`UpdateStage`. `advance` is the cursor's state machine (the API's POST /walk),
`view` what the API returns.

Per-example quantities (one value per data point) are reported without the
1/N of the batch mean; every gradient is their mean, which is what the
optimiser uses.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from engine.core.activations import evaluate
from engine.core.errors import EngineError
from engine.core.layers import ACTIVATION_LAYERS, Dense
from engine.dense.trainer import Trainer

GRANULARITIES = ("layer", "neuron")
MAX_WALK_STAGES = 2000
Granularity = Literal["layer", "neuron"]


@dataclass
class Block:
    """A dense layer and the activation after it (linear when there is none)."""

    number: int  # 1-based, as on the page
    dense_index: int
    activation_index: int | None
    activation: str


@dataclass
class Labels:
    """Names as in the worked example: neurons i1, i2 → h1, h2 → prediction; weights w1… by (layer, from, to);
    biases b1… by (layer, neuron), None for a layer without biases."""

    neurons: list[list[str]]
    weights: list[list[list[str]]]
    biases: list[list[str] | None]


def dense_blocks(trainer: Trainer) -> list[Block]:
    layers = trainer.net.layers
    blocks: list[Block] = []
    # A leading flatten (a digit network's 1×28×28 → 784) only reshapes: the walk starts at the first dense layer.
    i = 1 if len(layers) > 1 and layers[0].type == "flatten" else 0
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


def dense_labels(trainer: Trainer) -> Labels:
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
    weights: list[list[list[str]]] = []
    biases: list[list[str] | None] = []
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
    return Labels(neurons, weights, biases)


# --- the stages -----------------------------------------------------------------------------------------------
# Arrays are (N, …) with one row per data point; "column" arrays (N,) are one neuron's values over the points.


@dataclass(kw_only=True)
class Stage:
    """What every stage has: its place in the step, a title and a caption; the layer (1-based) and neuron
    (0-based) it concerns, None where it concerns the whole network or the whole layer."""

    index: int = -1
    title: str
    caption: str
    layer: int | None = None
    neuron: int | None = None


@dataclass(kw_only=True)
class ForwardLayerStage(Stage):
    """Forward through a whole layer: z = inputs · weight + bias, a = g(z)."""

    kind: Literal["forward_layer"] = "forward_layer"
    phase: Literal["forward"] = "forward"
    activation: str
    inputs: np.ndarray  # (N, in)
    weight: np.ndarray  # (in, out)
    bias: np.ndarray | None  # (out,)
    z: np.ndarray  # (N, out)
    a: np.ndarray  # (N, out)


@dataclass(kw_only=True)
class ForwardTerm:
    """One input times the weight on its link, for every data point."""

    input_label: str
    weight_label: str
    input: np.ndarray  # (N,)
    weight: float
    product: np.ndarray  # (N,)


@dataclass(kw_only=True)
class ForwardNeuronStage(Stage):
    """Forward through one neuron: z = Σ input · weight + bias, a = g(z)."""

    kind: Literal["forward_neuron"] = "forward_neuron"
    phase: Literal["forward"] = "forward"
    neuron_label: str
    activation: str
    terms: list[ForwardTerm]
    bias: float | None
    bias_label: str | None
    z: np.ndarray  # (N,)
    a: np.ndarray  # (N,)


@dataclass(kw_only=True)
class LossStage(Stage):
    """The loss: per data point, and their mean (the value the optimiser descends)."""

    kind: Literal["loss"] = "loss"
    phase: Literal["loss"] = "loss"
    loss_name: str
    prediction: np.ndarray  # (N, outputs)
    target: np.ndarray  # (N, outputs)
    delta: np.ndarray  # prediction − target, (N, outputs)
    per_example: np.ndarray  # (N,)
    value: float


@dataclass(kw_only=True)
class BackwardLayerStage(Stage):
    """Backward through a whole layer: δ = ∂E/∂a ⊙ g′(z), ∂E/∂W = inputsᵀ δ / N, ∂E/∂inputs = δ Wᵀ."""

    kind: Literal["backward_layer"] = "backward_layer"
    phase: Literal["backward"] = "backward"
    activation: str
    dE_da: np.ndarray  # (N, out)
    g_prime: np.ndarray | None  # (N, out); None for softmax, whose slope is not one number per neuron
    delta: np.ndarray  # (N, out)
    inputs: np.ndarray  # (N, in)
    grad_weight: np.ndarray  # (in, out)
    grad_bias: np.ndarray | None  # (out,)
    dE_dinputs: np.ndarray  # (N, in)


@dataclass(kw_only=True)
class DeltaSource:
    """A link through which the error reaches a hidden neuron: the weight on it and the δ at its far end."""

    weight_label: str
    weight: float
    delta_label: str
    delta: np.ndarray  # (N,)


@dataclass(kw_only=True)
class WeightGrad:
    """The gradient of one weight into a neuron: the mean over the points of δ · input."""

    weight_label: str
    input_label: str
    input: np.ndarray  # (N,)
    per_example: np.ndarray  # δ · input, (N,)
    grad: float


@dataclass(kw_only=True)
class BiasGrad:
    bias_label: str
    per_example: np.ndarray  # δ, (N,)
    grad: float


@dataclass(kw_only=True)
class BackwardNeuronStage(Stage):
    """Backward through one neuron: ∂E/∂a from the links above it, δ, and the gradient of every weight into it."""

    kind: Literal["backward_neuron"] = "backward_neuron"
    phase: Literal["backward"] = "backward"
    neuron_label: str
    activation: str
    dE_da: np.ndarray  # (N,)
    dE_da_sources: list[DeltaSource] | None  # None for an output neuron
    z: np.ndarray  # (N,)
    g_prime: np.ndarray | None  # (N,)
    delta: np.ndarray  # (N,)
    weight_grads: list[WeightGrad]
    bias_grad: BiasGrad | None


@dataclass(kw_only=True)
class ParamUpdate:
    """One weight or bias before and after the update."""

    label: str
    layer: int  # 1-based dense layer, as in the stages
    name: str  # weight or bias
    index: list[int]
    old: float
    grad: float
    new: float


@dataclass(kw_only=True)
class UpdateStage(Stage):
    """The optimiser's step: every parameter's old value, gradient and new value."""

    kind: Literal["update"] = "update"
    phase: Literal["update"] = "update"
    optimizer: str
    rule: str
    learning_rate: float
    params: list[ParamUpdate]
    before: dict[str, np.ndarray]  # 'layer.name' → the parameter before the step
    after: dict[str, np.ndarray]  # … and after it


AnyStage = ForwardLayerStage | ForwardNeuronStage | LossStage | BackwardLayerStage | BackwardNeuronStage | UpdateStage


@dataclass
class StageSummary:
    """What the list of a step's stages shows before they are revealed."""

    index: int
    kind: str
    phase: str
    title: str
    layer: int | None
    neuron: int | None


@dataclass
class Walk:
    granularity: str
    stages: list[AnyStage]
    update_index: int
    state_before: dict[str, np.ndarray]
    state_after: dict[str, np.ndarray]
    optimizer_before: Any
    optimizer_after: Any
    step_before: int
    labels: Labels
    inputs: np.ndarray  # the data points as given
    targets: np.ndarray  # their labels as given
    network_inputs: np.ndarray  # what the first layer saw (feature columns when features are set)
    loss_targets: np.ndarray  # the targets as the loss compares them, one row per data point
    position: int = -1

    @property
    def finished(self) -> bool:
        return self.position == len(self.stages) - 1


@dataclass
class WalkView:
    """Where the cursor stands: what the API answers (arrays still NumPy)."""

    granularity: str | None
    position: int
    total: int
    step: int
    stages: list[StageSummary]
    revealed: list[AnyStage]
    current: AnyStage | None
    labels: Labels | None
    points: np.ndarray | None
    inputs: np.ndarray | None
    targets: np.ndarray | None
    params: dict[str, np.ndarray] = field(default_factory=dict)


# --- the cursor ---------------------------------------------------------------------------------------------


def start_walk(trainer: Trainer, granularity: str, x: np.ndarray | None = None,
               labels: np.ndarray | None = None) -> Walk:
    """Compute one whole training step on `x` (default: the first mini-batch of the data) and wrap it in a
    walk whose cursor stands before its first stage; the network keeps its starting parameters."""
    if granularity not in GRANULARITIES:
        raise EngineError(f"granularity must be one of {list(GRANULARITIES)}, got '{granularity}'")
    blocks = dense_blocks(trainer)
    names = dense_labels(trainer)
    if granularity == "neuron":
        neurons = sum(len(n) for n in names.neurons[1:])
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
    network_inputs = net.trace[0].input.reshape(n, -1).copy()  # as the first dense layer reads them
    loss_targets = trainer.loss.prepare_target(trainer.targets(labels), net.trace[-1].output.shape, net.dtype)
    stages: list[AnyStage] = []
    stages += _forward_stages(trainer, blocks, names, granularity)
    stages.append(_loss_stage(trainer, value, loss_targets))
    grads = {f"{i}.{k}": g.copy() for i, layer in enumerate(net.layers) for k, g in layer.grads.items()}
    stages += _backward_stages(trainer, blocks, names, granularity, n)
    opt.step(net.layers)
    state_after = net.get_state()
    opt_after = (copy.deepcopy(opt.state), opt.t)
    stages.append(_update_stage(trainer, blocks, names, state_before, state_after, grads))
    net.set_state(state_before)
    opt.state, opt.t = copy.deepcopy(opt_before[0]), opt_before[1]
    for k, stage in enumerate(stages):
        stage.index = k
    return Walk(granularity, stages, len(stages) - 1, state_before, state_after, opt_before, opt_after,
                trainer.step_count, labels=names, inputs=np.asarray(x), targets=np.asarray(labels),
                network_inputs=network_inputs, loss_targets=loss_targets)


def move(trainer: Trainer, walk: Walk, delta: int) -> None:
    """Move the cursor by `delta` stages (clamped to the step) and put the matching parameters on the network."""
    walk.position = max(-1, min(len(walk.stages) - 1, walk.position + delta))
    applied = walk.position >= walk.update_index
    net, opt = trainer.net, trainer.optimizer
    net.set_state(walk.state_after if applied else walk.state_before)
    source = walk.optimizer_after if applied else walk.optimizer_before
    opt.state, opt.t = copy.deepcopy(source[0]), source[1]
    trainer.step_count = walk.step_before + (1 if applied else 0)


def rewind(trainer: Trainer, walk: Walk) -> None:
    """Back to the start of the walk's step: its update, if revealed, is undone."""
    move(trainer, walk, -(walk.position + 1))


def advance(trainer: Trainer, granularity: str, action: Literal["next", "back"] = "next", to: int | None = None,
            inputs: np.ndarray | None = None, targets: np.ndarray | None = None) -> Walk:
    """The cursor's state machine: reveal the next (or previous) stage of the step, or jump `to` a stage
    (−1: before the first; past the last: the last).

    A new step is computed (from the parameters the network has then) when there is no walk yet, when
    `inputs` are given, when the granularity changes (the step restarts from its starting parameters), and
    on `next` past the update stage: the next step walks the same data points from the new parameters.
    """
    walk: Walk | None = trainer.walk
    fresh = inputs is not None or walk is None or walk.granularity != granularity
    if walk is not None and fresh:
        rewind(trainer, walk)
    if to is None and action == "next" and walk is not None and not fresh and walk.finished:
        fresh = True  # the update is applied: the next stage belongs to the next step
    if fresh:
        if inputs is None and walk is not None:  # keep walking the same data points
            inputs, targets = walk.inputs, walk.targets
        trainer.walk = walk = start_walk(trainer, granularity, inputs, targets)
    assert walk is not None
    if to is not None:
        move(trainer, walk, min(to, len(walk.stages) - 1) - walk.position)
    elif action == "next" or not fresh:
        move(trainer, walk, 1 if action == "next" else -1)
    return walk


def undo_unfinished(trainer: Trainer) -> None:
    """Before the network changes under a walk: put back the starting parameters of a step not walked to its end
    (the walk itself stays, at its start)."""
    if trainer.walk is not None and not trainer.walk.finished:
        rewind(trainer, trainer.walk)


def forget(trainer: Trainer) -> None:
    """Undo a revealed-but-unfinished step (its update, if shown) and drop the walk."""
    undo_unfinished(trainer)
    trainer.walk = None


def starting_state(trainer: Trainer) -> dict[str, np.ndarray] | None:
    """The parameters an unfinished walk started its step from (None without one): what a rebuilt network keeps."""
    walk: Walk | None = trainer.walk
    return walk.state_before if walk is not None and not walk.finished else None


def view(trainer: Trainer) -> WalkView:
    """Where the cursor stands, the stages revealed so far and the network's parameters now."""
    walk: Walk | None = trainer.walk
    params = trainer.net.param_arrays()
    if walk is None:
        try:
            labels: Labels | None = dense_labels(trainer)
        except EngineError:  # not a dense network: nothing to name
            labels = None
        return WalkView(None, -1, 0, trainer.step_count, [], [], None, labels, None, None, None, params)
    revealed = walk.stages[: walk.position + 1]
    summaries = [StageSummary(s.index, s.kind, s.phase, s.title, s.layer, s.neuron) for s in walk.stages]
    return WalkView(walk.granularity, walk.position, len(walk.stages), trainer.step_count, summaries, revealed,
                    revealed[-1] if revealed else None, walk.labels, walk.inputs, walk.network_inputs,
                    walk.loss_targets, params)


# --- computing the stages -----------------------------------------------------------------------------------


def _col(a: np.ndarray, j: int) -> np.ndarray:
    return np.ascontiguousarray(a[:, j])


def _traced(value: np.ndarray | None) -> np.ndarray:
    """A gradient the backward pass filled in the trace."""
    assert value is not None, "the walk's backward pass fills every gradient in the trace"
    return value


def _forward_stages(trainer: Trainer, blocks: list[Block], names: Labels,
                    granularity: str) -> list[ForwardLayerStage | ForwardNeuronStage]:
    net = trainer.net
    stages: list[ForwardLayerStage | ForwardNeuronStage] = []
    for b in blocks:
        dense = net.layers[b.dense_index]
        a_prev = net.trace[b.dense_index].input
        z = net.trace[b.dense_index].output
        a = net.trace[b.activation_index].output if b.activation_index is not None else z
        w = dense.params["weight"]
        bias = dense.params.get("bias")
        in_labels, out_labels = names.neurons[b.number - 1], names.neurons[b.number]
        plus_bias = " plus its bias" if bias is not None else ""
        then = "" if b.activation == "linear" else f", then applies {b.activation}"
        if granularity == "layer":
            stages.append(ForwardLayerStage(
                layer=b.number, activation=b.activation, title=f"Forward: layer {b.number}",
                caption=f"Every neuron of layer {b.number} takes the weighted sum of the layer before{plus_bias}"
                        f"{then}.",
                inputs=a_prev, weight=w.copy(), bias=None if bias is None else bias.copy(), z=z, a=a))
            continue
        bias_labels = names.biases[b.number - 1]
        for j, label in enumerate(out_labels):
            terms = [ForwardTerm(input_label=in_labels[i], weight_label=names.weights[b.number - 1][i][j],
                                 input=_col(a_prev, i), weight=float(w[i, j]), product=_col(a_prev, i) * w[i, j])
                     for i in range(w.shape[0])]
            stages.append(ForwardNeuronStage(
                layer=b.number, neuron=j, neuron_label=label, activation=b.activation, title=f"Forward: {label}",
                caption=f"{label} adds up each input times the weight on its link{plus_bias}{then}.",
                terms=terms, bias=None if bias is None else float(bias[j]),
                bias_label=None if bias_labels is None else bias_labels[j], z=_col(z, j), a=_col(a, j)))
    return stages


LOSS_CAPTIONS = {
    "mse": "The error ½(prediction − target)² measures how far off the prediction is; Δ = prediction − target "
           "is how much, with its sign.",
    "bce": "Cross-entropy −y log ŷ − (1 − y) log(1 − ŷ) is small when the predicted probability of the right "
           "answer is high.",
}


def _loss_stage(trainer: Trainer, value: float, target: np.ndarray) -> LossStage:
    net = trainer.net
    out = net.trace[-1].output
    per_example = trainer.loss.network_per_example(net.layers[-1].type, out, net.trace[-1].input, target)
    return LossStage(title="Loss", loss_name=trainer.loss.name,
                     caption=LOSS_CAPTIONS.get(trainer.loss.name, "The loss compares the output with the target."),
                     prediction=out, target=target, per_example=per_example, value=value, delta=out - target)


def _backward_stages(trainer: Trainer, blocks: list[Block], names: Labels, granularity: str,
                     n: int) -> list[BackwardLayerStage | BackwardNeuronStage]:
    net = trainer.net
    stages: list[BackwardLayerStage | BackwardNeuronStage] = []
    for b in reversed(blocks):
        dense = net.layers[b.dense_index]
        top = b.activation_index if b.activation_index is not None else b.dense_index
        de_da = _traced(net.trace[top].grad_output) * n
        delta = _traced(net.trace[b.dense_index].grad_output) * n
        z = net.trace[b.dense_index].output
        g_prime = evaluate(b.activation, z)[1] if b.activation != "softmax" else None
        a_prev = net.trace[b.dense_index].input
        w = dense.params["weight"]
        in_labels, out_labels = names.neurons[b.number - 1], names.neurons[b.number]
        w_labels = names.weights[b.number - 1]
        b_labels = names.biases[b.number - 1]
        if granularity == "layer":
            stages.append(BackwardLayerStage(
                layer=b.number, activation=b.activation, title=f"Backward: layer {b.number}",
                caption=f"The chain rule carries ∂E/∂a back through layer {b.number}: times g′(z) gives δ, times "
                        "the inputs gives each weight's gradient.",
                dE_da=de_da, g_prime=g_prime, delta=delta, inputs=a_prev, grad_weight=dense.grads["weight"].copy(),
                grad_bias=dense.grads["bias"].copy() if "bias" in dense.grads else None,
                dE_dinputs=_traced(net.trace[b.dense_index].grad_input) * n))
            continue
        sources_of = _delta_sources(trainer, blocks, names, b, n)
        for j, label in enumerate(out_labels):
            weight_grads = [WeightGrad(weight_label=w_labels[i][j], input_label=in_labels[i], input=_col(a_prev, i),
                                       per_example=_col(delta, j) * a_prev[:, i],
                                       grad=float(dense.grads["weight"][i, j])) for i in range(w.shape[0])]
            bias_grad = None
            if "bias" in dense.grads and b_labels is not None:
                bias_grad = BiasGrad(bias_label=b_labels[j], per_example=_col(delta, j),
                                     grad=float(dense.grads["bias"][j]))
            stages.append(BackwardNeuronStage(
                layer=b.number, neuron=j, neuron_label=label, activation=b.activation, title=f"Backward: {label}",
                caption=f"How much the error changes when {label} changes a little (∂E/∂{label}), and from it the "
                        "gradient of every weight into it.",
                dE_da=_col(de_da, j), dE_da_sources=sources_of(j), z=_col(z, j),
                g_prime=None if g_prime is None else _col(g_prime, j), delta=_col(delta, j),
                weight_grads=weight_grads, bias_grad=bias_grad))
    return stages


def _delta_sources(trainer: Trainer, blocks: list[Block], names: Labels, block: Block,
                   n: int) -> Callable[[int], list[DeltaSource] | None]:
    """For neuron j of `block`: the links to the next layer and the δ at their ends (None for the output layer)."""
    if block.number == len(blocks):
        return lambda j: None
    net = trainer.net
    nxt = blocks[block.number]
    w_next = net.layers[nxt.dense_index].params["weight"]
    nxt_delta = _traced(net.trace[nxt.dense_index].grad_output) * n

    def sources(j: int) -> list[DeltaSource]:
        return [DeltaSource(weight_label=names.weights[block.number][j][k], weight=float(w_next[j, k]),
                            delta_label=names.neurons[block.number + 1][k], delta=_col(nxt_delta, k))
                for k in range(w_next.shape[1])]

    return sources


UPDATE_RULES = {"sgd": "w ← w − α · ∂E/∂w", "momentum": "v ← μv − α · ∂E/∂w;  w ← w + v",
                "adam": "w ← w − α · m̂ / (√v̂ + ε)"}


def _update_stage(trainer: Trainer, blocks: list[Block], names: Labels, before: dict[str, np.ndarray],
                  after: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> UpdateStage:
    opt = trainer.optimizer
    ordered: list[tuple[tuple[Any, ...], ParamUpdate]] = []
    for b in blocks:
        bias_labels = names.biases[b.number - 1]
        for pname in ("weight", "bias"):
            key = f"{b.dense_index}.{pname}"
            if key not in before:
                continue
            old, new, g = before[key], after[key], grads[key]
            for idx in np.ndindex(old.shape):
                if pname == "weight":
                    label = names.weights[b.number - 1][idx[0]][idx[1]]
                else:
                    assert bias_labels is not None
                    label = bias_labels[idx[0]]
                ordered.append(((b.number, pname != "weight", idx[::-1]), ParamUpdate(
                    label=label, layer=b.number, name=pname, index=list(idx), old=float(old[idx]),
                    grad=float(g[idx]), new=float(new[idx]))))
    ordered.sort(key=lambda item: item[0])
    reg = "" if opt.regularization == "none" else f" (the gradient includes the {opt.regularization.upper()} term)"
    return UpdateStage(title="Update",
                       caption=f"Every weight moves a small step (α = {opt.learning_rate:g}) against its "
                               f"gradient{reg}.",
                       rule=UPDATE_RULES[opt.name], optimizer=opt.name, learning_rate=opt.learning_rate,
                       params=[p for _, p in ordered], before=dict(before), after=dict(after))
