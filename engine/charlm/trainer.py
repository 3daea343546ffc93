"""Training a character language model under the one training protocol (engine/core/training.py).

Each step reads `batch_size` windows of `context + 1` characters at random offsets of the training text (every
position predicts the next character: teacher forcing, the loss averaged over every position), then Adam with a
linear warm-up and, when `total_steps` is given, a cosine decay to `final_lr_fraction` of the rate. The held-out
tail of the text is never trained on; the recorded test loss is the mean over fixed, evenly spaced held-out
windows (`eval_windows` of them), in nats per character (bits per character = nats / ln 2, in `extra`).
"""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np

from engine.charlm.corpus import HELD_OUT_FRACTION, Vocabulary, corpus_vocabulary, load_corpus, split_text
from engine.charlm.model import CharLM, CharLMConfig
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

MODEL_DEFAULTS: dict[str, Any] = {"layers": 3, "heads": 4, "d_model": 128, "d_ff": 512, "context": 128, "seed": 0,
                                  "dtype": "float32"}
TRAIN_DEFAULTS: dict[str, Any] = {"batch_size": 32, "learning_rate": 2e-3, "warmup": 100, "clip_norm": 1.0,
                                  "seed": 0, "total_steps": None, "final_lr_fraction": 0.1, "eval_windows": 32}
LOG2 = math.log(2.0)


