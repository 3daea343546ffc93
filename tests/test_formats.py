"""Bring your own model: safetensors and ONNX in, every format out.

The LeNet-like models are built here with NumPy and written as PyTorch would write them (an nn.Sequential state
dict in safetensors, torch.onnx.export's Conv/Relu/MaxPool/Flatten/Gemm graph), with no PyTorch in the suite."""

from __future__ import annotations

import json
import struct
import subprocess
import sys

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from engine.core.errors import EngineError
from engine.core.formats import import_network
from engine.core.formats.safetensors_io import read_safetensors, write_safetensors
from engine.core.network import build_sequential
from engine.lenet.mnist import load_mnist10k
from engine.lenet.model import LeNet5
from tests.conftest import ROOT, make_client

SMALL = [{"type": "conv2d", "out_channels": 4, "kernel_size": 3, "padding": 1}, {"type": "tanh"},
         {"type": "avgpool2d", "size": 2}, {"type": "conv2d", "out_channels": 8, "kernel_size": 3}, {"type": "tanh"},
         {"type": "avgpool2d", "size": 2}, {"type": "flatten"}, {"type": "dense", "units": 32}, {"type": "tanh"},
         {"type": "dense", "units": 10}]


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, np.ndarray]:
    split = load_mnist10k()
    return split.test_inputs()[:300].reshape(-1, 28, 28), split.test_labels[:300].astype(np.int64)


# --- files as PyTorch writes them, in NumPy ---------------------------------------------------------------------


def torch_state_dict(net) -> dict[str, np.ndarray]:
    """nn.Sequential's state_dict: '<module>.weight' (Linear weights (out, in)) and '<module>.bias'."""
    out = {}
    for p in net.named_params():
        value = p.value.T if net.layers[p.layer].type == "dense" and p.name == "weight" else p.value
        out[p.key] = np.ascontiguousarray(value, dtype=np.float32)
    return out


def safetensors_bytes(tensors: dict[str, np.ndarray], metadata: dict[str, str] | None = None) -> bytes:
    """A safetensors file written by hand: u64 header length, JSON header, raw little-endian buffers."""
    header: dict = {"__metadata__": metadata} if metadata else {}
    blobs, offset = [], 0
    for name, value in tensors.items():
        raw = value.astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(value.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


def torch_onnx_bytes(net, *, matmul: bool = False, reshape: bool = False, extra: list | None = None) -> bytes:
    """The graph torch.onnx.export writes for an nn.Sequential: Gemm(transB=1) with (out, in) weights, or
    MatMul + Add; Flatten, or Reshape with a shape constant."""
    nodes, inits, current = [], [], "input"
    for i, layer in enumerate(net.layers):
        out = f"/{i}/out"
        if layer.type == "dense":
            w, b = layer.params["weight"], layer.params["bias"]
            if matmul:
                inits += [numpy_helper.from_array(w, f"w{i}"), numpy_helper.from_array(b, f"b{i}")]
                nodes += [helper.make_node("MatMul", [current, f"w{i}"], [f"/{i}/mm"], name=f"/{i}/MatMul"),
                          helper.make_node("Add", [f"/{i}/mm", f"b{i}"], [out], name=f"/{i}/Add")]
            else:
                inits += [numpy_helper.from_array(np.ascontiguousarray(w.T), f"{i}.weight"),
                          numpy_helper.from_array(b, f"{i}.bias")]
                nodes.append(helper.make_node("Gemm", [current, f"{i}.weight", f"{i}.bias"], [out], name=f"/{i}/Gemm",
                                              alpha=1.0, beta=1.0, transB=1))
        elif layer.type == "conv2d":
            inits += [numpy_helper.from_array(layer.params["weight"], f"{i}.weight"),
                      numpy_helper.from_array(layer.params["bias"], f"{i}.bias")]
            k, p = layer.kernel_size, layer.padding
            nodes.append(helper.make_node("Conv", [current, f"{i}.weight", f"{i}.bias"], [out], name=f"/{i}/Conv",
                                          dilations=[1, 1], group=1, kernel_shape=[k, k], pads=[p] * 4,
                                          strides=[1, 1]))
        elif layer.type in ("maxpool2d", "avgpool2d"):
            op = "MaxPool" if layer.type == "maxpool2d" else "AveragePool"
            nodes.append(helper.make_node(op, [current], [out], name=f"/{i}/{op}", ceil_mode=0,
                                          kernel_shape=[layer.size] * 2, pads=[0] * 4, strides=[layer.stride] * 2))
        elif layer.type == "flatten":
            if reshape:
                nodes += [helper.make_node("Constant", [], [f"/{i}/shape"], name=f"/{i}/Constant",
                                           value=numpy_helper.from_array(
                                               np.array([-1, int(np.prod(layer.input_shape))], dtype=np.int64))),
                          helper.make_node("Reshape", [current, f"/{i}/shape"], [out], name=f"/{i}/Reshape")]
            else:
                nodes.append(helper.make_node("Flatten", [current], [out], name=f"/{i}/Flatten", axis=1))
        else:
            nodes.append(helper.make_node(layer.type.capitalize(), [current], [out], name=f"/{i}/{layer.type}"))
        current = out
    nodes += extra or []
    graph = helper.make_graph(nodes, "main_graph",
                              [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 1, 28, 28])],
                              [helper.make_tensor_value_info(current, TensorProto.FLOAT, ["batch", 10])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="pytorch")
    return model.SerializeToString()


