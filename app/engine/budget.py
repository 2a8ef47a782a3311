"""Budgets for every engine run: no design and no case data can make a run endless or enormous.

One run (a case started, a task completed, timers fired, a dry run) may take at most `max_steps`
engine steps, hold at most `max_tasks` tasks in its workflow tree and last at most `max_seconds`
(checked between steps). A multi-instance task may fan out to at most `max_instances` instances; a
timer's value must lie within `max_horizon_days` of now and a cycle must repeat a stated number of
times (at most `max_timer_repeats`) with a period of at least `min_timer_period_seconds`. Values an
expression builds are bounded too (see app/engine/expressions.py): integers to `max_int_bits`,
strings to `max_string`, collections to `max_items` items counted through every nesting level.

What Python cannot interrupt in-thread (one huge allocation) cannot happen under these bounds; dry
runs additionally run in a child process under `max_memory_mb` (app/engine/sandbox.py).
Exceeding a budget raises BudgetExceeded naming the element: the caller changes nothing and
records an incident.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from app.engine.errors import EngineError


@dataclass(frozen=True)
class Budget:
    """The limits of one engine run (configuration: ENGINE_<FIELD> in config.py)."""

    max_steps: int = 1000
    max_tasks: int = 3000
    max_seconds: float = 5.0
    max_instances: int = 50
    max_timer_repeats: int = 1000
    min_timer_period_seconds: int = 1
    max_horizon_days: int = 3660
    max_int_bits: int = 256
    max_string: int = 100_000
    max_items: int = 10_000
    max_memory_mb: int = 512


_current = Budget()


def current() -> Budget:
    """The budget in force."""
    return _current


def configure(config: Any) -> Budget:
    """Set the budget from a mapping with ENGINE_<FIELD> keys (missing keys keep the defaults)."""
    global _current
    changes = {}
    for item in fields(Budget):
        key = f"ENGINE_{item.name.upper()}"
        if config.get(key) is not None:
            changes[item.name] = type(getattr(_current, item.name))(config[key])
    _current = replace(Budget(), **changes)
    return _current


class BudgetExceeded(EngineError):
    """A run went past one of its limits; `limit` names which."""

    def __init__(self, message: str, *, element: str | None = None, limit: str) -> None:
        super().__init__(message, element=element)
        self.limit = limit


def element_of(task: Any) -> str | None:
    """The BPMN id of a SpiffWorkflow task's spec (None for the engine's own tasks)."""
    return getattr(getattr(task, "task_spec", None), "bpmn_id", None)


class Meter:
    """Counts the engine steps of one run and stops it when a limit is passed.

    Passed to do_engine_steps as its will_complete_task callback, so it sees every step."""

    def __init__(self, workflow: Any, budget: Budget | None = None) -> None:
        self.workflow = workflow
        self.budget = budget or current()
        self.steps = 0
        self.deadline = time.monotonic() + self.budget.max_seconds

    def __call__(self, task: Any) -> None:
        self.steps += 1
        budget = self.budget
        if self.steps > budget.max_steps:
            raise BudgetExceeded(
                f"一次运行超过 {budget.max_steps} 个引擎步骤，已停止 the run exceeded {budget.max_steps} engine steps",
                element=element_of(task),
                limit="steps",
            )
        if len(self.workflow.tasks) > budget.max_tasks:
            raise BudgetExceeded(
                f"流程任务数超过 {budget.max_tasks}，已停止 the workflow exceeded {budget.max_tasks} tasks",
                element=element_of(task),
                limit="tasks",
            )
        self.check_time(task)

    def check_time(self, task: Any = None) -> None:
        """BudgetExceeded when the run has lasted longer than max_seconds."""
        if time.monotonic() > self.deadline:
            raise BudgetExceeded(
                f"一次运行超过 {self.budget.max_seconds:g} 秒，已停止 the run exceeded {self.budget.max_seconds:g} s",
                element=element_of(task),
                limit="time",
            )


def check_instances(count: Any, *, element: str | None) -> int:
    """The number of instances of a multi-instance task, if it is a whole number within the budget."""
    limit = current().max_instances
    if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= limit:
        raise BudgetExceeded(
            f"多实例数量须为 0-{limit} 的整数，实际为 {_short(count)} "
            f"multi-instance cardinality must be an integer 0..{limit}",
            element=element,
            limit="instances",
        )
    return count


# --- timer values -------------------------------------------------------------------------------

_DURATION = re.compile(
    r"^P(?!$)(?:(\d{1,9})Y)?(?:(\d{1,9})M)?(?:(\d{1,9})W)?(?:(\d{1,9})D)?"
    r"(?:T(?=\d)(?:(\d{1,9})H)?(?:(\d{1,9})M)?(?:(\d{1,9}(?:[.,]\d{1,6})?)S)?)?$",
    re.IGNORECASE,
)
_CYCLE = re.compile(r"^R(\d*)/(.+)$", re.IGNORECASE)


def duration_seconds(text: str) -> float | None:
    """An ISO 8601 duration in seconds (a year as 366 days, a month as 31: an upper bound); None if invalid."""
    found = _DURATION.match(text.strip())
    if not found:
        return None
    y, mo, w, d, h, mi, s = (float((v or "0").replace(",", ".")) for v in found.groups())
    if w and (y or mo or d):
        return None
    return ((y * 366 + mo * 31 + w * 7 + d) * 24 + h) * 3600 + mi * 60 + s


def _moment(text: str) -> datetime | None:
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def timer_problems(kind: str, value: Any, *, now: datetime | None = None) -> list[str]:
    """Why a timer value (of kind "date", "duration" or "cycle") may not run; empty when it may.

    With `now` a date must also lie within the horizon of it; without, only its form is checked.
    """
    budget = current()
    horizon = timedelta(days=budget.max_horizon_days)
    if not isinstance(value, str):
        return [f"定时器的值须为字符串 a timer value must be a string, got {_short(value)}"]
    if kind == "duration":
        return _duration_problems(value, horizon)
    if kind == "cycle":
        return _cycle_problems(value, horizon, budget)
    moment = _moment(value)
    if moment is None:
        return [f"{_short(value)} 不是有效的 ISO 8601 时间 not an ISO 8601 date-time"]
    if now is not None and abs(moment - now) > horizon:
        return [f"定时器时间 {value} 超出 {budget.max_horizon_days} 天的范围 the date is beyond the horizon"]
    return []


def _duration_problems(value: str, horizon: timedelta) -> list[str]:
    seconds = duration_seconds(value)
    if seconds is None:
        return [f"{_short(value)} 不是有效的 ISO 8601 时长，如 'P3D'、'PT4H' not an ISO 8601 duration"]
    if seconds > horizon.total_seconds():
        return [f"时长 {value} 超过 {horizon.days} 天 the duration is beyond the horizon of {horizon.days} days"]
    return []


def _cycle_problems(value: str, horizon: timedelta, budget: Budget) -> list[str]:
    found = _CYCLE.match(value.strip())
    parts = found.group(2).split("/") if found else []
    if not found or not 1 <= len(parts) <= 2:
        return [f"{_short(value)} 不是有效的 ISO 8601 循环，如 'R3/P1D' not an ISO 8601 repeating interval"]
    repeats = found.group(1)
    if not repeats or not 1 <= int(repeats) <= budget.max_timer_repeats:
        return [
            f"循环定时器须写明 1-{budget.max_timer_repeats} 次重复，如 'R3/P1D' "
            f"a cycle must state 1..{budget.max_timer_repeats} repetitions"
        ]
    periods = [p for p in parts if p.upper().startswith("P")]
    dates = [p for p in parts if not p.upper().startswith("P")]
    if len(periods) != 1:
        return [f"{_short(value)} 须恰好有一个周期 a cycle needs exactly one period"]
    problems = _duration_problems(periods[0], horizon)
    problems += [p for d in dates for p in timer_problems("date", d)]
    if problems:
        return problems
    if duration_seconds(periods[0]) < budget.min_timer_period_seconds:
        return [
            f"循环周期不得短于 {budget.min_timer_period_seconds} 秒 "
            f"the period must be at least {budget.min_timer_period_seconds} s"
        ]
    return []


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
