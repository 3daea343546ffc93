"""Schemas of the Playground API: configurations, data editing, live hyperparameters, frames."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .common import ArrayJSON, FiniteFloat
from .training import MetricsRecord

FeatureName = Literal["x1", "x2", "x1sq", "x2sq", "x1x2", "sinx1", "sinx2"]
HiddenActivation = Literal["relu", "tanh", "sigmoid", "linear"]


class PlaygroundConfig(BaseModel):
    """Everything a person sets on the Playground page. Omitted fields take TensorFlow Playground's defaults."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"dataset": "spiral", "noise": 0.1, "features": ["x1", "x2", "sinx1", "sinx2"], "hidden": [8, 8, 4],
         "activation": "tanh", "learning_rate": 0.03},
        {"dataset": "spiral3", "loss": "cross_entropy", "hidden": [8, 8], "activation": "relu",
         "optimizer": "adam", "learning_rate": 0.01},
        {"dataset": "xsinx", "features": ["x1"], "hidden": [8], "activation": "tanh"}]})

    dataset: Literal["circle", "xor", "gauss", "spiral", "spiral3", "plane", "multigauss", "sin", "abs", "step",
                     "xsinx"] = Field("circle", description="Data set: two-class (circle, xor, gauss, spiral), "
                                      "three-class (spiral3), regression (plane, multigauss), 1-D curves "
                                      "(sin, abs, step, xsinx)")
    noise: FiniteFloat = Field(0.0, ge=0, le=0.5, description="Noise, 0 to 0.5 (the page's 0–50)")
    train_ratio: FiniteFloat = Field(0.5, ge=0.1, le=0.9, description="Share of the points used for training")
    data_seed: int = Field(0, ge=0, le=2**32 - 1, description="Seed of the data generator")
    features: list[FeatureName] = Field(["x1", "x2"], min_length=1, max_length=7,
                                        description="Input features; 1-D curves take x1, x1sq, sinx1")
    hidden: list[int] = Field([4, 2], max_length=6, description="Hidden layer sizes (0–6 layers; the page's + "
                                                                "stops at 8 neurons, presets go to 32)")
    activation: HiddenActivation = Field("tanh", description="Activation of every hidden layer")
    activations: list[HiddenActivation | None] | None = Field(
        None, description="Per-layer activations (one per hidden layer; null entries use `activation`)")
    loss: Literal["mse", "cross_entropy"] = Field(
        "mse", description="mse: ½(t − o)² with a tanh output learning ±1 (TensorFlow Playground); cross_entropy: "
                           "sigmoid + binary cross-entropy, or softmax + cross-entropy for three classes")
    optimizer: Literal["sgd", "momentum", "adam"] = Field("sgd", description="Optimiser")
    learning_rate: FiniteFloat = Field(0.03, gt=0, le=10, description="Learning rate (0.00001 … 10)")
    batch_size: int = Field(10, ge=1, le=30, description="Mini-batch size, 1–30")
    regularization: Literal["none", "l1", "l2"] = Field("none", description="Penalty on the weights")
    reg_rate: FiniteFloat = Field(0.0, ge=0, le=10, description="Regularisation rate")
    seed: int = Field(0, ge=0, le=2**32 - 1, description="Seed of the starting weights")


class DataSummary(BaseModel):
    name: str = Field(description="The data set's name ('custom' for uploaded points)")
    task: str = Field(description="binary, multiclass or regression")
    kind: Literal["plane", "curve"] = Field(description="plane: 2-D points; curve: 1-D x ↦ y")
    num_train: int
    num_test: int
    num_classes: int
    source: dict[str, Any] = Field(description="How the points were made, including hand edits")


class PlaygroundState(BaseModel):
    id: str = Field(description="The network session's id: /api/networks/{id}/… and /ws/networks/{id} use it")
    config: PlaygroundConfig
    revision: int = Field(description="Grows whenever the network or its data are replaced; frames carry it")
    layout: list[int] = Field(description="Neurons per layer: inputs, hidden layers, outputs")
    num_params: int
    data: DataSummary
    step: int
    epoch: int
    diverged: bool
    message: str
    history: list[MetricsRecord]


class Hyperparameters(BaseModel):
    """Training settings that change without touching the weights."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"learning_rate": 0.1},
                                                                              {"optimizer": "adam"}]})

    learning_rate: FiniteFloat | None = Field(None, gt=0, le=100, description="New learning rate")
    batch_size: int | None = Field(None, ge=1, description="New mini-batch size")
    optimizer: Literal["sgd", "momentum", "adam"] | None = Field(None, description="New optimiser (fresh moments)")
    regularization: Literal["none", "l1", "l2"] | None = Field(None, description="New penalty")
    reg_rate: FiniteFloat | None = Field(None, ge=0, le=100, description="New regularisation rate")
    momentum: FiniteFloat | None = Field(None, ge=0, lt=1, description="Momentum μ (momentum optimiser)")


class LiveConfig(Hyperparameters):
    """A {"type": "config"} message on the live stream: the settings of PATCH /api/networks/{id}/config, and
    which neuron's map comes at full resolution."""

    focus: tuple[int, int] | None = Field(None, description="[dense layer from 1, neuron from 0] (layer 0 = the "
                                                            "input features), or null for none")

    @field_validator("focus", mode="before")
    @classmethod
    def _focus_pair(cls, value: Any) -> Any:
        if value is None or (isinstance(value, list | tuple) and len(value) == 2
                             and all(isinstance(v, int) and not isinstance(v, bool) for v in value)):
            return value
        raise ValueError("focus is [layer, index] (dense layer from 1, neuron from 0) or null")


