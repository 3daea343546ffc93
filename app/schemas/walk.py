"""Schemas of the backprop walk (/api/networks/{id}/walk): one model per kind of stage, in a union told apart by
`kind`. Arrays hold one row per data point (N rows); a "column" is one neuron's values over the N points.
Per-point quantities are given without the 1/N of the batch mean; every gradient is their mean."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from .common import ArrayJSON, NumbersOrRows, Rows


class WalkRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Literal["next", "back"] = Field("next", description="Move one stage forward or back")
    granularity: Literal["layer", "neuron"] = Field(
        "layer", description="One stage per layer, or per neuron; changing it restarts the walk")
    inputs: Rows | None = Field(None, description="Data points for a new walk (default: the "
                                                                     "first mini-batch of the session's data)")
    targets: NumbersOrRows | None = Field(None, description="Their targets")
    to: int | None = Field(None, ge=-1, description="Jump straight to this stage (−1: before the first; past the "
                                                    "last: the last) instead of moving one; `action` is then "
                                                    "ignored")


class WalkLabels(BaseModel):
    neurons: list[list[str]] = Field(description="Per layer, input first: neuron names (i1, h1, prediction, o1…)")
    weights: list[list[list[str]]] = Field(description="Per dense layer: weight names (w1…) as [from][to]")
    biases: list[list[str] | None] = Field(description="Per dense layer: bias names (b1…), null without biases")


class _Stage(BaseModel):
    index: int = Field(description="Position of the stage in the step, from 0")
    title: str = Field(description="Short name, e.g. 'Backward: h1'")
    caption: str = Field(description="One sentence on what the stage computes")


class ForwardLayerStage(_Stage):
    """Forward through a whole layer: z = inputs · weight + bias, a = g(z)."""

    kind: Literal["forward_layer"]
    phase: Literal["forward"]
    layer: int = Field(description="Dense layer, from 1")
    neuron: None = Field(None, description="null: the stage covers the whole layer")
    activation: str = Field(description="The activation g after the layer (linear when none)")
    inputs: ArrayJSON = Field(description="(N, in): what the layer received")
    weight: ArrayJSON = Field(description="(in, out): the weights the pass used")
    bias: ArrayJSON | None = Field(description="(out,): the biases, null without")
    z: ArrayJSON = Field(description="(N, out): the weighted sums")
    a: ArrayJSON = Field(description="(N, out): g(z)")


class ForwardTerm(BaseModel):
    input_label: str
    weight_label: str
    input: ArrayJSON = Field(description="(N,): the input on this link")
    weight: float
    product: ArrayJSON = Field(description="(N,): input × weight")


class ForwardNeuronStage(_Stage):
    """Forward through one neuron: z = Σ input · weight + bias, a = g(z)."""

    kind: Literal["forward_neuron"]
    phase: Literal["forward"]
    layer: int = Field(description="Dense layer, from 1")
    neuron: int = Field(description="Neuron of the layer, from 0")
    neuron_label: str
    activation: str = Field(description="The activation g (linear when none)")
    terms: list[ForwardTerm] = Field(description="One per input link")
    bias: float | None
    bias_label: str | None
    z: ArrayJSON = Field(description="(N,): the weighted sum")
    a: ArrayJSON = Field(description="(N,): g(z)")


class LossStage(_Stage):
    """The loss per data point and its mean over them."""

    kind: Literal["loss"]
    phase: Literal["loss"]
    layer: None = Field(None, description="null: the loss concerns the whole output")
    neuron: None = None
    loss_name: str = Field(description="mse, bce, cross_entropy or softmax_cross_entropy")
    prediction: ArrayJSON = Field(description="(N, outputs): the network's output")
    target: ArrayJSON = Field(description="(N, outputs): the targets as the loss compares them")
    delta: ArrayJSON = Field(description="(N, outputs): Δ = prediction − target")
    per_example: ArrayJSON = Field(description="(N,): the loss of each data point (from the logits where the "
                                               "output activation is fused with the loss)")
    value: float = Field(description="The mean loss E")


class BackwardLayerStage(_Stage):
    """Backward through a whole layer: δ = ∂E/∂a ⊙ g′(z), ∂E/∂W = inputsᵀ δ / N, ∂E/∂inputs = δ Wᵀ."""

    kind: Literal["backward_layer"]
    phase: Literal["backward"]
    layer: int = Field(description="Dense layer, from 1")
    neuron: None = Field(None, description="null: the stage covers the whole layer")
    activation: str
    dE_da: ArrayJSON = Field(description="(N, out): ∂E/∂a per data point")
    g_prime: ArrayJSON | None = Field(description="(N, out): g′(z); null for softmax, whose slope is not one number "
                                                  "per neuron")
    delta: ArrayJSON = Field(description="(N, out): δ = ∂E/∂z per data point")
    inputs: ArrayJSON = Field(description="(N, in): the layer's inputs")
    grad_weight: ArrayJSON = Field(description="(in, out): ∂E/∂W")
    grad_bias: ArrayJSON | None = Field(description="(out,): ∂E/∂b, null without biases")
    dE_dinputs: ArrayJSON = Field(description="(N, in): ∂E/∂(inputs) per data point, what the layer below receives")


class DeltaSource(BaseModel):
    """A link through which the error reaches a hidden neuron."""

    weight_label: str
    weight: float
    delta_label: str = Field(description="The neuron at the link's far end")
    delta: ArrayJSON = Field(description="(N,): δ of that neuron")


class WeightGrad(BaseModel):
    weight_label: str
    input_label: str
    input: ArrayJSON = Field(description="(N,): the input on this link")
    per_example: ArrayJSON = Field(description="(N,): δ × input")
    grad: float = Field(description="∂E/∂w, the mean of per_example")


class BiasGrad(BaseModel):
    bias_label: str
    per_example: ArrayJSON = Field(description="(N,): δ")
    grad: float = Field(description="∂E/∂b, the mean of per_example")


class BackwardNeuronStage(_Stage):
    """Backward through one neuron: ∂E/∂a, δ, and the gradient of every weight into it."""

    kind: Literal["backward_neuron"]
    phase: Literal["backward"]
    layer: int = Field(description="Dense layer, from 1")
    neuron: int = Field(description="Neuron of the layer, from 0")
    neuron_label: str
    activation: str
    dE_da: ArrayJSON = Field(description="(N,): ∂E/∂a")
    dE_da_sources: list[DeltaSource] | None = Field(description="The links that carry the error to this neuron; "
                                                                "null for an output neuron")
    z: ArrayJSON = Field(description="(N,)")
    g_prime: ArrayJSON | None = Field(description="(N,): g′(z); null for softmax")
    delta: ArrayJSON = Field(description="(N,): δ = ∂E/∂z")
    weight_grads: list[WeightGrad] = Field(description="One per weight into the neuron")
    bias_grad: BiasGrad | None


class ParamUpdate(BaseModel):
    label: str = Field(description="w1…, b1…")
    layer: int = Field(description="Dense layer, from 1")
    name: Literal["weight", "bias"]
    index: list[int]
    old: float
    grad: float
    new: float


class UpdateStage(_Stage):
    """The optimiser's step."""

    kind: Literal["update"]
    phase: Literal["update"]
    layer: None = None
    neuron: None = None
    optimizer: str = Field(description="sgd, momentum or adam")
    rule: str = Field(description="The update rule, in words and symbols")
    learning_rate: float
    params: list[ParamUpdate] = Field(description="Every weight and bias: old value, gradient, new value")
    before: dict[str, ArrayJSON] = Field(description="'layer.name' → the parameter before the step")
    after: dict[str, ArrayJSON] = Field(description="'layer.name' → the parameter after the step")


