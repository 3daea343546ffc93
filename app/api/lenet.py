"""The LeNet page and its API: draw a digit, read every layer; inspect units and filters; train from scratch."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Query, Request, Response, WebSocket
from fastapi.responses import HTMLResponse, JSONResponse

from engine.core.errors import EngineError
from engine.core.training import TrainerState
from engine.dense.trainer import Trainer
from engine.lenet.digits import decode_png_data_url, ink_from_values, preprocess_digit
from engine.lenet.model import DigitNetwork, LeNet5
from engine.lenet.training import DigitArrays, LeNetTraining, evaluate, probe_indices, shipped_digits

from ..arrays import encode
from ..budgets import check, lenet_session_cost
from ..errors import too_large
from ..live import LiveHandlers, serve
from ..pages import render
from ..schemas.common import EncodingParam
from ..schemas.lenet import (
    CreateSession,
    Evaluation,
    Filters,
    LiveConfig,
    ModelLayout,
    Prediction,
    PredictRequest,
    Samples,
    SessionState,
    TrainRequest,
    UnitDetail,
    UnitRequest,
)
from ..settings import Settings
from ..store import Codec, Session, SessionNotFound, SessionStore, register_codec
from ..work import client_gone
from .deps import Config, Enc, Jobs, Store
from .sessions import add_session_routes, with_encoding

PAGE = {
    "path": "/lenet",
    "title": "LeNet",
    "blurb": "Draw a digit and watch LeNet-5 read it layer by layer: every feature map, every filter, the "
             "arithmetic of any unit. Then train a LeNet from scratch in the page and watch its filters form.",
    "order": 5,
}

router = APIRouter(tags=["lenet"])
KIND = "lenet"
EMPTY_MESSAGE = "The image is empty: draw a digit (white ink on black, or any ink on a transparent canvas)."
# A live frame trains a tenth of an epoch (12 batches of 64): the curves move often, and a frame holds the session
# for well under the store's busy wait, so a request that comes meanwhile is answered (a fifth held it for 2 s and
# more on a loaded machine, and the request got a 409 busy).
LIVE_FRAMES_PER_EPOCH = 10
LIVE_EPOCH_LIMIT = 100  # a tab left open stops here instead of using a shared CPU for ever
MAX_SAMPLES = 50

SessionParam = Annotated[str | None, Query(description="A training session's id, or a network session holding a "
                                                      "LeNet-like network (1×28×28 → 10), to use its model")]
NETWORK_KIND = "network"


@dataclass
class GuardedModel:
    """A model and the lock that keeps one pass at a time on it (conv layers reuse their work buffers)."""

    model: DigitNetwork
    lock: Any = field(default_factory=threading.Lock)  # a network session's model is guarded by its session's lock


@dataclass
class LeNetSession:
    training: LeNetTraining
    # Predictions read this copy, refreshed after every training chunk, so drawing never waits for training.
    snapshot: GuardedModel
    probes: np.ndarray

    def refresh_snapshot(self) -> None:
        with self.snapshot.lock:
            self.snapshot.model.copy_weights_from(self.training.model)

    @classmethod
    def around(cls, training: LeNetTraining) -> LeNetSession:
        model = training.model
        lenet = cls(training, GuardedModel(LeNet5(model.activation, model.pooling, seed=model.seed)),
                    probe_indices(shared.digits().y_test))
        lenet.refresh_snapshot()
        return lenet

    def load_state(self, state: TrainerState) -> None:
        self.training.load_state(state)
        self.refresh_snapshot()


# The store keeps a LeNet session as its training's state; the prediction copy and the probes are rebuilt.
register_codec(KIND, Codec(dump=lambda lenet: lenet.training.state(),
                           build=lambda state: LeNetSession.around(LeNetTraining.from_state(state)),
                           load_into=lambda lenet, state: lenet.load_state(state)))


class _Shared:
    """What every request reads and nobody changes: the digits, the shipped model, its test-set evaluation."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._shipped: GuardedModel | None = None
        self._evaluation: dict[str, Any] | None = None

    def digits(self) -> DigitArrays:
        return shipped_digits()

    def shipped(self) -> GuardedModel:
        with self._lock:
            if self._shipped is None:
                self._shipped = GuardedModel(LeNet5.load())
            return self._shipped

    def shipped_evaluation(self) -> dict[str, Any]:
        guarded, digits = self.shipped(), self.digits()
        with self._lock:
            if self._evaluation is None:
                with guarded.lock:
                    self._evaluation = evaluate(guarded.model, digits.x_test, digits.y_test)
            return self._evaluation


