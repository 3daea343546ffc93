"""Browser: what a new learner tripped on in the Playground (issue 21), each defect a test."""

import json

import pytest
from playwright.sync_api import expect

from tests.test_browser_playground import HEATMAP_CHECKSUM, open_playground, session

pytestmark = pytest.mark.browser


def in_viewport(page, locator) -> bool:
    box = locator.bounding_box()
    view = page.viewport_size
    return box is not None and box["height"] > 0 and 0 <= box["y"] and box["y"] + box["height"] <= view["height"]


def step_once(page, expected="000,001"):
    page.get_by_test_id("step-button").click()
    expect(page.get_by_test_id("epoch-counter")).to_have_text(expected)


def upload_points(page, tmp_path, name="moons.csv"):
    csv = tmp_path / name
    csv.write_text("\n".join(f"{x / 10},{-x / 10 + 0.5},{int(x > 0)}" for x in range(-40, 40)))
    sid = session(page)
    page.get_by_test_id("csv-input").set_input_files(str(csv))
    page.wait_for_function(f"fetch('/api/networks/{sid}/data').then(r => r.json()).then(d => d.train.x.length === 40)")


def test_import_after_a_csv_upload_keeps_the_points_and_names_the_file(page, tmp_path):
    open_playground(page)
    upload_points(page, tmp_path)
    step_once(page)
    with page.expect_download() as download:
        page.get_by_test_id("export-button").click()
    assert download.value.suggested_filename == "glassbox-playground-moons.json"
    path = tmp_path / "net.json"
    download.value.save_as(path)
    first = session(page)
    page.get_by_test_id("import-input").set_input_files(str(path))
    page.wait_for_function(f"document.body.dataset.session !== '{first}'")
    assert page.get_by_test_id("error-banner").inner_text() == ""
    data = page.request.get(f"/api/networks/{session(page)}/data").json()
    assert len(data["train"]["x"]) == 40  # the uploaded points, not the circle
    expect(page.get_by_test_id("import-note")).to_be_hidden()  # same data: nothing to say


def test_importing_weights_trained_on_other_data_says_so(page, tmp_path):
    open_playground(page)
    step_once(page)
    with page.expect_download() as download:
        page.get_by_test_id("export-button").click()
    assert download.value.suggested_filename == "glassbox-playground-circle.json"
    path = tmp_path / "circle.json"
    download.value.save_as(path)
    page.get_by_test_id("dataset-xor").click()
    expect(page.get_by_test_id("dataset-xor")).to_have_attribute("aria-pressed", "true")
    first = session(page)
    page.get_by_test_id("import-input").set_input_files(str(path))
    page.wait_for_function(f"document.body.dataset.session !== '{first}'")
    note = page.get_by_test_id("import-note")
    expect(note).to_be_visible()
    expect(note).to_contain_text("Circle")
    expect(note).to_contain_text("Exclusive or")


def test_an_import_error_shows_where_the_person_is(page, tmp_path):
    open_playground(page)
    bad = tmp_path / "notes.json"
    bad.write_text("this is not JSON")
    page.get_by_test_id("import-input").scroll_into_view_if_needed()
    page.mouse.wheel(0, 2000)  # at the bottom of the page, as after looking at the gallery
    page.get_by_test_id("import-input").set_input_files(str(bad))
    banner = page.get_by_test_id("error-banner")
    expect(banner).to_contain_text("notes.json")
    assert in_viewport(page, banner), banner.bounding_box()


def test_loss_and_accuracy_charts_have_height_axes_and_legends(page):
    open_playground(page)
    for n in (1, 2, 3):
        step_once(page, f"000,00{n}")
    chart = page.get_by_test_id("loss-chart")
    canvases = chart.locator("canvas")
    assert canvases.nth(0).bounding_box()["height"] >= 100
    assert canvases.nth(1).bounding_box()["height"] >= 80
    for name in ("loss", "accuracy"):
        figure = page.get_by_test_id(f"chart-{name}")
        expect(figure.locator(".lc-legend")).to_contain_text("test")
        expect(figure.locator(".lc-legend")).to_contain_text("train")
        ticks = figure.locator(".lc-y span").all_inner_texts()
        assert len(ticks) == 3 and ticks[-1] == "0", ticks
        x_ticks = figure.locator(".lc-x span").all_inner_texts()
        assert x_ticks[0] == "0" and x_ticks[-1] == "3" and "epoch" in " ".join(x_ticks), x_ticks
        readout = figure.locator(".lc-readout")
        assert readout.evaluate("e => e.scrollWidth <= e.clientWidth + 1"), readout.inner_text()


