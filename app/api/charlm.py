"""The character language model: the shipped model's predictions, generation (also streamed on a WebSocket) and
attention, the "Language model" page, and training sessions of your own (live over a WebSocket)."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import numpy as np
from fastapi import APIRouter, Request, Response, WebSocket, WebSocketDisconnect
from fastapi.responses import HTMLResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from engine.charlm.corpus import UNKNOWN, corpus_vocabulary
from engine.charlm.model import CharLM, Reading
from engine.charlm.trainer import CharLMTrainer
from engine.core.activations import softmax
from engine.core.errors import EngineError

from ..arrays import encode
from ..budgets import charlm_session_cost, check
from ..errors import describe_errors, status_of, too_large
from ..live import LiveHandlers, serve
from ..pages import render
from ..schemas.charlm import (
    AttentionResult,
    CreateSession,
    EmbeddingMap,
    Generate,
    GenerateResult,
    LiveConfig,
    ModelInfo,
    Predict,
    PredictResult,
    ReadText,
    SessionModel,
    SessionState,
    SessionTrain,
    TrainSession,
)
from ..settings import Settings
from ..store import Session, SessionNotFound, SessionStore
from .deps import Config, Enc, Store

PAGE = {
    "path": "/language",
    "title": "Language model",
    "blurb": "Type into a small character-level transformer trained on Shakespeare: the next character's "
             "probabilities, temperature and top-k, writing streamed character by character, every head's attention "
             "over your sentence, the logit lens — and train one of your own live.",
    "order": 6.5,
}

router = APIRouter(tags=["language model"])
KIND = "charlm"
TOP = 10
SAMPLE_LENGTH = 120
SAMPLE_EVERY = 50  # training steps between the samples a live session writes
CORPUS_NAME = "eight Shakespeare tragedies (Project Gutenberg, public domain), the last 10 % held out"
_shipped_lock = threading.Lock()  # the model's layers keep their last pass, so one reader at a time


@lru_cache(maxsize=1)
def shipped_model() -> CharLM:
    return CharLM.load()


@router.get("/language", response_class=HTMLResponse, include_in_schema=False)
def language_page(request: Request) -> HTMLResponse:
    return render(request, "language.html", title="Language model")


# --- reading texts ------------------------------------------------------------------------------------------


@contextmanager
def model_for(store: SessionStore, session_id: str | None) -> Iterator[CharLM]:
    """The shipped model, or a training session's, held under its lock for the block."""
    if session_id is None:
        with _shipped_lock:
            yield shipped_model()
    else:
        with store.use(session_id, KIND, changes=False) as session:
            yield session.obj.model


def check_text(text: str, settings: Settings) -> None:
    if len(text) > settings.charlm_max_text:
        raise too_large("the text's length", len(text), settings.charlm_max_text, "charlm_max_text")


def window_of(model: CharLM, reading: Reading) -> dict[str, Any]:
    notes = []
    if reading.dropped:
        notes.append(f"Your text has {reading.dropped + len(reading.ids)} characters; the model reads only the last "
                     f"{model.context} (its context), so the first {reading.dropped} are out of its sight.")
    if reading.unknown:
        count = len(reading.unknown)
        notes.append(f"{count} character{'s' if count > 1 else ''} outside the model's {len(model.vocab)}-symbol "
                     f"vocabulary {'are' if count > 1 else 'is'} read as the unknown symbol '{UNKNOWN}'.")
    return {"chars": list(reading.text), "unknown_positions": reading.unknown, "dropped": reading.dropped,
            "note": " ".join(notes) or None}


def predict_payload(model: CharLM, body: Predict) -> dict[str, Any]:
    reading = model.read(body.text)
    length = len(reading.ids)
    position = length - 1 if body.position is None else body.position
    if not -length <= position < length:
        raise EngineError(f"position {body.position} is outside the {length} characters the model read")
    position %= length
    logits = reading.logits[position]
    probs = model.reshape(logits, body.temperature, body.top_k)
    own = softmax(logits[None, :])[0]
    order = np.argsort(-probs, kind="stable")[:TOP]
    nonzero = own[own > 0]
    # How likely the model found each character of the text, given the characters before it.
    every = softmax(reading.logits[:-1])
    seen = every[np.arange(length - 1), reading.ids[1:]]
    return {
        **window_of(model, reading), "position": position, "temperature": body.temperature, "top_k": body.top_k,
        "top": [{"char": model.vocab.symbols[i], "id": int(i), "probability": float(probs[i]),
                 "model_probability": float(own[i])} for i in order],
        "probabilities": probs.tolist(), "model_probabilities": own.tolist(),
        "char_probabilities": [None, *seen.tolist()],
        "entropy_bits": float(-(nonzero * np.log2(nonzero)).sum()),
        "lens": model.lens(position, top=body.lens_top),
    }


