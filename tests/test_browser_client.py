"""Pages attached to sessions a script drives (what glassbox.show() puts in a notebook cell), and the widget's
front end."""

from __future__ import annotations

import re

import numpy as np
import pytest
from playwright.sync_api import expect

from engine.core.network import build_sequential
from glassbox import Client
from glassbox.notebook import ESM
from tests.test_formats import SMALL, safetensors_bytes, torch_state_dict

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def gb(live_server) -> Client:
    with Client(live_server) as client:
        yield client


def test_playground_follows_training_started_from_python(page, gb):
    net = gb.playground.create(dataset="xor", hidden=[4, 2], learning_rate=0.1)
    page.goto(gb.page_url(net).removeprefix(gb.url))
    expect(page.locator("body")).to_have_attribute("data-session", net.id)
    expect(page.get_by_test_id("epoch-counter")).to_have_attribute("data-epoch", "0")
    net.train(epochs=12, every=3)  # four requests: the page's stream follows each
    expect(page.get_by_test_id("epoch-counter")).to_have_attribute("data-epoch", "12")
    expect(page.get_by_test_id("epoch-counter")).to_have_text("000,012")
    assert not page.console_errors


def test_lenet_page_draws_an_imported_network_with_its_own_layers(page, gb):
    net = build_sequential((1, 28, 28), SMALL, seed=7)
    imported = gb.networks.load(safetensors_bytes(torch_state_dict(net), {"activation": "tanh", "pooling": "avg"}),
                                format="safetensors")
    assert gb.page_url(imported) == f"{gb.url}/lenet?session={imported.id}"
    page.goto(f"/lenet?session={imported.id}")
    expect(page.locator("body")).to_have_attribute("data-layers", "6")
    expect(page.get_by_test_id("model-source")).to_contain_text(imported.id[:6])
    expect(page.get_by_test_id("feature-map-conv2-7")).to_be_visible()
    expect(page.get_by_test_id("feature-map-conv2-8")).to_have_count(0)
    expect(page.locator(".net-conv2 .net-shape")).to_have_text("8 × 12×12")
    expect(page.get_by_test_id("prob-0")).to_have_attribute("data-probability", re.compile(r"\d"))
    page.get_by_test_id("feature-map-conv2-3").hover()
    expect(page.get_by_test_id("unit-detail")).to_contain_text("a 3×3 window of all four pool1 maps")
    expect(page.get_by_test_id("filters-conv2").locator(".filter-column")).to_have_count(8)
    assert not page.console_errors


def test_lenet_page_follows_a_training_session_from_python(page, gb):
    session = gb.lenet.create(seed=3)
    page.goto(f"/lenet?session={session.id}")
    expect(page.get_by_test_id("train-use")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_test_id("train-status")).to_contain_text("step 0")
    session.train(steps=5)
    expect(page.get_by_test_id("train-status")).to_contain_text("step 5")
    expect(page.get_by_test_id("model-source")).to_contain_text("your model")
    assert not page.console_errors


def test_backprop_attaches_where_the_scripts_walk_stands(page, gb):
    net = gb.networks.create(preset="worked-example")
    for _ in range(3):
        net.walk(granularity="neuron")
    assert net.walk_state().current["title"] == "Forward: prediction"  # the third neuron: h1, h2, then the output
    page.goto(gb.page_url(net, "walk").removeprefix(gb.url))
    expect(page.get_by_test_id("stage-title")).to_have_text("Forward pass · prediction")
    page.get_by_test_id("walk-next").click()
    expect(page.get_by_test_id("stage-title")).not_to_have_text("Forward pass · prediction")
    assert net.walk_state().position == 3  # the page walks the script's own session
    assert not page.console_errors


def test_attention_page_follows_a_transformer_from_python(page, gb):
    tr = gb.transformers.create("reverse")
    page.goto(f"/attention?session={tr.id}")
    expect(page.get_by_test_id("attn-step-count")).to_have_text(re.compile(r"^0+$"))
    tr.train(steps=20)
    expect(page.get_by_test_id("attn-step-count")).to_have_text(re.compile(r"^0*20$"))
    assert gb.transformers.get(tr.id).state().step == 20  # still there: the page never deletes a script's session
    assert not page.console_errors


def test_widget_front_end_renders_the_iframe(page, live_server):
    page.goto("/api/health")
    src = page.evaluate("""async (esm) => {
        const module = await import(URL.createObjectURL(new Blob([esm], {type: "text/javascript"})));
        const handlers = {};
        const values = {url: "/lenet", height: 300};
        const model = {get: (k) => values[k], on: (e, f) => { handlers[e] = f; }};
        const el = document.createElement("div");
        document.body.append(el);
        module.default.render({model, el});
        values.url = "/playground?session=abc";
        handlers["change:url"]();
        const frame = el.querySelector("iframe");
        return [frame.getAttribute("src"), frame.style.height];
    }""", ESM)
    assert src == ["/playground?session=abc", "300px"]


def test_autoencoder_page_attaches(page, gb):
    ae = gb.autoencoders.create(pretrained=False, hidden=[16], seed=1)
    page.goto(f"/autoencoder?session={ae.id}")
    caption = page.locator("#map-caption")
    expect(caption).to_have_text("of the 2,000 test digits · training, step 0")
    ae.train(steps=3)
    expect(caption).to_have_text("of the 2,000 test digits · training, step 3")
    assert np.asarray(ae.map().points).shape == (2000, 2)
    assert not page.console_errors
