"""Schemas of the dense-network session API (/api/networks)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .common import ArrayJSON, FiniteFloat, NumbersOrRows, Rows
from .training import MetricsRecord


class LayerSpec(BaseModel):
    """One layer. Dense layers may carry an `activation`, which adds that activation layer after them."""

    model_config = ConfigDict(extra="allow", json_schema_extra={
        "examples": [{"type": "dense", "units": 4, "activation": "tanh"}, {"type": "relu"}]})

    type: str = Field(description="dense, linear, relu, tanh, sigmoid, step, softmax (more as features add them: "
                                  "conv2d, maxpool2d, avgpool2d, flatten, …)")
    units: int | None = Field(None, ge=1, le=100_000, description="Dense: number of neurons")
    activation: str | None = Field(None, description="Dense shorthand: activation applied after the layer")
    bias: bool | None = Field(None, description="Dense: whether the layer has a bias (default true)")
    init: str | None = Field(None, description="xavier (default), he, uniform (−0.5, 0.5), zeros, values")
    bias_init: FiniteFloat | None = Field(None, description="Dense: starting value of every bias (default 0)")
    weight: Rows | None = Field(None, description="Dense with init 'values': the (in, out) matrix")


class OptimizerSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["sgd", "momentum", "adam"] = Field("sgd", description="Optimiser")
    learning_rate: FiniteFloat = Field(0.03, gt=0, le=100, description="Step size α")
    momentum: FiniteFloat | None = Field(None, ge=0, lt=1, description="Momentum μ (momentum only; default 0.9)")
    regularization: Literal["none", "l1", "l2"] = Field("none", description="Penalty on the weights (not biases)")
    reg_rate: FiniteFloat = Field(0.0, ge=0, le=100, description="Regularisation rate λ")


SPEC_EXAMPLE: dict[str, Any] = {
    "features": ["x1", "x2"],
    "layers": [{"type": "dense", "units": 4, "activation": "tanh"},
               {"type": "dense", "units": 2, "activation": "tanh"},
               {"type": "dense", "units": 1, "activation": "tanh"}],
    "loss": "mse", "optimizer": {"type": "sgd", "learning_rate": 0.03}, "batch_size": 10, "seed": 0}


class NetworkSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [SPEC_EXAMPLE]})

    name: str | None = Field(None, max_length=100, description="A label for the network")
    input_shape: list[int] | None = Field(None, description="Shape of one input without the batch axis, e.g. [2]")
    features: list[str] | None = Field(
        None, description="For 2-D toy data: input features x1, x2, x1sq, x2sq, x1x2, sinx1, sinx2 (sets input_shape)")
    layers: list[LayerSpec] = Field(min_length=1, max_length=64, description="The layers, input to output")
    loss: Literal["mse", "bce", "cross_entropy", "softmax_cross_entropy"] = Field(
        "mse", description="mse: ½(T − O)²; bce: binary cross-entropy; cross_entropy: after a softmax layer; "
                           "softmax_cross_entropy: on raw logits")
    optimizer: OptimizerSpec = Field(default_factory=OptimizerSpec)
    batch_size: int = Field(10, ge=1, description="Mini-batch size for /step and /train")
    seed: int = Field(0, ge=0, le=2**32 - 1, description="Seed of the weight initialisation and data shuffling")
    dtype: Literal["float32", "float64"] = Field("float32", description="float64 for exact arithmetic")
    shuffle: bool = Field(False, description="Reshuffle the training data every epoch")

    def engine_spec(self) -> dict[str, Any]:
        spec = self.model_dump(exclude_none=True)
        spec["layers"] = [layer.model_dump(exclude_none=True) for layer in self.layers]
        spec["optimizer"] = self.optimizer.model_dump(exclude_none=True)
        return spec


class DataSpec(BaseModel):
    """A named toy data set, or explicit points."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, description="circle, xor, gauss, spiral, spiral3, plane, multigauss, sin, abs, "
                                               "step, xsinx")
    noise: FiniteFloat = Field(0.0, ge=0, le=0.5, description="Noise, 0 to 0.5 (the Playground's 0–50 %)")
    train_ratio: FiniteFloat = Field(0.5, ge=0.1, le=0.9, description="Share of the points used for training")
    seed: int = Field(0, ge=0, le=2**32 - 1, description="Seed of the generator")
    num_samples: int | None = Field(None, ge=4, description="Number of points (default per data set)")
    X: Rows | None = Field(None, description="Explicit training inputs, one row per point")
    y: NumbersOrRows | None = Field(None, description="Explicit training targets")
    X_test: Rows | None = Field(None, description="Explicit test inputs")
    y_test: NumbersOrRows | None = Field(None, description="Explicit test targets")
    task: Literal["binary", "multiclass", "regression"] = Field(
        "regression", description="For explicit points: what the targets are")
    num_classes: int = Field(0, ge=0, le=1000, description="For explicit multiclass points")


class CreateNetwork(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"preset": "worked-example"},
        {"spec": SPEC_EXAMPLE,
         "data": {"name": "circle", "noise": 0.1, "train_ratio": 0.5, "seed": 1}}]})

    preset: str | None = Field(None, description="A preset name (GET /api/presets); or give `spec`")
    spec: NetworkSpec | None = Field(None, description="The network to build")
    data: DataSpec | None = Field(None, description="Training/test data (overrides a preset's)")


