"""Engine: the single neuron's helpers (engine/neuron.py) and the per-output losses they plot."""

import numpy as np
import pytest

from engine.core.errors import EngineError
from engine.core.losses import get_loss
from engine.dense import neuron


@pytest.mark.parametrize("name", ["mse", "bce"])
def test_per_output_loss_agrees_with_the_batch_loss(name):
    rng = np.random.default_rng(3)
    out = rng.uniform(0.05, 0.95, size=(6, 2))
    target = rng.integers(0, 2, size=(6, 2)).astype(np.float64)
    loss = get_loss(name)
    np.testing.assert_allclose(loss.point_value(out, target).sum(axis=1), loss.per_example(out, target))
    np.testing.assert_allclose(loss.point_grad(out, target) / out.shape[0], loss.grad(out, target))


def test_coupled_losses_have_no_per_output_value():
    with pytest.raises(EngineError, match="couples its outputs"):
        get_loss("softmax_cross_entropy").point_value(np.ones((1, 2)), np.ones((1, 2)))


def test_softmax_share_is_a_sigmoid_of_the_difference_for_two_neurons():
    z = np.linspace(-5, 5, 11)
    share, slope = neuron.activate(z, "softmax", [1.5])
    expected = 1 / (1 + np.exp(-(z - 1.5)))
    np.testing.assert_allclose(share, expected, rtol=1e-12)
    np.testing.assert_allclose(slope, expected * (1 - expected), rtol=1e-12)


def test_forward_is_the_dense_layer_then_the_activation():
    result = neuron.forward([2.0, 3.0], [0.11, 0.21], 0.0, "linear")
    assert result.z == pytest.approx(2 * 0.11 + 3 * 0.21)  # h₁ of the worked example: 0.85
    np.testing.assert_allclose(result.terms, [0.22, 0.63])
    assert result.output == result.z and result.derivative == 1.0


@pytest.mark.parametrize("weights, bias, expected", [
    ([1.0, -1.0], 0.0, [[-3, -3], [3, 3]]),  # the diagonal: through two corners, each found twice
    ([1.0, 1.0], -6.0, None),  # touches the corner (3, 3) only
    ([0.0, 1.0], -1.0, [[-3, 1], [3, 1]]),  # horizontal
    ([1.0, 0.0], 3.5, None),  # left of the square
])
def test_decision_segment(weights, bias, expected):
    segment = neuron.decision_segment(np.array(weights), bias, 3.0)
    if expected is None:
        assert segment is None
    else:
        np.testing.assert_allclose(sorted(segment.tolist()), expected, atol=1e-12)


def test_line_through_keeps_the_positive_side():
    w = np.array([-2.0, 0.0])  # fires on the left
    new_w, b = neuron.line_through(np.array([1.0, -1.0]), np.array([1.0, 2.0]), w)
    np.testing.assert_allclose(new_w, [-2.0, 0.0])
    assert b == pytest.approx(2.0)
    with pytest.raises(EngineError, match="the same"):
        neuron.line_through(np.array([1.0, 1.0]), np.array([1.0, 1.0]), w)
