"""Scenario drivers for the process library (bpmn/): each scenario drives one case through the HTTP
API, from acceptance to its end, and returns the case id. Every process and every path through its
gateways has one, so other tests (the audit replay tests) can replay them all:

    from tests.processes.scenarios import SCENARIOS, EXPECTED
    case_id = SCENARIOS["construction_permit:rejected_by_fire"](as_user)

Keys are "<process key>:<path>" (the convention of tests/audit/scenarios.py). EXPECTED[key] gives the
result the case ends with and the element ids of the tasks completed, in order. Every scenario checks
its own path and result before it returns.

Building blocks: `drive()` works a case's open tasks until none is left (or a named step is open),
choosing who works each task from `staff` (by element id, then by group, then DEFAULT_STAFF) and
what they submit from `decisions` (by element id; a dict or a function of the task) or a sensible
default per form kind.

The timer scenario logs every demo actor in first, freezes `app.clock` in March 2026, then moves it
past the verification window and runs one scheduler pass; at its end the clock is put back as it was.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app import clock
from app.clock import SHANGHAI

Driver = Callable[[Callable], str]
Decision = dict | Callable[[dict], dict]

FOOD = "SC-001"
CONSTRUCTION = "JS-001"
HYGIENE = "WS-001"
SENIOR = "MZ-001"

# Who works a task when the scenario does not say: one demo account per group.
DEFAULT_STAFF = {
    "center.window": "window1",
    "market.review": "market_reviewer1",
    "market.chief": "market_chief",
    "market.leader": "market_leader",
    "housing.review": "housing_reviewer",
    "housing.leader": "housing_leader",
    "health.review": "health_reviewer",
    "health.leader": "health_leader",
    "civil.review": "civil_reviewer",
    "fire.review": "fire_reviewer",
    "resources.review": "resources_reviewer",
}
# Department of each review group's member (for per-department decisions).
DEPARTMENTS = ("housing", "fire", "resources")

APPROVE = {"approved": True, "opinion": "同意"}
OPINION = {"opinion": "材料齐全，符合要求"}
# What each kind of form gets when the scenario does not say (a supplement lists every deferred material).
DEFAULT_DATA: dict[str, dict] = {
    "opinion": OPINION,
    "decision": APPROVE,
    "certificate": {"certificate_no": "证字第 2026-0001 号", "opinion": "已制证"},
    "delivery": {"method": "window", "opinion": "已当面送达"},
    "review": {"opinion": "材料齐全，符合法定形式", "needs_inspection": False},
    "pledge": {"notice_given": True, "pledge_signed": True, "opinion": "已书面告知，申请人已签署承诺书"},
    "verification": {"pledge_true": True, "opinion": "经现场核查，承诺属实"},
    "reason": {"reason": "不符合法定条件，不予许可"},
}


def reject(opinion: str) -> dict:
    """A decision that says no, with its reason."""
    return {"approved": False, "opinion": opinion}


def ok(response, status: int = 200) -> Any:
    """The JSON of a response that must have `status` (the body in the assertion message otherwise)."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    return response.get_json()


# --------------------------------------------------------------------------- acceptance


def application(as_user, matter_code: str, *, omit: Iterable[str] = (), data: dict | None = None, **applicant) -> dict:
    """A POST /api/cases body for a matter of the catalog: every required material provided except `omit`."""
    matter = ok(as_user("window1").get(f"/api/matters/{matter_code}"))
    omitted = set(omit)
    unknown = omitted - {m["name"] for m in matter["materials"]}
    assert not unknown, f"not in the checklist of {matter_code}: {unknown}"
    return {
        "matter_code": matter_code,
        "applicant": {"name": "张三", "id_number": "330102195501011234", "phone": "13800000000", **applicant},
        "materials": [
            {"name": m["name"], "provided": m["name"] not in omitted} for m in matter["materials"] if m["required"]
        ],
        "data": data or {},
    }


def accept(as_user, matter_code: str, *, omit: Iterable[str] = (), data: dict | None = None) -> dict:
    """Accept an application at the front desk (window1); returns the case as the API shows it."""
    return ok(as_user("window1").post("/api/cases", json=application(as_user, matter_code, omit=omit, data=data)), 201)


