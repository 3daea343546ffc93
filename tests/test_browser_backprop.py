"""Browser: the backprop walkthrough, driven as a learner would, checked against numbers computed by hand."""

import math
import re

import pytest

pytestmark = pytest.mark.browser

NUMBER = re.compile(r"[−-]?\d+(?:\.\d+)?(?:e[−+-]?\d+)?")

# The worked example by hand (HMKCode): no activations, squared error, α = 0.05, one data point.
I1, I2, TARGET, RATE = 2.0, 3.0, 1.0, 0.05
W = {"w1": 0.11, "w2": 0.21, "w3": 0.12, "w4": 0.08, "w5": 0.14, "w6": 0.15}
H1 = I1 * W["w1"] + I2 * W["w2"]
H2 = I1 * W["w3"] + I2 * W["w4"]
PREDICTION = H1 * W["w5"] + H2 * W["w6"]
ERROR = 0.5 * (PREDICTION - TARGET) ** 2
DELTA = PREDICTION - TARGET
GRADS = {"w1": DELTA * W["w5"] * I1, "w2": DELTA * W["w5"] * I2, "w3": DELTA * W["w6"] * I1,
         "w4": DELTA * W["w6"] * I2, "w5": DELTA * H1, "w6": DELTA * H2}
UPDATED = {name: W[name] - RATE * GRADS[name] for name in W}


def number(text: str) -> float:
    """The last number in a label ("E 0.327", "Δ −0.809", "0.85")."""
    found = NUMBER.findall(text.replace("−", "-"))
    assert found, f"no number in {text!r}"
    return float(found[-1])


def value(page, name: str) -> float:
    return number(page.get_by_test_id(f"value-{name}").text_content())


def close(shown: float, exact: float, digits: int = 3) -> bool:
    """`shown` is `exact` rounded to `digits` significant digits."""
    return math.isclose(shown, exact, rel_tol=0.5 * 10 ** (1 - digits) + 1e-12)


def stage(page) -> str:
    return page.get_by_test_id("step-counter").text_content()


def click_and_wait(page, testid: str) -> None:
    before = stage(page)
    page.get_by_test_id(testid).click()
    page.wait_for_function("b => document.querySelector('[data-testid=step-counter]').textContent !== b", arg=before)


def open_page(page):
    page.goto("/backprop")
    page.get_by_test_id("value-w1").wait_for()
    page.wait_for_function("document.querySelector('[data-testid=step-counter]').textContent.includes('not started')")


def test_step_through_the_worked_example_and_back(page):
    open_page(page)
    assert (value(page, "i1"), value(page, "i2")) == (I1, I2)
    assert {name: value(page, name) for name in W} == W
    assert page.get_by_test_id("value-h1").text_content() == "?"

    click_and_wait(page, "walk-next")
    assert close(value(page, "h1"), H1) and page.get_by_test_id("value-h2").text_content() == "?"
    formula = page.get_by_test_id("stage-formula")
    assert formula.locator("math").count() >= 1
    text = formula.text_content()
    for piece in ("2", "0.11", "3", "0.21", "0.85"):
        assert piece in text
    assert "h₁" in page.get_by_test_id("stage-caption").text_content()

    click_and_wait(page, "walk-next")
    assert close(value(page, "h2"), H2)
    click_and_wait(page, "walk-next")
    assert close(value(page, "prediction"), PREDICTION)
    click_and_wait(page, "walk-next")  # the loss
    assert close(value(page, "error"), ERROR) and close(value(page, "delta"), DELTA)
    assert "Δ = prediction − target" in page.get_by_test_id("stage-caption").text_content()
    assert close(number(page.get_by_test_id("stage-formula").get_by_test_id("error-formula").text_content()), ERROR)

    click_and_wait(page, "walk-next")  # backward through the prediction: w5, w6
    assert close(number(page.get_by_test_id("grad-w6").text_content()), GRADS["w6"])
    assert close(number(page.get_by_test_id("grad-w5").text_content()), GRADS["w5"])
    assert page.get_by_test_id("grad-w1").count() == 0
    chain = page.get_by_test_id("stage-formula").text_content()
    assert "∂E∂w6" in chain.replace(" ", "") and "−0.809" in chain and "0.48" in chain
    assert "how much the error changes" in page.get_by_test_id("stage-caption").text_content()
    click_and_wait(page, "walk-next")  # h1: w1, w2
    click_and_wait(page, "walk-next")  # h2: w3, w4
    for name in ("w1", "w2", "w3", "w4"):
        assert close(number(page.get_by_test_id(f"grad-{name}").text_content()), GRADS[name])
    click_and_wait(page, "walk-next")  # the update
    assert "stage 8 of 8" in stage(page)
    table = page.get_by_test_id("stage-formula").get_by_test_id("update-table")
    shown = table.locator("mn[data-value]").all_text_contents()
    for name, new in UPDATED.items():
        assert close(value(page, name), new), name
        assert any(close(number(t), new, 4) for t in shown), (name, shown)

    # Back undoes the update, then the gradients, then the forward values.
    click_and_wait(page, "walk-back")
    assert {name: value(page, name) for name in W} == W
    for _ in range(3):  # to the loss stage
        click_and_wait(page, "walk-back")
    assert page.get_by_test_id("grad-w6").count() == 0 and close(value(page, "error"), ERROR)
    click_and_wait(page, "walk-reset")
    assert page.get_by_test_id("value-prediction").text_content() == "?"

    # One stage per layer: the same numbers, in fewer stages.
    page.get_by_test_id("granularity").select_option("layer")
    page.wait_for_function("document.querySelectorAll('[data-testid^=stage-]').length > 0 && "
                           "document.querySelector('[data-testid=stage-5]') && "
                           "!document.querySelector('[data-testid=stage-6]')")
    click_and_wait(page, "walk-next")
    assert close(value(page, "h1"), H1) and close(value(page, "h2"), H2)
    click_and_wait(page, "walk-next")
    assert close(value(page, "prediction"), PREDICTION)


