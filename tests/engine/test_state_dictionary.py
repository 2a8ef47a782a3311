"""The workflow state deflated with a shipped preset dictionary (app/engine/dictionary.py), its task
ids kept once each in a table (app/engine/serializer.py): smaller, read back exactly, every shipped
process has its dictionary, and states written before (plain zlib, or the dictionary format with ids
as text) or with a dictionary that is not shipped are handled as they must be."""

from __future__ import annotations

import re
import tomllib
import uuid
import zlib

import pytest

from app.engine import dictionary, serializer
from app.engine.parser import load_definition
from app.engine.runtime import Run
from config import BASE_DIR
from tests.engine.test_runtime import FACTS, FOOD, START
from tests.processes.bpmn_builder import HEAD


@pytest.fixture(autouse=True)
def _vocabulary(app):
    with app.app_context():
        yield


def _driven(definition=FOOD) -> Run:
    run = Run.start(definition, START, facts=FACTS)
    for data in ({"opinion": "材料齐全", "needs_inspection": False}, {"opinion": "同意"}):
        run.complete(run.ready_tasks()[0].id, data)
    return run


def test_every_shipped_process_has_its_dictionary_and_each_file_is_what_its_name_says():
    catalog = tomllib.loads((BASE_DIR / "bpmn" / "catalog.toml").read_text(encoding="utf-8"))
    keys = {m["process_key"] for m in catalog["matter"]}
    assert keys <= set(dictionary.CURRENT), keys - set(dictionary.CURRENT)
    for key in keys:
        name, data = dictionary.for_process(key)
        assert name == dictionary.CURRENT[key] and 1000 < len(data) <= dictionary.MAX_BYTES
        assert b'"children":[1]' in data  # tasks by place: structure, no case's ids
        assert not re.search(rb"(?!00000000-0000)[0-9a-f]{8}-[0-9a-f]{4}-", data)  # ids left as text: blanked
        assert b'"last_state_change":1800000000.0' in data


def test_a_state_round_trips_and_is_smaller_than_plain_zlib():
    run = _driven()
    state, version = run.dump()
    assert version.endswith("/spec-free-3/" + dictionary.CURRENT["food_business_license"])
    plain = serializer.dump_plain(run.workflow)
    assert len(state) < 0.65 * len(zlib.compress(plain, 1)), (len(state), len(zlib.compress(plain, 1)))
    ids = {t.id for t in run.workflow.get_tasks()}
    assert int.from_bytes(state[:2], "big") == len(ids)  # each id once, 16 raw bytes
    assert {uuid.UUID(bytes=state[2 + 16 * i : 18 + 16 * i]) for i in range(len(ids))} == ids
    again = Run.load(FOOD, state, version, facts=FACTS)
    assert serializer.dump_plain(again.workflow) == plain
    assert [t.spec.name for t in again.ready_tasks()] == ["decide"]


def test_a_state_written_before_dictionaries_still_loads():
    run = _driven()
    old = zlib.compress(serializer.dump_plain(run.workflow), 1)
    loaded = Run.load(FOOD, old, serializer.PLAIN_VERSION, facts=FACTS)
    assert loaded.data == run.data and [t.id for t in loaded.ready_tasks()] == [t.id for t in run.ready_tasks()]


def test_a_state_naming_a_dictionary_that_is_not_shipped_is_refused():
    state, version = _driven().dump()
    with pytest.raises(serializer.UnknownStateVersion):
        Run.load(FOOD, state, version.rsplit("/", 1)[0] + "/00000000", facts=FACTS)


def test_a_designers_process_uses_the_generic_dictionary():
    xml = (BASE_DIR / "bpmn" / "food_business_license.bpmn").read_bytes()
    renamed = load_definition(xml.replace(b'id="food_business_license"', b'id="designer_made"'))
    assert renamed.key == "designer_made"
    state, version = _driven(renamed).dump()
    assert version.endswith("/" + dictionary.CURRENT[dictionary.GENERIC])
    assert Run.load(renamed, state, version, facts=FACTS).data["audit"] == {"opinion": "同意"}


def test_a_state_written_with_ids_as_text_still_loads():
    """spec-free-2: the dictionary format before the id table (its dictionaries stay shipped)."""
    run = _driven()
    plain = serializer.dump_plain(run.workflow)
    old = dictionary.compress(plain, dictionary.load("c18e601d"))
    loaded = Run.load(FOOD, old, serializer.PLAIN_VERSION.replace("spec-free-1", "spec-free-2/c18e601d"), facts=FACTS)
    assert serializer.dump_plain(loaded.workflow) == plain


@pytest.mark.parametrize(
    "value",
    [
        "0a1b2c3d-0000-4000-8000-00000000abcd",  # a whole string that looks like an id
        "见 0a1b2c3d-0000-4000-8000-00000000abcd 号",  # one inside a text
        ["0a1b2c3d-0000-4000-8000-00000000abcd", {"parent": 0, "children": [1]}],
    ],
)
def test_task_data_that_looks_like_ids_or_places_comes_back_as_it_was(value):
    run = Run.start(FOOD, START, facts=FACTS)
    run.complete(run.ready_tasks()[0].id, {"opinion": value, "needs_inspection": False})
    state, version = run.dump()
    again = Run.load(FOOD, state, version, facts=FACTS)
    assert again.data["review"]["opinion"] == value
    assert serializer.dump_plain(again.workflow) == serializer.dump_plain(run.workflow)


SUBPROCESS = f"""{HEAD}
  <bpmn:process id="with_subprocess" isExecutable="true">
    <bpmn:laneSet id="ls"><bpmn:lane id="l" name="market.review">
      <bpmn:flowNodeRef>before</bpmn:flowNodeRef><bpmn:flowNodeRef>after</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f0</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="before" />
    <bpmn:userTask id="before"><bpmn:incoming>f0</bpmn:incoming><bpmn:outgoing>f1</bpmn:outgoing></bpmn:userTask>
    <bpmn:sequenceFlow id="f1" sourceRef="before" targetRef="sub" />
    <bpmn:subProcess id="sub"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:startEvent id="sub_start"><bpmn:outgoing>s0</bpmn:outgoing></bpmn:startEvent>
      <bpmn:sequenceFlow id="s0" sourceRef="sub_start" targetRef="sub_end" />
      <bpmn:endEvent id="sub_end"><bpmn:incoming>s0</bpmn:incoming></bpmn:endEvent>
    </bpmn:subProcess>
    <bpmn:sequenceFlow id="f2" sourceRef="sub" targetRef="after" />
    <bpmn:userTask id="after"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing></bpmn:userTask>
    <bpmn:sequenceFlow id="f3" sourceRef="after" targetRef="end" />
    <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>""".encode()


def test_an_embedded_subprocess_round_trips_through_every_step():
    """Its own tasks are written by the engine's converter with ids as text, beside the id table."""
    definition = load_definition(SUBPROCESS)
    run = Run.start(definition, {"matter_code": "X"})
    names, subprocesses = [], 0
    while not run.completed:
        state, version = run.dump()
        assert "/spec-free-3/" in version
        again = Run.load(definition, state, version)
        assert serializer.dump_plain(again.workflow) == serializer.dump_plain(run.workflow)
        assert len(again.workflow.subprocesses) == len(run.workflow.subprocesses)
        subprocesses = max(subprocesses, len(again.workflow.subprocesses))
        run = again
        task = run.ready_tasks()[0]
        names.append(task.spec.name)
        run.complete(task.id, {"opinion": "同意"})
    assert names == ["before", "after"] and subprocesses == 1
