"""Browser: the Q-learning page — edit a wall, read one Bellman update, learn a policy, watch the shipped agent."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

MOVES = {0: (-1, 0), 1: (0, 1), 2: (1, 0), 3: (0, -1)}


def open_page(page):
    page.goto("/qlearning")
    expect(page.get_by_test_id("q-0-1-0")).to_be_attached()


def number(page, testid: str) -> float:
    return float(page.get_by_test_id(testid).get_attribute("data-value"))


def test_edit_a_wall_then_step_one_transition_and_read_the_update(page):
    open_page(page)
    cell = page.get_by_test_id("cell-0-3")
    expect(cell).to_have_attribute("data-kind", "empty")
    page.get_by_test_id("tool-wall").click()
    cell.click()
    expect(page.get_by_test_id("cell-0-3")).to_have_attribute("data-kind", "wall")
    expect(page.get_by_test_id("q-0-3-0")).to_have_count(0)  # a wall has no Q-values
    # Clicking the start with another tool says what to do instead.
    page.get_by_test_id("cell-0-0").click()
    expect(page.get_by_test_id("ql-error")).to_contain_text("start")

    page.get_by_test_id("step-transition").click()
    update = page.get_by_test_id("bellman-update")
    expect(update.get_by_test_id("bellman-q-new")).to_be_visible()
    expect(page.get_by_test_id("grid-steps")).to_have_text("1")
    q_new, q_old = number(page, "bellman-q-new"), number(page, "bellman-q-old")
    alpha, gamma = number(page, "bellman-alpha"), number(page, "bellman-gamma")
    reward, boot = number(page, "bellman-reward"), number(page, "bellman-bootstrap")
    assert (alpha, gamma, reward, q_old, boot) == (0.5, 0.9, -0.01, 0.0, 0.0)
    assert q_new == pytest.approx(q_old + alpha * (reward + gamma * boot - q_old))
    assert update.get_by_test_id("bellman-q-new").inner_text() == "−0.005"
    # The changed triangle is highlighted and holds the new value.
    changed = page.locator("[data-testid=grid] .q-tri.changed")
    expect(changed).to_have_count(1)
    changed.hover()
    expect(page.get_by_test_id("ql-tooltip")).to_contain_text("−0.005")

    # A second step from the new state: the update panel follows.
    page.get_by_test_id("step-transition").click()
    expect(page.get_by_test_id("grid-steps")).to_have_text("2")
    assert update.get_attribute("data-step") == "2"


def test_train_and_the_policy_arrows_lead_to_the_goal(page):
    open_page(page)
    page.get_by_test_id("episodes-per-frame").select_option("50")
    page.get_by_test_id("grid-play").click()
    page.wait_for_function("Number(document.querySelector('[data-testid=grid-episodes]').textContent) >= 400",
                           timeout=60_000)
    page.get_by_test_id("grid-play").click()
    expect(page.get_by_test_id("grid-play")).to_have_attribute("aria-pressed", "false")
    layout = page.evaluate("""() => {
        const rows = [];
        for (const g of document.querySelectorAll('[data-testid=grid] .cell')) {
          rows[g.dataset.row] = rows[g.dataset.row] || [];
          rows[g.dataset.row][g.dataset.col] = g.dataset.kind;
        }
        return rows;
    }""")
    r, c = 0, 0
    for _ in range(36):
        if layout[r][c] == "goal":
            break
        arrow = page.get_by_test_id(f"policy-arrow-{r}-{c}")
        expect(arrow).to_have_count(1)
        dr, dc = MOVES[int(arrow.get_attribute("data-action"))]
        r, c = r + dr, c + dc
    assert layout[r][c] == "goal"
    assert page.locator("[data-testid=return-curve] path.plot-curve").count() == 2
    # SARSA on the cliff: the switch and the preset change what is learned from.
    page.get_by_test_id("preset").select_option("cliff")
    expect(page.get_by_test_id("cell-3-5")).to_have_attribute("data-kind", "cliff")
    page.get_by_test_id("algorithm").select_option("sarsa")
    page.get_by_test_id("step-transition").click()
    expect(page.get_by_test_id("bellman-update")).to_contain_text("SARSA takes next")


def test_watch_the_shipped_agent_play(page):
    open_page(page)
    board = page.get_by_test_id("game-board")
    expect(board).to_have_attribute("data-played", "3", timeout=30_000)
    caught = int(board.get_attribute("data-caught"))
    assert caught >= 3
    expect(page.get_by_test_id("q-bars").locator(".q-bar-row")).to_have_count(3)
    expect(page.get_by_test_id("agent-network")).to_contain_text("caught 100%")
    page.get_by_test_id("watch-agent").click()  # ten more episodes; the count starts again
    expect(board).to_have_attribute("data-played", "1")
    expect(page.get_by_test_id("game-score")).to_have_text("Caught 1 of 1")


def test_train_agent_from_scratch_streams_live(page):
    open_page(page)
    page.get_by_test_id("train-agent").click()
    page.wait_for_function("Number(document.querySelector('[data-testid=agent-steps]').textContent) >= 600",
                           timeout=60_000)
    expect(page.get_by_test_id("agent-catch-rate")).to_contain_text("%")
    page.get_by_test_id("pause-agent").click()
    expect(page.get_by_test_id("pause-agent")).to_have_text("Resume training")
