"""Every layer and loss against numerical gradients; dtype and layout rules."""

import numpy as np
import pytest

from engine.core import activations as act
from engine.core.errors import EngineError
from engine.core.gradcheck import check_layer, check_network
from engine.core.layers import Dense, Linear, ReLU, Sigmoid, Softmax, Tanh
from engine.core.losses import get_loss, loss_and_backward
from engine.core.network import build_sequential

TOL = 1e-6


@pytest.mark.parametrize("seed", range(3))
def test_dense_gradients_random_shapes(seed):
    rng = np.random.default_rng(seed)
    n_in, n_out, batch = rng.integers(1, 7, size=3)
    layer = Dense(int(n_in), int(n_out), rng=rng, dtype=np.float64, bias_init=0.3)
    errors = check_layer(layer, rng.standard_normal((int(batch), int(n_in))))
    assert max(errors.values()) < TOL, errors


@pytest.mark.parametrize("layer_cls", [Linear, ReLU, Tanh, Sigmoid, Softmax])
def test_activation_gradients(layer_cls):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((5, 4))
    x[np.abs(x) < 1e-3] = 0.5  # keep ReLU away from its kink
    errors = check_layer(layer_cls(), x)
    assert errors["input"] < TOL, errors


@pytest.mark.parametrize(
    "loss, last, targets",
    [
        ("mse", "tanh", lambda rng, n, k: rng.uniform(-1, 1, (n, k))),
        ("bce", "sigmoid", lambda rng, n, k: rng.integers(0, 2, (n, k)).astype(float)),
        ("bce", "sigmoid", lambda rng, n, k: rng.uniform(0, 1, (n, k))),
        ("cross_entropy", "softmax", lambda rng, n, k: rng.integers(0, k, n)),
        ("softmax_cross_entropy", "linear", lambda rng, n, k: rng.integers(0, k, n)),
        ("mse", "sigmoid", lambda rng, n, k: rng.uniform(0, 1, (n, k))),
    ],
)
def test_network_and_loss_gradients(loss, last, targets):
    rng = np.random.default_rng(7)
    k = 3
    net = build_sequential(4, [{"type": "dense", "units": 5, "activation": "tanh", "bias_init": 0.1},
                               {"type": "dense", "units": 3, "activation": "relu", "bias_init": 0.2},
                               {"type": "dense", "units": k, "activation": last}], seed=3, dtype="float64")
    x = rng.standard_normal((6, 4))
    errors = check_network(net, get_loss(loss), x, targets(rng, 6, k))
    assert max(errors.values()) < TOL, errors


def test_softmax_is_stable_and_sums_to_one():
    z = np.array([[1000.0, 1001.0, 999.0], [-1000.0, -1000.0, -1000.0]])
    s = act.softmax(z)
    assert np.all(np.isfinite(s))
    np.testing.assert_allclose(s.sum(axis=1), 1.0)
    np.testing.assert_allclose(s[1], 1 / 3)


def test_sigmoid_is_stable_at_extremes():
    z = np.array([-1000.0, 0.0, 1000.0])
    np.testing.assert_array_equal(act.sigmoid(z), [0.0, 0.5, 1.0])


def test_losses_are_finite_when_outputs_saturate():
    out = np.array([[0.0], [1.0]])
    target = np.array([[1.0], [0.0]])
    bce = get_loss("bce")
    assert np.isfinite(bce.value(out, target))
    assert np.all(np.isfinite(bce.grad(out, target)))
    ce = get_loss("cross_entropy")
    probs = np.array([[1.0, 0.0], [0.0, 1.0]])
    assert np.isfinite(ce.value(probs, np.array([[0.0, 1.0], [1.0, 0.0]])))


def test_fused_sigmoid_bce_gradient_is_exact_when_saturated():
    # Logit 40: the sigmoid rounds to 1 in float64, yet dL/dz must be exactly (ŷ − y) / N.
    net = build_sequential(1, [{"type": "dense", "units": 1, "bias": False, "init": "values", "weight": [[40.0]]},
                               {"type": "sigmoid"}], dtype="float64")
    net.forward(np.array([[1.0]]))
    loss_and_backward(net, get_loss("bce"), np.array([0.0]))
    assert net.trace[-1].grad_input[0, 0] == pytest.approx(1.0)
    assert net.layers[0].grads["weight"][0, 0] == pytest.approx(1.0)


def test_squared_error_value():
    loss = get_loss("mse")
    assert loss.value(np.array([[0.191]]), np.array([[1.0]])) == pytest.approx(0.5 * 0.809**2)


def test_float32_stays_float32_with_float64_scalars():
    net = build_sequential(3, [{"type": "dense", "units": 4, "activation": "sigmoid"},
                               {"type": "dense", "units": 2, "activation": "softmax"}])
    x = np.random.default_rng(0).standard_normal((5, 3))  # float64 input
    out = net.forward(x)
    assert out.dtype == np.float32
    assert all(t.output.dtype == np.float32 for t in net.trace)
    loss_and_backward(net, get_loss("cross_entropy"), np.array([0, 1, 0, 1, 1]))
    assert all(g.dtype == np.float32 for layer in net.layers for g in layer.grads.values())
    from engine.core.optim import make_optimizer

    for cfg in ({"type": "sgd", "learning_rate": np.float64(0.1)}, {"type": "momentum", "learning_rate": 0.1},
                {"type": "adam", "learning_rate": 0.01, "regularization": "l2", "reg_rate": np.float64(0.01)}):
        opt = make_optimizer(cfg)
        opt.step(net.layers)
        assert all(p.dtype == np.float32 for layer in net.layers for p in layer.params.values())


