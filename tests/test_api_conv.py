"""Convolution explorer API: the classic example, sizes, windows, kernels, samples, parameter counts, every error."""

from __future__ import annotations

import numpy as np
import pytest

from app.arrays import decode_array
from engine.cnn.explain import apply_kernel
from engine.cnn.images import sample_image, to_grayscale

from .conftest import make_client

CLASSIC_IMAGE = [[1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 0], [0, 1, 1, 0, 0]]
CLASSIC_KERNEL = [[1, 0, 1], [0, 1, 0], [1, 0, 1]]
CLASSIC_OUTPUT = [[4, 3, 4], [2, 4, 3], [2, 3, 4]]


def direct(image: np.ndarray, kernel: np.ndarray, stride: int, padding: int, bias: float = 0.0) -> np.ndarray:
    """Cross-correlation by its definition, one output at a time (image (C, H, W), kernel (C, k, k))."""
    padded = np.pad(image, ((0, 0), (padding, padding), (padding, padding)))
    k = kernel.shape[-1]
    out_h = (padded.shape[1] - k) // stride + 1
    out_w = (padded.shape[2] - k) // stride + 1
    out = np.zeros((out_h, out_w))
    for r in range(out_h):
        for c in range(out_w):
            out[r, c] = (padded[:, r * stride:r * stride + k, c * stride:c * stride + k] * kernel).sum() + bias
    return out


def test_classic_example(client):
    r = client.post("/api/conv/apply", json={"image": CLASSIC_IMAGE, "kernel": CLASSIC_KERNEL})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["output"] == CLASSIC_OUTPUT
    assert body["shape"] == [3, 3]
    assert body["mode"] == "filter"
    assert body["output_size"]["height"]["expression"] == "(5 + 2·0 − 3)/1 + 1 = 3"
    assert body["output_size"]["width"]["value"] == 3
    assert body["windows"] is None


def test_classic_windows_cover_every_position(client):
    body = client.post("/api/conv/apply", json={"image": CLASSIC_IMAGE, "kernel": CLASSIC_KERNEL,
                                                "windows": True}).json()
    w = body["windows"]
    window = np.array(w["window"])
    products = np.array(w["products"])
    assert window.shape == (1, 3, 3, 1, 3, 3)
    image, kernel = np.array(CLASSIC_IMAGE), np.array(CLASSIC_KERNEL)
    for r in range(3):
        for c in range(3):
            assert window[0, r, c, 0].tolist() == image[r:r + 3, c:c + 3].tolist()
            assert products[0, r, c, 0].tolist() == (image[r:r + 3, c:c + 3] * kernel).tolist()
            assert w["channel_sums"][0][r][c] == [CLASSIC_OUTPUT[r][c]]
    assert w["total"] == [CLASSIC_OUTPUT]
    assert w["top"] == [0, 1, 2] and w["left"] == [0, 1, 2]
    # The first position, as a page writes it: 1×1 + 1×0 + 1×1 + 0×0 + 1×1 + 1×0 + 0×1 + 0×0 + 1×1 = 4.
    assert products[0, 0, 0, 0].ravel().tolist() == [1, 0, 1, 0, 1, 0, 0, 0, 1]


@pytest.mark.parametrize(("n", "k", "stride", "padding", "expected"), [
    (5, 3, 1, 0, 3), (5, 3, 1, 1, 5), (5, 3, 2, 1, 3), (7, 3, 2, 0, 3), (6, 2, 2, 0, 3), (5, 5, 1, 2, 5),
    (28, 5, 1, 2, 28), (14, 5, 1, 0, 10), (8, 3, 3, 2, 4),
])
def test_stride_and_padding_sizes(client, n, k, stride, padding, expected):
    rng = np.random.default_rng(n * 100 + k * 10 + stride)
    image = rng.integers(-3, 4, size=(n, n))
    kernel = rng.integers(-2, 3, size=(k, k))
    body = client.post("/api/conv/apply", json={"image": image.tolist(), "kernel": kernel.tolist(),
                                                "stride": stride, "padding": padding}).json()
    assert body["shape"] == [expected, expected]
    assert body["output_size"]["height"]["value"] == expected
    assert body["output_size"]["width"]["expression"] == f"({n} + 2·{padding} − {k})/{stride} + 1 = {expected}"
    assert np.array_equal(body["output"], direct(image[None].astype(float), kernel[None], stride, padding))


