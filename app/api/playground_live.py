"""Playground frames: the current one over REST, and live training over the WebSocket /ws/networks/{id}.

The live stream works on any network session; the frame carries every neuron's map when the network takes
Playground features.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, WebSocket
from pydantic import ValidationError

from engine.core.errors import EngineError
from engine.dense.trainer import Trainer
from engine.playground.frame import maps_for, playground_frame

from ..arrays import encode
from ..live import LiveHandlers, serve
from ..schemas.playground import Frame, Hyperparameters
from ..settings import Settings
from ..store import Session, SessionStore
from .deps import Store
from .networks import KIND
from .playground import apply_hyperparameters, revision

router = APIRouter(tags=["playground"])


def frame_of(session: Session, focus: tuple[int, int] | None = None) -> dict[str, Any]:
    """The current frame, arrays still NumPy (the caller encodes them)."""
    trainer: Trainer = session.obj
    maps = maps_for(trainer, session.extra.get("maps"))
    session.extra["maps"] = maps
    frame = playground_frame(trainer, maps, focus)
    frame["revision"] = revision(session)
    return frame


@router.get("/api/playground/{network_id}/frame", response_model=Frame,
            summary="The frame the live stream would send now")
def get_frame(network_id: str, store: Store,
              focus_layer: Annotated[int | None, Query(ge=1, description="Dense layer (from 1) to focus")] = None,
              focus_index: Annotated[int, Query(ge=0, description="Neuron in that layer")] = 0) -> dict[str, Any]:
    """**Live training over the WebSocket `/ws/networks/{id}`** (OpenAPI cannot describe WebSockets, so here):

    - send `{"type": "play"}` / `{"type": "pause"}`: train between frames, one epoch per frame, at most
      `GLASSBOX_MAX_FRAMES_PER_SECOND` (60) frames a second;
    - `{"type": "step", "unit": "frame"}` one epoch, `"unit": "batch"` one mini-batch (pauses);
    - `{"type": "config", "learning_rate": 0.1, "batch_size": 20, "optimizer": "adam", "regularization": "l2",
      "reg_rate": 0.001, "focus": [layer, index] | null}`: settings that keep the weights, and which neuron's
      map comes at full resolution in `focus` (layer 0 = the input features);
    - `{"type": "frame"}`: send the current frame without training.

    The server answers with frames — this response plus `type: "frame"`, `playing`, `dropped` (frames a slow
    client missed: only the latest waits, never a queue) and `history: {from, entries}` (truncate your copy of
    the metrics history to `from`, then append `entries`; no entry is lost with a dropped frame) — and
    `{"type": "error", "detail"}` messages. Closing the socket stops the training; reconnecting resumes the
    session. An unknown or expired session closes with code 4404."""
    with store.use(network_id, KIND) as session:
        focus = None if focus_layer is None else (focus_layer, focus_index)
        return encode(frame_of(session, focus), "base64")


class LiveConnection:
    """One WebSocket's view of a session: which neuron it focuses and how much history it has been sent."""

    def __init__(self, session: Session, store: SessionStore, settings: Settings) -> None:
        self.session, self.store, self.settings = session, store, settings
        self.focus: tuple[int, int] | None = None
        self.history: list | None = None  # the trainer's history list last sent from (a new one: resend all)
        self.sent = 0

    def handlers(self) -> LiveHandlers:
        return LiveHandlers(train=self.train, frame=self.frame, configure=self.configure, finished=self.finished,
                            merge=merge_frames, revision=self.revision)

    def revision(self) -> tuple[int, int]:
        """The trainer (a rebuild replaces it) and its step: a script training the session moves it."""
        trainer: Trainer = self.session.obj
        return id(trainer), trainer.step_count

    def train(self, unit: str) -> None:
        # Raises SessionNotFound when the session was evicted; keeps an active stream from idling out.
        self.store.get(self.session.id, KIND)
        trainer: Trainer = self.session.obj
        if unit == "batch":
            trainer.step()
        else:
            trainer.train_epoch()
        if not trainer.diverged:
            trainer.record()

    def frame(self) -> dict[str, Any]:
        trainer: Trainer = self.session.obj
        frame = frame_of(self.session, self.focus)
        history = trainer.history
        if history is not self.history:
            self.history, start = history, 0
        else:
            start = max(0, self.sent - 1)  # the last entry may have been updated in place since
        frame["history"] = {"from": start, "entries": history[start:]}
        self.sent = len(history)
        return encode(frame, "base64")

    def configure(self, message: dict[str, Any]) -> None:
        changes = {k: v for k, v in message.items() if k != "type"}
        known = set(Hyperparameters.model_fields)
        unknown = set(changes) - known - {"focus"}
        if unknown:
            raise EngineError(f"unknown config fields {sorted(unknown)}; use focus or {', '.join(sorted(known))} "
                              "(for architecture changes, PUT /api/playground/{id})")
        if "focus" in changes:
            self.focus = _focus(changes.pop("focus"))
        if changes:
            try:  # the same checks as PATCH /api/networks/{id}/config
                valid = Hyperparameters.model_validate(changes)
            except ValidationError as exc:
                reasons = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
                raise EngineError(f"config: {reasons}") from None
            apply_hyperparameters(self.session.obj, valid, self.settings)

    def finished(self) -> bool:
        return bool(self.session.obj.diverged)


def _focus(value: Any) -> tuple[int, int] | None:
    if value is None:
        return None
    if isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) and not isinstance(v, bool)
                                                             for v in value):
        return value[0], value[1]
    raise EngineError("focus is [layer, index] (dense layer from 1, neuron from 0) or null")


def merge_frames(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """A dropped frame's history entries must not be lost: carry them into the frame that replaces it."""
    a, b = old.get("history"), new.get("history")
    if a is not None and b is not None and b["from"] > a["from"]:
        new["history"] = {"from": a["from"], "entries": a["entries"][: b["from"] - a["from"]] + b["entries"]}
    return new


@router.websocket("/ws/networks/{network_id}")
async def live(websocket: WebSocket, network_id: str) -> None:
    """Live training. Send {"type": "play"|"pause"|"frame"}, {"type": "step", "unit": "frame"|"batch"} (one
    epoch or one mini-batch), {"type": "config", "learning_rate": …, "focus": [layer, index], …}. Receive
    frames (see GET /api/playground/{id}/frame) with `playing`, `dropped` and a `history` delta {from, entries}:
    truncate the local history to `from`, then append `entries`."""
    state = websocket.app.state
    await serve(websocket, KIND, network_id,
                lambda session: LiveConnection(session, state.store, state.settings).handlers())
