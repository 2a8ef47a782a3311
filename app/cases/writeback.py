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

from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import JSON, LargeBinary, Text, bindparam, cast, func, insert, inspect, literal_column, select, update
from sqlalchemy.orm.attributes import PASSIVE_NO_INITIALIZE, get_history, set_committed_value

from app.audit.models import Event
from app.cases.models import Case, CaseState
from app.documents.models import Document
from app.errors import Conflict
from app.extensions import db, mark_persistent, row_values, run_core
from app.tasks.models import Task
from app.types import UTCDateTime, column_json

STATE, TASKS, EVENTS, CASES = CaseState.__table__, Task.__table__, Event.__table__, Case.__table__
DOCUMENTS = Document.__table__
_Shape = tuple[tuple[str, ...], tuple[tuple[str, ...], ...], bool, bool, bool]


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
    shape = (tuple(case_values), tuple(tuple(v) for _, v in tasks), bool(events), bool(new_tasks), bool(papers))
    params = {"p_case": case.id, "p_seen": seen, "p_version": seen + 1, "p_state": state, "p_format": version}
    params |= {f"c_{name}": value for name, value in case_values.items()}
    for n, (task, values) in enumerate(tasks):
        params |= {f"t{n}_id": task.id} | {f"t{n}_{name}": value for name, value in values.items()}
    params |= _bound_rows(*_new_rows(events, new_tasks, papers))
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
    params |= _bound_rows(("c", CASES, [case]), *_new_rows(events, new_tasks, papers))
    run_core(_new_case_statement((bool(events), bool(new_tasks), bool(papers))), params).one()
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
    """The values `_insert_rows` binds: for each group (prefix, table, objects), one parameter
    `r_<prefix>` holding the objects' rows as one JSON array (every column the object does not set
    takes its default).

    One parameter per table instead of one per column of every row: the step's write binds a few
    dozen values rather than a hundred or more, each of which SQLAlchemy's and psycopg's adapters
    would handle one by one (and past 50 parameters psycopg re-parses the statement every time).
    """
    return {f"r_{prefix}": _rows_json(table, objects) for prefix, table, objects in groups if objects}


def _rows_json(table, objects: list) -> str:
    """The objects' rows as a JSON array of objects keyed by column name, each value in the form
    PostgreSQL's input for the column's type reads: aware datetimes as ISO 8601 in UTC, bytes in bytea's
    hex form; JSON columns as nested JSON, written as `column_json` writes them (the database keeps the
    text of a json value as given)."""
    plan = _json_plan(table)
    rows = []
    for obj in objects:
        row = row_values(obj, with_id=True)
        rows.append({name: convert(row[key], name) if convert else row[key] for name, key, convert in plan})
    return column_json(rows)


@cache
def _json_plan(table) -> tuple[tuple[str, str, Any], ...]:
    """(column name, column key, converter or None) for each column of `table`."""

    def kind(column):
        if isinstance(column.type, UTCDateTime):
            return _json_datetime
        if isinstance(column.type, LargeBinary):
            return _json_bytes
        if isinstance(column.type, JSON):
            return _json_document
        return None

    return tuple((column.name, column.key, kind(column)) for column in table.columns)


def _json_datetime(value: datetime | None, name: str) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError(f"{name}: naive datetime refused, use app.clock")  # as UTCDateTime refuses it
    return value.astimezone(UTC).isoformat()


def _json_bytes(value: bytes | None, name: str) -> str | None:
    return None if value is None else "\\x" + bytes(value).hex()


def _json_document(value: Any, name: str) -> Any:
    if value is None:  # the ORM would write JSON null; every JSON column of these tables is NOT NULL
        raise ValueError(f"{name}: None is not a value for a JSON column here")
    return value


@cache
def _new_case_statement(shape: tuple[bool, bool, bool]):
    """The one statement that writes a new case of this shape (whether it has events, tasks, documents)."""
    written = _insert_rows(CASES, "c", returning=CASES.c.id)
    state = insert(STATE).values(case_id=bindparam("p_case"), state=bindparam("p_state"), format=bindparam("p_format"))
    ctes = [state.cte("s")]
    ctes += _new_row_inserts(shape)
    return select(written.c.id).add_cte(*ctes)


@cache
def _statement(shape: _Shape):
    """The one statement of a step of this shape (changed case columns, changed columns per task,
    whether there are events, new tasks and documents), built once per process; every value is bound per
    request (no bound name is a column name, or an UPDATE inside would take it for a value to set)."""
    case_columns, task_columns, *present = shape
    ctes = [
        update(STATE)
        .where(STATE.c.case_id == bindparam("p_case"))
        .values(state=bindparam("p_state"), format=bindparam("p_format"))
        .cte("s")
    ]
    for n, columns in enumerate(task_columns):
        values = {name: bindparam(f"t{n}_{name}", type_=TASKS.c[name].type) for name in columns}
        ctes.append(update(TASKS).where(TASKS.c.id == bindparam(f"t{n}_id")).values(values).cte(f"t{n}"))
    # INSERT ... SELECT of the rows bound as one JSON array per table; new tasks and documents carry
    # the ids drawn before (with the locking read, with their numbers)
    ctes += _new_row_inserts(tuple(present))
    values = {name: bindparam(f"c_{name}", type_=CASES.c[name].type) for name in case_columns}
    written = (
        update(CASES)
        .where(CASES.c.id == bindparam("p_case"), CASES.c.state_version == bindparam("p_seen"))
        .values({**values, "state_version": bindparam("p_version")})
        .returning(CASES.c.id)
        .cte("c")
    )
    return select(written.c.id).add_cte(*ctes)


# A step's new rows, by table: the prefix of their bound parameter and CTE, and the table.
_NEW_ROW_TABLES = (("e", EVENTS), ("n", TASKS), ("d", DOCUMENTS))


def _new_rows(events: list, new_tasks: list, papers: list) -> list[tuple[str, Any, list]]:
    """(prefix, table, objects) of a step's new rows, for `_bound_rows`."""
    rows = (events, new_tasks, papers)
    return [(prefix, table, objects) for (prefix, table), objects in zip(_NEW_ROW_TABLES, rows, strict=True)]


def _new_row_inserts(present: tuple[bool, bool, bool]) -> list:
    """The INSERT CTEs of a step's new rows, for the tables that have some (events, tasks, documents)."""
    return [_insert_rows(table, prefix) for (prefix, table), has in zip(_NEW_ROW_TABLES, present, strict=True) if has]


def _insert_rows(table, name: str, returning=None):
    """INSERT INTO `table` the rows of the JSON array bound as `r_<name>`, read by
    json_populate_recordset as rows of the table's own type (every column typed as in the table)."""
    names = [c.name for c in table.columns]
    source = func.json_populate_recordset(
        literal_column(f"NULL::{table.name}"), cast(bindparam(f"r_{name}", type_=Text), JSON)
    ).table_valued(*names)
    statement = insert(table).from_select(names, select(*(source.c[n] for n in names)))
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
