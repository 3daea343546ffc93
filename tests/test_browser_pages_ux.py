"""Browser: what a new learner tripped on in Convolution, LeNet, Attention and the API docs (issue 21)."""

import pytest
from playwright.sync_api import expect

from tests.test_browser_attention import open_page as open_attention
from tests.test_browser_conv import canvas_pixels, set_number, text
from tests.test_browser_conv import open_page as open_conv
from tests.test_browser_lenet import open_lenet

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("preset", ["sharpen", "emboss", "edge1", "sobelx"])
def test_convolution_shows_the_filtered_photo_first(page, preset):
    open_conv(page, "?still")
    page.get_by_test_id(f"kernel-preset-{preset}").click()
    expect(page.get_by_test_id(f"kernel-preset-{preset}")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_test_id("kernel-view-photo")).to_be_checked()
    expect(page.get_by_test_id("kernel-stats")).not_to_contain_text("(orange)")
    # A photo: every output pixel is grey (r = g = b), not the blue/orange value map.
    coloured = page.evaluate("""() => {
      const c = document.querySelector('[data-testid=kernel-image-output]');
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i] !== d[i + 1] || d[i + 1] !== d[i + 2]) n++;
      return n;
    }""")
    assert coloured == 0
    photo = canvas_pixels(page, "kernel-image-output")
    page.get_by_test_id("kernel-view-signed").check()  # the second view: the signed values
    expect(page.get_by_test_id("kernel-stats")).to_contain_text("(orange)")
    assert canvas_pixels(page, "kernel-image-output") != photo


def test_convolution_pause_button_shows_the_pause_icon(page):
    open_conv(page, "?still")
    play = page.get_by_test_id("conv-play")
    icon_play, icon_pause = play.locator(".icon-play"), play.locator(".icon-pause")
    expect(icon_play).to_be_visible()
    expect(icon_pause).to_be_hidden()
    play.click()
    expect(play).to_have_attribute("aria-pressed", "true")
    expect(icon_pause).to_be_visible()
    expect(icon_play).to_be_hidden()
    play.click()
    expect(icon_play).to_be_visible()


def test_convolution_formula_follows_an_out_of_range_kernel(page):
    open_conv(page, "?still")
    set_number(page, "conv-kernel-size", 9)
    expect(page.get_by_test_id("conv-size-error")).to_be_visible()
    expect(page.get_by_test_id("conv-formula")).to_have_text("output size = (5 + 2·0 − 9)/1 + 1 = -3")
    assert "invalid-text" in page.get_by_test_id("conv-formula").get_attribute("class")
    assert page.get_by_test_id("conv-play").is_disabled()
    set_number(page, "conv-kernel-size", 3)
    expect(page.get_by_test_id("conv-formula")).to_have_text("output size = (5 + 2·0 − 3)/1 + 1 = 3")
    assert text(page, "conv-size-error") == ""


def test_attention_clears_the_old_output_after_an_invalid_sequence(page):
    open_attention(page)
    box = page.get_by_test_id("sequence-input")
    box.fill("3 1 4 1")
    box.press("Enter")
    page.wait_for_function("document.querySelector('[data-testid=model-src]')?.textContent === '3141'")
    box.fill("3 x 4")
    box.press("Enter")
    expect(page.get_by_test_id("attn-error")).to_contain_text("x")
    output = page.get_by_test_id("model-output")
    expect(output.get_by_test_id("model-output-cleared")).to_be_visible()
    expect(output.get_by_test_id("model-verdict")).to_have_count(0)
    expect(output.get_by_test_id("model-src")).to_have_count(0)
    page.console_errors[:] = [e for e in page.console_errors if "status of 422" not in e]
    box.fill("2 7 1")
    box.press("Enter")
    page.wait_for_function("document.querySelector('[data-testid=model-src]')?.textContent === '271'")
    expect(page.get_by_test_id("attn-error")).to_have_text("")


