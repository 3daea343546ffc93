"""Transformer sessions: create from a task preset, inspect, train, run typed sequences, stream live."""

from __future__ import annotations

from typing import Any

import numpy as np
from fastapi import APIRouter, Request, Response, WebSocket

from engine.core.training import DivergedError
from engine.transformer.tasks import PRESETS, list_presets
from engine.transformer.trainer import Prediction, TransformerTrainer

from ..arrays import encode
from ..budgets import check, transformer_session_cost
from ..errors import too_large
from ..live import LiveHandlers, serve
from ..schemas.common import EncodingParam
from ..schemas.transformers import (
    CreateTransformer,
    ForwardTransformer,
    ForwardTransformerResult,
    LiveConfig,
    TrainTransformer,
    TrainTransformerResult,
    TransformerState,
)
from ..settings import Settings
from ..store import Session, SessionStore
from ..work import StopTraining, client_gone, deadline
from .deps import Config, Enc, Jobs, Store

router = APIRouter(tags=["transformers"])
KIND = "transformer"



def build(body: CreateTransformer, settings: Settings, store: SessionStore | None = None) -> TransformerTrainer:
    """The trainer with its model and held-out token ids (small: parameters are bounded by max_parameters),
    checked against the memory and work budgets before anything is evaluated or trained."""
    train = body.train.model_dump(exclude_none=True) if body.train else {}
    if train.get("batch_size", 0) > settings.max_batch_size:
        raise too_large("batch_size", train["batch_size"], settings.max_batch_size, "max_batch_size")
    trainer = TransformerTrainer(
        body.preset, model=body.model.model_dump(exclude_none=True) if body.model else None, train=train,
        task=body.task.model_dump(exclude_none=True) if body.task else None, max_params=settings.max_parameters)
    check(transformer_session_cost(trainer), settings, store)
    return trainer


def reset_hint(session_id: str) -> str:
    return (f"Reset the model (POST /api/transformers/{session_id}/reset): only a reset helps, since the kept "
            f"weights are the ones that diverged and a lower learning rate alone diverges again.")


def attention_info(trainer: TransformerTrainer) -> list[dict[str, Any]]:
    encdec = trainer.model.config.arch == "encoder-decoder"
    out = []
    for kind, layer, module in trainer.model.attention_layers():
        queries = "src" if kind == "encoder" else "inputs"
        keys = "src" if kind in ("encoder", "cross") else "inputs"
        out.append({"id": f"{kind}-{layer}", "kind": kind, "layer": layer, "heads": module.num_heads,
                    "causal": module.causal, "queries": queries if encdec else "inputs",
                    "keys": keys if encdec else "inputs"})
    return out


def state_of(session: Session, settings: Settings) -> dict[str, Any]:
    trainer: TransformerTrainer = session.obj
    preset = PRESETS[trainer.preset]
    return encode({
        "id": session.id, "preset": trainer.preset, "title": preset["title"], "description": preset["description"],
        "settings": trainer.settings, "task": trainer.task.describe(), "model": trainer.model.describe(),
        "attention": attention_info(trainer), "step": trainer.step_count, "history": trainer.history,
        "latest": trainer.latest(), "diverged": trainer.diverged, "message": trainer.diverged_message,
        "stream_every": session.extra.get("every", settings.attention_stream_every),
    })


def names(vocab: list[str], ids: list[int] | None) -> list[str] | None:
    return None if ids is None else [vocab[i] for i in ids]


def prediction_payload(trainer: TransformerTrainer, typed: list[int], pred: Prediction, full: bool,
                       encoding: EncodingParam) -> dict[str, Any]:
    """Answer and every attention map of the model's last pass (the one `predict` left in its trace)."""
    task = trainer.task
    src_tokens = names(task.src_vocab, pred.src)
    input_tokens = names(task.input_vocab, pred.inputs) or []
    streams = {"src": src_tokens, "inputs": input_tokens}
    maps = []
    for info, (_, _, module) in zip(attention_info(trainer), trainer.model.attention_layers(), strict=True):
        trace = module.trace()
        entry: dict[str, Any] = {"id": info["id"], "kind": info["kind"], "layer": info["layer"],
                                 "causal": info["causal"], "query_tokens": streams[info["queries"]],
                                 "key_tokens": streams[info["keys"]], "weights": trace["weights"][0]}
        if full:
            entry.update({k: trace[k][0] for k in ("q", "k", "v", "raw", "scaled", "masked", "head_out")})
        maps.append(entry)
    expected = task.expected(typed)
    correct = all(e is None or e == o for e, o in zip(expected, pred.output, strict=False))
    return {
        "step": trainer.step_count, "typed": names(task.typed_vocab, typed), "src_tokens": src_tokens,
        "input_tokens": input_tokens, "output": names(task.output_vocab, pred.output), "output_ids": pred.output,
        "expected": [None if e is None else task.output_vocab[e] for e in expected],
        "correct": bool(correct), "output_vocab": task.output_vocab,
        "probabilities": encode(pred.probabilities.astype(np.float32), encoding),
        "d_k": trainer.model.config.d_model // trainer.model.config.heads,
        "attention": encode(maps, encoding),
    }


@router.get("/api/transformers/presets", summary="The task presets")
def presets() -> list[dict[str, Any]]:
    """Each preset's task, model sizes and training settings, with a sentence on what to watch for."""
    return list_presets()