def upload(client, data: bytes, **params):
    return client.post("/api/networks/import", content=data, params=params,
                       headers={"content-type": "application/octet-stream"})


# --- round trips --------------------------------------------------------------------------------------------


def test_export_to_onnx_runs_in_onnxruntime(client):
    spec = {"features": ["x1", "x2", "x1sq", "sinx1"], "layers": [
        {"type": "dense", "units": 6, "activation": "tanh"}, {"type": "dense", "units": 3, "activation": "relu"},
        {"type": "dense", "units": 1, "activation": "sigmoid"}], "loss": "bce"}
    made = client.post("/api/networks", json={"spec": spec, "data": {"name": "circle", "num_samples": 100}}).json()
    client.post(f"/api/networks/{made['id']}/train", json={"epochs": 3})
    x = np.random.default_rng(1).normal(size=(20, 2)).astype(np.float32)  # raw points: the graph makes features
    want = np.asarray(client.post(f"/api/networks/{made['id']}/forward", json={"inputs": x.tolist()}).json()["output"])
    model = client.get(f"/api/networks/{made['id']}/export", params={"format": "onnx"}).content
    onnx.checker.check_model(onnx.load_model_from_string(model))
    got = ort.InferenceSession(model, providers=["CPUExecutionProvider"]).run(None, {"input": x})[0]
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-5)


def test_lenet_session_exports_to_onnx_and_safetensors(client, digits):
    session = client.post("/api/lenet/sessions", json={"seed": 4}).json()
    client.post(f"/api/lenet/sessions/{session['id']}/train", json={"steps": 3})
    images = digits[0][:16]
    model = client.get(f"/api/networks/{session['id']}/export", params={"format": "onnx"}).content
    got = ort.InferenceSession(model, providers=["CPUExecutionProvider"]).run(None, {"input": images[:, None]})[0]
    preds = [client.post("/api/lenet/predict", json={"image": im.tolist(), "preprocess": False,
                                                     "session": session["id"]}).json()["probabilities"]
             for im in images[:4]]
    exp = np.exp(got[:4] - got[:4].max(axis=1, keepdims=True))
    np.testing.assert_allclose(exp / exp.sum(axis=1, keepdims=True), preds, atol=1e-5)
    st = client.get(f"/api/networks/{session['id']}/export", params={"format": "safetensors"}).content
    tensors, meta = read_safetensors(st)
    assert meta["layout"] == "pytorch" and tensors["7.weight"].shape == (120, 400)  # nn.Linear's (out, in)
    copy = upload(client, st).json()
    again = client.post("/api/lenet/predict", json={"image": images[0].tolist(), "preprocess": False,
                                                    "session": copy["id"]}).json()
    np.testing.assert_allclose(again["probabilities"], preds[0], atol=1e-6)
    assert again["model"]["source"] == "network"


@pytest.mark.parametrize("form", ["safetensors", "onnx-gemm", "onnx-matmul-reshape"])
def test_pytorch_style_lenet_imports_and_reads_digits(client, digits, form):
    shipped = LeNet5.load()
    if form == "safetensors":
        data = safetensors_bytes(torch_state_dict(shipped.net))
    else:
        data = torch_onnx_bytes(shipped.net, matmul=form.endswith("reshape"), reshape=form.endswith("reshape"))
    made = upload(client, data)
    assert made.status_code == 201, made.text
    sid = made.json()["id"]
    info = client.get("/api/lenet/model", params={"session": sid}).json()
    assert [(layer["name"], layer["shape"]) for layer in info["layers"]] == [
        ("input", [1, 28, 28]), ("conv1", [6, 28, 28]), ("pool1", [6, 14, 14]), ("conv2", [16, 10, 10]),
        ("pool2", [16, 5, 5]), ("fc1", [120]), ("fc2", [84]), ("logits", [10])]
    if form == "safetensors":  # all 2,000 test digits once (each form reads them alike: the digits below)
        evaluation = client.get("/api/lenet/mistakes", params={"session": sid}).json()
        engine = client.get("/api/lenet/mistakes").json()  # the shipped model, as the engine computes it
        assert evaluation["confusion"] == engine["confusion"] and evaluation["accuracy"] > 0.98
    images, labels = digits
    for i in range(3):
        read = client.post("/api/lenet/predict", json={"image": images[i].tolist(), "preprocess": False,
                                                       "session": sid}).json()
        _, probabilities = shipped.classify(images[i][None])
        assert read["digit"] == int(probabilities.argmax())
        np.testing.assert_allclose(read["probabilities"], probabilities[0], atol=1e-6)


