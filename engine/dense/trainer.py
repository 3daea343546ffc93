"""A training session: network + loss + optimiser + data + metrics history.

This is what an API session holds. It knows how to turn a data set's labels
into the targets its loss needs, batches the data, records metrics, and
stops cleanly when the loss diverges (keeping the last finite parameters).
It implements the one training protocol (engine/core/training.py).
"""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np

from engine.core.errors import EngineError
from engine.core.flat import FlatParams
from engine.core.losses import Loss, get_loss, loss_and_backward
from engine.core.network import Sequential, build_sequential
from engine.core.optim import Optimizer, make_optimizer
from engine.core.training import (
    DivergedError,
    MetricsRecord,
    StepResult,
    TrainerBase,
    TrainerState,
    append_record,
    check_state_kind,
)
from engine.dense.datasets import Dataset, explicit_dataset, make_dataset
from engine.dense.features import apply_features, check_features

__all__ = ["DEFAULT_SPEC", "DivergedError", "StepResult", "Trainer", "dataset_from_config", "normalize_spec"]

# The settings `configure` changes while training (the weights stay).
SETTINGS = ("learning_rate", "batch_size", "optimizer", "regularization", "reg_rate", "momentum")


DEFAULT_SPEC: dict[str, Any] = {
    "input_shape": None,
    "features": None,
    "layers": [],
    "loss": "mse",
    "optimizer": {"type": "sgd", "learning_rate": 0.03},
    "batch_size": 10,
    "seed": 0,
    "dtype": "float32",
    "shuffle": False,
}


def normalize_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """Fill defaults and check the top-level keys of a network spec."""
    unknown = set(spec) - set(DEFAULT_SPEC) - {"name", "data"}
    if unknown:
        raise EngineError(f"unknown spec fields {sorted(unknown)}; known: {sorted(DEFAULT_SPEC)}")
    out = copy.deepcopy(DEFAULT_SPEC)
    out.update(copy.deepcopy({k: v for k, v in spec.items() if k != "data"}))
    if not isinstance(out["layers"], list) or not out["layers"]:
        raise EngineError("a network needs at least one layer in 'layers'")
    if out["features"] is not None:
        check_features(out["features"], 2)
        out["input_shape"] = [len(out["features"])]
    if out["input_shape"] is None:
        raise EngineError("give 'input_shape' (e.g. [2]) or 'features' (e.g. ['x1', 'x2'])")
    if isinstance(out["input_shape"], int):
        out["input_shape"] = [out["input_shape"]]
    bs = out["batch_size"]
    if isinstance(bs, bool) or not isinstance(bs, int) or bs < 1:
        raise EngineError(f"batch_size must be a whole number >= 1, got {bs!r}")
    return out


