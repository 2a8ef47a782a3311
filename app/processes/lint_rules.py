"""Rules on single elements: refused kinds of task, scripts, foreign extensions, lanes and groups,
task forms, end results, gateways and loop markers."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from lxml import etree

from app.engine.parser import BPMN_NS, CAMUNDA_NS, SPIFF_NS, Problem
from app.tasks.forms import LEGACY

DI_NAMESPACES = {
    "http://www.omg.org/spec/BPMN/20100524/DI",
    "http://www.omg.org/spec/DD/20100524/DC",
    "http://www.omg.org/spec/DD/20100524/DI",
}
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
XML_NS = "http://www.w3.org/XML/1998/namespace"
OWN_NAMESPACES = {BPMN_NS, SPIFF_NS, XSI_NS, XML_NS, *DI_NAMESPACES}
FOREIGN_NAMESPACES = {
    "http://camunda.org/schema/1.0/bpmn": "camunda",
    "http://camunda.org/schema/zeebe/1.0": "zeebe",
    "http://camunda.org/schema/modeler/1.0": "modeler",
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
# A person's step inside an embedded sub-process: the platform's task rows, forms and groups follow the
# process's own user tasks only (a case reaching one would have nobody to do it).
NESTED_HUMAN_TASK = "暂不支持子流程内的人工任务，请放在主流程中 user tasks inside a sub-process are not supported"
SUB_PROCESSES = ("subProcess", "transaction", "adHocSubProcess")
RESULTS = ("approved", "rejected", "revoked")
# The numbered document a finished step issues (its `document` property): app/cases/papers.py.
STEP_DOCUMENTS = ("decision", "delivery_receipt")
MAX_LOOP_MAXIMUM = 50
# Foreign ways of naming who works a task: the hint tells the designer what to do instead.
_ASSIGNMENT_HINTS = ("candidateGroups", "candidateUsers", "assignee", "assignmentDefinition")


def b(tag: str) -> str:
    """The Clark name of a BPMN element."""
    return f"{{{BPMN_NS}}}{tag}"


def element_properties(el: etree._Element) -> dict[str, str]:
    """The spiffworkflow properties an element declares directly (not those of nested elements)."""
    props = {}
    for ext in el.findall(b("extensionElements")):
        for prop in ext.iter(f"{{{SPIFF_NS}}}property"):
            if prop.get("name"):
                props[prop.get("name")] = prop.get("value", "")
    return props


def element_of(el: etree._Element) -> str | None:
    """The id of the nearest ancestor (or self) a designer can click on: event definitions and loop
    characteristics are parts of their event or activity, so the report names the owner."""
    node = el
    while node is not None:
        local = etree.QName(node).localname
        if node.get("id") and etree.QName(node).namespace == BPMN_NS:
            if not local.endswith(("EventDefinition", "LoopCharacteristics", "DataItem")):
                return node.get("id")
        node = node.getparent()
    return None


def problems(root: etree._Element, *, groups: frozenset[str]) -> list[Problem]:
    """Every problem of single elements, in document order."""
    out = list(_foreign_extensions(root))
    for el in root.iter(etree.Element):
        qname = etree.QName(el)
        if qname.namespace == BPMN_NS and qname.localname in REFUSED_TASKS:
            out.append(Problem("error", REFUSED_TASKS[qname.localname], el.get("id"), el.sourceline))
        elif qname.namespace == BPMN_NS and qname.localname == "userTask" and _inside_sub_process(el):
            out.append(Problem("error", NESTED_HUMAN_TASK, el.get("id"), el.sourceline))
        elif qname.namespace == SPIFF_NS and qname.localname in ("preScript", "postScript"):
            message = "不允许前置/后置脚本 pre- and post-scripts are not allowed"
            out.append(Problem("error", message, element_of(el), el.sourceline))
    out += _human_task_problems(root, groups)
    out += _end_event_problems(root)
    out += _gateway_problems(root)
    out += _loop_marker_problems(root)
    return out


def _inside_sub_process(el: etree._Element) -> bool:
    return any(
        etree.QName(a).namespace == BPMN_NS and etree.QName(a).localname in SUB_PROCESSES for a in el.iterancestors()
    )


def _foreign_extensions(root: etree._Element) -> Iterable[Problem]:
    """One warning per element and foreign namespace, naming what is ignored, on the element's line."""
    found: dict[tuple[str | None, str], list[str]] = defaultdict(list)
    lines: dict[tuple[str | None, str], int | None] = {}
    for owner, label, name, line in _foreign_items(root):
        found[(owner, label)].append(name)
        lines.setdefault((owner, label), line)
    for (element, label), names in found.items():
        yield Problem(
            "warning",
            f"已忽略 {label} 扩展，平台不会执行它们 "
            f"foreign extensions ignored ({label}): {', '.join(dict.fromkeys(names))}",
            element,
            lines[(element, label)],
        )


def _foreign_items(root: etree._Element) -> Iterable[tuple[str | None, str, str, int | None]]:
    """(owner id, namespace label, local name, line) of each outermost foreign element and each
    foreign attribute. Diagram elements and what they hold (bpmn-js colours) only change how the
    diagram looks: they are skipped. A line of None stands for the owner's line."""
    for el in root.iter(etree.Element):
        qname = etree.QName(el)
        parent = el.getparent()
        parent_ns = etree.QName(parent).namespace if parent is not None else None
        if qname.namespace in DI_NAMESPACES or parent_ns in DI_NAMESPACES:
            continue
        if qname.namespace not in OWN_NAMESPACES:
            if qname.namespace == CAMUNDA_NS and qname.localname == "formData":
                continue  # the platform reads forms (app/processes/lint_forms.py)
            if parent is None or parent_ns in OWN_NAMESPACES:
                owner = element_of(el)
                yield owner, _label(qname.namespace, el.prefix), qname.localname, None if owner else el.sourceline
            continue
        for attr in el.attrib:
            ns = etree.QName(attr).namespace
            if ns is not None and ns not in OWN_NAMESPACES:
                yield el.get("id") or element_of(el), _label(ns, None), etree.QName(attr).localname, el.sourceline


