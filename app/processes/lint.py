"""The designer's report: every problem in an uploaded BPMN, each with element, line and a message.

Runs in order: DTD refusal and well-formedness, the XSD, the platform's own rules (no scripts, safe
expressions, human tasks in known groups, foreign extensions), and finally SpiffWorkflow's parser.
"""

from __future__ import annotations

from collections.abc import Iterable

from lxml import etree

from app.engine import expressions
from app.engine.parser import BPMN_NS, SPIFF_NS, Definition, Problem, build, read_xml, schema_problems

FOREIGN_NAMESPACES = {
    "http://camunda.org/schema/1.0/bpmn": "camunda",
    "http://camunda.org/schema/zeebe/1.0": "zeebe",
    "http://activiti.org/bpmn": "activiti",
    "http://flowable.org/bpmn": "flowable",
}
REFUSED_TASKS = {
    "scriptTask": "不允许脚本任务 script tasks are not allowed (they would run code on the server)",
    "serviceTask": "不支持服务任务 service tasks are not supported",
    "businessRuleTask": "不支持业务规则任务 business rule tasks are not supported",
    "task": "不允许使用无类型任务，请改为用户任务 plain bpmn:task is a manual step in disguise: use a userTask",
    "manualTask": "不允许手工任务，请改为用户任务 manualTask: use a userTask with a lane",
    "sendTask": "不支持发送任务 send tasks are not supported",
    "receiveTask": "不支持接收任务 receive tasks are not supported",
    "callActivity": "暂不支持调用活动 call activities are not supported",
}


def _b(tag: str) -> str:
    return f"{{{BPMN_NS}}}{tag}"


def check(data: bytes, *, known_groups: set[str]) -> tuple[Definition | None, list[Problem]]:
    """Check uploaded bytes; the Definition is returned only when nothing is an error."""
    root, problems = read_xml(data)
    if root is None:
        return None, problems
    problems = schema_problems(root)
    problems += list(_rule_problems(root, known_groups))
    if any(p.severity == "error" for p in problems):
        return None, problems
    definition, parse_problems = build(root)
    problems += parse_problems
    if definition is None:
        return None, problems
    return definition, problems


def _rule_problems(root: etree._Element, known_groups: set[str]) -> Iterable[Problem]:
    for el in root.iter(etree.Element):
        tag = etree.QName(el)
        if tag.namespace in FOREIGN_NAMESPACES:
            yield Problem(
                "warning",
                f"已忽略 {FOREIGN_NAMESPACES[tag.namespace]} 扩展 foreign extension ignored: {tag.localname}",
                _element_of(el),
                el.sourceline,
            )
            continue
        for attr in el.attrib:
            ns = etree.QName(attr).namespace
            if ns in FOREIGN_NAMESPACES:
                yield Problem(
                    "warning",
                    f"已忽略 {FOREIGN_NAMESPACES[ns]} 属性 foreign attribute ignored: {etree.QName(attr).localname}",
                    el.get("id"),
                    el.sourceline,
                )
        if tag.namespace == BPMN_NS and tag.localname in REFUSED_TASKS:
            yield Problem("error", REFUSED_TASKS[tag.localname], el.get("id"), el.sourceline)
        elif tag.namespace == SPIFF_NS and tag.localname in ("preScript", "postScript"):
            yield Problem(
                "error", "不允许前置/后置脚本 pre- and post-scripts are not allowed", _element_of(el), el.sourceline
            )
        elif tag.namespace == BPMN_NS:
            yield from _expression_problems(el, tag.localname)
    yield from _lane_problems(root, known_groups)


def _expression_problems(el: etree._Element, localname: str) -> Iterable[Problem]:
    kind = {
        "conditionExpression": "condition",
        "timeDate": "timer",
        "timeDuration": "timer",
        "timeCycle": "timer",
        "loopCardinality": "multi-instance",
        "completionCondition": "multi-instance",
    }.get(localname)
    if kind is None:
        return
    for message in expressions.check(el.text, kind=kind):
        yield Problem("error", f"{localname}: {message}", _element_of(el), el.sourceline)


def _lane_problems(root: etree._Element, known_groups: set[str]) -> Iterable[Problem]:
    lane_of: dict[str, str] = {}
    for lane in root.iter(_b("lane")):
        name = (lane.get("name") or "").strip()
        for ref in lane.iter(_b("flowNodeRef")):
            lane_of[(ref.text or "").strip()] = name
    for task in root.iter(_b("userTask")):
        props = _properties(task)
        if "group_expr" in props:
            for message in expressions.check(props["group_expr"]):
                yield Problem("error", f"group_expr: {message}", task.get("id"), task.sourceline)
            continue
        group = props.get("group") or lane_of.get(task.get("id"))
        if not group:
            yield Problem(
                "error",
                "用户任务不在任何泳道中，也未指定岗位组 the user task has no lane and no group property",
                task.get("id"),
                task.sourceline,
            )
        elif group not in known_groups:
            yield Problem(
                "error",
                f"泳道/岗位组 {group!r} 不存在 unknown group (a lane names a group)",
                task.get("id"),
                task.sourceline,
            )


def _properties(el: etree._Element) -> dict[str, str]:
    return {p.get("name"): p.get("value", "") for p in el.iter(f"{{{SPIFF_NS}}}property") if p.get("name")}


def _element_of(el: etree._Element) -> str | None:
    """The id of the nearest ancestor (or self) a designer can click on: event definitions and loop
    characteristics are parts of their event or activity, so the report names the owner."""
    node = el
    while node is not None:
        local = etree.QName(node).localname
        if node.get("id") and not local.endswith(("EventDefinition", "LoopCharacteristics")):
            return node.get("id")
        node = node.getparent()
    return None
