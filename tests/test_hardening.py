"""Issue 15: every finding of the hostile-user review, as a test. Bad input gets a 4xx that says what to fix,
memory and work are bounded per request, and nothing reaches a 500."""

from __future__ import annotations

import base64
import io
import json
import struct
import threading
import time
import zipfile
import zlib

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from app.store import SessionBusy, SessionStore
from engine.core import serialize
from engine.core.errors import EngineError

from .conftest import make_client

SMALL_SPEC = {"features": ["x1", "x2"], "layers": [{"type": "dense", "units": 3, "activation": "tanh"},
                                                   {"type": "dense", "units": 1, "activation": "tanh"}],
              "batch_size": 10}


def quiet_client(**settings) -> TestClient:
    """A client that answers a server error with 500 instead of raising it (so a 500 fails an assert)."""
    return TestClient(create_app(Settings(**settings)), raise_server_exceptions=False)


def network(client: TestClient, **body) -> str:
    r = client.post("/api/networks", json=body or {"spec": SMALL_SPEC, "data": {"name": "circle"}})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def assert_clear(r, status: int, *words: str) -> None:
    assert r.status_code == status, r.text
    detail = r.json()["detail"]
    assert isinstance(detail, str)
    for word in words:
        assert word in detail, detail
    for internal in ("<_io.", "object at 0x", "allow_pickle", "Traceback"):
        assert internal not in detail, detail


# --- 500s: ragged arrays, wrong types, encodings -----------------------------------------------------------


def test_ragged_arrays_are_422_on_every_route():
    c = quiet_client()
    sid = network(c)
    ragged = [[1, 2], [3]]
    for method, path, body in [
        ("post", f"/api/networks/{sid}/forward", {"inputs": ragged}),
        ("post", f"/api/networks/{sid}/backward", {"inputs": ragged, "targets": [1, 0]}),
        ("post", f"/api/networks/{sid}/step", {"inputs": ragged, "targets": [1, 0]}),
        ("post", f"/api/networks/{sid}/step", {"inputs": [[1, 2], [3, 4]], "targets": [[1], [0, 1]]}),
        ("post", f"/api/networks/{sid}/walk", {"inputs": ragged, "targets": [1, 0]}),
        ("put", f"/api/networks/{sid}/data", {"X": ragged, "y": [1, 0]}),
        ("post", "/api/networks", {"spec": SMALL_SPEC, "data": {"X": ragged, "y": [1, 0]}}),
    ]:
        r = getattr(c, method)(path, json=body)
        assert_clear(r, 422, "same length")
        assert r.json()["errors"][0]["loc"][0] == "body"


def test_import_refuses_bad_documents_with_clear_422s():
    c = quiet_client()
    good = c.get(f"/api/networks/{network(c)}/export").json()
    cases = [
        (b"\xff\xfe{\x00", "UTF-8"),
        (json.dumps({**good, "step": "abc"}).encode(), "step"),
        (json.dumps({**good, "step": -1}).encode(), "step"),
        (json.dumps({**good, "spec": {**good["spec"], "seed": -1}}).encode(), "seed"),
        (json.dumps({**good, "weights": [1, 2]}).encode(), "weights"),
        (json.dumps({**good, "weights": {k: "x" for k in good["weights"]}}).encode(), "numbers"),
        (json.dumps({**good, "weights": {k: [[1], [2, 3]] for k in good["weights"]}}).encode(), "shape"),
        (json.dumps([good]).encode(), "object"),
        (json.dumps(good).replace('"step": 0', '"step": Infinity').encode(), "step"),
        (json.dumps({**good, "spec": {**good["spec"], "optimizer": {"type": "sgd", "learning_rate": 1e9}}}).encode(),
         "learning_rate"),
        (json.dumps({**good, "spec": {**good["spec"], "layers": [{"type": "relu"}] * 100_000}}).encode(), "layers"),
    ]
    for body, word in cases:
        r = c.post("/api/networks/import", content=body, headers={"content-type": "application/json"})
        assert_clear(r, 422, word)


def npz_bytes(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def npy(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array)
    return buf.getvalue()


def meta_member(meta) -> bytes:
    return npy(np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8))