def test_rectangular_image(client):
    image = np.arange(6 * 8).reshape(6, 8) % 5
    kernel = np.array([[1, -1], [2, 0]])
    body = client.post("/api/conv/apply", json={"image": image.tolist(), "kernel": kernel.tolist(),
                                                "stride": 2}).json()
    assert body["shape"] == [3, 4]
    assert body["output_size"]["height"]["expression"] == "(6 + 2·0 − 2)/2 + 1 = 3"
    assert body["output_size"]["width"]["expression"] == "(8 + 2·0 − 2)/2 + 1 = 4"
    assert np.array_equal(body["output"], direct(image[None].astype(float), kernel[None], 2, 0))
    r = client.post("/api/conv/apply", json={"image": np.zeros((6, 9)).tolist(), "kernel": kernel.tolist(),
                                             "stride": 2})
    assert r.status_code == 422
    assert r.json()["detail"].startswith("width: output size (n + 2p − k)/s + 1 = (9 + 2·0 − 2)/2 + 1 = 4.5")


def test_rgb_filter_sums_channels_and_bias(client):
    examples = client.get("/api/conv/examples").json()
    rgb = examples["rgb"]
    body = client.post("/api/conv/apply", json={**{k: rgb[k] for k in ("image", "kernel", "bias", "stride",
                                                                           "padding")}, "windows": True}).json()
    image, kernel = np.array(rgb["image"], dtype=float), np.array(rgb["kernel"], dtype=float)
    assert image.shape == (3, 5, 5) and kernel.shape == (3, 3, 3) and rgb["bias"] == 1
    expected = direct(image, kernel, 2, 1, 1.0)
    assert body["output"] == expected.tolist()
    sums = np.array(body["windows"]["channel_sums"])
    assert sums.shape == (1, 3, 3, 3)
    # Each output: R sum + G sum + B sum + bias.
    assert np.array_equal(sums[0].sum(axis=-1) + 1, expected)
    padded = np.pad(image, ((0, 0), (1, 1), (1, 1)))
    for ch in range(3):
        assert sums[0, 1, 2, ch] == (padded[ch, 2:5, 4:7] * kernel[ch]).sum()


def test_per_channel_kernel_filters_each_channel(client):
    rng = np.random.default_rng(3)
    image = rng.integers(0, 256, size=(3, 6, 7))
    body = client.post("/api/conv/apply", json={"image": image.tolist(), "kernel": [[1, 2, 1], [2, 4, 2], [1, 2, 1]],
                                                "divisor": 16, "padding": 1, "windows": True}).json()
    assert body["mode"] == "per_channel"
    assert body["shape"] == [3, 6, 7]
    gauss = np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]]) / 16
    for ch in range(3):
        assert np.allclose(body["output"][ch], direct(image[ch:ch + 1].astype(float), gauss[None], 1, 1))
    assert np.array(body["windows"]["window"]).shape == (3, 6, 7, 1, 3, 3)


def test_grayscale_returns_the_luminance_it_convolved(client):
    rng = np.random.default_rng(4)
    rgb = rng.integers(0, 256, size=(3, 8, 8))
    body = client.post("/api/conv/apply", json={"image": rgb.tolist(), "kernel": [[0, 0, 0], [0, 1, 0], [0, 0, 0]],
                                                "padding": 1, "grayscale": True}).json()
    luminance = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]
    assert np.allclose(body["input"], luminance)
    assert np.allclose(body["output"], luminance)
    assert body["mode"] == "filter"