@pytest.mark.parametrize("form", ["safetensors", "onnx"])
def test_own_layer_sizes_are_drawn_and_computed_as_the_engine_does(client, digits, form):
    net = build_sequential((1, 28, 28), SMALL, seed=7)
    if form == "safetensors":
        data = safetensors_bytes(torch_state_dict(net), {"activation": "tanh", "pooling": "avg"})
    else:
        data = torch_onnx_bytes(net)
    sid = upload(client, data).json()["id"]
    info = client.get("/api/lenet/model", params={"session": sid}).json()
    assert [layer["shape"] for layer in info["layers"]] == [[1, 28, 28], [4, 28, 28], [4, 14, 14], [8, 12, 12],
                                                            [8, 6, 6], [32], [10]]
    assert info["activation"] == "tanh" and info["pooling"] == "avg"
    images = digits[0][:20]
    want = net.forward(images[:, None])
    read = client.post("/api/lenet/predict", json={"image": images[5].tolist(), "preprocess": False,
                                                   "session": sid}).json()
    np.testing.assert_allclose(read["layers"]["logits"], want[5], atol=1e-5)
    assert np.asarray(read["layers"]["conv2"]).shape == (8, 12, 12)
    unit = client.post("/api/lenet/unit", json={"image": read["input"], "layer": "conv2", "index": 3, "row": 4,
                                                "col": 5, "session": sid}).json()
    assert unit["size"] == 3 and unit["value"] == pytest.approx(read["layers"]["conv2"][3][4][5], abs=1e-5)
    assert unit["receptive_field"]["input"] == {"top": 7, "left": 9, "bottom": 14, "right": 16}
    filters = client.get("/api/lenet/filters", params={"session": sid}).json()
    assert np.asarray(filters["conv2"]["weight"]).shape == (8, 4, 3, 3)
    walk = client.post(f"/api/networks/{sid}/walk", json={"inputs": [images[0].reshape(-1).tolist()],
                                                          "targets": [3]})
    assert walk.status_code == 422 and "the walk explains dense networks" in walk.json()["detail"]


def test_dense_digit_model_opens_on_the_lenet_page_and_in_the_walk(client, digits):
    # nn.Sequential(nn.Flatten(), nn.Linear(784, 24), nn.ReLU(), nn.Linear(24, 10)): module 0 has no weights.
    net = build_sequential((1, 28, 28), [{"type": "flatten"}, {"type": "dense", "units": 24, "activation": "relu"},
                                         {"type": "dense", "units": 10}], seed=5)
    sid = upload(client, safetensors_bytes(torch_state_dict(net))).json()["id"]
    info = client.get("/api/lenet/model", params={"session": sid}).json()
    assert [(layer["name"], layer["shape"]) for layer in info["layers"]] == [("input", [1, 28, 28]), ("fc1", [24]),
                                                                            ("logits", [10])]
    images, labels = digits
    read = client.post("/api/lenet/predict", json={"image": images[1].tolist(), "preprocess": False,
                                                   "session": sid}).json()
    np.testing.assert_allclose(read["layers"]["logits"], net.forward(images[1][None, None])[0], atol=1e-5)
    rows = images[:2].reshape(2, -1)
    kinds = []
    for _ in range(8):
        walk = client.post(f"/api/networks/{sid}/walk", json={"granularity": "layer", "inputs": rows.tolist()
                                                              if not kinds else None, "targets": labels[:2].tolist()
                                                              if not kinds else None})
        assert walk.status_code == 200, walk.text
        kinds.append(walk.json()["current"]["kind"])
        if kinds[-1] == "update":
            break
    assert kinds[0] == "forward_layer" and "loss" in kinds and kinds[-1] == "update"
    first = client.post(f"/api/networks/{sid}/forward", json={"inputs": rows.tolist()}).json()
    assert np.asarray(first["output"]).shape == (2, 10)


