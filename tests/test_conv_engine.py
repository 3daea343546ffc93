"""Convolution engine: gradients, forward against direct loops, the classic example, inspection, sizes, dtypes."""

from __future__ import annotations

import numpy as np
import pytest

from engine.cnn.conv import Conv2D, conv2d_forward, conv_window
from engine.cnn.geometry import conv_output_size
from engine.cnn.pool import AvgPool2D, Flatten, MaxPool2D, pool_window
from engine.core.errors import EngineError
from engine.core.gradcheck import check_layer, check_network
from engine.core.losses import get_loss, loss_and_backward
from engine.core.network import build_sequential

CLASSIC_IMAGE = np.array(
    [[1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 0], [0, 1, 1, 0, 0]], dtype=np.float64
)
CLASSIC_KERNEL = np.array([[1, 0, 1], [0, 1, 0], [1, 0, 1]], dtype=np.float64)
CLASSIC_OUTPUT = np.array([[4, 3, 4], [2, 4, 3], [2, 3, 4]], dtype=np.float64)

LENET = [
    {"type": "conv2d", "out_channels": 6, "kernel_size": 5, "padding": 2},
    {"type": "relu"},
    {"type": "maxpool2d", "size": 2},
    {"type": "conv2d", "out_channels": 16, "kernel_size": 5},
    {"type": "relu"},
    {"type": "maxpool2d", "size": 2},
    {"type": "flatten"},
    {"type": "dense", "units": 120, "activation": "relu"},
    {"type": "dense", "units": 84, "activation": "relu"},
    {"type": "dense", "units": 10},
]


def direct_conv(x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: int, padding: int) -> np.ndarray:
    """The definition, one output number at a time."""
    n, c, h, wd = x.shape
    o, _, k, _ = w.shape
    out_h, out_w = (h + 2 * padding - k) // stride + 1, (wd + 2 * padding - k) // stride + 1
    out = np.zeros((n, o, out_h, out_w))
    for i in range(n):
        for f in range(o):
            for y in range(out_h):
                for xx in range(out_w):
                    total = b[f]
                    for ch in range(c):
                        for ky in range(k):
                            for kx in range(k):
                                row, col = y * stride + ky - padding, xx * stride + kx - padding
                                if 0 <= row < h and 0 <= col < wd:
                                    total += x[i, ch, row, col] * w[f, ch, ky, kx]
                    out[i, f, y, xx] = total
    return out


def random_conv_configs(count: int, seed: int) -> list[tuple[int, ...]]:
    """(batch, in, out, height, width, k, stride, padding) with whole output sizes."""
    rng = np.random.default_rng(seed)
    configs: list[tuple[int, ...]] = []
    while len(configs) < count:
        k, s, p = int(rng.integers(1, 5)), int(rng.integers(1, 3)), int(rng.integers(0, 3))
        h, w = int(rng.integers(k, 9)), int(rng.integers(k, 9))
        if (h + 2 * p - k) % s or (w + 2 * p - k) % s:
            continue
        configs.append((int(rng.integers(1, 4)), int(rng.integers(1, 4)), int(rng.integers(1, 4)), h, w, k, s, p))
    return configs


GRAD_CONFIGS = [
    # batch, in, out, H, W, k, stride, padding
    (2, 1, 2, 5, 5, 3, 1, 0),
    (3, 2, 3, 6, 5, 3, 1, 1),
    (2, 3, 2, 7, 7, 3, 2, 0),
    (2, 2, 2, 6, 6, 4, 2, 1),
    (4, 2, 3, 5, 6, 3, 1, 2),
    (1, 3, 2, 5, 5, 2, 1, 0),
    (8, 1, 2, 4, 4, 3, 1, 1),  # a full block of 8 images
    *random_conv_configs(4, seed=7),
]


@pytest.mark.parametrize("config", GRAD_CONFIGS)
def test_conv2d_gradients_match_numerical(config: tuple[int, ...]) -> None:
    n, c, o, h, w, k, s, p = config
    rng = np.random.default_rng(sum(config))
    layer = Conv2D(c, o, k, stride=s, padding=p, rng=rng, dtype=np.float64)
    layer.params["bias"][...] = rng.standard_normal(o)
    errors = check_layer(layer, rng.standard_normal((n, c, h, w)))
    assert set(errors) == {"input", "weight", "bias"}
    assert max(errors.values()) < 1e-6, errors


