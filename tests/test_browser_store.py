"""Durable sessions in the browser: the Share button, a share opened read-only and forked, and a live stream that
reconnects by itself after a server restart and carries on from the stored state."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import ARTIFACTS, free_port, start_server, stop_server
from .test_browser_playground import epoch, open_playground, session

pytestmark = pytest.mark.browser

EPOCH_ABOVE = "n => Number(document.querySelector('[data-testid=epoch-counter]').dataset.epoch) > n"


def test_every_page_has_a_share_button(page):
    for path in ("/", "/neuron", "/convolution", "/backprop", "/lenet", "/attention", "/playground"):
        page.goto(path)
        expect(page.get_by_test_id("share-button")).to_be_visible()


def test_share_opens_read_only_and_forks_into_a_session_that_trains_on(page):
    open_playground(page)
    page.get_by_test_id("step-button").click()
    page.wait_for_function(EPOCH_ABOVE, arg=0)
    shared_epoch = epoch(page)
    original = session(page)
    page.get_by_test_id("share-button").click()
    link = page.get_by_test_id("share-link")
    expect(link).to_have_value(re.compile(r"/s/[\w-]+$"))
    url = link.input_value()
    page.screenshot(path=str(ARTIFACTS / "share-panel.png"))

    page.goto(url)
    expect(page.get_by_test_id("share-banner")).to_be_visible()
    page.wait_for_function(f"document.body.dataset.session && document.body.dataset.session !== '{original}'")
    page.wait_for_function(EPOCH_ABOVE, arg=shared_epoch - 1)
    assert epoch(page) == shared_epoch
    expect(page.get_by_test_id("play-button")).to_have_css("pointer-events", "none")
    page.screenshot(path=str(ARTIFACTS / "share-read-only.png"))

    page.get_by_test_id("fork-button").click()
    page.wait_for_url(re.compile(r"/playground\?session="))
    page.locator("body[data-ready=true]").wait_for()
    expect(page.get_by_test_id("share-banner")).to_be_hidden()
    page.wait_for_function(EPOCH_ABOVE, arg=shared_epoch - 1)
    page.get_by_test_id("play-button").click()
    page.wait_for_function(EPOCH_ABOVE, arg=shared_epoch + 3)
    page.get_by_test_id("play-button").click()


def test_the_stream_reconnects_after_a_server_restart_and_carries_on(browser, tmp_path):
    port = free_port()
    env = {"GLASSBOX_STORE": "sqlite", "GLASSBOX_DATA_DIR": str(tmp_path)}
    server = start_server(port, "browser-restart.log", env)
    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=f"http://127.0.0.1:{port}")
    page = context.new_page()
    page.set_default_timeout(20_000)
    try:
        open_playground(page)
        sid = session(page)
        page.get_by_test_id("play-button").click()
        page.wait_for_function(EPOCH_ABOVE, arg=20)
        stop_server(server)
        expect(page.get_by_test_id("connection-status")).to_have_text(re.compile("reconnecting"))
        before = epoch(page)
        server = start_server(port, "browser-restart.log", env)
        # The page retries with back-off (at most 8 s apart), so the note may come that long after the server.
        expect(page.get_by_test_id("flash-note")).to_have_text(re.compile("Reconnected"), timeout=40_000)
        # The same session, from the stored state (at most a second behind), training on by itself.
        page.wait_for_function(EPOCH_ABOVE, arg=before + 10)
        assert session(page) == sid
        expect(page.get_by_test_id("error-banner")).to_be_empty()
        page.screenshot(path=str(ARTIFACTS / "reconnected.png"))
    finally:
        context.close()
        stop_server(server)
