"""The one training protocol every trainer implements.

Every trainer (dense networks, LeNet, transformers, autoencoders, Q-networks, language models) is a
`Trainer` in the sense of `TrainerProtocol`:

- `step()` runs one optimiser step and returns a `StepResult`;
- `train(steps)` runs several and returns the `MetricsRecord`s it added to `history`;
- `configure(**settings)` changes hyper-parameters while training (the learning rate at least), validating
  everything before anything changes;
- `state()` / `load_state(state)` capture and restore everything needed to resume exactly: parameters,
  optimiser slots and step count, the data and its order, the random generator, the history — as plain arrays
  and JSON (`TrainerState`), which the durable session store writes as `.npz` bytes with `allow_pickle=False`;
- `reset()` starts again from fresh weights with the same settings.

Divergence has one rule (`DivergenceGuard`): a chunk of training whose loss or parameters stop being finite is
rolled back to the last finite parameters and optimiser state, the trainer is marked diverged, and one
`DivergedError` is raised (the API answers 409). A diverged trainer refuses to step until `reset()`: the weights
it kept are those that led to the divergence, so lowering the learning rate alone would only diverge again
(tried: it did), and the message says so.

`TrainerBase` implements what is the same for every trainer (the counters, the history, the chunks and the
divergence rule, `load_state` through the trainer's `from_state`); a trainer supplies its own `step`, `train`,
`configure`, `state`, `from_state` and `reset`. `restore_trainer(state)` rebuilds any trainer from its state alone
through `TRAINER_CLASSES` (kind → class), which is where a new kind of trainer registers itself.
"""

from __future__ import annotations

import importlib
import io
import json
import math
import time
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np

from engine.core.errors import EngineError

META_MEMBER = "__meta__"


class DivergedError(EngineError):
    """Training diverged: the loss or the parameters stopped being finite. The last finite parameters were kept;
    the trainer must be reset before it trains on."""


@dataclass(frozen=True)
class StepResult:
    """One optimiser step: its mini-batch loss, the trainer's step count after it, and the epoch (completed
    passes over the training data, with the fraction of the current one) where epochs apply."""

    loss: float
    step: int
    epoch: float | None = None