# --------------------------------------------------------------------------- reading a case


def case_of(as_user, case_id: str) -> dict:
    """The case as an auditor sees it (auditors see every case)."""
    return ok(as_user("auditor").get(f"/api/cases/{case_id}"))


def open_tasks(as_user, case_id: str) -> list[dict]:
    """The case's open tasks, oldest first."""
    return sorted(case_of(as_user, case_id)["open_tasks"], key=lambda t: int(t["id"]))


def events(as_user, case_id: str) -> list[dict]:
    """The case's audit events, in order."""
    return ok(as_user("auditor").get(f"/api/cases/{case_id}/events"))["items"]


def completed_path(as_user, case_id: str) -> list[str]:
    """The element ids of the tasks completed in the case, in the order they were completed."""
    return [e["payload"]["name"] for e in events(as_user, case_id) if e["type"] == "task_completed"]


def deferred_materials(as_user, case_id: str) -> list[str]:
    """The deferrable required materials the case was accepted without (what a supplement must list)."""
    case = case_of(as_user, case_id)
    provided = {m["name"] for m in case["materials"] if m.get("provided")}
    matter = ok(as_user("window1").get(f"/api/matters/{case['matter_code']}"))
    return [m["name"] for m in matter["materials"] if m["required"] and m["deferrable"] and m["name"] not in provided]


# --------------------------------------------------------------------------- working tasks


def worker(task: dict, staff: dict[str, str] | None = None) -> str:
    """Who works `task`: staff by element id, then by group, then the group's demo account."""
    staff = staff or {}
    return staff.get(task["name"]) or staff.get(task["group"]) or DEFAULT_STAFF[task["group"]]


def submission(as_user, case_id: str, task: dict, user: str, decisions: dict[str, Decision] | None = None) -> dict:
    """What `user` submits for `task`: the scenario's decision for its element id, else the form's default."""
    decision = (decisions or {}).get(task["name"])
    if callable(decision):
        return decision(task)
    if decision is not None:
        return decision
    detail = ok(as_user(user).get(f"/api/tasks/{task['id']}"))
    form = detail["form"]
    if form == "declared":
        return from_fields(detail["fields"])
    if form == "supplement":
        return {"materials": deferred_materials(as_user, case_id), "opinion": "容缺材料已补齐"}
    return DEFAULT_DATA.get(form, OPINION)


def from_fields(fields: list[dict]) -> dict:
    """The default submission of a declared form: what a clerk who agrees fills in, field by field."""
    data: dict = {}
    for field in fields:
        name, kind = field["name"], field["type"]
        if "default" in field:
            data[name] = {"true": True, "false": False}.get(field["default"], field["default"])
        elif kind == "boolean":
            data[name] = True
        elif kind in ("enum", "materials"):
            values = [c["value"] for c in field["choices"]]
            data[name] = values if kind == "materials" else values[0]
        elif kind == "long":
            data[name] = 1
        elif kind == "date":
            data[name] = "2026-12-01"
        else:
            data[name] = f"{field['label']}：同意"[: field.get("max_length", 60)]
    return data


def work(as_user, task: dict, data: dict, *, user: str) -> dict:
    """Claim and complete a task as `user`; returns the answer of the completion."""
    ok(as_user(user).post(f"/api/tasks/{task['id']}/claim"))
    return ok(as_user(user).post(f"/api/tasks/{task['id']}/complete", json={"data": data}))


def work_named(
    as_user,
    case_id: str,
    name: str,
    data: Decision | None = None,
    *,
    staff: dict[str, str] | None = None,
) -> dict:
    """Work the (first) open task with element id `name`; returns the task worked."""
    task = next((t for t in open_tasks(as_user, case_id) if t["name"] == name), None)
    assert task is not None, f"no open task {name!r}: {open_tasks(as_user, case_id)}"
    user = worker(task, staff)
    decisions = {name: data} if data is not None else None
    work(as_user, task, submission(as_user, case_id, task, user, decisions), user=user)
    return task


