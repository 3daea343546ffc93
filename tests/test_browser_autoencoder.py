"""The /autoencoder page in headless Chromium: click two points of the map and see two different decoded digits;
draw a digit and see its point appear; train from scratch and watch the loss go down."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser
ANY = re.compile(r".+")


def open_page(page) -> None:
    page.goto("/autoencoder")
    # Ready when the first decode (at a test 8's code) has drawn and the grid has its 20 columns.
    expect(page.get_by_test_id("decoded-image")).to_have_attribute("data-x", ANY, timeout=30_000)
    expect(page.locator("[data-testid=reconstruction-grid] figure")).to_have_count(20)
    expect(page.locator("[data-testid=interpolation-strip] canvas")).to_have_count(12)


def pixels(page, testid: str) -> list[int]:
    return page.get_by_test_id(testid).evaluate(
        "c => Array.from(c.getContext('2d').getImageData(0, 0, 28, 28).data.filter((_, i) => i % 4 === 0))")


def test_click_two_points_decodes_two_different_digits(page):
    open_page(page)
    page.get_by_test_id("latent-map").scroll_into_view_if_needed()  # both clicks land on the screen
    box = page.get_by_test_id("latent-map").bounding_box()
    decoded = page.get_by_test_id("decoded-image")
    images = []
    for fx, fy in [(0.25, 0.3), (0.75, 0.75)]:
        x, y = box["x"] + fx * box["width"], box["y"] + fy * box["height"]
        before = decoded.get_attribute("data-x")
        page.mouse.click(x, y)
        expect(decoded).not_to_have_attribute("data-x", before)
        marker = page.locator("[data-testid=latent-point][data-kind=click]")
        expect(marker).to_be_visible()
        images.append(pixels(page, "decoded-image"))
    difference = sum(abs(a - b) for a, b in zip(*images, strict=True)) / 784
    assert difference > 15, f"the two decoded digits differ by only {difference:.1f} grey levels per pixel"
    expect(page.get_by_test_id("pca-map")).to_be_visible()


def test_draw_a_digit_and_its_point_appears(page):
    open_page(page)
    drawn = page.locator("[data-testid=latent-point][data-kind=drawn]")
    expect(drawn).to_have_count(0)
    box = page.get_by_test_id("draw-pad").bounding_box()
    x, y, side = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, box["width"]
    page.mouse.move(x, y - side * 0.32)
    page.mouse.down()
    for i in range(1, 21):
        page.mouse.move(x + side * 0.01 * i / 20, y - side * 0.32 + side * 0.64 * i / 20)
    page.mouse.up()
    expect(drawn).to_have_count(1)
    expect(page.get_by_test_id("drawn-at")).to_contain_text("Your digit's code is (")
    assert max(pixels(page, "drawn-reconstruction")) > 150  # the decoder drew something bright
    page.get_by_test_id("clear-button").click()
    expect(drawn).to_have_count(0)


def test_training_from_scratch_lowers_the_loss(page):
    open_page(page)
    page.get_by_test_id("train-button").click()
    curve = page.get_by_test_id("loss-curve")
    expect(curve).to_have_attribute("data-points", _at_least(5), timeout=30_000)
    first, last = float(curve.get_attribute("data-first-loss")), float(curve.get_attribute("data-last-loss"))
    assert last < first, f"the loss went from {first} to {last}"
    expect(page.get_by_test_id("train-status")).to_contain_text("epoch")
    page.get_by_test_id("train-pause").click()
    page.get_by_test_id("use-shipped").click()
    expect(page.get_by_test_id("use-shipped")).to_be_disabled()


def _at_least(n: int) -> re.Pattern[str]:
    """A pattern for whole numbers >= n (n < 10, up to 9999), for Playwright's attribute assertions."""
    return re.compile("^(" + "|".join([str(k) for k in range(n, 10)] + [r"[1-9]\d{1,3}"]) + ")$")
