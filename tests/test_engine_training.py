"""The worked example, optimisers, data sets, trainer behaviour and serialization."""

import json

import numpy as np
import pytest

from engine.core import serialize
from engine.core.errors import EngineError
from engine.core.layers import Dense
from engine.core.optim import make_optimizer
from engine.dense.datasets import DATASETS, grid, make_dataset
from engine.dense.features import apply_features
from engine.dense.presets import get_preset
from engine.dense.trainer import DivergedError, Trainer, dataset_from_config

# The tutorial's numbers, computed by hand here (not by the engine).
I1, I2 = 2.0, 3.0
W = {1: 0.11, 2: 0.21, 3: 0.12, 4: 0.08, 5: 0.14, 6: 0.15}
TARGET, ALPHA = 1.0, 0.05
H1 = I1 * W[1] + I2 * W[2]
H2 = I1 * W[3] + I2 * W[4]
PRED = H1 * W[5] + H2 * W[6]
DELTA = PRED - TARGET
HAND_UPDATED = {
    1: W[1] - ALPHA * I1 * DELTA * W[5],
    2: W[2] - ALPHA * I2 * DELTA * W[5],
    3: W[3] - ALPHA * I1 * DELTA * W[6],
    4: W[4] - ALPHA * I2 * DELTA * W[6],
    5: W[5] - ALPHA * H1 * DELTA,
    6: W[6] - ALPHA * H2 * DELTA,
}


def worked_trainer() -> Trainer:
    preset = get_preset("worked-example")
    return Trainer(preset["spec"], dataset_from_config(preset["data"]))


def weights_by_number(trainer: Trainer) -> dict[int, float]:
    w1 = trainer.net.layers[0].params["weight"]
    w2 = trainer.net.layers[1].params["weight"]
    return {1: w1[0, 0], 2: w1[1, 0], 3: w1[0, 1], 4: w1[1, 1], 5: w2[0, 0], 6: w2[1, 0]}


def test_worked_example_forward_matches_the_tutorial():
    t = worked_trainer()
    out = t.forward(np.array([[2.0, 3.0]]))
    assert t.net.dtype == np.float64
    np.testing.assert_allclose(t.net.trace[0].output, [[0.85, 0.48]], atol=1e-15)
    assert out[0, 0] == pytest.approx(0.191, abs=1e-15)
    assert round(H1, 2) == 0.85 and round(H2, 2) == 0.48 and round(PRED, 3) == 0.191
    error = t.backward(np.array([[2.0, 3.0]]), np.array([1.0]))
    assert round(error, 3) == 0.327
    assert error == pytest.approx(0.5 * DELTA**2, abs=1e-15)
    assert DELTA == pytest.approx(-0.809)
    g1 = t.net.layers[0].grads["weight"]
    g2 = t.net.layers[1].grads["weight"]
    assert g2[0, 0] == pytest.approx(H1 * DELTA, abs=1e-15)  # ∂E/∂w5 = h1 Δ
    assert g2[1, 0] == pytest.approx(H2 * DELTA, abs=1e-15)  # ∂E/∂w6 = h2 Δ
    assert g1[0, 0] == pytest.approx(I1 * DELTA * W[5], abs=1e-15)  # ∂E/∂w1 = i1 Δ w5


def test_worked_example_one_sgd_step_updates_all_six_weights():
    t = worked_trainer()
    t.step()
    got = weights_by_number(t)
    for k, expected in HAND_UPDATED.items():
        assert got[k] == pytest.approx(expected, abs=1e-15), f"w{k}"
    # The tutorial's printed (5-decimal) values.
    tutorial = [0.12133, 0.22699, 0.13213, 0.09820, 0.17438, 0.16941]
    assert [got[k] for k in range(1, 7)] == pytest.approx(tutorial, abs=1e-5)


def test_worked_example_matrix_form_agrees_over_several_points():
    """W² ← W² − α hᵀΔ / N and W¹ ← W¹ − α iᵀ(Δ W²ᵀ) / N equal the engine's per-weight step."""
    inputs = np.array([[2.0, 3.0], [1.0, -1.0], [0.5, 2.0]])
    targets = np.array([[1.0], [0.0], [0.5]])
    w1 = np.array([[W[1], W[3]], [W[2], W[4]]])
    w2 = np.array([[W[5]], [W[6]]])
    h = inputs @ w1
    delta = h @ w2 - targets  # a vector over the data points
    n = len(inputs)
    new_w2 = w2 - ALPHA * h.T @ delta / n
    new_w1 = w1 - ALPHA * inputs.T @ (delta @ w2.T) / n
    t = worked_trainer()
    t.step(inputs, targets[:, 0])
    np.testing.assert_allclose(t.net.layers[0].params["weight"], new_w1, atol=1e-15)
    np.testing.assert_allclose(t.net.layers[1].params["weight"], new_w2, atol=1e-15)
    # And one point at a time, per weight, as in the tutorial, averaged.
    single = worked_trainer()
    single.step(inputs[:1], targets[:1, 0])
    assert weights_by_number(single)[6] == pytest.approx(HAND_UPDATED[6], abs=1e-15)


