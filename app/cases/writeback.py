"""The end of a step on PostgreSQL: every write of the step in one statement.

After the engine step the session holds the step's changes as ORM objects: the case row (its chain
head, maybe its status and timer), its task rows (completed, cancelled), the new events. The ORM's
flush would send them as four or five statements, each a round trip; here they go out as one
statement of data-modifying CTEs (the state row's UPDATE, one UPDATE per changed task, the events'
INSERT, the case row's version-checked UPDATE), and the objects are then marked as written.

Anything else in the session (a suspension opened, a task row not yet inserted) and any other
database: the ORM flushes as usual. The result is the same rows either way.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, inspect, select, update
from sqlalchemy.orm.attributes import PASSIVE_NO_INITIALIZE, get_history, set_committed_value

from app.audit.models import Event
from app.cases.models import Case, CaseState
from app.errors import Conflict
from app.extensions import db
from app.tasks.models import Task

STATE, TASKS, EVENTS, CASES = CaseState.__table__, Task.__table__, Event.__table__, Case.__table__


def store(case: Case, state: bytes, version: str) -> bool:
    """Write the step's changes and the state in one statement; False (nothing done) when it cannot."""
    if db.engine.dialect.name != "postgresql":
        return False
    events, tasks = _step_objects(case)
    if events is None:
        return False
    case_values = _changes(case)
    seen = case.state_version
    ctes = [update(STATE).where(STATE.c.case_id == case.id).values(state=state, format=version).cte("s")]
    for n, (task, values) in enumerate(tasks):
        ctes.append(update(TASKS).where(TASKS.c.id == task.id).values(values).cte(f"t{n}"))
    if events:
        ctes.append(insert(EVENTS).values([_row(e) for e in events]).cte("e"))
    written = (
        update(CASES)
        .where(CASES.c.id == case.id, CASES.c.state_version == seen)
        .values({**case_values, "state_version": seen + 1})
        .returning(CASES.c.id)
        .cte("c")
    )
    if db.session.execute(select(written.c.id).add_cte(*ctes)).first() is None:
        raise Conflict("办件已被同时修改，请重试 The case changed meanwhile; try again.")
    _written(case, case_values, tasks, events, seen + 1)
    return True


def _step_objects(case: Case) -> tuple[list[Event] | None, list[tuple[Task, dict]]]:
    """The step's new events and changed tasks; (None, []) when the session holds anything else."""
    session = db.session
    events = [o for o in session.new if isinstance(o, Event) and o.case_id == case.id]
    if len(events) != len(session.new):
        return None, []
    tasks = []
    for obj in session.dirty:
        if obj is case:
            continue
        if not isinstance(obj, Task) or obj.case_id != case.id:
            return None, []
        values = _changes(obj)
        if values:
            tasks.append((obj, values))
    return sorted(events, key=lambda e: e.seq), tasks


def _changes(obj: Any) -> dict:
    """The changed column values of a persistent object, by column name."""
    mapper = inspect(obj).mapper
    out = {}
    for attr in mapper.column_attrs:
        column = attr.columns[0]
        if column is mapper.version_id_col:  # moved by the UPDATE itself, checked against what was read
            continue
        history = get_history(obj, attr.key, passive=PASSIVE_NO_INITIALIZE)  # never loads a deferred column
        if history.added or history.deleted:
            out[column.name] = getattr(obj, attr.key)
    return out


def _row(event: Event) -> dict:
    return {column.name: getattr(event, column.key) for column in EVENTS.columns}


def _written(case: Case, case_values: dict, tasks: list[tuple[Task, dict]], events: list[Event], version: int) -> None:
    """Tell the session that what was just written is the database's state (nothing left to flush)."""
    for event in events:
        db.session.expunge(event)
    for obj, values in [(case, case_values), *tasks]:
        mapper = inspect(obj).mapper
        for column in values:
            key = mapper.get_property_by_column(obj.__table__.c[column]).key
            set_committed_value(obj, key, getattr(obj, key))
    set_committed_value(case, "state_version", version)
