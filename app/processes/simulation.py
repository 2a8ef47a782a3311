"""Dry runs of a process version: a scenario in, the path it takes out, nothing stored.

A scenario is `{"data": {...}, "tasks": {"<element id>": submission}}`. A submission is a dict used
every time the task is met, or a list used in order (the n-th time the task is met takes the n-th
item: loops, and multi-instance tasks in the order of their instances). For a multi-instance task a
dict whose values are all dicts is keyed by instance: the instance's input item (e.g. the department
code "fire") or its index ("0", "1", ...). Every submission is validated with the task's form.
The start data is built as at acceptance: the matter's process data, the scenario's data, then
`matter_code` and `materials_deferred` (both of which the scenario may set).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from flask import current_app
from sqlalchemy import select

from app import clock
from app.deadlines import service as deadlines
from app.engine import budget, sandbox
from app.engine.parser import DefinitionError, read_xml
from app.engine.runtime import ReadyTask
from app.engine.simulate import DEFAULT_MAX_STEPS, Outcome, SimulationError, Step, simulate
from app.errors import Invalid
from app.extensions import db
from app.identity.service import group_codes
from app.matters.models import Matter
from app.processes import lint_graph, service
from app.tasks import forms, groups

DEFAULT_LIMITS = {"statutory_days": 20, "promised_days": 20}


class SimulationFailed(Invalid):
    """The scenario could not run to an end: the 422 names the element and the path so far."""


class Scenario:
    """The submissions of a scenario, handed out as the dry run meets each human task."""

    def __init__(self, tasks: dict[str, dict | list]) -> None:
        self.tasks = tasks
        self.met: Counter[str] = Counter()
        self.groups: dict[str, str | None] = {}
        self.known_groups = group_codes()

    def submit(self, task: ReadyTask, instance: str | None) -> dict:
        """The validated submission for this meeting of `task` (SimulationError naming it otherwise)."""
        name = task.spec.name
        self.groups[task.id] = self._group(task)
        occurrence = self.met[name]
        self.met[name] += 1
        submission = self._pick(name, task.spec.title, occurrence, instance)
        try:
            return forms.validate_submission(forms.fields_of(task.spec, task.spec.form), submission)
        except Invalid as exc:
            raise SimulationError(
                f"任务 {name} 的提交数据不符合其表单 the submission for {name} is invalid",
                element=name,
                errors={"tasks": {name: exc.errors}},
            ) from exc

    def _pick(self, name: str, title: str, occurrence: int, instance: str | None):
        entry = self.tasks.get(name)
        if entry is None:
            raise _missing(
                name, f"场景没有提供任务 {name}（{title}）的提交数据 the scenario has no submission for {name}"
            )
        if isinstance(entry, list):
            if occurrence >= len(entry):
                raise _missing(
                    name,
                    f"任务 {name} 第 {occurrence + 1} 次出现，场景只提供了 {len(entry)} 份提交 "
                    f"the scenario has no submission for meeting {occurrence + 1} of {name}",
                )
            return entry[occurrence]
        if instance is not None and entry and all(isinstance(v, dict) for v in entry.values()):
            if instance not in entry:
                raise _missing(
                    name,
                    f"场景没有提供任务 {name} 实例 {instance!r} 的提交数据 no submission for instance {instance!r}",
                )
            return entry[instance]
        return entry

    def _group(self, task: ReadyTask) -> str | None:
        try:
            return groups.resolve(task, self.known_groups)
        except groups.GroupUnresolved as exc:
            raise SimulationError(str(exc), element=exc.element) from exc


def _missing(name: str, message: str) -> SimulationError:
    return SimulationError(message, element=name, errors={"tasks": {name: ["缺少提交数据 missing submission"]}})


def run_scenario(*, key: str, version: int, data: dict, tasks: dict, max_steps: int | None = None) -> dict:
    """Dry-run a version through a scenario: the path, the human steps and the end (SimulationFailed otherwise)."""
    target = service.get_or_raise(key=key, version=version)
    try:
        definition = service.definition(target.id)
    except DefinitionError as exc:  # stored before today's rules: the report says why
        raise SimulationFailed(str(exc), report=[p.as_dict() for p in exc.problems]) from exc
    _check_task_names(tasks, definition.human_tasks)
    root, _ = read_xml(target.xml)
    matter = db.session.scalar(select(Matter).where(Matter.process_key == key).order_by(Matter.code))
    now = clock.now()
    # Everything read from the database is read here, before the fork (it also warms the calendar
    # that working-day functions read): the child never touches the parent's connections.
    scenario = Scenario(tasks)
    start_data, facts = _start_data(matter, data), _facts(matter, now)
    round_limits = lint_graph.round_limits(root) if root is not None else {}
    limit = max_steps or current_app.config.get("SIMULATION_MAX_STEPS", DEFAULT_MAX_STEPS)

    def dry_run() -> tuple[Outcome, Scenario]:
        outcome = simulate(
            definition, start_data, scenario.submit, at=now, facts=facts, round_limits=round_limits, max_steps=limit
        )
        return outcome, scenario  # the child's scenario knows which tasks were met, and their groups

    try:
        outcome, scenario = sandbox.run_isolated(
            dry_run,
            seconds=current_app.config["SIMULATION_MAX_SECONDS"],
            memory_mb=budget.current().max_memory_mb,
            after_fork=_detach_database,
        )
    except SimulationError as exc:
        raise SimulationFailed(exc.message, errors=exc.errors, element=exc.element, path=exc.path) from exc
    except sandbox.SandboxFailed as exc:
        raise SimulationFailed(str(exc), limit=exc.reason, path=[]) from exc
    return {
        "key": key,
        "version": version,
        "path": outcome.path,
        "tasks": [_step_view(step, scenario) for step in outcome.steps],
        "end": outcome.end,
        "result": outcome.result,
        "unused": sorted(set(tasks) - set(scenario.met)),
    }


def _detach_database() -> None:
    """In the dry run's child: forget the parent's connections (never use them), so any database
    access there opens a connection of its own."""
    db.engine.dispose(close=False)
    db.session.registry.clear()


def _check_task_names(tasks: dict, human_tasks: dict) -> None:
    unknown = sorted(set(tasks) - set(human_tasks))
    if unknown:
        raise Invalid(
            f"场景中的 {', '.join(unknown)} 不是本流程的用户任务 not user tasks of this process",
            errors={"tasks": {name: ["不是本流程的用户任务 not a user task of this process"] for name in unknown}},
        )


def _step_view(step: Step, scenario: Scenario) -> dict:
    return {
        "name": step.task.spec.name,
        "title": step.task.spec.title,
        "group": scenario.groups.get(step.task.id),
        "instance": step.instance,
        "data": step.data,
    }


def _start_data(matter: Matter | None, data: dict) -> dict:
    base = dict(matter.process_data or {}) if matter is not None else {}
    return {**base, "matter_code": matter.code if matter else None, "materials_deferred": [], **data}


def _facts(matter: Matter | None, now: datetime) -> dict:
    """The case facts expressions may read, as for a case accepted now."""
    limits = {"statutory_days": matter.statutory_days, "promised_days": matter.promised_days} if matter else {}
    due = deadlines.due_dates(accepted_at=now, **(limits or DEFAULT_LIMITS))
    return {
        "promised_due": due["promised_due"].isoformat(),
        "statutory_due": due["statutory_due"].isoformat(),
        "accepted_at": now.isoformat(),
    }
