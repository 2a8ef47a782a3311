"""POST /api/processes/{key}/versions/{version}/simulate: a dry run of a version through a scenario,
with nothing stored; 422 naming the task or element when the scenario cannot run to an end."""

import pytest

from tests.conftest import row_counts
from tests.factories import FOOD_STAFF, accept, open_tasks, work
from tests.processes.bpmn_builder import HEAD, process
from tests.processes.fixtures import read, upload

FOOD_SCENARIO = {
    "review": {"opinion": "材料齐全"},
    "audit": {"opinion": "同意"},
    "decide": {"approved": True, "opinion": "同意"},
    "certify": {"certificate_no": "JY13301020000001"},
    "deliver": {"method": "window"},
    "notify_refusal": {"method": "window"},
}
HEALTH = "public_health_permit"
WAIT_PROCESS = f"""{HEAD}
  <bpmn:process id="waiting" name="等待一小时" isExecutable="true">
    <bpmn:laneSet id="ls"><bpmn:lane id="l1" name="market.review">
      <bpmn:flowNodeRef>review</bpmn:flowNodeRef><bpmn:flowNodeRef>notify</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="start" />
    <bpmn:userTask id="review" />
    <bpmn:intermediateCatchEvent id="wait_1h">
      <bpmn:timerEventDefinition id="t1"><bpmn:timeDuration>"PT1H"</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:userTask id="notify" />
    <bpmn:endEvent id="end" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="review" />
    <bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="wait_1h" />
    <bpmn:sequenceFlow id="f3" sourceRef="wait_1h" targetRef="notify" />
    <bpmn:sequenceFlow id="f4" sourceRef="notify" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
""".encode()


def _simulate(actor, key: str, version: int, scenario: dict):
    return actor.post(f"/api/processes/{key}/versions/{version}/simulate", json=scenario)


def _draft(as_user, data: bytes) -> int:
    response = upload(as_user("designer"), data)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["version"]


def _problem(response, element: str | None = None) -> dict:
    assert response.status_code == 422, response.get_json()
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    if element is not None:
        assert body["element"] == element, body
    return body


@pytest.mark.parametrize("approved", [True, False])
def test_dry_run_predicts_what_a_case_does(as_user, app, approved):
    scenario = {"tasks": {**FOOD_SCENARIO, "decide": {"approved": approved, "opinion": "理由"}}}
    designer = as_user("designer")
    before = row_counts(app)
    response = _simulate(designer, "food_business_license", 1, scenario)
    assert response.status_code == 200, response.get_json()
    assert row_counts(app) == before  # no case, task, event or version was written
    body = response.get_json()
    assert body["end"] == ("end_approved" if approved else "end_rejected")
    assert body["result"] == ("approved" if approved else "rejected")
    assert body["path"][0] == "start" and body["path"][-1] == body["end"] and "gw_decision" in body["path"]
    names = [t["name"] for t in body["tasks"]]
    assert [n for n in body["path"] if n in set(names)] == names  # tasks appear in the path in their order
    assert body["tasks"][0] == {
        "name": "review",
        "title": "承办人审查",
        "group": "market.review",
        "instance": None,
        "data": {"opinion": "材料齐全", "needs_inspection": False},
    }
    case = accept(as_user)
    worked = []
    while tasks := open_tasks(as_user, case["id"]):
        worked.append(tasks[0]["name"])
        work(as_user, tasks[0], scenario["tasks"][tasks[0]["name"]], user=FOOD_STAFF[tasks[0]["name"]])
    assert worked == names
    assert as_user("auditor").get(f"/api/cases/{case['id']}").get_json()["result"] == body["result"]


def test_a_task_the_scenario_does_not_cover_is_named(as_user):
    tasks = {k: v for k, v in FOOD_SCENARIO.items() if k != "decide"}
    body = _problem(_simulate(as_user("designer"), "food_business_license", 1, {"tasks": tasks}), "decide")
    assert "decide" in body["detail"] and "decide" in body["errors"]["tasks"]
    assert body["path"][0] == "start" and "audit" in body["path"] and "decide" not in body["path"]


def test_a_submission_is_checked_with_the_task_form(as_user):
    tasks = {**FOOD_SCENARIO, "decide": {"approved": False}}  # a rejection needs an opinion
    body = _problem(_simulate(as_user("designer"), "food_business_license", 1, {"tasks": tasks}), "decide")
    assert "opinion" in body["errors"]["tasks"]["decide"]
    tasks = {**FOOD_SCENARIO, "review": {"opinion": "x", "hack": 1}}
    _problem(_simulate(as_user("designer"), "food_business_license", 1, {"tasks": tasks}), "review")


