"""红黄蓝牌 and 督办: cards to a department that it answers in writing and a supervisor closes.

Automatic cards are opened by the deadline sweep (app/deadlines/jobs.py) in the same transaction,
under the same row locks, that records a case's or a step's level change: the change happens once,
so its card does too (the card's auto_key names the change's event and is unique, as a backstop).
An open card past its answer limit escalates once: a red card to the department's leaders.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import bindparam, func, insert, select, text

from app import clock
from app.audit import service as audit
from app.cases.models import Case
from app.deadlines.service import step_due
from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.extensions import as_arrays, db, unnest_of
from app.identity.models import Department, User
from app.identity.principal import Principal
from app.identity.service import group_members
from app.notifications.service import Message, notify, notify_all
from app.supervision.models import ANSWERED, CLOSED, COLORS, OPEN, Card
from app.tasks.models import CLAIMED, Task
from app.types import UTCDateTime

LEVEL_COLORS = {"warning": "blue", "overdue": "yellow", "breach": "red"}
COLOR_LABELS = {"blue": "蓝牌", "yellow": "黄牌", "red": "红牌"}
AUTO_ANSWER_DAYS = 3  # working days a department has to answer an automatic card
DIGEST_OVER = 10  # more new cards than this for one person in one pass: one notification counts them
BATCH = 200
SYSTEM = "system"
STAFF = ("window", "reviewer", "leader")  # the roles of a department's people (who answer its cards)
_REASONS = {
    ("case", "warning"): "办件临近承诺时限",
    ("case", "overdue"): "办件已超过承诺时限",
    ("case", "breach"): "办件已超过法定时限",
    ("task", "warning"): "环节「{title}」临近办理时限",
    ("task", "overdue"): "环节「{title}」已超过办理时限",
}


def event_payload(card: Card) -> dict:
    """What a card's audit events say about it."""
    return {"card_id": card.id, "color": card.color, "kind": card.kind, "reason": card.reason, "holder": card.holder}


def _answer_due(now: datetime, days: int) -> datetime:
    return step_due(started_at=now, limit_days=days)[0]


def department_members(department: str) -> list[str]:
    """Usernames of the active people of a department (whom its cards are addressed to)."""
    return list(
        db.session.scalars(
            select(User.username)
            .join(Department, Department.id == User.department_id)
            .where(Department.code == department, User.active.is_(True))
        )
    )


def _tell(card: Card, kind: str, title: str, usernames: Iterable[str]) -> None:
    notify(usernames=usernames, kind=kind, title=title, case_id=card.case_id, task_id=card.task_id)


class Opened(NamedTuple):
    """A card just opened by the sweep (what its `card_opened` event tells)."""

    id: int
    case_id: int
    task_id: int | None
    color: str
    kind: str
    reason: str
    holder: str | None
    department: str


_CARDS = Card.__table__
# RETURNING the unique auto_key beside the id: each id is matched to its card by key, so the rows may
# come back in any order (no per-row ordering sentinel to send and sort).
_INSERT_CARDS = insert(_CARDS).returning(_CARDS.c.auto_key, _CARDS.c.id)


_PER_CARD = {
    "case_id": "int[]",
    "task_id": "int[]",
    "color": "text[]",
    "auto_key": "text[]",
    "reason": "text[]",
    "department": "text[]",
    "holder": "text[]",
}
# PostgreSQL: the sweep's cards from arrays (unnest), one statement however many (a multi-row VALUES
# would send and convert twelve parameters per card).
_PG_INSERT_CARDS = text(
    f"INSERT INTO cards ({', '.join(_PER_CARD)}, kind, opened_by, opened_at, answer_due, state) "
    f"SELECT *, 'auto', :p_by, :p_now, :p_due, :p_state "
    f"FROM {unnest_of(_PER_CARD)} "
    "RETURNING auto_key, id"
).bindparams(bindparam("p_now", type_=UTCDateTime()), bindparam("p_due", type_=UTCDateTime()))


