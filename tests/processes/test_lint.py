"""The designer's report rule by rule, through POST /api/processes: each problem names its element
and line; every problem is reported, not just the first; `flask processes check` prints the same."""

import json

import pytest
from lxml import etree

from app.processes import lint
from app.processes.cli import format_entry
from app.processes.lint import Known
from tests.processes.bpmn_builder import HEAD, PRE_SCRIPT, SCRIPT_TASK, process
from tests.processes.fixtures import FOOD, entries, line_of, read, upload

GROUPS = frozenset({"center.window", "market.review", "market.chief", "market.leader"})


def _props(**props: str) -> str:
    items = "".join(f'<spiffworkflow:property name="{k}" value="{v}" />' for k, v in props.items())
    return (
        f"<bpmn:extensionElements><spiffworkflow:properties>{items}</spiffworkflow:properties></bpmn:extensionElements>"
    )


def _multi_instance(body: str) -> bytes:
    mi = f"<bpmn:multiInstanceLoopCharacteristics>{body}</bpmn:multiInstanceLoopCharacteristics>"
    return process("mi_proc").replace(
        b"<bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>",
        f"<bpmn:outgoing>f2</bpmn:outgoing>{mi}</bpmn:userTask>".encode(),
    )


def loop_process(
    key: str = "loop_proc", *, rounds: str | None = "3", on: str = "gw", chain: int = 0, human: bool = True
) -> bytes:
    """start -> merge -> review (+ `chain` more user tasks) -> gw -> end, gw -> merge (the loop back)."""
    marks = {on: _props(max_rounds=rounds)} if rounds is not None else {}
    tasks = ["review"] + [f"step{i}" for i in range(chain)]
    kind = "userTask" if human else "intermediateThrowEvent"
    nodes = "".join(f'<bpmn:{kind} id="{t}">{marks.get(t, "")}</bpmn:{kind}>' for t in tasks)
    refs = "".join(f"<bpmn:flowNodeRef>{t}</bpmn:flowNodeRef>" for t in tasks)
    path = ["merge", *tasks, "gw"]
    flows = "".join(
        f'<bpmn:sequenceFlow id="f_{a}_{b}" sourceRef="{a}" targetRef="{b}" />'
        for a, b in zip(path, path[1:], strict=False)
    )
    condition = "review.opinion == 'ok'" if human else "matter_code == 'x'"
    return f"""{HEAD}
  <bpmn:process id="{key}" name="循环" isExecutable="true">
    <bpmn:laneSet id="ls"><bpmn:lane id="l1" name="market.review">{refs}</bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="start" />
    <bpmn:exclusiveGateway id="merge">{marks.get("merge", "")}</bpmn:exclusiveGateway>
    {nodes}
    <bpmn:exclusiveGateway id="gw" default="f_back">{marks.get("gw", "")}</bpmn:exclusiveGateway>
    <bpmn:endEvent id="end" />
    <bpmn:sequenceFlow id="f_start" sourceRef="start" targetRef="merge" />
    {flows}
    <bpmn:sequenceFlow id="f_out" sourceRef="gw" targetRef="end">
      <bpmn:conditionExpression>{condition}</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_back" sourceRef="gw" targetRef="merge" />
  </bpmn:process>
</bpmn:definitions>
""".encode()


TIMER_DATE = process("timer_date", timer='"2030-01-01T09:00:00"').replace(b"timeDuration", b"timeDate")
DTD = process("dtd_proc").replace(b"?>\n", b"?>\n<!DOCTYPE definitions>\n", 1)
NO_EXIT = loop_process("no_exit").replace(
    b'<bpmn:sequenceFlow id="f_out" sourceRef="gw" targetRef="end">',
    b'<bpmn:sequenceFlow id="f_out" sourceRef="end" targetRef="end">',
)

