"""Schemas of the single-neuron explorer: activations and losses on lists of points, one neuron, its input plane."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from .common import ArrayJSON, FiniteFloat

Points = Annotated[list[FiniteFloat], Field(min_length=1)]
Rows = Annotated[list[list[FiniteFloat]], Field(min_length=1)]
ACTIVATION_NAMES = "step, sigmoid, tanh, relu, linear (alias identity, none) or softmax"


class ActivationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"activation": "tanh", "z": [-2, -1, 0, 1, 2]},
        {"activation": "softmax", "z": [[2.0, 1.0, 0.1], [0.0, 0.0, 0.0]]},
    ]})

    activation: str = Field(description=f"The activation g: {ACTIVATION_NAMES}")
    z: Points | Rows = Field(
        description="Points z at which to evaluate g and g′. Element-wise activations take a list or a list of "
                    "rows. Softmax works across neurons: a list is one group of neurons, each row of a list of "
                    "rows is a group of its own.")


class ActivationInfo(BaseModel):
    name: str = Field(description="The canonical name, as a network spec's layer `type` or an `activation`")
    elementwise: bool = Field(description="True when g acts on each neuron alone; false for softmax, which "
                                          "normalises across a layer's neurons")


class ActivationList(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "activations": [{"name": "linear", "elementwise": True}, {"name": "softmax", "elementwise": False}],
        "aliases": {"none": "linear", "identity": "linear"}}]})

    activations: list[ActivationInfo] = Field(description="Every activation the engine knows")
    aliases: dict[str, str] = Field(description="Other names accepted for an activation → its canonical name")


class ActivationResult(BaseModel):
    activation: str = Field(description="The activation's canonical name")
    z: ArrayJSON = Field(description="The points, as sent")
    value: ArrayJSON = Field(description="g(z), same shape as z")
    derivative: ArrayJSON = Field(
        description="g′(z), same shape as z. Step: 0 everywhere (its jump at 0 has no derivative); ReLU: 0 at z = 0; "
                    "softmax: the Jacobian's diagonal ∂sᵢ/∂zᵢ = sᵢ(1 − sᵢ)")


class LossRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"loss": "bce", "target": 1, "predictions": [0.1, 0.5, 0.9]}]})

    loss: str = Field(description="mse (alias squared_error): ½(y − ŷ)²; bce (alias binary_cross_entropy): "
                                  "−y log ŷ − (1 − y) log(1 − ŷ)")
    target: FiniteFloat = Field(description="The target y (between 0 and 1 for bce)")
    predictions: list[FiniteFloat] = Field(min_length=1, description="Predictions ŷ (between 0 and 1 for bce)")


class LossResult(BaseModel):
    loss: str = Field(description="The loss's canonical name")
    target: float = Field(description="The target y")
    predictions: list[float] = Field(description="The predictions ŷ, as sent")
    value: list[float] = Field(description="L(y, ŷ) at each prediction, not averaged")
    derivative: list[float] = Field(description="∂L/∂ŷ at each prediction")
    derivative_z: list[float] | None = Field(
        description="∂L/∂z at each prediction when the output is a sigmoid, ŷ = σ(z), as training computes it: "
                    "(ŷ − y)·ŷ(1 − ŷ) for mse, ŷ − y for bce. Null when a prediction lies outside [0, 1]")


class NeuronRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"inputs": [1.0, 0.5, -1.0], "weights": [0.8, -0.4, 0.3], "bias": 0.1, "activation": "sigmoid"},
        {"inputs": [1.0, 0.5, -1.0], "weights": [0.8, -0.4, 0.3], "bias": 0.1, "activation": "softmax",
         "other_z": [0.5, -1.0]},
    ]})

    inputs: list[FiniteFloat] = Field(min_length=1, description="The inputs xᵢ")
    weights: list[FiniteFloat] = Field(min_length=1, description="One weight wᵢ per input")
    bias: FiniteFloat = Field(0.0, description="The bias b")
    activation: str = Field("sigmoid", description=f"The activation g: {ACTIVATION_NAMES}")
    other_z: list[FiniteFloat] | None = Field(
        None, description="Softmax only: pre-activations of the other neurons in the layer; this neuron comes first")


class SoftmaxGroup(BaseModel):
    z: list[float] = Field(description="Pre-activations of the group: this neuron's z, then other_z")
    outputs: list[float] = Field(description="softmax(z): each neuron's share")
    total: float = Field(description="Sum of the outputs (1 up to rounding)")


class NeuronResult(BaseModel):
    activation: str = Field(description="The activation's canonical name")
    terms: list[float] = Field(description="xᵢ·wᵢ for each input")
    z: float = Field(description="The weighted sum z = Σ xᵢwᵢ + b")
    output: float = Field(description="a = g(z) (softmax: this neuron's share of the group)")
    derivative: float = Field(description="g′(z) (softmax: ∂a/∂z = a(1 − a))")
    fires: bool = Field(description="Whether the step function fires, z > 0: the biological all-or-nothing spike")
    softmax: SoftmaxGroup | None = Field(None, description="Softmax only: the whole group of neurons")


class PlaneRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"weights": [1.0, -0.5], "bias": 0.2, "activation": "tanh", "extent": 3, "resolution": 50},
        {"weights": [1.0, -0.5], "bias": 0.2, "activation": "sigmoid", "through": [[-1, -1], [1, 2]]},
    ]})

    weights: list[FiniteFloat] = Field(min_length=2, max_length=2, description="The weights w₁, w₂")
    bias: FiniteFloat = Field(0.0, description="The bias b")
    activation: str = Field("sigmoid", description=f"The activation g: {ACTIVATION_NAMES}")
    other_z: list[FiniteFloat] | None = Field(None, description="Softmax only: the other neurons' pre-activations")
    extent: FiniteFloat = Field(3.0, gt=0, le=1e6, description="The plane shown is [−extent, extent]²")
    resolution: int = Field(100, ge=2, description="Grid points per side")
    through: list[list[FiniteFloat]] | None = Field(
        None, description="Two points [[x₁, x₂], [x₁, x₂]]: first move the line z = 0 through them (the weights keep "
                          "their length and the positive side stays on the same side), as dragging a handle does")


class PlaneResult(BaseModel):
    activation: str = Field(description="The activation's canonical name")
    weights: list[float] = Field(description="w₁, w₂ (changed when 'through' was given)")
    bias: float = Field(description="b (changed when 'through' was given)")
    extent: float = Field(description="Half the side of the square shown")
    x1: list[float] = Field(description="x₁ of each column, left to right")
    x2: list[float] = Field(description="x₂ of each row, top to bottom")
    z: ArrayJSON = Field(description="w₁x₁ + w₂x₂ + b at each grid point, rows × columns")
    output: ArrayJSON = Field(description="g(z) at each grid point, rows × columns")
    line: list[list[float]] | None = Field(
        description="End points of the line w₁x₁ + w₂x₂ + b = 0 inside the square; null when it misses the square "
                    "or both weights are 0")
    handles: list[list[float]] | None = Field(description="Two points on the line to drag (the 'through' points "
                                                          "if given); null when there is no line")