def npy_header_only(shape: tuple[int, ...]) -> bytes:
    """A .npy that declares `shape` (float64) but holds no data."""
    header = repr({"descr": "<f8", "fortran_order": False, "shape": shape}).encode()
    header += b" " * (63 - (10 + len(header)) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header


def test_npz_metadata_without_spec_or_as_a_list_is_422():
    c = quiet_client()
    for meta, word in [({"format": "glassbox-network/1"}, "spec"), ([1, 2, 3], "object")]:
        r = c.post("/api/networks/import", content=npz_bytes({"__meta__.npy": meta_member(meta)}),
                   headers={"content-type": "application/octet-stream"})
        assert_clear(r, 422, word)
    r = c.post("/api/networks/import", content=npz_bytes({"other.npy": npy(np.zeros(3))}),
               headers={"content-type": "application/octet-stream"})
    assert_clear(r, 422, "__meta__")


def test_npy_header_declaring_8_tib_is_refused_before_reading():
    c = quiet_client()
    spec = {"input_shape": [2], "layers": [{"type": "dense", "units": 1}]}
    members = {"__meta__.npy": meta_member({"format": "glassbox-network/1", "spec": spec}),
               "weight:0.weight.npy": npy_header_only((2**40, 1)), "weight:0.bias.npy": npy(np.zeros(1))}
    r = c.post("/api/networks/import", content=npz_bytes(members), headers={"content-type": "application/octet-stream"})
    assert_clear(r, 422, "shape", "[2, 1]")


def test_zip_bomb_is_refused_by_its_declared_size_without_decompressing():
    c = quiet_client()
    spec = {"input_shape": [2], "layers": [{"type": "dense", "units": 1}]}
    bomb = npy_header_only((2, 1)) + bytes(256 * 2**20)  # 256 MiB of zeros deflate to ~256 KiB
    members = {"__meta__.npy": meta_member({"format": "glassbox-network/1", "spec": spec}),
               "weight:0.weight.npy": bomb, "weight:0.bias.npy": npy(np.zeros(1))}
    data = npz_bytes(members)
    assert len(data) < 2 * 2**20
    start = time.perf_counter()
    r = c.post("/api/networks/import", content=data, headers={"content-type": "application/octet-stream"})
    assert_clear(r, 422, "declares", "bytes")
    assert time.perf_counter() - start < 1.0
    # The engine refuses it too, for any caller.
    with pytest.raises(EngineError, match="declares"):
        serialize.import_npz(data)


def test_a_member_larger_than_it_declares_is_refused():
    spec = {"input_shape": [2], "layers": [{"type": "dense", "units": 1}]}
    data = bytearray(npz_bytes({"__meta__.npy": meta_member({"spec": spec}),
                                "weight:0.weight.npy": npy(np.zeros((2, 1))), "weight:0.bias.npy": npy(np.zeros(1))},
                               zipfile.ZIP_STORED))
    # Corrupt the stored member: the reader must stop at the declared size and fail on the checksum.
    at = data.find(b"\x93NUMPY", data.find(b"weight:0.weight.npy"))
    data[at + 130] ^= 0xFF
    with pytest.raises(EngineError):
        serialize.import_npz(bytes(data))


def test_npz_import_round_trip_still_works_and_lenet_weights_import():
    c = quiet_client()
    sid = network(c)
    exported = c.get(f"/api/networks/{sid}/export?format=npz").content
    r = c.post("/api/networks/import", content=exported, headers={"content-type": "application/octet-stream"})
    assert r.status_code == 201, r.text
    from engine.lenet.model import DEFAULT_WEIGHTS  # the shipped LeNet imports as a generic network
    r = c.post("/api/networks/import", content=DEFAULT_WEIGHTS.read_bytes(),
               headers={"content-type": "application/octet-stream"})
    assert r.status_code == 201, r.text


def test_state_changing_routes_take_only_their_documented_content_types():
    c = quiet_client()
    sid = network(c)
    r = c.post("/api/networks/import", content=b"PK\x03\x04", headers={"content-type": "text/plain"})
    assert_clear(r, 415, "application/json", "application/octet-stream")
    r = c.post(f"/api/networks/{sid}/forward", content=b'{"inputs": [[1, 2]]}', headers={"content-type": "text/plain"})
    assert_clear(r, 415, "application/json")
    r = c.post(f"/api/networks/{sid}/forward", content=b'inputs=1', headers={
        "content-type": "application/x-www-form-urlencoded"})
    assert_clear(r, 415)
    r = c.put(f"/api/networks/{sid}/data/csv", content=b"1,1,1\n-1,-1,0\n2,2,1\n-2,-2,0\n",
              headers={"content-type": "application/json"})
    assert_clear(r, 415, "text/csv")
    r = c.post(f"/api/networks/{sid}/forward", json={"inputs": [[1, 2]]})
    assert r.status_code == 200


def test_png_over_pillows_bomb_limit_is_413():
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    side = 20_000  # 400 M pixels: over twice Pillow's MAX_IMAGE_PIXELS, so Image.open itself refuses
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)) \
        + chunk(b"IDAT", zlib.compress(b"\x00" * 100)) + chunk(b"IEND", b"")
    c = quiet_client()
    r = c.post("/api/lenet/predict", json={"png": "data:image/png;base64," + base64.b64encode(png).decode()})
    assert_clear(r, 413, "1024")


