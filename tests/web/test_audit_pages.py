"""The auditor's pages in a real browser: the chain verification, and a finished case replayed step by
step with the path taken drawn on the bpmn-js diagram and the position marked; the printable history."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from app import clock
from tests.processes.scenarios import SCENARIOS
from tests.timekeeping import bj
from tests.web.conftest import screenshot


def test_the_auditor_replays_a_finished_case_on_the_diagram(as_user, people):
    clock.freeze(bj(2026, 11, 2, 10))
    case_id = SCENARIOS["food_business_license:reject"](as_user)
    page = people.login("auditor")
    page.goto(people.url("/audit"))
    expect(page.locator("[data-testid=verify-result]")).to_have_attribute("data-intact", "true")
    screenshot(page, "audit-verification")
    page.locator("[data-testid=audit-case-link]").first.click()
    expect(page).to_have_url(re.compile(rf"/audit/cases/{case_id}$"))
    expect(page.locator("[data-testid=replay-result]")).to_have_attribute("data-consistent", "true")
    canvas = page.locator("[data-testid=bpmn-canvas]")
    expect(canvas).to_have_attribute("data-ready", "true")
    expect(page.locator("[data-testid=path]")).to_have_text("review → audit → decide → notify_refusal → end_rejected")
    for step in ("review", "audit", "decide", "notify_refusal"):
        expect(canvas.locator(f"[data-element-id={step}].step-done")).to_have_count(1)
    expect(page.locator("[data-testid=state-status]")).to_have_text("已办结")

    # Step back to the first event: accepted, the review open and marked as the current position.
    page.goto(people.url(f"/audit/cases/{case_id}?upto=1"))
    expect(page.locator("[data-testid=position]")).to_have_text("1")
    expect(canvas).to_have_attribute("data-ready", "true")
    expect(page.locator("[data-testid=path]")).to_have_text("—")
    seen_current = []
    for _ in range(6):
        page.locator("[data-testid=next]").click()
        expect(canvas).to_have_attribute("data-ready", "true")
        if canvas.locator(".step-current").count():
            seen_current.append(canvas.locator(".step-current").first.get_attribute("data-element-id"))
        if "review" in page.locator("[data-testid=path]").inner_text():
            break
    assert "review" in seen_current, seen_current
    expect(canvas.locator("[data-element-id=review].step-done")).to_have_count(1)
    for _ in range(4):  # the next step's task_ready follows the review's completion
        if "audit" in page.locator("[data-testid=state-open-tasks]").inner_text():
            break
        page.locator("[data-testid=next]").click()
    expect(page.locator("[data-testid=state-open-tasks]")).to_contain_text("audit")
    expect(canvas).to_have_attribute("data-ready", "true")
    expect(canvas.locator("[data-element-id=audit].step-current")).to_have_count(1)
    screenshot(page, "audit-replay-step")

    page.locator("[data-testid=history-link]").click()
    expect(page.locator("body")).to_contain_text("经营场所不符合食品安全要求")
    screenshot(page, "audit-history-print")
