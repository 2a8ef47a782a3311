"""Forms declared in the BPMN (camunda:formData): upload, publish, the fields served with a task,
every bad submission refused naming its field in Chinese, a good one accepted; bad forms reported
with element and line; a case started before forms lived in the BPMN still completes."""

from __future__ import annotations

import pytest

from app.engine.runtime import definitions
from tests.processes.bpmn_builder import process
from tests.processes.fixtures import entries, line_of, read, upload
from tests.processes.scenarios import SENIOR, accept, case_of, ok, open_tasks, work

CAMUNDA = 'xmlns:camunda="http://camunda.org/schema/1.0/bpmn"'
EVERY_TYPE = f"""
      <bpmn:extensionElements><camunda:formData {CAMUNDA}>
        <camunda:formField id="title" label="标题" type="string">
          <camunda:validation><camunda:constraint name="required" />
            <camunda:constraint name="minlength" config="2" /><camunda:constraint name="maxlength" config="20" />
          </camunda:validation></camunda:formField>
        <camunda:formField id="note" label="备注" type="text">
          <camunda:validation><camunda:constraint name="maxlength" config="50" /></camunda:validation>
        </camunda:formField>
        <camunda:formField id="approved" label="审批决定" type="boolean">
          <camunda:validation><camunda:constraint name="required" /></camunda:validation></camunda:formField>
        <camunda:formField id="count" label="份数" type="long">
          <camunda:validation><camunda:constraint name="min" config="1" /><camunda:constraint name="max" config="5" />
          </camunda:validation></camunda:formField>
        <camunda:formField id="visit_on" label="踏勘日期" type="date">
          <camunda:validation><camunda:constraint name="min" config="2026-01-01" />
            <camunda:constraint name="max" config="2026-12-31" /></camunda:validation></camunda:formField>
        <camunda:formField id="method" label="送达方式" type="enum">
          <camunda:value id="window" name="窗口领取" /><camunda:value id="mail" name="邮寄送达" />
          <camunda:validation><camunda:constraint name="required" /></camunda:validation></camunda:formField>
        <camunda:formField id="reason" label="不予理由" type="text">
          <camunda:validation><camunda:constraint name="required_if" config="approved == False" />
          </camunda:validation></camunda:formField>
        <camunda:formField id="supplied" label="补齐材料" type="materials" />
      </camunda:formData></bpmn:extensionElements>"""
GOOD = {"title": "合格的标题", "approved": True, "method": "mail", "count": 3, "visit_on": "2026-06-01"}
BAD = [
    ({}, {"title", "approved", "method"}),
    ({**GOOD, "title": "短"}, {"title"}),
    ({**GOOD, "title": "长" * 21}, {"title"}),
    ({**GOOD, "note": "字" * 51}, {"note"}),
    ({**GOOD, "approved": "yes"}, {"approved"}),
    ({**GOOD, "count": 0}, {"count"}),
    ({**GOOD, "count": 6}, {"count"}),
    ({**GOOD, "count": "3"}, {"count"}),
    ({**GOOD, "visit_on": "2025-12-31"}, {"visit_on"}),
    ({**GOOD, "visit_on": "明天"}, {"visit_on"}),
    ({**GOOD, "method": "fax"}, {"method"}),
    ({**GOOD, "approved": False}, {"reason"}),
    ({**GOOD, "approved": False, "reason": "   "}, {"reason"}),
    ({**GOOD, "supplied": ["不是本件的材料"]}, {"supplied"}),
    ({**GOOD, "extra": 1}, {"extra"}),
]
MATTER = {
    "name": "表单测试事项",
    "department": "market",
    "kind": "promised",
    "mode": "serial",
    "statutory_days": 20,
    "promised_days": 10,
    "process_key": "form_test",
    "materials": [{"name": "申请书", "required": True, "deferrable": False}],
}


@pytest.fixture
def form_task(as_user):
    """A published process whose form has every type and constraint, a matter on it, a claimed task."""
    data = process("form_test", condition="review.get('approved') == True", task_extension=EVERY_TYPE)
    uploaded = upload(as_user("designer"), data)
    assert uploaded.status_code == 201, uploaded.get_json()
    ok(as_user("designer").post(f"/api/processes/form_test/versions/{uploaded.get_json()['version']}/publish"))
    designer = as_user("designer")
    ok(designer.client.put("/api/matters/FT-001", json=MATTER, headers=designer.headers), 201)
    case = accept(as_user, "FT-001")
    [task] = open_tasks(as_user, case["id"])
    ok(as_user("market_reviewer1").post(f"/api/tasks/{task['id']}/claim"))
    return case, task


def test_the_task_serves_its_fields_with_labels_and_choices(as_user, form_task):
    _, task = form_task
    detail = ok(as_user("market_reviewer1").get(f"/api/tasks/{task['id']}"))
    fields = {f["name"]: f for f in detail["fields"]}
    assert list(fields) == ["title", "note", "approved", "count", "visit_on", "method", "reason", "supplied"]
    assert fields["title"] == {"name": "title", "label": "标题", "type": "string", "required": True, "max_length": 20}
    assert fields["method"]["choices"] == [
        {"value": "window", "label": "窗口领取"},
        {"value": "mail", "label": "邮寄送达"},
    ]
    assert fields["reason"]["required_if"] == "approved == False" and not fields["reason"]["required"]
    assert (fields["count"]["type"], fields["visit_on"]["type"], fields["supplied"]["choices"]) == ("long", "date", [])


