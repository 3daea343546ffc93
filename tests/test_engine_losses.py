"""Loss values from the logits: exact at saturated outputs, checked against closed forms in float64, through every
path that reports a loss (backward, a step on given points, a step on the session's data, evaluation, the
training-objective gradients), and targets that are not distributions refused with a 422."""

import math

import numpy as np
import pytest

from engine.core.errors import EngineError
from engine.core.gradcheck import check_network
from engine.core.losses import get_loss
from engine.dense.trainer import Trainer, dataset_from_config


def logit_network(loss: str, output: str, weight: list[list[float]]) -> dict:
    """One dense layer with the given weights and no bias, then the output activation: the logits are x @ W."""
    return {"input_shape": [len(weight)], "dtype": "float64", "loss": loss, "batch_size": 1,
            "optimizer": {"type": "sgd", "learning_rate": 1e-20},
            "layers": [{"type": "dense", "units": len(weight[0]), "bias": False, "init": "values", "weight": weight},
                       {"type": output}]}


def every_reported_loss(trainer: Trainer, x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """The loss as each path computes it, on one batch."""
    data = dataset_from_config({"X": x.tolist(), "y": y.tolist(), "X_test": x.tolist(), "y_test": y.tolist(),
                                "task": "regression"})
    trainer.set_data(data)
    out = {"backward": trainer.backward(x, y), "evaluate": trainer.evaluate(x, y)["loss"],
           "training_gradients": trainer.training_gradients()[0]}
    out["step_on_points"] = trainer.step(x, y).loss
    out["step_on_data"] = trainer.step().loss
    return out


@pytest.mark.parametrize("logit, target, exact", [
    (50.0, 0.0, 50.0),  # log(1 + e⁵⁰) = 50 + 2e-22
    (30.0, 0.0, 30.0 + math.log1p(math.exp(-30.0))),
    (-50.0, 1.0, 50.0),
    (50.0, 0.25, 0.75 * 50.0),  # softplus(z) − y·z
    (0.5, 1.0, math.log1p(math.exp(-0.5))),
])
def test_sigmoid_binary_cross_entropy_is_the_softplus_form_at_any_logit(logit, target, exact):
    trainer = Trainer(logit_network("bce", "sigmoid", [[1.0]]))
    x, y = np.array([[logit]]), np.array([target])
    for path, value in every_reported_loss(trainer, x, y).items():
        assert value == pytest.approx(exact, rel=0, abs=1e-9), path


def test_softmax_cross_entropy_is_the_log_softmax_form_at_any_logit():
    identity = np.eye(3).tolist()
    x = np.array([[500.0, 0.0, -500.0]])
    for loss, output in (("cross_entropy", "softmax"), ("softmax_cross_entropy", "linear")):
        trainer = Trainer(logit_network(loss, output, identity))
        for label, exact in ((2, 1000.0), (1, 500.0), (0, 0.0)):
            for path, value in every_reported_loss(trainer, x, np.array([label])).items():
                assert value == pytest.approx(exact, rel=0, abs=1e-9), (loss, label, path)
    # A probability row as the target: −Σ y log_softmax(z) = 0.5·0 + 0.5·1000.
    trainer = Trainer(logit_network("cross_entropy", "softmax", identity))
    assert trainer.backward(x, np.array([[0.5, 0.0, 0.5]])) == pytest.approx(500.0, abs=1e-9)


def test_the_gradient_at_a_saturated_logit_stays_the_fused_one():
    trainer = Trainer(logit_network("bce", "sigmoid", [[1.0]]))
    trainer.backward(np.array([[50.0]]), np.array([0.0]))
    # dL/dz = σ(50) − 0 = 1 (to 2e-22), so dL/dw = x · 1 = 50.
    assert trainer.net.trace[-1].grad_input[0, 0] == pytest.approx(1.0, abs=1e-15)
    assert trainer.net.layers[0].grads["weight"][0, 0] == pytest.approx(50.0, abs=1e-12)
    trainer = Trainer(logit_network("cross_entropy", "softmax", np.eye(3).tolist()))
    trainer.backward(np.array([[500.0, 0.0, -500.0]]), np.array([2]))
    np.testing.assert_allclose(trainer.net.trace[-1].grad_input, [[1.0, 0.0, -1.0]], atol=1e-15)


@pytest.mark.parametrize("loss, output", [("bce", "sigmoid"), ("cross_entropy", "softmax")])
def test_gradients_match_central_differences_of_the_reported_loss(loss, output):
    spec = {"input_shape": [2], "dtype": "float64", "loss": loss, "seed": 4,
            "layers": [{"type": "dense", "units": 3, "activation": "tanh"},
                       {"type": "dense", "units": 1 if loss == "bce" else 3, "activation": output}]}
    trainer = Trainer(spec)
    x = np.array([[0.5, -1.0], [2.0, 0.3]])
    y = np.array([1.0, 0.0]) if loss == "bce" else np.array([2, 0])
    errors = check_network(trainer.net, trainer.loss, x, trainer.targets(y))
    assert max(errors.values()) < 1e-6, errors


def test_logit_forms_equal_the_probability_forms_where_both_are_exact():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(5, 4))
    labels = rng.integers(0, 4, size=5)
    ce = get_loss("cross_entropy")
    target = ce.prepare_target(labels, z.shape, np.dtype(np.float64))
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(ce.per_example_from_logits(z, target), ce.per_example(p, target), rtol=1e-12)
    bce = get_loss("bce")
    y, logit = rng.uniform(size=(5, 1)), z[:, :1]
    np.testing.assert_allclose(bce.per_example_from_logits(logit, y), bce.per_example(1 / (1 + np.exp(-logit)), y),
                               rtol=1e-12)
    with pytest.raises(EngineError, match="no logit form"):
        get_loss("mse").per_example_from_logits(z, z)


