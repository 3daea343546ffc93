"""Classrooms in the browser: a teacher and two students, each in a browser context of their own."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import expect

from .conftest import ARTIFACTS
from .test_browser_playground import epoch, open_playground, session

pytestmark = pytest.mark.browser

HOSTILE = "<img src=x onerror=alert(1)>"  # a name that must show as text, never as HTML


@pytest.fixture
def people(browser, live_server):
    """Three pages in one browser: the teacher and two students; console errors fail the test."""
    contexts, pages, errors = [], [], []
    for _ in range(3):
        context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=live_server)
        pg = context.new_page()
        pg.set_default_timeout(20_000)
        pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.on("response", lambda r: errors.append(f"{r.status} {r.request.method} {r.url}")
              if r.status >= 400 else None)
        pg.on("dialog", lambda d: errors.append(f"a dialog opened: {d.message}"))
        contexts.append(context)
        pages.append(pg)
    yield pages
    for context in contexts:
        context.close()
    unexpected = [e for e in errors if "favicon" not in e]
    assert not unexpected, f"browser console errors: {unexpected}"


def join(page, code: str, name: str) -> None:
    page.goto("/join")
    page.get_by_test_id("join-code").fill(code.lower())
    page.get_by_test_id("join-name").fill(name)
    page.get_by_test_id("join-button").click()
    page.wait_for_url(re.compile(rf"/playground\?room={code}$"))
    expect(page.get_by_test_id("follow-indicator")).to_contain_text("Following the teacher")


def test_a_teacher_trains_two_students_follow_one_takes_a_copy_and_a_checkpoint_shows_who_passed(people,
                                                                                                  live_server):
    teacher, ana, bo = people
    open_playground(teacher)
    teacher_session = session(teacher)
    rate = httpx.get(f"{live_server}/api/playground/{teacher_session}").json()["config"]["learning_rate"]
    teacher.get_by_test_id("teach-button").click()
    code_box = teacher.get_by_test_id("room-code")
    expect(code_box).to_have_text(re.compile(r"^[A-HJKMNP-Z2-9]{6}$"))
    code = code_box.inner_text()
    expect(teacher.locator(".room-qr")).to_have_js_property("naturalWidth", 132)

    join(ana, code, "Ana")
    join(bo, code, HOSTILE)
    for student in (ana, bo):  # the teacher's network, drawn from a read-only snapshot, never the session itself
        student.wait_for_function("document.body.dataset.session !== undefined")
        assert session(student) != teacher_session
        expect(student.get_by_test_id("play-button")).to_have_css("pointer-events", "none")

    teacher.get_by_test_id("play-button").click()
    for student in (ana, bo):
        student.wait_for_function(
            "Number(document.querySelector('[data-testid=epoch-counter]').dataset.epoch) > 3", timeout=30_000)
    ana.screenshot(path=str(ARTIFACTS / "room-student-following.png"))

    # Ana takes a copy and changes its learning rate; the teacher's session keeps its own.
    ana.get_by_test_id("take-copy").click()
    ana.wait_for_url(re.compile(rf"/playground\?room={code}&session="))
    ana.locator("body[data-ready=true]").wait_for()
    expect(ana.get_by_test_id("follow-indicator")).to_contain_text("Exploring your own copy")
    copy = session(ana)
    assert copy not in (teacher_session, session(bo))
    ana.get_by_test_id("learning-rate").select_option("0.1")
    ana.get_by_test_id("play-button").click()
    ana.wait_for_function("Number(document.querySelector('[data-testid=epoch-counter]').dataset.epoch) > 30",
                          timeout=30_000)
    ana.get_by_test_id("play-button").click()
    assert httpx.get(f"{live_server}/api/playground/{copy}").json()["config"]["learning_rate"] == 0.1
    assert httpx.get(f"{live_server}/api/playground/{teacher_session}").json()["config"]["learning_rate"] == rate
    ana.get_by_test_id("spotlight-consent").check()

    # The roster: both, one exploring with live metrics, the other following; the hostile name is only text.
    ana_row, bo_row = teacher.get_by_test_id("roster-row-Ana"), teacher.get_by_test_id(f"roster-row-{HOSTILE}")
    expect(ana_row).to_contain_text("exploring")
    expect(bo_row).to_contain_text("following")
    expect(bo_row.locator(".room-name")).to_have_text(HOSTILE)
    assert teacher.locator(".room-roster img").count() == 0
    expect(ana_row.locator("td").nth(2)).not_to_have_text("—")

    # A checkpoint everyone can reach by training a copy: Ana passed, the one still following did not.
    teacher.get_by_test_id("checkpoint-check").select_option("test_loss_below")
    teacher.get_by_test_id("checkpoint-value").fill("10")
    teacher.get_by_test_id("checkpoint-button").click()
    expect(teacher.get_by_test_id("checkpoint-result")).to_contain_text("1 of 2 passed")
    expect(ana_row).to_contain_text("passed")
    expect(bo_row).to_contain_text("not yet")
    expect(ana.get_by_test_id("follow-checkpoint")).to_contain_text("passed")
    expect(bo.get_by_test_id("follow-checkpoint")).to_contain_text("test loss below 10")

    # Ana allowed it: her copy on the big screen.
    teacher.get_by_test_id("spotlight-Ana").click()
    expect(teacher.get_by_test_id("spotlight-frame")).to_be_visible()
    expect(teacher.get_by_test_id(f"spotlight-{HOSTILE}")).to_be_disabled()
    teacher.screenshot(path=str(ARTIFACTS / "room-teacher.png"))
    teacher.get_by_test_id("spotlight-close").click()

    # Ana follows again: the teacher's view, live.
    ana.get_by_test_id("follow-again").click()
    ana.wait_for_url(re.compile(rf"/playground\?room={code}$"))
    expect(ana.get_by_test_id("follow-indicator")).to_contain_text("Following the teacher")
    ana.wait_for_function("document.body.dataset.session !== undefined")
    start = epoch(bo)
    ana.wait_for_function(f"Number(document.querySelector('[data-testid=epoch-counter]').dataset.epoch) > {start}")
    expect(ana_row).to_contain_text("following")
    teacher.get_by_test_id("play-button").click()

    # Closing the room: the code stops working and the followers are told.
    teacher.get_by_test_id("room-close").click()
    expect(bo.get_by_test_id("follow-indicator")).to_contain_text("closed")
    assert httpx.post(f"{live_server}/api/rooms/{code}/join", json={"name": "Cy"}).status_code == 410
