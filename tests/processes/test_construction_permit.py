"""bpmn/construction_permit.bpmn (建筑工程施工许可, parallel joint review): every path through the
HTTP API on a real database, and once in the engine with a save and reload between every step."""

from pathlib import Path

import pytest

from app.engine import expressions
from app.engine.parser import load_definition
from app.engine.runtime import Run
from config import BASE_DIR
from tests.conftest import row_counts
from tests.processes.scenarios import (
    CONSTRUCTION,
    DEPARTMENTS,
    EXPECTED,
    SCENARIOS,
    accept,
    application,
    case_of,
    completed_path,
    events,
    ok,
    open_tasks,
    reject,
    work,
    work_named,
)

BPMN = Path(BASE_DIR / "bpmn" / "construction_permit.bpmn")
GROUPS = sorted(f"{d}.review" for d in DEPARTMENTS)
REVIEWERS = {f"{d}.review": f"{d}_reviewer" for d in DEPARTMENTS}


def _any_rejected(items) -> bool:
    return isinstance(items, list) and any(isinstance(i, dict) and i.get("approved") is False for i in items)


def _all_approved(items) -> bool:
    return (
        isinstance(items, list)
        and bool(items)
        and all(isinstance(i, dict) and i.get("approved") is True for i in items)
    )


@pytest.fixture(autouse=True)
def review_functions(monkeypatch):
    """any_rejected/all_approved are platform functions; register stand-ins where the platform lacks them."""
    for name, func in (("any_rejected", _any_rejected), ("all_approved", _all_approved)):
        if name not in expressions.FUNCTIONS:
            monkeypatch.setitem(expressions.FUNCTIONS, name, func)


def _reviews(as_user, case_id: str) -> list[dict]:
    return [t for t in open_tasks(as_user, case_id) if t["name"] == "joint_review"]


# --------------------------------------------------------------------------- the catalog


def test_catalog_entry(as_user):
    matter = ok(as_user("window1").get(f"/api/matters/{CONSTRUCTION}"))
    assert {k: matter[k] for k in ("code", "name", "department", "kind", "mode", "process_key")} == {
        "code": "JS-001",
        "name": "建筑工程施工许可证核发",
        "department": "housing",
        "kind": "promised",
        "mode": "parallel",
        "process_key": "construction_permit",
    }
    assert (matter["statutory_days"], matter["promised_days"]) == (45, 20)
    deferrable = [m["name"] for m in matter["materials"] if m["deferrable"]]
    assert deferrable == ["施工现场具备施工条件的说明", "工程质量安全监督登记表"]
    assert all(m["required"] for m in matter["materials"] if m["deferrable"])


def test_missing_required_material_is_refused(as_user):
    body = application(as_user, CONSTRUCTION, omit=["建设工程规划许可证"])
    response = as_user("window1").post("/api/cases", json=body)
    assert response.status_code == 422
    assert "建设工程规划许可证" in str(response.get_json()["errors"])


# --------------------------------------------------------------------------- the joint review


def test_every_department_reviews_at_the_same_time(as_user):
    case = accept(as_user, CONSTRUCTION)
    reviews = _reviews(as_user, case["id"])
    assert [t["name"] for t in open_tasks(as_user, case["id"])] == ["joint_review"] * 3
    assert sorted(t["group"] for t in reviews) == GROUPS
    assert {t["title"] for t in reviews} == {"联合审查"}
    # Each department sees only its own review in its inbox.
    for group, reviewer in REVIEWERS.items():
        inbox = ok(as_user(reviewer).get("/api/tasks?scope=claimable"))["items"]
        assert [(t["name"], t["group"]) for t in inbox] == [("joint_review", group)]


@pytest.mark.parametrize("outsider", ["fire_reviewer", "resources_reviewer", "housing_leader", "health_reviewer"])
def test_a_non_member_cannot_claim_another_departments_review(as_user, outsider):
    case = accept(as_user, CONSTRUCTION)
    housing = next(t for t in _reviews(as_user, case["id"]) if t["group"] == "housing.review")
    response = as_user(outsider).post(f"/api/tasks/{housing['id']}/claim")
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"
    assert all(t["assignee"] is None for t in open_tasks(as_user, case["id"]))


