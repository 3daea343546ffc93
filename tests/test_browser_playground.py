"""Browser: the Playground driven like a person would, in headless Chromium against the live server."""

import json
import re
import time

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

HEATMAP_CHECKSUM = """() => {
  const c = document.querySelector('[data-testid=output-heatmap]');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let h = 0;
  for (let i = 0; i < d.length; i++) h = (h * 31 + d[i]) % 1000000007;
  return h;
}"""


def open_playground(page, hash_=""):
    page.goto(f"/playground{hash_}")
    page.locator("body[data-ready=true]").wait_for()
    page.wait_for_function("document.querySelector('[data-testid=epoch-counter]').dataset.epoch !== undefined")


def epoch(page) -> int:
    return int(page.get_by_test_id("epoch-counter").get_attribute("data-epoch"))


def session(page) -> str:
    return page.evaluate("document.body.dataset.session")


def heatmap(page) -> int:
    return page.evaluate(HEATMAP_CHECKSUM)


def test_circle_trains_until_the_test_loss_is_below_005(page):
    open_playground(page)
    assert page.get_by_test_id("dataset-circle").get_attribute("aria-pressed") == "true"
    assert page.get_by_test_id("epoch-counter").inner_text() == "000,000"
    page.get_by_test_id("play-button").click()
    page.wait_for_function("Number(document.querySelector('[data-testid=test-loss]').dataset.value) < 0.05",
                           timeout=90_000)
    page.get_by_test_id("play-button").click()
    page.wait_for_function("document.querySelector('[data-testid=play-button]').getAttribute('aria-pressed') "
                           "=== 'false'")
    assert epoch(page) > 0
    assert float(page.get_by_test_id("test-loss").inner_text()) < 0.05
    assert page.get_by_test_id("test-accuracy").inner_text().endswith("%")


def test_changing_a_feature_changes_the_graph(page):
    open_playground(page)
    links = page.locator("[data-testid^=link-1-]")
    assert links.count() == 2 * 4
    feature = page.get_by_test_id("feature-x1sq")
    assert "on" not in feature.get_attribute("class")
    feature.click()
    page.wait_for_function("document.querySelectorAll('[data-testid^=link-1-]').length === 12")
    assert "on" in page.get_by_test_id("feature-x1sq").get_attribute("class")
    assert "x1sq" in json.loads(page.request.get(f"/api/playground/{session(page)}").text())["config"]["features"]
    # Layers and neurons too.
    page.get_by_test_id("add-layer").click()
    page.wait_for_function("document.querySelector('[data-testid=layer-count]').textContent === '3'")
    assert page.get_by_test_id("neuron-3-1").is_visible()
    page.get_by_test_id("remove-neuron-1").click()
    page.wait_for_function("!document.querySelector('[data-testid=neuron-1-3]')")
    # No hidden layer and only x1, x2: the caption names the linear classifier.
    layers = page.get_by_test_id("layer-count")
    for left in (2, 1, 0):
        page.get_by_test_id("remove-layer").click()
        expect(layers).to_have_text(str(left))  # each rebuild lands before the next click
    page.get_by_test_id("feature-x1sq").click()
    page.wait_for_function("document.querySelector('[data-testid=features-caption]').textContent"
                           ".startsWith('Linear classifier')")


def test_step_changes_the_epoch_counter(page):
    open_playground(page)
    page.get_by_test_id("step-button").click()
    page.wait_for_function("document.querySelector('[data-testid=epoch-counter]').textContent === '000,001'")
    state = json.loads(page.request.get(f"/api/networks/{session(page)}").text())
    assert state["step"] == 25  # one epoch: 250 points at batch 10
    page.get_by_test_id("step-button").click(modifiers=["Shift"])  # one mini-batch
    page.wait_for_function(f"fetch('/api/networks/{session(page)}').then(r => r.json()).then(s => s.step === 26)")
    assert epoch(page) == 1


def test_click_a_link_type_a_weight_and_the_heatmap_changes(page):
    open_playground(page)
    before = heatmap(page)
    page.get_by_test_id("link-1-0-0").hover()
    tooltip = page.get_by_test_id("tooltip")
    tooltip.wait_for()
    assert re.match(r"Weight is −?\d", tooltip.inner_text()) and "∂L/∂w" in tooltip.inner_text()
    page.get_by_test_id("link-1-0-0").click()
    editor = page.get_by_test_id("value-editor")
    editor.wait_for()
    page.get_by_test_id("value-input").fill("4.5")
    page.get_by_test_id("value-input").press("Enter")
    page.wait_for_function(f"({HEATMAP_CHECKSUM})() !== {before}")
    params = json.loads(page.request.get(f"/api/networks/{session(page)}").text())["params"]
    assert params["0.weight"][0][0] == 4.5
    # A bias too.
    page.get_by_test_id("bias-2-1").click()
    page.get_by_test_id("value-input").fill("-2")
    page.get_by_test_id("value-input").press("Enter")
    page.wait_for_function(f"fetch('/api/networks/{session(page)}').then(r => r.json())"
                           ".then(s => s.params['2.bias'][1] === -2)")


