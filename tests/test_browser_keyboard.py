"""Browser: the Playground and LeNet pages used with the keyboard alone (no mouse): start training, change a
weight and a bias, inspect a unit, add a point; Train from scratch a few Tabs away on the LeNet page."""

import json

import pytest
from playwright.sync_api import expect

from tests.test_browser_playground import open_playground, session

pytestmark = pytest.mark.browser


def focused(page, attribute: str = "data-testid") -> str | None:
    return page.evaluate(f"document.activeElement && document.activeElement.getAttribute('{attribute}')")


def tab_to(page, test_id: str, limit: int = 80) -> int:
    """Press Tab until the element with `test_id` has the focus; returns how many presses it took."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if focused(page) == test_id:
            return presses
    raise AssertionError(f"{test_id} not reached in {limit} Tabs (last: {focused(page)})")


def first_weight(page, sid: str) -> float:
    doc = page.request.get(f"/api/networks/{sid}/export").json()
    first = sorted(doc["weights"])[0]  # the first dense layer's weight matrix
    return doc["weights"][first][0][0]


def test_playground_by_keyboard_alone(page):
    open_playground(page)
    sid = session(page)
    page.keyboard.press("Tab")
    assert focused(page) == "skip-link"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    # Start and stop training.
    tab_to(page, "play-button")
    page.keyboard.press("Enter")
    page.wait_for_function("Number(document.querySelector('[data-testid=epoch-counter]').dataset.epoch) >= 2")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("play-button")).to_have_attribute("aria-pressed", "false")
    # A weight: the links are one tab stop; Enter opens the editor, typing a value sets it.
    tab_to(page, "link-1-0-0")
    page.keyboard.press("ArrowDown")
    assert focused(page) == "link-1-0-1"
    page.keyboard.press("ArrowUp")
    assert focused(page) == "link-1-0-0"
    expect(page.get_by_test_id("tooltip")).to_contain_text("Weight is")
    page.keyboard.press("Enter")
    editor = page.get_by_test_id("value-editor")
    expect(editor).to_be_visible()
    assert focused(page) == "value-input"
    page.keyboard.type("2.5")
    page.keyboard.press("Enter")
    expect(editor).to_be_hidden()
    assert focused(page) == "link-1-0-0"  # back where the person was
    page.wait_for_function(f"fetch('/api/networks/{sid}/export').then(r => r.json()).then(d => "
                           "d.weights[Object.keys(d.weights).sort()[0]][0][0] === 2.5)")
    # A neuron: Enter pins its map to the large view.
    tab_to(page, "neuron-1-0")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("neuron-1-0")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_test_id("plot-label")).to_contain_text("hidden layer 1")
    # Its bias: the next stop; Escape closes its editor and gives the focus back.
    page.keyboard.press("Tab")
    assert focused(page) == "bias-1-0"
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("value-editor")).to_be_visible()
    page.keyboard.press("Escape")
    assert focused(page) == "bias-1-0"
    # A point: the plot has a cursor the arrows move; Enter adds a point of the chosen class there.
    before = len(page.request.get(f"/api/networks/{sid}/data").json()["train"]["x"])
    tab_to(page, "output-plot")
    expect(page.get_by_test_id("plot-cursor")).to_be_visible()
    for _ in range(4):
        page.keyboard.press("ArrowRight")
    page.keyboard.press("Shift+ArrowUp")
    page.keyboard.press("Enter")
    page.wait_for_function(f"fetch('/api/networks/{sid}/data').then(r => r.json())"
                           f".then(d => d.train.x.length === {before + 1})")
    points = page.request.get(f"/api/networks/{sid}/data").json()["train"]["x"]
    assert [2.0, 2.0] in [[round(a, 2), round(b, 2)] for a, b in points]
    page.keyboard.press("Delete")
    page.wait_for_function(f"fetch('/api/networks/{sid}/data').then(r => r.json())"
                           f".then(d => d.train.x.length === {before})")


def test_lenet_by_keyboard_alone(page):
    page.goto("/lenet")
    page.wait_for_function("document.querySelector('[data-testid=prediction]').textContent.trim().match(/^[0-9]$/)")
    page.wait_for_function("document.querySelectorAll('[data-testid=mistakes] .mistake').length > 20")
    tab_to(page, "random-digit")
    label = page.get_by_test_id("true-label").inner_text()
    page.keyboard.press("Enter")
    page.wait_for_function(f"document.querySelector('[data-testid=true-label]').innerText !== {json.dumps(label)}")
    # The network is one tab stop: a unit's arithmetic from the arrow keys, pinned with Enter.
    page.keyboard.press("Tab")
    while page.evaluate("!document.activeElement.classList.contains('net')"):
        page.keyboard.press("Tab")
    detail = page.get_by_test_id("unit-detail")
    expect(detail).to_contain_text("output")
    page.keyboard.press("ArrowLeft")  # fc2
    page.keyboard.press("ArrowDown")
    expect(detail).to_contain_text("fc2")
    page.keyboard.press("ArrowLeft")  # fc1
    page.keyboard.press("ArrowLeft")  # pool2
    page.keyboard.press("ArrowLeft")  # conv2
    page.keyboard.press("Shift+ArrowRight")
    expect(detail).to_contain_text("conv2")
    page.keyboard.press("Enter")
    page.wait_for_function("document.querySelector('[data-testid=unit-detail]').classList.contains('is-pinned')")
    # The thumbnails of the mistakes are one tab stop: Train from scratch is a few Tabs away, not 40.
    presses = 0
    while focused(page) != "train-start":
        page.keyboard.press("Tab")
        presses += 1
        assert presses <= 12, f"Train from scratch not reached in 12 Tabs (at {focused(page)})"
    page.keyboard.press("Enter")
    page.wait_for_function("/step [1-9]/.test(document.querySelector('[data-testid=train-status]').textContent)",
                           timeout=60_000)
    page.keyboard.press("Tab")
    assert focused(page) == "train-pause"
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("train-pause")).to_have_text("Resume")


def test_lenet_mistakes_move_with_the_arrow_keys(page):
    page.goto("/lenet")
    page.wait_for_function("document.querySelectorAll('[data-testid=mistakes] .mistake').length > 20")
    mistakes = page.locator("[data-testid=mistakes] .mistake")
    assert mistakes.evaluate_all("els => els.filter((e) => e.tabIndex === 0).length") == 1
    mistakes.first.focus()
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement === document.querySelectorAll('[data-testid=mistakes] .mistake')[1]")
    page.keyboard.press("Enter")
    page.wait_for_function("document.querySelector('[data-testid=true-label]').textContent.includes('True label')")