def test_activation_and_stats(client):
    body = client.post("/api/conv/apply", json={"image": [[0, 0, 0], [0, 100, 0], [0, 0, 0]],
                                                "kernel": [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]],
                                                "padding": 1, "activation": "relu"}).json()
    assert body["pre_activation"][1][1] == 800 and body["pre_activation"][0][0] == -100
    assert body["output"][0][0] == 0 and body["output"][1][1] == 800
    assert body["activation"] == "relu"
    plain = client.post("/api/conv/apply", json={"image": [[0, 0, 0], [0, 100, 0], [0, 0, 0]],
                                                 "kernel": [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]],
                                                 "padding": 1}).json()
    stats = plain["stats"]
    assert {k: stats[k] for k in ("min", "max", "below_0", "above_255", "count")} == {
        "min": -100, "max": 800, "below_0": 8, "above_255": 1, "count": 9}
    assert stats["abs_p99"] == pytest.approx(np.percentile([100] * 8 + [800], 99))


def test_base64_encoding(client):
    body = client.post("/api/conv/apply?encoding=base64",
                       json={"image": CLASSIC_IMAGE, "kernel": CLASSIC_KERNEL, "windows": True}).json()
    assert decode_array(body["output"]).tolist() == CLASSIC_OUTPUT
    assert decode_array(body["windows"]["products"]).shape == (1, 3, 3, 1, 3, 3)


def test_window_endpoint(client):
    body = client.post("/api/conv/window", json={"image": CLASSIC_IMAGE, "kernel": CLASSIC_KERNEL,
                                                 "row": 1, "col": 2}).json()
    assert body["window"] == [[[1, 1, 0], [1, 1, 1], [1, 1, 0]]]
    assert body["products"] == [[[1, 0, 0], [0, 1, 0], [1, 0, 0]]]
    assert body["total"] == 3 and body["output"] == 3 and body["channel_sums"] == [3]
    assert (body["top"], body["left"]) == (1, 2)
    padded = client.post("/api/conv/window", json={"image": CLASSIC_IMAGE, "kernel": CLASSIC_KERNEL,
                                                   "padding": 1, "bias": 0.5, "row": 0, "col": 0}).json()
    assert padded["window"][0][0] == [0, 0, 0] and (padded["top"], padded["left"]) == (-1, -1)
    assert padded["total"] == 1 + 1 + 0.5
    per_channel = client.post("/api/conv/window", json={"image": [CLASSIC_IMAGE, CLASSIC_IMAGE],
                                                        "kernel": CLASSIC_KERNEL, "row": 2, "col": 2,
                                                        "channel": 1}).json()
    assert per_channel["mode"] == "per_channel" and per_channel["total"] == 4


def test_output_size_endpoint_never_errors(client):
    ok = client.get("/api/conv/output-size", params={"n": 5, "k": 3, "s": 1, "p": 0}).json()
    assert ok["ok"] and ok["value"] == 3 and ok["message"] is None
    frac = client.get("/api/conv/output-size", params={"n": 6, "k": 3, "s": 2, "p": 0}).json()
    assert not frac["ok"] and not frac["whole"] and frac["value"] == 2.5
    assert frac["expression"] == "(6 + 2·0 − 3)/2 + 1 = 2.5" and "not a whole number" in frac["message"]
    big = client.get("/api/conv/output-size", params={"n": 3, "k": 7, "s": 1, "p": 1}).json()
    assert not big["fits"] and "larger than the padded input" in big["message"]