def _insert_cards(rows: list[dict], *, now: datetime, due: datetime) -> dict[str, int]:
    """Insert automatic cards; their ids by auto_key."""
    if db.engine.dialect.name == "postgresql":
        params = as_arrays(rows, _PER_CARD)
        params |= {"p_by": SYSTEM, "p_now": now, "p_due": due, "p_state": OPEN}
        return dict(db.session.execute(_PG_INSERT_CARDS, params).all())
    return dict(db.session.execute(_INSERT_CARDS, rows).all())


def open_auto(*, changes: list[tuple[int, int | None, str, int]], now: datetime) -> dict[tuple, Opened]:
    """Cards for level changes the sweep just recorded: (case_id, task_id, level, event seq) each.

    Written set-based (one multi-row INSERT, and one for all their notifications): a catch-up after
    downtime opens thousands. Returns the cards by (case_id, task_id); the sweep chains their
    `card_opened` events."""
    changes = [c for c in changes if c[2] in LEVEL_COLORS]
    if not changes:
        return {}
    case_ids = {c[0] for c in changes}
    task_ids = {c[1] for c in changes if c[1] is not None}
    cases = {r.id: r for r in db.session.execute(select(Case.id, Case.department).where(Case.id.in_(case_ids)))}
    steps = {
        r.id: r for r in db.session.execute(select(Task.id, Task.title, Task.assignee).where(Task.id.in_(task_ids)))
    }
    holders: dict[int, str] = {}
    for case_id, assignee in db.session.execute(
        select(Task.case_id, Task.assignee).where(Task.case_id.in_(case_ids), Task.state == CLAIMED).order_by(Task.id)
    ):
        holders.setdefault(case_id, assignee)
    due = _answer_due(now, AUTO_ANSWER_DAYS)
    rows = {}
    for case_id, task_id, level, seq in changes:
        step = steps.get(task_id)
        color = LEVEL_COLORS[level]
        rows[(case_id, task_id)] = {
            "case_id": case_id,
            "task_id": task_id,
            "color": color,
            "kind": "auto",
            "auto_key": f"{case_id}:{task_id or '-'}:{color}:{seq}",
            "reason": _REASONS[("task" if step else "case", level)].format(title=step.title if step else ""),
            "department": cases[case_id].department,
            "holder": step.assignee if step else holders.get(case_id),
            "opened_by": SYSTEM,
            "opened_at": now,
            "answer_due": due,
            "state": OPEN,
        }
    ids = _insert_cards(list(rows.values()), now=now, due=due)
    opened = {key: Opened(ids[row["auto_key"]], *(row[f] for f in Opened._fields[1:])) for key, row in rows.items()}
    members = {d: department_members(d) for d in {c.department for c in opened.values()}}
    told: dict[str, list[Opened]] = {}  # each person's new cards, the department's members and the holder
    for card in opened.values():
        for name in dict.fromkeys((*members[card.department], *([card.holder] if card.holder else []))):
            told.setdefault(name, []).append(card)
    notify_all(message for name, theirs in told.items() for message in _card_messages(name, theirs))
    return opened


def _card_messages(name: str, opened: list[Opened]) -> list[Message]:
    """One notification per card; more than DIGEST_OVER cards for one person in one pass (a catch-up
    after downtime opens thousands): one notification that counts them, the cards listed on 督办牌."""
    if len(opened) <= DIGEST_OVER:
        return [Message((name,), "card_opened", _card_title(c), c.case_id, c.task_id) for c in opened]
    counts = Counter(c.color for c in opened)
    colors = "、".join(f"{COLOR_LABELS[color]} {counts[color]} 张" for color in COLORS if counts[color])
    title = f"督办：本次巡查新开督办牌 {len(opened)} 张（{colors}），请在督办牌页面逐件查看，并于时限内书面说明"
    return [Message((name,), "card_opened", title)]


def _card_title(card: Opened) -> str:
    return f"{COLOR_LABELS[card.color]}：{card.reason}，请于时限内书面说明"


def _lock_case(case_id: int) -> Case:
    case = db.session.get(Case, case_id, with_for_update=True, populate_existing=True)
    if case is None:
        raise NotFound(f"办件 {case_id} 不存在 No such case.")
    return case


