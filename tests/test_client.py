"""The Python client (glassbox.Client) against a live server: every route family, NumPy in and out, 4xx as
GlassboxError with the API's message, and Client.local()'s server in a thread."""

from __future__ import annotations

import numpy as np
import pytest

from engine.cnn.conv import Conv2D
from engine.lenet.model import LeNet5
from glassbox import Client, GlassboxError, LeNetSession, Network, Record
from glassbox.client import decode


@pytest.fixture(scope="module")
def gb(live_server) -> Client:
    with Client(live_server) as client:
        yield client


def test_local_server_in_a_thread():
    with Client.local(max_steps_per_request=5) as gb:
        assert gb.url.startswith("http://127.0.0.1:") and gb.server is not None
        assert gb.health().status == "ok"
        net = gb.networks.create(preset="worked-example")
        with pytest.raises(GlassboxError) as err:  # the setting reached the server
            net.train(steps=6)
        assert err.value.status == 413 and "GLASSBOX_MAX_STEPS_PER_REQUEST" in err.value.detail
        thread = gb.server.thread
    assert not thread.is_alive()


def test_records_and_arrays():
    out = decode({"a": {"dtype": "float32", "shape": [2], "data": "AACAPwAAAEA="}, "b": [{"c": 1}]})
    assert isinstance(out, Record) and out.b[0].c == 1
    np.testing.assert_array_equal(out.a, np.array([1, 2], dtype=np.float32))
    out.a[0] = 5  # a writable copy
    with pytest.raises(AttributeError):
        _ = out.missing


def test_networks_forward_backward_walk(gb: Client):
    net = gb.networks.create(preset="worked-example")
    assert isinstance(net, Network) and net.id in repr(net)
    fwd = net.forward(np.array([[2.0, 3.0]]))
    assert isinstance(fwd.output, np.ndarray)
    np.testing.assert_allclose(fwd.output, [[0.191]], atol=5e-4)  # the worked example's output
    assert [layer.type for layer in fwd.layers] == [layer["type"] for layer in net.last.layers]
    back = net.backward([[2, 3]], [[1]])
    assert set(back.grads) == set(net.params()) and all(isinstance(g, np.ndarray) for g in back.grads.values())
    stages = []
    while True:
        walk = net.walk(granularity="neuron")
        stages.append(walk.current["kind"])
        if walk.current["phase"] == "update":
            break
    assert stages[0] == "forward_neuron" and "loss" in stages and stages[-1] == "update"
    assert net.walk_state().current["kind"] == "update"
    assert net.walk_reset().current is None
    before = net.params()["0.weight"].copy()
    net.set_param(0, "weight", [0, 0], 0.5)
    assert net.params()["0.weight"][0, 0] == 0.5 and before[0, 0] != 0.5
    changed = net.change(activation="sigmoid", output_activation="sigmoid")
    assert [layer["type"] for layer in changed.spec["layers"]] == ["dense", "sigmoid", "dense", "sigmoid"]
    assert net.step([[2, 3]], [[1]]).step == changed.step + 1
    net.reset()
    net.delete()
    with pytest.raises(GlassboxError) as err:
        net.state()
    assert err.value.status == 404


def test_errors_carry_the_api_message(gb: Client):
    net = gb.networks.create(preset="worked-example")
    with pytest.raises(GlassboxError) as err:
        net.forward([[1, 2, 3]])
    assert err.value.status == 422 and "this network takes (batch, 2)" in err.value.detail
    with pytest.raises(GlassboxError) as err:
        net.train(steps=10**9)
    assert err.value.status == 413 and "GLASSBOX_MAX_STEPS_PER_REQUEST" in err.value.detail
    with pytest.raises(GlassboxError) as err:
        gb.networks.create()
    assert err.value.status == 422 and "preset" in err.value.detail


