"""Schemas of the LeNet API (/api/lenet): predict, samples, unit arithmetic, filters, mistakes, sessions."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from .common import ArrayJSON, FiniteFloat
from .training import MetricsRecord


class PredictRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"image": [[0, 0, 0], [0, 1, 0], [0, 1, 0], [0, 1, 0], [0, 0, 0]]},
        {"image": [[0, 0, 0], [0, 255, 0], [0, 255, 0], [0, 0, 0]], "max_value": 255},
        {"png": "data:image/png;base64,iVBORw0KGgo..."}]})

    image: list[list[float]] | None = Field(
        None, description="A grayscale image as rows of numbers, any size up to 1024×1024, ink high (a light digit "
                          "on a dark background, like MNIST; set `invert` for dark ink on light paper)")
    max_value: Literal[1, 255] = Field(1, description="The numbers of `image` run from 0 to 1 or from 0 to 255")
    invert: bool = Field(False, description="`image` has dark ink on a light background")
    png: str | None = Field(
        None, description="Instead of `image`: a PNG as a data URL (data:image/png;base64,…), e.g. a canvas's "
                          "toDataURL(); ink is its alpha channel when transparent, else its dark or light strokes")
    preprocess: bool = Field(
        True, description="Crop to the ink, scale the longer side to 20 px and centre the mass in 28×28, as MNIST "
                          "was made. Turn off for images that already are MNIST digits (exactly 28×28)")
    session: str | None = Field(
        None, description="Use the LeNet being trained in this session (POST /api/lenet/sessions) instead of the "
                          "shipped model")


class ModelInfo(BaseModel):
    source: Literal["shipped", "session", "network"] = Field(
        description="The shipped weights, a LeNet training session's, or a network session's (e.g. imported)")
    session: str | None = Field(None, description="The session id unless source is 'shipped'")
    activation: str | None = Field(description="relu or tanh ('mixed' when the layers differ)")
    pooling: str | None = Field(description="max or avg (None without pooling layers)")
    step: int | None = Field(None, description="Training steps of a session's model")
    epoch: float | None = Field(None, description="Epochs of a session's model")
    test_accuracy: float | None = Field(None, description="Accuracy on the 2,000 test digits when known")


class LayerOutputs(BaseModel):
    """LeNet-5's layers; another digit network's are named alike (conv1…, pool1…, fc1…, logits: see
    GET /api/lenet/model?session=…)."""

    model_config = ConfigDict(extra="allow")

    conv1: ArrayJSON = Field(description="6×28×28: conv1 after the activation")
    pool1: ArrayJSON = Field(description="6×14×14")
    conv2: ArrayJSON = Field(description="16×10×10: conv2 after the activation")
    pool2: ArrayJSON = Field(description="16×5×5")
    fc1: ArrayJSON = Field(description="120: the first dense layer after the activation")
    fc2: ArrayJSON = Field(description="84")
    logits: ArrayJSON = Field(description="10: the output layer before the softmax")


class Prediction(BaseModel):
    empty: bool = Field(description="True when the image has no ink: there is nothing to classify")
    message: str | None = Field(None, description="Why there is no prediction (an empty image)")
    digit: int | None = Field(None, description="The predicted digit (largest probability)")
    probabilities: list[float] | None = Field(None, description="softmax(logits), one per digit 0..9")
    input: ArrayJSON | None = Field(None, description="The 28×28 image the network read (after preprocessing)")
    layers: LayerOutputs | None = Field(None, description="Every layer's output for this image")
    model: ModelInfo


class Sample(BaseModel):
    index: int = Field(description="Index in the test split (0..1999)")
    label: int = Field(description="The true digit")
    image: ArrayJSON = Field(description="28×28, 0..1, ink high")


class Samples(BaseModel):
    samples: list[Sample]


class UnitRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"image": "(the 28×28 `input` of a prediction)", "layer": "conv1", "index": 2, "row": 14, "col": 9}]})

    image: list[list[FiniteFloat]] = Field(description="The network's 28×28 input (a prediction's `input`), 0..1")
    layer: str = Field(description="Which layer the unit is in: conv1, pool1, conv2, pool2, fc1, fc2 or logits for "
                                   "LeNet-5 (another digit network's names: GET /api/lenet/model?session=…)")
    index: int = Field(0, ge=0, description="The map (conv, pool) or unit (fc, logits) index")
    row: int = Field(0, ge=0, description="Row in the map (conv and pool layers)")
    col: int = Field(0, ge=0, description="Column in the map (conv and pool layers)")
    session: str | None = Field(None, description="Use a training session's model instead of the shipped one")


class UnitDetail(BaseModel):
    model_config = ConfigDict(extra="allow")

    layer: str
    index: int
    kind: Literal["conv", "pool", "dense"] = Field(description="What the unit computes")
    previous: str = Field(description="The layer it reads ('input' for conv1)")
    value: float = Field(description="The unit's output as the network computed it (float32)")
    row: int | None = None
    col: int | None = None
    receptive_field: dict[str, dict[str, int]] | None = Field(
        None, description="Inclusive {top, left, bottom, right} of what the unit reads on the layer before and on "
                          "the input (may reach into the zero padding)")
    window: Any = Field(None, description="conv: the input window per channel (C×k×k); pool: the 2×2 window")
    kernel: Any = Field(None, description="conv: the filter (C×k×k)")
    products: Any = Field(None, description="window × kernel element by element (conv), inputs × weights (dense)")
    channel_sums: list[float] | None = Field(None, description="conv: the sum of the products of each channel")
    inputs: list[float] | None = Field(None, description="dense: the previous layer's outputs, flattened")
    weights: list[float] | None = Field(None, description="dense: the weights into this unit")
    sum: float | None = Field(None, description="conv, dense: the sum of all the products (before the bias)")
    bias: float | None = None
    z: float | None = Field(None, description="The weighted sum plus the bias, in float64")
    activation: str | None = Field(None, description="relu, tanh, or softmax for the output layer")
    activation_value: float | None = Field(None, description="activation(z)")
    mode: str | None = Field(None, description="pool: max or avg")
    pooled: float | None = Field(None, description="pool: the max or the mean of the window")
    argmax: list[int] | None = Field(None, description="max pool: [row, col] of the maximum inside the window")
    probability: float | None = Field(None, description="logits: this digit's softmax probability")
    logits: list[float] | None = Field(None, description="logits: all ten, for the softmax")


class LayerInfo(BaseModel):
    name: str = Field(description="input, conv1, pool1, …, fc1, …, logits")
    kind: Literal["input", "conv", "pool", "dense"]
    shape: list[int] = Field(description="One image's output shape: (maps, rows, cols) or (units,)")
    caption: str = Field(description="What it computes, e.g. '5×5 conv · pad 2 · relu'")


class ModelLayout(BaseModel):
    activation: str | None = Field(description="The layers' activation ('mixed' when they differ)")
    pooling: str | None = Field(description="max or avg (None without pooling)")
    parameters: int
    layers: list[LayerInfo]
    training: dict[str, Any] = Field(description="How the model was trained (the shipped model's record)")
    model: ModelInfo


class ConvFilters(BaseModel):
    weight: ArrayJSON = Field(description="(out_channels, in_channels, 5, 5)")
    bias: ArrayJSON = Field(description="(out_channels,)")


class Filters(BaseModel):
    """Every convolution's filters: LeNet-5's conv1 and conv2 (another digit network: conv1, conv2, … as it has)."""

    model_config = ConfigDict(extra="allow")

    conv1: ConvFilters | None = None
    conv2: ConvFilters | None = None
    model: ModelInfo


class Mistake(BaseModel):
    index: int = Field(description="Index in the test split")
    label: int = Field(description="The true digit")
    predicted: int = Field(description="What the model said")
    confidence: float = Field(description="The probability of what it said")
    probabilities: list[float]
    image: ArrayJSON


class Evaluation(BaseModel):
    accuracy: float = Field(description="Fraction of the 2,000 test digits read right")
    correct: int
    total: int
    confusion: list[list[int]] = Field(description="counts[true digit][predicted digit]")
    mistakes: list[Mistake] = Field(description="Every test digit read wrong, the most confident first")
    model: ModelInfo


class CreateSession(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {}, {"activation": "tanh", "pooling": "avg", "learning_rate": 0.001}]})

    activation: Literal["relu", "tanh"] = Field("relu", description="Activation after every conv and fc layer")
    pooling: Literal["max", "avg"] = Field("max", description="2×2 pooling: max or average")
    learning_rate: FiniteFloat = Field(0.002, gt=0, le=1, description="Adam's step size")
    batch_size: int = Field(64, ge=1, le=1024, description="Digits per training step")
    augment: bool = Field(True, description="Random small shifts, rotations and scalings of every batch")
    seed: int = Field(0, ge=0, le=2**32 - 1, description="Seed of the weights, batch order and augmentation")


class TrainRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    steps: int = Field(0, ge=0, description="Mini-batch steps to run")
    epochs: int = Field(0, ge=0, le=100, description="Then this many full epochs")


class LiveConfig(BaseModel):
    """A {"type": "config"} message on /ws/lenet/{id}."""

    model_config = ConfigDict(extra="forbid")

    learning_rate: FiniteFloat | None = Field(None, gt=0, le=1, description="Adam's step size")
    augment: StrictBool | None = Field(None, description="Random small shifts, rotations and scalings of every batch")


class SessionState(BaseModel):
    id: str
    activation: str
    pooling: str
    learning_rate: float
    batch_size: int
    augment: bool
    step: int
    epoch: float
    steps_per_epoch: int
    diverged: bool
    message: str
    history: list[MetricsRecord]
    probe_indices: list[int] = Field(description="The fixed test digits whose predictions every frame shows")
    probe_labels: list[int]
    probe_images: ArrayJSON = Field(description="Their images (N×28×28)")
    probe_predicted: list[int]
    probe_probabilities: ArrayJSON = Field(description="N×10")
    conv1: ArrayJSON = Field(description="conv1's filters now (6×1×5×5)")