def test_a_department_can_only_work_its_own_review(as_user):
    case = accept(as_user, CONSTRUCTION)
    by_group = {t["group"]: t for t in _reviews(as_user, case["id"])}
    fire = as_user("fire_reviewer")
    assert fire.post(f"/api/tasks/{by_group['fire.review']['id']}/claim").status_code == 200
    assert fire.post(f"/api/tasks/{by_group['resources.review']['id']}/complete", json={"data": {}}).status_code == 403
    # The resources reviewer cannot take over the fire department's claimed review either.
    assert as_user("resources_reviewer").post(f"/api/tasks/{by_group['fire.review']['id']}/claim").status_code == 403


def test_a_department_rejection_needs_an_opinion(as_user):
    case = accept(as_user, CONSTRUCTION)
    fire = next(t for t in _reviews(as_user, case["id"]) if t["group"] == "fire.review")
    as_user("fire_reviewer").post(f"/api/tasks/{fire['id']}/claim")
    response = as_user("fire_reviewer").post(f"/api/tasks/{fire['id']}/complete", json={"data": {"approved": False}})
    assert response.status_code == 422
    assert "opinion" in response.get_json()["errors"]


def test_the_decision_waits_for_every_department(as_user):
    case = accept(as_user, CONSTRUCTION)
    for task in _reviews(as_user, case["id"])[:2]:
        work(as_user, task, {"approved": True, "opinion": "同意"}, user=REVIEWERS[task["group"]])
        assert "decide" not in [t["name"] for t in open_tasks(as_user, case["id"])]
    last = _reviews(as_user, case["id"])[0]
    work(as_user, last, {"approved": True, "opinion": "同意"}, user=REVIEWERS[last["group"]])
    assert [(t["name"], t["group"]) for t in open_tasks(as_user, case["id"])] == [("decide", "housing.leader")]


def test_the_lead_sees_every_departments_opinion(as_user):
    case = accept(as_user, CONSTRUCTION)
    for task in _reviews(as_user, case["id"]):
        department = task["group"].split(".")[0]
        work(as_user, task, {"approved": True, "opinion": f"{department} 审查意见"}, user=REVIEWERS[task["group"]])
    # The lead department's leader reads the case's record (its own department's case).
    record = ok(as_user("housing_leader").get(f"/api/cases/{case['id']}/events"))["items"]
    groups = {e["task_id"]: e["payload"]["group"] for e in record if e["type"] == "task_ready"}
    opinions = {
        groups[e["task_id"]]: e["payload"]["data"]
        for e in record
        if e["type"] == "task_completed" and e["payload"]["name"] == "joint_review"
    }
    assert opinions == {f"{d}.review": {"approved": True, "opinion": f"{d} 审查意见"} for d in DEPARTMENTS}


# --------------------------------------------------------------------------- every path


def test_approve(as_user):
    case_id = SCENARIOS["construction_permit:approve"](as_user)
    record = events(as_user, case_id)
    ready = [(e["payload"]["name"], e["payload"]["group"]) for e in record if e["type"] == "task_ready"]
    assert sorted(g for n, g in ready if n == "joint_review") == GROUPS
    assert [r for r in ready if r[0] != "joint_review"] == [
        ("decide", "housing.leader"),
        ("certify", "housing.review"),
        ("deliver", "center.window"),
    ]
    assert record[-1]["type"] == "case_completed" and record[-1]["payload"]["end"] == "end_approved"


def test_lead_rejects(as_user):
    case_id = SCENARIOS["construction_permit:reject"](as_user)
    record = events(as_user, case_id)
    decided = next(e for e in record if e["type"] == "task_completed" and e["payload"]["name"] == "decide")
    assert decided["actor"] == "housing_leader" and decided["payload"]["data"]["approved"] is False
    assert [e["type"] for e in record][-2:] == ["case_completed", "case_filed"]  # a rejection is filed (否定报备)
    assert record[-2]["payload"] == {"result": "rejected", "end": "end_rejected"}


@pytest.mark.parametrize("department", DEPARTMENTS)
def test_one_department_rejecting_leads_to_a_reasoned_refusal(as_user, department):
    case_id = SCENARIOS[f"construction_permit:rejected_by_{department}"](as_user)
    assert completed_path(as_user, case_id) == ["joint_review"] * 3 + ["refuse_reason", "notify_refusal"]
    record = events(as_user, case_id)
    ready = {e["payload"]["name"]: e["payload"]["group"] for e in record if e["type"] == "task_ready"}
    assert ready["refuse_reason"] == "housing.leader" and ready["notify_refusal"] == "center.window"
    assert "decide" not in ready  # the lead does not decide over a department's no
    reason = next(e for e in record if e["type"] == "task_completed" and e["payload"]["name"] == "refuse_reason")
    assert reason["actor"] == "housing_leader" and department in reason["payload"]["data"]["reason"]
    assert case_of(as_user, case_id)["result"] == "rejected"


