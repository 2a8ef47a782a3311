"""The window's three answers and their papers in a real browser: 一次性告知补正 then 受理, 不予受理,
the documents on the case page, and the matter's 一次性告知单 from the picker."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.factories import FOOD_REQUIRED
from tests.web.conftest import screenshot

APPLICANT_ID = "11010519491231002X"
CORRECTIONS = ["营业执照复印件须加盖公章", "法定代表人身份证明已过期"]


def _fill_application(page, people) -> None:
    page.goto(people.url("/accept"))
    page.select_option("select[name=matter_code]", "SC-001")
    expect(page.locator("#checklist input[name=materials]")).to_have_count(5)
    page.fill("input[name=applicant_name]", "李四")
    page.fill("input[name=applicant_id_number]", APPLICANT_ID)


def _open(page, link):
    with page.context.expect_page() as opened:
        link.click()
    paper = opened.value
    paper.wait_for_load_state()
    return paper


def test_correction_notice_then_acceptance_with_its_receipt(people):
    window = people.login("window1")
    _fill_application(window, people)
    window.check("input[name=intake][value=correct]")
    window.fill("textarea[name=corrections]", "\n".join(CORRECTIONS))
    window.click("[data-testid=accept-submit]")
    expect(window.locator("[data-testid=flash][data-kind=success]")).to_contain_text("补正材料通知书")
    link = window.locator("[data-testid=document-link][data-kind=correction_notice]")
    expect(link).to_contain_text(re.compile(r"补正材料通知书 市监补〔\d{4}〕0001号"))
    screenshot(window, "intake-correction-done")
    notice = _open(window, link)
    expect(notice.locator("h1")).to_have_text("补正材料通知书")
    for item in CORRECTIONS:
        expect(notice.locator("ol")).to_contain_text(item)
    notice.close()

    window.get_by_role("link", name="查看办件").click()
    expect(window.locator("[data-testid=documents] [data-testid=document-link]")).to_have_count(1)
    for name in FOOD_REQUIRED:
        window.check(f"input[name=materials][value='{name}']")
    window.click("[data-testid=accept-corrected]")
    expect(window.locator("[data-testid=flash][data-kind=success]")).to_contain_text("补正后已受理")
    receipt = window.locator("[data-testid=document-link][data-kind=receipt]")
    expect(receipt).to_contain_text(re.compile(r"受理通知书 市监受〔\d{4}〕0001号"))
    paper = _open(window, receipt)
    expect(paper.locator("h1")).to_have_text("受理通知书")
    expect(paper.locator("body")).to_contain_text("李四")
    paper.close()


def test_refusal_needs_a_reason_and_prints_its_decision(people):
    window = people.login("window1")
    _fill_application(window, people)
    window.check("input[name=intake][value=refuse]")
    window.click("[data-testid=accept-submit]")
    expect(window.locator(".field-error[data-field=reason]")).to_be_visible()
    expect(window.locator("input[name=intake][value=refuse]")).to_be_checked()
    reason = "申请事项不属于本机关职权范围"
    window.fill("textarea[name=reason]", reason)
    window.click("[data-testid=accept-submit]")
    expect(window.locator("[data-testid=flash][data-kind=success]")).to_contain_text("不予受理决定书")
    link = window.locator("[data-testid=document-link][data-kind=refusal_notice]")
    paper = _open(window, link)
    expect(paper.locator("h1")).to_have_text("不予受理决定书")
    expect(paper.locator("body")).to_contain_text(reason)
    expect(paper.locator("body")).to_contain_text("六十日内")
    paper.close()
    window.get_by_role("link", name="查看办件").click()
    expect(window.locator("[data-testid=documents] [data-kind=refusal_notice]")).to_have_count(1)
    expect(window.get_by_role("link", name="打印受理通知书")).to_have_count(0)


def test_the_matter_picker_links_the_guide(people):
    window = people.login("window1")
    window.goto(people.url("/accept?matter_code=JS-001"))
    guide = _open(window, window.locator("[data-testid=guide-link]"))
    expect(guide.locator("h1")).to_have_text("建筑工程施工许可证核发")
    expect(guide.locator("body")).to_contain_text("一次性告知单")
    expect(guide.locator("body")).to_contain_text("《中华人民共和国建筑法》")
    expect(guide.locator("table tr")).to_have_count(10)  # a header and the nine materials
    screenshot(guide, "matter-guide")
    guide.close()