class CharLMTrainer(TrainerBase):
    """A character model being trained on a text (the shipped corpus unless another is given)."""

    kind = "charlm"

    def __init__(self, text: str | None = None, *, model: dict[str, Any] | None = None,
                 train: dict[str, Any] | None = None, vocab: Vocabulary | None = None,
                 held_out_fraction: float = HELD_OUT_FRACTION, max_params: int | None = None) -> None:
        unknown = set(model or {}) - set(MODEL_DEFAULTS), set(train or {}) - set(TRAIN_DEFAULTS)
        if unknown[0] or unknown[1]:
            raise EngineError(f"unknown settings {sorted(unknown[0] | unknown[1])}; model: {list(MODEL_DEFAULTS)}, "
                              f"train: {list(TRAIN_DEFAULTS)}")
        self.settings = {"model": {**MODEL_DEFAULTS, **(model or {})}, "train": {**TRAIN_DEFAULTS, **(train or {})}}
        self.held_out_fraction = held_out_fraction
        self.max_params = max_params
        self.vocab = vocab or corpus_vocabulary()
        self.on_corpus = text is None  # the shipped text: a state need not carry it
        if text is None:
            text = load_corpus().text
        self.text = text
        train_text, val_text = split_text(text, held_out_fraction)
        self.train_ids = self.vocab.encode(train_text).astype(np.uint8 if len(self.vocab) <= 256 else np.int64)
        self.val_ids = self.vocab.encode(val_text).astype(self.train_ids.dtype)
        self._check_settings(self.settings["train"])
        m = self.settings["model"]
        self.model = CharLM(self.vocab, CharLMConfig(**m), max_params=max_params)
        context = self.model.context
        if len(self.train_ids) < context + 2 or len(self.val_ids) < 2:
            raise EngineError(f"the text is too short: it needs at least {context + 2} characters to train on plus "
                              f"a held-out tail of {held_out_fraction:.0%} (it has {len(text)} in all)")
        t = self.settings["train"]
        self.optimizer = Adam(float(t["learning_rate"]), clip_norm=t["clip_norm"])
        self.loss = SoftmaxCrossEntropy()
        self.rng = np.random.default_rng(int(t["seed"]) + 1)
        self.init_protocol()
        self.recent_losses: list[float] = []

    # --- settings -------------------------------------------------------------------------------------

    @staticmethod
    def _check_settings(t: dict[str, Any]) -> None:
        for name, low in (("batch_size", 1), ("warmup", 0), ("seed", 0), ("eval_windows", 1)):
            value = t[name]
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
                raise EngineError(f"{name} must be a whole number >= {low}, got {value!r}")
        check_learning_rate(t["learning_rate"], high=1.0)
        total = t["total_steps"]
        if total is not None and (isinstance(total, bool) or not isinstance(total, int) or total < 1):
            raise EngineError(f"total_steps must be a whole number >= 1 or null, got {total!r}")
        clip = t["clip_norm"]
        if clip is not None and (isinstance(clip, bool) or not isinstance(clip, (int, float))
                                 or not math.isfinite(clip) or clip <= 0):
            raise EngineError(f"clip_norm must be a positive number or null, got {clip!r}")
        frac = t["final_lr_fraction"]
        if isinstance(frac, bool) or not isinstance(frac, (int, float)) or not 0 <= frac <= 1:
            raise EngineError(f"final_lr_fraction must be a number in [0, 1], got {frac!r}")

    def configure(self, **settings: Any) -> None:
        """Change training settings while training: learning_rate, batch_size, warmup, clip_norm, total_steps,
        final_lr_fraction, eval_windows. Everything is checked before anything changes."""
        allowed = set(TRAIN_DEFAULTS) - {"seed"}
        unknown = set(settings) - allowed
        if unknown:
            raise EngineError(f"unknown settings {sorted(unknown)}; configurable: {sorted(allowed)}")
        merged = {**self.settings["train"], **settings}
        self._check_settings(merged)
        self.settings["train"] = merged
        self.optimizer.learning_rate = float(merged["learning_rate"])
        self.optimizer.clip_norm = merged["clip_norm"]

    def lr_scale(self, step: int | None = None) -> float:
        """The learning-rate factor at a step: linear warm-up, then 1 or a cosine down to final_lr_fraction."""
        t = self.settings["train"]
        step = self.step_count if step is None else step
        warm = 1.0 if t["warmup"] <= 0 else min(1.0, step / t["warmup"])
        total = t["total_steps"]
        if total is None or step <= t["warmup"]:
            return warm
        progress = min(1.0, (step - t["warmup"]) / max(1, total - t["warmup"]))
        low = t["final_lr_fraction"]
        return low + (1 - low) * 0.5 * (1 + math.cos(math.pi * progress))

    @property
    def learning_rate(self) -> float:
        return self.optimizer.learning_rate * self.lr_scale()

    # --- training -------------------------------------------------------------------------------------

    def batch(self, rng: np.random.Generator | None = None, size: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(inputs, targets), each (batch, context) int64: windows at random offsets, targets shifted by one."""
        rng = rng or self.rng
        size = size or int(self.settings["train"]["batch_size"])
        length = min(self.model.context, len(self.train_ids) - 1)
        offsets = rng.integers(0, len(self.train_ids) - length, size=size)
        index = offsets[:, None] + np.arange(length + 1)
        windows = self.train_ids[index].astype(np.int64)
        return windows[:, :-1], windows[:, 1:]

    def loss_and_grad(self, inputs: np.ndarray, targets: np.ndarray) -> tuple[float, np.ndarray]:
        """Mean cross-entropy over every position and dL/d(logits)."""
        logits = self.model.net.forward(inputs)
        batch, length, vocab = logits.shape
        flat = logits.reshape(batch * length, vocab)
        target = self.loss.prepare_target(targets.reshape(-1), flat.shape, flat.dtype)
        return self.loss.value(flat, target), self.loss.grad(flat, target).reshape(logits.shape)

    def parameters(self) -> list[np.ndarray]:
        return [self.model.net.vector.params["all"]]

    def step(self) -> StepResult:
        """One optimiser step on fresh random windows; a chunk of its own unless it runs inside `train`."""
        with self.chunk():
            inputs, targets = self.batch()
            value, dlogits = self.loss_and_grad(inputs, targets)
            self.step_count += 1
            self.check_loss(value)  # before the backward pass: a non-finite loss has nothing to teach
            self.model.net.backward(dlogits)
            self.model.net.step(self.optimizer, lr_scale=self.lr_scale())
            self.recent_losses.append(float(value))
            return self.finish_step(value)

    @property
    def epoch(self) -> float:
        """Passes over the training text: characters predicted so far / training characters."""
        t = self.settings["train"]
        return self.step_count * t["batch_size"] * self.model.context / max(1, len(self.train_ids))

    @property
    def epoch_value(self) -> float | None:
        return self.epoch

    def train(self, steps: int, record_every: int | None = None) -> list[dict[str, Any]]:
        """`steps` optimiser steps as one chunk, recording held-out metrics every `record_every` steps and at the
        end. A chunk whose loss or parameters stop being finite is rolled back and raises DivergedError."""
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
            raise EngineError(f"steps must be a whole number >= 1, got {steps!r}")
        start = len(self.history)
        with self.chunk():
            for i in range(1, steps + 1):
                self.step()
                if i == steps or (record_every and i % record_every == 0):
                    self.record()
        return self.history[start:]

    def record(self) -> dict[str, Any]:
        test = self.evaluate()
        train_loss = float(np.mean(self.recent_losses)) if self.recent_losses else None
        self.recent_losses = []
        return append_record(self.history, MetricsRecord(
            step=self.step_count, epoch=self.epoch, train_loss=train_loss, test_loss=test,
            learning_rate=self.learning_rate, extra={"bits_per_char": test / LOG2}))

    def eval_windows(self, count: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Fixed held-out windows, evenly spaced over the tail: (inputs, targets), each (count, length)."""
        count = count or int(self.settings["train"]["eval_windows"])
        length = min(self.model.context, len(self.val_ids) - 1)
        last = len(self.val_ids) - length - 1
        offsets = np.unique(np.linspace(0, last, num=count).round().astype(np.int64))
        windows = self.val_ids[offsets[:, None] + np.arange(length + 1)].astype(np.int64)
        return windows[:, :-1], windows[:, 1:]

    def evaluate(self, count: int | None = None, chunk: int = 64) -> float:
        """Mean held-out cross-entropy (nats per character) over `count` fixed windows."""
        inputs, targets = self.eval_windows(count)
        total, n = 0.0, 0
        for i in range(0, len(inputs), chunk):
            logits = self.model.net.forward(inputs[i: i + chunk])
            flat = logits.reshape(-1, logits.shape[-1])
            target = self.loss.prepare_target(targets[i: i + chunk].reshape(-1), flat.shape, flat.dtype)
            total += float(self.loss.per_example(flat.astype(np.float64), target).sum())
            n += flat.shape[0]
        return total / n

    def latest(self) -> dict[str, Any] | None:
        return self.history[-1] if self.history else None

    # --- state ----------------------------------------------------------------------------------------

    def state(self) -> TrainerState:
        """Settings, the parameter vector, Adam's moments, the batch generator, the recent losses, the history and
        the text (as ids; none when it is the shipped corpus, which the state names instead)."""
        arrays = {"params/all": self.model.net.vector.params["all"].copy(), **optimizer_arrays(self.optimizer)}
        if not self.on_corpus:
            arrays.update({"data/train": self.train_ids.copy(), "data/val": self.val_ids.copy()})
        meta = {"settings": copy.deepcopy(self.settings), "vocab": self.vocab.symbols, "corpus": self.on_corpus,
                "rng": rng_state(self.rng), "recent_losses": list(self.recent_losses),
                "optimizer_t": self.optimizer.t, "held_out_fraction": self.held_out_fraction,
                "max_params": self.max_params, **self.protocol_meta()}
        return TrainerState(self.kind, arrays, meta)

    @classmethod
    def from_state(cls, state: TrainerState) -> CharLMTrainer:
        check_state_kind(state, cls.kind)
        try:
            vocab = Vocabulary(list(state.value("vocab")))
            settings = state.value("settings")
            text = None
            if not state.value("corpus"):
                train_ids, val_ids = state.array("data/train"), state.array("data/val")
                ids = np.concatenate([train_ids, val_ids])
                if ids.ndim != 1 or ids.dtype.kind not in "iu" or (ids.size and int(ids.max()) >= len(vocab)):
                    raise EngineError("the state's text ids do not fit its vocabulary")
                text = vocab.decode(ids)
            trainer = cls(text, model=settings["model"], train=settings["train"], vocab=vocab,
                          held_out_fraction=float(state.value("held_out_fraction")),
                          max_params=state.meta.get("max_params"))
            flat = trainer.model.net.vector.params["all"]
            saved = state.array("params/all")
            if saved.shape != flat.shape:
                raise EngineError(f"the state has {saved.size} parameters, its model {flat.size}")
            np.copyto(flat, saved)
            load_optimizer_arrays(trainer.optimizer, state.arrays, int(state.value("optimizer_t")))
            trainer.rng = rng_from_state(state.value("rng"))
            trainer.recent_losses = [float(v) for v in state.value("recent_losses")]
            trainer.load_protocol_meta(state)
        except (KeyError, TypeError, ValueError) as exc:
            raise EngineError(f"not a complete character-model state ({type(exc).__name__}: {exc})") from None
        return trainer

    def reset(self) -> None:
        """Fresh weights from the same settings and seed, on the same text; history cleared."""
        fresh = CharLMTrainer(None if self.on_corpus else self.text, model=self.settings["model"],
                              train=self.settings["train"], vocab=self.vocab,
                              held_out_fraction=self.held_out_fraction, max_params=self.max_params)
        vars(self).clear()
        vars(self).update(vars(fresh))