# --- bodies ------------------------------------------------------------------------------------------------


def test_body_limit_counts_the_bytes_received_even_when_chunked():
    c = quiet_client(max_body_bytes=1000)
    sid = network(c)
    big = json.dumps({"inputs": [[0.5, 0.5]] * 200}).encode()
    r = c.post(f"/api/networks/{sid}/forward", content=big, headers={"content-type": "application/json"})
    assert_clear(r, 413, "GLASSBOX_MAX_BODY_BYTES")

    def chunks():  # no Content-Length: Transfer-Encoding chunked
        for i in range(0, len(big), 100):
            yield big[i:i + 100]

    r = c.post(f"/api/networks/{sid}/forward", content=chunks(), headers={"content-type": "application/json"})
    assert_clear(r, 413, "GLASSBOX_MAX_BODY_BYTES")
    r = c.post(f"/api/networks/{sid}/forward", json={"inputs": [[0.5, 0.5]]})
    assert r.status_code == 200


def test_a_large_json_body_is_parsed_off_the_event_loop():
    c = quiet_client()
    sid = network(c)
    rows = np.random.default_rng(0).random((4000, 2)).round(6).tolist()
    r = c.post(f"/api/networks/{sid}/forward", content=json.dumps({"inputs": rows}),
               headers={"content-type": "application/json"})
    assert r.status_code == 200 and len(r.json()["output"]) == 4000
    r = c.post(f"/api/networks/{sid}/forward", content=json.dumps({"inputs": rows})[:-3],
               headers={"content-type": "application/json"})
    assert_clear(r, 422, "not valid JSON")


# --- memory and work budgets -------------------------------------------------------------------------------

ISSUE_TRANSFORMER = {"preset": "reverse", "model": {"layers": 1, "heads": 8, "d_model": 256, "d_ff": 1024},
                     "train": {"batch_size": 4096, "held_out": 2048}, "task": {"length": 32}}


def test_the_10_gb_transformer_is_refused_at_once_naming_the_setting():
    c = quiet_client()
    start = time.perf_counter()
    r = c.post("/api/transformers", json=ISSUE_TRANSFORMER)
    assert_clear(r, 413, "GLASSBOX_MAX_SESSION_BYTES")
    assert time.perf_counter() - start < 2.0
    # Within memory, too much work per step or per evaluation is refused too, naming its setting.
    r = c.post("/api/transformers", json={**ISSUE_TRANSFORMER, "train": {"batch_size": 128, "held_out": 8}})
    assert_clear(r, 413, "GLASSBOX_MAX_STEP_WORK")
    r = c.post("/api/transformers", json={**ISSUE_TRANSFORMER, "train": {"batch_size": 8, "held_out": 64}})
    assert_clear(r, 413, "GLASSBOX_MAX_EVAL_WORK")
    r = c.post("/api/lenet/sessions", json={"batch_size": 1024})
    assert_clear(r, 413, "GLASSBOX_MAX_STEP_WORK")


