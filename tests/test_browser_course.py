"""Browser: the course as a learner takes it — start on the home page, go through the twelve lessons in order,
solve every exercise through its widget (drag, click, type) and see it pass; a wrong attempt gets a helpful
message; progress survives a reload and travels with a link; presenter mode moves with the keys; every page
fits a phone (390 × 844) with no horizontal scrolling and no overlapping controls."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def exercise(page, ex_id):
    return page.get_by_test_id(f"exercise-{ex_id}")


def check(page, ex_id, *, passed=True, timeout=20_000):
    """Press the exercise's Check and wait for the engine's verdict; returns its message."""
    form = exercise(page, ex_id)
    result = form.get_by_test_id("exercise-result")
    form.get_by_test_id("exercise-check").click()
    expect(result).to_have_attribute("data-passed", "true" if passed else "false", timeout=timeout)
    return result.inner_text()


def answer(page, ex_id, value, **kw):
    exercise(page, ex_id).get_by_test_id("exercise-answer").fill(str(value))
    return check(page, ex_id, **kw)


def widget_ready(page, widget_id):
    expect(page.locator(f"figure[data-widget='{widget_id}']")).to_have_attribute("data-ready", "true",
                                                                               timeout=20_000)


def next_lesson(page, number):
    page.get_by_test_id("lesson-next").last.click()
    expect(page).to_have_url(f"/learn/{number}")


def drag(page, start, end, steps=8):
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(*end, steps=steps)
    page.mouse.up()


def centre(locator):
    box = locator.bounding_box()
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def plane_point(page, x1, x2):
    """Client coordinates of (x1, x2) on the neuron's plane, which spans [−3, 3]²."""
    box = page.get_by_test_id("plane-overlay").bounding_box()
    return box["x"] + (x1 + 3) / 6 * box["width"], box["y"] + (3 - x2) / 6 * box["height"]


def toggle_feature(page, name, on):
    node = page.get_by_test_id(f"feature-{name}")
    if ("on" in (node.get_attribute("class") or "").split()) != on:
        node.click()
    if on:
        expect(node).to_have_class(__import__("re").compile(r"\bon\b"))
    else:
        expect(node).not_to_have_class(__import__("re").compile(r"\bon\b"))