def quadratic_layers(p0: np.ndarray):
    class Holder:
        params = {"weight": p0.copy()}
        grads = {"weight": np.zeros_like(p0)}

    return Holder()


@pytest.mark.parametrize("cfg", [{"type": "sgd", "learning_rate": 0.1},
                                 {"type": "momentum", "learning_rate": 0.05, "momentum": 0.9},
                                 {"type": "adam", "learning_rate": 0.1}])
def test_optimisers_minimise_a_quadratic(cfg):
    layer = quadratic_layers(np.array([3.0, -2.0]))
    opt = make_optimizer(cfg)
    for _ in range(300):
        layer.grads["weight"] = 2 * layer.params["weight"]
        opt.step([layer])
    assert np.abs(layer.params["weight"]).max() < 1e-2


def test_sgd_momentum_and_adam_first_steps_by_hand():
    g = np.array([0.5])
    for cfg, expected in [({"type": "sgd", "learning_rate": 0.1}, 1 - 0.1 * 0.5),
                          ({"type": "momentum", "learning_rate": 0.1, "momentum": 0.9}, 1 - 0.1 * 0.5),
                          ({"type": "adam", "learning_rate": 0.1}, 1 - 0.1 * 0.5 / (0.5 + 1e-8))]:
        layer = quadratic_layers(np.array([1.0]))
        layer.grads["weight"] = g.copy()
        make_optimizer(cfg).step([layer])
        assert layer.params["weight"][0] == pytest.approx(expected)
    # Momentum's second step carries the first: v = 0.9·(−0.05) − 0.05.
    layer = quadratic_layers(np.array([1.0]))
    opt = make_optimizer({"type": "momentum", "learning_rate": 0.1, "momentum": 0.9})
    for _ in range(2):
        layer.grads["weight"] = g.copy()
        opt.step([layer])
    assert layer.params["weight"][0] == pytest.approx(1 - 0.05 - (0.9 * 0.05 + 0.05))


def test_regularisation_terms():
    layer = quadratic_layers(np.array([2.0, -3.0]))
    layer.grads["weight"] = np.zeros(2)
    make_optimizer({"type": "sgd", "learning_rate": 0.1, "regularization": "l2", "reg_rate": 0.5}).step([layer])
    np.testing.assert_allclose(layer.params["weight"], [2.0 - 0.1 * 0.5 * 2.0, -3.0 + 0.1 * 0.5 * 3.0])
    layer = quadratic_layers(np.array([2.0, -3.0]))
    layer.grads["weight"] = np.zeros(2)
    make_optimizer({"type": "sgd", "learning_rate": 0.1, "regularization": "l1", "reg_rate": 0.5}).step([layer])
    np.testing.assert_allclose(layer.params["weight"], [2.0 - 0.05, -3.0 + 0.05])


def test_bad_optimizer_settings():
    with pytest.raises(EngineError, match="unknown optimizer"):
        make_optimizer({"type": "rmsprop"})
    with pytest.raises(EngineError, match="learning rate"):
        make_optimizer({"type": "sgd", "learning_rate": -1})
    with pytest.raises(EngineError, match="regularization"):
        make_optimizer({"type": "sgd", "regularization": "l3"})


@pytest.mark.parametrize("name", list(DATASETS))
def test_datasets_shapes_seeds_and_split(name):
    d = make_dataset(name, noise=0.2, train_ratio=0.7, seed=3)
    again = make_dataset(name, noise=0.2, train_ratio=0.7, seed=3)
    other = make_dataset(name, noise=0.2, train_ratio=0.7, seed=4)
    np.testing.assert_array_equal(d.x_train, again.x_train)
    assert not np.array_equal(d.x_train, other.x_train)
    n = len(d.x_train) + len(d.x_test)
    assert n == DATASETS[name][2]
    assert len(d.x_train) == round(n * 0.7)
    assert d.x_train.shape[1] == d.input_dim
    assert np.all(np.isfinite(d.x_train)) and np.all(np.isfinite(d.y_train))
    if d.task == "binary":
        assert set(np.unique(d.y_train)) == {0, 1}
    if d.task == "multiclass":
        assert set(np.unique(d.y_train)) == {0, 1, 2}