class Trainer(TrainerBase):
    """A dense network trained on a data set (or on batches given step by step)."""

    kind = "dense"

    def __init__(self, spec: dict[str, Any], data: Dataset | None = None, max_params: int | None = None) -> None:
        self.spec = normalize_spec(spec)
        self.max_params = max_params
        self.net: Sequential = build_sequential(
            tuple(self.spec["input_shape"]), self.spec["layers"], seed=int(self.spec["seed"]),
            dtype=self.spec["dtype"], max_params=max_params,
        )
        self.loss: Loss = get_loss(self.spec["loss"])
        self.optimizer: Optimizer = make_optimizer(self.spec["optimizer"])
        self.rng = np.random.default_rng(int(self.spec["seed"]) + 1)
        self.data: Dataset | None = None
        self.cursor = 0
        self.order: np.ndarray | None = None
        self.init_protocol()
        self.epoch = 0
        self.walk: Any = None
        # Network inputs and loss targets of the whole training set, computed once per data set.
        self._prepared: tuple[Dataset, np.ndarray, np.ndarray] | None = None
        if data is not None:
            self.set_data(data)

    # --- data -----------------------------------------------------------------

    @property
    def features(self) -> list[str] | None:
        return self.spec["features"]

    def set_data(self, data: Dataset) -> None:
        if self.features is not None:
            check_features(self.features, data.input_dim)
        elif data.x_train.shape[1:] != tuple(self.spec["input_shape"]):
            raise EngineError(
                f"data points have shape {list(data.x_train.shape[1:])}, the network takes {self.spec['input_shape']}"
            )
        self.data = data
        self.cursor = 0
        self.order = None
        self._prepared = None

    def inputs(self, x: np.ndarray) -> np.ndarray:
        """Raw points → the network's input (feature columns when features are set; flat rows of an image
        network's pixels reshaped to its input shape)."""
        x = np.asarray(x, dtype=np.float64)
        if self.features is not None:
            if x.ndim != 2 or x.shape[1] not in (1, 2):
                raise EngineError(f"points must be rows of 1 or 2 numbers, got shape {list(x.shape)}")
            if not np.all(np.isfinite(x)):
                raise EngineError("inputs contain NaN or infinite numbers")
            if x.shape[1] == 1:
                x = np.concatenate([x, np.zeros_like(x)], axis=1)
            return apply_features(x, self.features)
        shape = tuple(self.spec["input_shape"])
        if len(shape) > 1 and x.ndim == 2 and x.shape[1] == math.prod(shape):
            # An image network reached through row-based requests (forward, walk): each row is one image, flat.
            x = x.reshape(len(x), *shape)
        return x

    def targets(self, labels: np.ndarray) -> np.ndarray:
        """A data set's labels → what the loss compares the output with."""
        labels = np.asarray(labels)
        task = self.data.task if self.data is not None else None
        if task == "binary" and self.loss.name == "mse" and self.net.layers[-1].type != "sigmoid":
            return np.where(labels > 0.5, 1.0, -1.0)  # tanh / linear outputs learn ±1
        if task == "multiclass" and self.loss.name == "mse" and labels.ndim == 1:
            classes = max(self.data.num_classes, int(labels.max(initial=0)) + 1)  # type: ignore[union-attr]
            return np.eye(classes)[labels.astype(np.int64)]  # squared error against one-hot rows
        return labels

    def _next_indices(self) -> slice | np.ndarray:
        """Advance the epoch cursor by one batch (`epoch` counts completed passes); a slice (no copy) unless the
        data are shuffled."""
        if self.data is None or len(self.data.x_train) == 0:
            raise EngineError("this session has no training data; give a batch ('inputs', 'targets') or a data set")
        n = len(self.data.x_train)
        if self.order is None or len(self.order) != n or self.cursor >= n:
            self.order = self.rng.permutation(n) if self.spec["shuffle"] else np.arange(n)
            self.cursor = 0
        start = self.cursor
        stop = min(n, start + int(self.spec["batch_size"]))
        self.cursor = stop
        if stop >= n:
            self.epoch += 1
        return slice(start, stop) if not self.spec["shuffle"] else self.order[start:stop]

    def prepared_training_set(self) -> tuple[np.ndarray, np.ndarray]:
        """The training set as the network sees it: feature columns in its dtype, and loss targets."""
        assert self.data is not None
        if self._prepared is None or self._prepared[0] is not self.data:
            x = self.net.check_input(self.inputs(self.data.x_train))
            n_out = self.net.output_shapes()[-1]
            target = self.loss.prepare_target(self.targets(self.data.y_train), (len(x), *n_out), self.net.dtype)
            self._prepared = (self.data, x, np.ascontiguousarray(target))
        return self._prepared[1], self._prepared[2]

    # --- passes ---------------------------------------------------------------

    def forward(self, x: np.ndarray) -> np.ndarray:
        return self.net.forward(self.inputs(x))

    def backward(self, x: np.ndarray, labels: np.ndarray, input_grad: bool = True) -> float:
        """Forward and backward on a batch without updating: fills grads and the trace (without the gradient
        with respect to the inputs when `input_grad` is False, as a training step needs)."""
        self.forward(x)
        value, _ = loss_and_backward(self.net, self.loss, self.targets(labels), input_grad=input_grad)
        return value

    def parameters(self) -> list[np.ndarray]:
        self.net.flat_params()  # bound first: a chunk saves and checks the arrays training will update
        return [p for _, _, p in self.net.named_params()]

    @property
    def epoch_value(self) -> float:
        return float(self.epoch)

    def step(self, x: np.ndarray | None = None, labels: np.ndarray | None = None) -> StepResult:
        """One optimiser step on the given batch, or on the next mini-batch of the data (a chunk of its own
        unless it runs inside `train`)."""
        self.check_trainable()
        if x is not None and labels is None:
            raise EngineError("give 'targets' together with 'inputs'")
        with self.chunk():
            self.walk = None
            if x is None:
                value = self.data_step(*self.prepared_training_set())
            else:
                assert labels is not None  # checked above
                flat = self.net.flat_params()  # bound before backward, which writes into the gradient views
                value = self.backward(x, labels, input_grad=False)
                self.optimizer.step(self.net.layers, flat=flat)
                self.step_count += 1
            return self.finish_step(value)

    def data_step(self, inputs: np.ndarray, target: np.ndarray, flat: FlatParams | None = None) -> float:
        """One optimiser step on the next mini-batch of the prepared training set, inside a chunk; its loss.

        The parameters and gradients live in one flat buffer each (engine/core/flat.py), so the optimiser's
        update is a few whole-buffer operations; the first layer's input gradient is not computed. A loop of
        steps passes `flat`, bound once before it (nothing inside the loop replaces an array). `train` and
        `train_epoch` step through this method, so a request's deadline (app/work.py) wraps it."""
        if flat is None:
            flat = self.net.flat_params()  # bound before backward, which writes into the gradient views
        idx = self._next_indices()
        value = self._forward_backward(inputs[idx], target[idx], input_grad=False)
        if flat is not None and self.optimizer.clip_norm is None:
            self.optimizer.step_flat(flat)
        else:
            self.optimizer.step(self.net.layers)
        self.step_count += 1
        return value

    def _forward_backward(self, x: np.ndarray, target: np.ndarray, input_grad: bool = True) -> float:
        """The training hot path on prepared inputs and targets: no input checks, no trace.

        Same arithmetic as `backward` (loss_and_backward), so a step gives the same numbers either way.
        """
        layers = self.net.layers
        logits, out = self.net.forward_untraced(x)
        value, grad, fused = self.loss.value_and_grad(layers[-1].type, out, logits, target)
        if fused and len(layers) > 1:
            self.net.backward(grad, start=len(layers) - 2, input_grad=input_grad)
        else:
            self.net.backward(grad, input_grad=input_grad)
        return value

    def training_gradients(self) -> tuple[float, dict[str, np.ndarray]]:
        """Loss and gradient of the training objective (mean loss over the whole training set, plus the
        regularisation term) at the current parameters, without updating them. Keys 'layer.name'."""
        inputs, target = self.prepared_training_set()
        with np.errstate(over="ignore", invalid="ignore"):
            value = self._forward_backward(inputs, target)
        grads = {}
        for i, layer in enumerate(self.net.layers):
            for name, p in layer.params.items():
                # A copy: the layer's own grads are overwritten in place by the next backward.
                grads[f"{i}.{name}"] = np.array(self.optimizer.regularized_grad(name, p, layer.grads[name]))
        return value, grads

    def train(self, steps: int = 0, epochs: int = 0) -> list[dict[str, Any]]:
        """Run `steps` mini-batch steps, then `epochs` full epochs, as one chunk; record metrics at each epoch
        end and at the end. Divergence raises `DivergedError` with the chunk undone."""
        if self.data is None:
            raise EngineError("this session has no training data to train on")
        start = len(self.history)
        with self.chunk():
            if steps:
                self.walk = None
                inputs, target = self.prepared_training_set()
            for _ in range(steps):
                self.check_loss(self.data_step(inputs, target))
                if self.cursor >= len(self.data.x_train):
                    self.record()
            for _ in range(epochs):
                self.train_epoch()
                self.record()
            if not self.history or self.history[-1]["step"] != self.step_count:
                self.record()
        return self.history[start:]

    def train_epoch(self) -> None:
        """Steps until the end of the current epoch: one Playground frame."""
        if self.data is None:
            raise EngineError("this session has no training data to train on")
        with self.chunk():
            self.walk = None
            inputs, target = self.prepared_training_set()
            n = len(inputs)
            flat = self.net.flat_params()
            self.check_loss(self.data_step(inputs, target, flat))
            while self.cursor < n:
                self.check_loss(self.data_step(inputs, target, flat))

    def configure(self, **settings: Any) -> None:
        """Change training settings while keeping the weights: learning_rate, batch_size, optimizer ('sgd',
        'momentum', 'adam'), regularization, reg_rate, momentum. TensorFlow Playground resets the network for
        everything but the learning rate; only the weights need a reset, so here nothing else does.

        Everything is checked before anything changes. The same optimiser keeps its moments and step count
        (see engine/core/optim.py for what momentum does with a new learning rate); a new optimiser type starts
        with fresh ones. A diverged network stays diverged: only `reset()` trains on.
        """
        unknown = sorted(set(settings) - set(SETTINGS))
        if unknown:
            raise EngineError(f"unknown settings {unknown}; use {', '.join(SETTINGS)}")
        given = {k: v for k, v in settings.items() if v is not None}
        config = dict(self.spec["optimizer"])
        if "optimizer" in given:
            config["type"] = given["optimizer"]
        for key in ("learning_rate", "regularization", "reg_rate", "momentum"):
            if key in given:
                config[key] = given[key]
        batch_size = given.get("batch_size")
        if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, int)
                                       or batch_size < 1):
            raise EngineError(f"batch_size must be a whole number >= 1, got {batch_size!r}")
        fresh = make_optimizer(config)  # validates everything before anything changes
        if config.get("type", "sgd") == self.optimizer.name:
            fresh.state, fresh.t = self.optimizer.state, self.optimizer.t
        self.optimizer = fresh
        self.spec["optimizer"] = config
        if batch_size is not None:
            self.spec["batch_size"] = batch_size

    def set_param(self, layer: int, name: str, index: list[int], value: float) -> float:
        """Set one weight or bias; returns the value as stored (in the network's dtype)."""
        layers = self.net.layers
        if not 0 <= layer < len(layers):
            raise EngineError(f"layer must be between 0 and {len(layers) - 1}, got {layer}")
        params = layers[layer].params
        if name not in params:
            have = ", ".join(params) or "no parameters"
            raise EngineError(f"layer {layer} ({layers[layer].type}) has {have}; there is no '{name}'")
        p = params[name]
        if len(index) != p.ndim or any(not 0 <= i < n for i, n in zip(index, p.shape, strict=False)):
            raise EngineError(f"index {index} is outside '{name}' of shape {list(p.shape)}")
        if not np.isfinite(value):
            raise EngineError("the value must be a finite number")
        p[tuple(index)] = value
        self.walk = None
        return float(p[tuple(index)])

    # --- metrics --------------------------------------------------------------

    def evaluate(self, x: np.ndarray, labels: np.ndarray) -> dict[str, float | None]:
        if len(x) == 0:
            return {"loss": None, "accuracy": None}
        with np.errstate(over="ignore", invalid="ignore"):  # a diverging network's loss may overflow
            logits, out = self.net.forward_untraced(self.net.check_input(self.inputs(x)))
            target = self.loss.prepare_target(self.targets(labels), out.shape, self.net.dtype)
            loss = self.loss.network_value(self.net.layers[-1].type, out, logits, target)
        return {"loss": loss if np.isfinite(loss) else None, "accuracy": self.accuracy(out, labels)}

    def accuracy(self, out: np.ndarray, labels: np.ndarray) -> float | None:
        task = self.data.task if self.data is not None else None
        if task == "multiclass" or (task is None and out.shape[-1] > 1 and np.asarray(labels).ndim == 1):
            return float((out.argmax(axis=1) == np.asarray(labels)).mean())
        if task == "binary":
            threshold = 0.5 if self.net.layers[-1].type == "sigmoid" else 0.0
            return float(((out[:, 0] > threshold) == (np.asarray(labels) > 0.5)).mean())
        return None

    def metrics(self) -> MetricsRecord:
        """Loss and accuracy over the whole training and test sets at the current parameters."""
        record = MetricsRecord(step=self.step_count, epoch=self.epoch, learning_rate=self.optimizer.learning_rate)
        if self.data is None:
            return record
        train = self.evaluate(self.data.x_train, self.data.y_train)
        test = self.evaluate(self.data.x_test, self.data.y_test)
        record.train_loss, record.test_loss = train["loss"], test["loss"]
        record.train_accuracy, record.test_accuracy = train["accuracy"], test["accuracy"]
        return record

    def record(self) -> dict[str, Any]:
        return append_record(self.history, self.metrics())

    def reset(self) -> None:
        """Fresh weights from the spec's seed, a fresh history and counters; the data stay."""
        data = self.data
        self.__init__(self.spec, None, self.max_params)  # type: ignore[misc]
        if data is not None:
            self.set_data(data)

    # --- state ----------------------------------------------------------------

    def state(self) -> TrainerState:
        """Spec, parameters, optimiser slots, data and their order, cursor, generator, history (no walk: a walk
        in progress is a view of one step, not training)."""
        arrays = {f"params/{key}": p.copy() for key, p in self.net.param_arrays().items()}
        arrays.update(self.protocol_arrays())
        data = None
        if self.data is not None:
            d = self.data
            arrays.update({"data/x_train": d.x_train, "data/y_train": d.y_train, "data/x_test": d.x_test,
                           "data/y_test": d.y_test})
            data = {"name": d.name, "task": d.task, "num_classes": d.num_classes, "input_dim": d.input_dim,
                    "source": d.source}
        if self.order is not None:
            arrays["order"] = self.order.copy()
        meta = {"spec": self.spec, "max_params": self.max_params, "data": data, "cursor": self.cursor,
                "epoch": self.epoch, **self.protocol_meta()}
        return TrainerState(self.kind, arrays, copy.deepcopy(meta))

    @classmethod
    def from_state(cls, state: TrainerState) -> Trainer:
        check_state_kind(state, cls.kind)
        trainer = cls(state.value("spec"), max_params=state.meta.get("max_params"))
        data = state.value("data")
        if data is not None:
            trainer.set_data(Dataset(
                str(data["name"]), str(data["task"]), state.array("data/x_train"), state.array("data/y_train"),
                state.array("data/x_test"), state.array("data/y_test"), int(data["num_classes"]),
                int(data["input_dim"]), dict(data.get("source") or {})))
        trainer.net.set_state(state.arrays_under("params"))
        trainer.order = state.arrays.get("order")
        trainer.cursor = int(state.value("cursor"))
        trainer.epoch = int(state.value("epoch"))
        trainer.load_protocol_meta(state)
        return trainer


def dataset_from_config(config: dict[str, Any] | None, task_hint: str = "regression") -> Dataset | None:
    """A named toy set {"name", "noise", "train_ratio", "seed"} or explicit {"X", "y", ...}."""
    if config is None:
        return None
    if config.get("name"):
        return make_dataset(config["name"], noise=float(config.get("noise", 0.0)),
                            train_ratio=float(config.get("train_ratio", 0.5)), seed=int(config.get("seed", 0)),
                            num_samples=config.get("num_samples"))
    if "X" in config:
        return explicit_dataset(config["X"], config.get("y", []), task=config.get("task", task_hint),
                                x_test=config.get("X_test"), y_test=config.get("y_test"),
                                num_classes=int(config.get("num_classes", 0)))
    raise EngineError("data needs either a 'name' (a toy data set) or 'X' and 'y'")