@dataclass
class MetricsRecord:
    """One entry of a trainer's history: the same fields for every trainer (None where a field does not apply).

    `train_loss` is the training objective at this point (the mean loss over the steps since the last record, or
    over the whole training set where the trainer evaluates it), `test_loss` / `test_accuracy` on held-out data.
    `extra` holds what only one kind of trainer measures (e.g. a transformer's sequence accuracy), by name.
    """

    step: int
    epoch: float | None = None
    train_loss: float | None = None
    test_loss: float | None = None
    train_accuracy: float | None = None
    test_accuracy: float | None = None
    learning_rate: float | None = None
    time: float = field(default_factory=time.time)
    extra: dict[str, float | None] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON values: NumPy scalars become Python numbers (JSON cannot write a float32), and a metric
        that is NaN or infinite is reported as missing (JSON has no NaN), in `extra` too."""
        out = asdict(self)
        for key, value in out.items():
            if key != "extra":
                out[key] = _json_number(value)
        out["extra"] = {str(k): _json_number(v) for k, v in out["extra"].items()}
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MetricsRecord:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


def _json_number(value: Any) -> Any:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    return value


def append_record(history: list[dict[str, Any]], record: MetricsRecord) -> dict[str, Any]:
    """Add a record to a history (as a dict); a second record at the same step replaces the first."""
    entry = record.as_dict()
    if history and history[-1]["step"] == entry["step"]:
        history[-1] = entry
    else:
        history.append(entry)
    return entry


@dataclass
class TrainerState:
    """Everything a trainer needs to resume exactly: named arrays and JSON metadata.

    Array names are paths such as 'params/0.weight' or 'optimizer/0.weight/m'; `meta` holds settings, counters,
    the random generator's state and the history. Stored as one `.npz` (the metadata as a JSON string member),
    read back with `allow_pickle=False`.
    """

    kind: str
    arrays: dict[str, np.ndarray]
    meta: dict[str, Any]

    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        meta = json.dumps({"kind": self.kind, "meta": self.meta})
        members: dict[str, Any] = {META_MEMBER: np.array(meta), **self.arrays}
        np.savez(buf, **members)
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> TrainerState:
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as npz:
                if META_MEMBER not in npz.files:
                    raise EngineError("a trainer state needs its metadata member; this file has none")
                header = json.loads(str(npz[META_MEMBER]))
                arrays = {name: npz[name] for name in npz.files if name != META_MEMBER}
        except (ValueError, OSError, zipfile.BadZipFile, json.JSONDecodeError) as exc:
            raise EngineError(f"not a trainer state ({type(exc).__name__})") from None
        if not isinstance(header, dict) or not isinstance(header.get("meta"), dict):
            raise EngineError("a trainer state's metadata must be a JSON object with 'kind' and 'meta'")
        return cls(str(header.get("kind", "")), arrays, header["meta"])

    def array(self, name: str) -> np.ndarray:
        """A named array that the state must hold; a clear error when it does not."""
        if name not in self.arrays:
            raise EngineError(f"this {self.kind or 'trainer'} state has no array '{name}'")
        return self.arrays[name]

    def arrays_under(self, prefix: str) -> dict[str, np.ndarray]:
        """The arrays named '{prefix}/…', keyed by the rest of their name."""
        return {name[len(prefix) + 1:]: arr for name, arr in self.arrays.items() if name.startswith(prefix + "/")}

    def value(self, key: str) -> Any:
        """A metadata value that the state must hold."""
        if key not in self.meta:
            raise EngineError(f"this {self.kind or 'trainer'} state has no '{key}' in its metadata")
        return self.meta[key]


@runtime_checkable
class TrainerProtocol(Protocol):
    """What every trainer offers; see the module docstring."""

    kind: str
    step_count: int
    history: list[dict[str, Any]]
    diverged: bool
    diverged_message: str

    def step(self) -> StepResult: ...

    def train(self, steps: int) -> list[dict[str, Any]]: ...

    def configure(self, **settings: Any) -> None: ...

    def state(self) -> TrainerState: ...

    def load_state(self, state: TrainerState) -> None: ...

    def reset(self) -> None: ...


# --- the pieces trainers share -------------------------------------------------------------------------------


def rng_state(rng: np.random.Generator) -> dict[str, Any]:
    """A generator's state as JSON (PCG64's 128-bit numbers are Python ints, which JSON keeps exactly)."""
    return dict(rng.bit_generator.state)


def rng_from_state(state: dict[str, Any]) -> np.random.Generator:
    if not isinstance(state, dict) or state.get("bit_generator") != "PCG64":
        raise EngineError("the random generator's state must be a PCG64 state")
    rng = np.random.default_rng()
    try:
        rng.bit_generator.state = state
    except (TypeError, ValueError, KeyError) as exc:
        raise EngineError(f"the random generator's state is malformed ({exc})") from None
    return rng


def optimizer_arrays(optimizer: Any, prefix: str = "optimizer") -> dict[str, np.ndarray]:
    """An optimiser's slots as named arrays: '{prefix}/{layer}.{param}/{slot}'."""
    return {f"{prefix}/{layer}.{name}/{slot}": arr.copy()
            for (layer, name), slots in optimizer.state.items() for slot, arr in slots.items()}


def load_optimizer_arrays(optimizer: Any, arrays: dict[str, np.ndarray], t: int, prefix: str = "optimizer") -> None:
    """The inverse of `optimizer_arrays`: refill the optimiser's slots and its step count."""
    state: dict[tuple[int, str], dict[str, np.ndarray]] = {}
    for key, arr in arrays.items():
        if not key.startswith(prefix + "/"):
            continue
        try:
            where, slot = key[len(prefix) + 1:].rsplit("/", 1)
            layer, name = where.split(".", 1)
            state.setdefault((int(layer), name), {})[slot] = np.array(arr)
        except ValueError:
            raise EngineError(f"optimizer slot '{key}' is not named 'layer.param/slot'") from None
    optimizer.state = state
    optimizer.t = int(t)


