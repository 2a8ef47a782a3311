"""Where the budget meets SpiffWorkflow: values of timers and multi-instance expressions are checked
as they are evaluated, and multi-instance tasks check their input collection before fanning out.

The parser (app/engine/parser.py) builds multi-instance tasks from the bounded classes below, so
every definition the platform runs, dry runs and replays included, carries the checks.
"""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import MultiInstanceTask
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.parser.task_spec import SubWorkflowParser, UserTaskParser
from SpiffWorkflow.spiff.specs.defaults import (
    ParallelMultiInstanceTask,
    SequentialMultiInstanceTask,
    SubWorkflowTask,
    UserTask,
)

from app.engine import timers
from app.engine.budget import BudgetExceeded, check_instances, element_of, timer_problems


def timer_kind(definition: TimerEventDefinition) -> str:
    """'cycle', 'duration' or 'date': how a timer's value is read."""
    if isinstance(definition, CycleTimerEventDefinition):
        return "cycle"
    if isinstance(definition, DurationTimerEventDefinition):
        return "duration"
    return "date"


def checked_value(task: Any, expression: str, value: Any) -> Any:
    """`value`, evaluated from `expression` for `task`, if the budget allows it (BudgetExceeded otherwise)."""
    spec = task.task_spec
    definition = getattr(spec, "event_definition", None)
    if isinstance(definition, TimerEventDefinition) and expression == definition.expression:
        problems = timer_problems(timer_kind(definition), value, now=timers.now())
        if problems:
            raise BudgetExceeded(
                f"定时器的值不可执行 the timer cannot run: {problems[0]}", element=element_of(task), limit="timer"
            )
    elif isinstance(spec, MultiInstanceTask) and expression == spec.cardinality:
        check_instances(value, element=element_of(task))
    return value


class _BoundedInstances:
    """A multi-instance task that refuses to fan out over a collection larger than the budget.

    The check sits where SpiffWorkflow first reads the collection (the task's data is in place by
    then): create_children for parallel instances, init_remaining_items for sequential ones."""

    def _check_collection(self, my_task) -> None:
        if self.data_input is not None and self.data_input.exists(my_task):
            items = self.data_input.get(my_task)
            check_instances(len(items) if hasattr(items, "__len__") else None, element=self.bpmn_id)

    def create_children(self, my_task):
        self._check_collection(my_task)
        return super().create_children(my_task)

    def init_remaining_items(self, my_task):
        self._check_collection(my_task)
        return super().init_remaining_items(my_task)


class BoundedParallelMultiInstanceTask(_BoundedInstances, ParallelMultiInstanceTask):
    """Parallel multi-instance within the budget."""


class BoundedSequentialMultiInstanceTask(_BoundedInstances, SequentialMultiInstanceTask):
    """Sequential multi-instance within the budget."""


class _BoundedUserTaskParser(UserTaskParser):
    PARALLEL_MI_CLASS = BoundedParallelMultiInstanceTask
    SEQUENTIAL_MI_CLASS = BoundedSequentialMultiInstanceTask


class _BoundedSubWorkflowParser(SubWorkflowParser):
    PARALLEL_MI_CLASS = BoundedParallelMultiInstanceTask
    SEQUENTIAL_MI_CLASS = BoundedSequentialMultiInstanceTask


class PlatformParser(SpiffBpmnParser):
    """SpiffWorkflow's parser with bounded multi-instance tasks."""

    OVERRIDE_PARSER_CLASSES = {
        **SpiffBpmnParser.OVERRIDE_PARSER_CLASSES,
        full_tag("userTask"): (_BoundedUserTaskParser, UserTask),
        full_tag("subProcess"): (_BoundedSubWorkflowParser, SubWorkflowTask),
    }


def budget_cause(exc: BaseException) -> BudgetExceeded | None:
    """The BudgetExceeded behind an exception SpiffWorkflow wrapped, if any."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, BudgetExceeded):
            return exc
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return None
