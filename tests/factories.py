"""Builders for the common shapes of test data, all through the API."""

from __future__ import annotations

FOOD = "SC-001"
FOOD_REQUIRED = ["食品经营许可申请书", "营业执照复印件", "法定代表人身份证明", "食品安全管理制度文本"]

# Who works each step of the serial food business license process.
FOOD_STAFF = {
    "review": "market_reviewer1",
    "audit": "market_chief",
    "decide": "market_leader",
    "certify": "market_reviewer1",
    "deliver": "window1",
    "notify_refusal": "window2",
}


def application(
    matter_code: str = FOOD, *, materials: list[str] | None = None, data: dict | None = None, **applicant
) -> dict:
    """A POST /api/cases body; every listed material provided."""
    names = FOOD_REQUIRED if materials is None else materials
    return {
        "matter_code": matter_code,
        "applicant": {"name": "张三", "id_number": "330102199001011234", "phone": "13800000000", **applicant},
        "materials": [{"name": n, "provided": True} for n in names],
        "data": data or {},
    }


def accept(as_user, body: dict | None = None, *, clerk: str = "window1") -> dict:
    """Accept an application through the API; returns the case as the API shows it."""
    response = as_user(clerk).post("/api/cases", json=body or application())
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def open_tasks(as_user, case_id: str) -> list[dict]:
    """The open tasks of a case (read by an auditor, who sees every case)."""
    return as_user("auditor").get(f"/api/cases/{case_id}").get_json()["open_tasks"]


def work(as_user, task: dict, data: dict, *, user: str) -> dict:
    """Claim and complete a task as `user`; returns the completed task."""
    actor = as_user(user)
    claimed = actor.post(f"/api/tasks/{task['id']}/claim")
    assert claimed.status_code == 200, claimed.get_json()
    done = actor.post(f"/api/tasks/{task['id']}/complete", json={"data": data})
    assert done.status_code == 200, done.get_json()
    return done.get_json()
