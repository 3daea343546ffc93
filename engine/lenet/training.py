"""Training LeNet-5 on MNIST digits: mini-batches, augmentation, Adam with a schedule, metrics.

One `LeNetTraining` serves both the command line (`glassbox train lenet`, a fixed number of epochs with a
cosine learning-rate decay) and the page's live sessions (open-ended, constant learning rate, a few
batches per frame).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.core.activations import softmax
from engine.core.errors import EngineError
from engine.core.losses import SoftmaxCrossEntropy, loss_and_backward
from engine.core.optim import Adam
from engine.lenet.augment import augment_batch
from engine.lenet.mnist import MnistSplit
from engine.lenet.model import CLASSES, LeNet5

# Small distortions, so that drawn digits that are not centred or sized exactly like MNIST's still read.
AUGMENT = {"max_shift": 2.0, "max_rotation_deg": 12.0, "scale_range": (0.88, 1.12)}


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


@dataclass
class BatchResult:
    loss: float
    correct: int
    count: int


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray, classes: int = CLASSES) -> np.ndarray:
    """counts[true, predicted] as int64 (rows: the true digit)."""
    counts = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(counts, (np.asarray(labels, dtype=np.intp), np.asarray(predicted, dtype=np.intp)), 1)
    return counts


class LeNetTraining:
    """A LeNet-5 being trained on a split of MNIST digits.

    `epochs`: when given, the learning rate follows a cosine from `learning_rate` down to
    `final_lr_fraction`·`learning_rate` at the end of that many epochs; otherwise it stays constant.
    """

    def __init__(
        self,
        model: LeNet5,
        data: MnistSplit | DigitArrays,
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
        arrays = data if isinstance(data, DigitArrays) else DigitArrays.from_split(data)
        self.x_train, self.y_train, self.x_test, self.y_test = (
            arrays.x_train, arrays.y_train, arrays.x_test, arrays.y_test)
        if len(self.x_train) == 0:
            raise EngineError("there are no training digits")
        self.optimizer = Adam(learning_rate, regularization="l2" if weight_decay else "none", reg_rate=weight_decay)
        self.loss = SoftmaxCrossEntropy()
        self.batch_size = batch_size
        self.augment = augment
        self.rng = np.random.default_rng(seed)
        self.total_epochs = epochs
        self.final_lr_fraction = final_lr_fraction
        self.steps = 0
        self.order = self.rng.permutation(len(self.x_train))
        self.cursor = 0
        self.epochs_done = 0
        self.diverged = False
        self.message = ""
        self.history: list[dict[str, Any]] = []

    # --- schedule -------------------------------------------------------------------------------

    @property
    def steps_per_epoch(self) -> int:
        return math.ceil(len(self.x_train) / self.batch_size)

    @property
    def epoch(self) -> float:
        """Epochs completed, with the fraction of the current one."""
        n = len(self.x_train)
        return self.epochs_done + (self.cursor / n if self.cursor < n else 0.0)

    def lr_scale(self) -> float:
        if self.total_epochs is None:
            return 1.0
        progress = min(1.0, self.steps / (self.total_epochs * self.steps_per_epoch))
        low = self.final_lr_fraction
        return low + (1 - low) * 0.5 * (1 + math.cos(math.pi * progress))

    @property
    def learning_rate(self) -> float:
        return self.optimizer.learning_rate * self.lr_scale()

    # --- training -------------------------------------------------------------------------------

    def next_batch(self) -> tuple[np.ndarray, np.ndarray]:
        n = len(self.x_train)
        if self.cursor >= n:
            self.order = self.rng.permutation(n)
            self.cursor = 0
        idx = self.order[self.cursor:self.cursor + self.batch_size]
        self.cursor += len(idx)
        if self.cursor >= n:
            self.epochs_done += 1
        x = self.x_train[idx]
        if self.augment:
            x = augment_batch(x, self.rng, **AUGMENT)
        return x, self.y_train[idx]

    def step(self) -> BatchResult:
        """One optimiser step on the next mini-batch. A loss that is not finite restores nothing by itself:
        `train_steps` keeps the last finite weights."""
        if self.diverged:
            raise EngineError(f"{self.message} Start a new session or lower the learning rate.")
        x, y = self.next_batch()
        net = self.model.net
        # Overflow is how a diverging run shows itself; train_steps checks the loss instead of warning.
        with np.errstate(over="ignore", invalid="ignore"):
            logits = net.forward(x)
            value, _ = loss_and_backward(net, self.loss, y)
            self.optimizer.step(net.layers, lr_scale=self.lr_scale())
        self.steps += 1
        return BatchResult(float(value), int((logits.argmax(axis=1) == y).sum()), len(y))

    def train_steps(self, count: int) -> BatchResult:
        """`count` steps; the mean loss and the accuracy over their (augmented) batches. If the loss becomes NaN
        or infinite, the weights and optimiser go back to where they were before these steps and the run is
        marked diverged."""
        before = self.model.net.get_state()
        opt_state = {k: {n: a.copy() for n, a in s.items()} for k, s in self.optimizer.state.items()}
        opt_t, position = self.optimizer.t, (self.steps, self.cursor, self.epochs_done, self.order)
        total, correct, seen = 0.0, 0, 0
        for _ in range(count):
            result = self.step()
            if not math.isfinite(result.loss):
                self.model.net.set_state(before)
                self.optimizer.state, self.optimizer.t = opt_state, opt_t
                self.steps, self.cursor, self.epochs_done, self.order = position
                self.diverged = True
                self.message = (f"The loss became {result.loss} at step {self.steps + 1}; "
                                f"the weights were kept from before it.")
                raise EngineError(self.message)
            total += result.loss * result.count
            correct += result.correct
            seen += result.count
        return BatchResult(total / max(seen, 1), correct, seen)

    def train_chunk(self, steps: int) -> dict[str, Any]:
        """Train `steps` batches and record a history entry; an epoch finished on the way adds the test metrics."""
        epochs_before = self.epochs_done
        result = self.train_steps(steps)
        entry: dict[str, Any] = {"step": self.steps, "epoch": self.epoch, "loss": result.loss,
                                 "accuracy": result.correct / max(result.count, 1)}
        if self.epochs_done > epochs_before:
            test = self.evaluate()
            entry.update(test_accuracy=test["accuracy"], test_loss=test["loss"])
        self.history.append(entry)
        return entry

    def record_start(self) -> dict[str, Any]:
        """The history's first entry: the untrained network on the test digits."""
        test = self.evaluate()
        entry = {"step": self.steps, "epoch": self.epoch, "loss": None, "accuracy": None,
                 "test_accuracy": test["accuracy"], "test_loss": test["loss"]}
        self.history.append(entry)
        return entry

    def set_learning_rate(self, value: float) -> None:
        if not (math.isfinite(value) and value > 0):
            raise EngineError(f"learning rate must be a positive number, got {value}")
        self.optimizer.learning_rate = float(value)

    # --- evaluation -----------------------------------------------------------------------------

    def evaluate(self, images: np.ndarray | None = None, labels: np.ndarray | None = None) -> dict[str, Any]:
        """Loss, accuracy and predictions on the test split (or given images and labels)."""
        x = self.x_test if images is None else images
        y = self.y_test if labels is None else np.asarray(labels, dtype=np.int64)
        return evaluate(self.model, x, y)


def evaluate(model: LeNet5, images: np.ndarray, labels: np.ndarray) -> dict[str, Any]:
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
