"""Training the autoencoder on the 8,000 training digits without their labels, under the shared training protocol.

Each step takes the next mini-batch of a shuffled pass, optionally drops a random share of its pixels (the
denoising autoencoder: the corrupted digit goes in, the clean one is the target), and takes one Adam step on the
per-pixel loss. The test digits are scored at every epoch's end (and by `evaluate()`), where the code of every
test digit — the latent map — comes from the same pass.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from engine.autoencoder.data import DigitData
from engine.autoencoder.model import KIND, Autoencoder, AutoencoderConfig
from engine.core.errors import EngineError
from engine.core.optim import Adam
from engine.core.training import (
    DivergedError,
    DivergenceGuard,
    MetricsRecord,
    StepResult,
    TrainerState,
    append_record,
    check_learning_rate,
    diverged_message,
    load_optimizer_arrays,
    optimizer_arrays,
    rng_from_state,
    rng_state,
    shuffled_batch,
)

MAX_BATCH = 1024
MAX_DENOISE = 0.9
SETTINGS = ("learning_rate", "batch_size", "denoise")


def check_batch_size(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 1 <= value <= MAX_BATCH:
        raise EngineError(f"batch_size must be a whole number from 1 to {MAX_BATCH}, got {value!r}")
    return int(value)


def check_denoise(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or not 0 <= value <= MAX_DENOISE:
        raise EngineError(f"denoise (the share of pixels dropped from each input) must be a number from 0 to "
                          f"{MAX_DENOISE}, got {value!r}")
    return float(value)


class AutoencoderTrainer:
    """An autoencoder being trained; see the module docstring and `engine.core.training` for the protocol.

    `schedule_epochs`: when given, the learning rate follows a cosine from `learning_rate` down to 5 % of it at
    the end of that many epochs (the command line's fixed-length run); otherwise it stays constant (live).
    """

    kind = KIND

    def __init__(self, config: AutoencoderConfig, data: DigitData, *, learning_rate: float = 1e-3,
                 batch_size: int = 64, denoise: float = 0.0, schedule_epochs: int | None = None,
                 model: Autoencoder | None = None) -> None:
        if len(data.x_train) == 0:
            raise EngineError("there are no training digits")
        if schedule_epochs is not None and (isinstance(schedule_epochs, bool) or schedule_epochs < 1):
            raise EngineError(f"schedule_epochs must be a whole number >= 1, got {schedule_epochs!r}")
        self.config = config
        self.data = data
        self.learning_rate = check_learning_rate(learning_rate, high=1.0)
        self.batch_size = check_batch_size(batch_size)
        self.denoise = check_denoise(denoise)
        self.schedule_epochs = schedule_epochs
        self._fresh(model)

    def _fresh(self, model: Autoencoder | None = None) -> None:
        """New weights (or `model`'s), optimiser, data order and history: the state of a trainer never stepped."""
        if model is not None and model.config != self.config:
            raise EngineError("the model's architecture differs from the trainer's settings")
        self.model = model if model is not None else Autoencoder(self.config)
        self.optimizer = Adam(self.learning_rate)
        self.guard = DivergenceGuard()
        self.rng = np.random.default_rng(self.config.seed)
        self.order = self.rng.permutation(len(self.data.x_train))
        self.cursor = 0
        self.epochs_done = 0
        self.step_count = 0
        self.history: list[dict[str, Any]] = []
        self.diverged = False
        self.diverged_message = ""
        self._evaluation: tuple[int, dict[str, Any]] | None = None

    # --- schedule ----------------------------------------------------------------------------------------

    @property
    def steps_per_epoch(self) -> int:
        return math.ceil(len(self.data.x_train) / self.batch_size)

    @property
    def epoch(self) -> float:
        """Epochs completed, with the fraction of the current one."""
        n = len(self.data.x_train)
        return self.epochs_done + (self.cursor / n if self.cursor < n else 0.0)

    def lr_scale(self) -> float:
        if self.schedule_epochs is None:
            return 1.0
        progress = min(1.0, self.step_count / (self.schedule_epochs * self.steps_per_epoch))
        return 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress))

    @property
    def current_learning_rate(self) -> float:
        return self.learning_rate * self.lr_scale()

    # --- training ----------------------------------------------------------------------------------------

    def next_batch(self) -> tuple[np.ndarray, np.ndarray]:
        """(inputs, targets): the next clean digits, and their copies with `denoise` of the pixels dropped."""
        n = len(self.data.x_train)
        self.order, idx, self.cursor = shuffled_batch(self.rng, self.order, self.cursor, n, self.batch_size)
        if self.cursor >= n:
            self.epochs_done += 1
        clean = self.data.x_train[idx]
        if self.denoise == 0:
            return clean, clean
        keep = self.rng.random(clean.shape, dtype=np.float32) >= np.float32(self.denoise)
        return clean * keep, clean

    def _step(self) -> float:
        inputs, targets = self.next_batch()
        # Overflow is how a diverging run shows itself; the guard checks the loss instead of warning.
        with np.errstate(over="ignore", invalid="ignore"):
            loss = self.model.loss_and_backward(inputs, targets)
            self.optimizer.step(self.model.net.layers, lr_scale=self.lr_scale())
        self.step_count += 1
        self._evaluation = None
        return loss

    def _guarded(self, steps: int) -> list[float]:
        """`steps` steps under the divergence rule: a non-finite loss or parameter rolls the chunk back."""
        if self.diverged:
            raise DivergedError(self.diverged_message)
        if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
            raise EngineError(f"steps must be a whole number >= 0, got {steps!r}")
        params = [p for _, _, p in self.model.net.named_params()]
        self.guard.save(params, self.optimizer)
        position = (self.step_count, self.cursor, self.epochs_done, self.order, rng_state(self.rng))
        losses = []
        for _ in range(int(steps)):
            loss = self._step()
            losses.append(loss)
            if not self.guard.finite(loss, params):
                self.guard.restore(params, self.optimizer)
                self.diverged = True
                self.diverged_message = diverged_message(loss, self.step_count)
                self.step_count, self.cursor, self.epochs_done, self.order, rng = position
                self.rng = rng_from_state(rng)
                self._evaluation = None
                raise DivergedError(self.diverged_message)
        return losses

    def step(self) -> StepResult:
        """One Adam step on the next mini-batch (not recorded in the history; `train` records)."""
        (loss,) = self._guarded(1)
        return StepResult(loss, self.step_count, self.epoch)

    def train(self, steps: int) -> list[dict[str, Any]]:
        """`steps` steps, then one history record: their mean loss, and the test digits' scores when an epoch
        ended on the way (or when nothing is recorded yet)."""
        epochs_before = self.epochs_done
        losses = self._guarded(steps)
        if not losses:
            return []
        record = MetricsRecord(step=self.step_count, epoch=self.epoch, train_loss=float(np.mean(losses)),
                               learning_rate=self.current_learning_rate)
        if self.epochs_done > epochs_before:
            self._add_test_scores(record)
        return [append_record(self.history, record)]

    def record_start(self) -> dict[str, Any]:
        """The history's first entry: the untrained (or loaded) network on the test digits."""
        record = MetricsRecord(step=self.step_count, epoch=self.epoch, learning_rate=self.current_learning_rate)
        self._add_test_scores(record)
        return append_record(self.history, record)

    def _add_test_scores(self, record: MetricsRecord) -> None:
        result = self.evaluate()
        record.test_loss = result["loss"]
        record.extra["test_mse"] = result["mse"]

    def evaluate(self) -> dict[str, Any]:
        """The test digits through the current network: codes (the latent map), reconstructions, the objective
        and the squared error per pixel. Cached until the next step."""
        if self._evaluation is None or self._evaluation[0] != self.step_count:
            with np.errstate(over="ignore", invalid="ignore"):
                self._evaluation = (self.step_count, self.model.evaluate(self.data.x_test))
        return self._evaluation[1]

    def configure(self, **settings: Any) -> None:
        """Change learning_rate, batch_size or denoise while training; all are checked before any changes."""
        unknown = sorted(set(settings) - set(SETTINGS))
        if unknown:
            raise EngineError(f"unknown settings {unknown}; an autoencoder trains on with {', '.join(SETTINGS)} "
                              "changed (the architecture needs a new session)")
        checked: dict[str, Any] = {}
        if "learning_rate" in settings:
            checked["learning_rate"] = check_learning_rate(settings["learning_rate"], high=1.0)
        if "batch_size" in settings:
            checked["batch_size"] = check_batch_size(settings["batch_size"])
        if "denoise" in settings:
            checked["denoise"] = check_denoise(settings["denoise"])
        for key, value in checked.items():
            setattr(self, key, value)
        if "learning_rate" in checked:
            self.optimizer.learning_rate = checked["learning_rate"]

    def reset(self) -> None:
        """Fresh weights from the seed, a fresh optimiser and data order, an empty history; settings kept."""
        self._fresh()
        self.record_start()

    # --- state -------------------------------------------------------------------------------------------

    def state(self) -> TrainerState:
        arrays = {f"params/{key}": p.copy() for key, p in self.model.net.param_arrays().items()}
        arrays.update(optimizer_arrays(self.optimizer))
        arrays["data/order"] = self.order.copy()
        meta = {
            "config": self.config.as_dict(), "learning_rate": self.learning_rate, "batch_size": self.batch_size,
            "denoise": self.denoise, "schedule_epochs": self.schedule_epochs, "step_count": self.step_count,
            "cursor": self.cursor, "epochs_done": self.epochs_done, "optimizer_t": self.optimizer.t,
            "rng": rng_state(self.rng), "history": [dict(h) for h in self.history], "diverged": self.diverged,
            "diverged_message": self.diverged_message, "model_meta": self.model.meta,
            "data": {"train": len(self.data.x_train), "test": len(self.data.x_test)},
        }
        return TrainerState(KIND, arrays, meta)

    def load_state(self, state: TrainerState) -> None:
        """Resume exactly where `state()` was taken (same data bundle)."""
        if state.kind != KIND:
            raise EngineError(f"this is a '{state.kind}' state, not an autoencoder's")
        meta = state.meta
        try:
            config = AutoencoderConfig.from_dict(meta["config"])
            learning_rate = check_learning_rate(meta["learning_rate"], high=1.0)
            batch_size = check_batch_size(meta["batch_size"])
            denoise = check_denoise(meta["denoise"])
            step_count, cursor, epochs_done, opt_t = (int(meta[k]) for k in (
                "step_count", "cursor", "epochs_done", "optimizer_t"))
            rng = rng_from_state(meta["rng"])
            history = [dict(h) for h in meta["history"]]
        except (KeyError, TypeError, ValueError) as exc:
            raise EngineError(f"an autoencoder state is missing or has a malformed setting ({exc})") from None
        order = np.asarray(state.arrays.get("data/order", np.zeros(0)))
        if sorted(order.tolist()) != list(range(len(self.data.x_train))):
            raise EngineError("the state's data order is not a permutation of this trainer's training digits")
        model = Autoencoder(config)
        model.net.set_state({k.removeprefix("params/"): v for k, v in state.arrays.items()
                             if k.startswith("params/")})
        model.meta = dict(meta.get("model_meta") or {})
        self.config, self.learning_rate, self.batch_size, self.denoise = config, learning_rate, batch_size, denoise
        self.schedule_epochs = meta.get("schedule_epochs")
        self._fresh(model)
        load_optimizer_arrays(self.optimizer, state.arrays, opt_t)
        self.order = order.astype(np.int64)
        self.rng, self.step_count, self.cursor, self.epochs_done = rng, step_count, cursor, epochs_done
        self.history = history
        self.diverged, self.diverged_message = bool(meta.get("diverged")), str(meta.get("diverged_message", ""))