def test_edit_w5_changes_the_prediction(page):
    open_page(page)
    for _ in range(3):
        click_and_wait(page, "walk-next")
    assert close(value(page, "prediction"), PREDICTION)
    page.get_by_test_id("value-w5").click()
    editor = page.get_by_test_id("number-editor")
    editor.fill("0.5")
    editor.press("Enter")
    page.wait_for_function("document.querySelector('[data-testid=value-w5]').textContent === '0.5'")
    page.wait_for_function("document.querySelector('[data-testid=value-prediction]').textContent !== '0.191'")
    assert close(value(page, "prediction"), H1 * 0.5 + H2 * W["w6"])
    assert "stage 3 of 8" in stage(page)  # the walk stays where the learner was


def test_sigmoid_brings_the_g_prime_factor(page):
    open_page(page)
    page.get_by_test_id("activation").select_option("sigmoid")
    page.wait_for_function("document.querySelector('[data-testid=network-summary]').textContent.includes('sigmoid')")
    for _ in range(5):
        click_and_wait(page, "walk-next")
    sigmoid = lambda z: 1 / (1 + math.exp(-z))  # noqa: E731
    h1, h2 = sigmoid(H1), sigmoid(H2)
    z = h1 * W["w5"] + h2 * W["w6"]
    prediction = sigmoid(z)
    g_prime = prediction * (1 - prediction)
    assert close(value(page, "prediction"), prediction)
    formula = page.get_by_test_id("stage-formula")
    factor = formula.get_by_test_id("g-prime")
    assert factor.count() == 1 and "g′" in factor.text_content()
    assert close(number(factor.text_content()), g_prime, 4)
    # g′(z) sits in the chain of every weight's gradient.
    w6 = (prediction - TARGET) * g_prime * h2
    assert close(number(formula.get_by_test_id("formula-grad-w6").text_content()), w6, 4)
    chain = formula.locator("mtable.math-chain", has=page.get_by_test_id("formula-grad-w6"))
    assert "g′" in chain.text_content()
    assert "sigmoid" in page.get_by_test_id("stage-caption").text_content()


def test_matrix_tab_agrees_with_the_per_weight_view(page):
    open_page(page)
    page.get_by_test_id("speed").select_option("350")
    page.get_by_test_id("walk-play").click()  # plays through the whole step, then stops
    page.wait_for_function("document.querySelector('[data-testid=step-counter]').textContent.includes('8 of 8')",
                           timeout=20_000)
    page.wait_for_function("document.querySelector('[data-testid=walk-play]').getAttribute('aria-pressed') === 'false'")
    per_weight = {name: value(page, name) for name in W}
    grads = {name: number(page.get_by_test_id(f"grad-{name}").text_content()) for name in W}
    page.get_by_test_id("matrix-tab").click()
    view = page.get_by_test_id("matrix-view")
    view.get_by_test_id("matrix-W2-new").wait_for()

    def cells(testid):
        return [float(x) for x in view.get_by_test_id(testid).locator("mn").evaluate_all(
            "els => els.map(e => e.dataset.value)")]

    # W¹ is [[w1, w3], [w2, w4]] (column j holds the weights into neuron j); W² is [[w5], [w6]].
    order1, order2 = ["w1", "w3", "w2", "w4"], ["w5", "w6"]
    for got, name in zip(cells("matrix-W1-new") + cells("matrix-W2-new"), order1 + order2, strict=True):
        assert close(per_weight[name], got), name
        assert math.isclose(got, UPDATED[name], rel_tol=1e-12)
    for got, name in zip(cells("matrix-dW1") + cells("matrix-dW2"), order1 + order2, strict=True):
        assert close(grads[name], got), name
    assert cells("matrix-z1") == pytest.approx([H1, H2])
    assert cells("matrix-delta") == pytest.approx([DELTA])
    assert "i" in view.text_content() and "Δ" in view.text_content()


