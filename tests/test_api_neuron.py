"""API: /api/functions (activations and losses on lists of points) and /api/neuron (one neuron, its input plane).

Every expected value is written with NumPy from the textbook formula, independently of the engine.
"""

import numpy as np
import pytest

from tests.conftest import make_client

Z = [-40.0, -6.0, -2.5, -1.0, -0.1, 0.0, 0.1, 0.5, 1.0, 3.0, 6.0, 40.0]


def np_sigmoid(z):
    return 1 / (1 + np.exp(-np.asarray(z, dtype=np.float64)))


FORMULAS = {
    "linear": (lambda z: z, lambda z: np.ones_like(z)),
    "relu": (lambda z: np.maximum(z, 0), lambda z: (z > 0).astype(float)),
    "tanh": (np.tanh, lambda z: 1 / np.cosh(z) ** 2),
    "sigmoid": (np_sigmoid, lambda z: np.exp(-z) / (1 + np.exp(-z)) ** 2),
    "step": (lambda z: (z > 0).astype(float), lambda z: np.zeros_like(z)),
}


def post(client, path, body, status=200):
    r = client.post(path, json=body)
    assert r.status_code == status, r.text
    return r.json()


@pytest.mark.parametrize("name", sorted(FORMULAS))
def test_activation_matches_its_formula(client, name):
    out = post(client, "/api/functions/activation", {"activation": name, "z": Z})
    z = np.array(Z)
    value, slope = FORMULAS[name]
    assert out["activation"] == name
    np.testing.assert_allclose(out["z"], z)
    np.testing.assert_allclose(out["value"], value(z), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(out["derivative"], slope(z), rtol=1e-9, atol=1e-15)


def test_activation_list_names_every_activation_a_network_accepts(client):
    r = client.get("/api/functions/activations")
    assert r.status_code == 200
    body = r.json()
    listed = [a["name"] for a in body["activations"]]
    assert listed == [*FORMULAS, "softmax"]
    assert {a["name"]: a["elementwise"] for a in body["activations"]}["softmax"] is False
    assert all(a["elementwise"] for a in body["activations"] if a["name"] != "softmax")
    assert body["aliases"] == {"none": "linear", "identity": "linear"}
    # every listed name is a layer type a network spec accepts, and every name or alias a dense layer's activation
    for name in listed:
        spec = {"input_shape": [2], "layers": [{"type": "dense", "units": 2}, {"type": name}]}
        assert client.post("/api/networks", json={"spec": spec}).status_code == 201, name
    for name in [*listed, *body["aliases"]]:
        spec = {"input_shape": [2], "layers": [{"type": "dense", "units": 2, "activation": name}]}
        assert client.post("/api/networks", json={"spec": spec}).status_code == 201, name
    assert "/api/functions/activations" in client.get("/openapi.json").json()["paths"]


def test_activation_takes_rows_and_aliases(client):
    out = post(client, "/api/functions/activation", {"activation": "Identity", "z": [[1, -2], [3, 4]]})
    assert out["activation"] == "linear"
    assert out["value"] == [[1, -2], [3, 4]]
    assert out["derivative"] == [[1, 1], [1, 1]]


def test_softmax_across_a_list_and_across_each_row(client):
    z = np.array([[2.0, 1.0, 0.1], [0.0, 0.0, 0.0], [1000.0, 0.0, -1000.0]])
    out = post(client, "/api/functions/activation", {"activation": "softmax", "z": z.tolist()})
    shifted = np.exp(z - z.max(axis=1, keepdims=True))
    s = shifted / shifted.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(out["value"], s, rtol=1e-12)
    np.testing.assert_allclose(out["derivative"], s * (1 - s), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(np.sum(out["value"], axis=1), 1.0)
    one_group = post(client, "/api/functions/activation", {"activation": "softmax", "z": [2.0, 1.0, 0.1]})
    np.testing.assert_allclose(one_group["value"], s[0], rtol=1e-12)


def test_squared_error_matches_its_formula(client):
    y_hat = np.linspace(0, 1, 21)
    for y in (0.0, 1.0):
        out = post(client, "/api/functions/loss", {"loss": "squared_error", "target": y, "predictions": y_hat.tolist()})
        assert out["loss"] == "mse"
        np.testing.assert_allclose(out["value"], 0.5 * (y - y_hat) ** 2, atol=1e-15)
        np.testing.assert_allclose(out["derivative"], y_hat - y, atol=1e-15)
        np.testing.assert_allclose(out["derivative_z"], (y_hat - y) * y_hat * (1 - y_hat), atol=1e-15)


def test_cross_entropy_matches_its_formula(client):
    y_hat = np.linspace(0.01, 0.99, 99)
    for y in (0.0, 1.0, 0.3):
        out = post(client, "/api/functions/loss", {"loss": "bce", "target": y, "predictions": y_hat.tolist()})
        assert out["loss"] == "bce"
        np.testing.assert_allclose(out["value"], -y * np.log(y_hat) - (1 - y) * np.log(1 - y_hat), rtol=1e-12)
        np.testing.assert_allclose(out["derivative"], -y / y_hat + (1 - y) / (1 - y_hat), rtol=1e-10)
        np.testing.assert_allclose(out["derivative_z"], y_hat - y, atol=1e-15)


def test_the_issues_loss_numbers(client):
    mse = post(client, "/api/functions/loss", {"loss": "mse", "target": 1, "predictions": [0.9]})
    bce = post(client, "/api/functions/loss", {"loss": "bce", "target": 1, "predictions": [0.9]})
    assert round(mse["value"][0], 3) == 0.005
    assert round(bce["value"][0], 3) == 0.105
    assert bce["value"][0] == pytest.approx(-np.log(0.9), rel=1e-14)


def test_cross_entropy_stays_finite_at_0_and_1(client):
    out = post(client, "/api/functions/loss", {"loss": "bce", "target": 1, "predictions": [0.0, 1.0]})
    assert all(np.isfinite(out["value"])) and all(np.isfinite(out["derivative"]))
    assert out["value"][0] > 30  # −log(machine epsilon)
    assert out["derivative_z"] == [-1.0, 0.0]


def test_squared_error_outside_0_1_has_no_sigmoid_gradient(client):
    out = post(client, "/api/functions/loss", {"loss": "mse", "target": 2.5, "predictions": [-1.0, 4.0]})
    assert out["value"] == [0.5 * 3.5**2, 0.5 * 1.5**2]
    assert out["derivative_z"] is None


def test_neuron_forward(client):
    x, w, b = np.array([1.5, -0.75, 2.0]), np.array([0.6, 1.2, -0.35]), 0.25
    z = float(x @ w + b)
    for name, (value, slope) in FORMULAS.items():
        out = post(client, "/api/neuron/forward",
                   {"inputs": x.tolist(), "weights": w.tolist(), "bias": b, "activation": name})
        np.testing.assert_allclose(out["terms"], x * w, rtol=1e-15)
        assert out["z"] == pytest.approx(z, abs=1e-15)
        assert out["output"] == pytest.approx(float(value(np.array(z))), abs=1e-15)
        assert out["derivative"] == pytest.approx(float(slope(np.array(z))), abs=1e-12)
        assert out["fires"] is False  # z = −0.45
        assert out["softmax"] is None


def test_neuron_fires_only_above_zero(client):
    def fires(bias):
        return post(client, "/api/neuron/forward",
                    {"inputs": [1.0], "weights": [0.5], "bias": bias, "activation": "step"})
    assert fires(-0.4)["fires"] is True and fires(-0.4)["output"] == 1.0
    assert fires(-0.5)["fires"] is False and fires(-0.5)["output"] == 0.0
    assert fires(-0.6)["fires"] is False


def test_neuron_softmax_among_three(client):
    out = post(client, "/api/neuron/forward", {"inputs": [1.0, 2.0], "weights": [0.5, 0.25], "bias": 0.0,
                                               "activation": "softmax", "other_z": [2.0, -1.0]})
    z = np.array([1.0, 2.0, -1.0])
    s = np.exp(z) / np.exp(z).sum()
    np.testing.assert_allclose(out["softmax"]["z"], z)
    np.testing.assert_allclose(out["softmax"]["outputs"], s, rtol=1e-12)
    assert out["softmax"]["total"] == pytest.approx(1.0, abs=1e-12)
    assert out["output"] == pytest.approx(s[0], rel=1e-12)
    assert out["derivative"] == pytest.approx(s[0] * (1 - s[0]), rel=1e-12)


def test_plane_grid_and_line(client):
    w, b = np.array([0.8, -0.4]), 0.1
    out = post(client, "/api/neuron/plane",
               {"weights": w.tolist(), "bias": b, "activation": "tanh", "extent": 3, "resolution": 7})
    coords = np.linspace(-3, 3, 7)
    np.testing.assert_allclose(out["x1"], coords)
    np.testing.assert_allclose(out["x2"], coords[::-1])  # row 0 is the top of the picture
    x1, x2 = np.meshgrid(coords, coords[::-1])
    np.testing.assert_allclose(out["z"], w[0] * x1 + w[1] * x2 + b, atol=1e-12)
    np.testing.assert_allclose(out["output"], np.tanh(w[0] * x1 + w[1] * x2 + b), atol=1e-12)
    # The line's ends and the handles lie on w·x + b = 0, inside the square, and the ends on its border.
    ends, handles = np.array(out["line"]), np.array(out["handles"])
    np.testing.assert_allclose(ends @ w + b, 0, atol=1e-12)
    np.testing.assert_allclose(handles @ w + b, 0, atol=1e-12)
    assert np.all(np.abs(ends) <= 3 + 1e-12)
    assert np.allclose(np.abs(ends).max(axis=1), 3)


def test_plane_base64_encoding(client):
    r = client.post("/api/neuron/plane?encoding=base64",
                    json={"weights": [1, 1], "bias": 0, "activation": "sigmoid", "resolution": 4})
    assert r.status_code == 200
    grid = r.json()["output"]
    assert grid["dtype"] == "float32" and grid["shape"] == [4, 4]


def test_plane_line_through_two_points_keeps_length_and_side(client):
    w = np.array([0.6, 0.8])  # length 1
    out = post(client, "/api/neuron/plane", {"weights": w.tolist(), "bias": 0.0, "activation": "sigmoid",
                                             "resolution": 5, "through": [[-1, 0], [1, 1]]})
    new_w, new_b = np.array(out["weights"]), out["bias"]
    assert np.linalg.norm(new_w) == pytest.approx(1.0)
    for p in ([-1, 0], [1, 1]):
        assert new_w @ p + new_b == pytest.approx(0, abs=1e-12)
    assert new_w @ w > 0  # the side that fired still fires
    assert out["handles"] == [[-1, 0], [1, 1]]
    # The line through (−1, 0) and (1, 1) has direction (2, 1): its unit normal is ±(−1, 2)/√5.
    np.testing.assert_allclose(new_w, np.array([-1, 2]) / np.sqrt(5))
    assert new_b == pytest.approx(-1 / np.sqrt(5))


def test_plane_without_a_visible_line(client):
    flat = post(client, "/api/neuron/plane", {"weights": [0, 0], "bias": 1, "resolution": 3})
    assert flat["line"] is None and flat["handles"] is None
    np.testing.assert_allclose(flat["output"], np.full((3, 3), 1 / (1 + np.exp(-1))))
    far = post(client, "/api/neuron/plane", {"weights": [1, 0], "bias": -10, "resolution": 3, "extent": 3})
    assert far["line"] is None
    vertical = post(client, "/api/neuron/plane", {"weights": [2, 0], "bias": -2, "resolution": 3, "extent": 3})
    np.testing.assert_allclose(sorted(vertical["line"]), [[1, -3], [1, 3]])


def test_neuron_page_is_in_the_navigation(client):
    r = client.get("/neuron")
    assert r.status_code == 200
    for testid in ("input-1", "weight-3", "bias", "weighted-sum", "neuron-output", "activation-softmax",
                   "activation-plot", "derivative-plot", "fires", "plane-heatmap", "decision-line", "loss-target",
                   "loss-prediction", "mse-value", "ce-value"):
        assert f'data-testid="{testid}"' in r.text, testid
    home = client.get("/").text
    assert 'href="/neuron"' in home


# ---- errors -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path, body, fragment", [
    ("/api/functions/activation", {"activation": "swish", "z": [1]}, "unknown activation 'swish'"),
    ("/api/functions/activation", {"activation": "tanh", "z": []}, "at least 1 item"),
    ("/api/functions/activation", {"activation": "tanh", "z": [[1, 2], [3]]}, "rows of equal length"),
    ("/api/functions/activation", {"activation": "tanh", "z": [[]]}, "non-empty"),
    ("/api/functions/activation", {"activation": "tanh", "z": ["a"]}, "z"),
    ("/api/functions/activation", {"z": [1]}, "activation: Field required"),
    ("/api/functions/loss", {"loss": "hinge", "target": 1, "predictions": [0.5]}, "unknown loss 'hinge'"),
    ("/api/functions/loss", {"loss": "cross_entropy", "target": 1, "predictions": [0.5]}, "couples its outputs"),
    ("/api/functions/loss", {"loss": "bce", "target": 1, "predictions": [1.2]}, "between 0 and 1"),
    ("/api/functions/loss", {"loss": "bce", "target": 2, "predictions": [0.5]}, "target between 0 and 1"),
    ("/api/functions/loss", {"loss": "bce", "target": 1, "predictions": []}, "at least 1 item"),
    ("/api/neuron/forward", {"inputs": [1, 2, 3], "weights": [1, 2]}, "3 inputs and 2 weights"),
    ("/api/neuron/forward", {"inputs": [1], "weights": [1], "activation": "softmax"}, "other_z"),
    ("/api/neuron/forward", {"inputs": [1], "weights": [1], "activation": "gelu"}, "unknown activation"),
    ("/api/neuron/forward", {"inputs": [1], "weights": [1], "extra": 1}, "Extra inputs"),
    ("/api/neuron/plane", {"weights": [1, 2, 3]}, "at most 2 items"),
    ("/api/neuron/plane", {"weights": [1, 1], "extent": 0}, "greater than 0"),
    ("/api/neuron/plane", {"weights": [1, 1], "through": [[0, 0], [0, 0]]}, "the same"),
    ("/api/neuron/plane", {"weights": [1, 1], "through": [[0, 0]]}, "two finite points"),
])
def test_bad_requests_get_422_with_a_reason(client, path, body, fragment):
    r = client.post(path, json=body)
    assert r.status_code == 422, r.text
    assert fragment in r.json()["detail"]


