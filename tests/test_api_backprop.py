"""The API the backprop walkthrough page uses: the walk at both granularities (checked against the engine's
own forward/backward and against the matrix form), jumping the cursor, and changing a network's activation,
loss, learning rate and data while keeping its weights."""

import math

import numpy as np
import pytest

from engine.dense.trainer import Trainer

from .conftest import make_client

BIASED_SPEC = {
    "input_shape": [2], "dtype": "float64", "seed": 3, "batch_size": 3, "loss": "mse",
    "layers": [{"type": "dense", "units": 3, "activation": "tanh", "bias_init": 0.1},
               {"type": "dense", "units": 2, "activation": "sigmoid", "bias_init": -0.2},
               {"type": "dense", "units": 1, "activation": "sigmoid", "bias_init": 0.05}],
    "optimizer": {"type": "sgd", "learning_rate": 0.5},
}
POINTS = [[2.0, 3.0], [-1.0, 0.5], [0.25, -2.0]]
TARGETS = [1.0, 0.0, 0.5]


def create(client, **body):
    r = client.post("/api/networks", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def walk(client, sid, **body):
    r = client.post(f"/api/networks/{sid}/walk", json=body)
    assert r.status_code == 200, r.text
    return r.json()


def walk_to_end(client, sid, granularity):
    return walk(client, sid, granularity=granularity, to=10_000)


def sigmoid(z):
    return 1 / (1 + math.exp(-z))


def test_walk_state_names_the_network_before_any_stage(client):
    sid = create(client, preset="worked-example")["id"]
    state = client.get(f"/api/networks/{sid}/walk").json()
    assert state["position"] == -1 and state["current"] is None
    assert state["labels"]["neurons"] == [["i1", "i2"], ["h1", "h2"], ["prediction"]]
    assert state["params"] == {"0.weight": [[0.11, 0.12], [0.21, 0.08]], "1.weight": [[0.14], [0.15]]}
    # `to: -1` starts a walk without revealing anything: the data points are known, nothing else.
    state = walk(client, sid, granularity="neuron", to=-1)
    assert state["position"] == -1 and state["total"] == 8
    assert state["inputs"] == [[2.0, 3.0]] and state["targets"] == [[1.0]]
    assert state["revealed"] == []


def test_walk_jumps_and_the_weights_follow(client):
    sid = create(client, preset="worked-example")["id"]
    end = walk_to_end(client, sid, "neuron")
    assert end["position"] == 7 and end["current"]["phase"] == "update" and end["step"] == 1
    w5 = 0.14 - 0.05 * (-0.809 * 0.85)
    assert end["params"]["1.weight"][0][0] == pytest.approx(w5)
    back = walk(client, sid, granularity="neuron", to=3)
    assert back["current"]["phase"] == "loss" and back["step"] == 0
    assert back["params"]["1.weight"] == [[0.14], [0.15]]
    assert len(back["revealed"]) == 4
    # Changing the granularity restarts the walk, from the same starting weights.
    layer = walk(client, sid, granularity="layer", to=1)
    assert layer["granularity"] == "layer" and layer["current"]["title"] == "Forward: layer 2"
    assert layer["current"]["z"] == [[pytest.approx(0.191)]]


def test_walk_both_granularities_agree_with_the_engine_and_the_matrix_form(client):
    reference = Trainer(BIASED_SPEC)
    x, y = np.array(POINTS), np.array(TARGETS)
    out = reference.forward(x)
    reference.backward(x, y)
    n = len(POINTS)
    dense = {1: 0, 2: 2, 3: 4}
    stages = {}
    for granularity in ("layer", "neuron"):
        sid = create(client, spec=BIASED_SPEC)["id"]
        walk(client, sid, granularity=granularity, inputs=POINTS, targets=TARGETS, to=-1)
        stages[granularity] = walk_to_end(client, sid, granularity)["revealed"]

    by_layer = {(s["phase"], s["layer"]): s for s in stages["layer"]}
    for number, index in dense.items():
        fwd, bwd = by_layer[("forward", number)], by_layer[("backward", number)]
        layer = reference.net.layers[index]
        np.testing.assert_allclose(fwd["z"], reference.net.trace[index].output, atol=1e-12)
        np.testing.assert_allclose(fwd["a"], reference.net.trace[index + 1].output, atol=1e-12)
        np.testing.assert_allclose(bwd["grad_weight"], layer.grads["weight"], atol=1e-12)
        np.testing.assert_allclose(bwd["grad_bias"], layer.grads["bias"], atol=1e-12)
        # Matrix form: ∂E/∂W = (1/N) aᵀδ, ∂E/∂b = mean δ, ∂E/∂a_prev = δ Wᵀ, δ = ∂E/∂a ⊙ g′(z).
        a_prev, delta = np.array(bwd["inputs"]), np.array(bwd["delta"])
        np.testing.assert_allclose(bwd["grad_weight"], a_prev.T @ delta / n, atol=1e-12)
        np.testing.assert_allclose(bwd["grad_bias"], delta.mean(axis=0), atol=1e-12)
        np.testing.assert_allclose(bwd["dE_dinputs"], delta @ np.array(fwd["weight"]).T, atol=1e-12)
        np.testing.assert_allclose(delta, np.array(bwd["dE_da"]) * np.array(bwd["g_prime"]), atol=1e-12)
    loss = by_layer[("loss", None)]
    np.testing.assert_allclose(loss["delta"], out - y[:, None], atol=1e-12)
    assert loss["value"] == pytest.approx(float(np.mean(0.5 * (out[:, 0] - y) ** 2)))
    # ∂E/∂prediction for squared error is Δ itself, per data point.
    np.testing.assert_allclose(by_layer[("backward", 3)]["dE_da"], loss["delta"], atol=1e-12)

    # One neuron at a time gives the same numbers, column by column, with each weight's per-point products.
    for s in stages["neuron"]:
        if s["phase"] == "forward":
            twin = by_layer[("forward", s["layer"])]
            j = s["neuron"]
            np.testing.assert_allclose(s["z"], np.array(twin["z"])[:, j], atol=1e-12)
            np.testing.assert_allclose(s["a"], np.array(twin["a"])[:, j], atol=1e-12)
            products = np.array([t["product"] for t in s["terms"]]).sum(axis=0) + s["bias"]
            np.testing.assert_allclose(products, s["z"], atol=1e-12)
        elif s["phase"] == "backward":
            twin = by_layer[("backward", s["layer"])]
            j = s["neuron"]
            np.testing.assert_allclose(s["delta"], np.array(twin["delta"])[:, j], atol=1e-12)
            for i, g in enumerate(s["weight_grads"]):
                assert g["grad"] == pytest.approx(twin["grad_weight"][i][j], abs=1e-12)
                assert float(np.mean(g["per_example"])) == pytest.approx(g["grad"], abs=1e-12)
            if s["dE_da_sources"]:  # hidden: ∂E/∂a = Σ δ_next · w
                total = sum(np.array(src["delta"]) * src["weight"] for src in s["dE_da_sources"])
                np.testing.assert_allclose(s["dE_da"], total, atol=1e-12)
    update_layer, update_neuron = stages["layer"][-1], stages["neuron"][-1]
    assert update_layer["params"] == update_neuron["params"]
    for p in update_layer["params"]:
        assert p["new"] == pytest.approx(p["old"] - 0.5 * p["grad"], abs=1e-12)


def test_change_activation_keeps_the_weights_and_adds_g_prime(client):
    sid = create(client, preset="worked-example")["id"]
    r = client.patch(f"/api/networks/{sid}", json={"activation": "sigmoid", "output_activation": "sigmoid"})
    assert r.status_code == 200, r.text
    state = r.json()
    assert state["id"] == sid
    assert [layer["type"] for layer in state["layers"]] == ["dense", "sigmoid", "dense", "sigmoid"]
    assert state["params"] == {"0.weight": [[0.11, 0.12], [0.21, 0.08]], "2.weight": [[0.14], [0.15]]}
    h1, h2 = sigmoid(0.85), sigmoid(0.48)
    z = 0.14 * h1 + 0.15 * h2
    prediction = sigmoid(z)
    stages = walk_to_end(client, sid, "neuron")["revealed"]
    out = next(s for s in stages if s["phase"] == "forward" and s["neuron_label"] == "prediction")
    assert out["z"] == [pytest.approx(z)] and out["a"] == [pytest.approx(prediction)]
    back = next(s for s in stages if s["phase"] == "backward" and s["neuron_label"] == "prediction")
    g_prime = prediction * (1 - prediction)
    assert back["g_prime"] == [pytest.approx(g_prime)]
    grads = {g["weight_label"]: g["grad"] for g in back["weight_grads"]}
    assert grads["w6"] == pytest.approx((prediction - 1) * g_prime * h2)
    hidden = next(s for s in stages if s["phase"] == "backward" and s["neuron_label"] == "h1")
    grads = {g["weight_label"]: g["grad"] for g in hidden["weight_grads"]}
    assert grads["w1"] == pytest.approx((prediction - 1) * g_prime * 0.14 * h1 * (1 - h1) * 2)
    # And back to no activation (from the step's starting weights): the original numbers again.
    walk(client, sid, granularity="neuron", to=-1)
    client.patch(f"/api/networks/{sid}", json={"activation": "none", "output_activation": "none"})
    stages = walk_to_end(client, sid, "layer")["revealed"]
    assert stages[2]["value"] == pytest.approx(0.3272405)


def test_change_loss_to_cross_entropy(client):
    sid = create(client, preset="worked-example")["id"]
    r = client.patch(f"/api/networks/{sid}", json={"loss": "bce"})
    assert r.status_code == 422 and "sigmoid" in r.json()["detail"]
    r = client.patch(f"/api/networks/{sid}", json={"loss": "bce", "output_activation": "sigmoid"})
    assert r.status_code == 200, r.text
    assert r.json()["spec"]["loss"] == "bce"
    stages = walk_to_end(client, sid, "layer")["revealed"]
    loss = stages[2]
    p = sigmoid(0.191)
    assert loss["loss_name"] == "bce" and loss["value"] == pytest.approx(-math.log(p))
    # Sigmoid + cross-entropy: δ at the output is prediction − target.
    assert stages[3]["delta"] == [[pytest.approx(p - 1)]]
    # A target outside [0, 1] is refused with a reason, for the session's data and for a walk's.
    r = client.patch(f"/api/networks/{sid}", json={"data": {"X": [[2, 3]], "y": [2.0]}})
    assert r.status_code == 422 and "between 0 and 1" in r.json()["detail"]
    r = client.post(f"/api/networks/{sid}/walk", json={"granularity": "layer", "inputs": [[2, 3]], "targets": [2]})
    assert r.status_code == 422 and "between 0 and 1" in r.json()["detail"]


def test_change_learning_rate_and_data_points(client):
    sid = create(client, preset="worked-example")["id"]
    body = {"learning_rate": 0.1, "batch_size": 3,
            "data": {"X": [[2, 3], [1, 0], [0, 1]], "y": [1, 0.5, 0.25]}}
    r = client.patch(f"/api/networks/{sid}", json=body)
    assert r.status_code == 200, r.text
    state = r.json()
    assert state["spec"]["optimizer"]["learning_rate"] == 0.1 and state["data"]["num_train"] == 3
    assert len(state["history"]) == 1
    walked = walk_to_end(client, sid, "neuron")
    assert walked["inputs"] == [[2, 3], [1, 0], [0, 1]]
    loss = walked["revealed"][3]
    h = np.array([[2, 3], [1, 0], [0, 1]]) @ np.array([[0.11, 0.12], [0.21, 0.08]])
    pred = h @ np.array([0.14, 0.15])
    delta = pred - np.array([1, 0.5, 0.25])
    assert loss["per_example"] == pytest.approx(list(0.5 * delta**2))
    new = {p["label"]: p["new"] for p in walked["current"]["params"]}
    assert new["w6"] == pytest.approx(0.15 - 0.1 * float(np.mean(delta * h[:, 1])))
    # Training now runs full-batch steps on the three points, and the error falls.
    r = client.post(f"/api/networks/{sid}/train", json={"steps": 20})
    losses = [m["train_loss"] for m in r.json()["history"]]
    assert len(losses) == 20 and losses[-1] < losses[0]


def test_change_during_a_walk_undoes_the_unfinished_step(client):
    sid = create(client, preset="worked-example")["id"]
    walk(client, sid, granularity="layer", to=4)  # the update is not applied yet
    state = client.patch(f"/api/networks/{sid}", json={"learning_rate": 0.2}).json()
    assert state["params"]["1.weight"] == [[0.14], [0.15]] and state["step"] == 0
    assert client.get(f"/api/networks/{sid}/walk").json()["position"] == -1
    walk_to_end(client, sid, "layer")  # a finished step stays applied
    state = client.patch(f"/api/networks/{sid}", json={"learning_rate": 0.05}).json()
    assert state["step"] == 1 and state["params"]["1.weight"][1][0] == pytest.approx(0.15 + 0.2 * 0.809 * 0.48)


def test_an_imported_feature_network_walks_in_float64(client):
    spec = {"features": ["x1", "x2", "x1x2"], "seed": 2, "batch_size": 10,
            "layers": [{"type": "dense", "units": 3, "activation": "tanh", "bias_init": 0.1},
                       {"type": "dense", "units": 1, "activation": "tanh", "bias_init": 0.1}]}
    sid = create(client, spec=spec, data={"name": "circle", "seed": 1})["id"]
    exported = client.get(f"/api/networks/{sid}/export").json()
    r = client.post("/api/networks/import", json={**exported, "data": {"X": [[1.5, -2.0]], "y": [1.0]}})
    assert r.status_code == 201, r.text
    copy = r.json()["id"]
    r = client.patch(f"/api/networks/{copy}", json={"dtype": "float64", "batch_size": 1})
    assert r.status_code == 200 and r.json()["spec"]["dtype"] == "float64"
    np.testing.assert_allclose(r.json()["params"]["0.weight"], exported["weights"]["0.weight"], rtol=1e-7)
    walked = walk(client, copy, granularity="neuron", to=0)
    assert walked["labels"]["neurons"][0] == ["i1", "i2", "i3"]
    assert walked["points"] == [[1.5, -2.0]]
    assert walked["inputs"] == [[1.5, -2.0, -3.0]]  # x1, x2, x1·x2
    # The original session is untouched.
    assert client.get(f"/api/networks/{sid}").json()["data"]["num_train"] > 1


@pytest.mark.parametrize("body, status, message", [
    ({"activation": "softmax"}, 422, "activation"),
    ({"activation": "sigmoid", "extra": 1}, 422, "extra"),
    ({"learning_rate": 0}, 422, "learning_rate"),
    ({"loss": "cross_entropy"}, 422, "softmax"),
    ({"data": {"X": [[1, 2, 3]], "y": [1]}}, 422, "shape"),
    ({"batch_size": 10**6}, 413, "batch_size"),
])
def test_change_network_errors(client, body, status, message):
    sid = create(client, preset="worked-example")["id"]
    r = client.patch(f"/api/networks/{sid}", json=body)
    assert r.status_code == status, r.text
    assert message in r.json()["detail"]
    # A refused change leaves the session as it was.
    assert client.get(f"/api/networks/{sid}").json()["params"]["1.weight"] == [[0.14], [0.15]]


def test_change_network_unknown_id_and_non_dense():
    with make_client(max_data_points=5) as client:
        assert client.patch("/api/networks/nope", json={"learning_rate": 0.1}).status_code == 404
        sid = create(client, spec={"input_shape": [2], "layers": [{"type": "relu"}]})["id"]
        r = client.patch(f"/api/networks/{sid}", json={"activation": "tanh"})
        assert r.status_code == 422 and "dense" in r.json()["detail"]
        assert client.get(f"/api/networks/{sid}/walk").json()["labels"] is None  # nothing to name
        sid = create(client, preset="worked-example")["id"]
        r = client.patch(f"/api/networks/{sid}", json={"data": {"X": [[1, 2]] * 6, "y": [1] * 6}})
        assert r.status_code == 413


# --- typed stage records ---------------------------------------------------------------------------------------

STAGE_KINDS = {"forward_layer": "ForwardLayerStage", "forward_neuron": "ForwardNeuronStage", "loss": "LossStage",
               "backward_layer": "BackwardLayerStage", "backward_neuron": "BackwardNeuronStage",
               "update": "UpdateStage"}


def test_openapi_documents_every_stage_kind_as_a_discriminated_union(client):
    schema = client.get("/openapi.json").json()
    components = schema["components"]["schemas"]
    revealed = components["WalkState"]["properties"]["revealed"]["items"]
    assert revealed["discriminator"]["propertyName"] == "kind"
    mapping = {kind: ref.rsplit("/", 1)[-1] for kind, ref in revealed["discriminator"]["mapping"].items()}
    assert mapping == STAGE_KINDS
    for model in STAGE_KINDS.values():
        fields = components[model]["properties"]
        assert {"kind", "phase", "index", "title", "caption", "layer", "neuron"} <= set(fields), model
    assert components["ForwardNeuronStage"]["properties"]["terms"]["items"]["$ref"].endswith("/ForwardTerm")
    current = components["WalkState"]["properties"]["current"]
    assert any("discriminator" in option for option in current["anyOf"])


def test_the_engine_records_and_the_api_models_have_the_same_fields():
    """The app converts the engine's stage dataclasses field by field: nothing it computes is dropped or invented."""
    from dataclasses import fields

    from app.schemas import walk as schema
    from engine.dense import walk as engine

    pairs = [*((getattr(engine, name), getattr(schema, name)) for name in STAGE_KINDS.values()),
             (engine.ForwardTerm, schema.ForwardTerm), (engine.DeltaSource, schema.DeltaSource),
             (engine.WeightGrad, schema.WeightGrad), (engine.BiasGrad, schema.BiasGrad),
             (engine.ParamUpdate, schema.ParamUpdate), (engine.StageSummary, schema.StageSummary),
             (engine.Labels, schema.WalkLabels), (engine.WalkView, schema.WalkState)]
    for record, model in pairs:
        assert {f.name for f in fields(record)} == set(model.model_fields), record.__name__


@pytest.mark.parametrize("granularity", ["layer", "neuron"])
def test_every_stage_of_a_step_is_a_typed_record_of_its_kind(client, granularity):
    sid = create(client, spec=BIASED_SPEC)["id"]
    walk(client, sid, granularity=granularity, inputs=POINTS, targets=TARGETS, to=-1)
    state = walk_to_end(client, sid, granularity)
    kinds = [s["kind"] for s in state["revealed"]]
    per = "layer" if granularity == "layer" else "neuron"
    forward = [f"forward_{per}"] * (3 if per == "layer" else 6)
    assert kinds == forward + ["loss"] + [f"backward_{per}"] * len(forward) + ["update"]
    assert [s["kind"] for s in state["stages"]] == kinds
    assert all(s["phase"] == k.split("_")[0] for s, k in zip(state["revealed"], kinds, strict=True))
    assert state["current"]["kind"] == "update" and state["current"]["layer"] is None
    # The README's scripting example reads these three.
    assert all(isinstance(s["title"], str) and isinstance(s["caption"], str) for s in state["revealed"])
    base64 = client.get(f"/api/networks/{sid}/walk", params={"encoding": "base64"}).json()
    assert base64["current"]["before"]["0.weight"]["dtype"] == "float32"
