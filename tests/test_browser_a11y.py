"""Browser: axe-core (bundled by axe-playwright-python, so it runs offline) finds no critical or serious
accessibility violation on any page; every page has a skip link to its main content."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

from app.pages import discovered_pages

pytestmark = pytest.mark.browser

PAGES = ["/"] + [p["path"] for p in discovered_pages()]
BLOCKING = {"critical", "serious"}


def blocking_violations(page) -> list[str]:
    """axe's critical and serious findings, one line each: rule, impact, the first offending elements."""
    results = Axe().run(page)
    lines = []
    for v in results.response["violations"]:
        if v["impact"] in BLOCKING:
            targets = [" ".join(map(str, n["target"])) + ": " + n.get("failureSummary", "").replace("\n", " ")[:160]
                       for n in v["nodes"][:4]]
            lines.append(f"{v['id']} ({v['impact']}, {len(v['nodes'])} nodes): {v['help']} — {targets}")
    return lines


def settle(page, path: str) -> None:
    """Wait until the page has drawn what its script builds (the first heading and no pending network)."""
    page.goto(path)
    page.wait_for_load_state("networkidle")
    page.locator("main").first.wait_for()


@pytest.mark.parametrize("path", PAGES)
def test_axe_finds_no_serious_violation(page, path):
    settle(page, path)
    found = blocking_violations(page)
    assert not found, "\n".join(found)


@pytest.mark.parametrize("path", PAGES)
def test_skip_link_reaches_main_content(page, path):
    settle(page, path)  # the page's scripts are in (the Playground writes its state into the hash first)
    page.keyboard.press("Tab")
    skip = page.locator(":focus")
    assert skip.inner_text().strip().lower().startswith("skip to")
    url = page.url
    skip.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    assert page.url == url  # the hash is left alone (the Playground keeps its state there)


def test_axe_after_use(page):
    """The states a learner reaches, not only the first paint: a pinned neuron and an open weight editor, a
    backprop walk half way, a pinned LeNet unit, the convolution's signed view."""
    page.goto("/playground")
    page.locator("body[data-ready=true]").wait_for()
    page.get_by_test_id("step-button").click()
    page.get_by_test_id("neuron-1-0").click()
    page.get_by_test_id("bias-1-1").click()
    page.get_by_test_id("value-editor").wait_for()
    found = blocking_violations(page)
    page.goto("/backprop")
    page.get_by_test_id("value-prediction").wait_for()
    for _ in range(4):
        page.keyboard.press("ArrowRight")
    found += blocking_violations(page)
    page.goto("/lenet")
    page.wait_for_function("document.querySelector('[data-testid=prediction]').textContent.trim().match(/^[0-9]$/)")
    page.locator(".net-out").first.click()
    found += blocking_violations(page)
    page.goto("/convolution?still")
    page.wait_for_selector("body[data-ready=true]")
    page.get_by_test_id("kernel-preset-emboss").click()
    page.get_by_test_id("kernel-view-signed").check()
    found += blocking_violations(page)
    assert not found, "\n".join(found)
