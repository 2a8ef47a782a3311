"""A joint review process for replay tests: three parallel reviews of one element (multi-instance, so
several READY tasks share a name), then a decision that a timer takes away to the chief after 2 hours
(an interrupting boundary timer: timer_fired, task_cancelled, task_ready)."""

from __future__ import annotations

import tempfile
from pathlib import Path

KEY = "joint_review_test"
MATTER = "TEST-JOINT"

XML = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
    id="defs_joint" targetNamespace="http://onewindow.example/test">
  <bpmn:process id="{KEY}" name="联合审查（测试）" isExecutable="true">
    <bpmn:laneSet id="ls">
      <bpmn:lane id="lane_review" name="market.review"><bpmn:flowNodeRef>joint</bpmn:flowNodeRef></bpmn:lane>
      <bpmn:lane id="lane_leader" name="market.leader"><bpmn:flowNodeRef>decide</bpmn:flowNodeRef></bpmn:lane>
      <bpmn:lane id="lane_chief" name="market.chief"><bpmn:flowNodeRef>escalated</bpmn:flowNodeRef></bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="joint" name="联合审查">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:multiInstanceLoopCharacteristics isSequential="false">
        <bpmn:loopCardinality>3</bpmn:loopCardinality>
      </bpmn:multiInstanceLoopCharacteristics>
    </bpmn:userTask>
    <bpmn:userTask id="decide" name="领导决定">
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:boundaryEvent id="decide_late" attachedToRef="decide" cancelActivity="true">
      <bpmn:outgoing>f4</bpmn:outgoing>
      <bpmn:timerEventDefinition id="t_late"><bpmn:timeDuration>"PT2H"</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:userTask id="escalated" name="科长督办决定">
      <bpmn:incoming>f4</bpmn:incoming><bpmn:outgoing>f5</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming><bpmn:incoming>f5</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="joint" />
    <bpmn:sequenceFlow id="f2" sourceRef="joint" targetRef="decide" />
    <bpmn:sequenceFlow id="f3" sourceRef="decide" targetRef="end" />
    <bpmn:sequenceFlow id="f4" sourceRef="decide_late" targetRef="escalated" />
    <bpmn:sequenceFlow id="f5" sourceRef="escalated" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
""".encode()

CATALOG = f"""
[[matter]]
code = "{MATTER}"
name = "联合审查测试事项"
department = "market"
kind = "promised"
mode = "parallel"
statutory_days = 20
promised_days = 10
process_key = "{KEY}"
materials = []
"""


def install(app, as_user) -> None:
    """Upload and publish the process as the designer; add its matter to the catalog."""
    designer = as_user("designer")
    response = designer.client.post(
        "/api/processes", data=XML, headers={**designer.headers, "Content-Type": "application/xml"}
    )
    assert response.status_code == 201, response.get_json()
    version = response.get_json()["version"]
    assert designer.post(f"/api/processes/{KEY}/versions/{version}/publish").status_code == 200
    with app.app_context():
        from app.extensions import db
        from app.matters.service import load_catalog

        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "catalog.toml"
            path.write_text(CATALOG, encoding="utf-8")
            load_catalog(path=path)
        db.session.commit()
        db.session.remove()


def fire_timers(app) -> None:
    """One pass of the scheduler's timer job, in its own transaction."""
    with app.app_context():
        from app.deadlines import jobs
        from app.extensions import db, unit_of_work

        with unit_of_work():
            jobs.fire_timers()
        db.session.remove()