def test_layers_return_contiguous_arrays():
    net = build_sequential(3, [{"type": "dense", "units": 4, "activation": "relu"}, {"type": "dense", "units": 2}])
    x = np.asfortranarray(np.random.default_rng(0).standard_normal((5, 3)))
    net.forward(x)
    assert all(t.output.flags["C_CONTIGUOUS"] for t in net.trace)
    dx = net.backward(np.ones((5, 2)))
    assert dx.flags["C_CONTIGUOUS"]
    assert all(g.flags["C_CONTIGUOUS"] for layer in net.layers for g in layer.grads.values())


def test_initialisers_are_seeded_and_scaled():
    a = build_sequential(50, [{"type": "dense", "units": 40, "init": "xavier"}], seed=5)
    b = build_sequential(50, [{"type": "dense", "units": 40, "init": "xavier"}], seed=5)
    c = build_sequential(50, [{"type": "dense", "units": 40, "init": "xavier"}], seed=6)
    wa = a.layers[0].params["weight"]
    np.testing.assert_array_equal(wa, b.layers[0].params["weight"])
    assert not np.array_equal(wa, c.layers[0].params["weight"])
    assert np.abs(wa).max() <= np.sqrt(6 / 90) + 1e-7
    he = build_sequential(400, [{"type": "dense", "units": 300, "init": "he"}]).layers[0].params["weight"]
    assert he.std() == pytest.approx(np.sqrt(2 / 400), rel=0.05)
    uni = build_sequential(30, [{"type": "dense", "units": 30, "init": "uniform"}]).layers[0].params["weight"]
    assert -0.5 <= uni.min() and uni.max() <= 0.5 and uni.std() > 0.2
    zeros = build_sequential(3, [{"type": "dense", "units": 2, "init": "zeros", "bias_init": 0.1}]).layers[0]
    assert not zeros.params["weight"].any()
    np.testing.assert_allclose(zeros.params["bias"], 0.1, rtol=1e-6)


def test_bad_specs_raise_clear_errors():
    with pytest.raises(EngineError, match="unknown layer type 'dens'"):
        build_sequential(2, [{"type": "dens", "units": 3}])
    with pytest.raises(EngineError, match="'units' as a whole number"):
        build_sequential(2, [{"type": "dense", "units": 0}])
    with pytest.raises(EngineError, match="unknown activation"):
        build_sequential(2, [{"type": "dense", "units": 2, "activation": "swish2"}])
    with pytest.raises(EngineError, match="explicit values have shape"):
        build_sequential(2, [{"type": "dense", "units": 2, "init": "values", "weight": [[1.0, 2.0]]}])
    net = build_sequential(2, [{"type": "dense", "units": 2}])
    with pytest.raises(EngineError, match="input has shape"):
        net.forward(np.zeros((3, 5)))
    with pytest.raises(EngineError, match="NaN"):
        net.forward(np.array([[np.nan, 1.0]]))


def test_parameter_budget_stops_huge_networks_before_allocating():
    from engine.core.errors import SizeLimitError

    with pytest.raises(SizeLimitError, match="more than 1,000 parameters"):
        build_sequential(100, [{"type": "dense", "units": 100_000}], max_params=1000)


# --- the layer protocol: shapes, parameter names, dtypes -------------------------------------------------------


def test_every_built_layer_carries_its_shapes_and_they_are_what_forward_gives():
    net = build_sequential([1, 8, 8], [
        {"type": "conv2d", "out_channels": 3, "kernel_size": 3, "padding": 1}, {"type": "relu"},
        {"type": "maxpool2d", "size": 2}, {"type": "avgpool2d", "size": 2, "stride": 1}, {"type": "flatten"},
        {"type": "dense", "units": 4, "activation": "tanh"}, {"type": "dense", "units": 2}, {"type": "softmax"}],
        dtype="float64")
    x = np.random.default_rng(0).standard_normal((2, 1, 8, 8))
    net.forward(x)
    shape = (1, 8, 8)
    for layer, entry in zip(net.layers, net.trace, strict=True):
        assert layer.input_shape == shape and layer.output_shape == entry.output.shape[1:], layer.type
        shape = layer.output_shape
    assert net.output_shapes() == [layer.output_shape for layer in net.layers]
    assert Dense(2, 3).output_shape is None  # a layer used on its own follows its input


def test_named_params_have_one_form_for_networks_and_transformers():
    from engine.core.layers import NamedParam
    from engine.transformer.model import Transformer, TransformerConfig

    net = build_sequential([2], [{"type": "dense", "units": 3, "activation": "tanh"}, {"type": "dense", "units": 1}])
    model = Transformer(TransformerConfig(arch="decoder", d_model=8, heads=2, layers=1, d_ff=8))
    for params, layers in ((net.named_params(), net.layers), (model.named_params(), model.layers())):
        assert params and all(isinstance(p, NamedParam) for p in params)
        for layer_index, name, value in params:
            assert value is layers[layer_index].params[name]
    assert [p.key for p in net.named_params()] == list(net.param_arrays()) == ["0.weight", "0.bias", "2.weight",
                                                                               "2.bias"]
    assert sum(p.value.size for p in model.named_params()) == model.num_params


def test_one_dtype_table_for_every_model():
    from engine.core.dtypes import DTYPES
    from engine.transformer.model import Transformer, TransformerConfig

    assert list(DTYPES) == ["float32", "float64"]
    for build in (lambda: build_sequential([2], [{"type": "dense", "units": 1}], dtype="float16"),
                  lambda: Transformer(TransformerConfig(dtype="float16"))):
        with pytest.raises(EngineError, match=r"dtype must be one of \['float32', 'float64'\], got 'float16'"):
            build()
    assert Transformer(TransformerConfig(dtype="float64", d_model=8, heads=2, d_ff=8)).dtype == np.float64
