"""A BPMN can never read a file, run code or exhaust memory on the server."""

from pathlib import Path

import pytest

from app.engine import parser
from app.engine.runtime import EngineError, Run
from tests.processes.bpmn_builder import PRE_SCRIPT, SCRIPT_TASK, process

ATTACKS = {
    "import": "__import__('os').system('touch /tmp/onewindow-pwned')",
    "attribute_walk": "().__class__.__base__.__subclasses__()",
    "open": "open('/etc/passwd').read() != ''",
    "eval": "eval('1')",
    "format_escape": "'{0.__class__}'.format(review)",
}


def _sync(runner, tmp_path, files: dict[str, bytes]):
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    return runner.invoke(args=["processes", "sync", "--dir", str(tmp_path)])


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_sync_refuses_unsafe_condition_naming_the_element(runner, tmp_path, attack):
    result = _sync(runner, tmp_path, {"evil.bpmn": process("evil_" + attack, condition=ATTACKS[attack])})
    assert result.exit_code != 0
    assert "f_yes" in result.output  # the sequence flow that carries the condition
    assert "evil.bpmn" in result.output


def test_sync_refuses_unsafe_timer(runner, tmp_path):
    result = _sync(runner, tmp_path, {"t.bpmn": process("evil_timer", timer="__import__('os').getcwd()")})
    assert result.exit_code != 0 and "escalate" in result.output


def test_sync_refuses_script_task_and_pre_scripts(runner, tmp_path):
    result = _sync(runner, tmp_path, {"s.bpmn": process("evil_script", extra=SCRIPT_TASK)})
    assert result.exit_code != 0 and "evil_script" in result.output and "script" in result.output.lower()
    result = _sync(runner, tmp_path, {"s.bpmn": process("evil_pre", task_extension=PRE_SCRIPT)})
    assert result.exit_code != 0 and "review" in result.output


def test_refused_sync_publishes_nothing(runner, tmp_path, as_user):
    before = {p["key"] for p in as_user("designer").get("/api/processes").get_json()["items"]}
    (tmp_path / "good.bpmn").write_bytes(process("good_one"))
    (tmp_path / "zz_evil.bpmn").write_bytes(process("evil_x", condition=ATTACKS["import"]))
    result = runner.invoke(args=["processes", "sync", "--dir", str(tmp_path)])
    assert result.exit_code != 0
    listed = as_user("designer").get("/api/processes").get_json()["items"]
    assert {p["key"] for p in listed} == before  # the good file of the same sync went back too
    assert "good_one" not in before


def test_doctype_and_entities_are_refused_before_parsing(runner, tmp_path):
    xxe = b"""<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>""" + process()[38:]
    result = _sync(runner, tmp_path, {"xxe.bpmn": xxe})
    assert result.exit_code != 0 and "DOCTYPE" in result.output


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_even_unchecked_unsafe_expressions_never_run(tmp_path, attack):
    """Bypass the upload check on purpose: the engine's own environment still refuses."""
    marker = Path("/tmp/onewindow-pwned")
    marker.unlink(missing_ok=True)
    root, _ = parser.read_xml(process("raw_" + attack, condition=ATTACKS[attack]))
    definition, problems = parser.build(root)
    assert definition is not None, problems
    run = Run.start(definition, {})
    task = run.ready_tasks()[0]
    with pytest.raises(EngineError):
        run.complete(task.id, {"opinion": "ok"})
    assert not marker.exists()


def test_unchecked_script_task_never_runs():
    root, _ = parser.read_xml(
        process(
            "raw_script",
            extra=SCRIPT_TASK.replace("<bpmn:scriptTask", "<bpmn:scriptTask").replace(
                "</bpmn:scriptTask>", "</bpmn:scriptTask>"
            ),
        )
    )
    definition, _ = parser.build(root)
    assert definition is not None
    # The script task is not connected in this fixture; call the environment directly as the engine would.
    from app.engine.expressions import SAFE_ENGINE, ExpressionRefused

    with pytest.raises(ExpressionRefused):
        SAFE_ENGINE.environment.execute("import os", {})


def test_check_cli_reports_and_exits_non_zero(runner, tmp_path):
    bad = tmp_path / "bad.bpmn"
    bad.write_bytes(process("bad_cli", condition="open('x')"))
    good = tmp_path / "good.bpmn"
    good.write_bytes(process("good_cli"))
    result = runner.invoke(args=["processes", "check", str(good)])
    assert result.exit_code == 0, result.output
    assert "ok (good_cli" in result.output
    result = runner.invoke(args=["processes", "check", str(good), str(bad)])
    assert result.exit_code == 1
    assert "bad.bpmn" in result.output and "f_yes" in result.output and "open" in result.output
