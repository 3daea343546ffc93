"""Training LeNet-5 on MNIST digits: mini-batches, augmentation, Adam with a schedule, metrics.

One `LeNetTraining` serves both the command line (`glassbox train lenet`, a fixed number of epochs with a
cosine learning-rate decay) and the page's live sessions (open-ended, constant learning rate, a few
batches per frame). It implements the one training protocol (engine/core/training.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from engine.cnn.pool import MaxPool2D
from engine.core.activations import softmax
from engine.core.errors import EngineError
from engine.core.losses import SoftmaxCrossEntropy, loss_and_backward
from engine.core.optim import Adam
from engine.core.training import (
    MetricsRecord,
    StepResult,
    TrainerBase,
    TrainerState,
    append_record,
    check_learning_rate,
    check_state_kind,
    shuffled_batch,
)
from engine.lenet.augment import augment_batch
from engine.lenet.mnist import MnistSplit, load_mnist10k
from engine.lenet.model import CLASSES, DigitNetwork, LeNet5

# Small distortions, so that drawn digits that are not centred or sized exactly like MNIST's still read.
AUGMENT: dict[str, Any] = {"max_shift": 2.0, "max_rotation_deg": 12.0, "scale_range": (0.88, 1.12)}


@dataclass(frozen=True)
class DigitArrays:
    """A split as network input: float32 (N, 1, 28, 28) in 0..1 and int64 labels. Build it once and share it:
    the 8,000 training digits take 25 MB as floats."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    @classmethod
    def from_split(cls, split: MnistSplit) -> DigitArrays:
        return cls(split.train_inputs(), split.train_labels.astype(np.int64),
                   split.test_inputs(), split.test_labels.astype(np.int64))


def probe_indices(labels: np.ndarray, per_digit: int = 2) -> np.ndarray:
    """The first `per_digit` examples of each digit, digit by digit: a fixed set to watch during training."""
    labels = np.asarray(labels)
    return np.concatenate([np.flatnonzero(labels == d)[:per_digit] for d in range(CLASSES)])


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray, classes: int = CLASSES) -> np.ndarray:
    """counts[true, predicted] as int64 (rows: the true digit)."""
    counts = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(counts, (np.asarray(labels, dtype=np.intp), np.asarray(predicted, dtype=np.intp)), 1)
    return counts


