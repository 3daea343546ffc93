"""The LeNet API: predict (numbers, 0..255, PNG data URLs, base64), empty images, bad images, samples, unit
arithmetic, filters, mistakes, and training sessions (REST and WebSocket)."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from app.arrays import decode_array
from engine.lenet.mnist import load_mnist10k
from engine.lenet.model import LeNet5
from tests.conftest import make_client

LAYER_SHAPES = {"conv1": [6, 28, 28], "pool1": [6, 14, 14], "conv2": [16, 10, 10], "pool2": [16, 5, 5],
                "fc1": [120], "fc2": [84], "logits": [10]}


@pytest.fixture(scope="module")
def mnist():
    return load_mnist10k()


@pytest.fixture(scope="module")
def api():
    with make_client() as c:
        yield c


def png_data_url(image: Image.Image) -> str:
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def test_predict_reads_48_of_50_test_digits(api, mnist):
    rng = np.random.default_rng(2024)
    chosen = rng.choice(len(mnist.test_labels), size=50, replace=False)
    right = 0
    for i in chosen:
        body = {"image": mnist.test_images[i].tolist(), "max_value": 255}
        answer = api.post("/api/lenet/predict", json=body)
        assert answer.status_code == 200, answer.text
        right += answer.json()["digit"] == int(mnist.test_labels[i])
    assert right >= 48


def test_predict_returns_every_layer_and_agrees_with_the_engine(api, mnist):
    image = mnist.test_images[7].astype(np.float64) / 255
    answer = api.post("/api/lenet/predict", json={"image": image.tolist(), "preprocess": False}).json()
    assert answer["empty"] is False and answer["model"]["source"] == "shipped"
    assert np.asarray(answer["input"]).shape == (28, 28)
    for name, shape in LAYER_SHAPES.items():
        assert list(np.asarray(answer["layers"][name]).shape) == shape
    probs = np.asarray(answer["probabilities"])
    assert probs.shape == (10,) and abs(probs.sum() - 1) < 1e-5 and answer["digit"] == int(probs.argmax())
    logits = np.asarray(answer["layers"]["logits"])
    assert np.allclose(np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum(), probs, atol=1e-6)
    # The same numbers as the engine on its own, and pool1 is the 2×2 max of conv1.
    model = LeNet5.load()
    outputs = model.layer_outputs(image.astype(np.float32))
    assert np.allclose(outputs["conv2"], answer["layers"]["conv2"], atol=1e-6)
    conv1 = np.asarray(answer["layers"]["conv1"])
    assert np.allclose(conv1.reshape(6, 14, 2, 14, 2).max(axis=(2, 4)), answer["layers"]["pool1"])


def test_predict_base64_and_255_scale_and_invert(api, mnist):
    digit = mnist.test_images[450]  # a 2
    plain = api.post("/api/lenet/predict", json={"image": (digit / 255).tolist()}).json()
    as_bytes = api.post("/api/lenet/predict?encoding=base64", json={"image": digit.tolist(), "max_value": 255}).json()
    assert as_bytes["digit"] == plain["digit"] == 2
    assert as_bytes["layers"]["conv1"]["dtype"] == "float32" and as_bytes["layers"]["conv1"]["shape"] == [6, 28, 28]
    assert np.allclose(decode_array(as_bytes["layers"]["fc1"]), plain["layers"]["fc1"], atol=1e-6)
    assert np.allclose(decode_array(as_bytes["input"]), plain["input"], atol=1e-6)
    paper = api.post("/api/lenet/predict", json={"image": (255 - digit).tolist(), "max_value": 255,
                                                 "invert": True}).json()
    assert paper["digit"] == 2 and np.allclose(paper["probabilities"], plain["probabilities"], atol=1e-5)


def test_predict_preprocesses_a_large_off_centre_drawing(api, mnist):
    # A 7 drawn small in the corner of a 300×300 canvas: preprocessing crops, scales and centres it.
    canvas = np.zeros((300, 300))
    big = np.asarray(Image.fromarray(mnist.test_images[1400]).resize((84, 84), Image.Resampling.BILINEAR))
    canvas[200:284, 10:94] = big / 255
    answer = api.post("/api/lenet/predict", json={"image": canvas.tolist()}).json()
    assert int(mnist.test_labels[1400]) == 7 and answer["digit"] == 7
    centred = np.asarray(answer["input"])
    mass = centred.sum()
    assert abs(centred.sum(axis=1) @ np.arange(28) / mass - 14) < 1 and abs(centred.sum(axis=0) @ np.arange(28) / mass
                                                                             - 14) < 1


def test_predict_png_data_urls(api):
    one = Image.new("RGBA", (280, 280), (0, 0, 0, 0))
    ImageDraw.Draw(one).line([(140, 40), (140, 240)], fill=(0, 0, 0, 255), width=22)
    assert api.post("/api/lenet/predict", json={"png": png_data_url(one)}).json()["digit"] == 1
    zero = Image.new("L", (280, 280), 255)  # dark ink on white paper
    ImageDraw.Draw(zero).ellipse([80, 40, 200, 240], outline=0, width=22)
    assert api.post("/api/lenet/predict", json={"png": png_data_url(zero)}).json()["digit"] == 0


@pytest.mark.parametrize("body", [
    {"image": np.zeros((280, 280)).tolist()},
    {"image": np.zeros((28, 28)).tolist(), "preprocess": False},
    {"png": png_data_url(Image.new("RGBA", (200, 200), (0, 0, 0, 0)))},
])
def test_empty_image_asks_for_a_digit(api, body):
    answer = api.post("/api/lenet/predict", json=body)
    assert answer.status_code == 200
    data = answer.json()
    assert data["empty"] is True and data["digit"] is None and data["layers"] is None
    assert "draw a digit" in data["message"]


@pytest.mark.parametrize("body, status, message", [
    ({}, 422, "either 'image'"),
    ({"image": [[0, 1]], "png": "data:image/png;base64,AAAA"}, 422, "either 'image'"),
    ({"image": [[0, 1], [0]]}, 422, "same length"),
    ({"image": [0, 1, 0]}, 422, "image"),
    ({"image": [[0, 2, 0]]}, 422, "max_value to 255"),
    ({"image": [[0, 300]], "max_value": 255}, 422, "0..255"),
    ({"image": [[0, -1]]}, 422, "0..1"),
    ({"image": [["a", 1]]}, 422, "image"),
    ({"image": [[0, 1]], "max_value": 7}, 422, "max_value"),
    ({"image": np.zeros((1025, 2)).tolist()}, 413, "1024"),
    ({"image": np.zeros((20, 20)).tolist(), "preprocess": False}, 422, "28×28"),
    ({"png": "data:image/jpeg;base64,AAAA"}, 422, "PNG data URL"),
    ({"png": "data:image/png;base64,not base64!"}, 422, "base64"),
    ({"png": "data:image/png;base64," + base64.b64encode(b"GIF89a....").decode()}, 422, "readable PNG"),
    ({"png": png_data_url(Image.new("L", (1100, 10)))}, 413, "1024"),
    ({"image": [[0, 1]], "session": "nope"}, 404, "no lenet session"),
    ({"image": [[0, 1]], "colour": "red"}, 422, "colour"),
])
def test_bad_images(api, body, status, message):
    answer = api.post("/api/lenet/predict", json=body)
    assert answer.status_code == status, answer.text
    assert message in answer.json()["detail"]


def test_nan_and_malformed_json(api):
    answer = api.post("/api/lenet/predict", content=b'{"image": [[0, NaN]]}',
                      headers={"content-type": "application/json"})
    assert answer.status_code == 422 and "finite" in answer.json()["detail"]
    answer = api.post("/api/lenet/predict", content=b'{"image": [[0, 1]',
                      headers={"content-type": "application/json"})
    assert answer.status_code == 422 and "not valid JSON" in answer.json()["detail"]
    assert api.get("/api/health").status_code == 200


def test_samples(api, mnist):
    answer = api.get("/api/lenet/samples", params={"digit": 3, "n": 5, "seed": 1}).json()["samples"]
    assert len(answer) == 5 and {s["label"] for s in answer} == {3}
    for s in answer:
        assert np.allclose(np.asarray(s["image"]) * 255, mnist.test_images[s["index"]], atol=1e-3)
    again = api.get("/api/lenet/samples", params={"digit": 3, "n": 5, "seed": 1}).json()["samples"]
    assert [s["index"] for s in again] == [s["index"] for s in answer]
    mixed = api.get("/api/lenet/samples?n=40&seed=3&encoding=base64").json()["samples"]
    assert len({s["label"] for s in mixed}) > 5 and mixed[0]["image"]["shape"] == [28, 28]
    for params in ({"digit": 10}, {"n": 0}, {"n": 51}, {"digit": "x"}):
        assert api.get("/api/lenet/samples", params=params).status_code == 422


def test_unit_detail_reproduces_the_network(api, mnist):
    image = (mnist.test_images[1234] / 255).tolist()
    pred = api.post("/api/lenet/predict", json={"image": image, "preprocess": False}).json()
    layers = {k: np.asarray(v) for k, v in pred["layers"].items()}

    conv1 = api.post("/api/lenet/unit", json={"image": image, "layer": "conv1", "index": 2, "row": 14,
                                             "col": 9}).json()
    assert conv1["kind"] == "conv" and np.asarray(conv1["window"]).shape == (1, 5, 5)
    assert np.allclose(np.asarray(conv1["window"]) * np.asarray(conv1["kernel"]), conv1["products"])
    assert abs(np.sum(conv1["products"]) + conv1["bias"] - conv1["z"]) < 1e-9
    assert abs(max(conv1["z"], 0) - conv1["activation_value"]) < 1e-12
    assert abs(conv1["activation_value"] - layers["conv1"][2, 14, 9]) < 1e-5
    assert conv1["value"] == pytest.approx(layers["conv1"][2, 14, 9], abs=1e-6)
    assert conv1["receptive_field"]["input"] == {"top": 12, "left": 7, "bottom": 16, "right": 11}

    conv2 = api.post("/api/lenet/unit", json={"image": image, "layer": "conv2", "index": 5, "row": 3,
                                             "col": 4}).json()
    assert np.asarray(conv2["window"]).shape == (6, 5, 5) and len(conv2["channel_sums"]) == 6
    assert np.allclose(conv2["window"], layers["pool1"][:, 3:8, 4:9], atol=1e-6)
    assert abs(sum(conv2["channel_sums"]) + conv2["bias"] - conv2["z"]) < 1e-9
    assert abs(conv2["activation_value"] - layers["conv2"][5, 3, 4]) < 1e-5
    assert conv2["receptive_field"]["pool1"] == {"top": 3, "left": 4, "bottom": 7, "right": 8}
    assert conv2["receptive_field"]["input"] == {"top": 4, "left": 6, "bottom": 17, "right": 19}

    pool = api.post("/api/lenet/unit", json={"image": image, "layer": "pool2", "index": 1, "row": 2,
                                            "col": 3}).json()
    assert pool["kind"] == "pool" and pool["mode"] == "max"
    assert pool["pooled"] == pytest.approx(np.max(pool["window"]))
    assert pool["pooled"] == pytest.approx(layers["pool2"][1, 2, 3], abs=1e-6)

    fc = api.post("/api/lenet/unit", json={"image": image, "layer": "fc1", "index": 17}).json()
    assert len(fc["inputs"]) == 400 and np.allclose(fc["inputs"], layers["pool2"].reshape(-1), atol=1e-6)
    assert abs(np.sum(fc["products"]) + fc["bias"] - fc["z"]) < 1e-9
    assert fc["activation_value"] == pytest.approx(layers["fc1"][17], abs=1e-5)

    out = api.post("/api/lenet/unit", json={"image": image, "layer": "logits", "index": 4}).json()
    assert out["activation"] == "softmax" and out["probability"] == pytest.approx(pred["probabilities"][4], abs=1e-6)
    assert out["z"] == pytest.approx(layers["logits"][4], abs=1e-5)


@pytest.mark.parametrize("change, message", [
    ({"layer": "conv3"}, "layer"),
    ({"index": 6}, "between 0 and 5"),
    ({"row": 28}, "between 0 and 27"),
    ({"image": [[0.0] * 20] * 20}, "28×28"),
    ({"image": [[2.0] * 28] * 28}, "0..1"),
    ({"session": "gone"}, "no lenet session"),
])
def test_unit_errors(api, change, message):
    body = {"image": [[0.0] * 28] * 28, "layer": "conv1", "index": 0, "row": 0, "col": 0, **change}
    answer = api.post("/api/lenet/unit", json=body)
    assert 400 <= answer.status_code < 500 and message in answer.text


def test_filters_and_model_info(api):
    filters = api.get("/api/lenet/filters").json()
    assert np.asarray(filters["conv1"]["weight"]).shape == (6, 1, 5, 5)
    assert np.asarray(filters["conv2"]["weight"]).shape == (16, 6, 5, 5)
    assert np.asarray(filters["conv2"]["bias"]).shape == (16,)
    info = api.get("/api/lenet/model").json()
    assert info["parameters"] == 61706 and info["training"]["test_accuracy"] >= 0.98
    assert info["training"]["command"].startswith("glassbox train lenet")


def test_mistakes_and_confusion(api, mnist):
    answer = api.get("/api/lenet/mistakes").json()
    confusion = np.asarray(answer["confusion"])
    assert confusion.shape == (10, 10) and confusion.sum() == 2000
    assert confusion.sum(axis=1).tolist() == [200] * 10
    assert answer["correct"] == np.trace(confusion) and answer["accuracy"] >= 0.98
    assert len(answer["mistakes"]) == 2000 - answer["correct"]
    confidences = [m["confidence"] for m in answer["mistakes"]]
    assert confidences == sorted(confidences, reverse=True)
    for m in answer["mistakes"][:3]:
        assert m["label"] != m["predicted"] and m["label"] == mnist.test_labels[m["index"]]
        again = api.post("/api/lenet/predict", json={"image": m["image"], "preprocess": False}).json()
        assert again["digit"] == m["predicted"]


def test_training_session_rest_and_predict_with_it(api):
    created = api.post("/api/lenet/sessions", json={"seed": 1})
    assert created.status_code == 201
    state = created.json()
    sid = state["id"]
    assert state["step"] == 0 and state["steps_per_epoch"] == 125 and len(state["probe_indices"]) == 20
    assert np.asarray(state["conv1"]).shape == (6, 1, 5, 5)
    assert state["history"][0]["test_accuracy"] < 0.3
    trained = api.post(f"/api/lenet/sessions/{sid}/train", json={"steps": 60}).json()
    assert trained["step"] == 60 and trained["history"][-1]["train_loss"] < 2.0
    digit = np.zeros((28, 28))
    digit[4:24, 13:15] = 1.0
    with_session = api.post("/api/lenet/predict", json={"image": digit.tolist(), "session": sid}).json()
    assert with_session["model"] == {**with_session["model"], "source": "session", "session": sid, "step": 60}
    shipped = api.post("/api/lenet/predict", json={"image": digit.tolist()}).json()
    assert not np.allclose(shipped["layers"]["conv1"], with_session["layers"]["conv1"])
    assert api.get(f"/api/lenet/filters?session={sid}").json()["model"]["source"] == "session"
    assert api.delete(f"/api/lenet/sessions/{sid}").status_code == 204
    assert api.get(f"/api/lenet/sessions/{sid}").status_code == 404


def test_session_errors(api):
    assert api.post("/api/lenet/sessions", json={"activation": "gelu"}).status_code == 422
    assert api.post("/api/lenet/sessions", json={"learning_rate": 0}).status_code == 422
    sid = api.post("/api/lenet/sessions", json={}).json()["id"]
    answer = api.post(f"/api/lenet/sessions/{sid}/train", json={"epochs": 101})
    assert answer.status_code == 422
    with make_client(max_steps_per_request=10) as small:
        sid = small.post("/api/lenet/sessions", json={}).json()["id"]
        answer = small.post(f"/api/lenet/sessions/{sid}/train", json={"epochs": 1})
        assert answer.status_code == 413 and "MAX_STEPS_PER_REQUEST" in answer.json()["detail"]


def test_live_training_socket(api):
    sid = api.post("/api/lenet/sessions", json={"activation": "tanh", "pooling": "avg"}).json()["id"]
    with api.websocket_connect(f"/ws/lenet/{sid}") as ws:
        first = ws.receive_json()
        assert first["type"] == "frame" and first["step"] == 0 and first["playing"] is False
        ws.send_json({"type": "step", "unit": "batch"})
        frame = ws.receive_json()
        assert frame["step"] == 1 and frame["conv1"]["shape"] == [6, 1, 5, 5]
        assert frame["probe_probabilities"]["shape"] == [20, 10]
        ws.send_json({"type": "step"})
        assert ws.receive_json()["step"] == 26
        ws.send_json({"type": "config", "learning_rate": 0.01, "augment": False})
        frame = ws.receive_json()
        assert frame["learning_rate"] == 0.01 and frame["augment"] is False
        ws.send_json({"type": "config", "momentum": 0.9})
        assert "unknown config" in ws.receive_json()["detail"]
        ws.send_json({"type": "config", "learning_rate": 5})
        assert "learning_rate" in ws.receive_json()["detail"]
    with pytest.raises(Exception):  # noqa: B017 - the server closes with code 4404
        with api.websocket_connect("/ws/lenet/unknown") as ws:
            assert "no lenet session" in ws.receive_json()["detail"]
            ws.receive_json()
