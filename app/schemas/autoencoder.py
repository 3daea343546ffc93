"""Schemas of the autoencoder API (/api/autoencoders): sessions, training, encode, decode, the latent map, PCA."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .common import ArrayJSON, FiniteFloat


class CreateAutoencoder(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"pretrained": True}, {"pretrained": False, "latent": 2, "loss": "bce", "denoise": 0.0},
        {"pretrained": False, "hidden": [128, 32], "latent": 3, "loss": "mse", "learning_rate": 0.002}]})

    pretrained: bool = Field(True, description="Start from the shipped trained model (its default architecture); "
                                               "false: random weights, to train from scratch")
    hidden: list[int] = Field([256, 64], min_length=1, max_length=4,
                              description="Encoder layer widths (1..1024 each); the decoder mirrors them")
    latent: Literal[2, 3] = Field(2, description="Width of the code: 2 (a plane) or 3")
    activation: Literal["relu", "tanh"] = Field("relu", description="Activation of the hidden layers")
    loss: Literal["bce", "mse"] = Field("bce", description="bce: binary cross-entropy per pixel (from the logits); "
                                                           "mse: ½ squared error per pixel")
    denoise: FiniteFloat = Field(0.0, ge=0, le=0.9, description="Share of each input's pixels dropped at random "
                                                                "while training (the clean digit stays the target)")
    learning_rate: FiniteFloat = Field(0.002, gt=0, le=1, description="Adam's step size")
    batch_size: int = Field(64, ge=1, le=1024, description="Digits per training step")
    seed: int = Field(0, ge=0, le=2**32 - 1, description="Seed of the weights, the batch order and the noise")


class TrainRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"epochs": 1}, {"steps": 50}]})

    steps: int = Field(0, ge=0, description="Mini-batch steps to run")
    epochs: int = Field(0, ge=0, le=100, description="Then this many full passes over the 8,000 training digits")


class ArchitectureInfo(BaseModel):
    hidden: list[int]
    latent: int
    activation: str
    loss: str
    seed: int
    sizes: list[int] = Field(description="Every layer's width from input to output, e.g. [784, 256, 64, 2, 64, 256, "
                                         "784]")
    parameters: int = Field(description="Number of weights and biases")


class MetricsEntry(BaseModel):
    """One history record of the shared training protocol."""

    step: int
    epoch: float | None = None
    train_loss: float | None = Field(None, description="Mean training loss (per pixel) over the steps since the "
                                                       "previous entry")
    test_loss: float | None = Field(None, description="The loss on the 2,000 test digits (at epoch ends)")
    train_accuracy: float | None = None
    test_accuracy: float | None = None
    learning_rate: float | None = None
    time: float
    extra: dict[str, float | None] = Field(default_factory=dict,
                                           description="test_mse: squared error per pixel on the test digits")


class AutoencoderState(BaseModel):
    id: str
    source: Literal["shipped", "scratch"] = Field(description="Started from the shipped model or from random weights")
    architecture: ArchitectureInfo
    learning_rate: float
    batch_size: int
    denoise: float
    step: int
    epoch: float
    steps_per_epoch: int
    diverged: bool
    message: str
    history: list[MetricsEntry]
    test_loss: float = Field(description="The training objective per pixel on the 2,000 test digits now")
    test_mse: float = Field(description="Squared error per pixel on the 2,000 test digits now")
    pca_test_mse: float = Field(description="PCA's squared error per pixel on the same digits, with as many "
                                            "components as the code is wide")


class EncodeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"images": "[(28 rows of 28 numbers in 0..1), …]"}, {"png": "data:image/png;base64,iVBORw0KGgo..."}]})

    images: list[list[list[FiniteFloat]]] | None = Field(
        None, description="Digits as 28×28 grey levels in 0..1, ink high (as MNIST), used as they are")
    png: str | None = Field(
        None, description="Instead of `images`: one drawing as a PNG data URL (ink in the alpha channel or light on "
                          "dark), cropped, scaled to 20 px and centred by mass as MNIST's digits were")


class Encoded(BaseModel):
    points: ArrayJSON = Field(description="N × latent: each digit's code")
    inputs: ArrayJSON = Field(description="N × 28 × 28: what the encoder read (the drawing after preprocessing)")
    reconstructions: ArrayJSON = Field(description="N × 28 × 28: the decoder's image of each code, 0..1")


class DecodeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"points": [[0.5, -1.2], [2, 0]]}]})

    points: list[list[FiniteFloat]] = Field(min_length=1, description="Codes to decode, each as wide as the code "
                                                                      "(2 or 3 numbers)")


class Decoded(BaseModel):
    images: ArrayJSON = Field(description="N × 28 × 28 grey levels (0..1 for the autoencoder; PCA's linear decoder "
                                          "may leave 0..1 slightly)")


class SampleReconstructions(BaseModel):
    indices: list[int] = Field(description="Test digits shown in the grid (two of each digit)")
    labels: list[int]
    inputs: ArrayJSON = Field(description="N × 28 × 28 test digits, 0..1")
    reconstructions: ArrayJSON = Field(description="N × 28 × 28: their reconstructions")


class LatentMap(BaseModel):
    step: int = Field(description="The training step the map was computed at")
    points: ArrayJSON = Field(description="2000 × latent: the code of every test digit")
    labels: list[int] = Field(description="The true digit of each (used only for colour; training never sees them)")
    test_loss: float | None = Field(None, description="The objective per pixel on the test digits (autoencoder)")
    test_mse: float = Field(description="Squared error per pixel on the test digits")
    sample: SampleReconstructions


class PcaMap(LatentMap):
    components: ArrayJSON = Field(description="2 × 28 × 28: the principal directions (orthonormal)")
    mean: ArrayJSON = Field(description="28 × 28: the training digits' mean, the decoder's origin")
    explained_variance_ratio: list[float] = Field(description="Share of the training digits' variance along each "
                                                              "component")


class TestDigits(BaseModel):
    images: ArrayJSON = Field(description="2000 × 28 × 28 uint8 grey levels (0..255), the digits the maps show")
    labels: list[int]