def generate_checks(body: Generate, settings: Settings) -> None:
    check_text(body.text, settings)
    if body.length > settings.charlm_max_generate:
        raise too_large("length", body.length, settings.charlm_max_generate, "charlm_max_generate")


@router.get("/api/charlm", response_model=ModelInfo, summary="The shipped character model")
def model_info(settings: Config) -> dict[str, Any]:
    """Its sizes, vocabulary, held-out loss, the command that trained it, and the request limits."""
    model = shipped_model()
    meta, c = model.meta, model.config
    return {"layers": c.layers, "heads": c.heads, "d_model": c.d_model, "d_ff": c.d_ff, "context": c.context,
            "num_params": model.num_params, "vocab": model.vocab.symbols, "unknown_symbol": UNKNOWN,
            "validation_loss": meta.get("validation_loss"), "bits_per_char": meta.get("bits_per_char"),
            "steps": meta.get("steps"), "command": meta.get("command"), "sample": meta.get("sample"),
            "corpus": CORPUS_NAME, "max_text": settings.charlm_max_text,
            "max_generate": settings.charlm_max_generate, "max_train_text": settings.charlm_max_train_text}


@router.post("/api/charlm/predict", response_model=PredictResult, summary="Next-character distribution")
def predict(body: Predict, store: Store, settings: Config) -> dict[str, Any]:
    """The next character's distribution after your text (or after `position`), reshaped by `temperature` and
    `top_k`, the top 10, the model's own distribution, and the logit lens: what each layer would predict."""
    check_text(body.text, settings)
    with model_for(store, body.session) as model:
        return predict_payload(model, body)


@router.post("/api/charlm/generate", response_model=GenerateResult, summary="Write characters")
def generate(body: Generate, store: Store, settings: Config) -> dict[str, Any]:
    """`length` characters after your text, each drawn from the reshaped distribution and read back in, with its
    probability. The same seed writes the same text; temperature 0 always takes the most likely character.
    Streamed character by character on the WebSocket /ws/charlm/generate."""
    generate_checks(body, settings)
    with model_for(store, body.session) as model:
        written = list(model.generate(body.text, body.length, body.temperature, body.top_k, body.seed))
        window = window_of(model, model.read(body.text))
    return {**window, "text": "".join(s.char for s in written), "seed": body.seed, "temperature": body.temperature,
            "top_k": body.top_k, "characters": [{"char": s.char, "probability": s.probability,
                                                 "sampled_probability": s.sampled_probability} for s in written]}


@router.post("/api/charlm/attention", response_model=AttentionResult, summary="Every head's attention")
def attention(body: ReadText, store: Store, settings: Config, encoding: Enc = "json") -> dict[str, Any]:
    """Every layer × head's attention weights over the window the model read: (layers, heads, queries, keys)."""
    check_text(body.text, settings)
    with model_for(store, body.session) as model:
        reading = model.read(body.text)
        weights = model.attention().astype(np.float32)
        return {**window_of(model, reading), "layers": model.config.layers, "heads": model.config.heads,
                "weights": encode(weights, encoding)}


def symbol_group(symbol: str) -> str:
    if symbol == UNKNOWN:
        return "unknown"
    if symbol.isdigit():
        return "digit"
    if symbol.isspace():
        return "space"
    if symbol.isalpha():
        vowel = symbol.lower() in "aeiou"
        return ("capital " if symbol.isupper() else "") + ("vowel" if vowel else "consonant")
    return "punctuation"


@router.get("/api/charlm/embedding", response_model=EmbeddingMap, summary="The character embedding as a 2-D map")
def embedding(store: Store, session: str | None = None, encoding: Enc = "json") -> dict[str, Any]:
    """The embedding matrix (one row per character) on its two first principal components."""
    with model_for(store, session) as model:
        pca = model.embedding_pca()
    return {"symbols": pca["symbols"], "groups": [symbol_group(s) for s in pca["symbols"]],
            "coords": encode(pca["coords"].astype(np.float32), encoding), "explained": pca["explained"].tolist()}


# --- streamed generation ----------------------------------------------------------------------------------------