def distinct_values(shape: tuple[int, ...], seed: int) -> np.ndarray:
    """Random values at least 0.1 apart, so no window has a tie and h = 1e-6 never swaps a maximum."""
    rng = np.random.default_rng(seed)
    return rng.permutation(int(np.prod(shape))).reshape(shape) * 0.1 - 3.0


@pytest.mark.parametrize("cls", [MaxPool2D, AvgPool2D])
@pytest.mark.parametrize("size, stride, hw", [(2, 2, (6, 8)), (3, 3, (6, 9)), (3, 2, (7, 5)), (2, 1, (4, 5)),
                                               (2, 3, (5, 8))])
def test_pool_gradients_match_numerical(cls: type, size: int, stride: int, hw: tuple[int, int]) -> None:
    layer = cls(size, stride)
    errors = check_layer(layer, distinct_values((2, 3, *hw), seed=size * 10 + stride))
    assert errors["input"] < 1e-6, errors


def test_flatten_gradient_and_order() -> None:
    x = np.arange(2 * 3 * 2 * 2, dtype=np.float64).reshape(2, 3, 2, 2)
    layer = Flatten()
    out = layer.forward(x)
    assert out.shape == (2, 12) and out.flags.c_contiguous
    np.testing.assert_array_equal(out[1], x[1].ravel())  # channel-major, like torch.flatten
    assert check_layer(layer, x)["input"] < 1e-6


def test_small_conv_network_gradients_through_softmax_cross_entropy() -> None:
    net = build_sequential(
        (2, 7, 7),
        [
            {"type": "conv2d", "out_channels": 3, "kernel_size": 3, "padding": 1},
            {"type": "tanh"},
            {"type": "maxpool2d", "size": 3, "stride": 2},
            {"type": "conv2d", "out_channels": 2, "kernel_size": 2, "stride": 1, "init": "xavier"},
            {"type": "avgpool2d", "size": 2},
            {"type": "flatten"},
            {"type": "dense", "units": 4},
        ],
        seed=3,
        dtype="float64",
    )
    for layer in net.layers:
        if "bias" in layer.params:
            layer.params["bias"][...] = np.linspace(-0.2, 0.3, layer.params["bias"].size)
    x = np.random.default_rng(5).standard_normal((3, 2, 7, 7))
    errors = check_network(net, get_loss("softmax_cross_entropy"), x, np.array([0, 3, 1]))
    assert {"0.weight", "0.bias", "3.weight", "3.bias", "6.weight", "input"} <= set(errors)
    assert max(errors.values()) < 1e-6, errors


@pytest.mark.parametrize("config", [(3, 2, 3, 7, 6, 3, 1, 1), (2, 3, 2, 9, 9, 5, 2, 2), (10, 1, 4, 6, 6, 3, 1, 0),
                                    (1, 2, 1, 5, 7, 1, 2, 0), (5, 4, 3, 8, 8, 4, 1, 2)])
def test_forward_matches_direct_loops(config: tuple[int, ...]) -> None:
    n, c, o, h, w, k, s, p = config
    rng = np.random.default_rng(sum(config) + 1)
    x, weight, bias = rng.standard_normal((n, c, h, w)), rng.standard_normal((o, c, k, k)), rng.standard_normal(o)
    expected = direct_conv(x, weight, bias, s, p)
    np.testing.assert_allclose(conv2d_forward(x, weight, bias, s, p), expected, rtol=1e-12, atol=1e-12)
    layer = Conv2D(c, o, k, stride=s, padding=p, dtype=np.float64, weight_values=weight, bias_values=bias)
    np.testing.assert_allclose(layer.forward(x), expected, rtol=1e-12, atol=1e-12)
    # A single (C, H, W) image gives a single (O, out_h, out_w) map.
    np.testing.assert_allclose(conv2d_forward(x[0], weight, bias, s, p), expected[0], rtol=1e-12, atol=1e-12)


