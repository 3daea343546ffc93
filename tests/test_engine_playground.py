"""The Playground's engine side: the trainer's hot path, configurations, neuron maps, point edits, CSV."""

import numpy as np
import pytest

from engine.core import serialize
from engine.core.errors import EngineError, SizeLimitError
from engine.core.training import DivergedError
from engine.dense.datasets import grid, make_dataset
from engine.dense.neuron_maps import COARSE, CURVE_POINTS, FINE, NeuronMaps, quantize
from engine.dense.points import add_point, parse_points_csv, remove_point
from engine.dense.presets import get_preset
from engine.dense.trainer import Trainer, dataset_from_config
from engine.playground import config as pg
from engine.playground.frame import maps_for, playground_frame


def playground(**config) -> Trainer:
    return pg.trainer_from_config(config)


# --- trainer hot path -------------------------------------------------------------------------------------


@pytest.mark.parametrize("config", [{}, {"dataset": "spiral3", "loss": "cross_entropy", "optimizer": "adam"},
                                    {"dataset": "xor", "loss": "cross_entropy", "optimizer": "momentum",
                                     "regularization": "l2", "reg_rate": 0.01}])
def test_fast_step_gives_the_same_numbers_as_the_traced_path(config):
    fast, slow = playground(**config), playground(**config)
    data = slow.data
    for start in range(0, 100, 10):
        fast.step()
        slow.step(data.x_train[start:start + 10], data.y_train[start:start + 10])
    for (_, _, a), (_, _, b) in zip(fast.net.named_params(), slow.net.named_params(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_an_epoch_is_every_training_point_once():
    t = playground(batch_size=7)
    t.train_epoch()
    assert t.epoch == 1 and t.step_count == -(-250 // 7) and t.cursor == 250


@pytest.mark.parametrize("optimizer", ["sgd", "momentum"])
def test_divergence_restores_parameters_and_optimiser_state(optimizer):
    t = Trainer({"input_shape": [2], "layers": [{"type": "dense", "units": 1}],
                 "optimizer": {"type": optimizer, "learning_rate": 90}}, make_dataset("plane", seed=0))
    for _ in range(400):
        before = t.net.get_state()
        try:
            t.step()
        except DivergedError:
            break
    assert t.diverged
    for key, value in t.net.get_state().items():
        np.testing.assert_array_equal(value, before[key])  # exactly the last finite parameters
    for slots in t.optimizer.state.values():
        assert all(np.all(np.isfinite(v)) for v in slots.values())


def test_hyperparameters_change_without_touching_the_weights():
    t = playground()
    t.train_epoch()
    weights = t.net.get_state()
    t.configure(learning_rate=0.3, batch_size=25, regularization="l1", reg_rate=0.001)
    assert t.optimizer.learning_rate == 0.3 and t.spec["optimizer"]["learning_rate"] == 0.3
    assert t.spec["batch_size"] == 25 and t.optimizer.regularization == "l1"
    for key, value in t.net.get_state().items():
        np.testing.assert_array_equal(value, weights[key])
    t.train_epoch()
    assert t.step_count == 25 + 10
    t.configure(optimizer="adam")
    assert t.optimizer.name == "adam" and t.optimizer.learning_rate == 0.3 and t.optimizer.t == 0
    with pytest.raises(EngineError, match="learning rate"):
        t.configure(learning_rate=-1)
    with pytest.raises(EngineError, match="batch_size"):
        t.configure(batch_size=0)
    with pytest.raises(EngineError, match="unknown settings"):
        t.configure(hidden=[3])
    assert t.optimizer.name == "adam"  # a refused change leaves everything as it was


def test_only_a_reset_lets_a_diverged_network_train_on():
    t = playground(dataset="plane", learning_rate=10, hidden=[8, 8], activation="relu")
    with pytest.raises(DivergedError):
        t.train(epochs=20)
    assert t.diverged
    t.configure(learning_rate=0.001)  # the kept parameters lead to the same divergence: still refused
    assert t.diverged
    with pytest.raises(DivergedError, match="Reset"):
        t.train_epoch()
    t.reset()
    assert not t.diverged and t.optimizer.learning_rate == 0.001
    t.train_epoch()
    assert all(np.all(np.isfinite(p)) for _, _, p in t.net.named_params())


def test_training_gradients_are_the_full_batch_gradient_plus_the_penalty():
    t = playground(regularization="l2", reg_rate=0.1)
    value, grads = t.training_gradients()
    x, y = t.data.x_train, t.data.y_train
    assert value == pytest.approx(t.backward(x, y), rel=1e-6)
    w = t.net.layers[0].params["weight"]
    np.testing.assert_allclose(grads["0.weight"], t.net.layers[0].grads["weight"] + 0.1 * w, rtol=1e-5)
    np.testing.assert_allclose(grads["0.bias"], t.net.layers[0].grads["bias"], rtol=1e-5)


def test_three_classes_with_squared_error_learn_one_hot_rows():
    t = playground(dataset="spiral3", loss="mse")
    assert t.net.layers[-1].type == "softmax" and t.loss.name == "mse"
    np.testing.assert_array_equal(t.targets(np.array([0, 2])), [[1, 0, 0], [0, 0, 1]])
    t.train(epochs=2)
    assert t.history[-1]["test_accuracy"] is not None


# --- configurations ---------------------------------------------------------------------------------------


def test_default_config_is_tensorflow_playgrounds():
    spec = pg.spec_from_config({})
    assert spec["features"] == ["x1", "x2"]
    assert [layer["units"] for layer in spec["layers"]] == [4, 2, 1]
    assert all(layer["activation"] == "tanh" and layer["init"] == "uniform" and layer["bias_init"] == 0.1
               for layer in spec["layers"])
    assert spec["loss"] == "mse" and spec["optimizer"]["learning_rate"] == 0.03 and spec["batch_size"] == 10
    t = playground()
    assert len(t.data.x_train) == 250 and len(t.data.x_test) == 250
    assert np.all(np.abs(t.net.layers[0].params["weight"]) < 0.5)
    np.testing.assert_array_equal(t.net.layers[0].params["bias"], np.float32(0.1))


@pytest.mark.parametrize("dataset,loss,out_units,out_act,engine_loss", [
    ("circle", "mse", 1, "tanh", "mse"), ("xor", "cross_entropy", 1, "sigmoid", "bce"),
    ("spiral3", "cross_entropy", 3, "softmax", "cross_entropy"), ("plane", "mse", 1, "linear", "mse"),
    ("sin", "mse", 1, "linear", "mse")])
def test_output_layer_follows_the_data(dataset, loss, out_units, out_act, engine_loss):
    features = ["x1"] if dataset == "sin" else ["x1", "x2"]
    spec = pg.spec_from_config({"dataset": dataset, "loss": loss, "features": features})
    assert (spec["layers"][-1]["units"], spec["layers"][-1]["activation"], spec["loss"]) == (
        out_units, out_act, engine_loss)


@pytest.mark.parametrize("config,message", [
    ({"hidden": [4] * 7}, "at most 6"), ({"hidden": [0]}, "1 to 32"), ({"hidden": [4, 2.5]}, "1 to 32"),
    ({"activation": "softmax"}, "hidden layers use"), ({"dataset": "moons"}, "unknown data set"),
    ({"dataset": "plane", "loss": "cross_entropy"}, "squared error"), ({"batch_size": 31}, "1 to 30"),
    ({"features": ["x1", "x2"], "dataset": "sin"}, "1-D data"), ({"features": []}, "at least one"),
    ({"noise": 0.8}, "noise"), ({"learning_rate": 0}, "learning_rate"), ({"activations": ["relu"]}, "one activation"),
    ({"colour": "red"}, "unknown Playground settings")])
def test_bad_configs_say_what_to_fix(config, message):
    with pytest.raises(EngineError, match=message):
        pg.normalize_config(config)


def test_config_reads_back_from_a_session_and_from_an_import():
    config = pg.normalize_config({"dataset": "spiral", "noise": 0.2, "train_ratio": 0.7, "data_seed": 5,
                                  "features": ["sinx1", "x1", "x2"], "hidden": [6, 3], "activations": ["relu", None],
                                  "loss": "cross_entropy", "optimizer": "momentum", "learning_rate": 0.1,
                                  "batch_size": 20, "regularization": "l2", "reg_rate": 0.003, "seed": 9})
    assert config["features"] == ["x1", "x2", "sinx1"] and config["activations"] == ["relu", "tanh"]
    t = Trainer(pg.spec_from_config(config), dataset_from_config(pg.data_config(config)))

    def same_network(read: dict) -> None:
        # A network does not store the page's global activation, only every layer's.
        assert pg.layer_activations(read) == pg.layer_activations(config) == ["relu", "tanh"]
        skip = {"activation", "activations"}
        assert {k: v for k, v in read.items() if k not in skip} == {k: v for k, v in config.items() if k not in skip}

    same_network(pg.config_from_trainer(t))
    imported = serialize.import_json(serialize.export_json(t))
    imported.set_data(t.data)
    same_network(pg.config_from_trainer(imported))
    uniform = pg.normalize_config({"hidden": [3, 3], "activation": "relu"})
    assert pg.config_from_trainer(Trainer(pg.spec_from_config(uniform))) == uniform


def test_non_playground_networks_are_refused():
    t = Trainer(get_preset("worked-example")["spec"])
    with pytest.raises(EngineError, match="raw inputs"):
        pg.config_from_trainer(t)


def test_gallery_presets_are_registered():
    assert set(pg.GALLERY) == {f"ua-{d}-{n}" for d in ("circle", "spiral") for n in (3, 6, 20)}
    preset = get_preset("ua-spiral-20")
    assert preset["spec"]["layers"][0]["units"] == 20 and preset["data"]["name"] == "spiral"


# --- neuron maps and frames -------------------------------------------------------------------------------


def test_neuron_maps_are_the_networks_own_outputs():
    t = playground(features=["x1", "x2", "x1x2"], hidden=[3, 2])
    t.train(epochs=3)
    maps = NeuronMaps(t.features, 2, t.net.dtype)
    result = maps.evaluate(t.net)
    points = grid(COARSE)
    t.forward(points)
    hidden1 = t.net.trace[1].output  # tanh after the first dense layer
    assert result.coarse[0].shape == (3, COARSE, COARSE)
    np.testing.assert_array_equal(result.coarse[0][1].ravel(), hidden1[:, 1])
    out_fine = t.forward(grid(FINE))
    np.testing.assert_array_equal(result.fine[-1][0].ravel(), out_fine[:, 0])
    assert result.activations == ["tanh", "tanh", "tanh"] and result.ranges[-1] == (-1.0, 1.0)


def test_frame_contents_for_the_plane_and_for_curves():
    t = playground()
    frame = playground_frame(t, maps_for(t), focus=(1, 2))
    assert frame["layout"] == [2, 4, 2, 1] and frame["dense_layers"] == [0, 2, 4]
    assert [n.shape for n in frame["neurons"]] == [(4, 25, 25), (2, 25, 25), (1, 25, 25)]
    assert frame["neurons"][0].dtype == np.uint8 and frame["output"].shape == (1, 100, 100)
    assert frame["focus"]["values"].shape == (100, 100)
    assert frame["weight_grads"][0].shape == (2, 4)
    curve = playground(dataset="xsinx", features=["x1", "x1sq"], hidden=[5])
    frame = playground_frame(curve, maps_for(curve))
    assert frame["kind"] == "curve" and frame["axis"].shape == (CURVE_POINTS,)
    assert frame["neurons"][0].shape == (5, CURVE_POINTS) and frame["output"].shape == (1, CURVE_POINTS)
    expected = curve.forward(np.stack([frame["axis"], np.zeros(CURVE_POINTS)], axis=1).astype(np.float64))
    np.testing.assert_allclose(frame["output"][0], expected[:, 0], atol=1e-6)  # axis sent as float32


def test_quantize_keeps_the_sign_and_clamps():
    values = np.array([-3.0, -1.0, -0.001, 0.001, 1.0, 2.0])
    q = quantize(values, -1.0, 1.0)
    assert q.tolist() == [0, 0, 127, 128, 255, 255]
    assert quantize(np.array([0.499, 0.501]), 0.0, 1.0).tolist() == [127, 128]


# --- points and CSV ---------------------------------------------------------------------------------------


def test_add_and_remove_points():
    d = make_dataset("circle", seed=0)
    more = add_point(d, [1.0, 2.0], -1)
    assert len(more.x_train) == len(d.x_train) + 1 and more.y_train[-1] == 0
    assert more.source["edits"][-1] == {"op": "add", "point": [1.0, 2.0], "label": 0.0, "split": "train"}
    fewer, removed = remove_point(more, [1.05, 2.0], radius=0.2)
    assert removed == {"split": "train", "point": [1.0, 2.0], "label": 0.0}
    assert len(fewer.x_train) == len(d.x_train)
    same, nothing = remove_point(d, [5.9, 5.9], radius=0.01)
    assert nothing is None and same is d
    with pytest.raises(EngineError, match="0 or 1"):
        add_point(d, [0, 0], 2)
    with pytest.raises(EngineError, match="lie in"):
        add_point(d, [7, 0], 1)
    with pytest.raises(EngineError, match="classes are 0 to 2"):
        add_point(make_dataset("spiral3"), [0, 0], 3)
    curve = add_point(make_dataset("sin"), [1.5], 0.7, split="test")
    assert curve.x_test[-1].tolist() == [1.5] and curve.y_test[-1] == 0.7


def test_csv_points_load_with_a_header_and_labels_as_playground_uses_them():
    text = "x1,x2,label\n1,2,1\n-1,-2,-1\n0.5,0.5,0\n3,3,1\n"
    d = parse_points_csv(text, task="binary", input_dim=2, train_ratio=0.5, seed=1)
    assert len(d.x_train) + len(d.x_test) == 4 and d.name == "custom"
    labels = dict(zip(map(tuple, np.concatenate([d.x_train, d.x_test]).tolist()),
                      np.concatenate([d.y_train, d.y_test]).tolist(), strict=True))
    assert labels[(-1.0, -2.0)] == 0 and labels[(1.0, 2.0)] == 1


@pytest.mark.parametrize("text,task,dim,message", [
    ("1,2,1\n1,2\n", "binary", 2, "line 2: expected 3 comma-separated numbers"),
    ("x,y,label\n1,2,one\n", "binary", 2, "line 2: expected 3 numbers"),
    ("1,2,0.5\n", "binary", 2, "line 1: the label is 0.5; two-class data take 0 or 1"),
    ("1,2,1\n2,nan,0\n", "binary", 2, "line 2: numbers must be finite"),
    ("1,9,1\n", "binary", 2, r"line 1: coordinates must lie in"),
    ("1,2,3\n", "multiclass", 2, "classes are 0 to 2"),
    ("1,2\n", "regression", 2, "expected 3"),
    ("0.5,0.2,1\n", "regression", 1, "expected 2 comma-separated numbers \\(x,y\\)"),
    ("x1,x2,label\n1,2,1\n", "binary", 2, "at least 2 points"),
    ("", "binary", 2, "at least 2 points")])
def test_malformed_csv_names_the_line_at_fault(text, task, dim, message):
    with pytest.raises(EngineError, match=message):
        parse_points_csv(text, task=task, input_dim=dim)


def test_csv_size_limit():
    with pytest.raises(SizeLimitError):
        parse_points_csv("1,1,1\n" * 30, task="binary", input_dim=2, max_points=20)


def test_data_fit_check_names_the_rebuild():
    t = playground()
    pg.check_data_fits(t, "binary", 2)
    with pytest.raises(EngineError, match="need 3"):
        pg.check_data_fits(t, "multiclass", 2)
    with pytest.raises(EngineError, match="1-D data"):
        pg.check_data_fits(t, "regression", 1)


def test_a_rebuild_keeps_the_same_or_uploaded_points_of_the_right_kind():
    config = pg.normalize_config({"dataset": "circle", "noise": 0.1})
    edited = add_point(pg.trainer_from_config(config).data, [1.0, 1.0], 1)
    assert pg.reusable_data(edited, {**config, "hidden": [3]}) is edited  # same data fields, edits and all
    assert pg.reusable_data(edited, {**config, "noise": 0.2}) is None
    assert pg.reusable_data(None, config) is None
    uploaded = parse_points_csv("1,1,1\n-1,-1,0\n2,2,1\n", task="binary", input_dim=2)
    assert pg.reusable_data(uploaded, {**config, "dataset": "xor"}) is uploaded
    assert pg.reusable_data(uploaded, pg.normalize_config({"dataset": "plane"})) is None  # regression
    assert pg.reusable_data(uploaded, pg.normalize_config({"dataset": "sin", "features": ["x1"]})) is None  # 1-D