NESTED = """<bpmn:subProcess id="sub">
      <bpmn:startEvent id="sub_start"><bpmn:outgoing>s0</bpmn:outgoing></bpmn:startEvent>
      <bpmn:sequenceFlow id="s0" sourceRef="sub_start" targetRef="nested_review" />
      <bpmn:userTask id="nested_review" name="子流程审查"><bpmn:incoming>s0</bpmn:incoming></bpmn:userTask>
    </bpmn:subProcess>"""

# name -> (bytes, [(severity, element or None, text in the message, text on the reported line or None)])
RULES = {
    "not_well_formed": (process("nwf").replace(b"</bpmn:laneSet>", b"", 1), [("error", None, "not well-formed", None)]),
    "doctype": (DTD, [("error", None, "DOCTYPE", None)]),
    "xsd": (
        process("xsd_proc").replace(b'name="\xe5\xae\xa1\xe6\x9f\xa5"', 'name="审查" bogus="1"'.encode()),
        [("error", "review", "XSD violation: Element 'bpmn:userTask', attribute 'bogus'", 'id="review"')],
    ),
    "spiff_parser": (
        _multi_instance(
            "<bpmn:loopCardinality>2</bpmn:loopCardinality><bpmn:loopDataInputRef>xs</bpmn:loopDataInputRef>"
        ),
        [("error", "review", "exactly one of cardinality", 'id="review"')],
    ),
    "not_executable": (
        process("not_exec").replace(b'isExecutable="true"', b'isExecutable="false"'),
        [("error", "not_exec", "not marked executable", 'id="not_exec"')],
    ),
    "no_lane": (process("no_lane", lane=""), [("error", "review", "no lane", 'id="review"')]),
    "unknown_lane_group": (
        process("bad_lane", lane="market.nobody"),
        [("error", "review", "market.nobody", 'id="review"')],
    ),
    "unknown_group_property": (
        process("bad_group", task_extension=_props(group="x.y")),
        [("error", "review", "'x.y'", 'id="review"')],
    ),
    "unknown_form": (
        process("bad_form", task_extension=_props(form="approval")),
        [("error", "review", "approval", 'id="review"')],
    ),
    "group_expr_unsafe": (
        process("bad_gexpr", task_extension=_props(group_expr="open('x')")),
        [("error", "review", "group_expr", 'id="review"')],
    ),
    "syntax": (
        process("syntax", condition="review.opinion =="),
        [("error", "f_yes", "syntax error", "review.opinion ==")],
    ),
    "function": (process("func", condition="open('x') == 1"), [("error", "f_yes", "'open'", "open(")]),
    "dunder": (process("dunder", condition="review.__class__"), [("error", "f_yes", "__class__", "__class__")]),
    "unknown_name_warns": (
        process("uname", condition="approved == True"),
        [("warning", "f_yes", "approved", "approved ==")],
    ),
    "form_field_typo": (process("typo", condition="review.opnion == 'x'"), [("error", "f_yes", "'opnion'", "opnion")]),
    "form_field_get_typo": (
        process("typo_get", condition="review.get('aproved')"),
        [("error", "f_yes", "'aproved'", "aproved")],
    ),
    "juel": (process("juel", condition="${approved}"), [("error", "f_yes", "JUEL", "${approved}")]),
    "feel": (process("feel", condition="=approved"), [("error", "f_yes", "FEEL", "=approved")]),
    "language": (
        process("lang").replace(b"<bpmn:conditionExpression>", b'<bpmn:conditionExpression language="groovy">'),
        [("error", "f_yes", "groovy", "groovy")],
    ),
    "deep_expression": (
        process("deep", condition="-" * 100 + "1 == 1"),
        [("error", "f_yes", "nested too deeply", None)],
    ),
    "timer_unquoted": (process("t_unq", timer="PT5M"), [("error", "escalate", '"PT5M"', "PT5M")]),
    "timer_bad_duration": (process("t_bad", timer='"P5X"'), [("error", "escalate", "ISO 8601 duration", '"P5X"')]),
    "timer_naive_date": (TIMER_DATE, [("warning", "escalate", "+08:00", "2030-01-01")]),
    "timer_function": (process("t_fn", timer="tomorrow()"), [("error", "escalate", "'tomorrow'", "tomorrow()")]),
    "multi_instance_expression": (
        _multi_instance("<bpmn:loopCardinality>len(x</bpmn:loopCardinality>"),
        [("error", "review", "loopCardinality", "len(x")],
    ),
    "script_task": (process("script", extra=SCRIPT_TASK), [("error", "evil_script", "script", 'id="evil_script"')]),
    "pre_script": (
        process("pre", task_extension=PRE_SCRIPT),
        [("error", "review", "pre- and post-scripts", "preScript")],
    ),
    "plain_task": (
        process("plain", extra='<bpmn:task id="plain_step" />'),
        [("error", "plain_step", "bpmn:task", "plain_step")],
    ),
    "user_task_in_sub_process": (
        process("nested", extra=NESTED),
        [("error", "nested_review", "sub-process", 'id="nested_review"')],
    ),
    "manual_task": (
        process("manual", extra='<bpmn:manualTask id="by_hand" />'),
        [("error", "by_hand", "manualTask", "by_hand")],
    ),
    "missing_condition": (
        process("nocond").replace(b"<bpmn:conditionExpression>review.opinion == 'ok'</bpmn:conditionExpression>", b""),
        [("error", "f_yes", "needs a condition", 'id="f_yes"')],
    ),
    "default_not_outgoing": (
        process("baddefault").replace(b'default="f_no"', b'default="f1"'),
        [("error", "gw", "default flow", 'id="gw"')],
    ),
    "no_default_warns": (
        process("nodefault")
        .replace(b' default="f_no"', b"")
        .replace(
            b'targetRef="end_no" />',
            b'targetRef="end_no"><bpmn:conditionExpression>True</bpmn:conditionExpression></bpmn:sequenceFlow>',
        ),
        [("warning", "gw", "no default", 'id="gw"')],
    ),
    "end_result": (
        process("badresult").replace(
            b'<bpmn:endEvent id="end_yes">', f'<bpmn:endEvent id="end_yes">{_props(result="granted")}'.encode()
        ),
        [("error", "end_yes", "granted", 'id="end_yes"')],
    ),
    "loop_unbounded": (loop_process("unbounded", rounds=None), [("error", "merge", "unbounded loop", 'id="merge"')]),
    "loop_max_rounds_too_high": (loop_process("too_many", rounds="51"), [("error", "gw", "1..50", 'id="gw"')]),
    "loop_max_rounds_not_a_number": (
        loop_process("nan_rounds", rounds="three"),
        [("error", "gw", "'three'", 'id="gw"')],
    ),
    "loop_too_deep": (loop_process("deep_loop", rounds="50", chain=10), [("error", "gw", "budget of 500", 'id="gw"')]),
    "loop_without_person": (loop_process("spin", human=False), [("error", "merge", "spin", 'id="merge"')]),
    "loop_without_exit": (NO_EXIT, [("error", "merge", "no way out", 'id="merge"')]),
    "max_rounds_outside_loop": (
        process("stray", task_extension=_props(max_rounds="3")),
        [("warning", "review", "outside every loop", 'id="review"')],
    ),
    "loop_task_without_maximum": (
        process("stdloop").replace(
            b"<bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>",
            b"<bpmn:outgoing>f2</bpmn:outgoing><bpmn:standardLoopCharacteristics /></bpmn:userTask>",
        ),
        [("error", "review", "loopMaximum", "standardLoopCharacteristics")],
    ),
}


