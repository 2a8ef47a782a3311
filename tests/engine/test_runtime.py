"""The engine facade on the library's processes: save and reload between every step change nothing."""

from pathlib import Path

import pytest

from app.engine import dictionary, serializer
from app.engine.parser import load_definition
from app.engine.runtime import EngineError, Run
from config import BASE_DIR

FOOD = load_definition((BASE_DIR / "bpmn" / "food_business_license.bpmn").read_bytes())
START = {"matter_code": "SC-001", "materials_deferred": []}
FACTS = {
    "promised_due": "2026-12-11T23:59:59.999999+08:00",
    "statutory_due": "2026-12-25T23:59:59.999999+08:00",
    "accepted_at": "2026-11-27T10:00:00+08:00",
}


@pytest.fixture(autouse=True)
def _vocabulary(app):
    """The working-day functions are registered by create_app (the session app)."""
    with app.app_context():
        yield


def _snapshot(run: Run) -> tuple:
    return [(t.id, t.spec.name) for t in run.ready_tasks()], run.data, run.completed


def _submission(name: str, approved: bool) -> dict:
    return {"approved": approved, "opinion": "理由"} if name == "decide" else {"opinion": "ok"}


@pytest.mark.parametrize("approved,end", [(True, "end_approved"), (False, "end_rejected")])
def test_save_and_reload_between_every_step(approved, end):
    run = Run.start(FOOD, START, facts=FACTS)
    steps = 0
    while not run.completed:
        state, version = run.dump()
        reloaded = Run.load(FOOD, state, version, facts=FACTS)
        assert _snapshot(reloaded) == _snapshot(run)
        run = reloaded
        task = run.ready_tasks()[0]
        run.complete(task.id, _submission(task.spec.name, approved))
        steps += 1
    assert run.end_reached() == end
    assert run.result() == ("approved" if approved else "rejected")
    assert steps == (5 if approved else 4)
    assert run.data["decide"]["approved"] is approved


def test_state_is_stored_without_the_spec_and_small():
    run = Run.start(FOOD, START, facts=FACTS)
    state, version = run.dump()
    assert version == serializer.PLAIN_VERSION.replace("spec-free-1", "spec-free-3/60eb7d34")  # its dictionary
    assert b"food_business_license" not in state  # compressed, and no spec inside
    as_text = dictionary.compress(serializer.dump_plain(run.workflow), dictionary.load("c18e601d"))  # spec-free-2
    assert len(state) < 1000 and len(state) < 0.8 * len(as_text), (len(state), len(as_text))


def test_unknown_state_version_is_refused():
    state, _ = Run.start(FOOD, START, facts=FACTS).dump()
    with pytest.raises(serializer.UnknownStateVersion):
        Run.load(FOOD, state, "spiff-0.9/other")


def test_loaded_workflow_gets_the_safe_engine():
    from app.engine.expressions import SAFE_ENGINE

    state, version = Run.start(FOOD, START, facts=FACTS).dump()
    assert Run.load(FOOD, state, version).workflow.script_engine is SAFE_ENGINE


def test_completing_a_task_that_is_not_ready_is_an_engine_error():
    run = Run.start(FOOD, START, facts=FACTS)
    task = run.ready_tasks()[0]
    run.complete(task.id, {"opinion": "x"})
    with pytest.raises(EngineError):
        run.complete(task.id, {"opinion": "again"})


def test_missing_variable_in_condition_is_an_engine_error_not_a_crash():
    run = Run.start(FOOD, START, facts=FACTS)
    for _ in range(2):
        task = run.ready_tasks()[0]
        run.complete(task.id, {"opinion": "x"})
    decide = run.ready_tasks()[0]
    assert decide.spec.name == "decide"
    # Written straight into the engine, bypassing the form: the condition's `decide.approved` is missing.
    with pytest.raises(EngineError) as info:
        run.complete(decide.id, {})
    assert "approved" in str(info.value) or info.value.element


def test_library_files_all_parse():
    files = sorted(Path(BASE_DIR / "bpmn").glob("*.bpmn"))
    assert files
    for path in files:
        assert load_definition(path.read_bytes()).human_tasks