shared = _Shared()


# --- models --------------------------------------------------------------------------------------


def model_info(session: Session | None, guarded: GuardedModel) -> dict[str, Any]:
    model = guarded.model
    if session is not None and session.kind == NETWORK_KIND:
        trainer: Trainer = session.obj
        return {"source": "network", "session": session.id, **model.describe(), "step": trainer.step_count,
                "epoch": trainer.epoch, "test_accuracy": None}
    if session is None:
        return {"source": "shipped", "session": None, **model.describe(),
                "step": model.meta.get("steps"), "epoch": model.meta.get("epochs"),
                "test_accuracy": model.meta.get("test_accuracy")}
    training: LeNetTraining = session.obj.training
    tested = [h["test_accuracy"] for h in training.history if h.get("test_accuracy") is not None]
    return {"source": "session", "session": session.id, **model.describe(), "step": training.step_count,
            "epoch": training.epoch, "test_accuracy": tested[-1] if tested else None}


def resolve(session_id: str | None, store: SessionStore) -> tuple[Session | None, GuardedModel]:
    """The shipped model, a LeNet training session's snapshot, or a network session's LeNet-like network (one
    imported from safetensors or ONNX, say): its own layers, read under the session's lock."""
    if session_id is None:
        return None, shared.shipped()
    try:
        session = store.get(session_id, KIND)
        return session, session.obj.snapshot
    except SessionNotFound:
        try:
            session = store.get(session_id, NETWORK_KIND)
        except SessionNotFound:
            raise SessionNotFound(f"no lenet session or digit network '{session_id}': the id is unknown or "
                                  "the session expired; create one (POST /api/lenet/sessions, or import a model "
                                  "with POST /api/networks/import)") from None
    trainer: Trainer = session.obj
    return session, GuardedModel(DigitNetwork(trainer.net), session.lock)


def read_image(body: PredictRequest, settings: Settings) -> np.ndarray:
    """The request's image as a float32 ink image in 0..1."""
    if (body.image is None) == (body.png is None):
        raise EngineError("give either 'image' (rows of grey levels) or 'png' (a PNG data URL), not both or neither")
    limit = settings.max_predict_image_size
    if body.png is not None:
        image = decode_png_data_url(body.png)
    else:
        assert body.image is not None  # exactly one of the two, checked above
        rows, cols = len(body.image), max((len(r) for r in body.image), default=0)
        if rows > limit or cols > limit:
            raise too_large("the image's larger side", max(rows, cols), limit, "max_predict_image_size")
        image = ink_from_values(body.image, float(body.max_value), body.invert)
    if max(image.shape) > limit:
        raise too_large("the image's larger side", max(image.shape), limit, "max_predict_image_size")
    return image


def network_input(image: np.ndarray, preprocess: bool) -> np.ndarray | None:
    if preprocess:
        return preprocess_digit(image)
    if image.shape != (28, 28):
        raise EngineError(f"without preprocessing the image must be 28×28 (an MNIST digit), got "
                          f"{image.shape[0]}×{image.shape[1]}; or leave 'preprocess' on")
    return image if np.any(image) else None


# --- the page --------------------------------------------------------------------------------------


@router.get("/lenet", response_class=HTMLResponse, include_in_schema=False)
def lenet_page(request: Request) -> HTMLResponse:
    return render(request, "lenet.html", title=PAGE["title"])


# --- predictions and inspection -----------------------------------------------------------------


