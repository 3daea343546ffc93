"""API tests for the course: the catalogue, every exercise's check (a right answer passes, a wrong one fails
with a message that says what to look at), bad attempts get clear 4xx, the loss surface of lesson 6, and the
lesson pages render with their widgets' markup."""

from __future__ import annotations

import numpy as np
import pytest

from engine.course import lessons, surface
from engine.lenet.mnist import load_mnist10k

SEVEN = load_mnist10k().test_inputs()[lessons.FOOL_DIGIT_INDEX, 0].astype(float)


def seven_with_bar() -> list[list[float]]:
    """The lesson's 7 with a short stroke closing its loop at the bottom: LeNet reads a 9."""
    image = SEVEN.copy()
    image[14:17, 10:18] = 1.0
    return image.tolist()


def neuron(**kw):
    return {"state": {"inputs": [1, 1, 0], "weights": [0, 0, 0], "bias": 0, "activation": "step", **kw}}


def playground(**config):
    return {"state": {"config": {"dataset": "circle", **config}}}


def surface_state(rate, start=(-1.5, 2.0)):
    return {"state": {"learning_rate": rate, "momentum": 0.9, "start": list(start)}}


# exercise id → (lesson, a right attempt, a wrong attempt, words the wrong answer's message must contain)
CASES = {
    "fire-both-large": (1, neuron(weights=[1, 1, 0], bias=-1.5), neuron(weights=[1, 1, 0], bias=-0.5),
                        "more negative"),
    "saturate-sigmoid": (2, neuron(activation="sigmoid", weights=[1, 0, 0], bias=4),
                         neuron(activation="sigmoid", weights=[1, 0, 0], bias=0.5), "steep"),
    "dead-relu": (2, neuron(activation="relu", weights=[0.5, 0, 0], bias=-1),
                  neuron(activation="relu", weights=[0.5, 0, 0], bias=1), "negative bias"),
    "separate-points": (3, neuron(weights=[1, 1, 0], bias=0), neuron(weights=[-0.6, 1, 0], bias=0.2),
                        "wrong side"),
    "circle-features": (4, playground(features=["x1sq", "x2sq"], hidden=[]),
                        playground(features=["x1", "x2"], hidden=[]), "x₁² + x₂²"),
    "circle-hidden": (4, playground(features=["x1", "x2"], hidden=[4]),
                      playground(features=["x1", "x2", "x1sq"], hidden=[4]), "only the raw inputs"),
    "squared-error": (5, {"answer": 0.327}, {"answer": 0.654}, "halves"),
    "confidently-wrong": (5, {"state": {"target": 1, "prediction": 0.05}},
                          {"state": {"target": 1, "prediction": 0.3}}, "closer to 0"),
    "momentum-beats-sgd": (6, surface_state(0.1), surface_state(1.0), "Lower the learning rate"),
    "sgd-diverges": (6, surface_state(1.2), surface_state(0.5), "Raise the learning rate"),
    "update-w5": (7, {"answer": "0.1744"}, {"answer": "0.1056"}, "wrong way"),
    "update-w1": (7, {"answer": 0.1213}, {"answer": 0.1241}, "updated w₅"),
    "three-or-twenty": (8, {"answer": "20"}, {"answer": "3"}, "test loss"),
    "kinds-of-learning": (9, {"answer": {"digits": "supervised", "codes": "unsupervised", "cliff": "reinforcement"}},
                          {"answer": {"digits": "supervised", "codes": "supervised", "cliff": "reinforcement"}},
                          "codes"),
    "feature-map-value": (10, {"answer": 4}, {"answer": 3}, "nine products"),
    "vertical-edges": (10, {"state": {"kernel": [[1, 0, -1], [2, 0, -2], [1, 0, -1]], "divisor": 1}},
                       {"state": {"kernel": [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]], "divisor": 1}},
                       "horizontal ones"),
    "filter-parameters": (11, {"answer": 8400}, {"answer": 3000}, "one channel"),
    "fool-lenet": (11, {"state": {"image": seven_with_bar()}}, {"state": {"image": SEVEN.tolist()}}, "still reads 7"),
    "attention-weight": (12, {"answer": 0.804}, {"answer": 0.104}, "mask"),
}


