"""The engine's budget on its own: steps, tasks and time of a run, values of expressions."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from app.engine import budget
from app.engine.budget import BudgetExceeded
from app.engine.expressions import ExpressionRefused, evaluate
from app.engine.parser import load_definition
from app.engine.runtime import Run
from tests.processes.bpmn_builder import HEAD

NOW = datetime(2026, 12, 1, 2, tzinfo=UTC)


def gateway_chain(length: int) -> bytes:
    """start -> length exclusive gateways in a row -> a user task -> end."""
    targets = [f"g{i + 1}" for i in range(length - 1)] + ["review"]
    gateways = "".join(
        f'<bpmn:exclusiveGateway id="g{i}"><bpmn:incoming>f{i}</bpmn:incoming>'
        f"<bpmn:outgoing>f{i + 1}</bpmn:outgoing></bpmn:exclusiveGateway>"
        f'<bpmn:sequenceFlow id="f{i + 1}" sourceRef="g{i}" targetRef="{target}" />'
        for i, target in enumerate(targets)
    )
    return f"""{HEAD}
  <bpmn:process id="chain" isExecutable="true">
    <bpmn:laneSet id="ls"><bpmn:lane id="l" name="market.review">
      <bpmn:flowNodeRef>review</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f0</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="g0" />{gateways}
    <bpmn:userTask id="review"><bpmn:incoming>f{length}</bpmn:incoming><bpmn:outgoing>fe</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>fe</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="fe" sourceRef="review" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>""".encode()


@pytest.fixture
def limits():
    """Set budget fields for one test; the configured budget comes back afterwards."""
    saved = budget.current()

    def set_(**changes):
        budget.configure({f"ENGINE_{k.upper()}": v for k, v in changes.items()})

    yield set_
    budget._current = saved


def test_a_run_within_the_budget_reaches_its_user_task(limits):
    limits(max_steps=40)
    run = Run.start(load_definition(gateway_chain(30)), {}, at=NOW)
    assert [t.spec.name for t in run.ready_tasks()] == ["review"]


def test_a_run_past_its_steps_is_stopped_naming_where(limits):
    limits(max_steps=10)
    with pytest.raises(BudgetExceeded) as stopped:
        Run.start(load_definition(gateway_chain(30)), {}, at=NOW)
    assert stopped.value.limit == "steps" and stopped.value.element.startswith("g")


def test_a_run_past_its_time_is_stopped(limits):
    limits(max_seconds=0)
    with pytest.raises(BudgetExceeded) as stopped:
        Run.start(load_definition(gateway_chain(3)), {}, at=NOW)
    assert stopped.value.limit == "time"


def test_a_run_past_its_task_count_is_stopped(limits):
    limits(max_tasks=5)
    with pytest.raises(BudgetExceeded) as stopped:
        Run.start(load_definition(gateway_chain(30)), {}, at=NOW)
    assert stopped.value.limit == "tasks"


def test_budget_comes_from_configuration(limits):
    limits(max_steps=7, max_instances=3)
    assert (budget.current().max_steps, budget.current().max_instances) == (7, 3)
    assert budget.current().max_seconds == budget.Budget().max_seconds


@pytest.mark.parametrize(
    "expression,names",
    [
        ("a * b", {"a": 2**200, "b": 2**200}),
        ("a ** b", {"a": 10, "b": 4_000_000}),
        ("a << b", {"a": 1, "b": 10**6}),
        ("s * n", {"s": "x", "n": 10**8}),
        ("l * n", {"l": [1, 2], "n": 10**6}),
        ("[[[[l] * 99] * 99] * 99]", {"l": [1]}),
        ("s % 1", {"s": "%099999999d"}),
        ("round(1, n)", {"n": -(10**9)}),
        ("s.ljust(n)", {"s": "x", "n": 10**9}),
        ("str([[[l] * 99] * 99] * 99)", {"l": [1]}),
    ],
)
def test_values_beyond_the_budget_are_refused_before_they_are_built(expression, names):
    with pytest.raises(ExpressionRefused):
        evaluate(expression, names)


def test_ordinary_expressions_still_work():
    data = {"review": {"approved": True, "opinion": "同意"}, "n": 3, "items": ["a", "b"]}
    assert evaluate("review.approved == True and len(review['opinion']) > 0", data) is True
    assert evaluate("n * 2 + 2 ** 10", data) == 1030
    assert evaluate("items + ['c']", data) == ["a", "b", "c"]
    assert evaluate("round(2.345, 2)", data) == 2.35


@pytest.mark.parametrize(
    "kind,value,ok",
    [
        ("duration", "P3D", True),
        ("duration", "PT4H", True),
        ("duration", "P10Y", True),
        ("duration", "P11Y", False),
        ("duration", "PT99999999999999H", False),
        ("duration", "P1W2D", False),
        ("cycle", "R3/P1D", True),
        ("cycle", "R/P1D", False),
        ("cycle", "R5/PT0S", False),
        ("cycle", "R1001/PT1H", False),
        ("cycle", "R2/2026-12-01T09:00:00+08:00/PT1H", True),
        ("date", "2027-01-01T00:00:00+08:00", True),
        ("date", "9999-12-31T00:00:00+08:00", False),
        ("date", "tomorrow", False),
    ],
)
def test_timer_values(kind, value, ok):
    assert (budget.timer_problems(kind, value, now=NOW) == []) is ok


def test_the_meter_counts_every_step():
    meter = budget.Meter(SimpleNamespace(tasks={}), budget.Budget(max_steps=2))
    meter(None)
    meter(None)
    with pytest.raises(BudgetExceeded):
        meter(None)