def test_kernels_gallery(client):
    kernels = {k["name"]: k for k in client.get("/api/conv/kernels").json()}
    assert list(kernels) == ["identity", "edge1", "edge2", "edge3", "sharpen", "boxblur", "gauss3", "gauss5",
                             "emboss", "sobelx", "sobely"]
    assert kernels["edge1"]["values"] == [[1, 0, -1], [0, 0, 0], [-1, 0, 1]]
    assert kernels["edge2"]["values"] == [[0, 1, 0], [1, -4, 1], [0, 1, 0]]
    assert kernels["edge3"]["values"] == [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]]
    assert kernels["sharpen"]["values"] == [[0, -1, 0], [-1, 5, -1], [0, -1, 0]]
    assert kernels["identity"]["values"] == [[0, 0, 0], [0, 1, 0], [0, 0, 0]]
    assert kernels["boxblur"]["numerators"] == [[1] * 3] * 3 and kernels["boxblur"]["divisor"] == 9
    assert np.allclose(kernels["boxblur"]["values"], np.ones((3, 3)) / 9)
    assert kernels["gauss3"]["numerators"] == [[1, 2, 1], [2, 4, 2], [1, 2, 1]]
    assert kernels["gauss3"]["divisor"] == 16
    g5 = np.array(kernels["gauss5"]["numerators"])
    assert kernels["gauss5"]["size"] == 5 and kernels["gauss5"]["divisor"] == 256
    assert g5[0].tolist() == [1, 4, 6, 4, 1] and g5[2].tolist() == [6, 24, 36, 24, 6] and g5.sum() == 256
    assert kernels["sobelx"]["values"] == [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]
    assert kernels["sobely"]["values"] == [[-1, -2, -1], [0, 0, 0], [1, 2, 1]]
    assert kernels["emboss"]["values"] == [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]]
    for k in kernels.values():
        assert k["title"] and k["description"]
        assert np.allclose(np.array(k["numerators"]) / k["divisor"], k["values"])


def test_blurs_keep_the_mean_and_edges_sum_to_zero(client):
    kernels = {k["name"]: k for k in client.get("/api/conv/kernels").json()}
    flat = [[7] * 6 for _ in range(6)]
    for name in ("boxblur", "gauss3", "gauss5", "identity", "sharpen"):
        out = client.post("/api/conv/apply", json={"image": flat, "kernel": kernels[name]["numerators"],
                                                   "divisor": kernels[name]["divisor"]}).json()["output"]
        assert np.allclose(out, 7), name
    for name in ("edge1", "edge2", "edge3", "sobelx", "sobely"):
        out = client.post("/api/conv/apply", json={"image": flat, "kernel": kernels[name]["values"]}).json()
        assert np.allclose(out["output"], 0), name


def test_samples(client):
    listed = [s["name"] for s in client.get("/api/conv/samples").json()]
    assert listed == ["scene", "rings"]
    for name in listed:
        body = client.get(f"/api/conv/samples/{name}").json()
        image = np.array(body["image"])
        assert body["shape"] == [128, 128] and image.shape == (128, 128)
        assert image.min() >= 0 and image.max() <= 255 and np.array_equal(image, np.rint(image))
        assert image.std() > 30  # a picture, not a flat field
    small = client.get("/api/conv/samples/scene", params={"size": 32, "encoding": "base64"}).json()
    assert decode_array(small["image"]).shape == (32, 32)
    assert client.get("/api/conv/samples/moon").status_code == 422
    assert client.get("/api/conv/samples/scene", params={"size": 4096}).status_code == 413


def test_sample_is_deterministic_and_grayscale_weights():
    assert np.array_equal(sample_image("scene"), sample_image("scene"))
    rgb = np.stack([np.full((2, 2), 100.0), np.full((2, 2), 200.0), np.full((2, 2), 50.0)])
    assert np.allclose(to_grayscale(rgb), 0.299 * 100 + 0.587 * 200 + 0.114 * 50)