def test_the_refusal_reason_is_required(as_user):
    case = accept(as_user, CONSTRUCTION)
    for task in _reviews(as_user, case["id"]):
        data = reject("不符合消防要求") if task["group"] == "fire.review" else {"approved": True}
        work(as_user, task, data, user=REVIEWERS[task["group"]])
    [task] = open_tasks(as_user, case["id"])
    assert task["name"] == "refuse_reason"
    leader = as_user("housing_leader")
    leader.post(f"/api/tasks/{task['id']}/claim")
    assert leader.post(f"/api/tasks/{task['id']}/complete", json={"data": {"reason": ""}}).status_code == 422
    assert leader.post(f"/api/tasks/{task['id']}/complete", json={"data": {}}).status_code == 422


def test_several_departments_rejecting_is_one_refusal(as_user):
    case = accept(as_user, CONSTRUCTION)
    for task in _reviews(as_user, case["id"]):
        data = {"approved": True} if task["group"] == "housing.review" else reject("不同意")
        work(as_user, task, data, user=REVIEWERS[task["group"]])
    assert [t["name"] for t in open_tasks(as_user, case["id"])] == ["refuse_reason"]


def test_deferred_material_holds_delivery_until_supplied(as_user):
    case = accept(as_user, CONSTRUCTION, omit=["施工现场具备施工条件的说明"])
    assert sorted(t["name"] for t in open_tasks(as_user, case["id"])) == ["joint_review"] * 3 + ["supplement"]
    for _ in DEPARTMENTS:
        work_named(as_user, case["id"], "joint_review", lambda task: {"approved": True, "opinion": "同意"})
    work_named(as_user, case["id"], "decide")
    work_named(as_user, case["id"], "certify")
    # Approved and certified, but the deferred material has not arrived: nothing to deliver yet.
    [supplement] = open_tasks(as_user, case["id"])
    assert (supplement["name"], supplement["group"]) == ("supplement", "center.window")
    window = as_user("window1")
    window.post(f"/api/tasks/{supplement['id']}/claim")
    incomplete = window.post(f"/api/tasks/{supplement['id']}/complete", json={"data": {"materials": ["营业执照"]}})
    assert incomplete.status_code == 422
    done = window.post(
        f"/api/tasks/{supplement['id']}/complete", json={"data": {"materials": ["施工现场具备施工条件的说明"]}}
    )
    assert done.status_code == 200
    assert [t["name"] for t in open_tasks(as_user, case["id"])] == ["deliver"]


def test_deferred_material_scenario(as_user):
    SCENARIOS["construction_permit:deferred_material"](as_user)


def test_a_refusal_ends_the_open_supplement(as_user):
    case = accept(as_user, CONSTRUCTION, omit=["工程质量安全监督登记表"])
    for _ in DEPARTMENTS:
        work_named(as_user, case["id"], "joint_review", lambda task: reject("不同意"))
    work_named(as_user, case["id"], "refuse_reason")
    work_named(as_user, case["id"], "notify_refusal")
    final = case_of(as_user, case["id"])
    assert (final["status"], final["result"], final["open_tasks"]) == ("completed", "rejected", [])
    cancelled = [e["payload"]["name"] for e in events(as_user, case["id"]) if e["type"] == "task_cancelled"]
    assert cancelled == ["supplement"]


def test_no_departments_the_lead_reviews_alone(as_user):
    case_id = SCENARIOS["construction_permit:no_departments"](as_user)
    ready = [
        (e["payload"]["name"], e["payload"]["group"]) for e in events(as_user, case_id) if e["type"] == "task_ready"
    ]
    assert ready[0] == ("lead_review", "housing.review")


def test_the_case_data_chooses_the_departments(as_user):
    case = accept(as_user, CONSTRUCTION, data={"departments": ["housing", "fire"]})
    assert sorted(t["group"] for t in _reviews(as_user, case["id"])) == ["fire.review", "housing.review"]


@pytest.mark.parametrize(
    "departments,message",
    [
        (None, "列表"),
        (5, "列表"),
        ("fire", "列表"),
        (["housing", "police"], "未知部门：police"),
        (["housing"] * 50, "部门重复：housing"),
        ([f"d{i}" for i in range(2000)], "最多 50 个部门"),
        (["housing", 7], "部门代码"),
    ],
)
def test_fan_out_lists_that_are_not_distinct_known_departments_are_422(app, as_user, departments, message):
    """The departments list drives one review each: it must be distinct, known department codes, within
    the budget; anything else is refused at acceptance, naming the field, and nothing is stored."""
    body = application(as_user, CONSTRUCTION, data={"departments": departments})
    before = row_counts(app)
    response = as_user("window1").post("/api/cases", json=body)
    assert response.status_code == 422, response.get_json()
    problems = response.get_json()["errors"]["data"]["departments"]
    assert any(message in p for p in problems), problems
    assert row_counts(app) == before