class DivergenceGuard:
    """The one divergence rule: keep the last finite parameters and optimiser state.

    `save()` copies the parameters and optimiser slots into buffers reused from call to call (np.copyto, no
    allocation once warm), `check(loss)` tells whether a chunk of training stayed finite, `restore()` puts the
    saved values back. A trainer saves once per chunk (a frame, a /train request), not once per step, so the
    guard costs one copy per frame.
    """

    def __init__(self) -> None:
        self._params: list[np.ndarray] = []
        self._opt: dict[tuple[int, str], dict[str, np.ndarray]] = {}
        self._opt_t = 0

    def save(self, params: list[np.ndarray], optimizer: Any) -> None:
        if len(self._params) != len(params) or any(b.shape != p.shape or b.dtype != p.dtype
                                                   for b, p in zip(self._params, params, strict=True)):
            self._params = [p.copy() for p in params]
        else:
            for buf, p in zip(self._params, params, strict=True):
                np.copyto(buf, p)
        saved: dict[tuple[int, str], dict[str, np.ndarray]] = {}
        for key, slots in optimizer.state.items():
            old = self._opt.get(key, {})
            saved[key] = {}
            for slot, arr in slots.items():
                kept = old.get(slot)
                if kept is None or kept.shape != arr.shape or kept.dtype != arr.dtype:
                    kept = arr.copy()
                else:
                    np.copyto(kept, arr)
                saved[key][slot] = kept
        self._opt = saved
        self._opt_t = optimizer.t

    @staticmethod
    def finite(loss: float, params: list[np.ndarray]) -> bool:
        return math.isfinite(loss) and all(np.isfinite(p).all() for p in params)

    def restore(self, params: list[np.ndarray], optimizer: Any) -> None:
        for p, buf in zip(params, self._params, strict=True):
            np.copyto(p, buf)
        optimizer.state = {key: {slot: arr.copy() for slot, arr in slots.items()} for key, slots in self._opt.items()}
        optimizer.t = self._opt_t


def diverged_message(loss: float, step: int, kept: int | None = None) -> str:
    """Why a trainer stopped: at which step, which parameters it kept (from step `kept`, the start of the chunk
    of training that diverged) and that only a reset trains on."""
    what = "NaN" if math.isnan(loss) else "infinite or too large" if not math.isfinite(loss) else "finite, but a " \
        "parameter became NaN or infinite"
    where = "from the last finite step" if kept is None else f"from step {kept}, the last finite ones checked"
    return (f"Training diverged: the loss became {what} at step {step}; the parameters were kept {where}. "
            f"Reset the session to train on (perhaps with a lower learning rate): the kept parameters lead to "
            f"the same divergence.")


def check_learning_rate(value: Any, high: float = 100.0) -> float:
    """A learning rate from a request: a finite number in (0, high]."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or not 0 < value <= high:
        raise EngineError(f"learning_rate must be a number in (0, {high:g}], got {value!r}")
    return float(value)


# --- the part every trainer shares -----------------------------------------------------------------------


class _NonFinite(Exception):
    """Raised inside a chunk when a step's loss is not finite: the chunk stops there and rolls back."""

    def __init__(self, loss: float) -> None:
        super().__init__(loss)
        self.loss = loss


