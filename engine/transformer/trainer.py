"""A transformer training session: a task, its model, Adam with warm-up and clipping, held-out metrics.

What an API session holds for /api/transformers. Training batches come from the task's generator;
a fixed held-out set (never drawn for training) gives the sequence accuracy (whole answer right)
and the token accuracy, decoding greedily where the task writes its answer token by token.
It implements the one training protocol (engine/core/training.py).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.core.activations import softmax
from engine.core.errors import EngineError
from engine.core.losses import SoftmaxCrossEntropy
from engine.core.optim import Adam
from engine.core.training import (
    MetricsRecord,
    StepResult,
    TrainerBase,
    TrainerState,
    append_record,
    check_learning_rate,
    check_state_kind,
    load_optimizer_arrays,
    optimizer_arrays,
    rng_from_state,
    rng_state,
)
from engine.transformer.model import Transformer, TransformerConfig
from engine.transformer.tasks import DEFAULT_PRESET, SeqBatch, Task, get_preset, make_task

HELD_OUT_SEED = 1_000_003
MODEL_KEYS = ("arch", "layers", "heads", "d_model", "d_ff", "positional", "norm", "ffn", "seed", "dtype")
TRAIN_KEYS = ("batch_size", "learning_rate", "warmup", "clip_norm", "seed", "held_out")


def warmup_scale(step: int, warmup: int) -> float:
    """Learning-rate factor: rises linearly over the first `warmup` steps, then stays at 1."""
    return 1.0 if warmup <= 0 else min(1.0, step / warmup)


@dataclass
class Prediction:
    """One typed sequence run through the model; the model's trace holds this pass."""

    src: list[int] | None
    inputs: list[int]
    output: list[int]
    probabilities: np.ndarray  # (positions, out_vocab) of the output positions