@pytest.mark.parametrize("rule", sorted(RULES))
def test_each_rule_names_element_and_line(as_user, rule):
    data, expected = RULES[rule]
    response = upload(as_user("designer"), data)
    body = response.get_json()
    has_error = any(severity == "error" for severity, *_ in expected)
    assert response.status_code == (422 if has_error else 201), body
    for severity, element, text, needle in expected:
        found = [e for e in entries(body["report"], severity=severity, element=element) if text in e["message"]]
        assert found, (text, body["report"])
        if needle is not None:
            assert found[0]["line"] == line_of(data, needle), (found[0], line_of(data, needle))


def test_bounded_loops_are_accepted_wherever_the_bound_sits(as_user):
    for on in ("gw", "merge", "review"):
        response = upload(as_user("designer"), loop_process(f"bounded_{on}", on=on))
        assert response.status_code == 201, response.get_json()


def test_every_problem_is_reported_not_just_the_first(as_user):
    """Platform rules and SpiffWorkflow's parser both run: four unrelated problems, four entries."""
    data = _multi_instance(
        "<bpmn:loopCardinality>2</bpmn:loopCardinality><bpmn:loopDataInputRef>xs</bpmn:loopDataInputRef>"
    )
    data = (
        data.replace(b'name="market.review"', b'name="nobody.here"')
        .replace(b"review.opinion == 'ok'", b"open('x')")
        .replace(b"</bpmn:process>", SCRIPT_TASK.encode() + b"</bpmn:process>")
    )
    report = upload(as_user("designer"), data).get_json()["report"]
    errors = entries(report, severity="error")
    assert any(e["element"] == "review" and "nobody.here" in e["message"] for e in errors)
    assert any(e["element"] == "f_yes" and "open" in e["message"] for e in errors)
    assert any(e["element"] == "evil_script" for e in errors)
    assert any("exactly one of cardinality" in e["message"] for e in errors)


