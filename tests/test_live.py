"""The live-training WebSocket machinery: frames, controls, frame-rate cap and dropping."""

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

from fastapi import FastAPI, WebSocket
from fastapi.testclient import TestClient

from app.live import LatestFrame, LiveHandlers, stream
from app.store import Session
from engine.core.errors import EngineError


def make_app(max_fps: float = 1000.0):
    state = {"trained": [], "lr": 0.1}

    def train(unit: str) -> None:
        if state["lr"] > 5:
            raise EngineError("diverged")
        state["trained"].append(unit)

    def frame() -> dict:
        return {"count": len(state["trained"]), "lr": state["lr"]}

    def configure(msg: dict) -> None:
        if "lr" not in msg:
            raise EngineError("config needs 'lr'")
        state["lr"] = msg["lr"]

    app = FastAPI()
    session = Session("s", "test", None)

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await stream(websocket, session, LiveHandlers(train, frame, configure), max_fps)

    return app, state


def test_step_play_pause_config_and_errors():
    app, state = make_app()
    with TestClient(app).websocket_connect("/ws") as ws:
        first = ws.receive_json()
        assert first == {"type": "frame", "playing": False, "count": 0, "lr": 0.1, "dropped": 0}
        ws.send_json({"type": "step"})
        assert ws.receive_json()["count"] == 1
        ws.send_json({"type": "step", "unit": "batch"})
        assert ws.receive_json()["count"] == 2
        assert state["trained"] == ["frame", "batch"]
        ws.send_json({"type": "config", "lr": 0.5})
        assert ws.receive_json()["lr"] == 0.5
        ws.send_json({"type": "config"})
        assert ws.receive_json() == {"type": "error", "detail": "config needs 'lr'", "status": 422}
        ws.send_text("not json")
        assert "JSON" in ws.receive_json()["detail"]
        ws.send_json({"type": "dance"})
        assert "unknown message type" in ws.receive_json()["detail"]
        ws.send_json({"type": "play"})
        counts = [ws.receive_json()["count"] for _ in range(5)]
        assert counts[-1] > 2
        ws.send_json({"type": "pause"})
        # Drain until a paused frame arrives; after it the count stays put.
        while (msg := ws.receive_json())["playing"]:
            pass
        paused_at = msg["count"]
        ws.send_json({"type": "frame"})
        assert ws.receive_json()["count"] == paused_at


def test_training_error_pauses_and_reports():
    app, state = make_app()
    with TestClient(app).websocket_connect("/ws") as ws:
        ws.receive_json()
        ws.send_json({"type": "config", "lr": 10})
        ws.receive_json()
        ws.send_json({"type": "play"})
        messages = [ws.receive_json() for _ in range(3)]
        assert any(m.get("type") == "error" and m["detail"] == "diverged" for m in messages)
        assert messages[-1]["playing"] is False


def test_frame_rate_is_capped():
    app, _ = make_app(max_fps=20)
    with TestClient(app).websocket_connect("/ws") as ws:
        ws.receive_json()
        ws.send_json({"type": "play"})
        ws.receive_json()
        start = time.monotonic()
        for _ in range(10):
            ws.receive_json()
        elapsed = time.monotonic() - start
        assert elapsed >= 9 / 20 * 0.9, elapsed


def test_latest_frame_drops_unsent_frames():
    async def scenario():
        box = LatestFrame()
        box.put({"n": 1})
        box.put({"n": 2})
        box.put({"n": 3})
        first = await box.get()
        box.put({"n": 4})
        second = await box.get()
        return first, second, box.dropped

    # In a thread of its own: the Playwright fixtures may hold this thread's event loop.
    with ThreadPoolExecutor(1) as pool:
        first, second, dropped = pool.submit(asyncio.run, scenario()).result()
    assert first == {"n": 3}
    assert second == {"n": 4}
    assert dropped == 2