def issue(
    *,
    principal: Principal,
    case_id: int,
    task_id: int | None,
    color: str,
    reason: str,
    answer_days: int,
    kind: str = "manual",
) -> Card:
    """A supervisor issues a card or 督办 by hand, with a reason and an answer limit in working days."""
    if not principal.has_role("supervisor"):
        raise Forbidden("只有电子监察人员可以发牌督办 Only supervisors issue cards.")
    if color not in COLORS:
        raise Invalid("颜色须为 blue、yellow 或 red", errors={"color": [" | ".join(COLORS)]})
    if not (reason or "").strip():
        raise Invalid("督办须写明理由 A card needs a reason.", errors={"reason": ["必填 Required."]})
    case = _lock_case(case_id)
    task = None
    if task_id is not None:
        task = db.session.get(Task, task_id)
        if task is None or task.case_id != case.id:
            raise NotFound(f"办件 {case_id} 没有任务 {task_id} No such task on the case.")
    now = clock.now()
    card = Card(
        case_id=case.id,
        task_id=task_id,
        color=color,
        kind=kind,
        reason=reason.strip(),
        department=case.department,
        holder=task.assignee if task else None,
        opened_by=principal.username,
        opened_at=now,
        answer_due=_answer_due(now, answer_days),
        state=OPEN,
    )
    db.session.add(card)
    db.session.flush()
    audit.record(case, "card_opened", actor=principal.username, task_id=task_id, at=now, payload=event_payload(card))
    title = f"督办（{COLOR_LABELS[color]}）：{card.reason}"
    _tell(card, "card_opened", title, [*department_members(card.department), *([card.holder] if card.holder else [])])
    return card


def _locked_card(card_id: int) -> tuple[Card, Case]:
    card = db.session.get(Card, card_id, with_for_update=True, populate_existing=True)
    if card is None:
        raise NotFound(f"督办牌 {card_id} 不存在 No such card.")
    return card, _lock_case(card.case_id)


def answer(*, principal: Principal, card_id: int, answer: str) -> Card:
    """The card's department explains in writing (a member of that department)."""
    if principal.department is None or not principal.has_role(*STAFF):  # refused before anything is looked up
        raise Forbidden("只有被督办部门可以答复 Only the card's department answers.")
    card, case = _locked_card(card_id)
    if principal.department != card.department:
        raise Forbidden("只有被督办部门可以答复 Only the card's department answers.")
    if card.state != OPEN:
        raise Conflict("该督办牌不在待答复状态 The card is not open.")
    if not (answer or "").strip():
        raise Invalid("答复不能为空 An answer is required.", errors={"answer": ["必填 Required."]})
    now = clock.now()
    card.answer, card.answered_by, card.answered_at, card.state = answer.strip(), principal.username, now, ANSWERED
    payload = {**event_payload(card), "answer": card.answer}
    audit.record(case, "card_answered", actor=principal.username, task_id=card.task_id, at=now, payload=payload)
    _tell(card, "card_answered", f"督办牌已答复：{card.reason}", _supervisors(card))
    db.session.flush()
    return card


def _supervisors(card: Card) -> list[str]:
    if card.opened_by != SYSTEM:
        return [card.opened_by]
    return [u for u, roles in db.session.execute(select(User.username, User.roles)) if "supervisor" in roles.split()]


def close(*, principal: Principal, card_id: int, note: str | None = None) -> Card:
    """A supervisor closes a card (answered or not); a closed card stays closed."""
    return _decide(principal, card_id, note, send_back=False)


def send_back(*, principal: Principal, card_id: int, note: str | None = None) -> Card:
    """A supervisor sends an answer back: the card is open again with a fresh answer limit."""
    return _decide(principal, card_id, note, send_back=True)