def test_playground_and_data(gb: Client):
    catalog = gb.playground.catalog()
    assert "spiral" in [d["name"] for d in catalog.datasets]
    pg = gb.playground.create(dataset="circle", hidden=[4], learning_rate=0.1)
    assert pg.playground_state().config["dataset"] == "circle"
    trained = pg.train(epochs=6, every=2)  # three requests, one history
    assert len(trained.history) == 6 and trained.epoch == 6
    frame = pg.frame()
    assert frame.step == pg.state().step and frame.weights and isinstance(frame.weights[0], np.ndarray)
    data = pg.data()
    assert isinstance(data.train["x"], np.ndarray) and data.train["x"].shape[1] == 2
    pg.add_point([0.5, 0.5], 1)
    pg.configure(learning_rate=0.03)
    assert pg.rebuild(dataset="xor", hidden=[3]).config["dataset"] == "xor"
    assert isinstance(gb.playground.gallery("ua-circle-3").output, np.ndarray)


def test_export_formats_round_trip(gb: Client, tmp_path):
    net = gb.networks.create(spec={"input_shape": [3], "layers": [{"type": "dense", "units": 4, "activation": "tanh"},
                                                                  {"type": "dense", "units": 2}]})
    x = np.random.default_rng(0).normal(size=(5, 3))
    want = net.forward(x).output
    for fmt in ("json", "npz", "onnx", "safetensors"):
        path = net.save(tmp_path / f"net.{fmt}")
        copy = gb.networks.load(path)
        np.testing.assert_allclose(copy.forward(x).output, want, rtol=0, atol=1e-6)
    assert isinstance(net.export("json"), dict) and isinstance(net.export("onnx"), bytes)


def test_convolution_and_neuron(gb: Client):
    image = np.array([[1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 0], [0, 1, 1, 0, 0]])
    kernel = np.array([[1, 0, 1], [0, 1, 0], [1, 0, 1]])
    out = gb.conv.apply(image, kernel)
    np.testing.assert_array_equal(out.output, [[4, 3, 4], [2, 4, 3], [2, 3, 4]])
    layer = Conv2D(1, 1, 3, weight_values=kernel[None, None], bias_values=[0])
    np.testing.assert_array_equal(out.output, layer.forward(image[None, None].astype(np.float32))[0, 0])
    assert gb.conv.window(image, kernel, 0, 1).output == 3
    assert gb.conv.output_size(28, 5, 1, 2).value == 28
    assert gb.conv.kernels() and gb.conv.samples() and gb.conv.limits().max_kernel_size >= 3
    assert isinstance(gb.conv.sample(gb.conv.samples()[0]["name"]).image, np.ndarray)
    assert gb.conv.parameters(height=28, width=28, channels=1, units=10, filters=6, kernel=5).conv.total == 156
    assert gb.conv.examples().classic.kernel == kernel.tolist()
    assert "relu" in [a["name"] for a in gb.neuron.activations().activations]
    np.testing.assert_allclose(gb.neuron.activation("relu", [-1.0, 2.0]).value, [0, 2])
    assert gb.neuron.forward([1, 2], [0.5, -0.25], 0.1, "linear").z == pytest.approx(0.1)
    assert gb.neuron.loss("mse", 1.0, [0.5]).value == pytest.approx([0.125])  # ½ (y − ŷ)²
    assert gb.neuron.plane([1, -1], resolution=8).output.shape == (8, 8)


def test_lenet(gb: Client):
    sample = gb.lenet.samples(digit=3, n=1, seed=0).samples[0]
    assert sample.image.shape == (28, 28)
    read = gb.lenet.predict(sample.image, preprocess=False)
    shipped = LeNet5.load()
    digits, probabilities = shipped.classify(sample.image[None])
    assert read.digit == int(digits[0]) == 3
    np.testing.assert_allclose(read.probabilities, probabilities[0], atol=1e-6)
    assert read.layers["conv1"].shape == (6, 28, 28)
    unit = gb.lenet.unit(read.input, "fc1", 5)
    assert unit.kind == "dense" and unit.value == pytest.approx(float(read.layers["fc1"][5]), abs=1e-5)
    assert gb.lenet.filters().conv1.weight.shape == (6, 1, 5, 5)
    assert gb.lenet.model().layers[1] == {"name": "conv1", "kind": "conv", "shape": [6, 28, 28],
                                          "caption": "5×5 conv · relu"}
    session = gb.lenet.create(seed=1)
    assert isinstance(session, LeNetSession)
    trained = session.train(steps=2)
    assert trained.step == 2
    assert session.predict(sample.image, preprocess=False).model.source == "session"
    assert session.filters().model.session == session.id
    assert gb.lenet.get(session.id).state().step == 2
    assert 0 <= session.mistakes().accuracy <= 1
    session.delete()


