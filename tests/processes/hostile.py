"""A corpus of hostile or careless designs: what an attacker or a hurried designer might upload.

Each entry is a small process whose one user task `review` (lane market.review) leads to a gateway
whose condition decides the end; a payload changes one element. UPLOAD_REFUSED designs must be
refused by the upload check naming the element; RUN_TIME designs pass the check (their values come
from the case data) and must be stopped by the engine's budget when they run, naming the element.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tests.processes.bpmn_builder import process


@dataclass(frozen=True)
class Design:
    """One hostile design: the element that must be named, and for run-time ones the data that trips it."""

    name: str
    xml: bytes
    element: str
    data: dict = field(default_factory=dict)


def design(
    key: str,
    *,
    condition: str = "review.opinion == 'ok'",
    loop: str = "",
    timer: tuple[str, str] | None = None,
    after_timer: str | None = None,
    case_data: str = "",
) -> bytes:
    """The builder's small process (start -> review -> gw -> ends) with one hostile element.

    `timer` is (tag, value) of a boundary timer on review; `after_timer`, a condition its path meets."""
    tag, value = timer if timer is not None else ("timeDuration", None)
    return process(
        key,
        condition=condition,
        loop=loop,
        timer=value,
        timer_tag=tag,
        after_timer=after_timer,
        case_data=case_data,
        name="恶意流程",
    )


def cardinality(value: str) -> str:
    """Multi-instance markup with a loopCardinality."""
    return f"""
      <bpmn:multiInstanceLoopCharacteristics>
        <bpmn:loopCardinality>{value}</bpmn:loopCardinality>
      </bpmn:multiInstanceLoopCharacteristics>"""


FAN_OUT = """
      <bpmn:multiInstanceLoopCharacteristics>
        <bpmn:loopDataInputRef>items</bpmn:loopDataInputRef>
        <bpmn:inputDataItem id="item" name="item" />
      </bpmn:multiInstanceLoopCharacteristics>"""

BIG_POWERS = " * ".join(["10**4000000"] * 8)
NESTED = "[[[[[1] * 99] * 99] * 99] * 99] * 99"


def _refused(name: str, element: str, **kwargs) -> Design:
    return Design(name, design(f"hostile_{name}", **kwargs), element)


UPLOAD_REFUSED = [
    _refused("mi_100000000", "review", loop=cardinality("100000000")),
    _refused("mi_power", "review", loop=cardinality("10**8")),
    _refused("mi_len_of_case_data", "review", loop=cardinality("len(departments)"), case_data="departments"),
    _refused("mi_negative", "review", loop=cardinality("-1")),
    _refused("timer_years", "escalate", timer=("timeDuration", '"P99999999999Y"')),
    _refused("timer_hours", "escalate", timer=("timeDuration", '"PT99999999999999H"')),
    _refused("timer_eleven_years", "escalate", timer=("timeDuration", '"P11Y"')),
    _refused("cycle_unbounded_zero", "escalate", timer=("timeCycle", '"R/PT0S"')),
    _refused("cycle_unbounded_daily", "escalate", timer=("timeCycle", '"R/P1D"')),
    _refused("cycle_billion_zero", "escalate", timer=("timeCycle", '"R999999999/PT0S"')),
    _refused("cycle_zero_period", "escalate", timer=("timeCycle", '"R5/PT0S"')),
    _refused("cycle_subsecond", "escalate", timer=("timeCycle", '"R5/PT0.5S"')),
    _refused("cycle_folded_constant", "escalate", timer=("timeCycle", "'R' + '/PT0S'")),
    _refused("date_far_future", "escalate", timer=("timeDate", '"9999-12-31T00:00:00+08:00"')),
    _refused("condition_big_powers", "f_yes", condition=f"{BIG_POWERS} &gt; 0"),
    _refused("condition_nested_lists", "f_yes", condition=f"len({NESTED}) &gt; 0"),
    _refused("condition_long_string", "f_yes", condition="len('a' * 10**9) &gt; 0"),
    _refused("condition_shift", "f_yes", condition="(1 &lt;&lt; 10**9) &gt; 0"),
    _refused("condition_printf", "f_yes", condition="len('%0999999999d' % 1) &gt; 0"),
    _refused("condition_format_spec", "f_yes", condition="len(f'{review:&gt;999999999}') &gt; 0"),
    _refused("condition_float_overflow", "f_yes", condition="10.0**400 &gt; 1"),
    _refused("condition_comprehension", "f_yes", condition="len([x for x in review]) &gt; 0"),
    _refused("condition_method", "f_yes", condition="len(review.opinion.ljust(10**9)) &gt; 0"),
]

RUN_TIME = [
    Design(
        "timer_hours_from_data",
        design("hostile_rt_hours", timer=("timeDuration", "'PT' + str(hours) + 'H'"), case_data="hours"),
        "escalate",
        {"hours": 99999999999999},
    ),
    Design(
        "cycle_period_from_data",
        design("hostile_rt_cycle", timer=("timeCycle", "'R/PT' + str(seconds) + 'S'"), case_data="seconds"),
        "escalate",
        {"seconds": 0},
    ),
    Design(
        "date_from_data",
        design("hostile_rt_date", timer=("timeDate", "when"), case_data="when"),
        "escalate",
        {"when": "9999-12-31T00:00:00+08:00"},
    ),
    Design(
        "fan_out_over_case_data",
        design("hostile_rt_fan_out", loop=FAN_OUT, case_data="items"),
        "review",
        {"items": list(range(20_000))},
    ),
]

# Conditions that read case data: the gateway after `review` meets them when the review is completed.
# The element named is the gateway that evaluates the condition.
RUN_TIME_CONDITIONS = [
    Design(
        "repeat_from_data",
        design("hostile_rt_repeat", condition="len(name * count) &gt; 0", case_data="name,count"),
        "gw",
        {"name": "a" * 1000, "count": 10**9},
    ),
    Design(
        "round_from_data",
        design("hostile_rt_round", condition="round(1, digits) == 0", case_data="digits"),
        "gw",
        {"digits": -(10**9)},
    ),
    Design(
        "power_from_data",
        design("hostile_rt_power", condition="base ** exponent &gt; 0", case_data="base,exponent"),
        "gw",
        {"base": 10, "exponent": 4_000_000},
    ),
    Design(
        "nesting_from_data",
        design("hostile_rt_nesting", condition="len(str([[[[items] * n] * n] * n] * n)) &gt; 0", case_data="items,n"),
        "gw",
        {"items": [1], "n": 99},
    ),
]

# A design that is fine until its timer fires an hour later: the timer's path meets a condition that
# exceeds the evaluator's limits, so it stops in the scheduler's pass.
TIMER_TRAP = Design(
    "timer_trap",
    design(
        "hostile_timer_trap", timer=("timeDuration", '"PT1H"'), after_timer="round(1, digits) == 0", case_data="digits"
    ),
    "gw_esc",
    {"digits": -(10**9)},
)