def test_the_url_reproduces_the_configuration_in_a_new_page(page, browser, live_server):
    open_playground(page)
    page.get_by_test_id("dataset-xor").click()
    page.wait_for_function("document.querySelector('[data-testid=dataset-xor]').ariaPressed === 'true'")
    page.get_by_test_id("feature-sinx1").click()
    page.wait_for_function("document.querySelector('[data-testid=feature-sinx1]').classList.contains('on')")
    page.get_by_test_id("add-layer").click()
    page.wait_for_function("document.querySelector('[data-testid=layer-count]').textContent === '3'")
    page.get_by_test_id("learning-rate").select_option("0.1")
    page.get_by_test_id("activation").select_option("relu")
    page.wait_for_function("location.hash.includes('activation=relu') && location.hash.includes('learningRate=0.1')")
    page.get_by_test_id("discretize").check()
    url = page.url
    config = json.loads(page.request.get(f"/api/playground/{session(page)}").text())["config"]

    other = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=live_server).new_page()
    try:
        other.goto(url)
        other.locator("body[data-ready=true]").wait_for()
        other.wait_for_function("document.querySelector('[data-testid=epoch-counter]').dataset.epoch !== undefined")
        assert session(other) != session(page)
        assert json.loads(other.request.get(f"/api/playground/{session(other)}").text())["config"] == config
        assert other.get_by_test_id("dataset-xor").get_attribute("aria-pressed") == "true"
        assert other.get_by_test_id("learning-rate").input_value() == "0.1"
        assert other.get_by_test_id("activation").input_value() == "relu"
        assert other.get_by_test_id("layer-count").inner_text() == "3"
        assert "on" in other.get_by_test_id("feature-sinx1").get_attribute("class")
        assert other.get_by_test_id("discretize").is_checked()
        # Same seed: same weights, same picture. Either page may still be drawing its latest frame: wait until
        # this page shows the other's picture, asking the other again whenever that wait runs out.
        deadline = time.monotonic() + 30
        while True:
            target = heatmap(other)
            try:
                page.wait_for_function(f"({HEATMAP_CHECKSUM})() === {target}", timeout=2000)
                break
            except PlaywrightTimeoutError:
                assert time.monotonic() < deadline, "the two pages never showed the same output heatmap"
    finally:
        other.context.close()


def test_export_then_import_gives_the_same_output(page, tmp_path):
    open_playground(page)
    for done in (1, 2, 3):
        page.get_by_test_id("step-button").click()
        expect(page.get_by_test_id("epoch-counter")).to_have_text(f"000,00{done}")
    trained = heatmap(page)
    first = session(page)
    probe = {"inputs": [[1.0, -2.0], [3.0, 0.5]]}
    expected = page.request.post(f"/api/networks/{first}/forward", data=probe).json()["output"]
    with page.expect_download() as download:
        page.get_by_test_id("export-button").click()
    path = tmp_path / "network.json"
    download.value.save_as(path)
    doc = json.loads(path.read_text())
    assert doc["format"] == "glassbox-network/1" and doc["step"] == 75
    # Scramble the network, then load the file back.
    page.get_by_test_id("reset-button").click()
    page.wait_for_function(f"({HEATMAP_CHECKSUM})() !== {trained}")
    page.get_by_test_id("import-input").set_input_files(str(path))
    page.wait_for_function(f"document.body.dataset.session !== '{first}'")
    page.wait_for_function(f"({HEATMAP_CHECKSUM})() === {trained}")
    assert page.request.post(f"/api/networks/{session(page)}/forward", data=probe).json()["output"] == expected


def test_points_by_hand_and_a_malformed_csv(page, tmp_path):
    open_playground(page)
    sid = session(page)
    count = lambda: len(page.request.get(f"/api/networks/{sid}/data").json()["train"]["x"])  # noqa: E731
    assert count() == 250
    page.get_by_test_id("point-class-0").click()
    plot = page.get_by_test_id("output-plot")
    plot.scroll_into_view_if_needed()
    box = plot.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.9, box["y"] + box["height"] * 0.1)
    page.wait_for_function("location.hash.includes('edits=')")
    assert count() == 251
    page.keyboard.down("Shift")
    page.mouse.click(box["x"] + box["width"] * 0.9, box["y"] + box["height"] * 0.1)
    page.keyboard.up("Shift")
    page.wait_for_function(f"fetch('/api/networks/{sid}/data').then(r => r.json()).then(d => d.train.x.length === 250)")
    bad = tmp_path / "points.csv"
    bad.write_text("x1,x2,label\n1,2,1\n3,four,0\n")
    page.get_by_test_id("csv-input").set_input_files(str(bad))
    error = page.get_by_test_id("csv-error")
    error.wait_for()
    assert "line 3" in error.inner_text()
    assert count() == 250
    # Chromium logs the refused upload (422) as a console error; that one is expected.
    page.console_errors[:] = [e for e in page.console_errors if "422" not in e]
    good = tmp_path / "good.csv"
    good.write_text("\n".join(f"{x / 10},{-x / 10},{int(x > 0)}" for x in range(-40, 40)))
    page.get_by_test_id("csv-input").set_input_files(str(good))
    page.wait_for_function(f"fetch('/api/networks/{sid}/data').then(r => r.json()).then(d => d.train.x.length === 40)")
    assert error.inner_text() == ""