@pytest.mark.parametrize("loss", ["cross_entropy", "softmax_cross_entropy"])
@pytest.mark.parametrize("rows, why", [
    ([[1, 1, 0]], "row 0 sums to 2"),
    ([[0, 0, 1], [0.2, 0.2, 0.2]], "row 1 sums to 0.6"),
    ([[-0.5, 1.5, 0]], "row 0 has a negative entry"),
])
def test_targets_that_are_not_distributions_are_refused(loss, rows, why):
    with pytest.raises(EngineError, match=why):
        get_loss(loss).prepare_target(np.array(rows, dtype=np.float64), (len(rows), 3), np.dtype(np.float64))


@pytest.mark.parametrize("loss, output", [("cross_entropy", "softmax"), ("softmax_cross_entropy", "linear")])
def test_the_api_refuses_targets_that_are_not_distributions(client, loss, output):
    spec = logit_network(loss, output, np.eye(3).tolist())
    sid = client.post("/api/networks", json={"spec": spec}).json()["id"]
    for route in ("backward", "step"):
        for rows, why in (([[1, 1, 0]], "row 0 sums to 2"), ([[-1, 2, 0]], "row 0 has a negative entry")):
            r = client.post(f"/api/networks/{sid}/{route}", json={"inputs": [[1, 2, 3]], "targets": rows})
            assert r.status_code == 422, r.text
            detail = r.json()["detail"]
            assert "rows of probabilities" in detail and why in detail, detail
        ok = client.post(f"/api/networks/{sid}/{route}", json={"inputs": [[1, 2, 3]], "targets": [[0, 0.5, 0.5]]})
        assert ok.status_code == 200, ok.text


def test_the_api_reports_the_exact_loss_at_saturated_logits(client):
    sigmoid = client.post("/api/networks", json={"spec": logit_network("bce", "sigmoid", [[1.0]])}).json()["id"]
    r = client.post(f"/api/networks/{sigmoid}/backward", json={"inputs": [[50.0]], "targets": [0.0]})
    assert r.json()["loss"] == pytest.approx(50.0, abs=1e-9)
    softmax = client.post("/api/networks", json={"spec": logit_network("cross_entropy", "softmax",
                                                                       np.eye(3).tolist())}).json()["id"]
    r = client.post(f"/api/networks/{softmax}/step", json={"inputs": [[500.0, 0.0, -500.0]], "targets": [2]})
    assert r.json()["loss"] == pytest.approx(1000.0, abs=1e-9)