def test_every_exercise_has_a_case():
    assert set(CASES) == set(lessons.EXERCISES)


def test_catalogue_lists_twelve_lessons_in_order(client):
    body = client.get("/api/lessons").json()
    numbers = [lesson["number"] for lesson in body["lessons"]]
    assert numbers == list(range(1, 13))
    first = body["lessons"][0]
    assert first["path"] == "/learn/1" and first["tools"] == ["/neuron"]
    widget = first["widgets"][0]
    assert widget["kind"] == "neuron" and widget["preset"]["activation"] == "step"
    assert [e["id"] for e in first["exercises"]] == ["fire-both-large"]
    assert all(1 <= len(lesson["exercises"]) <= 3 for lesson in body["lessons"])
    assert client.get("/api/lessons/6").json()["widgets"][0]["kind"] == "surface"


@pytest.mark.parametrize("exercise", sorted(CASES))
def test_right_answer_passes_wrong_one_says_what_to_look_at(client, exercise):
    lesson, right, wrong, hint = CASES[exercise]
    url = f"/api/lessons/{lesson}/exercises/{exercise}/check"
    good = client.post(url, json=right)
    assert good.status_code == 200, good.text
    assert good.json()["passed"] is True, good.json()["message"]
    bad = client.post(url, json=wrong)
    assert bad.status_code == 200, bad.text
    verdict = bad.json()
    assert verdict["passed"] is False
    assert hint in verdict["message"], verdict["message"]
    assert verdict["message"].strip().lower() not in ("wrong", "wrong.", "incorrect")


def test_checks_measure_with_the_engine(client):
    verdict = client.post("/api/lessons/4/exercises/circle-features/check",
                          json=playground(features=["x1sq", "x2sq"], hidden=[])).json()
    assert verdict["measured"]["test_accuracy"] >= 0.95 and verdict["measured"]["hidden_layers"] == 0
    step = client.post("/api/lessons/7/exercises/update-w5/check", json={"answer": 0.1744}).json()
    assert step["measured"]["w5"] == pytest.approx(0.14 - 0.05 * 0.85 * (0.191 - 1))
    fooled = client.post("/api/lessons/11/exercises/fool-lenet/check", json=CASES["fool-lenet"][1]).json()
    assert fooled["measured"]["digit"] != 7 and fooled["measured"]["changed_pixels"] < 150


def test_a_playground_session_is_checked_by_its_configuration(client):
    created = client.post("/api/playground", json={"dataset": "circle", "features": ["x1sq", "x2sq"],
                                                   "hidden": []}).json()
    verdict = client.post("/api/lessons/4/exercises/circle-features/check", json={"session": created["id"]}).json()
    assert verdict["passed"] is True
    assert verdict["measured"]["features"] == ["x1sq", "x2sq"]


def test_an_erased_seven_is_not_a_fooled_network(client):
    blank = [[0.0] * 28 for _ in range(28)]
    verdict = client.post("/api/lessons/11/exercises/fool-lenet/check", json={"state": {"image": blank}}).json()
    assert verdict["passed"] is False and "ink is gone" in verdict["message"]


