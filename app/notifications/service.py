"""Notifications: tell people, list what they were told, mark it read; deliver the outbox."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import NamedTuple

from flask import current_app
from sqlalchemy import bindparam, func, insert, select, text, update

from app import clock
from app.errors import NotFound
from app.extensions import as_arrays, db, unnest_of
from app.identity.models import User
from app.notifications import channels
from app.notifications.models import FAILED, PENDING, SENT, Notification, OutboundMessage
from app.types import UTCDateTime

MAX_ATTEMPTS = 8
BATCH = 200


def notify(
    *, usernames: Iterable[str], kind: str, title: str, case_id: int | None = None, task_id: int | None = None
) -> list[int]:
    """Tell each (active) user `title`; each notification also waits in the outbox for the channel.
    Returns the notifications' ids."""
    return notify_all([Message(tuple(usernames), kind, title, case_id, task_id)])


class Message(NamedTuple):
    """One thing to tell some people (notify_all)."""

    usernames: tuple[str, ...]
    kind: str
    title: str
    case_id: int | None = None
    task_id: int | None = None


_NOTIFICATIONS, _OUTBOX = Notification.__table__, OutboundMessage.__table__
_INSERT_NOTIFICATIONS = insert(_NOTIFICATIONS).returning(_NOTIFICATIONS.c.id)


_ARRAYS = {"user_id": "int[]", "kind": "text[]", "title": "text[]", "case_id": "int[]", "task_id": "int[]"}
# PostgreSQL: the notifications from arrays (unnest) and their outbox messages in one statement; a
# multi-row VALUES would send and convert seven parameters per row.
_PG_NOTIFY = text(
    "WITH n AS (INSERT INTO notifications (user_id, kind, title, case_id, task_id, created_at) "
    f"SELECT *, :p_now FROM {unnest_of(_ARRAYS)} RETURNING id) "
    "INSERT INTO outbound_messages (notification_id, channel, state, attempts, next_attempt_at) "
    "SELECT id, :p_channel, :p_pending, 0, :p_now FROM n RETURNING notification_id"
).bindparams(bindparam("p_now", type_=UTCDateTime()))


def notify_all(messages: Iterable[Message]) -> list[int]:
    """Tell many things at once (a scheduler pass opening thousands of cards): one read of the people,
    one multi-row INSERT of the notifications and one of their outbox messages, whatever the count.
    Returns the ids of the notifications written."""
    messages = list(messages)
    names = sorted({name for m in messages for name in m.usernames})
    if not names:
        return []
    ids = dict(db.session.execute(select(User.username, User.id).where(User.username.in_(names), User.active)).all())
    now = clock.now()
    rows = [
        {"user_id": ids[name], "kind": m.kind, "title": m.title[:300], "case_id": m.case_id, "task_id": m.task_id}
        | {"created_at": now}
        for m in messages
        for name in sorted(set(m.usernames))
        if name in ids
    ]
    if not rows:
        return []
    channel = current_app.config.get("NOTIFY_CHANNEL", "log")
    if db.engine.dialect.name == "postgresql":  # one statement, the rows as five arrays
        params = as_arrays(rows, _ARRAYS) | {"p_now": now, "p_channel": channel, "p_pending": PENDING}
        return list(db.session.execute(_PG_NOTIFY, params).scalars())
    written = db.session.execute(_INSERT_NOTIFICATIONS, rows).scalars().all()
    outbox = [
        {"notification_id": n, "channel": channel, "state": PENDING, "attempts": 0, "next_attempt_at": now}
        for n in written
    ]
    db.session.execute(insert(_OUTBOX), outbox)
    return written


def list_for(*, user_id: int, unread: bool = False, page: int = 1, per_page: int = 50) -> tuple[list, int]:
    """A page of a person's notifications, newest first, and the total."""
    where = [Notification.user_id == user_id]
    if unread:
        where.append(Notification.read_at.is_(None))
    total = db.session.scalar(select(func.count()).select_from(Notification).where(*where))
    rows = db.session.scalars(
        select(Notification)
        .where(*where)
        .order_by(Notification.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return list(rows), total


def unread_count(*, user_id: int) -> int:
    """How many of a person's notifications are unread."""
    return db.session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
    )


def mark_read(*, notification_id: int, user_id: int) -> Notification:
    """Mark one of one's own notifications read (404 for anyone else's: they are not told it exists)."""
    row = db.session.get(Notification, notification_id)
    if row is None or row.user_id != user_id:
        raise NotFound(f"通知 {notification_id} 不存在 No such notification.")
    if row.read_at is None:
        db.session.execute(
            update(Notification)
            .where(Notification.id == row.id, Notification.read_at.is_(None))
            .values(read_at=clock.now())
        )
        db.session.refresh(row)
    return row


def deliver_outbox() -> tuple[int, int]:
    """Send due outbox messages through their channel (a scheduler job): (examined, sent).

    Rows are locked SKIP LOCKED, so two schedulers never send one message twice; a failure is
    retried with a growing delay, up to MAX_ATTEMPTS, then left as failed."""
    now = clock.now()
    due = db.session.scalars(
        select(OutboundMessage)
        .where(OutboundMessage.state == PENDING, OutboundMessage.next_attempt_at <= now)
        .order_by(OutboundMessage.id)
        .limit(BATCH)
        .with_for_update(skip_locked=True)
    ).all()
    sent = 0
    for message in due:
        notification = db.session.get(Notification, message.notification_id)
        recipient = db.session.get(User, notification.user_id)
        message.attempts += 1
        try:
            channels.get(message.channel).send(recipient, notification)
        except Exception as exc:  # noqa: BLE001 - any channel failure is retried, never raised into a pass
            message.last_error = f"{type(exc).__name__}: {exc}"[:500]
            message.state = FAILED if message.attempts >= MAX_ATTEMPTS else PENDING
            message.next_attempt_at = now + timedelta(minutes=2**message.attempts)
            continue
        message.state, message.sent_at = SENT, now
        sent += 1
    db.session.flush()
    return len(due), sent
