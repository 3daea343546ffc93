"""Browser: the /convolution page driven as a person would (step, play, resize, edit, presets, hover, draw, upload)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

CLASSIC_IMAGE = np.array([[1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 0], [0, 1, 1, 0, 0]])
CLASSIC_KERNEL = np.array([[1, 0, 1], [0, 1, 0], [1, 0, 1]])
PRESETS = ["identity", "edge1", "edge2", "edge3", "sharpen", "boxblur", "gauss3", "gauss5", "emboss", "sobelx",
           "sobely"]


def open_page(page, query: str = "") -> None:
    page.goto(f"/convolution{query}")
    page.wait_for_selector("body[data-ready=true]")


def text(page, testid: str) -> str:
    return " ".join(page.get_by_test_id(testid).inner_text().split())


def output_grid(page, rows: int, cols: int) -> list[list[str]]:
    return [[page.get_by_test_id(f"conv-cell-{r}-{c}").inner_text().strip() for c in range(cols)]
            for r in range(rows)]


def canvas_pixels(page, testid: str) -> str:
    return page.get_by_test_id(testid).evaluate("c => c.toDataURL()")


def set_number(page, testid: str, value: object) -> None:
    field = page.get_by_test_id(testid)
    field.fill(str(value))
    field.dispatch_event("change")


def test_step_through_the_nine_positions_of_the_classic_example(page):
    open_page(page)
    page.get_by_test_id("conv-cell-0-0").click()  # jumps the window to the first position and pauses
    expected = [[int((CLASSIC_IMAGE[r:r + 3, c:c + 3] * CLASSIC_KERNEL).sum()) for c in range(3)] for r in range(3)]
    for pos in range(9):
        r, c = divmod(pos, 3)
        window = CLASSIC_IMAGE[r:r + 3, c:c + 3]
        terms = " + ".join(f"{a}×{b}" for a, b in zip(window.ravel(), CLASSIC_KERNEL.ravel(), strict=True))
        assert text(page, "conv-arithmetic") == f"{terms} = {expected[r][c]}"
        assert text(page, "conv-position").startswith(f"position {pos + 1} of 9")
        grid = output_grid(page, 3, 3)
        for i in range(9):
            shown = grid[i // 3][i % 3]
            assert shown == (str(expected[i // 3][i % 3]) if i <= pos else ""), (pos, i, grid)
        if pos < 8:
            page.get_by_test_id("conv-step").click()
    assert output_grid(page, 3, 3) == [["4", "3", "4"], ["2", "4", "3"], ["2", "3", "4"]]
    # The first position as the issue writes it.
    page.get_by_test_id("conv-cell-0-0").hover()
    assert text(page, "conv-arithmetic") == "1×1 + 1×0 + 1×1 + 0×0 + 1×1 + 1×0 + 0×1 + 0×0 + 1×1 = 4"
    assert text(page, "conv-formula") == "output size = (5 + 2·0 − 3)/1 + 1 = 3"


def test_play_moves_the_window_and_pause_stops_it(page):
    page.clock.install()  # the page's timers run on a clock the test can fast-forward
    open_page(page, "?still")
    play = page.get_by_test_id("conv-play")
    page.get_by_test_id("conv-speed").select_option("100")
    play.click()
    assert play.get_attribute("aria-pressed") == "true"
    page.wait_for_function("Number(document.querySelector('[data-testid=conv-position]').dataset.pos) >= 2")
    play.click()
    assert play.get_attribute("aria-pressed") == "false"
    stopped = page.get_by_test_id("conv-position").get_attribute("data-pos")
    page.clock.run_for(2000)  # twenty ticks at this speed, had the timer survived the pause
    expect(page.get_by_test_id("conv-position")).to_have_attribute("data-pos", stopped)


def test_hovering_an_output_cell_jumps_the_window_there(page):
    open_page(page)
    page.get_by_test_id("conv-cell-2-1").hover()
    assert text(page, "conv-position").startswith("position 8 of 9")
    assert text(page, "conv-arithmetic").endswith("= 3")
    assert page.get_by_test_id("conv-play").get_attribute("aria-pressed") == "false"
    # The window frames input rows 2-4, columns 1-3: those cells carry the kernel's weights.
    framed = page.locator("[data-testid=conv-input-grid] .cell.in-window")
    assert framed.count() == 9
    assert page.get_by_test_id("conv-input-cell-2-1").get_attribute("data-weight") == "×1"


def test_sizes_that_do_not_fit_show_the_error(page):
    open_page(page, "?still")
    error = page.get_by_test_id("conv-size-error")
    assert error.is_hidden()
    set_number(page, "conv-input-size", 6)
    page.get_by_test_id("conv-cell-3-3").wait_for()  # 6×6 input, 3×3 kernel: 4×4 output
    set_number(page, "conv-stride", 2)
    error.wait_for(state="visible")
    assert "(6 + 2·0 − 3)/2 + 1 = 2.5 is not a whole number" in error.inner_text()
    assert text(page, "conv-formula") == "output size = (6 + 2·0 − 3)/2 + 1 = 2.5"
    assert "invalid" in page.get_by_test_id("conv-stride").get_attribute("class")
    assert page.get_by_test_id("conv-play").is_disabled()
    assert page.locator("[data-testid=conv-output-grid] .cell").count() == 0
    set_number(page, "conv-stride", 1)
    error.wait_for(state="hidden")
    page.get_by_test_id("conv-cell-3-3").wait_for()
    assert page.locator("[data-testid=conv-output-grid] .cell").count() == 16
    set_number(page, "conv-kernel-size", 7)
    error.wait_for(state="visible")
    assert "larger than the padded input" in error.inner_text()


def test_padding_draws_the_border_and_grows_the_output(page):
    open_page(page, "?still")
    set_number(page, "conv-padding", 1)
    page.get_by_test_id("conv-cell-4-4").wait_for()
    assert page.locator("[data-testid=conv-input-grid] .cell.pad").count() == 7 * 7 - 5 * 5
    assert text(page, "conv-formula") == "output size = (5 + 2·1 − 3)/1 + 1 = 5"
    page.get_by_test_id("conv-cell-0-0").hover()
    # Window over the top-left corner: five of its nine numbers are padding zeros.
    assert text(page, "conv-arithmetic") == "0×1 + 0×0 + 0×1 + 0×0 + 1×1 + 1×0 + 0×1 + 0×0 + 1×1 = 2"


def test_editing_input_and_kernel_cells_recomputes(page):
    open_page(page, "?still")
    cell = page.get_by_test_id("conv-input-cell-0-0").locator("input")
    cell.fill("5")
    cell.press("Enter")
    page.wait_for_function("document.querySelector('[data-testid=conv-cell-0-0]').innerText.trim() === '8'")
    kernel = page.get_by_test_id("conv-kernel-cell-1-1").locator("input")
    kernel.fill("-2")
    kernel.press("Enter")
    page.wait_for_function("document.querySelector('[data-testid=conv-cell-0-0]').innerText.trim() === '5'")
    assert text(page, "conv-arithmetic").startswith("5×1 + 1×0 + 1×1 + 0×0 + 1×(−2)")
    set_number(page, "conv-bias", 0.5)
    page.wait_for_function("document.querySelector('[data-testid=conv-cell-0-0]').innerText.trim() === '5.5'")
    assert text(page, "conv-arithmetic").endswith("0×0 + 1×1 + 0.5 = 5.5")


def test_multichannel_view_adds_three_channel_sums_and_the_bias(page):
    open_page(page, "?still")
    example = page.request.get("/api/conv/examples").json()["rgb"]
    image = np.pad(np.array(example["image"]), ((0, 0), (1, 1), (1, 1)))
    kernel = np.array(example["kernel"])
    page.get_by_test_id("mc-cell-1-2").hover()
    sums = [int((image[ch, 2:5, 4:7] * kernel[ch]).sum()) for ch in range(3)]
    total = sum(sums) + int(example["bias"])
    for ch in range(3):
        assert text(page, f"mc-sum-{ch}").endswith(f"= {sums[ch]}".replace("-", "−"))
    assert text(page, "mc-total").endswith(str(total).replace("-", "−"))
    assert text(page, "mc-cell-1-2") == str(total).replace("-", "−")


def test_each_kernel_preset_changes_the_output_image(page):
    open_page(page, "?still")
    output = page.get_by_test_id("kernel-image-output")
    previous = canvas_pixels(page, "kernel-image-output")
    for name in PRESETS:
        page.get_by_test_id(f"kernel-preset-{name}").click()
        page.wait_for_function("([c, before]) => c.toDataURL() !== before", arg=[output.element_handle(), previous])
        assert page.get_by_test_id(f"kernel-preset-{name}").get_attribute("aria-pressed") == "true"
        previous = canvas_pixels(page, "kernel-image-output")
    assert page.locator("[data-testid=kernel-editor] .cell").count() == 9  # back to 3×3 after the 5×5 Gaussian
    # Editing any cell switches to "custom" and changes the image again.
    cell = page.get_by_test_id("kernel-editor-cell-0-0").locator("input")
    cell.fill("3")
    cell.press("Enter")
    page.wait_for_function("([c, before]) => c.toDataURL() !== before", arg=[output.element_handle(), previous])
    assert page.get_by_test_id("kernel-preset-custom").get_attribute("aria-pressed") == "true"
    assert page.get_by_test_id("kernel-preset-sobely").get_attribute("aria-pressed") == "false"


def test_negative_outputs_are_shown_and_clipping_is_a_choice(page):
    open_page(page, "?still")
    before = page.get_by_test_id("kernel-stats").text_content()
    page.get_by_test_id("kernel-preset-sobelx").click()
    page.wait_for_function("before => document.querySelector('[data-testid=kernel-stats]').textContent !== before",
                           arg=before)
    below = int(page.get_by_test_id("kernel-stats").get_attribute("data-below-zero"))
    assert below > 0
    # First the filtered photo (clipped, as an image editor shows it), the signed values as the second view.
    assert f"{below:,} below 0" in text(page, "kernel-stats") and "Clipping hides" in text(page, "kernel-stats")
    photo = canvas_pixels(page, "kernel-image-output")
    page.get_by_test_id("kernel-view-signed").check()
    assert "below 0 (orange)" in text(page, "kernel-stats")
    assert canvas_pixels(page, "kernel-image-output") != photo
    # A blur keeps every output within 0–255: shown in gray, exactly, whatever the choice says.
    page.get_by_test_id("kernel-preset-gauss3").click()
    page.wait_for_function("document.querySelector('[data-testid=kernel-stats]').textContent.includes('nothing')")
    assert text(page, "kernel-stats").endswith("shown in gray like the input: nothing is clipped.")


def test_hovering_the_output_image_shows_that_pixels_arithmetic(page):
    open_page(page, "?still")
    page.get_by_test_id("kernel-preset-boxblur").click()
    page.wait_for_function("document.querySelector('[data-testid=kernel-description]').textContent.includes('mean')")
    canvas = page.get_by_test_id("kernel-image-output")
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.6)
    title = page.get_by_test_id("kernel-hover-title")
    title.wait_for(state="visible")
    words = title.inner_text().replace(",", "").replace(")", "").split()
    row, col = int(words[words.index("(row") + 1]), int(words[words.index("column") + 1])
    sample = page.request.get("/api/conv/samples/scene").json()["image"]
    expected = page.request.post("/api/conv/window", data={
        "image": sample, "kernel": [[1] * 3] * 3, "divisor": 9, "row": row, "col": col}).json()
    arithmetic = text(page, "kernel-hover-arithmetic")
    assert arithmetic.count("×") == 9
    window = np.array(sample)[row:row + 3, col:col + 3]
    assert arithmetic.startswith(f"{int(window[0, 0])}×0.111")
    assert abs(float(arithmetic.split("=")[-1].replace("−", "-")) - expected["total"]) < 0.01
    assert page.locator(".input-frame").is_visible() and page.locator(".output-frame").is_visible()


def test_drawing_a_digit_filters_it(page):
    open_page(page, "?still")
    before = canvas_pixels(page, "kernel-image-input")
    page.get_by_test_id("source-draw").click()
    pad = page.get_by_test_id("digit-pad").bounding_box()
    page.mouse.move(pad["x"] + pad["width"] * 0.5, pad["y"] + pad["height"] * 0.2)
    page.mouse.down()
    for t in range(1, 11):
        page.mouse.move(pad["x"] + pad["width"] * 0.5, pad["y"] + pad["height"] * (0.2 + 0.06 * t))
    page.mouse.up()
    page.wait_for_function("document.querySelector('[data-testid=kernel-image-input]').width === 48")
    assert canvas_pixels(page, "kernel-image-input") != before
    page.wait_for_function("document.querySelector('[data-testid=kernel-image-output]').width === 46")
    assert "Your drawing" in text(page, "kernel-source-note")


def test_uploading_a_photo_downscales_it_to_the_limit(page, tmp_path):
    photo = tmp_path / "stripes.png"
    pixels = np.zeros((300, 400, 3), dtype=np.uint8)
    pixels[:, ::20] = [255, 40, 40]
    Image.fromarray(pixels).save(photo)
    open_page(page, "?still")
    page.get_by_test_id("source-upload").click()
    page.get_by_test_id("kernel-upload").set_input_files(str(photo))
    page.wait_for_function("document.querySelector('[data-testid=kernel-image-input]').width === 256")
    assert page.get_by_test_id("kernel-image-input").evaluate("c => c.height") == 192
    assert "stripes.png, scaled to 256×192" in text(page, "kernel-source-note")
    page.wait_for_function("document.querySelector('[data-testid=kernel-image-output]').width === 254")


def test_parameter_calculator_defaults_and_edits(page):
    open_page(page, "?still")
    assert text(page, "param-fc") == "36,000,300"
    assert text(page, "param-conv") == "8,400"
    assert text(page, "param-fc-formula") == "200·200·3·300 + 300 = 36,000,300"
    assert text(page, "param-conv-formula") == "300·(3·3·3 + 1) = 8,400"
    page.get_by_test_id("param-units").fill("100")
    page.wait_for_function("document.querySelector('[data-testid=param-fc]').textContent === '12,000,100'")
    assert text(page, "param-conv") == "8,400"


def test_arithmetic_formatting(page):
    open_page(page, "?still")
    result = page.evaluate("""async () => {
        const m = await import('/static/js/convolution/arithmetic.js');
        const { formatValue } = await import('/static/js/lib/format.js');
        return [formatValue(4), formatValue(-2), formatValue(1 / 9), formatValue(123.456),
                formatValue(-0), m.termStrings([[1, -2]], [[3, 0.5]]).join(' + ')];
    }""")
    assert result == ["4", "−2", "0.111", "123.5", "0", "1×3 + (−2)×0.5"]


def test_page_texts(page):
    open_page(page, "?still")
    caption = text(page, "feature-map-caption")
    assert "kernel" in caption and "filter" in caption and "feature map" in caption
    note = page.locator("#cross-correlation").inner_text()
    assert "cross-correlation" in note and "flips the kernel by 180°" in note