@pytest.mark.parametrize(("url", "body", "status", "words"), [
    ("/api/lessons/13/exercises/x/check", {}, 404, "lessons 1 to 12"),
    ("/api/lessons/1/exercises/dead-relu/check", {}, 404, "fire-both-large"),
    ("/api/lessons/1/exercises/fire-both-large/check", {}, 422, "state"),
    ("/api/lessons/1/exercises/fire-both-large/check", {"state": {"weights": "x"}}, 422, "weights"),
    ("/api/lessons/5/exercises/squared-error/check", {"answer": "many"}, 422, "must be a number"),
    ("/api/lessons/5/exercises/squared-error/check", {"answer": 1, "extra": 2}, 422, "extra"),
    ("/api/lessons/11/exercises/fool-lenet/check", {"state": {"image": [[0] * 27] * 28}}, 422, "28×28"),
    ("/api/lessons/4/exercises/circle-features/check", {"session": "nope"}, 404, "nope"),
    ("/api/lessons/8/exercises/three-or-twenty/check", {"answer": "7"}, 422, "answer one of"),
    ("/api/lessons/10/exercises/vertical-edges/check", {"state": {"kernel": [[1, 2], [3, 4]]}}, 422, "kernel"),
])
def test_bad_attempts_get_a_clear_4xx(client, url, body, status, words):
    r = client.post(url, json=body)
    assert r.status_code == status, r.text
    assert words in r.json()["detail"]


def test_loss_surface_and_paths_come_from_the_engine(client):
    r = client.post("/api/loss-surface", json={"learning_rate": 0.1, "start": [-1.5, 2.0], "steps": 40,
                                               "resolution": 21})
    assert r.status_code == 200, r.text
    body = r.json()
    grid = np.array(body["loss"])
    assert grid.shape == (21, 21) and grid.min() >= body["min_loss"] - 1e-12
    paths = {p["optimizer"]: p for p in body["paths"]}
    assert set(paths) == {"sgd", "momentum", "adam"}
    for p in paths.values():
        assert len(p["points"]) == len(p["losses"]) == 41
        assert p["points"][0] == [-1.5, 2.0]
        assert p["losses"][-1] < p["losses"][0]  # every optimiser goes downhill at this rate
    # The first SGD step is w − α∇E, ∇E = Hw − b for this quadratic E.
    w0 = np.array([-1.5, 2.0])
    grad = surface.HESSIAN @ w0 - surface.X.T @ surface.T[:, 0] / len(surface.X)
    assert paths["sgd"]["points"][1] == pytest.approx(list(w0 - 0.1 * grad))
    assert body["curvatures"] == pytest.approx([0.1, 1.9])


def test_loss_surface_rejects_bad_settings(client):
    assert client.post("/api/loss-surface", json={"learning_rate": 0}).status_code == 422
    r = client.post("/api/loss-surface", json={"start": [100, 0]})
    assert r.status_code == 422 and "start must lie within" in r.json()["detail"]
    assert client.post("/api/loss-surface", json={"steps": 100000}).status_code == 422


def test_sgd_diverges_above_two_over_the_steepest_curvature():
    below = surface.optimizer_path("sgd", (-1.5, 2.0), 0.95 * 2 / 1.9, 200)
    above = surface.optimizer_path("sgd", (-1.5, 2.0), 1.1 * 2 / 1.9, 200)
    assert below.losses[-1] < below.losses[0] and above.diverged


def test_lesson_pages_render_their_widgets_and_exercises(client):
    page = client.get("/learn/4").text
    assert 'data-testid="exercise-circle-features"' in page and 'id="play-button"' in page
    assert 'data-testid="lesson-next"' in page and 'href="/learn/5"' in page
    assert 'data-testid="presenter-mode"' in page
    assert "<math" in page
    assert client.get("/learn/neuron").url.path == "/learn/1"
    assert 'data-testid="lesson-12"' in client.get("/learn").text
    assert 'data-testid="start-course"' in client.get("/").text
    # Each tool page links to the lesson that introduces it.
    for path, number in [("/neuron", 1), ("/playground", 4), ("/backprop", 7), ("/convolution", 10),
                         ("/lenet", 11), ("/attention", 12), ("/autoencoder", 9), ("/qlearning", 9)]:
        assert f'href="/learn/{number}" data-testid="intro-lesson"' in client.get(path).text, path