def test_the_whole_course_as_a_learner(page):
    page.goto("/")
    page.get_by_test_id("start-course").click()
    expect(page).to_have_url("/learn/1")

    # 1 — the neuron: a wrong attempt first, then an AND gate from the sliders.
    widget_ready(page, "neuron")
    message = check(page, "fire-both-large", passed=False)
    assert "bias" in message and "(0, 0)" in message
    page.get_by_test_id("weight-1").fill("1")
    page.get_by_test_id("weight-2").fill("1")
    page.get_by_test_id("bias").fill("-1.5")
    expect(page.get_by_test_id("weighted-sum")).to_have_text("-0.500")
    assert "AND" in check(page, "fire-both-large")

    # Progress survives a reload.
    page.reload()
    expect(page.get_by_test_id("lesson-1")).to_have_attribute("data-state", "done")
    expect(exercise(page, "fire-both-large")).to_have_attribute("data-done", "true")
    next_lesson(page, 2)

    # 2 — activations: saturate the sigmoid, then silence a ReLU.
    widget_ready(page, "neuron")
    page.get_by_test_id("activation-sigmoid").click()
    page.get_by_test_id("bias").fill("4")
    check(page, "saturate-sigmoid")
    page.get_by_test_id("activation-relu").click()
    page.get_by_test_id("bias").fill("-2")
    check(page, "dead-relu")
    next_lesson(page, 3)

    # 3 — a linear classifier: drag the line's handles onto x₂ = −x₁.
    widget_ready(page, "neuron")
    expect(page.locator("#plane-points circle")).to_have_count(6)
    page.get_by_test_id("plane-overlay").scroll_into_view_if_needed()
    drag(page, centre(page.get_by_test_id("line-handle-1")), plane_point(page, -2, 2))
    drag(page, centre(page.get_by_test_id("line-handle-2")), plane_point(page, 2, -2))
    # The engine turned the handles into weights: the line runs between the groups once its last answer is in.
    page.wait_for_function("""() => {
      const m = /w₁ = (-?[\\d.]+), w₂ = (-?[\\d.]+), b = (-?[\\d.]+)/.exec(
        document.getElementById('plane-weights').textContent.replaceAll('−', '-'));
      if (!m) return false;
      const [w1, w2, b] = m.slice(1).map(Number);
      return w1 > 0 && Math.abs(w1 - w2) < 0.15 * w1 && b > -0.4 * w1 && b < w1;
    }""", timeout=10_000)
    check(page, "separate-points")
    next_lesson(page, 4)

    # 4 — the kernel model in the Playground: features, then a hidden layer.
    widget_ready(page, "playground")
    assert "x₁² + x₂²" in check(page, "circle-features", passed=False)
    toggle_feature(page, "x1", False)
    toggle_feature(page, "x1sq", True)
    toggle_feature(page, "x2sq", True)
    toggle_feature(page, "x2", False)
    check(page, "circle-features")
    toggle_feature(page, "x1", True)
    toggle_feature(page, "x2", True)
    toggle_feature(page, "x1sq", False)
    toggle_feature(page, "x2sq", False)
    page.get_by_test_id("add-layer").click()
    expect(page.get_by_test_id("layer-count")).to_have_text("1")
    assert "at least 3" in check(page, "circle-hidden", passed=False)  # a new layer starts with 2 neurons
    for n in (2, 3):
        page.get_by_test_id("add-neuron-1").click()
        expect(page.get_by_test_id(f"neuron-1-{n}")).to_be_visible()
    check(page, "circle-hidden")
    next_lesson(page, 5)

    # 5 — the two errors: type E, then make the neuron confidently wrong.
    widget_ready(page, "losses")
    assert "halves" in answer(page, "squared-error", "0.654", passed=False)
    answer(page, "squared-error", "0.327")
    page.get_by_test_id("loss-prediction").fill("0.05")
    check(page, "confidently-wrong")
    next_lesson(page, 6)

    # 6 — the loss surface: momentum wins at a small rate; a large one makes SGD diverge.
    widget_ready(page, "surface")
    expect(page.get_by_test_id("surface-path-momentum")).to_have_attribute("points", __import__("re").compile(r"\d"))
    check(page, "momentum-beats-sgd")
    page.get_by_test_id("surface-rate").fill("0.1")  # log scale: 10^0.1 ≈ 1.26
    expect(page.get_by_test_id("surface-result-sgd")).to_have_attribute("data-diverged", "true")
    check(page, "sgd-diverges")
    next_lesson(page, 7)

    # 7 — backpropagation: walk the step, then type the new weights.
    widget_ready(page, "backprop")
    for _ in range(3):
        page.get_by_test_id("walk-next").click()
    assert "before the step" in answer(page, "update-w5", "0.14", passed=False)
    answer(page, "update-w5", "0.1744")
    answer(page, "update-w1", "0.1213")
    next_lesson(page, 8)

    # 8 — universal approximation: 20 neurons in the widget, then the answer.
    widget_ready(page, "curve")
    page.get_by_test_id("approx-20").click()
    expect(page.get_by_test_id("neuron-1-19")).to_be_visible()
    exercise(page, "three-or-twenty").get_by_test_id("exercise-option-20").check()
    check(page, "three-or-twenty", timeout=60_000)
    next_lesson(page, 9)

    # 9 — the kinds of learning.
    form = exercise(page, "kinds-of-learning")
    for key, kind in (("digits", "supervised"), ("codes", "unsupervised"), ("cliff", "reinforcement")):
        form.get_by_test_id(f"exercise-question-{key}").select_option(kind)
    check(page, "kinds-of-learning")
    next_lesson(page, 10)

    # 10 — convolution: read the feature map, then pick a vertical-edge kernel.
    widget_ready(page, "sliding")
    answer(page, "feature-map-value", "4")
    widget_ready(page, "gallery")
    page.get_by_test_id("kernel-preset-identity").click()
    assert "add up to 0" in check(page, "vertical-edges", passed=False)
    page.get_by_test_id("kernel-preset-sobelx").click()
    check(page, "vertical-edges")
    next_lesson(page, 11)

    # 11 — parameters, then fool LeNet with one stroke across the 7 (it reads a 9).
    answer(page, "filter-parameters", "8400")
    widget_ready(page, "lenet")
    expect(page.get_by_test_id("prediction")).to_have_text("7")
    page.get_by_test_id("draw-canvas").scroll_into_view_if_needed()
    pad = page.get_by_test_id("draw-canvas").bounding_box()
    at = lambda col, row: (pad["x"] + (col + 0.5) / 28 * pad["width"], pad["y"] + (row + 0.5) / 28 * pad["height"])  # noqa: E731
    drag(page, at(10, 13), at(18, 13), steps=12)
    expect(page.get_by_test_id("prediction")).not_to_have_text("7")
    check(page, "fool-lenet")
    next_lesson(page, 12)

    # 12 — attention: one weight by hand.
    assert "mask" in answer(page, "attention-weight", "0.104", passed=False)
    answer(page, "attention-weight", "0.804")

    # Every lesson is done; the progress link carries it to a fresh browser.
    for n in range(1, 13):
        expect(page.get_by_test_id(f"lesson-{n}")).to_have_attribute("data-state", "done")
    link = page.get_by_test_id("progress-link").get_attribute("href")
    other = page.context.browser.new_context(base_url=page.url.split("/learn")[0])
    fresh = other.new_page()
    fresh.goto(link)
    expect(fresh.get_by_test_id("lesson-12")).to_have_attribute("data-state", "done")
    fresh.goto("/learn/3")
    expect(fresh.get_by_test_id("lesson-3")).to_have_attribute("data-state", "done")
    other.close()


