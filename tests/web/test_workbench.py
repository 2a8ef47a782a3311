"""The staff workbench in a real browser: a food-license case (SC-001) from the acceptance desk to delivery."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.factories import FOOD_REQUIRED, accept, application
from tests.web.conftest import screenshot

APPLICANT_ID = "11010519491231002X"


def _row(page, case_number: str):
    return page.locator(f"[data-testid=task-row][data-case-number='{case_number}']")


def claim_from_inbox(page, people, case_number: str, shot: str | None = None) -> None:
    """Find the case's task among the claimable ones and claim it in place (htmx)."""
    page.goto(people.url(f"/inbox?scope=claimable&q={case_number}"))
    row = _row(page, case_number)
    expect(row).to_have_count(1)
    expect(row.locator("[data-testid=warning]")).to_have_attribute("data-level", "ok")
    if shot:
        screenshot(page, shot)
    row.locator("[data-testid=claim]").click()
    expect(row.locator("[data-testid=flash][data-kind=success]")).to_be_visible()
    expect(row.locator("[data-testid=unclaim]")).to_be_visible()


def complete_task(page, people, case_number: str, fill, shot: str | None = None) -> None:
    """Claim, open the task page, fill its form and complete it."""
    claim_from_inbox(page, people, case_number)
    _row(page, case_number).get_by_role("link", name="办理").click()
    expect(page.locator("[data-testid=bpmn-canvas]")).to_have_attribute("data-ready", "true")
    fill(page)
    if shot:
        screenshot(page, shot)
    page.click("[data-testid=complete-submit]")
    expect(page).to_have_url(re.compile(r"/inbox\?scope=mine$"))
    expect(page.locator("[data-testid=flash][data-kind=success]")).to_contain_text(case_number)


def accept_at_the_desk(page, people) -> str:
    """窗口受理: a wrong id number first (kept, explained), then the corrected application; returns the number."""
    page.goto(people.url("/accept"))
    page.fill("[data-filter-options=matter_code]", "食品")
    page.select_option("select[name=matter_code]", "SC-001")
    checklist = page.locator("#checklist")
    expect(checklist.locator("input[name=materials]")).to_have_count(5)
    for name in FOOD_REQUIRED:
        checklist.locator(f"input[name=materials][value='{name}']").check()
    page.fill("input[name=applicant_name]", "张三")
    page.fill("input[name=applicant_id_number]", APPLICANT_ID[:-1] + "1")
    page.fill("input[name=applicant_phone]", "13800000000")
    page.click("[data-testid=accept-submit]")
    error = page.locator(".field-error[data-field=applicant_id_number]")
    expect(error).to_contain_text("校验位不正确")
    expect(page.locator("[data-testid=flash][data-kind=error]")).to_be_visible()
    expect(page.locator("input[name=applicant_name]")).to_have_value("张三")
    expect(page.locator("input[name=materials][value='营业执照复印件']")).to_be_checked()
    screenshot(page, "accept-id-error")
    page.fill("input[name=applicant_id_number]", APPLICANT_ID)
    page.click("[data-testid=accept-submit]")
    expect(page.locator("[data-testid=flash][data-kind=success]")).to_contain_text("受理成功")
    number = page.locator("[data-testid=case-number]").inner_text().strip()
    assert re.fullmatch(r"YC\d{15}", number), number
    screenshot(page, "accept-done")
    return number