def test_a_multiclass_data_set_picks_cross_entropy_which_can_be_changed_back(page):
    open_playground(page)
    assert page.get_by_test_id("loss").input_value() == "mse"
    page.get_by_test_id("dataset-spiral3").click()
    expect(page.get_by_test_id("loss")).to_have_value("cross_entropy")
    page.wait_for_function("fetch('/api/playground/' + document.body.dataset.session).then(r => r.json())"
                           ".then(s => s.config.loss === 'cross_entropy' && s.config.dataset === 'spiral3')")
    page.get_by_test_id("loss").select_option("mse")
    page.wait_for_function("fetch('/api/playground/' + document.body.dataset.session).then(r => r.json())"
                           ".then(s => s.config.loss === 'mse')")


def test_clicking_a_neuron_pins_its_large_view(page):
    open_playground(page)
    step_once(page)
    label = page.get_by_test_id("plot-label")
    neuron = page.get_by_test_id("neuron-1-2")
    neuron.click()
    expect(label).to_contain_text("hidden layer 1")
    expect(neuron).to_have_attribute("aria-pressed", "true")
    page.get_by_test_id("test-loss").hover()  # the mouse leaves: the pinned view stays
    page.get_by_test_id("neuron-2-0").hover()
    page.get_by_test_id("epoch-counter").hover()
    expect(label).to_contain_text("hidden layer 1")
    neuron.click()  # a second click lets it go
    expect(label).to_have_text("")
    expect(neuron).to_have_attribute("aria-pressed", "false")


def test_the_gallery_is_open_and_drawn_with_its_points(page):
    open_playground(page)
    gallery = page.get_by_test_id("gallery")
    assert gallery.evaluate("e => e.open")
    gallery.scroll_into_view_if_needed()  # its cards are trained when it comes into view
    page.wait_for_function("Number(document.querySelector('[data-testid=gallery-ua-spiral-20]')?.dataset.points) > 100",
                           timeout=90_000)
    # The gallery comes before the footer's end, right under the network: not the last thing on a long page.
    assert gallery.bounding_box()["y"] < page.get_by_test_id("output-plot").bounding_box()["y"] + 1200


def test_step_through_in_backprop_walks_the_learners_own_point(page):
    open_playground(page)
    step_once(page)
    sid = session(page)
    first = page.request.get(f"/api/networks/{sid}/data").json()["train"]
    with page.context.expect_page() as popup:
        page.get_by_test_id("open-backprop").click()
    walkthrough = popup.value
    walkthrough.get_by_test_id("value-prediction").wait_for()
    x1 = walkthrough.get_by_test_id("data-x-1-1")
    expect(x1).not_to_have_value("1")
    assert float(x1.input_value()) == pytest.approx(first["x"][0][0], abs=1e-3)
    assert float(walkthrough.get_by_test_id("data-x-1-2").input_value()) == pytest.approx(first["x"][0][1], abs=1e-3)
    target = 1.0 if first["y"][0] > 0.5 else -1.0  # a tanh output learns ±1
    assert float(walkthrough.get_by_test_id("data-y-1").input_value()) == target
    walkthrough.close()


@pytest.mark.parametrize("width", [390, 1280])
def test_backprop_node_labels_do_not_cover_the_bias_chips(browser, live_server, width):
    context = browser.new_context(viewport={"width": width, "height": 800}, base_url=live_server)
    page = context.new_page()
    sid = page.request.post("/api/playground", data=json.dumps({"hidden": [6, 3]}),
                            headers={"content-type": "application/json"}).json()["id"]
    page.goto(f"/backprop?session={sid}")
    page.get_by_test_id("value-prediction").wait_for()
    overlaps = page.evaluate("""() => {
      const boxes = (sel) => [...document.querySelectorAll(sel)].map((e) => e.getBoundingClientRect());
      const labels = boxes('.network-graph .neuron-label');
      const chips = boxes('.network-graph .graph-pill.bias rect');
      const hit = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
      return labels.flatMap((a, i) => chips.filter((b) => hit(a, b)).map(() => i));
    }""")
    assert overlaps == []
    context.close()


def test_backprop_graph_names_its_weights(page):
    page.goto("/backprop")
    page.get_by_test_id("value-w5").wait_for()
    names = page.locator(".network-graph .graph-pill.weight .pill-name").all_text_contents()
    assert {"w₁", "w₂", "w₃", "w₄", "w₅", "w₆"} <= set(names), names
    assert page.get_by_test_id("value-w5").text_content() == "0.14"  # the value keeps its own element


def test_import_weights_heatmap_unchanged_by_the_note(page, tmp_path):
    """The note does not change what is drawn: the imported weights give the exported picture."""
    open_playground(page)
    step_once(page)
    trained = page.evaluate(f"({HEATMAP_CHECKSUM})()")
    with page.expect_download() as download:
        page.get_by_test_id("export-button").click()
    path = tmp_path / "n.json"
    download.value.save_as(path)
    page.get_by_test_id("reset-button").click()
    page.wait_for_function(f"({HEATMAP_CHECKSUM})() !== {trained}")
    page.get_by_test_id("import-input").set_input_files(str(path))
    page.wait_for_function(f"({HEATMAP_CHECKSUM})() === {trained}")
    expect(page.get_by_test_id("import-note")).to_be_hidden()