class LeNetTraining(TrainerBase):
    """A LeNet-5 being trained on a split of MNIST digits.

    `data`: a split, its arrays, or "mnist10k" for the shipped 10,000 digits (shared by every session, and
    not copied into `state()`: the state names them instead).
    `epochs`: when given, the learning rate follows a cosine from `learning_rate` down to
    `final_lr_fraction`·`learning_rate` at the end of that many epochs; otherwise it stays constant.
    """

    kind = "lenet"

    def __init__(
        self,
        model: LeNet5,
        data: MnistSplit | DigitArrays | str,
        *,
        learning_rate: float = 1e-3,
        batch_size: int = 64,
        augment: bool = True,
        seed: int = 0,
        epochs: int | None = None,
        final_lr_fraction: float = 0.02,
        weight_decay: float = 0.0,
    ) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise EngineError(f"batch size must be a whole number >= 1, got {batch_size!r}")
        self.model = model
        self.data_source = data if isinstance(data, str) else None
        arrays = digit_arrays(data)
        self.x_train, self.y_train, self.x_test, self.y_test = (
            arrays.x_train, arrays.y_train, arrays.x_test, arrays.y_test)
        if len(self.x_train) == 0:
            raise EngineError("there are no training digits")
        self.weight_decay = float(weight_decay)
        self.optimizer = Adam(learning_rate, regularization="l2" if weight_decay else "none", reg_rate=weight_decay)
        self.loss = SoftmaxCrossEntropy()
        self.batch_size = batch_size
        self.augment = augment
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.total_epochs = epochs
        self.final_lr_fraction = final_lr_fraction
        self.init_protocol()
        self.order = self.rng.permutation(len(self.x_train))
        self.cursor = 0
        self.epochs_done = 0
        self.tested_epochs = -1  # epochs done at the last test-set evaluation (-1: none yet)
        # Training loss × count, right answers and digits seen since the last record.
        self.pending = [0.0, 0, 0]

    # --- schedule -------------------------------------------------------------------------------

    @property
    def steps_per_epoch(self) -> int:
        return math.ceil(len(self.x_train) / self.batch_size)

    @property
    def epoch(self) -> float:
        """Epochs completed, with the fraction of the current one."""
        n = len(self.x_train)
        return self.epochs_done + (self.cursor / n if self.cursor < n else 0.0)

    @property
    def epoch_value(self) -> float:
        return self.epoch

    def lr_scale(self) -> float:
        if self.total_epochs is None:
            return 1.0
        progress = min(1.0, self.step_count / (self.total_epochs * self.steps_per_epoch))
        low = self.final_lr_fraction
        return low + (1 - low) * 0.5 * (1 + math.cos(math.pi * progress))

    @property
    def learning_rate(self) -> float:
        return self.optimizer.learning_rate * self.lr_scale()

    # --- training -------------------------------------------------------------------------------

    def parameters(self) -> list[np.ndarray]:
        return [p for _, _, p in self.model.net.named_params()]

    def next_batch(self) -> tuple[np.ndarray, np.ndarray]:
        n = len(self.x_train)
        self.order, idx, self.cursor = shuffled_batch(self.rng, self.order, self.cursor, n, self.batch_size)
        if self.cursor >= n:
            self.epochs_done += 1
        x = self.x_train[idx]
        if self.augment:
            x = augment_batch(x, self.rng, **AUGMENT)
        return x, self.y_train[idx]

    def step(self) -> StepResult:
        """One optimiser step on the next mini-batch (a chunk of its own unless it runs inside `train`)."""
        with self.chunk():
            x, y = self.next_batch()
            net = self.model.net
            for layer in net.layers:
                if isinstance(layer, MaxPool2D):
                    layer.keep_argmax = True  # backward needs where the maxima are: found in the same pass
            logits = net.forward(x)
            # The images' own gradient is never used in training: conv1 computes only its weights' gradient.
            value, _ = loss_and_backward(net, self.loss, y, input_grad=False)
            self.optimizer.step(net.layers, lr_scale=self.lr_scale())
            self.step_count += 1
            self.pending[0] += float(value) * len(y)
            self.pending[1] += int((logits.argmax(axis=1) == y).sum())
            self.pending[2] += len(y)
            return self.finish_step(value)

    def train(self, steps: int, record_every: int | None = None) -> list[dict[str, Any]]:
        """`steps` steps as one chunk, recording every `record_every` steps (if given) and at the end; a record
        after an epoch ended adds the test metrics. Divergence raises `DivergedError` with the chunk undone."""
        return self.train_recording(steps, record_every)

    def record(self) -> dict[str, Any]:
        """A history entry: training loss and accuracy over the (augmented) batches since the last one; the
        test digits' loss and accuracy before any training and whenever an epoch ended since they were last
        measured."""
        loss_sum, correct, seen = self.pending
        record = MetricsRecord(step=self.step_count, epoch=self.epoch, learning_rate=self.learning_rate,
                               train_loss=loss_sum / seen if seen else None,
                               train_accuracy=correct / seen if seen else None)
        if self.step_count == 0 or self.epochs_done > self.tested_epochs:
            test = self.evaluate()
            record.test_loss, record.test_accuracy = test["loss"], test["accuracy"]
            self.tested_epochs = self.epochs_done
        self.pending = [0.0, 0, 0]
        return append_record(self.history, record)

    def configure(self, **settings: Any) -> None:
        """learning_rate (Adam's step size, in (0, 1]; a cosine schedule scales it) and augment (true/false),
        checked before anything changes."""
        unknown = sorted(set(settings) - {"learning_rate", "augment"})
        if unknown:
            raise EngineError(f"unknown settings {unknown}; use learning_rate, augment")
        rate = settings.get("learning_rate")
        if rate is not None:
            rate = check_learning_rate(rate, high=1.0)
        augment = settings.get("augment")
        if augment is not None and not isinstance(augment, bool):
            raise EngineError(f"augment must be true or false, got {augment!r}")
        if rate is not None:
            self.optimizer.learning_rate = rate
        if augment is not None:
            self.augment = augment

    def reset(self) -> None:
        """Fresh weights from the seed, the batch order from the start, a fresh history; same settings."""
        model = LeNet5(self.model.activation, self.model.pooling, seed=self.model.seed)
        data = self.data_source or DigitArrays(self.x_train, self.y_train, self.x_test, self.y_test)
        self.__init__(model, data, learning_rate=self.optimizer.learning_rate,  # type: ignore[misc]
                      batch_size=self.batch_size, augment=self.augment, seed=self.seed, epochs=self.total_epochs,
                      final_lr_fraction=self.final_lr_fraction, weight_decay=self.weight_decay)

    # --- state ----------------------------------------------------------------------------------

    def state(self) -> TrainerState:
        """Model settings and weights, Adam's moments, the digits (or the name of the shipped ones), the batch
        order and cursor, the generator, the pending batch metrics and the history."""
        arrays = {f"params/{key}": p.copy() for key, p in self.model.net.param_arrays().items()}
        arrays.update(self.protocol_arrays())
        arrays["order"] = self.order.copy()
        if self.data_source is None:
            arrays.update({"data/x_train": self.x_train, "data/y_train": self.y_train, "data/x_test": self.x_test,
                           "data/y_test": self.y_test})
        meta = {
            "model": {"activation": self.model.activation, "pooling": self.model.pooling, "seed": self.model.seed},
            "data_source": self.data_source, "learning_rate": self.optimizer.learning_rate,
            "batch_size": self.batch_size, "augment": self.augment, "seed": self.seed,
            "epochs": self.total_epochs, "final_lr_fraction": self.final_lr_fraction,
            "weight_decay": self.weight_decay, "cursor": self.cursor, "epochs_done": self.epochs_done,
            "tested_epochs": self.tested_epochs, "pending": list(self.pending), **self.protocol_meta(),
        }
        return TrainerState(self.kind, arrays, meta)

    @classmethod
    def from_state(cls, state: TrainerState) -> LeNetTraining:
        check_state_kind(state, cls.kind)
        m = state.value("model")
        source = state.meta.get("data_source")
        data: DigitArrays | str = source if source else DigitArrays(
            state.array("data/x_train"), state.array("data/y_train"), state.array("data/x_test"),
            state.array("data/y_test"))
        run = cls(LeNet5(m["activation"], m["pooling"], seed=int(m["seed"])), data,
                  learning_rate=float(state.value("learning_rate")), batch_size=int(state.value("batch_size")),
                  augment=bool(state.value("augment")), seed=int(state.value("seed")),
                  epochs=state.value("epochs"), final_lr_fraction=float(state.value("final_lr_fraction")),
                  weight_decay=float(state.value("weight_decay")))
        run.model.net.set_state(state.arrays_under("params"))
        run.order = state.array("order")
        run.cursor = int(state.value("cursor"))
        run.epochs_done = int(state.value("epochs_done"))
        run.tested_epochs = int(state.value("tested_epochs"))
        loss_sum, correct, seen = state.value("pending")
        run.pending = [float(loss_sum), int(correct), int(seen)]
        run.load_protocol_meta(state)
        return run

    # --- evaluation -----------------------------------------------------------------------------

    def evaluate(self, images: np.ndarray | None = None, labels: np.ndarray | None = None) -> dict[str, Any]:
        """Loss, accuracy and predictions on the test split (or given images and labels)."""
        x = self.x_test if images is None else images
        y = self.y_test if labels is None else np.asarray(labels, dtype=np.int64)
        return evaluate(self.model, x, y)


