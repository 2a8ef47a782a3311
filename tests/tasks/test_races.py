"""Races with real concurrent connections: each thread has its own client, app context and session."""

import threading

from sqlalchemy import func, select

from app.audit.models import Event
from app.extensions import db
from tests.conftest import Actor
from tests.factories import accept


def _race(app, username: str, count: int, method: str, path: str, json=None) -> list[int]:
    actors = [Actor(app, username) for _ in range(count)]
    barrier = threading.Barrier(count)
    codes: list[int] = []
    lock = threading.Lock()

    def go(actor):
        barrier.wait()
        response = getattr(actor, method)(path, json=json)
        with lock:
            codes.append(response.status_code)

    threads = [threading.Thread(target=go, args=(a,)) for a in actors]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return sorted(codes)


def _events(app, case_id: str, type_: str) -> int:
    with app.app_context():
        n = db.session.scalar(
            select(func.count()).select_from(Event).where(Event.case_id == int(case_id), Event.type == type_)
        )
        db.session.remove()
        return n


def test_twenty_concurrent_claims_one_wins(app, as_user):
    case = accept(as_user)
    task = case["open_tasks"][0]
    codes = _race(app, "market_reviewer1", 20, "post", f"/api/tasks/{task['id']}/claim")
    assert codes == [200] + [409] * 19
    assert _events(app, case["id"], "task_claimed") == 1


def test_ten_concurrent_completes_one_wins_and_the_case_advances_once(app, as_user):
    case = accept(as_user)
    task = case["open_tasks"][0]
    assert as_user("market_reviewer1").post(f"/api/tasks/{task['id']}/claim").status_code == 200
    codes = _race(
        app, "market_reviewer1", 10, "post", f"/api/tasks/{task['id']}/complete", json={"data": {"opinion": "同意"}}
    )
    assert codes == [200] + [409] * 9
    assert _events(app, case["id"], "task_completed") == 1
    assert _events(app, case["id"], "task_ready") == 2  # review, then audit: advanced exactly once
    after = as_user("auditor").get(f"/api/cases/{case['id']}").get_json()
    assert [t["name"] for t in after["open_tasks"]] == ["audit"]