def test_camunda_export_as_is_gets_the_whole_report(as_user):
    data = read("camunda7_as_exported.bpmn")
    body = upload(as_user("designer"), data).get_json()
    errors = {(e["element"], e["line"]) for e in entries(body["report"], severity="error")}
    expected = {
        "Process_0x7kq2m": 'id="Process_0x7kq2m"',  # modeler default key
        "Gateway_0f1jx3p": 'id="Gateway_0f1jx3p"',  # the correction loop has no max_rounds
        "Activity_0r8c1mt": 'id="Activity_0r8c1mt"',  # lane 审查岗 is not a group
        "Event_1q0w8rb": ">P5D<",  # unquoted timer
        "Activity_1corr": 'id="Activity_1corr"',  # in no lane; camunda:assignee ignored
        "Activity_1b6w0yq": 'id="Activity_1b6w0yq"',  # lane 分管领导 is not a group
        "Activity_0j3nq5c": 'id="Activity_0j3nq5c"',  # service task
        "Activity_1t2w6ke": 'id="Activity_1t2w6ke"',  # groovy script task
        "Flow_0e7m2wd": "${complete}",  # JUEL
        "Flow_1p6ju0c": "${!complete}",  # JUEL
        "Flow_1n3c8ya": 'language="javascript"',  # javascript
    }
    assert errors == {(element, line_of(data, needle)) for element, needle in expected.items()}
    corr = entries(body["report"], severity="error", element="Activity_1corr")[0]
    assert "ignored" in corr["message"]


def _known(**overrides) -> Known:
    base = {
        "groups": GROUPS,
        "process_names": {"food_business_license": "食品经营许可"},
        "matter_processes": {"SC-001": "food_business_license"},
    }
    return Known(**{**base, **overrides})


COLLISIONS = {
    "matter_code": (process("SC-001"), "error", "SC-001", "food_business_license"),
    "case_only": (process("Food_Business_License"), "error", "Food_Business_License", "only by case"),
    "modeler_default": (process("Process_1"), "error", "Process_1", "modeler default"),
    "modeler_default_random": (process("Process_0k2ba7x"), "error", "Process_0k2ba7x", "modeler default"),
    "not_ascii": (process("食品许可"), "error", "食品许可", "invalid process key"),
    "name_clash": (process("other_food", name="食品经营许可"), "warning", "other_food", "same name"),
    "renamed": (
        FOOD.replace('食品经营许可" isExecutable'.encode(), '食品经营许可（新）" isExecutable'.encode()),
        "warning",
        "food_business_license",
        "renamed",
    ),
}