def _decide(principal: Principal, card_id: int, note: str | None, *, send_back: bool) -> Card:
    if not principal.has_role("supervisor"):
        raise Forbidden("只有电子监察人员可以办结督办 Only supervisors close cards.")
    card, case = _locked_card(card_id)
    now = clock.now()
    if send_back:
        if card.state != ANSWERED:
            raise Conflict("只有已答复的督办牌可以退回 Only an answered card can be sent back.")
        card.state, card.answer_due, card.note = OPEN, _answer_due(now, AUTO_ANSWER_DAYS), note
        kind, title = "card_sent_back", f"督办答复被退回，请重新说明：{card.reason}"
    else:
        if card.state == CLOSED:
            raise Conflict("该督办牌已办结 The card is already closed.")
        card.state, card.closed_by, card.closed_at, card.note = CLOSED, principal.username, now, note
        kind, title = "card_closed", f"督办牌已办结：{card.reason}"
    payload = {**event_payload(card), "note": note}
    audit.record(case, kind, actor=principal.username, task_id=card.task_id, at=now, payload=payload)
    _tell(card, kind, title, [*department_members(card.department), *([card.holder] if card.holder else [])])
    db.session.flush()
    return card


def escalate_overdue(now: datetime | None = None) -> tuple[int, int]:
    """Every open card past its answer limit escalates once: a red card to the department's leaders."""
    now = now or clock.now()
    due = db.session.scalars(
        select(Card)
        .where(Card.state == OPEN, Card.answer_due < now, Card.escalated_to.is_(None), Card.kind != "escalation")
        .order_by(Card.answer_due)
        .limit(BATCH)
        .with_for_update(skip_locked=True)
    ).all()
    changed = 0
    for card in due:
        case = db.session.get(Case, card.case_id, with_for_update={"skip_locked": True}, populate_existing=True)
        if case is not None:
            _escalate(card, case, now)
            changed += 1
    db.session.flush()
    return len(due), changed


def _escalate(card: Card, case: Case, now: datetime) -> None:
    leaders = [u.username for u in group_members(group=f"{card.department}.leader")]
    red = Card(
        case_id=card.case_id,
        task_id=card.task_id,
        color="red",
        kind="escalation",
        reason=f"督办牌逾期未答复（{COLOR_LABELS[card.color]}：{card.reason}）"[:1000],
        department=card.department,
        holder=leaders[0] if leaders else None,
        opened_by=SYSTEM,
        opened_at=now,
        answer_due=_answer_due(now, AUTO_ANSWER_DAYS),
        state=OPEN,
        parent_id=card.id,
    )
    db.session.add(red)
    db.session.flush()
    card.escalated_to = red.id
    payload = {**event_payload(red), "escalates": card.id}
    audit.record(case, "card_escalated", actor=SYSTEM, task_id=card.task_id, at=now, payload=payload)
    _tell(red, "card_escalated", f"红牌（逾期未答复升级）：{card.reason}", leaders)


def list_cards(
    *,
    principal: Principal,
    state: str | None = None,
    color: str | None = None,
    department: str | None = None,
    page: int = 1,
    per_page: int = 50,
) -> tuple[list[Card], int]:
    """Cards, newest first: supervisors and auditors see all; anyone else their own department's."""
    where = []
    if not principal.has_role("supervisor", "auditor"):
        if principal.department is None:
            raise Forbidden("需要监察角色或所属部门 Supervisor role or a department required.")
        where.append(Card.department == principal.department)
    where += [c == v for c, v in ((Card.state, state), (Card.color, color), (Card.department, department)) if v]
    total = db.session.scalar(select(func.count()).select_from(Card).where(*where))
    rows = db.session.scalars(
        select(Card).where(*where).order_by(Card.id.desc()).limit(per_page).offset((page - 1) * per_page)
    ).all()
    return list(rows), total


def open_by_color_and_department() -> dict[str, dict[str, int]]:
    """Open cards counted per department and colour (the supervisor's page)."""
    out: dict[str, dict[str, int]] = {}
    for dept, color, n in db.session.execute(
        select(Card.department, Card.color, func.count())
        .where(Card.state != CLOSED)
        .group_by(Card.department, Card.color)
    ):
        out.setdefault(dept, dict.fromkeys(COLORS, 0))[color] = n
    return dict(sorted(out.items()))