def test_sessions_together_stay_within_the_total_memory_budget():
    c = quiet_client(max_total_bytes=120 * 2**20)
    ids = [c.post("/api/transformers", json={"preset": "induction"}).json()["id"] for _ in range(12)]
    store = c.app.state.store
    assert store.total_bytes() <= 120 * 2**20
    assert ids[0] not in store.in_memory()  # the oldest made room in memory ...
    assert c.get(f"/api/transformers/{ids[-1]}").status_code == 200
    assert c.get(f"/api/transformers/{ids[0]}").status_code == 200  # ... and comes back from the durable store
    assert store.total_bytes() <= 120 * 2**20
    with make_client(max_total_bytes=2**20) as tiny:
        r = tiny.post("/api/transformers", json={"preset": "induction"})
        assert_clear(r, 413, "GLASSBOX_MAX_TOTAL_BYTES")


def largest_transformer(settings: Settings) -> dict:
    """The issue's model at length 32 with the largest batch and held-out set the budgets allow."""
    from app.budgets import transformer_session_cost
    from engine.transformer.trainer import TransformerTrainer

    def cost(batch: int, held: int):
        t = TransformerTrainer("reverse", model=ISSUE_TRANSFORMER["model"], train={"batch_size": batch,
                                                                                  "held_out": held},
                               task={"length": 32})
        return transformer_session_cost(t)

    def largest(fits, low: int, high: int) -> int:  # costs grow with the size: bisect for the last that fits
        while low < high:
            mid = (low + high + 1) // 2
            low, high = (mid, high) if fits(mid) else (low, mid - 1)
        return low

    batch = largest(lambda b: cost(b, 8).step_work <= settings.max_step_work
                    and cost(b, 8).bytes <= settings.max_session_bytes, 1, 4096)
    held = largest(lambda h: cost(batch, h).eval_work <= settings.max_eval_work
                   and cost(batch, h).bytes <= settings.max_session_bytes, 8, 2048)
    return {**ISSUE_TRANSFORMER, "train": {"batch_size": batch, "held_out": held}}


def best_of_two(fn) -> float:
    """The CPU seconds `fn` takes (all the process's threads), the less of two runs: on a machine shared with
    other developers the wall clock measures their load, while CPU time measures our work — and bounds our wall
    time on an idle machine from above (a pass that uses two cores counts twice)."""
    times = []
    for _ in range(2):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return min(times)


def test_the_largest_allowed_sessions_create_in_2_s_and_train_a_step_in_1_s():
    settings = Settings()
    c = quiet_client()
    body = largest_transformer(settings)
    created = []

    def create_transformer():
        r = c.post("/api/transformers", json=body)
        assert r.status_code == 201, r.text
        created.append(r.json()["id"])

    assert best_of_two(create_transformer) < 2.0
    assert best_of_two(lambda: c.post(f"/api/transformers/{created[-1]}/train", json={"steps": 1})) < 1.0
    lenet_batch = max(b for b in range(64, 1025, 32)
                      if __import__("app.budgets").budgets.lenet_session_cost(b, 2000).step_work
                      <= settings.max_step_work)

    def create_lenet():
        r = c.post("/api/lenet/sessions", json={"batch_size": lenet_batch})
        assert r.status_code == 201, r.text
        created.append(r.json()["id"])

    assert best_of_two(create_lenet) < 2.0
    assert best_of_two(lambda: c.post(f"/api/lenet/sessions/{created[-1]}/train", json={"steps": 1})) < 1.0


def test_epochs_count_as_optimiser_steps_and_are_refused_before_the_lock():
    c = quiet_client(max_steps_per_request=1000)
    sid = network(c, spec={**SMALL_SPEC, "batch_size": 1}, data={"name": "circle", "num_samples": 500})
    r = c.post(f"/api/networks/{sid}/train", json={"epochs": 5})  # 5 × 250 batches of one point
    assert_clear(r, 413, "1250", "GLASSBOX_MAX_STEPS_PER_REQUEST")
    # Refused at once even while another request holds the session.
    store = c.app.state.store
    session = store.get(sid, "network")
    with session.lock:
        start = time.perf_counter()
        r = c.post(f"/api/networks/{sid}/train", json={"epochs": 5})
        assert r.status_code == 413 and time.perf_counter() - start < 1.0