@pytest.mark.parametrize("path, text", [
    ("/api/functions/activation", '{"activation": "tanh", "z": [1, NaN]}'),
    ("/api/functions/activation", '{"activation": "tanh", "z": [[1, Infinity]]}'),
    ("/api/functions/loss", '{"loss": "mse", "target": NaN, "predictions": [0.5]}'),
    ("/api/functions/loss", '{"loss": "mse", "target": 1, "predictions": [-Infinity]}'),
    ("/api/neuron/forward", '{"inputs": [NaN], "weights": [1]}'),
    ("/api/neuron/forward", '{"inputs": [1], "weights": [1], "bias": Infinity}'),
    ("/api/neuron/plane", '{"weights": [1, NaN]}'),
    ("/api/functions/activation", '{"activation": "tanh", "z": [1, 2'),
])
def test_non_finite_numbers_and_broken_json_get_422(client, path, text):
    r = client.post(path, content=text, headers={"Content-Type": "application/json"})
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert "finite" in detail or "not valid JSON" in detail


def test_limits_give_413():
    with make_client(max_function_points=10, max_plane_resolution=8) as small:
        ok = small.post("/api/functions/activation", json={"activation": "relu", "z": list(range(10))})
        assert ok.status_code == 200
        for path, body in [
            ("/api/functions/activation", {"activation": "relu", "z": list(range(11))}),
            ("/api/functions/activation", {"activation": "softmax", "z": [[0, 1, 2, 3]] * 3}),
            ("/api/functions/loss", {"loss": "mse", "target": 0, "predictions": [0.5] * 11}),
            ("/api/neuron/forward", {"inputs": [1] * 11, "weights": [1] * 11}),
            ("/api/neuron/forward", {"inputs": [1], "weights": [1], "activation": "softmax", "other_z": [0] * 11}),
            ("/api/neuron/plane", {"weights": [1, 1], "resolution": 9}),
        ]:
            r = small.post(path, json=body)
            assert r.status_code == 413, (path, r.text)
            assert "GLASSBOX_MAX_" in r.json()["detail"]