WalkStage = Annotated[
    ForwardLayerStage | ForwardNeuronStage | LossStage | BackwardLayerStage | BackwardNeuronStage | UpdateStage,
    Field(discriminator="kind"),
]


class StageSummary(BaseModel):
    index: int
    kind: str = Field(description="forward_layer, forward_neuron, loss, backward_layer, backward_neuron or update")
    phase: Literal["forward", "loss", "backward", "update"]
    title: str
    layer: int | None
    neuron: int | None


class WalkState(BaseModel):
    granularity: Literal["layer", "neuron"] | None
    position: int = Field(description="Index of the stage last revealed; −1 before the first")
    total: int
    step: int = Field(description="Optimiser steps taken by the session")
    stages: list[StageSummary] = Field(description="Title and phase of every stage of this step")
    revealed: list[WalkStage] = Field(description="Every revealed stage with its numbers, in order")
    current: WalkStage | None = Field(description="The stage at `position`")
    labels: WalkLabels | None = Field(description="Names of neurons, weights and biases (given for any dense "
                                                  "network, walking or not; null for other networks)")
    points: ArrayJSON | None = Field(None, description="The step's data points as given (raw x1, x2 when the "
                                                       "network uses features)")
    inputs: ArrayJSON | None = Field(None, description="The step's data points as the first layer sees them "
                                                       "(feature columns when features are set)")
    targets: ArrayJSON | None = Field(None, description="The step's targets as the loss compares them, one row "
                                                        "per data point")
    params: dict[str, ArrayJSON] = Field(default_factory=dict, description="'layer.name' → the network's "
                                         "parameters now: the old ones before the update stage, the new ones "
                                         "from it on")