def test_transformers(gb: Client):
    assert "reverse" in [p["name"] for p in gb.transformers.presets()]
    tr = gb.transformers.create("reverse")
    assert tr.train(steps=3).step == 3
    result = tr.forward("3141")
    assert result.typed == ["3", "1", "4", "1"] and len(result.output) == 4
    weights = result.attention[0].weights
    assert isinstance(weights, np.ndarray) and weights.ndim == 3  # heads × queries × keys
    np.testing.assert_allclose(weights.sum(axis=-1), 1, atol=1e-5)
    assert gb.transformers.get(tr.id).state().id == tr.id
    tr.reset()
    tr.delete()


def test_autoencoders(gb: Client):
    ae = gb.autoencoders.create()
    digits = gb.autoencoders.digits()
    assert digits.images.shape == (2000, 28, 28) and digits.images.dtype == np.uint8
    coded = ae.encode(digits.images[:3] / 255.0)
    assert coded.points.shape == (3, 2) and coded.reconstructions.shape == (3, 28, 28)
    decoded = ae.decode(coded.points)
    np.testing.assert_allclose(decoded.images, coded.reconstructions, atol=1e-6)
    assert ae.map().points.shape == (2000, 2)
    assert gb.autoencoders.pca().components.shape == (2, 28, 28)
    assert gb.autoencoders.pca_decode([[0, 0]]).images.shape == (1, 28, 28)
    scratch = gb.autoencoders.create(pretrained=False, hidden=[16], seed=2)
    assert scratch.train(steps=2).step == 2
    assert gb.autoencoders.get(scratch.id).state().step == 2
    scratch.delete()
    ae.delete()


def test_page_urls_attach_to_the_session(gb: Client):
    net = gb.networks.create(preset="worked-example")
    assert gb.page_url(net) == f"{gb.url}/playground?session={net.id}"
    assert gb.page_url(net, "walk") == f"{gb.url}/backprop?network={net.id}"
    assert gb.page_url(gb.lenet.create()).startswith(f"{gb.url}/lenet?session=")
    assert "/attention?session=" in gb.page_url(gb.transformers.create())


def test_reinforcement_learning(gb: Client):
    assert "classic" in [p["name"] for p in gb.rl.grid_presets()]
    grid = gb.rl.gridworld(seed=3)
    assert "update" in grid.step()
    assert len(grid.train(5).records) == 5
    table = grid.q()
    assert isinstance(table.q, np.ndarray) and table.q.shape[-1] == len(table.actions) == 4
    assert grid.configure(epsilon=0.05).id == grid.id
    assert gb.rl.get_gridworld(grid.id).state().id == grid.id
    grid.reset()
    grid.delete()
    agent = gb.rl.agent(pretrained=True)
    played = agent.play(episodes=5, seed=1)
    assert len(played.episodes) == 5 and played.caught >= 4  # the shipped agent catches nearly every fruit
    assert gb.rl.get_agent(agent.id).state().id == agent.id
    agent.delete()
    with pytest.raises(GlassboxError) as err:
        gb.rl.gridworld(preset="nowhere")
    assert err.value.status == 422 and "nowhere" in err.value.detail


def test_character_model_and_lessons(gb: Client):
    nxt = gb.charlm.predict("To be, or not to b", top_k=5)
    assert nxt.top[0]["char"] == "e"
    assert sum(1 for entry in nxt.top if entry["probability"] > 0) == 5  # top_k keeps five, renormalised
    maps = gb.charlm.attention("Good night")
    info = gb.charlm.info()
    assert isinstance(maps.weights, np.ndarray) and maps.weights.shape == (info.layers, info.heads, 10, 10)
    np.testing.assert_allclose(maps.weights.sum(axis=-1), 1, atol=1e-5)
    assert gb.charlm.generate("ROMEO.", 20, seed=1).text == gb.charlm.generate("ROMEO.", 20, seed=1).text
    lessons = gb.lessons.list().lessons
    assert lessons and gb.lessons.get(lessons[0]["number"]).title == lessons[0]["title"]
    surface = gb.lessons.loss_surface()
    assert isinstance(surface.loss, np.ndarray) and surface.loss.ndim == 2