class TransformerTrainer(TrainerBase):
    """A transformer trained on a task's freshly drawn batches (no epochs: every batch is new)."""

    kind = "transformer"

    def __init__(self, preset: str = DEFAULT_PRESET, *, model: dict[str, Any] | None = None,
                 train: dict[str, Any] | None = None, task: dict[str, Any] | None = None,
                 max_params: int | None = None) -> None:
        base = get_preset(preset)
        self.preset = preset
        self.settings: dict[str, Any] = {"preset": preset, "task": {**base["task"], **(task or {})},
                         "model": {**base["model"], **(model or {})}, "train": {**base["train"], **(train or {})}}
        self.max_params = max_params
        unknown = (set(self.settings["model"]) - set(MODEL_KEYS)) | (set(self.settings["train"]) - set(TRAIN_KEYS))
        if unknown:
            raise EngineError(f"unknown settings {sorted(unknown)}; model: {list(MODEL_KEYS)}, train: "
                              f"{list(TRAIN_KEYS)}")
        self.task: Task = make_task(self.settings["task"])
        t = self.settings["train"]
        self.batch_size = _whole(t["batch_size"], "batch_size", 1)
        self.warmup = _whole(t["warmup"], "warmup", 0)
        self.held_out_size = _whole(t.get("held_out", 256), "held_out", 1)
        self.seed = _whole(t.get("seed", 0), "seed", 0)
        clip = t.get("clip_norm")
        if clip is not None and (not np.isfinite(clip) or clip <= 0):
            raise EngineError(f"clip_norm must be a positive number or null, got {clip}")
        m = self.settings["model"]
        config = TransformerConfig(
            arch=m["arch"], src_vocab=len(self.task.src_vocab), tgt_vocab=len(self.task.input_vocab),
            out_vocab=len(self.task.output_vocab), max_len=self.task.model_max_len,
            d_model=m["d_model"], heads=m["heads"], layers=m["layers"], d_ff=m.get("d_ff", 4 * m["d_model"]),
            positional=m.get("positional", "sinusoidal"), norm=m.get("norm", "post"), ffn=m.get("ffn", True),
            seed=m.get("seed", self.seed), dtype=m.get("dtype", "float32"))
        self.check_arch(config)
        self.model = Transformer(config, max_params=max_params)
        self.optimizer = Adam(float(t["learning_rate"]), clip_norm=clip)
        self.loss = SoftmaxCrossEntropy()
        self.rng = np.random.default_rng(self.seed + 1)
        self.held_out = self.task.sample(np.random.default_rng(HELD_OUT_SEED + self.seed), self.held_out_size)
        self.held_out_keys = np.unique(self.task.key(self.held_out))
        self.init_protocol()
        self.recent_losses: list[float] = []

    def check_arch(self, config: TransformerConfig) -> None:
        wants = {"seq2seq": "encoder-decoder", "tagging": "encoder"}.get(self.task.mode, "decoder")
        if config.arch != wants:
            raise EngineError(f"the {self.task.name} task ({self.task.mode}) needs arch '{wants}', got '{config.arch}'")

    # --- training ---------------------------------------------------------------

    def training_batch(self) -> SeqBatch:
        """A fresh batch with every held-out sequence replaced by a new draw."""
        batch = self.task.sample(self.rng, self.batch_size)
        for _ in range(100):
            fresh = ~np.isin(self.task.key(batch), self.held_out_keys)
            if fresh.all():
                return batch
            batch = SeqBatch.concat([batch.rows(fresh), self.task.sample(self.rng, int((~fresh).sum()))])
        raise EngineError("the task's held-out set covers almost every sequence; make it smaller")

    def loss_and_grad(self, batch: SeqBatch) -> tuple[float, np.ndarray]:
        """Mean cross-entropy over the scored positions and dL/d(logits) for the whole (B, T, V) array."""
        logits = self.model.forward(batch.inputs, batch.src)
        value, scored, target = self.scored_loss(logits, batch)
        dlogits = np.zeros_like(logits)
        dlogits[batch.scored] = self.loss.grad(scored, target)
        return value, dlogits

    def scored_loss(self, logits: np.ndarray, batch: SeqBatch) -> tuple[float, np.ndarray, np.ndarray]:
        """Mean cross-entropy over the scored positions, with those positions' logits and targets."""
        scored = logits[batch.scored]
        target = self.loss.prepare_target(batch.targets[batch.scored], scored.shape, self.model.dtype)
        return self.loss.value(scored, target), scored, target

    def parameters(self) -> list[np.ndarray]:
        return [self.model.vector.params["all"]]

    def step(self, batch: SeqBatch | None = None) -> StepResult:
        """One optimiser step on a fresh training batch (or on `batch`, as the benchmark does); a chunk of its
        own unless it runs inside `train`."""
        with self.chunk():
            if batch is None:
                batch = self.training_batch()
            value, dlogits = self.loss_and_grad(batch)
            self.step_count += 1
            self.check_loss(value)  # before the backward pass: a non-finite loss has nothing to teach
            self.model.backward(dlogits)
            self.model.step(self.optimizer, lr_scale=warmup_scale(self.step_count, self.warmup))
            self.recent_losses.append(float(value))
            return self.finish_step(value)

    def train(self, steps: int, record_every: int = 10, stop_at: float | None = None) -> list[dict[str, Any]]:
        """`steps` optimiser steps as one chunk, recording held-out metrics every `record_every` and at the end.

        `stop_at`: stop early once the held-out sequence accuracy reaches it.
        """
        start = len(self.history)
        with self.chunk():
            for i in range(1, steps + 1):
                self.step()
                if i % record_every == 0 or i == steps:
                    entry = self.record()
                    if stop_at is not None and entry["extra"]["sequence_accuracy"] >= stop_at:
                        break
        return self.history[start:]

    def record(self) -> dict[str, Any]:
        """Training loss (mean over the steps since the last record), held-out loss; `test_accuracy` is the
        sequence accuracy (the whole answer right), `extra` has it again with the token accuracy."""
        metrics = self.evaluate()
        train_loss = float(np.mean(self.recent_losses)) if self.recent_losses else None
        self.recent_losses = []
        record = MetricsRecord(
            step=self.step_count, train_loss=train_loss, test_loss=metrics["loss"],
            test_accuracy=metrics["sequence_accuracy"],
            learning_rate=self.optimizer.learning_rate * warmup_scale(self.step_count, self.warmup),
            extra={"sequence_accuracy": metrics["sequence_accuracy"], "token_accuracy": metrics["token_accuracy"]})
        return append_record(self.history, record)

    def configure(self, **settings: Any) -> None:
        """learning_rate: Adam's step size after warm-up, in (0, 1]."""
        unknown = sorted(set(settings) - {"learning_rate"})
        if unknown:
            raise EngineError(f"unknown settings {unknown}; use learning_rate")
        if settings.get("learning_rate") is not None:
            rate = check_learning_rate(settings["learning_rate"], high=1.0)
            self.optimizer.learning_rate = rate
            self.settings["train"]["learning_rate"] = rate

    # --- evaluation ---------------------------------------------------------------

    def evaluate(self, batch: SeqBatch | None = None) -> dict[str, float]:
        """Held-out loss (teacher-forced) and accuracies of the answers the model actually gives."""
        batch = batch or self.held_out
        memory = None if batch.src is None else self.model.encode(batch.src)
        logits = self.model.forward(batch.inputs, memory=memory)
        value, _, _ = self.scored_loss(logits, batch)
        predicted = self.answer(batch, logits, memory)
        right = (predicted == batch.targets) | ~batch.scored
        return {"loss": float(value), "sequence_accuracy": float(right.all(axis=1).mean()),
                "token_accuracy": float(right[batch.scored].mean()) if batch.scored.any() else 0.0}

    def answer(self, batch: SeqBatch, logits: np.ndarray | None = None,
               memory: np.ndarray | None = None) -> np.ndarray:
        """The model's outputs at the scored positions of `batch` (elsewhere: what it predicts there, read with
        the batch's own inputs), decoding greedily where the task writes its answer token by token: each written
        token is read back in, as at inference. `logits` / `memory`: a teacher-forced pass already run on it.

        Decoding reads back the targets for as long as the answer is right, so up to a row's first mistake it
        reads what the teacher-forced pass read and (the stack is causal) predicts what that pass predicted.
        Only rows with a mistake are decoded, from the earliest first mistake on: the same answers, and
        nearly free once the model has learned the task (it was most of a live frame's time)."""
        if memory is None and batch.src is not None:
            memory = self.model.encode(batch.src)
        if logits is None:
            logits = self.model.forward(batch.inputs, memory=memory)
        predicted = logits.argmax(axis=-1)
        if self.task.mode not in ("seq2seq", "generate"):
            return predicted
        wrong = (predicted != batch.targets) & batch.scored
        rows = np.flatnonzero(wrong.any(axis=1))
        if rows.size == 0:
            return predicted
        start = int(wrong[rows].argmax(axis=1).min())
        row_memory = None if memory is None else memory[rows]
        written = batch.inputs[rows, : start + 1]
        for pos in range(start, batch.inputs.shape[1]):
            token = self.model.forward(written, memory=row_memory)[:, -1].argmax(axis=-1)
            predicted[rows, pos] = token
            written = np.concatenate([written, token[:, None]], axis=1)
        return predicted

    def predict(self, ids: list[int]) -> Prediction:
        """Run one typed sequence; afterwards the model's trace holds the final full pass."""
        src, inputs, to_write = self.task.prompt(ids)
        mode = self.task.mode
        if mode in ("seq2seq", "generate"):
            memory = None if src is None else self.model.encode(src)
            written: list[int] = []
            probs = []
            for i in range(to_write):
                logits = self.model.forward(inputs, memory=memory)[0, -1]
                token = int(logits.argmax())
                written.append(token)
                probs.append(softmax(logits))
                if i < to_write - 1:
                    inputs = np.concatenate([inputs, [[token]]], axis=1)
            return Prediction(None if src is None else src[0].tolist(), inputs[0].tolist(), written,
                              np.array(probs))
        logits = self.model.forward(inputs, src)[0]
        if mode == "classify":
            logits = logits[-1:]
        return Prediction(None, inputs[0].tolist(), logits.argmax(axis=-1).tolist(), softmax(logits))

    def probe_ids(self) -> list[int]:
        """The first held-out sequence as a person would type it: what the live maps show while training."""
        row = self.held_out.src[0] if self.held_out.src is not None else self.held_out.inputs[0]
        return row.tolist()[: self.task.max_typed]  # a generated task's inputs go on past the prompt

    # --- state ------------------------------------------------------------------

    def latest(self) -> dict[str, Any] | None:
        return self.history[-1] if self.history else None

    def reset(self) -> None:
        """Fresh weights from the same settings and seed; history cleared."""
        s = copy.deepcopy(self.settings)
        self.__init__(s["preset"], model=s["model"], train=s["train"], task=s["task"],  # type: ignore[misc]
                      max_params=self.max_params)

    def state(self) -> TrainerState:
        """Settings, the parameter vector, Adam's moments, the generator of the training batches, the losses
        since the last record and the history. The task and the held-out set follow from the settings."""
        arrays = {"params/all": self.model.vector.params["all"].copy(), **optimizer_arrays(self.optimizer)}
        meta = {"settings": copy.deepcopy(self.settings), "max_params": self.max_params,
                "optimizer_t": self.optimizer.t, "rng": rng_state(self.rng),
                "recent_losses": list(self.recent_losses), **self.protocol_meta()}
        return TrainerState(self.kind, arrays, meta)

    @classmethod
    def from_state(cls, state: TrainerState) -> TransformerTrainer:
        check_state_kind(state, cls.kind)
        s = state.value("settings")
        trainer = cls(s["preset"], model=s["model"], train=s["train"], task=s["task"],
                      max_params=state.meta.get("max_params"))
        flat = trainer.model.vector.params["all"]
        saved = state.array("params/all")
        if saved.shape != flat.shape:
            raise EngineError(f"the state's parameters have shape {list(saved.shape)}, the model {list(flat.shape)}")
        np.copyto(flat, saved)
        load_optimizer_arrays(trainer.optimizer, state.arrays, state.value("optimizer_t"))
        trainer.rng = rng_from_state(state.value("rng"))
        trainer.recent_losses = [float(v) for v in state.value("recent_losses")]
        trainer.load_protocol_meta(state)
        return trainer


def _whole(value: Any, name: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise EngineError(f"{name} must be a whole number >= {low}, got {value!r}")
    return int(value)