class TrainerBase:
    """The counters, the history, chunks of training with the one divergence rule, and `load_state`.

    A trainer calls `init_protocol()` in its constructor, defines `parameters()` (the live parameter arrays, in a
    fixed order) and `optimizer`, runs every step inside `with self.chunk():` and ends it with
    `finish_step(loss)`. Chunks nest: a step inside `train` belongs to `train`'s chunk, so the parameters are
    saved once per request or live frame, not once per step.
    """

    kind: ClassVar[str] = ""
    step_count: int
    history: list[dict[str, Any]]
    diverged: bool
    diverged_message: str
    optimizer: Any

    def init_protocol(self) -> None:
        self.step_count = 0
        self.history = []
        self.diverged = False
        self.diverged_message = ""
        self._guard = DivergenceGuard()
        self._chunk_depth = 0

    def parameters(self) -> list[np.ndarray]:
        raise NotImplementedError

    @property
    def epoch_value(self) -> float | None:
        """Epochs completed where epochs apply (None for trainers that draw fresh data every step)."""
        return None

    def check_trainable(self) -> None:
        """Refuse to train a diverged trainer: only `reset()` clears it."""
        if self.diverged:
            raise DivergedError(self.diverged_message)

    @contextmanager
    def chunk(self) -> Iterator[None]:
        """One chunk of training (a /train request, a live frame, a lone step).

        Its start is saved once (parameters, optimiser slots and step count, the history's length). If a step's
        loss or, at the end, a parameter is not finite, all of that goes back to the start, the trainer is marked
        diverged and `DivergedError` is raised. The data cursor and the random generator are not rolled back:
        a diverged trainer trains on only after `reset()`, which starts them again.
        """
        self.check_trainable()
        if self._chunk_depth:
            self._chunk_depth += 1
            try:
                yield
            finally:
                self._chunk_depth -= 1
            return
        params = self.parameters()
        self._guard.save(params, self.optimizer)
        start_step, start_len = self.step_count, len(self.history)
        start_last = self.history[-1] if self.history else None
        self._chunk_depth = 1
        loss = 0.0
        try:
            # Overflow on the way to divergence is expected and handled here, not worth a warning.
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                yield
        except _NonFinite as stop:
            loss = stop.loss
        finally:
            self._chunk_depth = 0
        if DivergenceGuard.finite(loss, params):
            return
        failed_at = self.step_count
        self._guard.restore(params, self.optimizer)
        self.step_count = start_step
        del self.history[start_len:]
        if start_last is not None:
            self.history[-1] = start_last
        self.diverged = True
        self.diverged_message = diverged_message(loss, failed_at, start_step)
        raise DivergedError(self.diverged_message)

    def check_loss(self, loss: float) -> None:
        """Stop the chunk at a loss that is not finite (inside `chunk()` only)."""
        if not math.isfinite(loss):
            raise _NonFinite(float(loss))

    def finish_step(self, loss: float) -> StepResult:
        """The end of a step: stop the chunk at a non-finite loss, else the step's result."""
        self.check_loss(loss)
        return StepResult(float(loss), self.step_count, self.epoch_value)

    # --- state: the counters every trainer has ------------------------------------------------------------

    def protocol_meta(self) -> dict[str, Any]:
        return {"step_count": self.step_count, "history": [dict(h) for h in self.history],
                "diverged": self.diverged, "diverged_message": self.diverged_message}

    def load_protocol_meta(self, state: TrainerState) -> None:
        history = state.value("history")
        if not isinstance(history, list) or not all(isinstance(h, dict) and "step" in h for h in history):
            raise EngineError("a trainer state's history must be a list of records with a 'step'")
        self.step_count = int(state.value("step_count"))
        self.history = [dict(h) for h in history]
        self.diverged = bool(state.value("diverged"))
        self.diverged_message = str(state.value("diverged_message"))

    @classmethod
    def from_state(cls, state: TrainerState) -> TrainerBase:
        raise NotImplementedError

    def load_state(self, state: TrainerState) -> None:
        """Become the trainer `state` describes, exactly as `from_state(state)` would build it."""
        if state.kind != self.kind:
            raise EngineError(f"a {state.kind or 'unknown'} state cannot be loaded into a {self.kind} trainer")
        fresh = type(self).from_state(state)
        vars(self).clear()
        vars(self).update(vars(fresh))


def check_state_kind(state: TrainerState, kind: str) -> None:
    if state.kind != kind:
        raise EngineError(f"this is a {state.kind or 'unknown'} trainer state, not a {kind} one")


# kind → "module:Class" of every trainer; `restore_trainer` imports the module on first use. A new kind of
# trainer adds its line here (or calls `register_trainer`).
TRAINER_CLASSES: dict[str, str] = {
    "dense": "engine.dense.trainer:Trainer",
    "lenet": "engine.lenet.training:LeNetTraining",
    "transformer": "engine.transformer.trainer:TransformerTrainer",
    "charlm": "engine.charlm.trainer:CharLMTrainer",
}
_restorers: dict[str, Callable[[TrainerState], Any]] = {}


def register_trainer(kind: str, restore: Callable[[TrainerState], Any]) -> None:
    """Make `restore_trainer` rebuild states of `kind` with `restore` (a class's `from_state`)."""
    _restorers[kind] = restore


def restorer(kind: str) -> Callable[[TrainerState], Any]:
    if kind not in _restorers:
        if kind not in TRAINER_CLASSES:
            raise EngineError(f"unknown kind of trainer '{kind}'; known: {', '.join(sorted(TRAINER_CLASSES))}")
        module, name = TRAINER_CLASSES[kind].split(":")
        _restorers[kind] = getattr(importlib.import_module(module), name).from_state
    return _restorers[kind]


def restore_trainer(state: TrainerState | bytes) -> Any:
    """Any trainer, rebuilt from its state alone (`TrainerState` or its `.npz` bytes)."""
    if isinstance(state, (bytes, bytearray)):
        state = TrainerState.from_bytes(bytes(state))
    return restorer(state.kind)(state)