@router.post("/api/lenet/predict", response_model=Prediction, summary="Classify a digit, with every layer's output")
def predict(body: PredictRequest, store: Store, settings: Config, encoding: Enc = "json") -> Response:
    """A grayscale image (numbers or a PNG data URL), preprocessed like MNIST unless told otherwise, through
    LeNet-5: the digit, the ten probabilities, the 28×28 input it read and every layer's output. An image
    without ink gets `empty: true` and a message instead of a guess."""
    session, guarded = resolve(body.session, store)
    x = network_input(read_image(body, settings), body.preprocess)
    info = model_info(session, guarded)
    if x is None:
        return JSONResponse({"empty": True, "message": EMPTY_MESSAGE, "digit": None, "probabilities": None,
                             "input": None, "layers": None, "model": info})
    with guarded.lock:
        outputs = guarded.model.layer_outputs(x)
    # Returned directly: the payload is built to the schema, and skipping FastAPI's re-validation of
    # thousands of numbers keeps a prediction within a few milliseconds.
    return JSONResponse({
        "empty": False, "message": None, "digit": int(outputs["digit"]),
        "probabilities": outputs["probabilities"].tolist(),
        "input": encode(outputs["input"][0], encoding),
        "layers": {name: encode(outputs[name], encoding) for name in guarded.model.layer_names},
        "model": info,
    })


@router.post("/api/lenet/unit", response_model=UnitDetail, response_model_exclude_none=True,
             summary="The arithmetic behind one unit")
def unit(body: UnitRequest, store: Store) -> dict[str, Any]:
    """For the 28×28 input of a prediction: one unit's window on the layer before, the kernel or weights, the
    products, the bias, the sum and the activation (conv, dense), or the window and its max / mean (pool),
    with its receptive field on the layer before and on the input."""
    session, guarded = resolve(body.session, store)
    image = ink_from_values(body.image)
    if image.shape != (28, 28):
        raise EngineError(f"the image must be the network's 28×28 input, got {image.shape[0]}×{image.shape[1]}")
    with guarded.lock:
        return guarded.model.unit(image, body.layer, body.index, body.row, body.col)


@router.get("/api/lenet/filters", response_model=Filters, summary="The learned conv1 and conv2 filters")
def filters(store: Store, session: SessionParam = None, encoding: Enc = "json") -> dict[str, Any]:
    owner, guarded = resolve(session, store)
    with guarded.lock:
        kernels = {name: {k: v.copy() for k, v in layer.items()} for name, layer in guarded.model.filters().items()}
    return {**encode(kernels, encoding), "model": model_info(owner, guarded)}


@router.get("/api/lenet/model", response_model=ModelLayout,
            summary="A model's layers as the page draws them, its settings and training record")
def model(store: Store, session: SessionParam = None) -> dict[str, Any]:
    """The shipped model (or a session's): every named layer's kind, shape and caption, input first."""
    owner, guarded = resolve(session, store)
    with guarded.lock:
        m = guarded.model
        return encode({**m.describe(), "parameters": m.net.num_params, "layers": m.layout(),
                       "training": m.meta, "model": model_info(owner, guarded)})


@router.get("/api/lenet/samples", response_model=Samples, summary="Test digits with their labels")
def samples(
    digit: Annotated[int | None, Query(ge=0, le=9, description="Only this digit (default: any)")] = None,
    n: Annotated[int, Query(ge=1, le=MAX_SAMPLES, description="How many")] = 5,
    seed: Annotated[int | None, Query(ge=0, description="Seed of the choice (default: a new random one)")] = None,
    index: Annotated[int | None, Query(ge=0, description="This test digit (its index) instead of a random choice")]
    = None,
    encoding: Enc = "json",
) -> dict[str, Any]:
    """Random digits from the 2,000 test digits (which the shipped model never trained on), or the one at `index`."""
    digits = shared.digits()
    if index is not None:
        if index >= len(digits.y_test):
            raise EngineError(f"index must be below {len(digits.y_test)} (the number of test digits), got {index}")
        return {"samples": [{"index": index, "label": int(digits.y_test[index]),
                             "image": encode(digits.x_test[index, 0], encoding)}]}
    pool = np.arange(len(digits.y_test)) if digit is None else np.flatnonzero(digits.y_test == digit)
    rng = np.random.default_rng(secrets.randbits(64) if seed is None else seed)
    chosen = rng.choice(pool, size=min(n, len(pool)), replace=False)
    return {"samples": [{"index": int(i), "label": int(digits.y_test[i]),
                         "image": encode(digits.x_test[i, 0], encoding)} for i in chosen]}


