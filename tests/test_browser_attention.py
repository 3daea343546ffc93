"""Browser: the Attention page trains a transformer live and shows its maps five ways."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.browser


def open_page(page, task: str | None = None):
    page.goto("/attention")
    page.get_by_test_id("head-cross-0-0").wait_for()
    if task:
        page.get_by_test_id(f"task-{task}").click()
        page.wait_for_function(f"document.querySelector('[data-testid=task-{task}]').getAttribute('aria-checked') "
                               "=== 'true' && document.querySelector('[data-testid=model-output] .tok') !== null")
    page.locator("[data-testid=model-output] .tok").first.wait_for()


def accuracy(page) -> float:
    text = page.get_by_test_id("attn-accuracy").inner_text()
    return float(text.replace("%", "").strip()) if "%" in text else 0.0


def test_reverse_trains_live_then_reverses_a_typed_sequence(page):
    open_page(page)
    assert page.get_by_test_id("attn-step-count").inner_text() == "000000"
    page.get_by_test_id("attn-play").click()
    page.wait_for_function(
        "parseFloat(document.querySelector('[data-testid=attn-accuracy]').textContent) > 90", timeout=120_000)
    reached = int(page.get_by_test_id("attn-step-count").inner_text())
    # A little further, as a person would let it run, then pause.
    page.wait_for_function(f"parseInt(document.querySelector('[data-testid=attn-step-count]').textContent) >= "
                           f"{reached + 60}", timeout=60_000)
    page.get_by_test_id("attn-play").click()
    page.wait_for_function("document.querySelector('[data-testid=attn-play]').getAttribute('aria-pressed') "
                           "=== 'false'")
    assert accuracy(page) > 90
    assert float(page.get_by_test_id("attn-loss").inner_text()) < 0.5
    box = page.get_by_test_id("sequence-input")
    box.fill("3 1 4 1 5 9 2 6")
    box.press("Enter")
    tokens = page.get_by_test_id("model-output-tokens")
    page.wait_for_function("document.querySelector('[data-testid=model-src]')?.textContent === '31415926'")
    assert tokens.locator(".tok").all_inner_texts() == ["6", "2", "9", "5", "1", "4", "1", "3"]
    assert "right" in page.get_by_test_id("model-verdict").inner_text()
    # Some cross-attention head of the typed sequence is an anti-diagonal: query i looks mostly at key 7 − i.
    best = 0
    for testid in ("head-cross-0-0", "head-cross-0-1", "head-cross-1-0", "head-cross-1-1"):
        page.get_by_test_id(testid).click()
        best = max(best, page.evaluate(ANTI_DIAGONAL_HITS))
    assert best >= 6


# Rows of the matrix view whose darkest cell (the largest weight) sits on the anti-diagonal.
ANTI_DIAGONAL_HITS = """() => {
    const rows = {};
    for (const c of document.querySelectorAll('[data-testid=matrix-view] rect.cell')) {
      const [r, g, b] = c.getAttribute('fill').match(/\\d+/g).map(Number);
      const dark = -(0.299 * r + 0.587 * g + 0.114 * b);
      const i = +c.dataset.row, j = +c.dataset.col;
      if (!(i in rows) || dark > rows[i].dark) rows[i] = {j, dark};
    }
    const n = Object.keys(rows).length;
    return Object.entries(rows).filter(([i, v]) => v.j === n - 1 - Number(i)).length;
}"""


def test_hovering_a_matrix_cell_highlights_its_query_and_key_tokens(page):
    open_page(page)
    page.get_by_test_id("matrix-cell-2-5").hover()
    assert "hl" in page.get_by_test_id("matrix-row-2").get_attribute("class")
    assert "hl" in page.get_by_test_id("matrix-col-5").get_attribute("class")
    readout = page.get_by_test_id("matrix-readout").inner_text()
    assert re.search(r"\(position 3\) → key “\d” \(position 6\): weight 0\.\d{4}", readout), readout
    # The same tokens light up in the sequence rows: query from the decoder, key from the encoder.
    assert page.locator("[data-testid=model-inputs] .tok.hl").get_attribute("data-index") == "2"
    assert page.locator("[data-testid=model-src] .tok.hl").get_attribute("data-index") == "5"
    assert page.get_by_test_id("attn-tooltip").is_visible()
    page.get_by_test_id("sequence-input").hover()
    assert page.locator("[data-testid=matrix-view] .hl").count() == 0


def test_step_through_one_head_to_a_softmax_row_summing_to_one(page):
    open_page(page)
    page.get_by_test_id("qk-layer").select_option("decoder-0")
    page.get_by_test_id("qk-query").select_option("2")
    page.wait_for_function("document.querySelector('[data-testid=qk-stage]').textContent.startsWith('Stage 1 of 6')")
    assert page.locator("[data-testid=qk-formula] math").count() == 1
    names = []
    for _ in range(5):
        page.get_by_test_id("qk-walk-next").click()
        names.append(page.get_by_test_id("qk-stage").inner_text())
        if "Mask" in names[-1]:
            # The decoder is masked: query 3 sees keys 1-3; the five later keys are −∞.
            masked = page.locator(".walk-table td.masked")
            assert masked.count() == 5 and set(masked.all_inner_texts()) == {"−∞"}
        if "Softmax" in names[-1]:
            break
    assert names[:4] == ["Stage 2 of 6 · Dot products Q·Kᵀ", "Stage 3 of 6 · Scale ÷ √dₖ", "Stage 4 of 6 · Mask",
                         "Stage 5 of 6 · Softmax"]
    assert page.get_by_test_id("qk-softmax-sum").inner_text() == "1.000"
    weights = [float(page.get_by_test_id(f"qk-weight-{j}").inner_text()) for j in range(8)]
    assert weights[3:] == [0.0] * 5 and abs(sum(weights) - 1) < 2e-3
    page.get_by_test_id("qk-walk-next").click()
    assert "Weighted sum" in page.get_by_test_id("qk-stage").inner_text()
    assert page.get_by_test_id("qk-head-output").locator(".vec span").count() == 16  # d_k = 32 / 2
    assert page.get_by_test_id("qk-walk-next").is_disabled()


def test_model_view_head_view_and_architecture_follow_each_other(page):
    open_page(page)
    for testid in ("head-encoder-0-0", "head-encoder-1-1", "head-decoder-1-0", "head-cross-1-1"):
        assert page.get_by_test_id(testid).is_visible()
    page.get_by_test_id("head-encoder-1-1").click()
    assert page.get_by_test_id("head-encoder-1-1").get_attribute("aria-pressed") == "true"
    title = page.locator("[data-testid=matrix-view] svg title").text_content()
    assert "Encoder self-attention, layer 2, head 2" in title
    lines = page.locator("[data-testid=head-view] line")
    all_lines = lines.count()
    assert all_lines > 0
    page.get_by_test_id("head-toggle-1").click()
    assert 0 < lines.count() < all_lines
    page.get_by_test_id("head-toggle-1").click()
    page.evaluate("document.querySelector('[data-testid=head-view]').scrollIntoView({block: 'center'})")
    page.locator("[data-testid=head-view] .hit").first.hover()  # the first query token
    assert 0 < lines.count() <= 2 * 8  # only its lines: at most one per key per head
    assert "hl" in page.get_by_test_id("hv-query-0").get_attribute("class")
    page.get_by_test_id("arch-decoder-cross-attention").click()
    assert page.get_by_test_id("head-cross-0-0").get_attribute("aria-pressed") == "true"
    assert "Cross-attention" in page.get_by_test_id("arch-note").inner_text()
    page.get_by_test_id("arch-encoder-feed-forward").click()
    assert "32 → 64 → 32" in page.get_by_test_id("arch-note").inner_text()


def test_export_the_selected_map_as_svg_and_png(page):
    open_page(page)
    with page.expect_download() as svg_download:
        page.get_by_test_id("export-svg").click()
    svg_path = svg_download.value.path()
    assert svg_download.value.suggested_filename.endswith(".svg")
    text = open(svg_path, encoding="utf-8").read()
    assert text.startswith("<?xml") and "<svg" in text and "Cross-attention, layer 1, head 1" in text
    assert text.count("class=\"cell\"") == 64
    with page.expect_download() as png_download:
        page.get_by_test_id("export-png").click()
    assert png_download.value.suggested_filename.endswith(".png")
    with open(png_download.value.path(), "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_other_tasks_and_bad_sequences(page):
    open_page(page, "induction")
    assert page.get_by_test_id("head-1-3").is_visible()
    assert page.get_by_test_id("arch-decoder-self-attention").is_visible()
    open_page(page, "brackets")
    # Decoder-only layers are masked, and the step-through says so beside its −∞ cells.
    for _ in range(3):
        page.get_by_test_id("qk-walk-next").click()
    page.wait_for_function("document.querySelector('[data-testid=qk-stage]').textContent.endsWith('Mask')")
    assert "A causal mask" in page.get_by_test_id("qk-text").inner_text()
    box = page.get_by_test_id("sequence-input")
    box.fill("(()())")
    box.press("Enter")
    page.wait_for_function("document.querySelector('[data-testid=model-inputs]')?.textContent === '(()())'")
    assert page.get_by_test_id("model-output-tokens").inner_text() in ("balanced", "unbalanced")
    box.fill("( x )")
    box.press("Enter")
    error = page.get_by_test_id("attn-error")
    error.wait_for()
    assert "unknown token x" in error.inner_text() and "vocabulary is 0=(, 1=)" in error.inner_text()
    assert "invalid" in box.get_attribute("class")
    # The browser logs the 422 it was meant to get; that one is expected, any other error is not.
    page.console_errors[:] = [e for e in page.console_errors if "status of 422" not in e]