def _label(namespace: str | None, prefix: str | None) -> str:
    return FOREIGN_NAMESPACES.get(namespace or "") or prefix or namespace or "?"


def lanes_of(root: etree._Element) -> dict[str, str]:
    """Flow node id -> the name of its lane, as SpiffWorkflow reads it (the innermost lane wins)."""
    lanes: dict[str, str] = {}
    for ref in root.iter(b("flowNodeRef")):
        lane = ref.getparent()
        if ref.text and lane is not None:
            lanes[ref.text.strip()] = (lane.get("name") or "").strip()
    return lanes


def _human_task_problems(root: etree._Element, groups: frozenset[str]) -> Iterable[Problem]:
    lanes = lanes_of(root)
    for task in root.iter(b("userTask")):
        task_id, line = task.get("id"), task.sourceline
        props = element_properties(task)
        form = props.get("form", "opinion")
        if form not in LEGACY and task.find(f"{b('extensionElements')}/{{{CAMUNDA_NS}}}formData") is None:
            yield Problem(
                "error",
                f"未知的表单类型 {form!r}，请用 camunda:formData 声明表单 unknown form kind",
                task_id,
                line,
            )
        if props.get("document", STEP_DOCUMENTS[0]) not in STEP_DOCUMENTS:
            message = f"未知的文书 {props['document']!r}，可选：{'、'.join(STEP_DOCUMENTS)} unknown document kind"
            yield Problem("error", message, task_id, line)
        if "group_expr" in props:
            continue  # checked with the other expressions
        group = props.get("group") or lanes.get(task_id or "")
        if not group:
            message = "用户任务不在任何泳道中，也未指定岗位组 the user task has no lane and no group property"
            yield Problem("error", message + _assignment_hint(task), task_id, line)
        elif group not in groups:
            yield Problem(
                "error",
                f"泳道/岗位组 {group!r} 不存在：泳道名称须为岗位组编码，如 center.window "
                f"unknown group {group!r} (a lane names a group by its code)",
                task_id,
                line,
            )


def _assignment_hint(task: etree._Element) -> str:
    names = [etree.QName(a).localname for a in task.attrib] + [
        etree.QName(e).localname for e in task.iter(etree.Element)
    ]
    if any(n in _ASSIGNMENT_HINTS for n in names):
        return (
            "；建模工具中的候选组/办理人设置会被忽略，请把任务放进以岗位组命名的泳道 "
            "(foreign assignee settings are ignored)"
        )
    return ""


def _end_event_problems(root: etree._Element) -> Iterable[Problem]:
    for end in root.iter(b("endEvent")):
        result = element_properties(end).get("result")
        if result is not None and result not in RESULTS:
            yield Problem(
                "error",
                f"结束事件的 result 须为 {' / '.join(RESULTS)}，当前为 {result!r} unknown case result",
                end.get("id"),
                end.sourceline,
            )


def _gateway_problems(root: etree._Element) -> Iterable[Problem]:
    flows = {f.get("id"): f for f in root.iter(b("sequenceFlow")) if f.get("id")}
    outgoing: dict[str, list[etree._Element]] = defaultdict(list)
    for flow in flows.values():
        outgoing[flow.get("sourceRef") or ""].append(flow)
    for tag in ("exclusiveGateway", "inclusiveGateway"):
        for gateway in root.iter(b(tag)):
            yield from _one_gateway(gateway, outgoing.get(gateway.get("id") or "", []))


def _one_gateway(gateway: etree._Element, outgoing: list[etree._Element]) -> Iterable[Problem]:
    default = gateway.get("default")
    gateway_id, line = gateway.get("id"), gateway.sourceline
    if default and default not in {f.get("id") for f in outgoing}:
        yield Problem(
            "error", f"默认路径 {default!r} 不是该网关的出口 the default flow is not outgoing", gateway_id, line
        )
    if len(outgoing) < 2:
        return
    for flow in outgoing:
        if flow.get("id") != default and flow.find(b("conditionExpression")) is None:
            yield Problem(
                "error",
                "网关的非默认出口必须有条件 a non-default flow out of a gateway needs a condition",
                flow.get("id"),
                flow.sourceline,
            )
    if not default:
        yield Problem(
            "warning",
            "网关没有默认路径：所有条件都不成立时办件会停在此处 no default flow: when no condition holds "
            "the case stops here with an incident",
            gateway_id,
            line,
        )


def _loop_marker_problems(root: etree._Element) -> Iterable[Problem]:
    for marker in root.iter(b("standardLoopCharacteristics")):
        raw = (marker.get("loopMaximum") or "").strip()
        if not (raw.isdigit() and 1 <= int(raw) <= MAX_LOOP_MAXIMUM):
            yield Problem(
                "error",
                f"循环任务须设置 loopMaximum（1-{MAX_LOOP_MAXIMUM}） "
                f"a loop task needs loopMaximum 1..{MAX_LOOP_MAXIMUM}",
                element_of(marker),
                marker.sourceline,
            )
