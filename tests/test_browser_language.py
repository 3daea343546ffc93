"""Browser: the Language model page — type and see the next-character bars, reshape them with the temperature,
click a character for its attention and logit lens, write, and train a small model live."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def open_page(page):
    page.goto("/language")
    expect(page.get_by_test_id("lm-bar-9")).to_be_visible()
    expect(page.get_by_test_id("lm-model-info")).to_contain_text("bits per character")


def top_percent(page) -> float:
    return float(page.get_by_test_id("lm-bar-value-0").inner_text().replace("%", ""))


def test_typing_changes_the_bars_and_the_temperature_flattens_them(page):
    open_page(page)
    box = page.get_by_test_id("lm-input")
    box.fill("To be, or not to b")
    bars = page.get_by_test_id("lm-bars")
    expect(page.get_by_test_id("lm-next-after")).to_contain_text("to b")
    expect(page.get_by_test_id("lm-bar-0")).to_contain_text("e")  # "…not to b" → "e", surely
    before = bars.inner_text()
    box.press_sequentially("e, that is the q")
    expect(page.get_by_test_id("lm-next-after")).to_contain_text("the q")
    expect(page.get_by_test_id("lm-bar-0")).to_contain_text("u")  # after "q" comes "u"
    assert bars.inner_text() != before
    expect(page.get_by_test_id("lm-chars").locator("button")).to_have_count(len("To be, or not to be, that is the q"))

    box.fill("My lord, I")
    expect(page.get_by_test_id("lm-next-after")).to_contain_text("lord, I")
    sharp = top_percent(page)
    page.get_by_test_id("lm-temperature").fill("2.5")
    expect(page.get_by_test_id("lm-temperature-value")).to_have_text("2.50")
    expect(page.get_by_test_id("lm-entropy")).to_contain_text("temperature 2.50")
    assert top_percent(page) < sharp  # a higher temperature flattens the distribution
    page.get_by_test_id("lm-temperature").fill("0")
    expect(page.get_by_test_id("lm-bar-value-0")).to_have_text("100.0 %")
    expect(page.get_by_test_id("lm-bar-value-1")).to_have_text("0.0 %")
    page.get_by_test_id("lm-temperature").fill("1")
    page.get_by_test_id("lm-topk").select_option("3")
    expect(page.get_by_test_id("lm-bar-value-3")).to_have_text("0.0 %")
    page.reload()  # the text and the knobs are kept in the link
    expect(page.get_by_test_id("lm-input")).to_have_value("My lord, I")
    expect(page.get_by_test_id("lm-topk")).to_have_value("3")
    expect(page.get_by_test_id("lm-next-after")).to_contain_text("lord, I")


def test_clicking_a_character_shows_its_attention_and_logit_lens(page):
    open_page(page)
    page.get_by_test_id("lm-input").fill("Good night, sweet prince")
    expect(page.get_by_test_id("lm-char-23")).to_be_visible()
    page.get_by_test_id("lm-char-5").click()  # the "n" of "night"
    expect(page.get_by_test_id("lm-attn-query")).to_have_text('from "n" at position 5')
    expect(page.get_by_test_id("lm-char-5")).to_have_attribute("aria-pressed", "true")
    layers = int(re.search(r"(\d) blocks", page.get_by_test_id("lm-model-info").inner_text()).group(1))
    expect(page.get_by_test_id("lm-attn-strips").locator(".lm-strip")).to_have_count(layers * 4)
    # Each strip shows the characters up to the clicked one, never a later one.
    expect(page.get_by_test_id("lm-strip-0-0").locator(".lm-strip-ch")).to_have_count(6)
    expect(page.get_by_test_id("model-view").locator("canvas")).to_have_count(layers * 4)
    expect(page.get_by_test_id("head-view").locator("text[data-testid^=hv-query-]")).to_have_count(6)
    assert page.get_by_test_id("head-view").locator("line").count() > 0
    expect(page.get_by_test_id("lm-lens").locator(".lm-lens-row")).to_have_count(layers + 1)
    expect(page.get_by_test_id("lm-lens-position")).to_contain_text("position 5")
    expect(page.get_by_test_id("lm-next-after")).to_contain_text('goes on with "i"')
    page.get_by_test_id(f"head-{layers - 1}-2").click()  # a model-view cell picks the head view's layer
    expect(page.get_by_test_id("head-view-layer")).to_have_value(f"self-{layers - 1}")


def test_write_streams_text_coloured_by_probability(page):
    open_page(page)
    page.get_by_test_id("lm-input").fill("ROMEO.\n")
    page.get_by_test_id("lm-length").select_option("50")
    page.get_by_test_id("lm-write").click()
    written = page.get_by_test_id("lm-written").locator("[data-testid=lm-gen-char]")
    expect(written).to_have_count(50, timeout=30_000)
    expect(page.get_by_test_id("lm-write")).to_have_text("Write")
    assert written.first.evaluate("el => getComputedStyle(el).backgroundColor") != "rgba(0, 0, 0, 0)"
    page.get_by_test_id("lm-continue").click()
    expect(page.get_by_test_id("lm-input")).to_have_value(re.compile(r"^ROMEO\.\n.{50}$", re.S))


def test_train_your_own_writes_samples_as_it_learns(page):
    open_page(page)
    form = page.get_by_test_id("lm-train-form")
    form.locator("select[name=layers]").select_option("1")
    form.locator("select[name=d_model]").select_option("32")
    form.locator("select[name=context]").select_option("32")
    page.get_by_test_id("lm-train-play").click()
    expect(page.get_by_test_id("lm-train-info")).to_contain_text("1 block × 4 heads, d_model 32, context 32")
    expect(page.get_by_test_id("lm-samples").locator("li").first).to_contain_text("step 0")
    expect(page.get_by_test_id("lm-samples").locator("li")).to_have_count(2, timeout=60_000)  # a later sample
    page.get_by_test_id("lm-train-play").click()
    expect(page.get_by_test_id("lm-train-play")).to_have_attribute("aria-pressed", "false")
    assert int(page.get_by_test_id("lm-train-step-count").inner_text()) >= 50
    assert float(page.get_by_test_id("lm-train-test-loss").inner_text()) < 4.0


def test_the_attention_page_links_here(page):
    page.goto("/attention")
    page.get_by_test_id("attn-link-language").click()
    expect(page).to_have_url(re.compile(r"/language$"))
    expect(page.get_by_test_id("lm-bar-0")).to_be_visible()
