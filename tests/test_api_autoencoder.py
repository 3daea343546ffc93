"""The autoencoder API: sessions from the shipped model or from scratch, encode (digits and drawings), decode, the
latent map, PCA, training (REST and WebSocket), and clear 4xx for bad input."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from app.arrays import decode_array
from engine.autoencoder.data import DigitData
from engine.autoencoder.model import Autoencoder
from tests.conftest import make_client


@pytest.fixture(scope="module")
def digits() -> DigitData:
    return DigitData.load()


@pytest.fixture(scope="module")
def api():
    with make_client(max_decode_points=64) as c:
        yield c


@pytest.fixture(scope="module")
def shipped(api) -> dict:
    response = api.post("/api/autoencoders", json={})
    assert response.status_code == 201
    return response.json()


def test_create_from_the_shipped_model(shipped):
    assert shipped["source"] == "shipped" and shipped["step"] == 0
    assert shipped["architecture"]["sizes"] == [784, 256, 64, 2, 64, 256, 784]
    assert shipped["architecture"]["parameters"] == 435_858
    assert shipped["test_mse"] < shipped["pca_test_mse"]
    assert shipped["history"][0]["test_loss"] == pytest.approx(shipped["test_loss"])


def test_encode_and_decode_agree_with_the_engine(api, shipped, digits):
    model = Autoencoder.load()
    images = digits.x_test[:3].reshape(3, 28, 28)
    got = api.post(f"/api/autoencoders/{shipped['id']}/encode", json={"images": images.tolist()}).json()
    codes, reconstructions = model.reconstruct(digits.x_test[:3])
    np.testing.assert_allclose(got["points"], codes, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(np.asarray(got["reconstructions"]).reshape(3, 784), reconstructions, atol=1e-6)
    decoded = api.post(f"/api/autoencoders/{shipped['id']}/decode?encoding=base64",
                       json={"points": got["points"]}).json()
    images_back = decode_array(decoded["images"])
    assert images_back.shape == (3, 28, 28)
    np.testing.assert_allclose(images_back.reshape(3, 784), reconstructions, atol=1e-6)
    two = api.post(f"/api/autoencoders/{shipped['id']}/decode", json={"points": [[-2, 1], [3, -1]]}).json()
    assert np.abs(np.subtract(*np.asarray(two["images"]))).max() > 0.3  # different places, different digits


def test_encode_a_drawing(api, shipped):
    canvas = Image.new("RGBA", (140, 140), (0, 0, 0, 0))
    ImageDraw.Draw(canvas).line([(70, 20), (72, 120)], fill=(255, 255, 255, 255), width=12)
    buf = io.BytesIO()
    canvas.save(buf, format="PNG")
    png = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
    got = api.post(f"/api/autoencoders/{shipped['id']}/encode", json={"png": png}).json()
    read = np.asarray(got["inputs"][0])
    assert read.shape == (28, 28) and len(got["points"][0]) == 2
    rows = np.flatnonzero(read.max(axis=1) > 0.1)
    assert rows[-1] - rows[0] >= 18  # cropped and scaled to MNIST's 20-pixel box
    empty = Image.new("RGBA", (50, 50), (0, 0, 0, 0))
    buf = io.BytesIO()
    empty.save(buf, format="PNG")
    response = api.post(f"/api/autoencoders/{shipped['id']}/encode",
                        json={"png": "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()})
    assert response.status_code == 422 and "empty" in response.json()["detail"]


def test_map_and_pca(api, shipped, digits):
    latent = api.get(f"/api/autoencoders/{shipped['id']}/map?encoding=base64").json()
    points = decode_array(latent["points"])
    assert points.shape == (2000, 2) and latent["labels"] == digits.y_test.tolist()
    assert latent["test_mse"] == pytest.approx(shipped["test_mse"])
    sample = latent["sample"]
    assert len(sample["indices"]) == 20 and decode_array(sample["reconstructions"]).dtype == np.uint8
    pca = api.get("/api/autoencoders/pca?encoding=base64").json()
    assert decode_array(pca["points"]).shape == (2000, 2)
    components = decode_array(pca["components"]).reshape(2, 784).astype(np.float64)
    np.testing.assert_allclose(components @ components.T, np.eye(2), atol=1e-5)
    assert pca["test_mse"] == pytest.approx(shipped["pca_test_mse"]) and sum(pca["explained_variance_ratio"]) < 0.25
    decoded = api.post("/api/autoencoders/pca/decode", json={"points": [[0, 0]]}).json()
    np.testing.assert_allclose(np.asarray(decoded["images"][0]), decode_array(pca["mean"]), atol=1e-6)
    test_digits = api.get("/api/autoencoders/digits?encoding=base64").json()
    assert decode_array(test_digits["images"]).shape == (2000, 28, 28)


@pytest.mark.parametrize("path, body, status, message", [
    ("decode", {"points": [[0, 0, 1]]}, 422, "needs 2"),
    ("decode", {"points": [[0, 0]] * 65}, 413, "GLASSBOX_MAX_DECODE_POINTS"),
    ("decode", {"points": []}, 422, "at least 1"),
    ("decode", {"points": [["a", 0]]}, 422, "points.0.0"),
    ("encode", {"images": [[[0.0] * 27] * 28]}, 422, "not 28×28"),
    ("encode", {"images": [[[0.0] * 28] * 27]}, 422, "not 28×28"),
    ("encode", {"images": [[[2.0] * 28] * 28]}, 422, "0..1"),
    ("encode", {"images": [[[0.0] * 28] * 28] * 65}, 413, "number of images"),
    ("encode", {}, 422, "either 'images'"),
    ("encode", {"png": "data:image/jpeg;base64,xx"}, 422, "PNG data URL"),
])
def test_bad_requests(api, shipped, path, body, status, message):
    response = api.post(f"/api/autoencoders/{shipped['id']}/{path}", json=body)
    assert response.status_code == status, response.text
    assert message in response.json()["detail"]


def test_nan_points_and_unknown_sessions(api, shipped):
    response = api.post(f"/api/autoencoders/{shipped['id']}/decode", content=b'{"points": [[NaN, 0]]}',
                        headers={"content-type": "application/json"})
    assert response.status_code == 422 and "finite" in response.json()["detail"]
    assert api.post("/api/autoencoders/pca/decode", json={"points": [[1, 2, 3]]}).status_code == 422
    for method, path in [("get", "/api/autoencoders/nope"), ("get", "/api/autoencoders/nope/map"),
                         ("post", "/api/autoencoders/nope/decode")]:
        response = getattr(api, method)(path, **({"json": {"points": [[0, 0]]}} if method == "post" else {}))
        assert response.status_code == 404 and "no autoencoder session" in response.json()["detail"]


def test_create_errors(api):
    response = api.post("/api/autoencoders", json={"latent": 3})
    assert response.status_code == 422 and "pretrained to false" in response.json()["detail"]
    assert api.post("/api/autoencoders", json={"latent": 4}).status_code == 422
    big = api.post("/api/autoencoders", json={"pretrained": False, "hidden": [1024] * 4})
    assert big.status_code == 413 and "parameters" in big.json()["detail"]


def test_train_from_scratch_over_rest_and_the_socket(api):
    created = api.post("/api/autoencoders", json={"pretrained": False, "hidden": [32], "latent": 3,
                                                  "loss": "mse", "denoise": 0.2, "learning_rate": 0.005})
    assert created.status_code == 201
    state = created.json()
    sid = state["id"]
    assert state["source"] == "scratch" and state["architecture"]["sizes"] == [784, 32, 3, 32, 784]
    trained = api.post(f"/api/autoencoders/{sid}/train", json={"epochs": 1}).json()
    assert trained["step"] == 125 and trained["history"][-1]["test_loss"] < state["history"][0]["test_loss"]
    assert api.post(f"/api/autoencoders/{sid}/train", json={"epochs": 101}).status_code == 422
    assert len(api.post(f"/api/autoencoders/{sid}/decode", json={"points": [[0, 0, 0]]}).json()["images"]) == 1
    with api.websocket_connect(f"/ws/autoencoders/{sid}") as ws:
        first = ws.receive_json()
        assert first["type"] == "frame" and first["step"] == 125 and first["points"]["shape"] == [2000, 3]
        ws.send_json({"type": "step"})
        frame = ws.receive_json()
        assert frame["step"] == 135 and frame["history_tail"][-1]["step"] == 135
        assert frame["sample"]["reconstructions"]["dtype"] == "uint8"
        ws.send_json({"type": "config", "learning_rate": 0.001, "denoise": 0})
        frame = ws.receive_json()
        assert frame["learning_rate"] == 0.001 and frame["denoise"] == 0
        ws.send_json({"type": "config", "latent": 2})
        assert "unknown settings" in ws.receive_json()["detail"]
    assert api.delete(f"/api/autoencoders/{sid}").status_code == 204
    with pytest.raises(Exception):  # noqa: B017 - the server closes with code 4404
        with api.websocket_connect(f"/ws/autoencoders/{sid}") as ws:
            assert "no autoencoder session" in ws.receive_json()["detail"]
            ws.receive_json()


def test_openapi_documents_the_routes(api):
    paths = api.get("/openapi.json").json()["paths"]
    for path in ["/api/autoencoders", "/api/autoencoders/{session_id}/train", "/api/autoencoders/{session_id}/encode",
                 "/api/autoencoders/{session_id}/decode", "/api/autoencoders/{session_id}/map",
                 "/api/autoencoders/pca"]:
        assert path in paths
    decode = paths["/api/autoencoders/{session_id}/decode"]["post"]["responses"]["200"]
    assert decode["content"]["application/json"]["schema"]["$ref"].endswith("/Decoded")
