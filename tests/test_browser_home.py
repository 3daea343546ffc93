"""Browser: the home page and the offline API docs render; the shared JS modules pass their unit tests."""

import pytest

pytestmark = pytest.mark.browser


def test_home_lists_the_tools(page):
    page.goto("/")
    assert page.title() == "Glassbox"
    assert page.get_by_role("heading", name="See how neural networks learn.").is_visible()
    cards = page.get_by_test_id("tool-list").locator("a")
    assert cards.count() >= 1
    # Every linked page exists.
    for href in cards.evaluate_all("els => els.map(e => e.getAttribute('href'))"):
        response = page.request.get(href)
        assert response.status == 200, href


def test_docs_render_offline(page):
    requested = []
    page.on("request", lambda r: requested.append(r.url))
    page.goto("/docs")
    page.locator(".swagger-ui .info .title").wait_for()
    assert "Glassbox" in page.locator(".swagger-ui .info .title").inner_text()
    page.locator(".opblock-summary-path", has_text="/api/networks").first.wait_for()
    base = page.url.split("/docs")[0]
    assert all(url.startswith(base) for url in requested), [u for u in requested if not u.startswith(base)]


def test_js_unit_tests_pass(page):
    page.goto("/test-assets/unit.html")
    page.wait_for_function("window.__results !== undefined")
    results = page.evaluate("window.__results")
    assert len(results) >= 8
    failed = [r for r in results if not r["ok"]]
    assert not failed, failed