def test_pool_forward_matches_direct_loops() -> None:
    x = np.random.default_rng(2).standard_normal((3, 2, 7, 7))
    for size, stride in [(2, 2), (3, 2), (2, 1)]:
        out_hw = (7 - size) // stride + 1
        if (7 - size) % stride:
            continue
        expected_max = np.zeros((3, 2, out_hw, out_hw))
        expected_avg = np.zeros_like(expected_max)
        for y in range(out_hw):
            for xx in range(out_hw):
                window = x[:, :, y * stride:y * stride + size, xx * stride:xx * stride + size]
                expected_max[:, :, y, xx] = window.max(axis=(2, 3))
                expected_avg[:, :, y, xx] = window.mean(axis=(2, 3))
        np.testing.assert_array_equal(MaxPool2D(size, stride).forward(x), expected_max)
        np.testing.assert_allclose(AvgPool2D(size, stride).forward(x), expected_avg, rtol=1e-14)


def test_maxpool_routes_gradient_to_first_maximum_on_ties() -> None:
    x = np.array([[[[1.0, 5.0, 2.0, 2.0], [5.0, 0.0, 2.0, 2.0]]]])
    layer = MaxPool2D(2)
    np.testing.assert_array_equal(layer.forward(x), [[[[5.0, 2.0]]]])
    dx = layer.backward(np.array([[[[10.0, 7.0]]]]))
    np.testing.assert_array_equal(dx, [[[[0.0, 10.0, 7.0, 0.0], [0.0, 0.0, 0.0, 0.0]]]])


def test_classic_example_exact() -> None:
    out = conv2d_forward(CLASSIC_IMAGE[None], CLASSIC_KERNEL[None, None])
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out[0], CLASSIC_OUTPUT)
    net = build_sequential((1, 5, 5), [{"type": "conv2d", "out_channels": 1, "kernel_size": 3,
                                        "weight": CLASSIC_KERNEL[None, None].tolist()}], dtype="float64")
    np.testing.assert_array_equal(net.forward(CLASSIC_IMAGE[None, None])[0, 0], CLASSIC_OUTPUT)


def test_conv_window_classic_example() -> None:
    first = conv_window(CLASSIC_IMAGE, CLASSIC_KERNEL, None, 1, 0, 0, 0)
    assert first["window"] == [[[1, 1, 1], [0, 1, 1], [0, 0, 1]]]
    assert first["kernel"] == [CLASSIC_KERNEL.tolist()]
    assert first["products"] == [[[1, 0, 1], [0, 1, 0], [0, 0, 1]]]
    assert first["channel_sums"] == [4.0]
    assert (first["bias"], first["total"], first["top"], first["left"]) == (0.0, 4.0, 0, 0)
    centre = conv_window(CLASSIC_IMAGE, CLASSIC_KERNEL, None, 1, 0, 1, 2)
    assert centre["window"] == [[[1, 1, 0], [1, 1, 1], [1, 1, 0]]]
    assert centre["products"] == [[[1, 0, 0], [0, 1, 0], [1, 0, 0]]]
    assert (centre["total"], centre["top"], centre["left"]) == (3.0, 1, 2)
    totals = [[conv_window(CLASSIC_IMAGE, CLASSIC_KERNEL, None, 1, 0, r, c)["total"] for c in range(3)]
              for r in range(3)]
    np.testing.assert_array_equal(totals, CLASSIC_OUTPUT)


def test_conv_window_padding_and_channels_add_up() -> None:
    padded = conv_window(CLASSIC_IMAGE, CLASSIC_KERNEL, 0.5, 1, 1, 0, 0)
    assert (padded["top"], padded["left"]) == (-1, -1)  # the window starts in the zero border
    assert padded["window"] == [[[0, 0, 0], [0, 1, 1], [0, 0, 1]]]
    assert padded["total"] == 2.5
    rng = np.random.default_rng(4)
    image, kernels, bias = rng.standard_normal((3, 7, 7)), rng.standard_normal((2, 3, 3, 3)), np.array([0.25, -1.0])
    out = conv2d_forward(image, kernels, bias, 2, 1)
    report = conv_window(image, kernels, bias, 2, 1, 1, 2, out_channel=1)
    assert len(report["channel_sums"]) == 3 and report["bias"] == -1.0
    np.testing.assert_allclose(np.sum(report["products"], axis=(1, 2)), report["channel_sums"], rtol=1e-12)
    assert report["total"] == pytest.approx(sum(report["channel_sums"]) - 1.0, rel=1e-12)
    assert report["total"] == pytest.approx(out[1, 1, 2], rel=1e-12)
    assert (report["top"], report["left"]) == (1, 3)
    with pytest.raises(EngineError, match="out_col"):
        conv_window(image, kernels, bias, 2, 1, 0, 4)


