"""管理 and 我的 in a real browser: an administrator sets up a department with its post and people;
a clerk records an absence and the backup is told (badge), reads it; a deactivated person is out at once;
a backup's inbox shows "代 X 办理"."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import expect

from app import clock
from tests.factories import accept
from tests.web.conftest import screenshot


def flash(page, kind: str = "success"):
    return page.locator(f"[data-testid=flash][data-kind={kind}]")


def set_up_tax_department(page, people) -> None:
    page.goto(people.url("/admin?section=departments"))
    page.fill("input[name=code]", "tax")
    page.fill("input[name=name]", "税务局")
    page.click("[data-testid=department-submit]")
    expect(flash(page)).to_contain_text("部门已创建")
    expect(page.locator("[data-testid=department-row][data-code=tax]")).to_contain_text("税务局")
    screenshot(page, "admin-departments")
    page.goto(people.url("/admin?section=groups"))
    page.fill("input[name=code]", "tax.review")
    page.fill("input[name=name]", "税务审查岗")
    page.select_option("select[name=department]", "tax")
    page.click("[data-testid=group-submit]")
    expect(page.locator("[data-testid=group-row][data-code='tax.review']")).to_contain_text("税务局")


def add_person(page, people, username: str, name: str, backup: str | None = None) -> None:
    page.goto(people.url("/admin?section=people"))
    page.fill("input[name=username]", username)
    page.fill("input[name=display_name]", name)
    page.fill("input[name=password]", "Tax-secret-1")
    page.select_option("select[name=department]", "tax")
    if backup:
        page.select_option("select[name=backup]", backup)
    page.check("input[name=groups][value='tax.review']")
    page.check("input[name=roles][value=reviewer]")
    page.click("[data-testid=person-submit]")
    expect(flash(page)).to_contain_text("人员已创建")


def test_an_administrator_sets_up_a_department_and_its_people(people):
    admin = people.login("admin")
    expect(admin.get_by_role("link", name="机构管理")).to_be_visible()
    set_up_tax_department(admin, people)
    add_person(admin, people, "tax_b", "钱税务")
    add_person(admin, people, "tax_a", "李税务", backup="tax_b")
    row = admin.locator("[data-testid=person-row][data-username=tax_a]")
    expect(row).to_contain_text("税务审查岗")
    expect(row).to_contain_text("钱税务")
    screenshot(admin, "admin-people")
    # A duplicate is refused with the API's words, and what was typed stays.
    admin.fill("input[name=username]", "tax_a")
    admin.fill("input[name=display_name]", "重复的人")
    admin.fill("input[name=password]", "Tax-secret-1")
    admin.click("[data-testid=person-submit]")
    expect(flash(admin, "error")).to_contain_text("已存在")
    expect(admin.locator("input[name=display_name]")).to_have_value("重复的人")
    # One person: roles changed, password reset; the log shows who changed whom.
    admin.goto(people.url("/admin/users/tax_a"))
    admin.check("input[name=roles][value=leader]")
    admin.click("[data-testid=person-save]")
    expect(flash(admin)).to_contain_text("已保存")
    expect(admin.locator("input[name=roles][value=leader]")).to_be_checked()
    admin.fill("input[name=password]", "short")
    admin.click("[data-testid=password-reset]")
    expect(flash(admin, "error")).to_contain_text("密码不符合要求")
    screenshot(admin, "admin-user")
    admin.goto(people.url("/admin?section=log"))
    expect(admin.locator("[data-testid=log-entry][data-target=tax_a]")).to_have_count(2)
    expect(admin.locator("[data-testid=log-entry][data-target=tax]")).to_have_count(1)
    screenshot(admin, "admin-log")

    # The clerk records an absence on their own page; the backup sees the badge and reads the notice.
    clerk = people.login("tax_a", "Tax-secret-1")
    clerk.goto(people.url("/me"))
    start = clock.now().astimezone(clock.SHANGHAI)
    clerk.fill("input[name=from]", start.strftime("%Y-%m-%dT%H:%M"))
    clerk.fill("input[name=to]", (start + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"))
    clerk.fill("input[name=reason]", "年休假")
    clerk.click("[data-testid=absence-submit]")
    expect(flash(clerk)).to_contain_text("B 岗将代为办理")
    expect(clerk.locator("[data-testid=absence-row]").first).to_have_attribute("data-state", "active")
    backup = people.login("tax_b", "Tax-secret-1")
    expect(backup.locator("[data-testid=unread-badge]")).to_have_text("1")
    backup.goto(people.url("/me"))
    expect(backup.locator("[data-testid=notification]")).to_contain_text("李税务 不在岗")
    screenshot(backup, "me-notifications")
    backup.click("[data-testid=mark-read]")
    expect(backup.locator("[data-testid=notification]")).to_have_attribute("data-read", "true")
    expect(backup.locator("[data-testid=unread-badge]")).to_have_count(0)
    # Back early: the clerk ends the absence (提前结束); the backup is told.
    clerk.goto(people.url("/me"))
    expect(clerk.locator("[data-testid=absence-end]")).to_have_text("提前结束")
    screenshot(clerk, "me-absence-active")
    clerk.click("[data-testid=absence-end]")
    expect(flash(clerk)).to_contain_text("已提前结束")
    expect(clerk.locator("[data-testid=absence-row]").first).to_have_attribute("data-state", "ended")
    expect(clerk.locator("[data-testid=absence-end]")).to_have_count(0)
    screenshot(clerk, "me-absence-ended")
    backup.goto(people.url("/me"))
    expect(backup.locator("[data-testid=notification]").first).to_contain_text("提前结束")

    # Deactivated: the clerk's open session is out at once.
    admin.goto(people.url("/admin/users/tax_a"))
    admin.click("[data-testid=deactivate]")
    expect(flash(admin)).to_contain_text("已停用")
    clerk.goto(people.url("/me"))
    expect(clerk).to_have_url(re.compile(r"/login"))


def test_a_backup_sees_the_absent_colleagues_tasks_marked(people, as_user):
    case = accept(as_user)
    body = {
        "from": (clock.now() - timedelta(hours=1)).isoformat(),
        "to": (clock.now() + timedelta(days=1)).isoformat(),
        "reason": "病假",
        "backup": "market_chief",
    }
    assert as_user("market_leader").post("/api/users/market_reviewer1/absences", json=body).status_code == 201
    chief = people.login("market_chief")
    chief.goto(people.url("/inbox?scope=claimable"))
    row = chief.locator(f"[data-testid=task-row][data-case-number='{case['number']}']")
    expect(row.locator("[data-testid=on-behalf]")).to_have_text("代 张审查 办理")
    expect(chief.locator("[data-testid=unread-badge]")).to_have_text("1")
    screenshot(chief, "inbox-on-behalf")
    row.locator("[data-testid=claim]").click()
    expect(row.locator("[data-testid=flash][data-kind=success]")).to_be_visible()


def test_the_admin_pages_are_for_admins_only(client):
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    client.post("/login", data={"username": "window1", "password": "demo123", "csrf_token": token})
    assert client.get("/admin").status_code == 403
    assert client.get("/admin/users/window2").status_code == 403
    page = client.get("/me")
    assert page.status_code == 200 and "请假登记" in page.get_data(as_text=True)


def _logged_in(client, username: str) -> str:
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    client.post("/login", data={"username": username, "password": "demo123", "csrf_token": token})
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/me").get_data(as_text=True)).group(1)


def test_the_admin_records_an_absence_for_someone_and_it_is_listed(client, as_user):
    csrf = _logged_in(client, "admin")
    start = clock.now().astimezone(clock.SHANGHAI) + timedelta(days=1)
    form = {
        "csrf_token": csrf,
        "username": "window1",
        "from": start.strftime("%Y-%m-%dT%H:%M"),
        "to": (start + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
        "reason": "外出培训",
    }
    assert client.post("/admin/absences", data={**form, "csrf_token": ""}).status_code == 400  # no CSRF token
    response = client.post("/admin/absences", data=form)
    assert response.status_code == 302
    listed = as_user("window2").get("/api/users/window1/absences").get_json()
    assert [(a["backup"], a["state"], a["recorded_by"]) for a in listed] == [("window2", "scheduled", "admin")]
    page = client.get("/admin?section=absences").get_data(as_text=True)
    assert "外出培训" in page and 'data-testid="absence-end"' in page and ">撤销</button>" in page
    refused = client.post("/admin/absences", data={**form, "to": form["from"]})
    assert refused.status_code == 422 and "结束时间须晚于开始时间" in refused.get_data(as_text=True)
    # Cancelled (撤销) before it begins: it leaves the list of current absences and never takes effect.
    absence_id = listed[0]["id"]
    end = f"/admin/users/window1/absences/{absence_id}/end"
    assert client.post(end, data={"csrf_token": ""}).status_code == 400  # no CSRF token
    assert client.post(end, data={"csrf_token": csrf}).status_code == 302
    assert as_user("window2").get("/api/users/window1/absences").get_json()[0]["state"] == "cancelled"
    assert "外出培训" not in client.get("/admin?section=absences").get_data(as_text=True)
    again = client.post(end, data={"csrf_token": csrf})
    assert again.status_code == 409 and "已结束或已撤销" in again.get_data(as_text=True)
    user_page = client.get("/admin/users/window1").get_data(as_text=True)
    assert "已撤销" in user_page and "请假撤销" in user_page  # its state, and the log's entry