@pytest.mark.parametrize("case", sorted(COLLISIONS))
def test_key_collisions(as_user, case):
    data, severity, element, text = COLLISIONS[case]
    response = upload(as_user("designer"), data)
    assert response.status_code == (422 if severity == "error" else 201), response.get_json()
    found = [
        e for e in entries(response.get_json()["report"], severity=severity, element=element) if text in e["message"]
    ]
    assert found, response.get_json()["report"]


def test_a_second_process_of_a_file_may_not_carry_an_existing_key(as_user):
    extra = b'<bpmn:process id="food_business_license" isExecutable="false" /></bpmn:definitions>'
    data = process("carrier").replace(b"</bpmn:definitions>", extra)
    body = upload(as_user("designer"), data).get_json()
    assert body["status"] == 422
    assert entries(body["report"], severity="error", element="food_business_license")


def test_a_new_version_of_an_existing_key_is_normal(as_user):
    data = FOOD.replace("承办人审查".encode(), "承办人初审".encode())
    response = upload(as_user("designer"), data)
    assert response.status_code == 201, response.get_json()
    assert (response.get_json()["key"], response.get_json()["version"]) == ("food_business_license", 2)
    assert response.get_json()["report"] == []


def _mutants():
    """The food process with each element removed, each attribute removed, and each attribute garbled."""
    count = sum(1 for _ in etree.fromstring(FOOD).iter(etree.Element))
    for index in range(1, count):
        tree = etree.fromstring(FOOD)
        el = list(tree.iter(etree.Element))[index]
        el.getparent().remove(el)
        yield f"drop #{index}", etree.tostring(tree)
        for attr in list(etree.fromstring(FOOD).iter(etree.Element))[index].attrib:
            for value in (None, "x'\"<>&"):
                tree = etree.fromstring(FOOD)
                el = list(tree.iter(etree.Element))[index]
                if value is None:
                    del el.attrib[attr]
                else:
                    el.set(attr, value)
                yield f"#{index}@{attr}={value!r}", etree.tostring(tree)


def test_no_mutation_of_a_valid_file_crashes_the_check(app):
    """Structural fuzzing: thousands of broken variants, each gives a report, errors never without entries."""
    known = _known()
    count = 0
    with app.app_context():
        for label, data in _mutants():
            report = lint.check(data, known=known)
            assert report.ok == (report.definition is not None), label
            assert all(p.severity in ("error", "warning") and p.message for p in report.problems), label
            count += 1
    assert count > 400


def test_cli_prints_exactly_the_api_report(as_user, runner, tmp_path):
    for name in ("camunda7_as_exported.bpmn", "camunda7_sole_trader.bpmn", "bpmnjs_demo.bpmn"):
        path = tmp_path / name
        path.write_bytes(read(name))
        as_json = runner.invoke(args=["processes", "check", "--json", str(path)])
        text = runner.invoke(args=["processes", "check", str(path)])
        api = upload(as_user("designer"), read(name)).get_json()
        printed = json.loads(as_json.output)
        assert printed["report"] == api["report"] and printed["key"] == api["key"]
        lines = text.output.splitlines()
        assert lines[:-1] == [format_entry(str(path), e) for e in api["report"]]
        refused = any(e["severity"] == "error" for e in api["report"])
        assert as_json.exit_code == text.exit_code == (1 if refused else 0)
        assert lines[-1].startswith(f"{path}: {'refused' if refused else 'ok'}")


def test_cli_reports_a_too_large_file_like_the_api(runner, tmp_path, app, monkeypatch):
    path = tmp_path / "big.bpmn"
    path.write_bytes(process("big_cli"))
    monkeypatch.setitem(app.config, "BPMN_MAX_BYTES", 10)
    result = runner.invoke(args=["processes", "check", str(path)])
    assert result.exit_code == 1 and "larger than 10 bytes" in result.output