def test_pool_window_reports_max_and_mean() -> None:
    image = np.array([[1.0, 3.0, 0.0, 2.0], [3.0, 2.0, 4.0, 4.0]])
    best = pool_window(image, 2, None, "max", 0, 0)
    assert best["window"] == [[1.0, 3.0], [3.0, 2.0]]
    assert best["argmax"] == [0, 1] and best["value"] == 3.0  # first maximum in reading order
    assert (best["top"], best["left"]) == (0, 0)
    mean = pool_window(image, 2, 2, "avg", 0, 1)
    assert mean["window"] == [[0.0, 2.0], [4.0, 4.0]]
    assert (mean["sum"], mean["value"]) == (10.0, 2.5)
    with pytest.raises(EngineError, match="mode"):
        pool_window(image, 2, 2, "median", 0, 0)


def test_output_size_formula_and_errors() -> None:
    assert conv_output_size(28, 5, 1, 2) == 28
    assert conv_output_size(7, 3, 2, 0) == 3
    with pytest.raises(EngineError, match=r"\(8 \+ 2·0 − 3\)/2 \+ 1 = 3.5 is not a whole number"):
        conv_output_size(8, 3, 2, 0)
    with pytest.raises(EngineError, match="larger than the padded input"):
        conv_output_size(3, 5, 1, 0)
    assert conv_output_size(3, 5, 1, 1) == 1


@pytest.mark.parametrize(
    "shape, layers, message",
    [
        ((1, 3, 3), [{"type": "conv2d", "out_channels": 2, "kernel_size": 5}], "larger than the padded input"),
        ((1, 8, 8), [{"type": "conv2d", "out_channels": 2, "kernel_size": 3, "stride": 2}], "not a whole number"),
        ((2, 5, 5), [{"type": "maxpool2d", "size": 2}], "not a whole number"),
        ((2, 5, 5), [{"type": "avgpool2d", "size": 7}], "pooling window"),
        ((10,), [{"type": "conv2d", "out_channels": 2, "kernel_size": 3}], "channels, height, width"),
        ((1, 6, 6), [{"type": "conv2d", "out_channels": 2, "kernel_size": 3}, {"type": "dense", "units": 3}],
         "flatten"),
        ((1, 6, 6), [{"type": "conv2d", "out_channels": 0, "kernel_size": 3}], "out_channels"),
        ((1, 6, 6), [{"type": "conv2d", "out_channels": 2, "kernel_size": 3, "padding": -1}], "padding"),
        ((1, 6, 6), [{"type": "conv2d", "out_channels": 2, "kernel_size": 3, "in_channels": 3}], "in_channels"),
        ((1, 6, 6), [{"type": "conv2d", "out_channels": 2, "kernel_size": 3, "init": "magic"}], "initialiser"),
    ],
)
def test_builder_size_errors(shape: tuple[int, ...], layers: list[dict], message: str) -> None:
    with pytest.raises(EngineError, match=message):
        build_sequential(shape, layers)


def test_conv2d_forward_argument_errors() -> None:
    image = np.zeros((2, 5, 5))
    with pytest.raises(EngineError, match="input channels"):
        conv2d_forward(image, np.zeros((1, 3, 3, 3)))
    with pytest.raises(EngineError, match="kernel must have shape"):
        conv2d_forward(image, np.zeros((3, 3)))
    with pytest.raises(EngineError, match="bias"):
        conv2d_forward(image, np.zeros((2, 2, 3, 3)), bias=[1.0, 2.0, 3.0])
    with pytest.raises(EngineError, match="stride"):
        conv2d_forward(image, np.zeros((1, 2, 3, 3)), stride=0)
    with pytest.raises(EngineError, match="larger"):
        conv2d_forward(image, np.zeros((1, 2, 7, 7)))