@pytest.mark.parametrize("key", sorted(k for k in SCENARIOS if k.startswith("construction_permit:")))
def test_scenario(as_user, key):
    case_id = SCENARIOS[key](as_user)  # the driver checks the path and the result itself
    assert case_of(as_user, case_id)["result"] == EXPECTED[key].result


def test_deadlines_are_those_of_joint_handling(as_user):
    case = accept(as_user, CONSTRUCTION)
    due = ok(as_user("auditor").get("/api/calendar/due", query_string={"from": case["accepted_at"][:10], "days": 45}))
    assert case["deadlines"]["statutory_due"][:10] == due["due_date"]
    review = _reviews(as_user, case["id"])[0]
    assert ok(as_user("housing_reviewer").get(f"/api/tasks/{review['id']}"))["due_at"] is not None  # step limit


# --------------------------------------------------------------------------- the engine, saved between steps

DEFINITION = load_definition(BPMN.read_bytes())


def _snapshot(run: Run) -> tuple:
    return [(t.id, t.spec.name, t.data.get("department")) for t in run.ready_tasks()], run.data, run.completed


def _submission(task, rejecting: str | None, lead_approves: bool) -> dict:
    name = task.spec.name
    if name == "joint_review":
        if task.data["department"] == rejecting:
            return {"approved": False, "opinion": "不同意"}
        return {"approved": True, "opinion": "同意"}
    if name == "decide":
        return {"approved": lead_approves, "opinion": "理由"}
    if name == "refuse_reason":
        return {"reason": "部门不同意"}
    return {"opinion": "ok"}


@pytest.mark.parametrize(
    "departments,rejecting,lead_approves,end,steps",
    [
        (list(DEPARTMENTS), None, True, "end_approved", 6),
        (list(DEPARTMENTS), None, False, "end_rejected", 5),
        (list(DEPARTMENTS), "fire", True, "end_rejected", 5),
        (["housing", "resources"], "resources", True, "end_rejected", 4),
        ([], None, True, "end_approved", 4),
    ],
)
def test_save_and_reload_between_every_step(departments, rejecting, lead_approves, end, steps):
    data = {"matter_code": CONSTRUCTION, "materials_deferred": [], "departments": departments}
    run = Run.start(DEFINITION, data)
    done = 0
    while not run.completed:
        state, version = run.dump()
        reloaded = Run.load(DEFINITION, state, version)
        assert _snapshot(reloaded) == _snapshot(run)
        run = reloaded
        ready = run.ready_tasks()
        assert ready, "the process waits for nobody"
        if done == 0 and departments:  # one review per department, all at once
            assert sorted(t.data["department"] for t in ready) == sorted(departments)
        task = ready[-1]
        run.complete(task.id, _submission(task, rejecting, lead_approves))
        done += 1
    assert (run.end_reached(), done) == (end, steps)
    assert run.result() == ("approved" if end == "end_approved" else "rejected")
    if departments:
        # The reviews come in the order they were completed: each keeps its department (carry).
        by_department = {r["department"]: r["approved"] for r in run.data["reviews"]}
        assert by_department == {d: d != rejecting for d in departments}
        assert len(run.data["reviews"]) == len(departments)


def test_the_decision_sees_every_review():
    run = Run.start(DEFINITION, {"matter_code": CONSTRUCTION, "materials_deferred": [], "departments": ["fire"]})
    [review] = run.ready_tasks()
    run.complete(review.id, {"approved": True, "opinion": "消防同意"})
    [decide] = run.ready_tasks()
    assert decide.spec.name == "decide"
    assert decide.data["reviews"] == [{"department": "fire", "approved": True, "opinion": "消防同意"}]
    assert "department" not in decide.data and "dept_opinion" not in decide.data


def test_expected_paths_are_registered():
    assert set(EXPECTED) >= {
        "construction_permit:approve",
        "construction_permit:reject",
        "construction_permit:deferred_material",
        "construction_permit:no_departments",
        *(f"construction_permit:rejected_by_{d}" for d in DEPARTMENTS),
    }