def test_parameter_counts(client):
    body = client.get("/api/conv/parameters").json()
    assert body["fc"]["total"] == 200 * 200 * 3 * 300 + 300 == 36_000_300
    assert body["conv"]["total"] == 300 * (3 * 3 * 3 + 1) == 8_400
    assert body["fc"]["formula"] == "200·200·3·300 + 300 = 36,000,300"
    assert body["conv"]["formula"] == "300·(3·3·3 + 1) = 8,400"
    other = client.get("/api/conv/parameters", params={"height": 28, "width": 28, "channels": 1, "units": 6,
                                                       "filters": 6, "kernel": 5}).json()
    assert other["fc"]["total"] == 28 * 28 * 6 + 6 and other["conv"]["total"] == 6 * 26
    assert other["ratio"] == pytest.approx((28 * 28 * 6 + 6) / 156)
    assert client.get("/api/conv/parameters", params={"units": 0}).status_code == 422


def test_examples(client):
    body = client.get("/api/conv/examples").json()
    assert body["classic"]["image"] == CLASSIC_IMAGE and body["classic"]["kernel"] == CLASSIC_KERNEL
    assert client.get("/api/conv/examples", params={"seed": 2}).json()["rgb"]["image"] != body["rgb"]["image"]


def test_limits(client):
    assert client.get("/api/conv/limits").json() == {"max_image_size": 256, "max_kernel_size": 15,
                                                     "max_channels": 16, "max_window_numbers": 65_536}


def test_engine_matches_direct_loops_on_random_inputs():
    rng = np.random.default_rng(9)
    for _ in range(10):
        c, n, k = rng.integers(1, 4), rng.integers(4, 10), rng.integers(1, 4)
        stride, padding = int(rng.integers(1, 3)), int(rng.integers(0, 3))
        if (n + 2 * padding - k) % stride:
            continue
        image, kernel = rng.standard_normal((c, n, n)), rng.standard_normal((c, k, k))
        result = apply_kernel(image, kernel, stride=stride, padding=padding, bias=0.25, windows=True)
        expected = direct(image, kernel, stride, padding, 0.25)
        assert np.allclose(result["output"], expected)
        assert np.allclose(result["windows"]["total"][0], expected)


@pytest.mark.parametrize(("body", "status", "fragment"), [
    ({"image": CLASSIC_IMAGE, "kernel": CLASSIC_KERNEL, "stride": 2, "padding": 0, "image_": 1}, 422, "image_"),
    ({"image": [[1] * 6] * 6, "kernel": [[1] * 3] * 3, "stride": 2}, 422,
     "(6 + 2·0 − 3)/2 + 1 = 2.5 is not a whole number"),
    ({"image": [[1] * 3] * 3, "kernel": [[1] * 5] * 5}, 422, "larger than the padded input (3 = 3 + 2·0)"),
    ({"image": [[1] * 3] * 3, "kernel": [[1] * 7] * 7, "padding": 1}, 422, "larger than the padded input"),
    ({"image": [[1, 2], [3]], "kernel": [[1]]}, 422, "same length"),
    ({"image": [[1, "a"], [3, 4]], "kernel": [[1]]}, 422, "only numbers"),
    ({"image": [[1, None], [3, 4]], "kernel": [[1]]}, 422, "only numbers"),
    ({"image": [1, 2, 3], "kernel": [[1]]}, 422, "rows × columns"),
    ({"image": [[[[1]]]], "kernel": [[1]]}, 422, "got 4 dimension"),
    ({"image": [], "kernel": [[1]]}, 422, "image"),
    ({"image": [[]], "kernel": [[1]]}, 422, "empty"),
    ({"image": CLASSIC_IMAGE, "kernel": [[1, 0], [0, 1], [1, 1]]}, 422, "square"),
    ({"image": CLASSIC_IMAGE, "kernel": [1, 0, 1]}, 422, "kernel must be"),
    ({"image": [CLASSIC_IMAGE] * 3, "kernel": [CLASSIC_KERNEL] * 2}, 422, "kernel has 2 channel(s) but the image "
                                                                          "has 3"),
    ({"image": CLASSIC_IMAGE, "kernel": CLASSIC_KERNEL, "stride": 0}, 422, "stride"),
    ({"image": CLASSIC_IMAGE, "kernel": CLASSIC_KERNEL, "padding": -1}, 422, "padding"),
    ({"image": CLASSIC_IMAGE, "kernel": CLASSIC_KERNEL, "divisor": 0}, 422, "divisor must not be 0"),
    ({"image": CLASSIC_IMAGE, "kernel": CLASSIC_KERNEL, "activation": "softplus"}, 422, "activation"),
    ({"image": [CLASSIC_IMAGE] * 2, "kernel": CLASSIC_KERNEL, "grayscale": True}, 422, "grayscale needs 1, 3"),
    ({"image": [[1] * 257] * 3, "kernel": [[1]]}, 413, "GLASSBOX_MAX_CONV_IMAGE_SIZE"),
    ({"image": [[1] * 20] * 20, "kernel": [[1] * 17] * 17}, 413, "GLASSBOX_MAX_CONV_KERNEL_SIZE"),
    ({"image": [[[1]]] * 17, "kernel": [[1]]}, 413, "GLASSBOX_MAX_CONV_CHANNELS"),
    ({"image": [[1] * 200] * 200, "kernel": [[1] * 3] * 3, "windows": True}, 413,
     "GLASSBOX_MAX_CONV_WINDOW_NUMBERS"),
])
def test_apply_errors(client, body, status, fragment):
    r = client.post("/api/conv/apply", json=body)
    assert r.status_code == status, r.text
    assert fragment in r.json()["detail"]