def drive(
    as_user,
    case_id: str,
    decisions: dict[str, Decision] | None = None,
    staff: dict[str, str] | None = None,
    *,
    stop_at: Iterable[str] = (),
    max_steps: int = 60,
) -> list[str]:
    """Work the case's open tasks, oldest first, until none is left (or a task named in `stop_at` is
    open, which is left alone); returns the element ids worked, in order.

    `decisions` maps an element id to the data to submit, or to a function of the task (the API's
    task dict: id, name, title, group...) returning it, e.g. a decision per department group.
    """
    stop = set(stop_at)
    path: list[str] = []
    for _ in range(max_steps):
        tasks = open_tasks(as_user, case_id)
        if not tasks or stop.intersection(t["name"] for t in tasks):
            return path
        task = tasks[0]
        user = worker(task, staff)
        work(as_user, task, submission(as_user, case_id, task, user, decisions), user=user)
        path.append(task["name"])
    raise AssertionError(f"case {case_id} still has open tasks after {max_steps} steps: {path}")


# --------------------------------------------------------------------------- the registry


@dataclass(frozen=True)
class Outcome:
    """How a scenario ends: the case result and the tasks completed, in order."""

    result: str
    path: tuple[str, ...]


SCENARIOS: dict[str, Driver] = {}
EXPECTED: dict[str, Outcome] = {}


def scenario(key: str, result: str, path: Iterable[str]) -> Callable[[Callable], Driver]:
    """Register a driver `(as_user) -> case id` under `key`; the registered driver checks the outcome."""
    outcome = Outcome(result, tuple(path))

    def register(run: Callable) -> Driver:
        def driver(as_user) -> str:
            case_id = run(as_user)
            assert_outcome(as_user, case_id, outcome)
            return case_id

        driver.__name__ = driver.__qualname__ = run.__name__
        driver.__doc__ = run.__doc__
        SCENARIOS[key] = driver
        EXPECTED[key] = outcome
        return driver

    return register


def assert_outcome(as_user, case_id: str, outcome: Outcome) -> None:
    """The case is completed with the expected result, having completed exactly the expected tasks."""
    case = case_of(as_user, case_id)
    assert (case["status"], case["result"]) == ("completed", outcome.result), case
    assert case["open_tasks"] == [], case["open_tasks"]
    assert tuple(completed_path(as_user, case_id)) == outcome.path


def covered_processes() -> set[str]:
    """The process keys that have at least one scenario."""
    return {key.split(":", 1)[0] for key in SCENARIOS}


def log_in_everyone(as_user) -> None:
    """Log every demo actor in now: tokens expire by app.clock, so log in before the clock is moved."""
    for user in {"auditor", "supervisor", *DEFAULT_STAFF.values(), "window2", "market_reviewer2"}:
        as_user(user)


# --------------------------------------------------------------------------- 食品经营许可 (serial)

FOOD_OMIT_DEFERRABLE = ("食品安全管理制度文本",)


@scenario("food_business_license:approve", "approved", ["review", "audit", "decide", "certify", "deliver"])
def food_approve(as_user) -> str:
    case = accept(as_user, FOOD)
    drive(as_user, case["id"])
    return case["id"]


@scenario("food_business_license:reject", "rejected", ["review", "audit", "decide", "notify_refusal"])
def food_reject(as_user) -> str:
    case = accept(as_user, FOOD)
    drive(as_user, case["id"], {"decide": reject("经营场所不符合食品安全要求")})
    return case["id"]


@scenario(
    "food_business_license:inspection", "approved", ["review", "inspect", "audit", "decide", "certify", "deliver"]
)
def food_inspection(as_user) -> str:
    """The reviewer asks for an on-site inspection (a special procedure: the clocks stop meanwhile)."""
    case = accept(as_user, FOOD)
    review = {"opinion": "需现场核查经营场所", "needs_inspection": True}
    drive(as_user, case["id"], {"review": review, "inspect": {"opinion": "现场核查符合要求"}})
    return case["id"]