class Batch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    inputs: Rows | None = Field(
        None, description="Data points, one row each (raw x1, x2 when the network uses features)")
    targets: NumbersOrRows | None = Field(
        None, description="Targets: one number per point, or one row per point")


class ForwardRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    inputs: Rows = Field(min_length=1, description="Data points, one row each")


class BackwardRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    inputs: Rows = Field(min_length=1, description="Data points, one row each")
    targets: NumbersOrRows = Field(description="Targets, one per point")


class TrainRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    steps: int = Field(0, ge=0, description="Mini-batch steps to run")
    epochs: int = Field(0, ge=0, description="Full passes over the training data to run (after `steps`)")


class ParamPatch(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"layer": 0, "name": "weight", "index": [1, 0], "value": 0.25}]})

    layer: int = Field(ge=0, description="Index of the layer in the network's layer list")
    name: str = Field(description="Parameter name: weight or bias")
    index: list[int] = Field(description="Position inside the parameter, e.g. [from, to] for a dense weight")
    value: FiniteFloat = Field(description="The new value")


class LayerInfo(BaseModel):
    index: int
    type: str
    input_shape: list[int]
    output_shape: list[int]
    params: dict[str, list[int]] = Field(description="Parameter name → shape")


class NetworkState(BaseModel):
    id: str = Field(description="Session id (keep it: it is the only handle on the session)")
    spec: dict[str, Any]
    layers: list[LayerInfo]
    num_params: int
    params: dict[str, ArrayJSON] = Field(description="'layer.name' → array")
    history: list[MetricsRecord]
    step: int
    epoch: int
    diverged: bool
    message: str = Field(description="Why the network diverged, when it did")
    data: dict[str, Any] | None = Field(description="Summary of the session's data")


class LayerOutput(BaseModel):
    index: int
    type: str
    output: ArrayJSON


class ForwardResult(BaseModel):
    inputs: ArrayJSON = Field(description="What the network received (feature columns when features are set)")
    output: ArrayJSON
    layers: list[LayerOutput] = Field(description="Every layer's output (dense: z; activation: a)")


class LayerGrad(BaseModel):
    index: int
    type: str
    grad_output: ArrayJSON = Field(description="∂L/∂(layer output)")


class BackwardResult(BaseModel):
    loss: float
    grads: dict[str, ArrayJSON] = Field(description="'layer.name' → ∂L/∂parameter")
    activation_grads: list[LayerGrad]
    input_grad: ArrayJSON = Field(description="∂L/∂(network input)")


class StepResult(BaseModel):
    loss: float | None
    step: int
    diverged: bool = Field(description="Always false: a step that diverges answers 409 (the parameters are kept "
                                       "from before it) and so does every later one until a reset")
    message: str
    grads: dict[str, ArrayJSON]
    params: dict[str, ArrayJSON]


class TrainResult(BaseModel):
    history: list[MetricsRecord] = Field(description="The records this training added")
    step: int
    epoch: int
    diverged: bool = Field(description="Always false: training that diverges answers 409 with the whole request "
                                       "undone (parameters, optimiser, step count, history), and so does every "
                                       "later request to train until a reset")
    message: str
    stopped: str | None = Field(None, description="Why training stopped before doing all it was asked (the "
                                                   "deadline passed, the client went away); null when it did all")


class NetworkExport(BaseModel):
    """What POST /api/networks/import reads: an export (GET /export), checked by the same schemas as creation."""

    model_config = ConfigDict(extra="ignore")

    format: str | None = Field(None, description="glassbox-network/1")
    spec: NetworkSpec = Field(description="The network, as in POST /api/networks")
    weights: dict[str, Any] | None = Field(None, description="'layer.name' → nested lists (JSON exports)")
    step: int = Field(0, ge=0, description="Optimiser steps the network had taken")
    data: DataSpec | None = Field(None, description="Data to train it on, as in POST /api/networks")


class ParamValue(BaseModel):
    layer: int
    name: str
    index: list[int]
    value: float


HiddenActivation = Literal["none", "linear", "sigmoid", "tanh", "relu"]


class NetworkChange(BaseModel):
    """Changes to a dense network that keep its weights. Leave a field out to keep that setting."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"activation": "sigmoid", "output_activation": "sigmoid"},
        {"loss": "bce", "output_activation": "sigmoid"},
        {"learning_rate": 0.1, "batch_size": 3, "data": {"X": [[2, 3], [1, 1], [0, 2]], "y": [1, 0.5, 0.2]}}]})

    activation: HiddenActivation | None = Field(None, description="Activation of every hidden layer (none = "
                                                                  "identity)")
    output_activation: Literal["none", "linear", "sigmoid", "tanh", "relu", "softmax"] | None = Field(
        None, description="Activation of the output layer; bce needs sigmoid, cross_entropy softmax")
    loss: Literal["mse", "bce", "cross_entropy", "softmax_cross_entropy"] | None = Field(
        None, description="mse: ½(T − O)²; bce: binary cross-entropy")
    learning_rate: FiniteFloat | None = Field(None, gt=0, le=100, description="Step size α")
    batch_size: int | None = Field(None, ge=1, description="Mini-batch size of /step, /train and the walk")
    dtype: Literal["float32", "float64"] | None = Field(None, description="float64 for exact arithmetic")
    data: DataSpec | None = Field(None, description="New training data (replaces the session's)")
