"""Schemas of the transformer-session API (/api/transformers)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .common import ArrayJSON, FiniteFloat
from .training import MetricsRecord


class ModelSizes(BaseModel):
    """Override the preset's model. Leave a field out to keep the preset's value."""

    model_config = ConfigDict(extra="forbid")

    layers: int | None = Field(None, ge=1, le=6, description="Blocks per stack (encoder and decoder each)")
    heads: int | None = Field(None, ge=1, le=8, description="Attention heads per attention layer")
    d_model: int | None = Field(None, ge=2, le=256, description="Width of every token vector (a multiple of heads)")
    d_ff: int | None = Field(None, ge=1, le=1024, description="Hidden width of the feed-forward networks")
    positional: Literal["sinusoidal", "learned"] | None = Field(
        None, description="sinusoidal (fixed, the paper's) or learned position vectors")
    norm: Literal["post", "pre", "none"] | None = Field(
        None, description="Layer norm after the residual sum (post, the paper's Add & Norm), before the "
                          "sublayer (pre), or none")
    ffn: bool | None = Field(None, description="Whether blocks have a feed-forward network (false: attention only)")
    seed: int | None = Field(None, ge=0, le=2**32 - 1, description="Seed of the weight initialisation")


class TrainSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    batch_size: int | None = Field(None, ge=1, description="Sequences per training step")
    learning_rate: FiniteFloat | None = Field(None, gt=0, le=1, description="Adam's step size after warm-up")
    warmup: int | None = Field(None, ge=0, le=100_000, description="Steps over which the rate rises linearly from 0")
    clip_norm: FiniteFloat | None = Field(None, gt=0, description="Clip the gradient's global norm to this")
    seed: int | None = Field(None, ge=0, le=2**32 - 1, description="Seed of the training batches and held-out set")
    held_out: int | None = Field(None, ge=8, le=2048, description="Held-out sequences the accuracies are measured on")


class TaskSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    length: int | None = Field(None, ge=2, le=32, description="Sequence length the task generates")


class CreateTransformer(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"preset": "reverse"}, {"preset": "induction", "model": {"layers": 1}},
        {"preset": "copy", "model": {"d_model": 64, "heads": 4}, "train": {"learning_rate": 0.002}}]})

    preset: str = Field("reverse", description="A task preset (GET /api/transformers/presets): reverse, "
                                               "reverse-1head, sort, copy, induction, induction-1layer, brackets")
    model: ModelSizes | None = Field(None, description="Model sizes overriding the preset's")
    train: TrainSettings | None = Field(None, description="Training settings overriding the preset's")
    task: TaskSettings | None = Field(None, description="Task settings overriding the preset's")


class TrainTransformer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    steps: int = Field(ge=1, description="Optimiser steps to run")
    record_every: int = Field(10, ge=1, description="Measure held-out metrics every this many steps (and at the end)")


class ForwardTransformer(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"tokens": "3 1 4 1 5 9 2 6"}, {"tokens": [3, 1, 4, 1, 5, 9, 2, 6], "trace": True}, {"tokens": "(()())"}]})

    tokens: str | list[int | str] = Field(
        description="Your sequence: a list of token ids or names, or a string of names separated by spaces "
                    "(a string of one-character names may omit the spaces, e.g. '(()())')")
    trace: bool = Field(False, description="Also return Q, K, V, the raw, scaled and masked scores, and every "
                                           "head's output for every attention layer")


class AttentionInfo(BaseModel):
    id: str = Field(description="encoder-0, decoder-1, cross-1, or self-0 for single-stack models")
    kind: Literal["encoder", "decoder", "cross", "self"]
    layer: int
    heads: int
    causal: bool = Field(description="Whether a causal mask hides later positions")
    queries: Literal["src", "inputs"] = Field(description="Which sequence the queries come from")
    keys: Literal["src", "inputs"] = Field(description="Which sequence the keys and values come from")


class TransformerState(BaseModel):
    id: str = Field(description="Session id (keep it: it is the only handle on the session)")
    preset: str
    title: str
    description: str
    settings: dict[str, Any] = Field(description="The task, model and training settings in force")
    task: dict[str, Any] = Field(description="Mode, length and vocabularies of the task")
    model: dict[str, Any] = Field(description="Architecture and parameter count")
    attention: list[AttentionInfo] = Field(description="Every attention layer, in forward order")
    step: int
    history: list[MetricsRecord]
    latest: MetricsRecord | None
    diverged: bool
    message: str = Field(description="Why training stopped, when it diverged")
    stream_every: int = Field(description="Training steps per live frame on the WebSocket")


class TrainTransformerResult(BaseModel):
    history: list[MetricsRecord] = Field(description="The records this training added")
    step: int
    latest: MetricsRecord | None
    diverged: bool = Field(description="Always false: training that diverges answers 409 with the request undone")
    message: str
    stopped: str | None = Field(None, description="Why training stopped before doing all it was asked (the "
                                                   "deadline passed, the client went away); null when it did all")


class LiveConfig(BaseModel):
    """A {"type": "config"} message on /ws/transformers/{id}."""

    model_config = ConfigDict(extra="forbid")

    learning_rate: FiniteFloat | None = Field(None, gt=0, le=1, description="Adam's step size after warm-up")
    every: int | None = Field(None, ge=1, le=1000, description="Training steps per live frame")
    probe: str | list[int | str] | None = Field(
        None, description="The sequence whose attention maps the frames show (as for /forward); null or '' for the "
                          "first held-out sequence")


class AttentionMap(BaseModel):
    id: str
    kind: str
    layer: int
    causal: bool = Field(description="Whether a causal mask hid later positions (their weights are 0)")
    query_tokens: list[str]
    key_tokens: list[str]
    weights: ArrayJSON = Field(description="(heads, queries, keys): softmax(QKᵀ/√d_k + mask), rows sum to 1")
    q: ArrayJSON | None = Field(None, description="(heads, queries, d_k), with trace=true")
    k: ArrayJSON | None = Field(None, description="(heads, keys, d_k)")
    v: ArrayJSON | None = Field(None, description="(heads, keys, d_k)")
    raw: ArrayJSON | None = Field(None, description="QKᵀ (heads, queries, keys)")
    scaled: ArrayJSON | None = Field(None, description="QKᵀ/√d_k")
    masked: ArrayJSON | None = Field(None, description="Scaled scores with the mask added: −∞ (null in JSON) where "
                                                       "masked")
    head_out: ArrayJSON | None = Field(None, description="weights·V (heads, queries, d_k)")


class ForwardTransformerResult(BaseModel):
    step: int = Field(description="Training steps the model had taken")
    typed: list[str] = Field(description="Your sequence, as token names")
    src_tokens: list[str] | None = Field(description="What the encoder read (encoder-decoder models)")
    input_tokens: list[str] = Field(description="What the main stack read in the final pass")
    output: list[str] = Field(description="The model's answer (greedy decoding for tasks that write one)")
    output_ids: list[int]
    expected: list[str | None] = Field(description="The right answer (None where none is defined)")
    correct: bool = Field(description="Whether every defined answer token is right")
    output_vocab: list[str]
    probabilities: ArrayJSON = Field(description="(answer positions, output vocabulary) softmax of the logits")
    d_k: int
    attention: list[AttentionMap]