@pytest.mark.parametrize(("data", "named"), BAD)
def test_every_bad_submission_is_refused_naming_its_field(as_user, form_task, data, named):
    _, task = form_task
    reviewer = as_user("market_reviewer1")
    response = reviewer.post(f"/api/tasks/{task['id']}/complete", json={"data": data})
    assert response.status_code == 422, response.get_json()
    errors = response.get_json()["errors"]
    assert set(errors) == named
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in str(messages)) for messages in errors.values()), errors


def test_a_good_submission_completes_the_step(as_user, form_task):
    case, task = form_task
    ok(as_user("market_reviewer1").post(f"/api/tasks/{task['id']}/complete", json={"data": GOOD}))
    final = case_of(as_user, case["id"])
    assert final["status"] == "completed" and final["open_tasks"] == []
    events = ok(as_user("auditor").get(f"/api/cases/{case['id']}/events"))["items"]
    done = next(e for e in events if e["type"] == "task_completed")
    assert done["payload"]["data"]["visit_on"] == "2026-06-01" and done["payload"]["data"]["count"] == 3


BAD_FORM = f"""
      <bpmn:extensionElements><camunda:formData {CAMUNDA}>
        <camunda:formField id="a" label="甲" type="color" />
        <camunda:formField id="b" label="乙" type="enum" />
        <camunda:formField id="b" label="乙二" type="string">
          <camunda:validation><camunda:constraint name="maxlength" config="many" />
            <camunda:constraint name="min" config="1" /><camunda:constraint name="pattern" config=".*" />
          </camunda:validation></camunda:formField>
        <camunda:formField id="c" label="丙" type="text">
          <camunda:validation><camunda:constraint name="required_if" config="__import__('os').system('id')" />
          </camunda:validation></camunda:formField>
        <camunda:formField id="d" label="丁" type="long">
          <camunda:validation><camunda:constraint name="min" config="9" /><camunda:constraint name="max" config="1" />
          </camunda:validation></camunda:formField>
        <camunda:formField id="e" label="戊" type="text">
          <camunda:validation><camunda:constraint name="required_if" config="nosuch == 1" /></camunda:validation>
        </camunda:formField>
      </camunda:formData></bpmn:extensionElements>"""


def test_a_bad_form_is_reported_with_its_element_and_line(as_user):
    data = process("bad_form", condition="review.get('missing_field') == True", task_extension=BAD_FORM)
    response = upload(as_user("designer"), data)
    assert response.status_code == 422
    report = entries(response.get_json()["report"], severity="error", element="review")
    text = "\n".join(e["message"] for e in report)
    for needle in (
        "未知类型 'color'",
        "枚举字段没有可选值",
        "字段 id 'b' 重复",
        "maxlength 的 config",
        "约束 min 不适用于 string",
        "未知约束 'pattern'",
        "required_if 条件不可用",
        "min 大于 max",
        "读取了表单中没有的字段 nosuch",
    ):
        assert needle in text, (needle, text)
    [gateway] = [e for e in response.get_json()["report"] if "missing_field" in e["message"]]
    assert gateway["element"] == "f_yes" and "没有字段 'missing_field'" in gateway["message"]
    color = next(e for e in report if "'color'" in e["message"])
    assert color["line"] == line_of(data, 'id="a"')


def test_a_case_started_before_forms_lived_in_the_bpmn_completes_after_the_upgrade(as_user):
    """The shipped senior_card as it was before issue 12 (form="decision") runs a case; then the
    declared-forms version is published again, and the old case still completes by its old form."""
    designer = as_user("designer")
    current = next(
        v for v in ok(designer.get("/api/processes/senior_card/versions"))["items"] if v["state"] == "published"
    )
    legacy = upload(designer, read("legacy/senior_card_before_forms.bpmn"))
    assert legacy.status_code == 201, legacy.get_json()
    ok(designer.post(f"/api/processes/senior_card/versions/{legacy.get_json()['version']}/publish"))
    old = accept(as_user, SENIOR)
    ok(designer.post(f"/api/processes/senior_card/versions/{current['version']}/publish"))  # the upgrade
    new = accept(as_user, SENIOR)
    definitions.clear()  # as after a restart: the old case reloads its own version's bytes
    [old_task], [new_task] = open_tasks(as_user, old["id"]), open_tasks(as_user, new["id"])
    old_detail = ok(as_user("window1").get(f"/api/tasks/{old_task['id']}"))
    new_detail = ok(as_user("window1").get(f"/api/tasks/{new_task['id']}"))
    assert (old_detail["form"], new_detail["form"]) == ("decision", "declared")
    assert [f["name"] for f in old_detail["fields"]] == ["approved", "opinion"]
    ok(as_user("window1").post(f"/api/tasks/{old_task['id']}/claim"))
    refused = as_user("window1").post(f"/api/tasks/{old_task['id']}/complete", json={"data": {"approved": False}})
    assert refused.status_code == 422 and set(refused.get_json()["errors"]) == {"opinion"}
    ok(as_user("window1").post(f"/api/tasks/{old_task['id']}/unclaim"))
    work(as_user, old_task, {"approved": False, "opinion": "年龄不符合条件"}, user="window1")
    work(as_user, new_task, {"approved": True}, user="window1")
    assert (case_of(as_user, old["id"])["result"], case_of(as_user, new["id"])["result"]) == ("rejected", "approved")