def test_attention_vector_chips_line_up_and_read(page):
    open_attention(page)
    page.get_by_test_id("qk-layer").select_option("decoder-0")
    page.wait_for_function("document.querySelector('[data-testid=qk-stage]').textContent.startsWith('Stage 1')")
    chips = page.evaluate("""() => [...document.querySelectorAll('.walk-table .vec:not(.compact), .walk-query .vec')]
      .map((v) => [...v.children].map((c) => {
        const r = c.getBoundingClientRect();
        const size = parseFloat(getComputedStyle(c).fontSize);
        return [Math.round(r.left * 10) / 10, Math.round(r.width * 10) / 10, size];
      }))""")
    assert len(chips) >= 2
    widths = {w for row in chips for _, w, _ in row}
    assert len(widths) == 1, widths  # every chip the same width
    assert min(size for row in chips for _, _, size in row) >= 12
    table_rows = chips[1:]  # the key vectors: one per row, their chips in the same columns
    lefts = [[x for x, _, _ in row] for row in table_rows]
    assert all(row == lefts[0] for row in lefts), lefts


def test_lenet_probabilities_are_honest(page):
    open_lenet(page)
    shown = page.evaluate("""async () => {
      const { formatProbability } = await import('/static/js/lib/format.js');
      return [0.996, 0.9995, 0.99999, 1, 0.5, 0.0004, 0].map(formatProbability);
    }""")
    assert shown == ["99.6%", ">99.9%", ">99.9%", ">99.9%", "50.0%", "<0.1%", "0%"]
    confidence = page.locator("#confidence").inner_text()
    assert "100%" not in confidence


def test_lenet_clicking_a_mistake_brings_the_pad_into_view(page):
    open_lenet(page)
    page.wait_for_function("document.querySelectorAll('[data-testid=mistakes] .mistake').length > 0")
    mistake = page.locator("[data-testid=mistakes] .mistake").first
    mistake.scroll_into_view_if_needed()
    pad = page.get_by_test_id("draw-canvas")
    assert pad.bounding_box()["y"] + pad.bounding_box()["height"] < 0  # scrolled out of view above
    mistake.click()
    page.wait_for_function("document.querySelector('[data-testid=true-label]').textContent.includes('True label')")
    page.wait_for_function("""() => {
      const r = document.querySelector('[data-testid=draw-canvas]').getBoundingClientRect();
      return r.top >= 0 && r.bottom <= innerHeight; }""")


def test_docs_lead_back_to_glassbox(page):
    page.goto("/docs")
    back = page.get_by_role("link", name="Back to Glassbox")
    expect(back).to_be_visible()
    back.click()
    page.wait_for_url("**/")
    assert page.title() == "Glassbox"


def draw_strokes(page, strokes, box):
    """Strokes in pad fractions (0..1), drawn with the mouse."""
    for stroke in strokes:
        x0, y0 = stroke[0]
        page.mouse.move(box["x"] + x0 * box["width"], box["y"] + y0 * box["height"])
        page.mouse.down()
        for x, y in stroke[1:]:
            page.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"], steps=8)
        page.mouse.up()


@pytest.mark.parametrize("where, size", [((0.2, 0.2), 0.22), ((0.5, 0.5), 0.8), ((0.78, 0.7), 0.3)])
def test_lenet_pen_follows_the_drawings_size(page, where, size):
    open_lenet(page)
    pad = page.get_by_test_id("draw-canvas")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    cx, cy = where
    h = size / 2
    # A "7", small or large, anywhere on the pad, slanted a little.
    draw_strokes(page, [[(cx - 0.6 * h, cy - h), (cx + 0.6 * h, cy - h), (cx - 0.15 * h, cy + h)]], box)
    page.wait_for_function("document.querySelector('[data-testid=prediction]').textContent.trim() === '7'")
    width = float(pad.get_attribute("data-stroke-width"))
    side = pad.evaluate("c => c.width")
    # The pen is 0.14 of the drawing's longer side (within 1/40 … 1/9 of the pad), not a fixed 1/12 of the pad.
    assert width == pytest.approx(min(side / 9, max(side / 40, 0.14 * 2 * h * side)), rel=0.08)
