"""The designer's pages in a real browser: the bpmn-js modeler on a published process, a change made
through the modeler saved as a draft with its report, an error marked on its element, a dry run drawn
on the diagram, publishing from the page (the next case's task shows the new field), the diff and the
matter catalog."""

from __future__ import annotations

from lxml import etree
from playwright.sync_api import expect

from config import BASE_DIR
from tests.processes.scenarios import SENIOR, accept, ok, open_tasks
from tests.web.conftest import screenshot

DI = "http://www.omg.org/spec/BPMN/20100524/DI"


def _open(page, people, key: str, version: int | None = None):
    page.goto(people.url(f"/designer/{key}" + (f"?version={version}" if version else "")))
    expect(page.locator("#modeler")).to_have_attribute("data-ready", "true")


def _add_field(page, task: str, field: str, label: str, type_: str = "string") -> None:
    page.evaluate(
        """([task, field, label, type]) => {
            const registry = window.onewindowModeler.get('elementRegistry');
            window.onewindowDesigner.addField(registry.get(task), field, label, type, false);
        }""",
        [task, field, label, type_],
    )


def test_the_modeler_opens_a_published_process_and_draws_all_its_elements(people):
    page = people.login("designer")
    page.goto(people.url("/designer"))
    expect(page.locator("[data-testid=process-row][data-key=construction_permit]")).to_be_visible()
    screenshot(page, "designer-list")
    _open(page, people, "construction_permit")
    expect(page.locator("[data-testid=version-state]")).to_have_text("已发布")
    drawn = set(page.evaluate("window.onewindowModeler.get('elementRegistry').getAll().map(e => e.id)"))
    root = etree.parse(str(BASE_DIR / "bpmn" / "construction_permit.bpmn"))
    shapes = {el.get("bpmnElement") for el in root.iter(f"{{{DI}}}BPMNShape", f"{{{DI}}}BPMNEdge")}
    assert shapes and shapes <= drawn, shapes - drawn
    page.locator("[data-element-id=lead_review]").first.click()
    expect(page.locator("#properties")).to_have_attribute("data-element", "lead_review")
    expect(page.locator("#properties [data-testid=form-field]").first).to_be_visible()
    screenshot(page, "designer-modeler")


def test_an_upload_with_an_error_marks_its_element(people):
    page = people.login("designer")
    _open(page, people, "senior_card")
    _add_field(page, "handle", "bad id", "坏字段", "color")
    page.click("[data-testid=save-draft]")
    expect(page.locator("#modeler")).to_have_attribute("data-saved", "error")
    item = page.locator("[data-testid=report-item][data-element=handle]").filter(has_text="未知类型")
    expect(item).to_contain_text("未知类型")
    expect(page.locator("g.djs-element.report-error[data-element-id=handle]")).to_have_count(1)
    item.click()
    assert page.evaluate("window.onewindowModeler.get('selection').get().map(e => e.id)") == ["handle"]
    screenshot(page, "designer-report-error")


def test_simulate_draws_the_path_on_the_diagram(people):
    page = people.login("designer")
    _open(page, people, "food_business_license")
    page.click("[data-testid=simulate]")
    expect(page.locator("#modeler")).to_have_attribute("data-simulated", "true")
    expect(page.locator("[data-testid=simulate-result]")).to_contain_text("试运行完成")
    path = page.locator("[data-testid=simulate-result]").get_attribute("data-path")
    assert '"review"' in path and '"decide"' in path
    expect(page.locator("g.djs-element.sim-path[data-element-id=decide]")).to_have_count(1)
    screenshot(page, "designer-simulate")


def test_a_designer_adds_a_field_saves_dry_runs_publishes_and_the_next_case_shows_it(people, as_user):
    page = people.login("designer")
    _open(page, people, "senior_card")
    _add_field(page, "handle", "card_no", "优待证编号")
    page.click("[data-testid=save-draft]")
    expect(page.locator("#modeler")).to_have_attribute("data-saved", "2")
    expect(page.locator("[data-testid=report-summary]")).to_contain_text("已保存为草稿 v2")
    screenshot(page, "designer-saved-draft")
    page.click("[data-testid=draft-link]")
    expect(page.locator("#modeler")).to_have_attribute("data-ready", "true")
    expect(page.locator("[data-testid=version-state]")).to_have_text("草稿")
    page.click("[data-testid=simulate]")
    expect(page.locator("#modeler")).to_have_attribute("data-simulated", "true")
    page.locator("[data-testid=version-row][data-version='2'] [data-testid=publish]").click()
    expect(page.locator("[data-testid=flash][data-kind=success]")).to_contain_text("已发布 v2")
    expect(page.locator("[data-testid=version-row][data-version='1']")).to_have_attribute("data-state", "retired")
    screenshot(page, "designer-published")
    page.goto(people.url("/designer/senior_card/diff?a=1&b=2"))
    expect(page.locator("[data-testid=diff-changed][data-element=handle]")).to_contain_text("card_no")
    screenshot(page, "designer-diff")
    case = accept(as_user, SENIOR)
    [task] = open_tasks(as_user, case["id"])
    fields = ok(as_user("window1").get(f"/api/tasks/{task['id']}"))["fields"]
    assert "card_no" in [f["name"] for f in fields]
    ok(as_user("window1").post(f"/api/tasks/{task['id']}/claim"))
    clerk = people.login("window1")
    clerk.goto(people.url(f"/tasks/{task['id']}"))
    expect(clerk.locator("input[name=card_no]")).to_be_visible()
    screenshot(clerk, "task-new-field")


def test_the_matter_catalog_edits_with_validation_and_revisions(people):
    page = people.login("designer")
    page.goto(people.url("/matters"))
    page.locator("[data-testid=matter-row][data-code=SC-001] a").click()
    page.fill("input[name=promised_days]", "30")
    page.click("[data-testid=matter-save]")
    expect(page.locator("[data-testid=flash][data-kind=error]")).to_be_visible()
    expect(page.locator(".field-error[data-field=promised_days]")).to_contain_text("承诺时限不得超过法定时限")
    expect(page.locator("input[name=promised_days]")).to_have_value("30")
    screenshot(page, "matter-edit-error")
    page.fill("input[name=promised_days]", "8")
    page.click("[data-testid=matter-save]")
    expect(page.locator("[data-testid=flash][data-kind=success]")).to_be_visible()
    newest = page.locator("[data-testid=revision-row]").first
    expect(newest).to_contain_text("承诺时限（工作日）：10 → 8")
    expect(newest).to_contain_text("designer")
    screenshot(page, "matter-revisions")
