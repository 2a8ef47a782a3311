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


def _held_first(monkeypatch, module, name: str) -> tuple[threading.Event, threading.Event]:
    """Wrap module.name so that its first caller stops inside (holding what it has locked) until
    released; returns (entered, release)."""
    entered, release = threading.Event(), threading.Event()
    original = getattr(module, name)
    first = threading.Lock()

    def held(*args, **kwargs):
        result = original(*args, **kwargs)
        if first.acquire(blocking=False):
            entered.set()
            release.wait(10)
        return result

    monkeypatch.setattr(module, name, held)
    return entered, release


def _while_held(app, entered, release, first, second, settle: float = 0.3) -> list:
    """Run `first` until it stops inside its step, start `second`, let it reach the lock, release."""
    results: list = [None, None]

    def go(i, call):
        with app.app_context():
            results[i] = call()

    one = threading.Thread(target=go, args=(0, first))
    one.start()
    assert entered.wait(10), "the first request never reached its step"
    two = threading.Thread(target=go, args=(1, second))
    two.start()
    two.join(settle)  # the second now waits for the case row (or it has answered already)
    release.set()
    one.join(30)
    two.join(30)
    return results


def test_a_completion_that_waited_for_the_case_sees_the_first_ones_result(app, as_user, monkeypatch):
    """The second request blocks on the case row while the first one steps: when it gets the row it must
    read the first one's task and workflow state, not its own statement's older snapshot."""
    from app.cases import runtime

    case = accept(as_user)
    task = case["open_tasks"][0]
    assert as_user("market_reviewer1").post(f"/api/tasks/{task['id']}/claim").status_code == 200
    entered, release = _held_first(monkeypatch, runtime.papers, "after_step")
    a, b = Actor(app, "market_reviewer1"), Actor(app, "market_reviewer1")
    path, body = f"/api/tasks/{task['id']}/complete", {"data": {"opinion": "同意"}}
    first, second = _while_held(app, entered, release, lambda: a.post(path, json=body), lambda: b.post(path, json=body))
    assert (first.status_code, second.status_code) == (200, 409), (first.get_json(), second.get_json())
    assert _events(app, case["id"], "task_completed") == 1
    assert _events(app, case["id"], "task_ready") == 2


def test_two_joint_reviews_completed_at_once_both_count(app, as_user, monkeypatch):
    """Two departments finish their parts of a joint review at the same moment: the second step waits
    for the case row, then must run on the workflow state the first one stored, or the first review
    would be lost and the joint review never close."""
    from app.cases import runtime
    from tests.processes import scenarios as library

    case = library.accept(as_user, library.CONSTRUCTION)
    reviews = [t for t in library.open_tasks(as_user, case["id"]) if t["name"] == "joint_review"]
    assert len(reviews) == 3, reviews
    first_user = library.worker(reviews[0])
    library.work(as_user, reviews[0], library.submission(as_user, case["id"], reviews[0], first_user), user=first_user)
    actors = []
    for review in reviews[1:]:
        user = library.worker(review)
        library.ok(as_user(user).post(f"/api/tasks/{review['id']}/claim"))
        body = {"data": library.submission(as_user, case["id"], review, user)}
        actors.append((Actor(app, user), f"/api/tasks/{review['id']}/complete", body))
    entered, release = _held_first(monkeypatch, runtime.papers, "after_step")
    (a, path_a, body_a), (b, path_b, body_b) = actors
    first, second = _while_held(
        app, entered, release, lambda: a.post(path_a, json=body_a), lambda: b.post(path_b, json=body_b)
    )
    assert (first.status_code, second.status_code) == (200, 200), (first.get_json(), second.get_json())
    assert _events(app, case["id"], "task_completed") == 3
    after = [t["name"] for t in library.open_tasks(as_user, case["id"])]
    assert "joint_review" not in after and after, after  # the joint review closed and the case went on