@pytest.mark.parametrize("raw", [
    '{"image": [[NaN, 1], [1, 1]], "kernel": [[1]]}',
    '{"image": [[1, 1], [1, Infinity]], "kernel": [[1]]}',
    '{"image": [[1, 1], [1, 1]], "kernel": [[-Infinity]]}',
    '{"image": [[1, 1], [1, 1]], "kernel": [[1]], "bias": NaN}',
])
def test_non_finite_numbers_are_422(client, raw):
    r = client.post("/api/conv/apply", content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert "finite" in detail or "NaN" in detail


def test_malformed_json_is_422(client):
    r = client.post("/api/conv/apply", content='{"image": [[1, 2]', headers={"content-type": "application/json"})
    assert r.status_code == 422 and "not valid JSON" in r.json()["detail"]


@pytest.mark.parametrize(("body", "fragment"), [
    ({"row": 3, "col": 0}, "out_row must be between 0 and 2"),
    ({"row": 0, "col": 5}, "out_col must be between 0 and 2"),
    ({"row": 0, "col": 0, "channel": 1}, "channel must be 0"),
    ({"row": -1, "col": 0}, "row"),
])
def test_window_errors(client, body, fragment):
    r = client.post("/api/conv/window", json={"image": CLASSIC_IMAGE, "kernel": CLASSIC_KERNEL, **body})
    assert r.status_code == 422, r.text
    assert fragment in r.json()["detail"]


def test_limits_follow_settings():
    with make_client(max_conv_image_size=4, max_conv_kernel_size=2) as small:
        r = small.post("/api/conv/apply", json={"image": CLASSIC_IMAGE, "kernel": [[1]]})
        assert r.status_code == 413 and "image side is 5, over the limit of 4" in r.json()["detail"]
        r = small.post("/api/conv/apply", json={"image": [[1] * 4] * 4, "kernel": CLASSIC_KERNEL})
        assert r.status_code == 413 and "kernel side is 3" in r.json()["detail"]
        assert small.get("/api/conv/limits").json()["max_image_size"] == 4


def test_page_renders(client):
    r = client.get("/convolution")
    assert r.status_code == 200
    assert 'data-testid="conv-input-grid"' in r.text
    assert "/static/js/convolution/page.js" in r.text
    assert 'href="/convolution"' in client.get("/").text