def test_food_license_from_the_desk_to_delivery(people):
    window = people.login("window1")
    expect(window).to_have_url(re.compile(r"/inbox$"))
    number = accept_at_the_desk(window, people)

    with window.context.expect_page() as opened:
        window.get_by_role("link", name="打印受理通知书").click()  # a new tab
    receipt = opened.value
    expect(receipt.locator("[data-testid=case-number]")).to_have_text(number)
    # The issued, numbered notice itself (the bytes the audit chain holds), not a second rendering.
    document_number = receipt.locator("[data-testid=document-number]").inner_text()
    assert re.fullmatch(r"市监受〔\d{4}〕\d{4}号", document_number), document_number
    paper = receipt.frame_locator("[data-testid=receipt-document]")
    expect(paper.locator("h1")).to_have_text("受理通知书")
    expect(paper.locator("body")).to_contain_text(document_number)
    expect(paper.locator("body")).to_contain_text(number)
    expect(paper.locator("body")).to_contain_text("张三")
    expect(paper.locator("body")).not_to_contain_text(APPLICANT_ID)  # frozen bytes any case reader may open
    screenshot(receipt, "receipt")
    # 打印 prints the framed notice alone (its own A4 style sheet), not the page around it.
    receipt.evaluate(
        "() => { const f = document.querySelector('[data-testid=receipt-document]');"
        " f.contentWindow.print = () => { window.printed = f.contentWindow.location.pathname; }; }"
    )
    receipt.get_by_role("button", name="打印").click()
    assert re.fullmatch(r"/documents/\d+", receipt.evaluate("() => window.printed") or ""), "not printed"
    receipt.close()

    reviewer = people.login("market_reviewer1")
    claim_from_inbox(reviewer, people, number, shot="inbox-claimable")
    _row(reviewer, number).get_by_role("link", name="办理").click()
    reviewer.fill("textarea[name=opinion]", "材料齐全，符合法定形式")
    reviewer.check("input[name=needs_inspection][value=false]")
    expect(reviewer.locator("body")).to_contain_text("1101**********002X")  # masked for a reviewer
    reviewer.click("[data-testid=complete-submit]")
    expect(reviewer.locator("[data-testid=flash][data-kind=success]")).to_contain_text(number)

    chief = people.login("market_chief")
    complete_task(chief, people, number, lambda p: p.fill("textarea[name=opinion]", "同意承办人意见"))

    leader = people.login("market_leader")
    claim_from_inbox(leader, people, number)
    _row(leader, number).get_by_role("link", name="办理").click()
    # A rejection without an opinion: refused, the message beside the opinion, the choice kept.
    leader.check("input[name=approved][value=false]")
    leader.click("[data-testid=complete-submit]")
    expect(leader.locator(".field-error[data-field=opinion]")).to_contain_text("不予许可必须填写理由")
    expect(leader.locator("[data-testid=flash][data-kind=error]")).to_contain_text("提交的办理数据不符合要求")
    expect(leader.locator("input[name=approved][value=false]")).to_be_checked()
    expect(leader.locator("[data-testid=bpmn-canvas]")).to_have_attribute("data-ready", "true")
    expect(leader.locator(".step-done")).not_to_have_count(0)
    expect(leader.locator(".step-current")).to_have_count(1)
    screenshot(leader, "task-decision-error")
    leader.check("input[name=approved][value=true]")
    leader.fill("textarea[name=opinion]", "同意，准予许可")
    leader.click("[data-testid=complete-submit]")
    expect(leader.locator("[data-testid=flash][data-kind=success]")).to_contain_text(number)

    def certify(page):
        page.fill("input[name=certificate_no]", "JY13301020001234")
        page.fill("textarea[name=opinion]", "已制证")

    complete_task(reviewer, people, number, certify, shot="task-certify")

    def deliver(page):
        page.select_option("select[name=method]", "window")
        page.fill("textarea[name=opinion]", "已当面送达")

    complete_task(window, people, number, deliver)

    window.goto(people.url(f"/cases?number={number}"))
    window.locator("[data-testid=case-row]").get_by_role("link", name=number).click()
    expect(window.locator("[data-testid=case-status]")).to_have_attribute("data-status", "completed")
    expect(window.locator("[data-testid=case-status]")).to_have_text("已办结")
    entries = window.locator("[data-testid=timeline-entry]")
    expect(entries.first).to_contain_text("受理")
    assert entries.count() >= 16  # accepted, 5 x (ready, claimed, completed), completed
    expect(window.locator("[data-testid=timeline-entry][data-type=case_completed]")).to_contain_text("准予许可")
    expect(window.locator("[data-testid=bpmn-canvas]")).to_have_attribute("data-ready", "true")
    expect(window.locator(".step-current")).to_have_count(0)
    screenshot(window, "case-completed")


def test_a_lost_claim_race_is_shown(people, as_user):
    case = accept(as_user)
    first, second = people.login("market_reviewer1"), people.login("market_reviewer2")
    for page in (first, second):
        page.goto(people.url("/inbox"))
        expect(_row(page, case["number"])).to_have_count(1)
    _row(second, case["number"]).locator("[data-testid=claim]").click()
    expect(_row(second, case["number"]).locator("[data-testid=unclaim]")).to_be_visible()
    _row(first, case["number"]).locator("[data-testid=claim]").click()
    message = _row(first, case["number"]).locator("[data-testid=flash][data-kind=error]")
    expect(message).to_contain_text("已被他人认领")
    expect(_row(first, case["number"]).locator("[data-testid=claim]")).to_have_count(0)
    screenshot(first, "inbox-lost-race")


def test_another_departments_case_is_refused(people, as_user):
    case = accept(as_user)
    housing = people.login("housing_reviewer")
    response = housing.goto(people.url(f"/cases/{case['id']}"))
    assert response.status == 403
    expect(housing.locator("[data-testid=flash][data-kind=error]")).to_contain_text("无权查看其他部门的办件")
    expect(housing.locator("body")).not_to_contain_text("张三")
    assert housing.request.get(people.url(f"/cases/{case['id']}/diagram.xml")).status == 403
    screenshot(housing, "case-refused")


