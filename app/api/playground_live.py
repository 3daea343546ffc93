"""Playground frames: the current one over REST, and live training over the WebSocket /ws/networks/{id}.

The live stream works on any network session; the frame carries every neuron's map when the network takes
Playground features.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, WebSocket

from engine.dense.trainer import Trainer
from engine.playground.frame import maps_for, playground_frame

from ..arrays import encode
from ..live import LiveHandlers, serve
from ..schemas.playground import Frame, Hyperparameters, LiveConfig
from ..settings import Settings
from ..store import Session
from .deps import Store
from .networks import KIND
from .playground import apply_hyperparameters, revision

router = APIRouter(tags=["playground"])


def frame_of(session: Session, focus: tuple[int, int] | None = None) -> dict[str, Any]:
    """The current frame, arrays still NumPy (the caller encodes them)."""
    trainer: Trainer = session.obj
    maps = maps_for(trainer, session.cache.get("maps"))
    session.cache["maps"] = maps
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
    session. An unknown or expired session closes with code 4404.

    With `?frames=binary` in the socket's URL, frames come as binary messages: a little-endian uint32 header
    length, the JSON header (this response, each array as `{"dtype", "shape", "bin": [offset, nbytes]}`), zero
    padding to a multiple of 4, then the arrays' raw little-endian bytes (offsets from the start of that
    section). With `&ack=1` the client sends `{"type": "ack"}` after drawing each frame, and the server trains
    the next frame only then."""
    with store.use(network_id, KIND, changes=False) as session:
        focus = None if focus_layer is None else (focus_layer, focus_index)
        return encode(frame_of(session, focus), "base64")


class LiveConnection:
    """One WebSocket's view of a session: which neuron it focuses. The stream (app/live.py) does the rest."""

    def __init__(self, session: Session, settings: Settings) -> None:
        self.session, self.settings = session, settings
        self.focus: tuple[int, int] | None = None

    def handlers(self) -> LiveHandlers:
        return LiveHandlers(train=self.train, frame=self.frame, configure=self.configure, finished=self.finished,
                            history=lambda: self.session.obj.history, config_schema=LiveConfig,
                            config_hint=" (for architecture changes, PUT /api/playground/{id})",
                            raw_frame=lambda: frame_of(self.session, self.focus))

    def train(self, unit: str) -> None:
        trainer: Trainer = self.session.obj
        if unit == "batch":
            trainer.train(steps=1)
        else:
            trainer.train(epochs=1)

    def frame(self) -> dict[str, Any]:
        return encode(frame_of(self.session, self.focus), "base64")

    def configure(self, changes: dict[str, Any]) -> None:
        if "focus" in changes:
            focus = changes.pop("focus")
            self.focus = None if focus is None else (focus[0], focus[1])
        if changes:  # the same checks as PATCH /api/networks/{id}/config
            apply_hyperparameters(self.session.obj, Hyperparameters(**changes), self.settings)

    def finished(self) -> bool:
        return bool(self.session.obj.diverged)


@router.websocket("/ws/networks/{network_id}")
async def live(websocket: WebSocket, network_id: str) -> None:
    """Live training. Send {"type": "play"|"pause"|"frame"}, {"type": "step", "unit": "frame"|"batch"} (one
    epoch or one mini-batch), {"type": "config", "learning_rate": …, "focus": [layer, index], …}. Receive
    frames (see GET /api/playground/{id}/frame) with `playing`, `dropped` and a `history` delta {from, entries}:
    truncate the local history to `from`, then append `entries`."""
    settings = websocket.app.state.settings
    await serve(websocket, KIND, network_id, lambda session: LiveConnection(session, settings).handlers())