# --- refusals -----------------------------------------------------------------------------------------------


def graph_with(op_nodes: list, inputs=("input", [1, 4]), output="y") -> bytes:
    graph = helper.make_graph(op_nodes, "g", [helper.make_tensor_value_info(inputs[0], TensorProto.FLOAT,
                                                                          inputs[1])],
                              [helper.make_tensor_value_info(output, TensorProto.FLOAT, None)])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()


@pytest.mark.parametrize(("nodes", "named"), [
    ([helper.make_node("LeakyRelu", ["input"], ["y"], name="act")], "unsupported operator 'LeakyRelu'"),
    ([helper.make_node("Relu", ["input"], ["a"]), helper.make_node("LSTM", ["a", "w", "r"], ["y"], name="rnn")],
     "unsupported operator 'LSTM'"),
    ([helper.make_node("Gemm", ["input", "w"], ["y"], alpha=2.0)], "unsupported Gemm alpha=2.0"),
    ([helper.make_node("Relu", ["input"], ["a"]), helper.make_node("Relu", ["input"], ["y"])],
     "the graph is not a chain"),
])
def test_unsupported_onnx_is_refused_by_name(client, nodes, named):
    answer = upload(client, graph_with(nodes))
    assert answer.status_code == 422 and named in answer.json()["detail"], answer.text


def test_batchnorm_in_a_torch_graph_is_refused_by_name(client):
    net = build_sequential((1, 28, 28), SMALL, seed=0)
    bn = helper.make_node("BatchNormalization", ["/9/out", "s", "b", "m", "v"], ["bn"], name="/10/BatchNorm")
    answer = upload(client, torch_onnx_bytes(net, extra=[bn]))
    assert answer.status_code == 422
    assert "unsupported operator 'BatchNormalization' (node '/10/BatchNorm')" in answer.json()["detail"]


def test_unsupported_tensors_are_refused_by_name(client):
    net = build_sequential((1, 28, 28), SMALL, seed=0)
    tensors = torch_state_dict(net)
    tensors["1.running_mean"] = np.zeros(4, dtype=np.float32)  # a BatchNorm2d's buffer
    answer = upload(client, safetensors_bytes(tensors))
    assert answer.status_code == 422 and "unsupported tensor '1.running_mean'" in answer.json()["detail"]
    lstm = {"0.weight_ih_l0": np.zeros((8, 4), dtype=np.float32)}
    answer = upload(client, safetensors_bytes(lstm))
    assert answer.status_code == 422 and "'0.weight_ih_l0'" in answer.json()["detail"]


def hostile_safetensors() -> dict[str, bytes]:
    good = safetensors_bytes({"0.weight": np.ones((2, 3), dtype=np.float32)})
    header = json.dumps({"0.weight": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}}).encode()

    def with_header(h: dict, body: bytes = b"\0" * 24) -> bytes:
        text = json.dumps(h).encode()
        return struct.pack("<Q", len(text)) + text + body

    return {
        "header length past the file": struct.pack("<Q", 2**62) + b"{}",
        "header length past the cap": struct.pack("<Q", 10**9) + header + b"\0" * 24,
        "header not JSON": struct.pack("<Q", 5) + b"{oops" + b"\0" * 24,
        "header a list": with_header([]),  # type: ignore[arg-type]
        "offsets past the buffer": with_header({"0.weight": {"dtype": "F32", "shape": [2, 3],
                                                             "data_offsets": [0, 2**40]}}),
        "size not the shape's": with_header({"0.weight": {"dtype": "F32", "shape": [10**6, 10**6],
                                                          "data_offsets": [0, 24]}}),
        "overlapping tensors": with_header({"0.weight": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]},
                                            "0.bias": {"dtype": "F32", "shape": [2], "data_offsets": [8, 16]}}),
        "object dtype": with_header({"0.weight": {"dtype": "O", "shape": [3], "data_offsets": [0, 24]}}),
        "negative shape": with_header({"0.weight": {"dtype": "F32", "shape": [-2, 3], "data_offsets": [0, 24]}}),
        "NaN weights": safetensors_bytes({"0.weight": np.full((2, 3), np.nan, dtype=np.float32)}),
        "truncated": good[:-5],
    }


@pytest.mark.parametrize("case", list(hostile_safetensors()))
def test_hostile_safetensors_are_refused(client, case):
    answer = upload(client, hostile_safetensors()[case], format="safetensors")
    assert answer.status_code == 422, (case, answer.text)
    assert answer.json()["detail"]


