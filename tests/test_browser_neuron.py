"""Browser: the neuron page, driven like a person — sliders, the activation chooser, the line's handles, the losses.

Expected numbers are worked out here with plain arithmetic, not read back from the engine.
"""

import math

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def set_neuron(page, inputs, weights, bias):
    for i, (x, w) in enumerate(zip(inputs, weights, strict=True), start=1):
        page.get_by_test_id(f"input-{i}").fill(str(x))
        page.get_by_test_id(f"weight-{i}").fill(str(w))
    page.get_by_test_id("bias").fill(str(bias))


def number(page, testid) -> float:
    return float(page.get_by_test_id(testid).inner_text().replace("−", "-"))


@pytest.fixture
def neuron_page(page):
    page.goto("/neuron")
    expect(page.get_by_test_id("weighted-sum")).not_to_have_text("…")
    expect(page.get_by_test_id("activation-curve")).to_have_count(1)
    return page


def test_page_is_first_in_the_story(neuron_page):
    page = neuron_page
    assert page.title() == "Neuron · Glassbox"
    nav = page.locator(".nav a").all_inner_texts()
    assert nav[:2] == ["Course", "Neuron"]  # the course first, then the first tool of its story
    expect(page.get_by_test_id("intro-lesson")).to_have_attribute("href", "/learn/1")
    for part in ("bio-neuron", "artificial-neuron", "plane-heatmap", "decision-line"):
        expect(page.get_by_test_id(part)).to_be_visible()
    # Nothing spills sideways at the two sizes people use.
    for size in ({"width": 1280, "height": 800}, {"width": 1920, "height": 1080}):
        page.set_viewport_size(size)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_weighted_sum_and_output(neuron_page):
    page = neuron_page
    inputs, weights, bias = [1.5, -0.75, 2.0], [0.6, 1.2, -0.35], 0.25
    page.get_by_test_id("activation-sigmoid").click()
    set_neuron(page, inputs, weights, bias)
    z = 1.5 * 0.6 + (-0.75) * 1.2 + 2.0 * (-0.35) + 0.25  # = -0.45
    expect(page.get_by_test_id("weighted-sum")).to_have_text(f"{z:.3f}")
    expect(page.get_by_test_id("neuron-output")).to_have_text(f"{1 / (1 + math.exp(-z)):.3f}")
    expect(page.get_by_test_id("term-3")).to_have_text(f"{2.0 * -0.35:.3f}")

    page.get_by_test_id("activation-tanh").click()
    expect(page.get_by_test_id("neuron-output")).to_have_text(f"{math.tanh(z):.3f}")
    page.get_by_test_id("activation-relu").click()
    expect(page.get_by_test_id("neuron-output")).to_have_text("0.000")
    page.get_by_test_id("bias").fill("1.5")
    z = z - 0.25 + 1.5
    expect(page.get_by_test_id("weighted-sum")).to_have_text(f"{z:.3f}")
    expect(page.get_by_test_id("neuron-output")).to_have_text(f"{z:.3f}")
    # The live drawing follows: the output node shows the same number.
    expect(page.locator("#art-a")).to_have_text(f"{z:.3f}")


def test_switching_activations_changes_the_plots(neuron_page):
    page = neuron_page
    curve = page.get_by_test_id("activation-curve")
    slope = page.get_by_test_id("derivative-curve")
    seen = {}
    current = page.locator("[data-testid^=activation-][aria-checked=true]").get_attribute("data-testid")
    for name in ("step", "sigmoid", "tanh", "relu", "linear", "softmax"):
        before = curve.get_attribute("d")
        page.get_by_test_id(f"activation-{name}").click()
        expect(page.get_by_test_id(f"activation-{name}")).to_have_attribute("aria-checked", "true")
        if current != f"activation-{name}":
            # The curve is redrawn when the engine's answer arrives; wait for it, not for the click.
            expect(curve).not_to_have_attribute("d", before)
        current = f"activation-{name}"
        seen[name] = (curve.get_attribute("d"), slope.get_attribute("d"))
    assert len({d for d, _ in seen.values()}) == 6, "every activation draws its own g(z)"
    assert len({d for _, d in seen.values()}) == 6, "every activation draws its own g′(z)"
    # The step's derivative is flat at 0: every point of its path has the same y.
    step_slope = seen["step"][1]
    ys = {p.split(",")[1] for p in step_slope.replace("M", " ").replace("L", " ").split()}
    assert len(ys) == 1
    # The current z is marked on both plots.
    for plot in ("activation-plot", "derivative-plot"):
        expect(page.get_by_test_id(plot).locator(".plot-marker circle")).to_have_count(1)


def test_softmax_over_three_neurons_sums_to_one(neuron_page):
    page = neuron_page
    page.get_by_test_id("activation-softmax").click()
    set_neuron(page, [1, 0, 0], [1, 0, 0], 0)  # z₁ = 1
    page.get_by_test_id("softmax-other-2").fill("2")
    page.get_by_test_id("softmax-other-3").fill("-1")
    total = math.exp(1) + math.exp(2) + math.exp(-1)
    for i, z in enumerate([1, 2, -1], start=1):
        expect(page.get_by_test_id(f"softmax-output-{i}")).to_have_text(f"{math.exp(z) / total:.3f}")
    expect(page.get_by_test_id("softmax-sum")).to_have_text("1.000")
    expect(page.get_by_test_id("neuron-output")).to_have_text(f"{math.exp(1) / total:.3f}")