def test_open_in_the_full_tool_carries_the_widget_state(page):
    page.goto("/learn/1")
    widget_ready(page, "neuron")
    page.get_by_test_id("bias").fill("-1.25")
    link = page.get_by_test_id("open-tool-neuron")
    link.hover()
    href = link.get_attribute("href")
    assert href.startswith("/neuron#") and "bias=-1.25" in href and "activation=step" in href
    page.goto(href)
    expect(page.get_by_test_id("bias")).to_have_value("-1.25")
    expect(page.get_by_test_id("activation-step")).to_have_attribute("aria-checked", "true")


def test_presenter_mode_moves_with_the_keys(page):
    page.goto("/learn/2")
    widget_ready(page, "neuron")
    page.get_by_test_id("presenter-mode").click()
    expect(page.locator("body")).to_have_class(__import__("re").compile("presenting"))
    count = page.get_by_test_id("presenter-count")
    total = page.locator(".lesson .slide").count()
    expect(count).to_have_text(f"1 / {total}")
    page.keyboard.press("ArrowRight")
    expect(count).to_have_text(f"2 / {total}")
    expect(page.locator(".slide.current")).to_have_count(1)
    page.keyboard.press("PageDown")  # a clicker's key
    expect(count).to_have_text(f"3 / {total}")
    # The widget on its slide is live: the activation buttons still work.
    expect(page.locator(".slide.current figure[data-widget='neuron']")).to_be_visible()
    page.get_by_test_id("activation-tanh").click()
    expect(page.get_by_test_id("activation-tanh")).to_have_attribute("aria-checked", "true")
    page.keyboard.press("ArrowLeft")
    expect(count).to_have_text(f"2 / {total}")
    page.keyboard.press("PageUp")
    expect(count).to_have_text(f"1 / {total}")
    page.keyboard.press("Escape")
    expect(page.locator("body")).not_to_have_class(__import__("re").compile("presenting"))


PAGES = ["/", "/learn", *[f"/learn/{n}" for n in range(1, 13)], "/neuron", "/playground", "/backprop",
         "/convolution", "/lenet", "/attention", "/autoencoder", "/qlearning"]

OVERLAPS = """() => {
  const visible = (el) => { const r = el.getBoundingClientRect(); const s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none'; };
  const scroller = (el) => { for (let a = el.parentElement; a; a = a.parentElement) {
    const o = getComputedStyle(a).overflowX; if (o === 'auto' || o === 'scroll') return a; } return null; };
  const controls = [...document.querySelectorAll('button, a[href], input:not([type=hidden]), select, textarea')]
    .filter(visible).filter((el) => !el.closest('[hidden], details:not([open]) > :not(summary)'));
  const found = [];
  for (let i = 0; i < controls.length; i++) for (let j = i + 1; j < controls.length; j++) {
    const a = controls[i], b = controls[j];
    if (a.contains(b) || b.contains(a) || scroller(a) !== scroller(b)) continue;
    const r = a.getBoundingClientRect(), q = b.getBoundingClientRect();
    const w = Math.min(r.right, q.right) - Math.max(r.left, q.left);
    const h = Math.min(r.bottom, q.bottom) - Math.max(r.top, q.top);
    if (w > 2 && h > 2 && w * h > 0.2 * Math.min(r.width * r.height, q.width * q.height))
      found.push(`${a.outerHTML.slice(0, 80)} ⟷ ${b.outerHTML.slice(0, 80)}`);
  }
  return found;
}"""


def test_every_page_fits_a_phone(browser, live_server):
    context = browser.new_context(viewport=PHONE, base_url=live_server, has_touch=True, is_mobile=True)
    page = context.new_page()
    try:
        for path in PAGES:
            page.goto(path)
            page.wait_for_load_state("networkidle")
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"], f"{path} is {width} px wide on a 390 px phone"
            overlaps = page.evaluate(OVERLAPS)
            assert not overlaps, f"{path}: overlapping controls {overlaps[:3]}"
    finally:
        context.close()