def test_lenet_shapes_and_spec_round_trip() -> None:
    net = build_sequential((1, 28, 28), LENET, seed=1)
    shapes = net.output_shapes()
    assert shapes[:7] == [(6, 28, 28), (6, 28, 28), (6, 14, 14), (16, 10, 10), (16, 10, 10), (16, 5, 5), (400,)]
    assert shapes[-1] == (10,)
    conv1 = net.layers[0]
    assert conv1.params["weight"].shape == (6, 1, 5, 5) and conv1.params["bias"].shape == (6,)
    assert net.num_params == 61706  # LeNet-5 as in the literature: 156 + 2416 + 48120 + 10164 + 850
    rebuilt = build_sequential((1, 28, 28), net.layer_specs(), seed=1)
    assert rebuilt.output_shapes() == shapes
    for a, b in zip(rebuilt.layers, net.layers, strict=True):
        for name in a.params:
            np.testing.assert_array_equal(a.params[name], b.params[name])


def test_he_and_xavier_initialise_with_conv_fans() -> None:
    spec = {"type": "conv2d", "out_channels": 64, "kernel_size": 5}
    he = build_sequential((8, 9, 9), [dict(spec, init="he")], seed=0).layers[0].params["weight"]
    xavier = build_sequential((8, 9, 9), [dict(spec, init="xavier")], seed=0).layers[0].params["weight"]
    fan_in, fan_out = 8 * 25, 64 * 25
    assert he.std() == pytest.approx(np.sqrt(2 / fan_in), rel=0.05)
    assert np.abs(xavier).max() <= np.sqrt(6 / (fan_in + fan_out))
    assert xavier.std() == pytest.approx(np.sqrt(2 / (fan_in + fan_out)), rel=0.05)


def test_float32_network_stays_float32_and_contiguous() -> None:
    net = build_sequential((1, 28, 28), LENET, seed=2)
    x = np.random.default_rng(0).standard_normal((5, 1, 28, 28))  # float64 input is cast, not up-casting the net
    out = net.forward(x)
    assert out.dtype == np.float32
    loss_and_backward(net, get_loss("softmax_cross_entropy"), np.array([0, 1, 2, 3, 4]))
    for entry in net.trace:
        for array in (entry.output, entry.grad_input):
            assert array.dtype == np.float32, entry.type
            assert array.flags.c_contiguous, entry.type
    for layer in net.layers:
        for name, grad in layer.grads.items():
            assert grad.dtype == np.float32 and grad.shape == layer.params[name].shape, (layer.type, name)


def test_layers_keep_results_independent_between_calls() -> None:
    # Conv2D reuses work buffers between calls; returned maps and gradients must not change afterwards.
    rng = np.random.default_rng(9)
    layer = Conv2D(2, 3, 3, padding=1, rng=rng, dtype=np.float64)
    x1, x2 = rng.standard_normal((4, 2, 6, 6)), rng.standard_normal((4, 2, 6, 6))
    out1 = layer.forward(x1)
    saved = out1.copy()
    dx1 = layer.backward(np.ones_like(out1))
    saved_dx = dx1.copy()
    layer.forward(x2)
    layer.backward(np.ones_like(out1))
    np.testing.assert_array_equal(out1, saved)
    np.testing.assert_array_equal(dx1, saved_dx)
    # Padding cells never pick up values from an earlier input.
    np.testing.assert_allclose(layer.forward(x1), saved, rtol=0, atol=0)


def test_cloned_conv_network_computes_the_same() -> None:
    net = build_sequential((1, 12, 12), LENET[:3] + [{"type": "flatten"}, {"type": "dense", "units": 3}], seed=4)
    x = np.random.default_rng(1).standard_normal((6, 1, 12, 12))
    expected = net.forward(x)
    twin = net.clone()
    assert twin.layers[0].scratch.buffers == {}
    np.testing.assert_array_equal(twin.forward(x), expected)
