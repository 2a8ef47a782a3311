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
    timer_tag: str = "timeDuration",
    after_timer: str | None = None,
    loop: str = "",
    case_data: str = "",
    name: str = "测试流程",
) -> bytes:
    """A small executable process: start -> review (user task) -> gateway (condition) -> end.

    `timer`: a non-interrupting boundary timer (`timer_tag`) on review, whose path ends, or first passes
    a gateway with the condition `after_timer`; `loop`: loop markup inside review (multi-instance);
    `case_data`: the process's case_data property."""
    declared = ""
    if case_data:
        declared = f"""
    <bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="case_data" value="{case_data}" />
    </spiffworkflow:properties></bpmn:extensionElements>"""
    return f"""{HEAD}
  <bpmn:process id="{key}" name="{name}" isExecutable="true">{declared}
    <bpmn:laneSet id="ls"><bpmn:lane id="lane1" name="{lane}">
      <bpmn:flowNodeRef>review</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="review" name="审查">{task_extension}
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>{loop}</bpmn:userTask>
    <bpmn:exclusiveGateway id="gw" default="f_no"><bpmn:incoming>f2</bpmn:incoming>
      <bpmn:outgoing>f_yes</bpmn:outgoing><bpmn:outgoing>f_no</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:endEvent id="end_yes"><bpmn:incoming>f_yes</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="end_no"><bpmn:incoming>f_no</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="review" />
    <bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="gw" />
    <bpmn:sequenceFlow id="f_yes" sourceRef="gw" targetRef="end_yes">
      <bpmn:conditionExpression>{condition}</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_no" sourceRef="gw" targetRef="end_no" />{_timer(timer, timer_tag, after_timer)}{extra}
  </bpmn:process>
</bpmn:definitions>
""".encode()


def _timer(value: str | None, tag: str, after: str | None) -> str:
    if value is None:
        return ""
    into_end = "f_esc" if after is None else "f_esc_yes"
    xml = f"""
    <bpmn:boundaryEvent id="escalate" attachedToRef="review" cancelActivity="false">
      <bpmn:outgoing>f_esc</bpmn:outgoing>
      <bpmn:timerEventDefinition id="t1"><bpmn:{tag}>{value}</bpmn:{tag}></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:endEvent id="end_esc"><bpmn:incoming>{into_end}</bpmn:incoming></bpmn:endEvent>"""
    if after is None:
        return (
            xml
            + """
    <bpmn:sequenceFlow id="f_esc" sourceRef="escalate" targetRef="end_esc" />"""
        )
    return (
        xml
        + f"""
    <bpmn:exclusiveGateway id="gw_esc" default="f_esc_no"><bpmn:incoming>f_esc</bpmn:incoming>
      <bpmn:outgoing>f_esc_yes</bpmn:outgoing><bpmn:outgoing>f_esc_no</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:endEvent id="end_esc_no"><bpmn:incoming>f_esc_no</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f_esc" sourceRef="escalate" targetRef="gw_esc" />
    <bpmn:sequenceFlow id="f_esc_yes" sourceRef="gw_esc" targetRef="end_esc">
      <bpmn:conditionExpression>{after}</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_esc_no" sourceRef="gw_esc" targetRef="end_esc_no" />"""
    )


SCRIPT_TASK = """
    <bpmn:scriptTask id="evil_script" name="脚本"><bpmn:script>import os; os.system('id')</bpmn:script>
    </bpmn:scriptTask>"""

PRE_SCRIPT = """
      <bpmn:extensionElements><spiffworkflow:preScript>open('/etc/passwd').read()</spiffworkflow:preScript>
      </bpmn:extensionElements>"""
