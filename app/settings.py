"""Settings from the environment (prefix GLASSBOX_), e.g. GLASSBOX_PORT=9000."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GLASSBOX_")

    host: str = Field("127.0.0.1", description="Interface the server listens on")
    port: int = Field(8000, description="Port the server listens on")

    # Sessions (networks, transformers): in memory while in use, kept in the store (app/store.py).
    store: str = Field("sqlite", description="Where sessions are kept: 'sqlite' (a file under GLASSBOX_DATA_DIR, "
                                             "the default), a Redis URL 'redis://host:6379/0' (several workers "
                                             "and hosts), or 'memory' (nothing survives a restart)")
    data_dir: Path | None = Field(None, description="Folder of the SQLite store (default: glassbox in the user's "
                                                    "data directory, e.g. ~/.local/share/glassbox)")
    retention_days: float = Field(30.0, gt=0, description="The store forgets a session (or share) this many days "
                                                          "after its last change")
    store_max_bytes: int = Field(2 << 30, gt=0, description="Disk budget of the store; beyond it the oldest "
                                                            "sessions and shares are removed first")
    snapshot_seconds: float = Field(1.0, gt=0, description="A session training live is written at most this "
                                                           "often (what a crash can lose)")
    max_sessions: int = Field(64, description="Sessions kept in memory at once; the least recently used goes back "
                                              "to the store (with GLASSBOX_STORE=memory: is dropped)")
    session_idle_seconds: float = Field(3600.0, description="A session untouched this long leaves memory (with "
                                                            "GLASSBOX_STORE=memory: is dropped)")
    max_parameters: int = Field(2_000_000, description="Largest network (number of parameters) a session may hold")
    max_batch_size: int = Field(4096, description="Most data points in one forward/backward/step request")
    max_steps_per_request: int = Field(100_000, description="Most optimiser steps one /train request may run")
    max_epochs_per_request: int = Field(1000, description="Most epochs one /train request may run")
    max_upload_bytes: int = Field(64 * 1024 * 1024, description="Largest network file accepted by /import")
    max_data_points: int = Field(20_000, description="Most data points a session's data set may hold")

    # Bodies, memory and work: one request must not take the server from everyone else.
    max_body_bytes: int = Field(16 * 1024 * 1024, description="Largest request body (JSON), counted on the bytes "
                                                              "received; /import and CSV uploads have their own")
    max_session_bytes: int = Field(512 * 1024 * 1024, description="Most memory one session may need (parameters, "
                                   "optimiser slots, data, held-out sets, the arrays a step keeps), estimated "
                                   "before it is built")
    max_total_bytes: int = Field(4 * 1024 * 1024 * 1024, description="Most memory all sessions together may hold; "
                                 "the least recently used are dropped to make room")
    max_step_work: float = Field(1e10, description="Most multiply-adds one optimiser step may take (batch × model "
                                                   "size), so that a step stays under a second")
    max_eval_work: float = Field(3e10, description="Most multiply-adds one evaluation of a session's data or "
                                                   "held-out set may take, so that creating a session stays under "
                                                   "two seconds")
    train_deadline_seconds: float = Field(10.0, description="A training request stops after this long and answers "
                                                            "with what it did")
    max_training_jobs: int = Field(os.cpu_count() or 2, description="Training requests running at once; more are "
                                                                    "answered 429 with Retry-After")
    busy_wait_seconds: float = Field(2.0, description="How long a request waits for a session another request is "
                                                      "using before it is answered 409 busy")

    # Deployment.
    token: str | None = Field(None, description="Access token (GLASSBOX_TOKEN): when set, every API request and "
                                                "WebSocket must carry it (Authorization: Bearer, ?token= or the "
                                                "cookie a page opened with ?token= sets)")
    allowed_origins: list[str] = Field(default_factory=list, description="Origins besides the server's own that "
                                       "may open its WebSockets, e.g. [\"https://class.example.org\"]")

    # Live streaming.
    max_frames_per_second: float = Field(60.0, description="Frames a training WebSocket sends per second at most; "
                                         "step messages share the cap")
    max_queued_steps: int = Field(4, description="Step messages a WebSocket may have waiting; more are refused")

    # Classrooms (/api/rooms).
    room_hours: float = Field(4.0, gt=0, description="A room (classroom) closes this many hours after it opened")
    room_joins_per_minute: int = Field(120, gt=0, description="Join attempts one address may make a minute (a "
                                                              "class behind one address joins within a minute)")
    max_room_students: int = Field(250, gt=0, description="Most students one room takes")

    # Neuron explorer (/api/functions, /api/neuron).
    max_function_points: int = Field(10_000, description="Most numbers one /api/functions request evaluates, and "
                                                          "most inputs of one /api/neuron neuron")
    max_plane_resolution: int = Field(256, description="Largest grid side of /api/neuron/plane")

    # Convolution explorer.
    max_conv_image_size: int = Field(256, description="Largest image side accepted by /api/conv")
    max_conv_kernel_size: int = Field(15, description="Largest kernel side accepted by /api/conv")
    max_conv_channels: int = Field(16, description="Most image channels accepted by /api/conv")
    max_conv_window_numbers: int = Field(
        65_536, description="Most window numbers (positions × channels × k × k) one /api/conv/apply explains")

    # LeNet.
    max_predict_image_size: int = Field(1024, description="Largest side of an image sent to /api/lenet/predict")

    # Autoencoder.
    max_decode_points: int = Field(1024, description="Most points one /api/autoencoders/…/decode request decodes, and "
                                                     "most images one …/encode request encodes")

    # Attention.
    attention_stream_every: int = Field(10, description="Training steps between attention maps streamed live")

    # Character language model.
    charlm_max_text: int = Field(10_000, description="Longest text /api/charlm reads (characters); the model itself "
                                                     "reads only the last `context` of them")
    charlm_max_generate: int = Field(1000, description="Most characters one /api/charlm/generate writes")
    charlm_max_train_text: int = Field(300_000, description="Longest text a character-model training session takes")
    charlm_stream_every: int = Field(10, description="Training steps per live frame of a character-model session")

    templates_dir: Path = ROOT / "templates"
    static_dir: Path = ROOT / "static"
    test_assets_dir: Path | None = Field(
        None, description="The in-browser unit tests' folder (tests/js), served at /test-assets; only the test "
                          "suite sets it, the production app serves no test pages")


@lru_cache
def get_settings() -> Settings:
    return Settings()