def test_scenario_shape_is_validated(as_user):
    designer = as_user("designer")
    body = _problem(_simulate(designer, "food_business_license", 1, {"tasks": {"nonsense": {}}}))
    assert "nonsense" in body["errors"]["tasks"]
    for bad in ({"tasks": {"review": "ok"}}, {"tasks": {"review": [1]}}, {"data": []}, {"max_steps": 0}, {"x": 1}):
        _problem(_simulate(designer, "food_business_license", 1, bad))


def test_only_designers_simulate_and_unknown_versions_are_404(as_user):
    assert _simulate(as_user("window1"), "food_business_license", 1, {"tasks": FOOD_SCENARIO}).status_code == 403
    assert _simulate(as_user("designer"), "food_business_license", 9, {"tasks": FOOD_SCENARIO}).status_code == 404


def test_a_draft_runs_its_loop_with_submissions_in_order(as_user):
    version = _draft(as_user, read("zeebe_public_health_permit.bpmn"))
    scenario = {
        "data": {"departments": ["fire", "health"]},
        "tasks": {
            "review": [{"approved": False, "opinion": "缺平面图"}, {"approved": True}],
            "correct": {"opinion": "已告知"},
            "joint_review": {"fire": {"opinion": "消防同意"}, "health": {"opinion": "卫生同意"}},
            "decide": {"approved": True},
            "deliver": {"method": "mail"},
        },
    }
    response = _simulate(as_user("designer"), HEALTH, version, scenario)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["path"] == [
        "StartEvent_1", "Gateway_merge", "review", "Gateway_complete", "correct",
        "Gateway_merge", "review", "Gateway_complete", "joint_review", "joint_review",
        "decide", "Gateway_decision", "deliver", "end_approved",
    ]  # fmt: skip
    steps = [(t["name"], t["instance"], t["group"], t["data"].get("opinion")) for t in body["tasks"]]
    assert steps == [
        ("review", None, "health.review", "缺平面图"),
        ("correct", None, "center.window", "已告知"),
        ("review", None, "health.review", None),
        ("joint_review", "fire", "fire.review", "消防同意"),
        ("joint_review", "health", "health.review", "卫生同意"),
        ("decide", None, "health.leader", None),
        ("deliver", None, "center.window", None),
    ]
    assert body["unused"] == []


def test_a_loop_beyond_its_max_rounds_is_stopped_and_named(as_user):
    version = _draft(as_user, read("zeebe_public_health_permit.bpmn"))
    scenario = {"data": {"departments": []}, "tasks": {"review": {"approved": False, "opinion": "不全"}, "correct": {}}}
    body = _problem(_simulate(as_user("designer"), HEALTH, version, scenario), "Gateway_complete")
    assert "max_rounds=3" in body["detail"]
    assert body["path"].count("correct") == 3


def test_a_missing_instance_submission_is_named(as_user):
    version = _draft(as_user, read("zeebe_public_health_permit.bpmn"))
    scenario = {
        "data": {"departments": ["fire", "civil"]},
        "tasks": {"review": {"approved": True}, "joint_review": {"fire": {"opinion": "同意"}}},
    }
    body = _problem(_simulate(as_user("designer"), HEALTH, version, scenario), "joint_review")
    assert "'civil'" in body["detail"]


def test_the_step_cap_stops_a_long_scenario(as_user):
    body = _problem(
        _simulate(as_user("designer"), "food_business_license", 1, {"tasks": FOOD_SCENARIO, "max_steps": 2})
    )
    assert "2 steps" in body["detail"]


def test_timers_fire_when_only_time_can_move_the_process(as_user):
    version = _draft(as_user, WAIT_PROCESS)
    scenario = {"tasks": {"review": {"opinion": "ok"}, "notify": {"opinion": "done"}}}
    response = _simulate(as_user("designer"), "waiting", version, scenario)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["path"] == ["start", "review", "wait_1h", "notify", "end"]


def test_an_engine_failure_names_the_element(as_user, app):
    version = _draft(as_user, process("needs_data", condition="inspection_result == 'ok'"))
    designer = as_user("designer")
    before = row_counts(app)
    body = _problem(_simulate(designer, "needs_data", version, {"tasks": {"review": {"opinion": "ok"}}}), "gw")
    assert "inspection_result" in body["detail"] and body["path"] == ["start", "review"]
    assert row_counts(app) == before
    response = _simulate(
        designer, "needs_data", version, {"data": {"inspection_result": "ok"}, "tasks": {"review": {}}}
    )
    assert response.status_code == 200 and response.get_json()["end"] == "end_yes"