def test_pages_carry_the_csp_and_a_missing_material_keeps_the_form(people):
    window = people.login("window1")
    response = window.goto(people.url("/accept?matter_code=SC-001"))
    assert "script-src 'self'" in response.headers["content-security-policy"]
    window.check("input[name=materials][value='食品经营许可申请书']")
    window.fill("input[name=applicant_name]", "李四")
    window.fill("input[name=applicant_id_number]", APPLICANT_ID)
    window.click("[data-testid=accept-submit]")
    expect(window.locator("[data-testid=flash][data-kind=error]")).to_contain_text("缺少必要材料")
    expect(window.locator(".field-error[data-field=materials]").first).to_contain_text("营业执照复印件")
    expect(window.locator("input[name=applicant_name]")).to_have_value("李四")
    expect(window.locator("input[name=materials][value='食品经营许可申请书']")).to_be_checked()


def test_case_actions_ask_for_a_reason_and_confirmation(people, as_user):
    case = accept(as_user)
    window = people.login("window1")
    window.goto(people.url(f"/cases/{case['id']}"))
    suspend = window.locator("form[action$='/suspend']")
    suspend.locator("select[name=kind]").select_option("correction")
    suspend.get_by_role("button", name="挂起").click()
    expect(window.locator(".field-error[data-field=reason]")).to_contain_text("请填写此项")
    expect(window.locator("[data-testid=case-status]")).to_have_attribute("data-status", "in_progress")
    suspend = window.locator("form[action$='/suspend']")
    suspend.locator("textarea[name=reason]").fill("申请人需补正营业执照复印件")
    suspend.get_by_role("button", name="挂起").click()  # the confirmation is accepted by the watcher
    expect(window.locator("[data-testid=flash][data-kind=success]")).to_contain_text("已挂起")
    expect(window.locator("[data-testid=case-status]")).to_have_attribute("data-status", "suspended")
    expect(window.locator("[data-testid=timeline-entry][data-type=case_suspended]")).to_contain_text("补正")
    screenshot(window, "case-suspended")
    window.locator("form[action$='/resume'] textarea[name=note]").fill("材料已补正")
    window.locator("form[action$='/resume']").get_by_role("button", name="恢复").click()
    expect(window.locator("[data-testid=case-status]")).to_have_attribute("data-status", "in_progress")
    expect(window.locator("form[action$='/extend']")).to_have_count(0)  # a leader's action

    leader = people.login("market_leader")
    leader.goto(people.url(f"/cases/{case['id']}"))
    leader.locator("form[action$='/extend'] textarea[name=reason]").fill("需组织专家论证")
    leader.locator("form[action$='/extend']").get_by_role("button", name="延期").click()
    expect(leader.locator("[data-testid=flash][data-kind=success]")).to_contain_text("已延长")
    expect(leader.locator("body")).to_contain_text("已延期 10 个工作日")
    leader.locator("form[action$='/extend'] textarea[name=reason]").fill("再次延期")
    leader.locator("form[action$='/extend']").get_by_role("button", name="延期").click()
    expect(leader.locator("[data-testid=flash][data-kind=error]")).to_be_visible()  # once only: the API's 409 detail
    expect(leader.locator("form[action$='/extend'] textarea[name=reason]")).to_have_value("再次延期")


def test_start_pages_and_case_search(people, as_user):
    case = accept(as_user, application(name="周九", id_type="id_card", id_number="11010519491231002X"))
    accept(as_user)
    auditor = people.login("auditor")
    expect(auditor).to_have_url(re.compile(r"/cases$"))
    expect(auditor.locator("[data-testid=case-row]")).to_have_count(2)
    auditor.fill("input[name=applicant_name]", "周九")
    auditor.get_by_role("button", name="查询").click()
    expect(auditor.locator("[data-testid=case-row]")).to_have_count(1)
    expect(auditor.locator("[data-testid=case-row]")).to_have_attribute("data-case-number", case["number"])
    screenshot(auditor, "cases-search")
    expect(auditor.locator("[data-testid=search-id-number]")).to_have_count(0)  # masked to the auditor
    window = people.login("window1")
    window.goto(people.url("/cases"))
    window.get_by_test_id("search-id-number").fill("11010519491231002x")
    window.get_by_role("button", name="查询").click()
    expect(window.locator("[data-testid=case-row]")).to_have_count(1)
    expect(window.locator("[data-testid=case-row]")).to_have_attribute("data-case-number", case["number"])
    screenshot(window, "cases-search-id-number")
    supervisor = people.login("supervisor")
    expect(supervisor.locator("h1")).to_contain_text("电子监察")
    expect(supervisor.locator("table.list").first).to_contain_text("市场监督管理局")
    screenshot(supervisor, "home-supervisor")
    designer = people.login("designer")
    expect(designer.locator("table.list")).to_contain_text("food_business_license")
    screenshot(designer, "home-designer")
    reviewer = people.login("market_reviewer1")
    reviewer.goto(people.url("/inbox?scope=mine"))
    expect(reviewer.locator("[data-testid=task-row]")).to_have_count(0)
    reviewer.goto(people.url("/logout"))
    reviewer.get_by_role("button", name="确认退出").click()
    expect(reviewer).to_have_url(re.compile(r"/login$"))
    screenshot(reviewer, "login")