@scenario(
    "food_business_license:deferred_material",
    "approved",
    ["supplement", "review", "audit", "decide", "certify", "deliver"],
)
def food_deferred_material(as_user) -> str:
    """容缺受理: accepted without a deferrable material, which arrives (supplement) before delivery."""
    case = accept(as_user, FOOD, omit=FOOD_OMIT_DEFERRABLE)
    drive(as_user, case["id"])
    return case["id"]


# --------------------------------------------------------------------------- 建筑工程施工许可 (parallel)

JOINT = ("joint_review",) * len(DEPARTMENTS)


def department_of(task: dict) -> str:
    """The department of a per-department review task, from its group (`fire.review` -> `fire`)."""
    return task["group"].split(".", 1)[0]


def rejected_by(*departments: str) -> Callable[[dict], dict]:
    """A joint-review decision: the named departments say no, the others yes."""

    def decide(task: dict) -> dict:
        if department_of(task) in departments:
            return reject(f"{department_of(task)}：不符合本部门审查要求")
        return {"approved": True, "opinion": f"{department_of(task)}：同意"}

    return decide


@scenario("construction_permit:approve", "approved", [*JOINT, "decide", "certify", "deliver"])
def construction_approve(as_user) -> str:
    """Every department (the catalog's default: housing, fire, resources) agrees; the lead approves."""
    case = accept(as_user, CONSTRUCTION)
    drive(as_user, case["id"], {"joint_review": rejected_by()})
    return case["id"]


@scenario("construction_permit:reject", "rejected", [*JOINT, "decide", "notify_refusal"])
def construction_reject(as_user) -> str:
    """Every department agrees, but the lead department decides no."""
    case = accept(as_user, CONSTRUCTION)
    drive(as_user, case["id"], {"decide": reject("建设资金未落实，不予许可")})
    return case["id"]


def _rejected_by_department(department: str) -> Driver:
    def run(as_user) -> str:
        case = accept(as_user, CONSTRUCTION)
        reason = {"reason": f"{department} 部门审查不同意，依法不予许可"}
        drive(as_user, case["id"], {"joint_review": rejected_by(department), "refuse_reason": reason})
        return case["id"]

    run.__name__ = f"construction_rejected_by_{department}"
    run.__doc__ = f"The {department} department says no: the lead writes the reasoned refusal."
    return run


for _department in DEPARTMENTS:
    scenario(
        f"construction_permit:rejected_by_{_department}",
        "rejected",
        [*JOINT, "refuse_reason", "notify_refusal"],
    )(_rejected_by_department(_department))


@scenario(
    "construction_permit:deferred_material",
    "approved",
    ["supplement", *JOINT, "decide", "certify", "deliver"],
)
def construction_deferred_material(as_user) -> str:
    """容缺受理: a deferrable material missing at acceptance, supplied while the departments review."""
    case = accept(as_user, CONSTRUCTION, omit=("工程质量安全监督登记表",))
    drive(as_user, case["id"])
    return case["id"]


@scenario("construction_permit:no_departments", "approved", ["lead_review", "decide", "certify", "deliver"])
def construction_no_departments(as_user) -> str:
    """The front desk listed no participating department: the lead department reviews alone."""
    case = accept(as_user, CONSTRUCTION, data={"departments": []})
    drive(as_user, case["id"])
    return case["id"]


# --------------------------------------------------------------------------- 公共场所卫生许可 (commitment)

HYGIENE_GRANTED = ("pledge", "decide", "certify", "deliver")
# Acceptance on Monday 2 March 2026, 09:00 in Beijing; the verification window (20 working days)
# ends on 30 March 2026 at 24:00.
HYGIENE_ACCEPTED_AT = datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)
HYGIENE_VERIFICATION_DUE = datetime(2026, 3, 30, 23, 59, 59, 999999, tzinfo=SHANGHAI)
HYGIENE_AFTER_WINDOW = datetime(2026, 3, 31, 9, 0, tzinfo=SHANGHAI)
FALSE_PLEDGE = {"pledge_true": False, "opinion": "现场核查：卫生设施与承诺不符"}
STILL_FALSE = {"pledge_true": False, "opinion": "复查：逾期仍未整改到位"}