@router.get("/api/lenet/mistakes", response_model=Evaluation, summary="Test digits the model gets wrong")
def mistakes(store: Store, session: SessionParam = None, encoding: Enc = "json") -> dict[str, Any]:
    """Accuracy and confusion matrix on the 2,000 test digits, and every digit read wrong (most confident
    first). For the shipped model this is computed once and cached."""
    owner, guarded = resolve(session, store)
    digits = shared.digits()
    if owner is None:
        result = shared.shipped_evaluation()
    else:
        with guarded.lock:
            result = evaluate(guarded.model, digits.x_test, digits.y_test)
    predicted, probs, labels = result["predicted"], result["probabilities"], digits.y_test
    wrong = np.flatnonzero(predicted != labels)
    wrong = wrong[np.argsort(-probs[wrong, predicted[wrong]], kind="stable")]
    return {
        "accuracy": result["accuracy"], "correct": int((predicted == labels).sum()), "total": len(labels),
        "confusion": result["confusion"].tolist(),
        "mistakes": [{"index": int(i), "label": int(labels[i]), "predicted": int(predicted[i]),
                      "confidence": float(probs[i, predicted[i]]), "probabilities": probs[i].tolist(),
                      "image": encode(digits.x_test[i, 0], encoding)} for i in wrong],
        "model": model_info(owner, guarded),
    }


# --- training sessions --------------------------------------------------------------------------


def session_state(session: Session, encoding: EncodingParam = "json") -> dict[str, Any]:
    lenet: LeNetSession = session.obj
    training = lenet.training
    digits = shared.digits()
    probe = probe_frame(lenet)
    return encode({
        "id": session.id, "activation": training.model.activation, "pooling": training.model.pooling,
        "learning_rate": training.optimizer.learning_rate, "batch_size": training.batch_size,
        "augment": training.augment, "step": training.step_count, "epoch": training.epoch,
        "steps_per_epoch": training.steps_per_epoch, "diverged": training.diverged,
        "message": training.diverged_message,
        "history": training.history, "probe_indices": lenet.probes.tolist(),
        "probe_labels": digits.y_test[lenet.probes].tolist(), "probe_images": digits.x_test[lenet.probes, 0],
        "probe_predicted": probe["predicted"], "probe_probabilities": probe["probabilities"],
        "conv1": training.model.filters()["conv1"]["weight"].copy(),
    }, encoding)


def probe_frame(lenet: LeNetSession) -> dict[str, Any]:
    predicted, probabilities = lenet.training.model.classify(shared.digits().x_test[lenet.probes])
    return {"predicted": predicted.tolist(), "probabilities": probabilities}


@router.post("/api/lenet/sessions", response_model=SessionState, status_code=201,
             summary="Start training a fresh LeNet-5")
def create_session(body: CreateSession, store: Store, settings: Config, encoding: Enc = "json") -> dict[str, Any]:
    """A new LeNet-5 with random weights on the 8,000 training digits. Train it over the WebSocket
    /ws/lenet/{id} (play / pause / step) or with POST …/train; predict with it by passing `session`."""
    cost = lenet_session_cost(body.batch_size, len(shared.digits().y_test))
    check(cost, settings, store)
    model = LeNet5(body.activation, body.pooling, seed=body.seed)
    training = LeNetTraining(model, "mnist10k", learning_rate=body.learning_rate, batch_size=body.batch_size,
                             augment=body.augment, seed=body.seed)
    training.record()
    return session_state(store.add(KIND, LeNetSession.around(training), nbytes=cost.held), encoding)


add_session_routes(router, "/api/lenet/sessions/{session_id}", KIND, with_encoding(session_state),
                   response_model=SessionState, names=("get_session", "delete_session"),
                   get_summary="A training session's state", delete_summary="Delete a training session")


@router.post("/api/lenet/sessions/{session_id}/train", response_model=SessionState,
             summary="Train for some steps or epochs",
             responses={409: {"description": "Training diverged (now or before): the weights were kept from before "
                                             "this request; reset the session to train on"}})
