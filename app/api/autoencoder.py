"""The autoencoder page and its API: the digits' 2-D latent map you click to decode, beside PCA; train live."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from fastapi import APIRouter, Request, Response, WebSocket
from fastapi.responses import HTMLResponse

from engine.autoencoder.data import DigitData, reconstruction_mse
from engine.autoencoder.model import Autoencoder, AutoencoderConfig
from engine.autoencoder.pca import PCA
from engine.autoencoder.trainer import AutoencoderTrainer
from engine.core.errors import EngineError
from engine.lenet.digits import decode_png_data_url, preprocess_digit
from engine.lenet.training import probe_indices

from ..arrays import encode
from ..errors import too_large
from ..live import LiveHandlers, serve
from ..pages import render
from ..schemas.autoencoder import (
    AutoencoderState,
    CreateAutoencoder,
    Decoded,
    DecodeRequest,
    Encoded,
    EncodeRequest,
    LatentMap,
    PcaMap,
    TestDigits,
    TrainRequest,
)
from ..schemas.common import EncodingParam
from ..settings import Settings
from ..store import Session
from .deps import Config, Enc, Store

PAGE = {
    "path": "/autoencoder",
    "title": "Autoencoder",
    "blurb": "Learning without labels: a network squeezes every digit through two numbers and rebuilds it. Click "
             "anywhere on the map of those two numbers to see the digit it decodes to, compare with PCA, and watch "
             "the map organise itself while it trains.",
    "order": 7,
}

router = APIRouter(tags=["autoencoder"])
KIND = "autoencoder"
FRAME_STEPS = 10  # a live frame trains ten batches (~0.08 epoch), then re-projects all 2,000 test digits
LIVE_EPOCH_LIMIT = 100  # a tab left open stops here instead of using a shared CPU for ever
HISTORY_TAIL = 30
SAMPLE_PER_DIGIT = 2
PCA_COMPONENTS = 2


def as_images(flat: np.ndarray) -> np.ndarray:
    return flat.reshape(len(flat), 28, 28)


def as_gray_levels(images: np.ndarray) -> np.ndarray:
    """0..1 images as uint8 0..255 for the wire (a quarter of float32's bytes; the page draws them as such)."""
    return np.clip(np.rint(images * 255), 0, 255).astype(np.uint8)


class _Shared:
    """What every request reads and nobody changes: the digits, the shipped weights, PCA and its test scores."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._digits: DigitData | None = None
        self._shipped: Autoencoder | None = None
        self._pca: dict[int, PCA] = {}
        self._pca_mse: dict[int, float] = {}

    def digits(self) -> DigitData:
        with self._lock:
            if self._digits is None:
                self._digits = DigitData.load()
            return self._digits

    def shipped(self) -> Autoencoder:
        """The shipped model; never run (its layers' caches are not thread-safe): sessions copy its weights."""
        with self._lock:
            if self._shipped is None:
                self._shipped = Autoencoder.load()
            return self._shipped

    def pca(self, components: int = PCA_COMPONENTS) -> PCA:
        digits = self.digits()
        with self._lock:
            if components not in self._pca:
                self._pca[components] = PCA.fit(digits.x_train, components)
                self._pca_mse[components] = reconstruction_mse(
                    digits.x_test, self._pca[components].reconstruct(digits.x_test))
            return self._pca[components]

    def pca_mse(self, components: int = PCA_COMPONENTS) -> float:
        self.pca(components)
        return self._pca_mse[components]

    def sample(self) -> np.ndarray:
        return probe_indices(self.digits().y_test, SAMPLE_PER_DIGIT)


shared = _Shared()


@dataclass
class AutoencoderSession:
    trainer: AutoencoderTrainer
    source: str
    # Encode and decode read this copy, refreshed after every training chunk, so a click never waits for training.
    snapshot: Autoencoder
    lock: threading.Lock = field(default_factory=threading.Lock)

    def refresh_snapshot(self) -> None:
        with self.lock:
            self.snapshot.copy_weights_from(self.trainer.model)


# --- the page --------------------------------------------------------------------------------------


@router.get("/autoencoder", response_class=HTMLResponse, include_in_schema=False)
def autoencoder_page(request: Request) -> HTMLResponse:
    return render(request, "autoencoder.html", title=PAGE["title"])


# --- shared data: test digits and PCA (before the {session_id} routes, which would match these names) ---------


@router.get("/api/autoencoders/digits", response_model=TestDigits, summary="The 2,000 test digits the maps show")
def test_digits(encoding: Enc = "json") -> dict[str, Any]:
    """The test digits as uint8 grey levels, in the order of every map's points (for thumbnails)."""
    digits = shared.digits()
    return {"images": encode(as_gray_levels(as_images(digits.x_test)), encoding),
            "labels": digits.y_test.tolist()}


def sample_block(images: np.ndarray, reconstructions: np.ndarray, encoding: EncodingParam) -> dict[str, Any]:
    digits, sample = shared.digits(), shared.sample()
    return {"indices": sample.tolist(), "labels": digits.y_test[sample].tolist(),
            "inputs": encode(as_gray_levels(as_images(images[sample])), encoding),
            "reconstructions": encode(as_gray_levels(as_images(np.clip(reconstructions[sample], 0, 1))), encoding)}


@router.get("/api/autoencoders/pca", response_model=PcaMap, summary="PCA with two components: map and reconstructions")
def pca_map(encoding: Enc = "json") -> dict[str, Any]:
    """The linear baseline, fitted by SVD on the 8,000 training digits: every test digit's two coordinates, the
    reconstructions of the sample (clipped to 0..1 for display), the components, and the squared error per pixel
    of its (unclipped) reconstructions of the 2,000 test digits."""
    digits, pca = shared.digits(), shared.pca()
    points = pca.encode(digits.x_test).astype(np.float32)
    reconstructions = pca.decode(points)
    return {"step": 0, "points": encode(points, encoding), "labels": digits.y_test.tolist(), "test_loss": None,
            "test_mse": shared.pca_mse(), "sample": sample_block(digits.x_test, reconstructions, encoding),
            "components": encode(as_images(pca.components).astype(np.float32), encoding),
            "mean": encode(pca.mean.reshape(28, 28).astype(np.float32), encoding),
            "explained_variance_ratio": pca.explained_variance_ratio.tolist()}


def check_count(count: int, what: str, settings: Settings) -> None:
    if count > settings.max_decode_points:
        raise too_large(f"the number of {what}", count, settings.max_decode_points, "max_decode_points")


@router.post("/api/autoencoders/pca/decode", response_model=Decoded, summary="PCA's image of points of its plane")
def pca_decode(body: DecodeRequest, settings: Config, encoding: Enc = "json") -> dict[str, Any]:
    """mean + z·components for each point (z₁, z₂): PCA's linear decoder, unclipped."""
    check_count(len(body.points), "points", settings)
    images = shared.pca().decode(np.asarray(rows(body.points, PCA_COMPONENTS)))
    return {"images": encode(as_images(images).astype(np.float32), encoding)}


def rows(points: list[list[float]], width: int) -> list[list[float]]:
    bad = next((i for i, p in enumerate(points) if len(p) != width), None)
    if bad is not None:
        raise EngineError(f"point {bad} has {len(points[bad])} numbers; each point needs {width} (the code's width)")
    return points


# --- sessions ----------------------------------------------------------------------------------------------


def session_state(session: Session) -> dict[str, Any]:
    ae: AutoencoderSession = session.obj
    trainer = ae.trainer
    config = trainer.config
    result = trainer.evaluate()
    return encode({
        "id": session.id, "source": ae.source,
        "architecture": {**config.as_dict(), "sizes": config.sizes, "parameters": trainer.model.net.num_params},
        "learning_rate": trainer.learning_rate, "batch_size": trainer.batch_size, "denoise": trainer.denoise,
        "step": trainer.step_count, "epoch": trainer.epoch, "steps_per_epoch": trainer.steps_per_epoch,
        "diverged": trainer.diverged, "message": trainer.diverged_message, "history": trainer.history,
        "test_loss": result["loss"], "test_mse": result["mse"], "pca_test_mse": shared.pca_mse(config.latent),
    })


@router.post("/api/autoencoders", response_model=AutoencoderState, status_code=201,
             summary="Create an autoencoder session (the shipped model, or random weights to train)")
def create(body: CreateAutoencoder, store: Store, settings: Config) -> dict[str, Any]:
    """A session holding an autoencoder and its trainer on the 8,000 training digits (without labels). With
    `pretrained` (the default) it starts from the shipped model, whose architecture is the default one; otherwise
    from random weights. Train it with POST …/train or live over the WebSocket /ws/autoencoders/{id}."""
    config = AutoencoderConfig(hidden=tuple(body.hidden), latent=body.latent, activation=body.activation,
                               loss=body.loss, seed=body.seed)
    if body.pretrained:
        shipped = shared.shipped()
        if config != shipped.config:
            sizes = " → ".join(map(str, shipped.config.sizes))
            raise EngineError(f"the shipped model is {sizes} ({shipped.config.activation}, {shipped.config.loss}); "
                              "leave hidden, latent, activation, loss and seed at their defaults, or set "
                              "pretrained to false to train other sizes from scratch")
    model = Autoencoder(config, max_params=settings.max_parameters)
    if body.pretrained:
        model.copy_weights_from(shared.shipped())
        model.meta = dict(shared.shipped().meta)
    trainer = AutoencoderTrainer(config, shared.digits(), learning_rate=body.learning_rate,
                                 batch_size=body.batch_size, denoise=body.denoise, model=model)
    trainer.record_start()
    snapshot = Autoencoder(config)
    ae = AutoencoderSession(trainer, "shipped" if body.pretrained else "scratch", snapshot)
    ae.refresh_snapshot()
    session = store.add(KIND, ae)
    with session.lock:
        return session_state(session)


@router.get("/api/autoencoders/{session_id}", response_model=AutoencoderState, summary="A session's state")
def get_session(session_id: str, store: Store) -> dict[str, Any]:
    with store.use(session_id, KIND) as session:
        return session_state(session)


@router.delete("/api/autoencoders/{session_id}", status_code=204, summary="Delete a session")
def delete_session(session_id: str, store: Store) -> Response:
    store.delete(session_id, KIND)
    return Response(status_code=204)


@router.post("/api/autoencoders/{session_id}/train", response_model=AutoencoderState,
             summary="Train for some steps or epochs")
def train(session_id: str, body: TrainRequest, store: Store, settings: Config) -> dict[str, Any]:
    """Steps, then whole epochs, each epoch one history record with the test digits' scores. A loss that stops
    being finite rolls back to the last finite weights and answers 409."""
    with store.use(session_id, KIND) as session:
        ae: AutoencoderSession = session.obj
        trainer = ae.trainer
        total = body.steps + body.epochs * trainer.steps_per_epoch
        if total > settings.max_steps_per_request:
            raise too_large("steps", total, settings.max_steps_per_request, "max_steps_per_request")
        try:
            if body.steps:
                trainer.train(body.steps)
            for _ in range(body.epochs):
                trainer.train(trainer.steps_per_epoch)
        finally:
            ae.refresh_snapshot()
        return session_state(session)


def read_inputs(body: EncodeRequest, settings: Settings) -> np.ndarray:
    """The request's digits as float32 (N, 784) in 0..1."""
    if (body.images is None) == (body.png is None):
        raise EngineError("give either 'images' (28×28 grey levels each) or 'png' (a drawing as a PNG data URL)")
    if body.png is not None:
        drawing = decode_png_data_url(body.png)
        if max(drawing.shape) > settings.max_predict_image_size:
            raise too_large("the drawing's larger side", max(drawing.shape), settings.max_predict_image_size,
                            "max_predict_image_size")
        digit = preprocess_digit(drawing)
        if digit is None:
            raise EngineError("the drawing is empty: draw a digit (light ink on a transparent or dark background)")
        return digit.reshape(1, 784)
    images = body.images
    assert images is not None  # exactly one of the two, checked above
    check_count(len(images), "images", settings)
    for i, image in enumerate(images):
        if len(image) != 28 or any(len(row) != 28 for row in image):
            raise EngineError(f"image {i} is not 28×28 (28 rows of 28 grey levels); send MNIST-sized digits, or one "
                              "drawing of any size as 'png'")
    x = np.asarray(images, dtype=np.float32).reshape(len(images), 784)
    if x.size and (x.min() < 0 or x.max() > 1):
        raise EngineError(f"grey levels must lie in 0..1 (ink high), found {x.min():g}..{x.max():g}")
    return x


@router.post("/api/autoencoders/{session_id}/encode", response_model=Encoded, summary="Digits → codes")
def encode_digits(session_id: str, body: EncodeRequest, store: Store, settings: Config,
                  encoding: Enc = "json") -> dict[str, Any]:
    """Each digit's code (its point on the latent map) and its reconstruction. A drawing (`png`) is first
    preprocessed like MNIST; `inputs` shows what the encoder read."""
    x = read_inputs(body, settings)
    ae: AutoencoderSession = store.get(session_id, KIND).obj
    with ae.lock:
        codes, reconstructions = ae.snapshot.reconstruct(x)
        codes, reconstructions = codes.copy(), reconstructions.copy()
    return {"points": encode(codes, encoding), "inputs": encode(as_images(x), encoding),
            "reconstructions": encode(as_images(reconstructions), encoding)}


@router.post("/api/autoencoders/{session_id}/decode", response_model=Decoded, summary="Codes → images")
def decode_points(session_id: str, body: DecodeRequest, store: Store, settings: Config,
                  encoding: Enc = "json") -> dict[str, Any]:
    """The decoder's image of each point of the latent space (any point, not only where digits landed)."""
    check_count(len(body.points), "points", settings)
    ae: AutoencoderSession = store.get(session_id, KIND).obj
    points = np.asarray(rows(body.points, ae.trainer.config.latent))
    with ae.lock:
        images = ae.snapshot.decode(points).copy()
    return {"images": encode(as_images(images), encoding)}


def map_payload(trainer: AutoencoderTrainer, encoding: EncodingParam) -> dict[str, Any]:
    digits = shared.digits()
    result = trainer.evaluate()
    return {"step": trainer.step_count, "points": encode(result["codes"], encoding),
            "labels": digits.y_test.tolist(), "test_loss": result["loss"], "test_mse": result["mse"],
            "sample": sample_block(digits.x_test, result["reconstructions"], encoding)}


@router.get("/api/autoencoders/{session_id}/map", response_model=LatentMap,
            summary="The test digits' codes, labels and sample reconstructions")
def latent_map(session_id: str, store: Store, encoding: Enc = "json") -> dict[str, Any]:
    """Every test digit through the session's current network: its code (the point on the map), with the true
    labels for colour only, the test scores, and input/reconstruction pairs for two test digits of each kind."""
    with store.use(session_id, KIND) as session:
        return map_payload(session.obj.trainer, encoding)


# --- live training ------------------------------------------------------------------------------------------


def live_handlers(session: Session) -> LiveHandlers:
    ae: AutoencoderSession = session.obj
    trainer = ae.trainer

    def train_unit(unit: str) -> None:
        try:
            trainer.train(1 if unit == "batch" else FRAME_STEPS)
        finally:
            ae.refresh_snapshot()

    def frame() -> dict[str, Any]:
        return {"epoch": trainer.epoch, "learning_rate": trainer.learning_rate, "denoise": trainer.denoise,
                "diverged": trainer.diverged, "message": trainer.diverged_message,
                "history_tail": encode(trainer.history[-HISTORY_TAIL:]), "history_length": len(trainer.history),
                "limit_reached": trainer.epoch >= LIVE_EPOCH_LIMIT, **map_payload(trainer, "base64")}

    def configure(message: dict[str, Any]) -> None:
        trainer.configure(**{k: v for k, v in message.items() if k != "type"})

    return LiveHandlers(train=train_unit, frame=frame, configure=configure,
                        finished=lambda: trainer.epoch >= LIVE_EPOCH_LIMIT)


@router.websocket("/ws/autoencoders/{session_id}")
async def live(websocket: WebSocket, session_id: str) -> None:
    """Live training: send {"type": "play" | "pause" | "step" | "frame"} or {"type": "config", "learning_rate",
    "denoise", "batch_size"}. Each frame trains ten batches, then sends the step, epoch, the newest history entries
    and the latent map of all 2,000 test digits re-projected through the network as it is now (base64 arrays),
    with the sample's reconstructions."""
    await serve(websocket, KIND, session_id, live_handlers)