@scenario("public_place_hygiene:pledge_true", "approved", [*HYGIENE_GRANTED, "verify"])
def hygiene_pledge_true(as_user) -> str:
    """Granted on the pledge; the verification finds it true: closed."""
    case = accept(as_user, HYGIENE)
    drive(as_user, case["id"])
    return case["id"]


@scenario("public_place_hygiene:corrected", "approved", [*HYGIENE_GRANTED, "verify", "rectify", "recheck"])
def hygiene_corrected(as_user) -> str:
    """The pledge was false; ordered to correct, the re-check finds it corrected: the license stands."""
    case = accept(as_user, HYGIENE)
    drive(as_user, case["id"], {"verify": FALSE_PLEDGE, "rectify": {"opinion": "责令十五日内整改到位"}})
    return case["id"]


@scenario("public_place_hygiene:revoked", "revoked", [*HYGIENE_GRANTED, "verify", "rectify", "recheck", "revoke"])
def hygiene_revoked(as_user) -> str:
    """The pledge was false and still is at the re-check: the license is revoked, with its reason."""
    case = accept(as_user, HYGIENE)
    revoke = {"reason": "申请人承诺不实且逾期未整改，依法撤销公共场所卫生许可"}
    drive(as_user, case["id"], {"verify": FALSE_PLEDGE, "recheck": STILL_FALSE, "revoke": revoke})
    return case["id"]


@scenario("public_place_hygiene:decision_rejected", "rejected", ["pledge", "decide", "notify_refusal"])
def hygiene_decision_rejected(as_user) -> str:
    case = accept(as_user, HYGIENE)
    drive(as_user, case["id"], {"decide": reject("经营项目不属于告知承诺适用范围")})
    return case["id"]


def hygiene_until_verification(as_user) -> str:
    """A hygiene case accepted at HYGIENE_ACCEPTED_AT (the clock stays frozen there), granted and
    delivered, waiting for its verification. Log everyone in first (log_in_everyone)."""
    clock.freeze(HYGIENE_ACCEPTED_AT)
    case = accept(as_user, HYGIENE)
    drive(as_user, case["id"], stop_at={"verify"})
    return case["id"]


def scheduler_pass(as_user, at: datetime) -> dict | None:
    """Move the clock to `at` and run one scheduler pass (fire due timers, sweep deadlines)."""
    from app.deadlines.scheduler import run_once  # the scheduler's own module, imported when used

    app = as_user("auditor").client.application
    clock.freeze(at)
    with app.app_context():
        return run_once()


@scenario("public_place_hygiene:verification_escalated", "approved", [*HYGIENE_GRANTED, "escalate", "verify"])
def hygiene_verification_escalated(as_user) -> str:
    """Nobody verifies within the window: the timer escalates to the leader (督办), who pushes; then
    the verification finds the pledge true."""
    frozen = clock._frozen  # noqa: SLF001 - put the clock back as the caller had it
    log_in_everyone(as_user)
    try:
        case_id = hygiene_until_verification(as_user)
        totals = scheduler_pass(as_user, HYGIENE_AFTER_WINDOW)
        assert totals is not None and totals["timers_fired"] == 1, totals
        work_named(as_user, case_id, "escalate", {"opinion": "请于三个工作日内完成核查"})
        drive(as_user, case_id)
    finally:
        if frozen is None:
            clock.reset()
        else:
            clock.freeze(frozen)
    return case_id


# --------------------------------------------------------------------------- 老年人优待证 (immediate)


@scenario("senior_card:approve", "approved", ["handle"])
def senior_approve(as_user) -> str:
    case = accept(as_user, SENIOR)
    drive(as_user, case["id"], {"handle": {"approved": True, "opinion": "年满六十周岁，当场发证"}})
    return case["id"]


@scenario("senior_card:reject", "rejected", ["handle"])
def senior_reject(as_user) -> str:
    case = accept(as_user, SENIOR, data={})
    drive(as_user, case["id"], {"handle": reject("申请人未满六十周岁，不符合办理条件")})
    return case["id"]
