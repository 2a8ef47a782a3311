"""Notifications: told, listed, read; the outbox delivers after commit and retries a failing channel."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app import clock
from app.extensions import db, unit_of_work
from app.notifications import channels
from app.notifications import service as notifications
from app.notifications.models import OutboundMessage
from tests.timekeeping import bj


def tell(app, usernames, title="您有新的待办", **kw):
    with app.app_context():
        with unit_of_work():
            ids = notifications.notify(usernames=usernames, kind="task_delegated", title=title, **kw)
        db.session.remove()
    return ids


def deliver(app) -> int:
    from app.deadlines.scheduler import deliver_messages

    with app.app_context():
        try:
            return deliver_messages()
        finally:
            db.session.remove()


def outbox(app) -> list[tuple[str, int]]:
    with app.app_context():
        rows = [(m.state, m.attempts) for m in db.session.query(OutboundMessage).order_by(OutboundMessage.id)]
        db.session.remove()
    return rows


def test_a_person_lists_and_reads_their_notifications(app, as_user):
    tell(app, ["market_reviewer1"], "任务转交：审查")
    tell(app, ["market_reviewer1", "market_reviewer2"], "督办：YC001")
    me = as_user("market_reviewer1")
    listed = me.get("/api/notifications").get_json()
    assert [n["title"] for n in listed["items"]] == ["督办：YC001", "任务转交：审查"]
    assert listed["total"] == 2 and listed["unread"] == 2
    first = listed["items"][0]
    read = me.post(f"/api/notifications/{first['id']}/read")
    assert read.status_code == 200 and read.get_json()["read_at"]
    unread = me.get("/api/notifications?unread=true").get_json()
    assert [n["title"] for n in unread["items"]] == ["任务转交：审查"] and unread["unread"] == 1
    # Someone else's notification is not found, and is left unread.
    other = as_user("market_reviewer2").get("/api/notifications").get_json()["items"][0]
    assert me.post(f"/api/notifications/{other['id']}/read").status_code == 404
    assert as_user("market_reviewer2").get("/api/notifications?unread=true").get_json()["total"] == 1


def test_inactive_or_unknown_people_are_not_told(app, client):
    assert tell(app, ["nobody_here"]) == []


def test_the_outbox_sends_after_commit_once(app, client):
    tell(app, ["window1", "window2"])
    assert outbox(app) == [("pending", 0), ("pending", 0)]
    assert deliver(app) == 2
    assert outbox(app) == [("sent", 1), ("sent", 1)]
    assert deliver(app) == 0  # nothing is sent twice


class Flaky:
    """A channel that fails its first `failures` sends."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.sent: list[str] = []

    def send(self, recipient, notification) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("gateway down")
        self.sent.append(recipient.username)


@pytest.fixture
def flaky(app, monkeypatch):
    channel = Flaky(failures=1)
    monkeypatch.setitem(channels.CHANNELS, "flaky", channel)
    monkeypatch.setitem(app.config, "NOTIFY_CHANNEL", "flaky")
    return channel


def test_a_failing_channel_is_retried_later_and_never_fails_the_caller(app, client, flaky):
    clock.freeze(bj(2026, 12, 1, 10))
    tell(app, ["window1"])
    assert deliver(app) == 0
    assert outbox(app) == [("pending", 1)]
    assert deliver(app) == 0  # not yet due again
    clock.freeze(bj(2026, 12, 1, 10) + timedelta(minutes=3))
    assert deliver(app) == 1
    assert flaky.sent == ["window1"] and outbox(app) == [("sent", 2)]