@router.post("/api/transformers", response_model=TransformerState, status_code=201,
             summary="Create a transformer session")
def create(body: CreateTransformer, store: Store, settings: Config) -> dict[str, Any]:
    """A fresh model for a task preset (sizes and settings may override the preset's)."""
    trainer = build(body, settings, store)
    trainer.record()
    return state_of(store.add(KIND, trainer, nbytes=transformer_session_cost(trainer).held), settings)


@router.get("/api/transformers/{session_id}", response_model=TransformerState, summary="A session's state")
def get_state(session_id: str, store: Store, settings: Config) -> dict[str, Any]:
    with store.use(session_id, KIND, changes=False) as session:
        return state_of(session, settings)


@router.delete("/api/transformers/{session_id}", status_code=204, summary="Delete a session")
def delete(session_id: str, store: Store) -> Response:
    store.delete(session_id, KIND)
    return Response(status_code=204)


@router.post("/api/transformers/{session_id}/train", response_model=TrainTransformerResult,
             summary="Train for some steps",
             responses={409: {"description": "Training diverged (now or before): the weights were kept from before "
                                             "this request; reset the session to train on"}})
def train(session_id: str, body: TrainTransformer, request: Request, store: Store, settings: Config,
          jobs: Jobs) -> dict[str, Any]:
    """At most max_steps_per_request steps; stops early, answering with what it did and `stopped`, after
    train_deadline_seconds or when the client disconnects. A diverged session answers 409 until reset."""
    if body.steps > settings.max_steps_per_request:
        raise too_large("steps", body.steps, settings.max_steps_per_request, "max_steps_per_request")
    with jobs.job(), store.use(session_id, KIND) as session:
        trainer: TransformerTrainer = session.obj
        if trainer.diverged:
            raise DivergedError(f"{trainer.diverged_message} {reset_hint(session_id)}")
        start, stopped = len(trainer.history), None
        try:
            with deadline(trainer, settings.train_deadline_seconds, client_gone(request)):
                trainer.train(body.steps, record_every=body.record_every)
        except StopTraining as stop:
            stopped = stop.reason
            trainer.record()
        return encode({"history": trainer.history[start:], "step": trainer.step_count, "latest": trainer.latest(),
                       "diverged": trainer.diverged, "message": trainer.diverged_message, "stopped": stopped})


@router.post("/api/transformers/{session_id}/reset", response_model=TransformerState,
             summary="Fresh weights, same settings")
def reset(session_id: str, store: Store, settings: Config) -> dict[str, Any]:
    with store.use(session_id, KIND) as session:
        session.obj.reset()
        session.obj.record()
        return state_of(session, settings)


@router.post("/api/transformers/{session_id}/forward", response_model=ForwardTransformerResult,
             summary="Run your own sequence")
def forward(session_id: str, body: ForwardTransformer, store: Store, encoding: Enc = "json") -> dict[str, Any]:
    """The model's answer for your tokens (greedy decoding where the task writes one) and every layer × head's
    attention weights; with `trace`, also Q, K, V, the score stages and the heads' outputs.
    Unknown tokens or too long a sequence: 422 naming the vocabulary and the limit."""
    with store.use(session_id, KIND, changes=False) as session:
        trainer: TransformerTrainer = session.obj
        typed = trainer.task.parse(body.tokens)
        return prediction_payload(trainer, typed, trainer.predict(typed), body.trace, encoding)


# --- live training ----------------------------------------------------------------------------


def live_handlers(session: Session, settings: Settings) -> LiveHandlers:
    # session.obj stays the same object for the session's life (reset re-initialises it in place).
    trainer: TransformerTrainer = session.obj

    def every() -> int:
        return int(session.extra.get("every", settings.attention_stream_every))

    def train(unit: str) -> None:
        trainer.train(1 if unit == "batch" else every(), record_every=every())

    def frame() -> dict[str, Any]:
        typed = session.extra.get("probe") or trainer.probe_ids()
        pred = trainer.predict(typed)
        return {"step": trainer.step_count, "diverged": trainer.diverged, "message": trainer.diverged_message,
                "latest": encode(trainer.latest()), "every": every(), "learning_rate": trainer.optimizer.learning_rate,
                "probe": prediction_payload(trainer, typed, pred, False, "base64")}

    def configure(changes: dict[str, Any]) -> None:
        given = changes.get("probe")
        probe = trainer.task.parse(given) if given not in (None, "") else None  # checked before anything changes
        if "learning_rate" in changes:
            trainer.configure(learning_rate=changes["learning_rate"])
        if "every" in changes:
            session.extra["every"] = changes["every"]
        if "probe" in changes:
            session.extra["probe"] = probe

    return LiveHandlers(train=train, frame=frame, configure=configure, history=lambda: trainer.history,
                        config_schema=LiveConfig)


@router.websocket("/ws/transformers/{session_id}")
async def live(websocket: WebSocket, session_id: str) -> None:
    """Live training: send {"type": "play" | "pause" | "step" | "frame"} or {"type": "config", "learning_rate",
    "every", "probe"} (see LiveConfig); every frame trains `every` steps, then sends the metrics, a `history`
    delta {from, entries} (truncate your copy to `from`, append `entries`) and the attention maps of the probe
    sequence (base64)."""
    settings: Settings = websocket.app.state.settings
    await serve(websocket, KIND, session_id, lambda session: live_handlers(session, settings))