class HyperparameterState(BaseModel):
    optimizer: dict[str, Any] = Field(description="The optimiser's settings now")
    batch_size: int
    diverged: bool


class PointSet(BaseModel):
    x: ArrayJSON = Field(description="Points, (N, 2) or (N, 1) for curves")
    y: ArrayJSON = Field(description="Labels (0/1, 0–2) or values, (N,)")


class DataPoints(BaseModel):
    task: str
    kind: Literal["plane", "curve"]
    num_classes: int
    train: PointSet
    test: PointSet
    source: dict[str, Any]


class NewPoint(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"point": [1.5, -2.0], "label": 1, "split": "train"}, {"point": [0.5], "label": 0.3}]})

    point: list[FiniteFloat] = Field(min_length=1, max_length=2, description="[x1, x2], or [x] for curves; "
                                                                              "within [−6, 6]")
    label: FiniteFloat = Field(description="Class (0/1 or −1/+1; 0–2 for three classes) or value (regression)")
    split: Literal["train", "test"] = Field("train", description="Which set gets the point")


class PointEdit(BaseModel):
    removed: dict[str, Any] | None = Field(None, description="The removed point {split, point, label}, or null")
    num_train: int
    num_test: int
    revision: int


class DatasetInfo(BaseModel):
    name: str
    title: str
    task: str
    kind: Literal["plane", "curve"]
    formula: str | None = Field(None, description="The curve's formula (1-D sets)")
    preview: PointSet = Field(description="A small noise-free sample (seed 0) for the picker's thumbnail")


class FeatureInfo(BaseModel):
    name: str
    label: str
    map: ArrayJSON | None = Field(description="The feature over the plane, 25 × 25 (row 0 at x2 = +6)")
    curve: ArrayJSON | None = Field(description="The feature along x ∈ [−6, 6] (1-D features only)")


class GalleryItem(BaseModel):
    name: str = Field(description="Preset name (POST /api/networks {preset})")
    title: str
    description: str
    config: PlaygroundConfig


class Catalog(BaseModel):
    datasets: list[DatasetInfo]
    features: list[FeatureInfo]
    axis: ArrayJSON = Field(description="x positions of every 1-D curve")
    choices: dict[str, Any] = Field(description="Allowed values and limits of every setting")
    defaults: PlaygroundConfig
    gallery: list[GalleryItem]


class GalleryResult(BaseModel):
    name: str
    epochs: int = Field(description="Epochs trained")
    train_loss: float | None
    test_loss: float | None
    test_accuracy: float | None
    output: ArrayJSON = Field(description="The trained network's output over the plane, 50 × 50, uint8 over [−1, 1]")


class Frame(BaseModel):
    """What the page draws after each epoch (the WebSocket sends the same, with `type`, `playing`, `dropped`
    and a `history` delta). Arrays are base64 ({dtype, shape, data})."""

    revision: int
    step: int
    epoch: int
    diverged: bool
    message: str
    metrics: MetricsRecord | None = Field(description="The latest recorded losses and accuracies")
    layout: list[int] = Field(description="Neurons per layer: inputs, hidden layers, outputs")
    dense_layers: list[int] = Field(description="Engine layer index of each dense layer (for PATCH /params)")
    weights: list[ArrayJSON] = Field(description="Per dense layer, the (in, out) weight matrix, float32")
    biases: list[ArrayJSON]
    weight_grads: list[ArrayJSON] = Field(description="∂/∂w of the training objective (mean loss over the whole "
                                                      "training set + regularisation) at these weights")
    bias_grads: list[ArrayJSON]
    kind: Literal["plane", "curve"] | None = None
    activations: list[str] | None = Field(None, description="Activation of every dense layer's neurons")
    ranges: list[list[float]] | None = Field(None, description="Per dense layer, the [low, high] its colours span")
    neurons: list[ArrayJSON] | None = Field(
        None, description="plane: per dense layer, (units, 25, 25) uint8 over its range; curve: (units, 241) "
                          "float32 along `axis`")
    output: ArrayJSON | None = Field(None, description="plane: the output layer over a 100 × 100 grid of "
                                                       "[−6, 6]², uint8 over its range; curve: float32")
    axis: ArrayJSON | None = None
    focus: dict[str, Any] | None = Field(None, description="The focused neuron's map at full resolution")
