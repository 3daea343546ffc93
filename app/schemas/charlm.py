"""Schemas of the character language model API (/api/charlm)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from .common import ArrayJSON, FiniteFloat
from .training import MetricsRecord

SESSION_FIELD = Field(None, description="A training session's id (POST /api/charlm/sessions) to ask that model "
                                        "instead of the shipped one")


class ReadText(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"text": "To be, or not to be"}]})

    text: str = Field(description="Your text. Characters outside the vocabulary are read as the unknown symbol "
                                  "'\ufffd'; beyond the model's context only the last characters are read (a note "
                                  "says so). Longer than GLASSBOX_CHARLM_MAX_TEXT characters: 413")
    session: str | None = SESSION_FIELD


class Predict(ReadText):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"text": "To be, or not to b"}, {"text": "O Romeo, Romeo", "temperature": 0.5, "top_k": 10},
        {"text": "To be, or not", "position": 3}]})

    temperature: FiniteFloat = Field(1.0, ge=0, le=10, description="Divide the logits by this before the softmax; "
                                                                   "0 puts all mass on the most likely character")
    top_k: int | None = Field(None, ge=1, description="Keep only the k most likely characters (renormalised)")
    position: int | None = Field(None, description="Which character of the window to predict after (0-based; "
                                                   "negative counts from the end); default the last")
    lens_top: int = Field(5, ge=1, le=20, description="Characters listed per layer in the logit lens")


class Generate(ReadText):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"text": "ROMEO.\n", "length": 200, "temperature": 0.8, "seed": 1}]})

    length: int = Field(200, ge=1, description="Characters to write (limit GLASSBOX_CHARLM_MAX_GENERATE: 413)")
    temperature: FiniteFloat = Field(0.8, ge=0, le=10, description="Sampling temperature; 0 = always the most "
                                                                   "likely character")
    top_k: int | None = Field(None, ge=1, description="Sample only among the k most likely characters")
    seed: int = Field(0, ge=0, le=2**32 - 1, description="Seed of the sampler: the same seed writes the same text")


class Window(BaseModel):
    """The text as the model read it."""

    chars: list[str] = Field(description="The characters read, one per position; unknown ones shown as '\ufffd'")
    unknown_positions: list[int] = Field(description="Positions whose character is outside the vocabulary")
    dropped: int = Field(description="Characters before the window that the model could not see")
    note: str | None = Field(description="Why the text was windowed or what was replaced, for people")


class CharProbability(BaseModel):
    char: str
    id: int
    probability: float = Field(description="In the reshaped distribution (temperature, top-k)")
    model_probability: float = Field(description="The model's own probability (temperature 1, no top-k)")


class LensEntry(BaseModel):
    char: str
    probability: float


class LensLayer(BaseModel):
    layer: int = Field(description="0 = right after the embedding; n = after block n")
    name: str
    top: list[LensEntry] = Field(description="What the output layer would predict from the residual stream here, "
                                             "most likely first")


class PredictResult(Window):
    position: int = Field(description="The position predicted after (in the window)")
    temperature: float
    top_k: int | None
    top: list[CharProbability] = Field(description="The 10 most likely next characters, reshaped")
    probabilities: list[float] = Field(description="The whole reshaped next-character distribution, in vocabulary "
                                                   "order (sums to 1)")
    model_probabilities: list[float] = Field(description="The model's own distribution (temperature 1)")
    char_probabilities: list[float | None] = Field(description="Per character of the window, the probability the "
                                                               "model gave it after the ones before (None for the "
                                                               "first)")
    entropy_bits: float = Field(description="Entropy of the model's own distribution, in bits")
    lens: list[LensLayer] = Field(description="The logit lens: what each layer's residual stream would predict")


class Written(BaseModel):
    char: str
    probability: float = Field(description="The model's probability of this character (temperature 1)")
    sampled_probability: float = Field(description="Its probability in the distribution it was drawn from")


class GenerateResult(Window):
    text: str = Field(description="The generated characters")
    characters: list[Written]
    seed: int
    temperature: float
    top_k: int | None


class AttentionResult(Window):
    layers: int
    heads: int
    weights: ArrayJSON = Field(description="(layers, heads, queries, keys): row i is where the character at "
                                           "position i looks; later keys are masked (0); rows sum to 1")


class EmbeddingMap(BaseModel):
    symbols: list[str]
    groups: list[str] = Field(description="vowel, consonant, capital vowel, capital consonant, digit, space, "
                                          "punctuation or unknown, per symbol")
    coords: ArrayJSON = Field(description="(symbols, 2): the embedding matrix's rows on its two first principal "
                                          "components")
    explained: list[float] = Field(description="Share of the variance along each component")


class ModelInfo(BaseModel):
    layers: int
    heads: int
    d_model: int
    d_ff: int
    context: int
    num_params: int
    vocab: list[str] = Field(description="The characters the model knows, the unknown symbol last")
    unknown_symbol: str
    validation_loss: float | None = Field(description="Held-out loss, nats per character")
    bits_per_char: float | None
    steps: int | None
    command: str | None = Field(description="The command that trained it")
    sample: str | None = Field(description="A sample written at temperature 0.8 after training")
    corpus: str = Field(description="What the model was trained on")
    max_text: int = Field(description="Longest text accepted (characters)")
    max_generate: int = Field(description="Most characters one generation writes")
    max_train_text: int = Field(description="Longest text a training session accepts (characters)")


# --- training sessions ---------------------------------------------------------------------------------------


class SessionModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    layers: int = Field(2, ge=1, le=4, description="Transformer blocks")
    heads: int = Field(4, ge=1, le=8, description="Attention heads per block")
    d_model: int = Field(64, ge=8, le=128, description="Width of every vector (a multiple of heads)")
    context: int = Field(64, ge=8, le=128, description="Characters the model reads")
    seed: int = Field(0, ge=0, le=2**32 - 1, description="Seed of the weights")


class SessionTrain(BaseModel):
    model_config = ConfigDict(extra="forbid")

    batch_size: int = Field(16, ge=1, le=128, description="Windows per step")
    learning_rate: FiniteFloat = Field(0.003, gt=0, le=0.1, description="Adam's step size after warm-up")
    warmup: int = Field(50, ge=0, le=10_000, description="Steps of linear warm-up")
    seed: int = Field(0, ge=0, le=2**32 - 1, description="Seed of the batch order")


class CreateSession(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {}, {"model": {"layers": 1, "d_model": 32}}, {"text": "your own text, at least a few hundred characters…"}]})

    text: str | None = Field(None, description="Text to train on (default: the shipped Shakespeare); its last 10 % "
                                               "is held out. Longer than GLASSBOX_CHARLM_MAX_TRAIN_TEXT: 413")
    model: SessionModel | None = Field(None, description="Sizes (default: 2 blocks × 4 heads, d_model 64, context 64)")
    train: SessionTrain | None = Field(None, description="Training settings (default: batch 16, learning rate 0.003)")


class SessionState(BaseModel):
    id: str
    settings: dict[str, Any] = Field(description="The model and training settings in force")
    num_params: int
    text_characters: int = Field(description="Characters of the text trained on (training + held out)")
    held_out_characters: int
    step: int
    history: list[MetricsRecord] = Field(description="Every record; extra.bits_per_char is the held-out loss in bits")
    latest: MetricsRecord | None
    diverged: bool
    message: str = Field(description="Why training stopped, when it diverged")
    sample: str | None = Field(description="The latest sample written by the model (temperature 0.8)")


class LiveConfig(BaseModel):
    """A {"type": "config"} message on /ws/charlm/sessions/{id}."""

    model_config = ConfigDict(extra="forbid")

    learning_rate: FiniteFloat | None = Field(None, gt=0, le=1, description="Adam's step size after warm-up")
    every: int | None = Field(None, ge=1, le=500, description="Training steps per live frame")
    prompt: str | None = Field(None, max_length=200, description="What the samples start from (null or '': "
                                                                 "'ROMEO.\\n' on the shipped text, else the "
                                                                 "start of yours)")


class TrainSession(BaseModel):
    model_config = ConfigDict(extra="forbid")

    steps: int = Field(ge=1, description="Optimiser steps to run")
    record_every: int | None = Field(None, ge=1, description="Record held-out metrics every this many steps "
                                                             "(and at the end)")