def parse_generate(raw: str, settings: Settings) -> Generate | None:
    """A /generate body from a WebSocket message, checked as the REST route checks it; None for a stop."""
    try:
        message = json.loads(raw)
    except json.JSONDecodeError:
        message = None
    if not isinstance(message, dict):
        raise EngineError('send a JSON object like {"text": "ROMEO.", "length": 200}, or {"type": "stop"}')
    if message.get("type") == "stop":
        return None
    try:
        body = Generate.model_validate({k: v for k, v in message.items() if k != "type"})
    except ValidationError as exc:
        raise EngineError(describe_errors(list(exc.errors()))) from None
    generate_checks(body, settings)
    return body


async def send_generation(websocket: WebSocket, store: SessionStore, body: Generate) -> None:
    """Stream one generation: start (the window read), one message per character, done. Errors are sent."""
    def start() -> tuple[dict[str, Any], Iterator[Any]]:
        with model_for(store, body.session) as model:
            window = window_of(model, model.read(body.text))
        return window, iter_generate(store, body)

    try:
        window, chars = await run_in_threadpool(start)
        await websocket.send_text(json.dumps({"type": "start", **window, "length": body.length}))
        text = []
        for index in range(body.length):
            sampled = await run_in_threadpool(next, chars)
            text.append(sampled.char)
            await websocket.send_text(json.dumps({"type": "char", "index": index, "char": sampled.char,
                                                  "probability": sampled.probability,
                                                  "sampled_probability": sampled.sampled_probability}))
        await websocket.send_text(json.dumps({"type": "done", "text": "".join(text)}))
    except (EngineError, SessionNotFound) as exc:
        await websocket.send_text(json.dumps({"type": "error", "detail": str(exc), "status": status_of(exc)}))


@router.websocket("/ws/charlm/generate")
async def generate_stream(websocket: WebSocket) -> None:
    """Send a /generate body as JSON ({"text", "length", "temperature", "top_k", "seed", "session"}); receive
    {"type": "start", chars, note, ...}, then {"type": "char", "index", "char", "probability",
    "sampled_probability"} per character, then {"type": "done", "text"}. A new request stops the running one;
    {"type": "stop"} stops it. Errors: {"type": "error", "detail", "status"} (the connection stays open)."""
    await websocket.accept()
    settings: Settings = websocket.app.state.settings
    store: SessionStore = websocket.app.state.store
    running: asyncio.Task[None] | None = None
    try:
        while True:
            raw = await websocket.receive_text()
            if running is not None and not running.done():
                running.cancel()
            try:
                body = parse_generate(raw, settings)
            except EngineError as exc:
                await websocket.send_text(json.dumps({"type": "error", "detail": str(exc),
                                                      "status": status_of(exc)}))
                continue
            if body is not None:
                running = asyncio.create_task(send_generation(websocket, store, body))
    except WebSocketDisconnect:
        pass
    finally:
        if running is not None:
            running.cancel()


def iter_generate(store: SessionStore, body: Generate) -> Iterator[Any]:
    """One character per `next`; the model is held under its lock only while it writes that character (never
    while the caller sends it), so a live training session can step in between."""
    sampler = None
    for _ in range(body.length):
        with model_for(store, body.session) as model:
            if sampler is None:
                sampler = model.generate(body.text, body.length, body.temperature, body.top_k, body.seed)
            sampled = next(sampler)
        yield sampled


# --- training sessions -----------------------------------------------------------------------------------------


def session_state(session: Session) -> dict[str, Any]:
    trainer: CharLMTrainer = session.obj
    return encode({
        "id": session.id, "settings": trainer.settings, "num_params": trainer.model.num_params,
        "text_characters": len(trainer.train_ids) + len(trainer.val_ids), "held_out_characters": len(trainer.val_ids),
        "step": trainer.step_count, "history": trainer.history, "latest": trainer.latest(),
        "diverged": trainer.diverged, "message": trainer.diverged_message,
        "sample": session.extra.get("sample"),
    })


def new_sample(trainer: CharLMTrainer, extra: dict[str, Any]) -> dict[str, Any]:
    """A fresh sample (temperature 0.8, seed 0: the same draws every time, so only the model changes) after the
    session's prompt: the one the learner set, else "ROMEO.\n" on the shipped text or the start of theirs."""
    prompt = extra.get("prompt") or ("ROMEO.\n" if trainer.on_corpus else trainer.text[:8])
    text = "".join(s.char for s in trainer.model.generate(prompt, SAMPLE_LENGTH, temperature=0.8, seed=0))
    return {"sample": prompt + text, "sample_step": trainer.step_count}


def write_sample(session: Session) -> None:
    session.extra.update(new_sample(session.obj, session.extra))


@router.post("/api/charlm/sessions", response_model=SessionState, status_code=201,
             summary="Start training a character model of your own")
