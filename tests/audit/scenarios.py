"""Scenario drivers for replay: each drives one case of a process in bpmn/ through the HTTP API and
returns its id. tests/audit/test_replay.py replays every scenario of `all_scenarios()` and requires
"consistent"; it also requires every process in bpmn/ to have at least one.

`all_scenarios()` is the process library's registry (tests/processes/scenarios.py: every path of
every process) plus the variants registered here, which exercise the audit trail itself
(delegation, claims given back, withdrawal, suspension and extension). To cover a new process,
register its paths in tests/processes/scenarios.py, or here with `@scenario("<key>", "<name>")`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from app import clock
from tests.factories import FOOD_STAFF, accept, open_tasks, work
from tests.processes import scenarios as library
from tests.processes.scenarios import SCENARIOS as LIBRARY_SCENARIOS

Driver = Callable[[Callable], str]
SCENARIOS: dict[str, Driver] = {}

FOOD = "food_business_license"
OPINION = {"opinion": "材料齐全，符合要求"}
APPROVE = {"approved": True, "opinion": "同意"}
REJECT = {"approved": False, "opinion": "经营场所不符合要求"}


def scenario(process_key: str, name: str) -> Callable[[Driver], Driver]:
    """Register a driver under "<process key>:<name>"."""

    def register(driver: Driver) -> Driver:
        SCENARIOS[f"{process_key}:{name}"] = driver
        return driver

    return register


def all_scenarios() -> dict[str, Driver]:
    """Every scenario: the audit variants here and the process library's (which wins on a shared key)."""
    return {**SCENARIOS, **LIBRARY_SCENARIOS}


def covered_processes() -> set[str]:
    """The process keys that have at least one scenario."""
    return {name.split(":", 1)[0] for name in all_scenarios()}


def ok(response, status: int = 200):
    """The JSON of a response that must have `status`."""
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


def food_steps(as_user, case_id: str, decision: dict, *, until: str | None = None) -> None:
    """Work the food license case's open tasks in turn (stop before the step named `until`)."""
    while tasks := open_tasks(as_user, case_id):
        task = tasks[0]
        if task["name"] == until:
            return
        data = decision if task["name"] == "decide" else OPINION
        work(as_user, task, data, user=FOOD_STAFF[task["name"]])


@scenario(FOOD, "approve_basic")
def food_approve(as_user) -> str:
    case = accept(as_user)
    food_steps(as_user, case["id"], APPROVE)
    return case["id"]


@scenario(FOOD, "reject_basic")
def food_reject(as_user) -> str:
    case = accept(as_user)
    food_steps(as_user, case["id"], REJECT)
    return case["id"]


@scenario(FOOD, "delegate")
def food_delegate(as_user) -> str:
    """The reviewer hands the review to a colleague, who completes it."""
    case = accept(as_user)
    task = case["open_tasks"][0]
    ok(as_user("market_reviewer1").post(f"/api/tasks/{task['id']}/claim"))
    body = {"to": "market_reviewer2", "reason": "AB岗：A岗外出"}
    ok(as_user("market_reviewer1").post(f"/api/tasks/{task['id']}/delegate", json=body))
    ok(as_user("market_reviewer2").post(f"/api/tasks/{task['id']}/complete", json={"data": OPINION}))
    food_steps(as_user, case["id"], APPROVE)
    return case["id"]


@scenario(FOOD, "unclaim")
def food_unclaim(as_user) -> str:
    """A task claimed and given back, several times, before someone completes it."""
    case = accept(as_user)
    task = case["open_tasks"][0]
    for user in ("market_reviewer1", "market_reviewer2", "market_reviewer1"):
        ok(as_user(user).post(f"/api/tasks/{task['id']}/claim"))
        ok(as_user(user).post(f"/api/tasks/{task['id']}/unclaim"))
    food_steps(as_user, case["id"], REJECT)
    return case["id"]


@scenario(FOOD, "withdraw")
def food_withdraw(as_user) -> str:
    """The applicant withdraws while the chief's audit is claimed: open tasks are cancelled."""
    case = accept(as_user)
    food_steps(as_user, case["id"], APPROVE, until="audit")
    audit_task = open_tasks(as_user, case["id"])[0]
    ok(as_user("market_chief").post(f"/api/tasks/{audit_task['id']}/claim"))
    ok(as_user("window1").post(f"/api/cases/{case['id']}/withdraw", json={"reason": "申请人主动撤回申请"}))
    return case["id"]


@scenario(FOOD, "suspend_extend")
def food_suspend_extend(as_user) -> str:
    """补正 for three days, then the leader extends the limit once; the case is approved."""
    for user in {"auditor", "window1", "market_leader", *FOOD_STAFF.values()}:
        as_user(user)  # log in before the clock moves back to 2025 (tokens stay valid while it runs on)
    clock.freeze(datetime(2025, 3, 3, 2, 0, tzinfo=UTC))  # Monday 10:00 in Beijing
    case = accept(as_user)
    food_steps(as_user, case["id"], APPROVE, until="audit")
    body = {"kind": "correction", "reason": "营业执照复印件不清晰，请补正"}
    ok(as_user("market_reviewer1").post(f"/api/cases/{case['id']}/suspend", json=body))
    clock.advance(timedelta(days=3))
    ok(as_user("window1").post(f"/api/cases/{case['id']}/resume", json={"note": "已补正"}))
    ok(as_user("market_leader").post(f"/api/cases/{case['id']}/extend", json={"reason": "需现场核查"}))
    clock.advance(timedelta(hours=2))
    food_steps(as_user, case["id"], APPROVE)
    return case["id"]


@scenario("construction_permit", "joint_review_under_way")
def construction_under_way(as_user) -> str:
    """A joint review left half done: one department's review completed out of order, one claimed,
    one waiting (a running case: replay compares the stored state of a case still in progress)."""
    case = library.accept(as_user, library.CONSTRUCTION)
    reviews = [t for t in library.open_tasks(as_user, case["id"]) if t["name"] == "joint_review"]
    assert len(reviews) == 3, reviews
    done, held = reviews[1], reviews[2]
    user = library.worker(done)
    library.work(as_user, done, library.submission(as_user, case["id"], done, user), user=user)
    ok(as_user(library.worker(held)).post(f"/api/tasks/{held['id']}/claim"))
    return case["id"]
