"""The supervisor's page in a real browser: the period's figures, the charts (ECharts, served locally),
cards, the overdue list with drill-down, reviewing a filing, exporting; the printable monthly report."""

from __future__ import annotations

import io

from openpyxl import load_workbook
from playwright.sync_api import expect

from app import clock
from tests.factories import accept
from tests.processes.scenarios import SCENARIOS
from tests.timekeeping import bj, run_pass
from tests.web.conftest import screenshot

NOVEMBER = "/supervision?from=2026-11-01&to=2026-11-30&by=department"


def a_month(app, as_user) -> dict:
    """Nov 2026: one approved and one rejected food license, one case left overdue (cards opened)."""
    clock.freeze(bj(2026, 11, 2, 10))
    approved = SCENARIOS["food_business_license:approve"](as_user)
    rejected = SCENARIOS["food_business_license:reject"](as_user)
    late = accept(as_user)
    clock.freeze(bj(2026, 11, 20, 10))
    run_pass(app)
    return {"approved": approved, "rejected": rejected, "late": late}


def test_the_supervisor_runs_the_month_from_the_page(app, as_user, people):
    cases = a_month(app, as_user)
    page = people.login("supervisor")
    page.goto(people.url(NOVEMBER))
    market = page.locator("[data-testid=stats-table] tr[data-key=market]")
    expect(market.locator("td").nth(1)).to_have_text("3")  # accepted
    expect(market.locator("td").nth(2)).to_have_text("2")  # completed
    expect(market.locator("td").nth(6)).to_have_text("1")  # overdue
    expect(page.locator("[data-testid=overdue-total]")).to_have_text("1")
    for chart in ("chart-months", "chart-departments"):
        expect(page.locator(f"[data-testid={chart}]")).to_have_attribute("data-ready", "true")
        expect(page.locator(f"[data-testid={chart}] svg")).to_have_count(1)
    expect(page.locator("[data-testid=chart-months]")).to_contain_text("2026年11月")
    yellow = page.locator("[data-testid=cards] [data-testid=card][data-color=yellow]")
    expect(yellow).to_have_count(2)
    expect(yellow.first).to_contain_text(f"办件 {cases['late']['number']}")  # a case by its number
    screenshot(page, "supervision-page")

    with page.expect_download() as download:
        page.click("[data-testid=export-xlsx]")
    sheet = load_workbook(io.BytesIO(open(download.value.path(), "rb").read())).active
    rows = {r[0]: r for r in sheet.iter_rows(min_row=3, values_only=True)}
    assert rows["合计"][1:3] == (3, 2)

    filing = page.locator("[data-testid=filing]")
    expect(filing).to_have_count(1)
    filing.locator("input[name=note]").fill("请补充不符合的具体条款")
    filing.locator("button[value=questioned]").click()
    expect(page.locator("[data-testid=flash][data-kind=success]")).to_contain_text("已质疑")
    expect(page.locator("[data-testid=filing]")).to_have_count(0)
    expect(page.locator("[data-testid=cards]")).to_contain_text("否定报备（不予许可）被质疑")

    page.locator("[data-testid=overdue-case]").first.click()
    expect(page).to_have_url(people.url(f"/cases/{cases['late']['id']}"))

    page.goto(people.url("/supervision/reports/2026-11"))
    expect(page.locator("[data-testid=report] h1")).to_contain_text("2026年11月 电子监察月报")
    expect(page.locator("[data-testid=report] tr[data-key=market] td").nth(1)).to_have_text("3")
    screenshot(page, "supervision-monthly-report")


def test_a_department_answers_its_card_and_others_are_refused(app, as_user, people):
    a_month(app, as_user)
    chief = people.login("market_chief")
    chief.goto(people.url("/supervision/cards"))
    card = chief.locator("[data-testid=card]").first
    card.locator("textarea[name=answer]").fill("已督促承办人本周内办结")
    card.locator("button[type=submit]").click()
    expect(chief.locator("[data-testid=flash][data-kind=success]")).to_contain_text("答复已提交")
    expect(chief.locator("[data-testid=card]").first).to_contain_text("已督促承办人本周内办结")
    screenshot(chief, "supervision-department-cards")
    response = chief.goto(people.url("/supervision"))
    assert response.status == 403