def test_data_points_make_delta_a_vector_and_training_lowers_the_error(page):
    open_page(page)
    page.get_by_test_id("add-point").click()
    page.get_by_test_id("data-y-2").wait_for()
    page.get_by_test_id("data-x-2-1").fill("1")
    page.get_by_test_id("data-x-2-1").press("Tab")
    page.wait_for_function("document.querySelector('[data-testid=step-counter]').textContent.includes('2 data points')")
    page.get_by_test_id("learning-rate").fill("0.1")
    page.get_by_test_id("learning-rate").press("Tab")
    page.wait_for_function("document.querySelector('[data-testid=network-summary]').textContent.includes('0.1')")
    for _ in range(4):
        click_and_wait(page, "walk-next")
    # Point 2 is (1, 3) → 1: its own Δ, and E is the mean over both points.
    page.get_by_test_id("point-2").click()
    h1, h2 = 1 * W["w1"] + 3 * W["w2"], 1 * W["w3"] + 3 * W["w4"]
    delta2 = h1 * W["w5"] + h2 * W["w6"] - TARGET
    assert close(value(page, "delta"), delta2)
    assert close(value(page, "error"), (ERROR + 0.5 * delta2**2) / 2)
    page.get_by_test_id("matrix-tab").click()
    deltas = page.get_by_test_id("matrix-delta").locator("mn").evaluate_all("els => els.map(e => +e.dataset.value)")
    assert deltas == pytest.approx([DELTA, delta2])
    assert "1/2" in page.get_by_test_id("matrix-view").text_content()

    page.get_by_test_id("train-steps").select_option("10")
    page.get_by_test_id("train").click()
    status = page.get_by_test_id("train-status")
    page.wait_for_function("document.querySelector('[data-testid=train-status]').textContent.startsWith('Trained')")
    before, after = (number(t) for t in NUMBER.findall(status.text_content().replace("−", "-"))[-2:])
    assert after < before
    assert close(before, (ERROR + 0.5 * delta2**2) / 2)
    assert "step 10" in page.get_by_test_id("network-summary").text_content()


def test_open_a_playground_network_by_session_id(page, live_server):
    spec = {"features": ["x1", "x2"], "seed": 3, "batch_size": 10,
            "layers": [{"type": "dense", "units": 3, "activation": "tanh", "bias_init": 0.1},
                       {"type": "dense", "units": 1, "activation": "tanh", "bias_init": 0.1}]}
    created = page.request.post(f"{live_server}/api/networks",
                                data={"spec": spec, "data": {"name": "circle", "seed": 0}})
    assert created.status == 201
    sid = created.json()["id"]
    open_page(page)
    page.get_by_test_id("open-session").fill(sid)
    page.get_by_test_id("open-session-go").click()
    page.wait_for_function("document.querySelector('[data-testid=network-summary]').textContent.includes('session')")
    assert "2 → 3 → 1" in page.get_by_test_id("network-summary").text_content()
    assert page.get_by_test_id("value-b1").text_content().startswith("b1")
    assert page.get_by_test_id("value-h3").count() == 1
    click_and_wait(page, "walk-next")
    assert page.get_by_test_id("value-h1").text_content() != "?"
    assert "tanh" in page.get_by_test_id("stage-caption").text_content()
    # The Playground's session keeps its own data.
    assert page.request.get(f"{live_server}/api/networks/{sid}").json()["data"]["num_train"] > 1

    # A link from the Playground: /backprop?session=<id>; an unknown id falls back to the worked example.
    page.goto(f"/backprop?session={sid}")
    page.wait_for_function("document.querySelector('[data-testid=network-summary]').textContent.includes('2 → 3 → 1')")
    page.goto("/backprop?session=nope")
    page.wait_for_function("document.querySelector('[data-testid=error]').textContent.includes('nope')")
    assert "worked example" in page.get_by_test_id("network-summary").text_content()
    # The browser logs the intended 404 of that lookup; nothing else may fail.
    page.console_errors[:] = [e for e in page.console_errors if "404" not in e]

    page.get_by_test_id("open-json").evaluate("el => el.closest('details').open = true")
    page.get_by_test_id("open-json").fill("{not json")
    page.get_by_test_id("open-json-go").click()
    page.wait_for_function("document.querySelector('[data-testid=error]').textContent.includes('not valid JSON')")
    page.get_by_test_id("learning-rate").fill("-1")
    page.get_by_test_id("learning-rate").press("Tab")
    assert "positive" in page.get_by_test_id("error").text_content()