@lru_cache(maxsize=1)
def shipped_digits() -> DigitArrays:
    """The shipped 10,000 MNIST digits as network input, built once per process and shared."""
    return DigitArrays.from_split(load_mnist10k())


def digit_arrays(data: MnistSplit | DigitArrays | str) -> DigitArrays:
    if isinstance(data, DigitArrays):
        return data
    if isinstance(data, str):
        if data != "mnist10k":
            raise EngineError(f"unknown digits '{data}'; the shipped ones are 'mnist10k'")
        return shipped_digits()
    return DigitArrays.from_split(data)


def evaluate(model: DigitNetwork, images: np.ndarray, labels: np.ndarray) -> dict[str, Any]:
    """Mean loss, accuracy, the predictions, the probabilities and the confusion matrix."""
    labels = np.asarray(labels, dtype=np.int64)
    logits = model.logits(images)
    probs = softmax(logits)
    onehot = np.eye(CLASSES, dtype=logits.dtype)[labels]
    predicted = logits.argmax(axis=1)
    return {
        "loss": SoftmaxCrossEntropy().value(logits, onehot) if len(labels) else float("nan"),
        "accuracy": float((predicted == labels).mean()) if len(labels) else float("nan"),
        "predicted": predicted,
        "probabilities": probs,
        "confusion": confusion_matrix(labels, predicted),
    }