def test_divergence_is_said_plainly_and_reset_recovers(page):
    open_playground(page, "#dataset=plane&networkShape=8,8&activation=relu&learningRate=10")
    page.get_by_test_id("play-button").click()
    banner = page.get_by_test_id("divergence-banner")
    banner.wait_for(timeout=30_000)
    assert "learning rate" in banner.inner_text() and "parameters were kept" in banner.inner_text()
    page.wait_for_function("document.querySelector('[data-testid=play-button]').getAttribute('aria-pressed') "
                           "=== 'false'")
    page.get_by_test_id("diverged-reset").click()
    banner.wait_for(state="hidden")
    assert page.get_by_test_id("epoch-counter").inner_text() == "000,000"


def test_three_classes_curves_and_the_gallery(page):
    open_playground(page)
    page.get_by_test_id("dataset-spiral3").click()
    page.get_by_test_id("neuron-3-2").wait_for()  # three output neurons: softmax over the classes
    assert page.get_by_test_id("point-class-2").is_visible()
    page.get_by_test_id("dataset-sin").click()
    # 1-D data offer only the features of x1: x1, x1², sin x1.
    page.wait_for_function("document.querySelectorAll('[data-testid^=feature-]').length === 3")
    assert page.get_by_test_id("feature-sinx1").is_visible()
    page.get_by_test_id("step-button").click()
    page.wait_for_function("document.querySelector('[data-testid=epoch-counter]').textContent === '000,001'")
    page.get_by_test_id("neuron-1-0").hover()
    page.wait_for_function("document.querySelector('[data-testid=plot-label]').textContent.includes('hidden layer 1')")
    page.get_by_test_id("gallery").scroll_into_view_if_needed()  # open; its cards train once it is in view
    card = page.get_by_test_id("gallery-ua-circle-3")
    card.wait_for()
    page.wait_for_function("document.querySelector('[data-testid=gallery-ua-circle-3]').textContent.includes('epochs')",
                           timeout=60_000)
    card.click()
    page.wait_for_function("document.querySelector('[data-testid=layer-count]').textContent === '1' && "
                           "document.querySelectorAll('[data-testid^=neuron-1-]').length === 3")


def test_playground_js_unit_tests_pass(page):
    page.goto("/test-assets/playground-unit.html")
    page.wait_for_function("window.__results !== undefined")
    results = page.evaluate("window.__results")
    assert len(results) >= 7
    assert not [r for r in results if not r["ok"]]


def test_closing_the_tab_stops_training(browser, live_server):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=live_server)
    page = context.new_page()
    open_playground(page)
    sid = session(page)
    page.get_by_test_id("play-button").click()
    page.wait_for_function("Number(document.querySelector('[data-testid=epoch-counter]').dataset.epoch) >= 5")
    api = context.request
    page.close()
    time.sleep(0.3)  # the server notices the closed socket
    step = api.get(f"/api/networks/{sid}").json()["step"]
    time.sleep(0.5)
    assert api.get(f"/api/networks/{sid}").json()["step"] == step  # nothing trains without a page
    assert step >= 5 * 25
    context.close()


def test_open_the_network_in_the_backprop_walkthrough(page):
    open_playground(page)
    page.get_by_test_id("step-button").click()
    page.wait_for_function("document.querySelector('[data-testid=epoch-counter]').dataset.epoch === '1'")
    with page.context.expect_page() as popup:
        page.get_by_test_id("open-backprop").click()
    walkthrough = popup.value
    walkthrough.wait_for_load_state()
    assert f"session={session(page)}" in walkthrough.url
    # The default Playground network: x1, x2 → 4 → 2 → 1, drawn with its own weights.
    walkthrough.get_by_test_id("value-prediction").wait_for()
    assert walkthrough.get_by_test_id("value-i1").count() == 1
    assert walkthrough.get_by_test_id("value-h2_2").count() == 1
    assert walkthrough.get_by_test_id("error").inner_text() == ""
    walkthrough.close()
