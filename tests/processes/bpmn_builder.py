"""Small BPMN documents for tests: one lane, a user task, a gateway with a condition, optional extras."""

from __future__ import annotations

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
    id="defs" targetNamespace="http://onewindow.example/test">"""


def process(
    key: str = "test_process",
    *,
    condition: str = "review.opinion == 'ok'",
    extra: str = "",
    task_extension: str = "",
    lane: str = "market.review",
    timer: str | None = None,
    name: str = "测试流程",
) -> bytes:
    """A small executable process: start -> review (user task) -> gateway (condition) -> end."""
    timer_xml = ""
    if timer is not None:
        timer_xml = f"""
    <bpmn:boundaryEvent id="escalate" attachedToRef="review" cancelActivity="false">
      <bpmn:outgoing>f_esc</bpmn:outgoing>
      <bpmn:timerEventDefinition id="t1"><bpmn:timeDuration>{timer}</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:endEvent id="end_esc"><bpmn:incoming>f_esc</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f_esc" sourceRef="escalate" targetRef="end_esc" />"""
    return f"""{HEAD}
  <bpmn:process id="{key}" name="{name}" isExecutable="true">
    <bpmn:laneSet id="ls"><bpmn:lane id="lane1" name="{lane}">
      <bpmn:flowNodeRef>review</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="review" name="审查">{task_extension}
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
    <bpmn:exclusiveGateway id="gw" default="f_no"><bpmn:incoming>f2</bpmn:incoming>
      <bpmn:outgoing>f_yes</bpmn:outgoing><bpmn:outgoing>f_no</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:endEvent id="end_yes"><bpmn:incoming>f_yes</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="end_no"><bpmn:incoming>f_no</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="review" />
    <bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="gw" />
    <bpmn:sequenceFlow id="f_yes" sourceRef="gw" targetRef="end_yes">
      <bpmn:conditionExpression>{condition}</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_no" sourceRef="gw" targetRef="end_no" />{timer_xml}{extra}
  </bpmn:process>
</bpmn:definitions>
""".encode()


SCRIPT_TASK = """
    <bpmn:scriptTask id="evil_script" name="脚本"><bpmn:script>import os; os.system('id')</bpmn:script>
    </bpmn:scriptTask>"""

PRE_SCRIPT = """
      <bpmn:extensionElements><spiffworkflow:preScript>open('/etc/passwd').read()</spiffworkflow:preScript>
      </bpmn:extensionElements>"""