def test_hostile_onnx_and_other_files_are_refused(client, tmp_path):
    weight = numpy_helper.from_array(np.ones((4, 2), dtype=np.float32), "w")
    weight.ClearField("raw_data")
    weight.data_location = TensorProto.EXTERNAL
    entry = weight.external_data.add()
    entry.key, entry.value = "location", "/etc/passwd"
    graph = helper.make_graph([helper.make_node("Gemm", ["input", "w"], ["y"])], "g",
                              [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["n", 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [weight])
    external = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()
    answer = upload(client, external)
    assert answer.status_code == 422 and "stored outside the file" in answer.json()["detail"]
    for junk in (b"\x08\xff\xff\xff\xff\xff", b"hello there", b""):
        answer = upload(client, junk)
        assert answer.status_code == 422, junk
    buf = tmp_path / "pickle.npz"
    np.savez(buf, __meta__=np.array([{"evil": 1}], dtype=object))
    answer = upload(client, buf.read_bytes())
    assert answer.status_code == 422 and "it holds Python objects" in answer.json()["detail"]


def test_oversized_files_are_refused_before_parsing(client):
    small = make_client(max_upload_bytes=4096)
    with small:
        big = safetensors_bytes(torch_state_dict(build_sequential((1, 28, 28), SMALL, seed=0)))
        answer = upload(small, big)
        assert answer.status_code == 413 and "GLASSBOX_MAX_UPLOAD_BYTES" in answer.json()["detail"]

        def chunks():  # no Content-Length: the server stops reading at the limit
            yield b"\0" * 4000
            yield b"\0" * 4000

        answer = small.post("/api/networks/import", content=chunks(),
                            headers={"content-type": "application/octet-stream"})
        assert answer.status_code == 413
    few = make_client(max_parameters=1000)
    with few:
        answer = upload(few, safetensors_bytes(torch_state_dict(LeNet5().net)))
        assert answer.status_code == 413 and "more than 1,000 parameters" in answer.json()["detail"]


def test_export_refuses_what_onnx_cannot_say(client):
    spec = {"input_shape": [2], "layers": [{"type": "dense", "units": 2, "activation": "step"},
                                          {"type": "dense", "units": 1}]}
    made = client.post("/api/networks", json={"spec": spec}).json()
    answer = client.get(f"/api/networks/{made['id']}/export", params={"format": "onnx"})
    assert answer.status_code == 422 and "step" in answer.json()["detail"]
    assert client.get(f"/api/networks/{made['id']}/export", params={"format": "pickle"}).status_code == 422
    assert client.get("/api/networks/nope/export", params={"format": "onnx"}).status_code == 404


def test_engine_import_without_the_api():
    net = build_sequential((1, 28, 28), SMALL, seed=2)
    trainer = import_network(write_safetensors(torch_state_dict(net)), hints={"activation": "tanh",
                                                                                "pooling": "avg"})
    x = np.random.default_rng(0).random((2, 1, 28, 28)).astype(np.float32)
    np.testing.assert_allclose(trainer.net.forward(x), net.forward(x), atol=1e-6)
    with pytest.raises(EngineError, match="cannot tell which 4 layer"):
        tensors = torch_state_dict(net)
        import_network(write_safetensors({"0.weight": tensors["0.weight"], "5.weight": tensors["3.weight"]}))


def test_cli_import_and_export(live_server, tmp_path):
    path = tmp_path / "lenet.safetensors"
    path.write_bytes(safetensors_bytes(torch_state_dict(LeNet5.load().net)))
    env_cmd = [sys.executable, "-m", "app"]
    made = subprocess.run([*env_cmd, "import", str(path), "--url", live_server], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)
    assert made.returncode == 0, made.stderr
    sid = made.stdout.strip()
    assert f"/lenet?session={sid}" in made.stderr and "61,706 parameters" in made.stderr
    out = tmp_path / "copy.onnx"
    exported = subprocess.run([*env_cmd, "export", sid, "--format", "onnx", "--out", str(out), "--url", live_server],
                              capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert exported.returncode == 0, exported.stderr
    x = np.random.default_rng(3).random((2, 1, 28, 28)).astype(np.float32)
    got = ort.InferenceSession(out.read_bytes(), providers=["CPUExecutionProvider"]).run(None, {"input": x})[0]
    np.testing.assert_allclose(got, LeNet5.load().logits(x), atol=1e-5)
    bad = subprocess.run([*env_cmd, "export", "nope", "--url", live_server], capture_output=True, text=True,
                         cwd=ROOT, timeout=60)
    assert bad.returncode == 1 and "no network session 'nope'" in bad.stderr