def test_step_fires_when_z_crosses_zero(neuron_page):
    page = neuron_page
    page.get_by_test_id("activation-step").click()
    fires = page.get_by_test_id("fires")
    set_neuron(page, [1, 1, 1], [0.5, -0.25, 0], -0.2)  # z = 0.05
    expect(page.get_by_test_id("weighted-sum")).to_have_text("0.050")
    expect(fires).to_have_attribute("data-fires", "true")
    expect(fires).to_contain_text("Fires")
    expect(page.get_by_test_id("neuron-output")).to_have_text("1.000")
    expect(page.get_by_test_id("bio-neuron")).to_have_class("bio firing")

    page.get_by_test_id("bias").fill("-0.3")  # z = -0.05
    expect(page.get_by_test_id("weighted-sum")).to_have_text("-0.050")
    expect(fires).to_have_attribute("data-fires", "false")
    expect(fires).not_to_contain_text("Fires")
    expect(page.get_by_test_id("neuron-output")).to_have_text("0.000")

    page.get_by_test_id("bias").fill("-0.25")  # z = 0 exactly: the step stays silent
    expect(page.get_by_test_id("weighted-sum")).to_have_text("0.000")
    expect(fires).to_have_attribute("data-fires", "false")


def test_losses_for_a_confident_right_answer(neuron_page):
    page = neuron_page
    page.get_by_test_id("loss-target").select_option("1")
    page.get_by_test_id("loss-prediction").fill("0.9")
    expect(page.get_by_test_id("mse-value")).to_have_text("0.005")  # ½(1 − 0.9)²
    expect(page.get_by_test_id("ce-value")).to_have_text("0.105")  # −log 0.9
    expect(page.get_by_test_id("ce-grad")).to_have_text(f"{-1 / 0.9:.3f}")

    # Confidently wrong: squared error's push through the sigmoid nearly vanishes, cross-entropy's does not.
    page.get_by_test_id("loss-prediction").fill("0.02")
    expect(page.get_by_test_id("mse-gradz")).to_have_text(f"{(0.02 - 1) * 0.02 * 0.98:.3f}")
    expect(page.get_by_test_id("ce-gradz")).to_have_text(f"{0.02 - 1:.3f}")
    expect(page.get_by_test_id("saturation-note")).to_contain_text("cross-entropy")

    page.get_by_test_id("loss-target").select_option("0")
    expect(page.get_by_test_id("mse-value")).to_have_text(f"{0.5 * 0.02 ** 2:.3f}")
    expect(page.get_by_test_id("ce-value")).to_have_text(f"{-math.log(0.98):.3f}")


# True when the line w₁x₁ + w₂x₂ + b = 0 (the sliders' values) runs through both drag handles, read in plane
# coordinates (−3…3) from where the handles are drawn over the plane.
LINE_THROUGH_HANDLES = """() => {
  const value = (id) => Number(document.querySelector(`[data-testid=${id}]`).value);
  const [w1, w2, b] = ["weight-1", "weight-2", "bias"].map(value);
  const overlay = document.querySelector("[data-testid=plane-overlay]").getBoundingClientRect();
  return [1, 2].every((n) => {
    const handle = document.querySelector(`[data-testid=line-handle-${n}]`).getBoundingClientRect();
    const px = ((handle.x + handle.width / 2 - overlay.x) / overlay.width) * 6 - 3;
    const py = 3 - ((handle.y + handle.height / 2 - overlay.y) / overlay.height) * 6;
    return Math.abs(w1 * px + w2 * py + b) < 0.08;
  });
}"""


def test_dragging_the_line_sets_the_weights(neuron_page):
    page = neuron_page
    page.get_by_test_id("activation-tanh").click()
    before = [page.get_by_test_id(t).input_value() for t in ("weight-1", "weight-2", "bias")]
    handle = page.get_by_test_id("line-handle-1")
    handle.scroll_into_view_if_needed()
    box = handle.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 90, y + 30, steps=6)
    page.mouse.up()
    expect(page.get_by_test_id("weight-1")).not_to_have_value(before[0])
    # The line now runs through both handles: w·p + b ≈ 0 at each (plane coordinates from the drawing).
    # Answers to the drag's last moves may still be arriving: wait until the page has settled.
    page.wait_for_function(LINE_THROUGH_HANDLES, timeout=10_000)
    after = [float(page.get_by_test_id(t).input_value()) for t in ("weight-1", "weight-2", "bias")]
    assert after != [float(v) for v in before]
    # The neuron itself uses the new weights.
    inputs = [float(page.get_by_test_id(f"input-{i}").input_value()) for i in (1, 2, 3)]
    w3 = float(page.get_by_test_id("weight-3").input_value())
    z = inputs[0] * after[0] + inputs[1] * after[1] + inputs[2] * w3 + after[2]
    assert abs(number(page, "weighted-sum") - z) < 0.02


def test_arrow_keys_nudge_a_handle(neuron_page):
    page = neuron_page
    weights = page.get_by_test_id("plane-weights")
    expect(weights).to_contain_text("w₁ = 0.80")
    before = weights.inner_text()
    handle = page.get_by_test_id("line-handle-2")
    handle.focus()
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    expect(weights).not_to_have_text(before)
    expect(page.get_by_test_id("weight-1")).not_to_have_value("0.8")