def train_session(session_id: str, body: TrainRequest, request: Request, store: Store, settings: Config,
                  jobs: Jobs, encoding: Enc = "json") -> dict[str, Any]:
    """`steps` batches, then `epochs` epochs: at most max_steps_per_request batches in all. Trains in chunks of a
    tenth of an epoch (then whole epochs, whose test metrics come at their ends) and stops between them after
    train_deadline_seconds or when the client disconnects; the state then shows how far it got. A diverged
    session answers 409 until it is reset."""
    training = store.get(session_id, KIND).obj.training  # the limit is checked before waiting for the lock
    total = body.steps + body.epochs * training.steps_per_epoch
    if total > settings.max_steps_per_request:
        raise too_large("the optimiser steps of this request (steps + epochs × batches per epoch)", total,
                        settings.max_steps_per_request, "max_steps_per_request")
    with jobs.job(), store.use(session_id, KIND) as session:
        lenet: LeNetSession = session.obj
        training = lenet.training
        training.check_trainable()  # a diverged session answers 409, even to a request for no steps
        chunk = max(1, training.steps_per_epoch // LIVE_FRAMES_PER_EPOCH)
        plan: list[tuple[int, int | None]] = [(min(chunk, body.steps - done), None)
                                              for done in range(0, body.steps, chunk)]
        plan += [(training.steps_per_epoch, training.steps_per_epoch)] * body.epochs
        gone = client_gone(request)
        stop_at = time.monotonic() + settings.train_deadline_seconds
        try:
            for steps, record_every in plan:
                if time.monotonic() >= stop_at or gone():
                    break
                training.train(steps, record_every=record_every)
        finally:
            lenet.refresh_snapshot()
        return session_state(session, encoding)


@router.post("/api/lenet/sessions/{session_id}/reset", response_model=SessionState,
             summary="Fresh weights, same settings (also what a diverged session needs)")
def reset_session(session_id: str, store: Store, encoding: Enc = "json") -> dict[str, Any]:
    with store.use(session_id, KIND) as session:
        lenet: LeNetSession = session.obj
        lenet.training.reset()
        lenet.training.record()
        lenet.refresh_snapshot()
        return session_state(session, encoding)


def live_handlers(session: Session) -> LiveHandlers:
    lenet: LeNetSession = session.obj
    training = lenet.training

    def train(unit: str) -> None:
        steps = 1 if unit == "batch" else max(1, training.steps_per_epoch // LIVE_FRAMES_PER_EPOCH)
        try:
            training.train(steps)
        finally:
            lenet.refresh_snapshot()

    def frame() -> dict[str, Any]:
        probe = probe_frame(lenet)
        return {"step": training.step_count, "epoch": training.epoch,
                "learning_rate": training.optimizer.learning_rate, "augment": training.augment,
                "diverged": training.diverged, "message": training.diverged_message,
                "conv1": encode(training.model.filters()["conv1"]["weight"].copy(), "base64"),
                "probe_predicted": probe["predicted"], "probe_probabilities": encode(probe["probabilities"], "base64"),
                "limit_reached": training.epoch >= LIVE_EPOCH_LIMIT}

    return LiveHandlers(train=train, frame=frame, configure=lambda changes: training.configure(**changes),
                        finished=lambda: training.epoch >= LIVE_EPOCH_LIMIT, history=lambda: training.history,
                        config_schema=LiveConfig)


@router.websocket("/ws/lenet/{session_id}")
async def live(websocket: WebSocket, session_id: str) -> None:
    """Live training: send {"type": "play" | "pause" | "step" | "frame"} or {"type": "config", "learning_rate",
    "augment"} (see LiveConfig). Each frame trains a tenth of an epoch (a "step" with unit "batch" trains one
    batch), then sends the step, epoch, a `history` delta {from, entries} (truncate your copy to `from`, append
    `entries`; test accuracy at every epoch's end), conv1's filters and the predictions on the session's fixed
    test digits (base64 arrays)."""
    await serve(websocket, KIND, session_id, live_handlers)
