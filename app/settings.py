"""Settings from the environment (prefix GLASSBOX_), e.g. GLASSBOX_PORT=9000."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GLASSBOX_")

    host: str = Field("127.0.0.1", description="Interface the server listens on")
    port: int = Field(8000, description="Port the server listens on")

    # Sessions (networks, transformers) live in memory.
    max_sessions: int = Field(64, description="Sessions kept at once; the least recently used is evicted")
    session_idle_seconds: float = Field(3600.0, description="A session untouched this long is dropped")
    max_parameters: int = Field(2_000_000, description="Largest network (number of parameters) a session may hold")
    max_batch_size: int = Field(4096, description="Most data points in one forward/backward/step request")
    max_steps_per_request: int = Field(100_000, description="Most optimiser steps one /train request may run")
    max_epochs_per_request: int = Field(1000, description="Most epochs one /train request may run")
    max_upload_bytes: int = Field(64 * 1024 * 1024, description="Largest network file accepted by /import")
    max_data_points: int = Field(20_000, description="Most data points a session's data set may hold")

    # Live streaming.
    max_frames_per_second: float = Field(60.0, description="Frames a training WebSocket sends per second at most")

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

    templates_dir: Path = ROOT / "templates"
    static_dir: Path = ROOT / "static"
    test_assets_dir: Path | None = Field(
        None, description="The in-browser unit tests' folder (tests/js), served at /test-assets; only the test "
                          "suite sets it, the production app serves no test pages")


@lru_cache
def get_settings() -> Settings:
    return Settings()
