"""The end of a step on PostgreSQL: every write of the step in one statement.

After the engine step the session holds the step's changes as ORM objects: the case row (its chain
head, maybe its status and timer), its task rows (completed, cancelled), the new task rows (their ids
drawn with the step's locking read), the documents it issued (their ids drawn with their numbers), the
new events. The ORM's flush would send them as four to six statements, each a round trip; here they go
out as one statement of data-modifying CTEs (the state row's UPDATE, one UPDATE per changed task, the
new tasks', the documents' and the events' INSERTs, the case row's version-checked UPDATE), and the
objects are then marked as written.

Anything else in the session (a suspension opened), a savepoint, and any other database: the ORM
flushes as usual. The result is the same rows either way.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import bindparam, cast, insert, inspect, select, union_all, update
from sqlalchemy.orm.attributes import PASSIVE_NO_INITIALIZE, get_history, set_committed_value

from app.audit.models import Event
from app.cases.models import Case, CaseState
from app.documents.models import Document
from app.errors import Conflict
from app.extensions import db, mark_persistent, row_values, run_core
from app.tasks.models import Task

STATE, TASKS, EVENTS, CASES = CaseState.__table__, Task.__table__, Event.__table__, Case.__table__
DOCUMENTS = Document.__table__
_Shape = tuple[tuple[str, ...], tuple[tuple[str, ...], ...], int, int, int]


def applies() -> bool:
    """PostgreSQL outside a savepoint: a step's new rows take ids drawn before and go out with its one
    write. Inside a savepoint the ORM must know what it wrote, to undo it on a rollback to it."""
    return db.engine.dialect.name == "postgresql" and not db.session().in_nested_transaction()


def store(case: Case, state: bytes, version: str) -> bool:
    """Write the step's changes and the state in one statement; False (nothing done) when it cannot."""
    if not applies():
        return False
    events, tasks, new_tasks, papers = _step_objects(case)
    if events is None:
        return False
    case_values = _changes(case)
    seen = case.state_version
    shape = (tuple(case_values), tuple(tuple(v) for _, v in tasks), len(events), len(new_tasks), len(papers))
    params = {"p_case": case.id, "p_seen": seen, "p_version": seen + 1, "p_state": state, "p_format": version}
    params |= {f"c_{name}": value for name, value in case_values.items()}
    for n, (task, values) in enumerate(tasks):
        params |= {f"t{n}_id": task.id} | {f"t{n}_{name}": value for name, value in values.items()}
    params |= _bound_rows(("e", EVENTS, events), ("n", TASKS, new_tasks), ("d", DOCUMENTS, papers))
    if run_core(_statement(shape), params).first() is None:
        raise Conflict("办件已被同时修改，请重试 The case changed meanwhile; try again.")
    _written(case, tasks, events, [*new_tasks, *papers], seen + 1)
    return True


def store_new(case: Case, state: bytes, version: str) -> bool:
    """A new case (accepted, its id drawn): the case row, its state, its tasks, its papers and their
    events in one statement; False (nothing done) when it cannot."""
    if not applies() or not inspect(case).pending:
        return False
    pending = _new_objects(case)
    if pending is None:
        return False
    events, new_tasks, papers = pending
    case.state_version = 1  # what the ORM's versioned INSERT would write
    params = {"p_case": case.id, "p_state": state, "p_format": version}
    params |= _bound_rows(
        ("c", CASES, [case]), ("e", EVENTS, events), ("n", TASKS, new_tasks), ("d", DOCUMENTS, papers)
    )
    run_core(_new_case_statement((len(events), len(new_tasks), len(papers))), params).one()
    for event in events:
        db.session.expunge(event)
    mark_persistent([case, *new_tasks, *papers])
    return True


def _new_objects(case: Case) -> tuple[list[Event], list[Task], list[Document]] | None:
    """The session's new objects of the case's step: its events (by seq), its new tasks and documents
    (their ids drawn, by id); None when the session holds any other new object (the case itself aside)."""
    new = db.session.new
    events = sorted((o for o in new if isinstance(o, Event) and o.case_id == case.id), key=lambda e: e.seq)
    drawn = [o for o in new if isinstance(o, Task | Document) and o.case_id == case.id and o.id is not None]
    tasks = sorted((o for o in drawn if isinstance(o, Task)), key=lambda t: t.id)
    papers = sorted((o for o in drawn if isinstance(o, Document)), key=lambda d: d.id)
    if len(events) + len(drawn) + (case in new) != len(new):
        return None
    return events, tasks, papers


def _bound_rows(*groups: tuple[str, Any, list]) -> dict:
    """The values `_insert_bound_rows` binds: <prefix><n>_<column> for each object of each group
    (prefix, table, objects); every column the object does not set takes its default."""
    params = {}
    for prefix, table, objects in groups:
        for n, obj in enumerate(objects):
            row = row_values(obj, with_id=True)
            params |= {f"{prefix}{n}_{column.name}": row[column.key] for column in table.columns}
    return params