def create_session(body: CreateSession, store: Store, settings: Config) -> dict[str, Any]:
    """A fresh small model on the shipped text or on yours (the last 10 % held out), with the same vocabulary
    as the shipped model."""
    if body.text is not None and len(body.text) > settings.charlm_max_train_text:
        raise too_large("the training text's length", len(body.text), settings.charlm_max_train_text,
                        "charlm_max_train_text")
    m, t = body.model or SessionModel.model_validate({}), body.train or SessionTrain.model_validate({})
    if t.batch_size * m.context > settings.max_batch_size * 32:
        raise too_large("batch_size × context", t.batch_size * m.context, settings.max_batch_size * 32,
                        "max_batch_size")
    trainer = CharLMTrainer(
        body.text, vocab=corpus_vocabulary(),
        model={"layers": m.layers, "heads": m.heads, "d_model": m.d_model, "d_ff": 4 * m.d_model,
               "context": m.context, "seed": m.seed},
        train={"batch_size": t.batch_size, "learning_rate": t.learning_rate, "warmup": t.warmup, "seed": t.seed,
               "eval_windows": 16},
        max_params=settings.max_parameters)
    cost = charlm_session_cost(trainer)
    check(cost, settings, store)
    trainer.record()
    session = store.add(KIND, trainer, extra=new_sample(trainer, {}), nbytes=cost.held)
    return session_state(session)


@router.get("/api/charlm/sessions/{session_id}", response_model=SessionState, summary="A session's state")
def get_session(session_id: str, store: Store) -> dict[str, Any]:
    with store.use(session_id, KIND, changes=False) as session:
        return session_state(session)


@router.delete("/api/charlm/sessions/{session_id}", status_code=204, summary="Delete a session")
def delete_session(session_id: str, store: Store) -> Response:
    store.delete(session_id, KIND)
    return Response(status_code=204)


@router.post("/api/charlm/sessions/{session_id}/train", response_model=SessionState, summary="Train for some steps")
def train_session(session_id: str, body: TrainSession, store: Store, settings: Config) -> dict[str, Any]:
    if body.steps > settings.max_steps_per_request:
        raise too_large("steps", body.steps, settings.max_steps_per_request, "max_steps_per_request")
    with store.use(session_id, KIND) as session:
        session.obj.train(body.steps, record_every=body.record_every)
        write_sample(session)
        return session_state(session)


@router.post("/api/charlm/sessions/{session_id}/reset", response_model=SessionState,
             summary="Fresh weights, same settings")
def reset_session(session_id: str, store: Store) -> dict[str, Any]:
    with store.use(session_id, KIND) as session:
        session.obj.reset()
        session.obj.record()
        write_sample(session)
        return session_state(session)


def live_handlers(session: Session, settings: Settings) -> LiveHandlers:
    trainer: CharLMTrainer = session.obj  # reset re-initialises it in place

    def every() -> int:
        return int(session.extra.get("every", settings.charlm_stream_every))

    def train(unit: str) -> None:
        trainer.train(1 if unit == "batch" else every())
        if trainer.step_count - int(session.extra.get("sample_step", 0)) >= SAMPLE_EVERY or unit == "batch":
            write_sample(session)

    def frame() -> dict[str, Any]:
        return {"step": trainer.step_count, "diverged": trainer.diverged, "message": trainer.diverged_message,
                "latest": encode(trainer.latest()), "every": every(),
                "learning_rate": trainer.optimizer.learning_rate, "sample": session.extra.get("sample"),
                "sample_step": session.extra.get("sample_step")}

    def configure(changes: dict[str, Any]) -> None:
        if changes.get("learning_rate") is not None:
            trainer.configure(learning_rate=changes["learning_rate"])
        if changes.get("every") is not None:
            session.extra["every"] = changes["every"]
        if "prompt" in changes:
            session.extra["prompt"] = changes["prompt"] or None
            write_sample(session)

    return LiveHandlers(train=train, frame=frame, configure=configure, history=lambda: trainer.history,
                        config_schema=LiveConfig)


@router.websocket("/ws/charlm/sessions/{session_id}")
async def live(websocket: WebSocket, session_id: str) -> None:
    """Live training: {"type": "play" | "pause" | "step" | "frame"} or {"type": "config", "learning_rate", "every",
    "prompt"} (see LiveConfig); each frame trains `every` steps and sends the metrics, a `history` delta
    {from, entries} (truncate your copy to `from`, append `entries`) and, every 50 steps, a new sample."""
    settings: Settings = websocket.app.state.settings
    await serve(websocket, KIND, session_id, lambda session: live_handlers(session, settings))