def test_circle_labels_follow_the_radius_without_noise():
    d = make_dataset("circle", noise=0.0, seed=1)
    r = np.linalg.norm(d.x_train, axis=1)
    assert np.all((r < 2.5) == (d.y_train == 1))


def test_xor_labels_without_noise():
    d = make_dataset("xor", seed=1)
    np.testing.assert_array_equal(d.y_train, (d.x_train[:, 0] * d.x_train[:, 1] >= 0).astype(int))
    assert np.abs(d.x_train).min() >= 0.3


def test_dataset_errors():
    with pytest.raises(EngineError, match="unknown data set"):
        make_dataset("moons")
    with pytest.raises(EngineError, match="noise"):
        make_dataset("circle", noise=0.9)
    with pytest.raises(EngineError, match="train ratio"):
        make_dataset("circle", train_ratio=1.0)


def test_grid_and_features():
    g = grid(100, 6.0)
    assert g.shape == (10_000, 2)
    assert g[0, 0] == pytest.approx(-5.94) and g[0, 1] == pytest.approx(5.94)
    f = apply_features(np.array([[2.0, 3.0]]), ["x1", "x2", "x1sq", "x2sq", "x1x2", "sinx1", "sinx2"])
    np.testing.assert_allclose(f, [[2, 3, 4, 9, 6, np.sin(2), np.sin(3)]])


def test_playground_default_learns_circle():
    preset = get_preset("playground-default")
    t = Trainer(preset["spec"], dataset_from_config(preset["data"]))
    history = t.train(epochs=150)
    assert history[-1]["epoch"] == 150
    assert history[-1]["test_loss"] < 0.05
    assert history[-1]["test_accuracy"] > 0.97


def test_divergence_keeps_last_finite_parameters():
    spec = {"input_shape": [2], "layers": [{"type": "dense", "units": 1}],
            "optimizer": {"type": "sgd", "learning_rate": 50}}
    t = Trainer(spec, make_dataset("plane", seed=0))
    with pytest.raises(DivergedError, match="parameters were kept"):
        t.train(steps=200)
    assert t.diverged
    assert "parameters were kept" in t.diverged_message
    assert all(np.all(np.isfinite(p)) for _, _, p in t.net.named_params())
    with pytest.raises(DivergedError):
        t.step()
    t.reset()
    assert not t.diverged and t.step_count == 0


def test_serialization_round_trip_is_bit_identical():
    preset = get_preset("playground-default")
    t = Trainer(preset["spec"], dataset_from_config(preset["data"]))
    t.train(epochs=3)
    x = grid(20)
    expected = t.forward(x)
    via_text = json.loads(json.dumps(serialize.export_json(t)))
    for restored in (serialize.import_json(via_text),
                     serialize.import_npz(serialize.export_npz(t))):
        np.testing.assert_array_equal(restored.forward(x), expected)
        assert restored.step_count == t.step_count


def test_import_rejects_bad_documents():
    with pytest.raises(EngineError, match="spec"):
        serialize.import_json({"weights": {}})
    with pytest.raises(EngineError, match="not a .npz"):
        serialize.import_npz(b"hello")
    doc = serialize.export_json(worked_trainer())
    doc["weights"]["0.weight"] = [[1.0, 2.0]]
    with pytest.raises(EngineError, match="shape"):
        serialize.import_json(doc)


def test_momentum_keeps_its_velocity_when_the_learning_rate_changes():
    """What engine/core/optim.py documents: the velocity carries the old rate, only new gradients take the new one."""
    layer = Dense(1, 1, dtype=np.float64)
    layer.params["weight"][...] = 0.0
    layer.params["bias"][...] = 0.0
    layer.grads["weight"] = np.ones((1, 1))
    layer.grads["bias"] = np.zeros(1)
    opt = make_optimizer({"type": "momentum", "learning_rate": 1.0, "momentum": 0.5})
    opt.step([layer])  # v = -1
    opt.learning_rate = 0.1
    opt.step([layer])  # v = 0.5·(-1) - 0.1·1 = -0.6
    assert opt.state[(0, "weight")]["v"][0, 0] == pytest.approx(-0.6)
    assert layer.params["weight"][0, 0] == pytest.approx(-1.6)