@cache
def _new_case_statement(shape: tuple[int, int, int]):
    """The one statement that writes a new case of this shape (numbers of events, tasks, documents)."""
    n_events, n_new_tasks, n_papers = shape
    written = _insert_bound_rows(CASES, "c", 1, returning=CASES.c.id)
    state = insert(STATE).values(case_id=bindparam("p_case"), state=bindparam("p_state"), format=bindparam("p_format"))
    ctes = [state.cte("s")]
    for name, table, count in (("e", EVENTS, n_events), ("n", TASKS, n_new_tasks), ("d", DOCUMENTS, n_papers)):
        if count:
            ctes.append(_insert_bound_rows(table, name, count))
    return select(written.c.id).add_cte(*ctes)


@cache
def _statement(shape: _Shape):
    """The one statement of a step of this shape (changed case columns, changed columns per task,
    numbers of events, new tasks and documents), built once per process; every value is bound per
    request (no bound name is a column name, or an UPDATE inside would take it for a value to set)."""
    case_columns, task_columns, n_events, n_new_tasks, n_papers = shape
    ctes = [
        update(STATE)
        .where(STATE.c.case_id == bindparam("p_case"))
        .values(state=bindparam("p_state"), format=bindparam("p_format"))
        .cte("s")
    ]
    for n, columns in enumerate(task_columns):
        values = {name: bindparam(f"t{n}_{name}", type_=TASKS.c[name].type) for name in columns}
        ctes.append(update(TASKS).where(TASKS.c.id == bindparam(f"t{n}_id")).values(values).cte(f"t{n}"))
    # INSERT ... SELECT of bound rows (a multi-row VALUES would not be cacheable); new tasks and
    # documents carry the ids drawn before (with the locking read, with their numbers)
    for name, table, count in (("e", EVENTS, n_events), ("n", TASKS, n_new_tasks), ("d", DOCUMENTS, n_papers)):
        if count:
            ctes.append(_insert_bound_rows(table, name, count))
    values = {name: bindparam(f"c_{name}", type_=CASES.c[name].type) for name in case_columns}
    written = (
        update(CASES)
        .where(CASES.c.id == bindparam("p_case"), CASES.c.state_version == bindparam("p_seen"))
        .values({**values, "state_version": bindparam("p_version")})
        .returning(CASES.c.id)
        .cte("c")
    )
    return select(written.c.id).add_cte(*ctes)


def _insert_bound_rows(table, name: str, count: int, returning=None):
    """INSERT INTO `table` of `count` rows whose every column is bound as <name><n>_<column>."""
    # Each value cast to its column's type: in a UNION ALL of rows, NULLs would otherwise be text.
    rows = [
        select(*(cast(bindparam(f"{name}{n}_{c.name}", type_=c.type), c.type).label(c.name) for c in table.columns))
        for n in range(count)
    ]
    source = rows[0] if count == 1 else union_all(*rows)
    statement = insert(table).from_select([c.name for c in table.columns], source)
    return (statement.returning(returning) if returning is not None else statement).cte(name)


def _step_objects(case: Case) -> tuple[list[Event] | None, list[tuple[Task, dict]], list[Task], list[Document]]:
    """The step's new events, changed tasks, new tasks and documents (ids drawn); (None, [], [], [])
    when the session holds anything else."""
    pending = _new_objects(case)
    if pending is None:
        return None, [], [], []
    events, new_tasks, papers = pending
    tasks = []
    for state in db.session.identity_map.all_states():
        obj = state.obj()
        if obj is case or obj is None or not state.modified:
            continue
        if not isinstance(obj, Task) or obj.case_id != case.id:
            return None, [], [], []
        values = _changes(obj)
        if values:
            tasks.append((obj, values))
    return events, sorted(tasks, key=lambda pair: pair[0].id), new_tasks, papers


def _changes(obj: Any) -> dict:
    """The changed column values of a persistent object, by column name (in the mapper's order)."""
    state = inspect(obj)
    mapper = state.mapper
    unmodified = state.unmodified
    out = {}
    for attr in mapper.column_attrs:
        column = attr.columns[0]
        if attr.key in unmodified or column is mapper.version_id_col:  # the version: moved by the UPDATE
            continue
        history = get_history(obj, attr.key, passive=PASSIVE_NO_INITIALIZE)  # never loads a deferred column
        if history.added or history.deleted:
            out[column.name] = getattr(obj, attr.key)
    return out


def _written(case: Case, tasks: list[tuple[Task, dict]], events: list[Event], new_rows: list, version: int):
    """Tell the session that what was just written is the database's state (nothing left to flush).

    What the ORM's own flush does after writing (InstanceState._commit_all, not public API: pinned
    SQLAlchemy; tests/tasks/test_claim_sql.py fails if a second write of the step ever goes out).
    """
    for event in events:
        db.session.expunge(event)
    mark_persistent(new_rows)
    set_committed_value(case, "state_version", version)
    for obj in (case, *(task for task, _ in tasks)):
        state = inspect(obj)
        state._commit_all(state.dict, db.session.identity_map)