def test_training_stops_at_the_deadline_and_answers_what_it_did():
    c = quiet_client(train_deadline_seconds=0.3)
    sid = network(c, spec={**SMALL_SPEC, "batch_size": 1}, data={"name": "circle", "num_samples": 500})
    start = time.perf_counter()
    r = c.post(f"/api/networks/{sid}/train", json={"steps": 100_000})
    assert r.status_code == 200, r.text
    body = r.json()
    assert time.perf_counter() - start < 3.0
    assert 0 < body["step"] < 100_000 and "GLASSBOX_TRAIN_DEADLINE_SECONDS" in body["stopped"]
    assert body["history"][-1]["step"] == body["step"]
    tid = c.post("/api/transformers", json={"preset": "copy"}).json()["id"]
    body = c.post(f"/api/transformers/{tid}/train", json={"steps": 100_000}).json()
    assert 0 < body["step"] < 100_000 and body["stopped"]


def test_training_slots_answer_429_with_retry_after_and_busy_sessions_409():
    c = quiet_client(max_training_jobs=1, busy_wait_seconds=0.2)
    sid, other = network(c), network(c)
    jobs = c.app.state.jobs
    with jobs.job():  # every slot taken
        r = c.post(f"/api/networks/{sid}/train", json={"steps": 1})
        assert_clear(r, 429, "GLASSBOX_MAX_TRAINING_JOBS")
        assert int(r.headers["retry-after"]) >= 1
    session = c.app.state.store.get(other, "network")
    hold = threading.Event()
    release = threading.Event()

    def holder():
        with session.lock:
            hold.set()
            release.wait(5)

    t = threading.Thread(target=holder)
    t.start()
    hold.wait(5)
    start = time.perf_counter()
    r = c.get(f"/api/networks/{other}")
    release.set()
    t.join()
    assert_clear(r, 409, "busy")
    assert time.perf_counter() - start < 2.0
    assert c.get(f"/api/networks/{other}").status_code == 200


def test_store_use_waits_at_most_its_timeout():
    store = SessionStore(4, 60, busy_wait=5)
    s = store.add("k", object())
    held, done = threading.Event(), threading.Event()

    def holder():
        with s.lock:
            held.set()
            done.wait(5)

    t = threading.Thread(target=holder)
    t.start()
    held.wait(5)
    try:
        start = time.perf_counter()
        with pytest.raises(SessionBusy):
            with store.use(s.id, "k", timeout=0.1):
                pass
        assert time.perf_counter() - start < 1.0
    finally:
        done.set()
        t.join()


def test_after_a_diverged_step_train_answers_409_saying_only_a_reset_helps():
    c = quiet_client()
    spec = {"input_shape": [2], "layers": [{"type": "dense", "units": 1}],
            "optimizer": {"type": "sgd", "learning_rate": 50}}
    sid = network(c, spec=spec, data={"name": "plane"})
    for _ in range(100):  # a learning rate of 50 diverges within a few steps
        if c.post(f"/api/networks/{sid}/step").status_code == 409:
            break
    else:
        raise AssertionError("the network did not diverge")
    for path in ("step", "train"):
        r = c.post(f"/api/networks/{sid}/{path}", json={"steps": 1} if path == "train" else None)
        assert_clear(r, 409, "only a reset helps", f"/api/networks/{sid}/reset")
    assert c.post(f"/api/networks/{sid}/reset").json()["diverged"] is False
    assert c.post(f"/api/networks/{sid}/train", json={"steps": 1}).status_code == 200


# --- errors as documented -----------------------------------------------------------------------------------


def test_the_422_body_is_what_the_spec_documents():
    c = quiet_client()
    spec = c.get("/openapi.json").json()
    problem = spec["components"]["schemas"]["ValidationProblem"]
    assert problem["properties"]["detail"]["type"] == "string"
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    op = spec["paths"]["/api/networks/{network_id}/forward"]["post"]
    assert {"401", "404", "409", "413", "415", "422"} <= set(op["responses"])
    assert "429" in spec["paths"]["/api/networks/{network_id}/train"]["post"]["responses"]
    r = c.post("/api/networks", json={"spec": {"layers": "x"}})
    body = r.json()
    assert r.status_code == 422 and isinstance(body["detail"], str) and isinstance(body["errors"], list)
    assert set(body) == {"detail", "errors"}
    r = c.post("/api/networks", json={"preset": "no-such"})
    assert r.status_code == 422 and set(r.json()) == {"detail", "errors"}


# --- deployment ---------------------------------------------------------------------------------------------


def test_the_token_guards_the_api_the_websocket_and_pages_pass_it_on():
    c = quiet_client(token="s3cret")
    assert c.get("/api/health").status_code == 200  # the health check stays open
    assert_clear(c.post("/api/networks", json={"preset": "worked-example"}), 401, "token")
    r = c.post("/api/networks", json={"preset": "worked-example"}, headers={"Authorization": "Bearer s3cret"})
    assert r.status_code == 201
    sid = r.json()["id"]
    assert c.get(f"/api/networks/{sid}?token=s3cret").status_code == 200
    assert c.get(f"/api/networks/{sid}?token=wrong").status_code == 401
    from starlette.websockets import WebSocketDisconnect
    with c.websocket_connect(f"/ws/networks/{sid}") as ws:
        assert "token" in ws.receive_json()["detail"]
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 4401
    # A page opened with ?token= sets an HttpOnly cookie, which then carries the page's API calls and sockets.
    page = c.get("/playground?token=s3cret")
    assert page.status_code == 200 and "HttpOnly" in page.headers["set-cookie"]
    assert c.get(f"/api/networks/{sid}").status_code == 200  # the client kept the cookie
    with c.websocket_connect(f"/ws/networks/{sid}") as ws:
        assert ws.receive_json()["type"] == "frame"


def test_binding_beyond_loopback_without_a_token_warns(capsys, monkeypatch):
    from app import cli

    monkeypatch.setattr("uvicorn.run", lambda *a, **k: None)
    monkeypatch.delenv("GLASSBOX_TOKEN", raising=False)
    cli.main(["serve", "--host", "0.0.0.0", "--port", "9"])
    assert "GLASSBOX_TOKEN" in capsys.readouterr().err
    cli.main(["serve", "--host", "127.0.0.1", "--port", "9"])
    assert "GLASSBOX_TOKEN" not in capsys.readouterr().err
    monkeypatch.setenv("GLASSBOX_TOKEN", "x")
    cli.main(["serve", "--host", "0.0.0.0", "--port", "9"])
    assert "WARNING" not in capsys.readouterr().err


# --- the WebSocket -----------------------------------------------------------------------------------------


def test_websocket_binary_frames_get_an_error_message_and_the_stream_stays_open():
    c = quiet_client()
    sid = network(c)
    with c.websocket_connect(f"/ws/networks/{sid}") as ws:
        assert ws.receive_json()["type"] == "frame"
        ws.send_bytes(b"\x00\x01")
        assert "text frames" in ws.receive_json()["detail"]
        ws.send_json({"type": "frame"})
        assert ws.receive_json()["type"] == "frame"


def test_websocket_step_messages_share_the_frame_rate_cap_and_a_step_budget():
    c = quiet_client(max_frames_per_second=10, max_queued_steps=3)
    sid = network(c)
    trainer = c.app.state.store.get(sid, "network").obj
    with c.websocket_connect(f"/ws/networks/{sid}") as ws:
        ws.receive_json()
        start = time.monotonic()
        for _ in range(50):
            ws.send_json({"type": "step", "unit": "batch"})
        messages = [ws.receive_json() for _ in range(50)]
        refused = [m for m in messages if m.get("type") == "error"]
        assert refused and "GLASSBOX_MAX_QUEUED_STEPS" in refused[0]["detail"]
        ws.send_json({"type": "frame"})
        while ws.receive_json().get("type") != "frame":
            pass
        # 50 messages trained only the steps that fitted the budget, at most 10 a second.
        assert trainer.step_count <= 50 - len(refused)
        assert trainer.step_count - 1 <= (time.monotonic() - start) * 10 + 1


def test_websocket_from_another_origin_is_refused_unless_listed():
    c = quiet_client()
    sid = network(c)
    from starlette.websockets import WebSocketDisconnect
    with c.websocket_connect(f"/ws/networks/{sid}", headers={"origin": "https://evil.example"}) as ws:
        assert "GLASSBOX_ALLOWED_ORIGINS" in ws.receive_json()["detail"]
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 4403
    with c.websocket_connect(f"/ws/networks/{sid}", headers={"origin": "http://testserver"}) as ws:
        assert ws.receive_json()["type"] == "frame"
    listed = quiet_client(allowed_origins=["https://class.example"])
    sid = network(listed)
    with listed.websocket_connect(f"/ws/networks/{sid}", headers={"origin": "https://class.example"}) as ws:
        assert ws.receive_json()["type"] == "frame"
