"""Two versions of a process side by side: which elements were added, removed or changed, and how."""

from __future__ import annotations

from typing import Any

from lxml import etree

from app.engine.parser import BPMN_NS, form_of, read_xml
from app.processes.lint_rules import element_properties

FLOW_TAGS = frozenset(
    {
        "startEvent", "endEvent", "userTask", "manualTask", "task", "serviceTask", "exclusiveGateway",
        "parallelGateway", "inclusiveGateway", "eventBasedGateway", "intermediateCatchEvent",
        "intermediateThrowEvent", "boundaryEvent", "subProcess", "callActivity", "sequenceFlow", "lane",
    }
)  # fmt: skip


def diff_versions(old: bytes, new: bytes) -> dict[str, list[dict[str, Any]]]:
    """{added, removed, changed}: elements by id; a changed one lists each aspect with before and after."""
    before, after = _elements(old), _elements(new)
    added = [{"id": i, **after[i]} for i in after if i not in before]
    removed = [{"id": i, **before[i]} for i in before if i not in after]
    changed = []
    for element_id in after:
        if element_id in before:
            aspects = _aspects(before[element_id], after[element_id])
            if aspects:
                changed.append({"id": element_id, "name": after[element_id]["name"], "aspects": aspects})
    return {"added": added, "removed": removed, "changed": changed}


def _aspects(a: dict[str, Any], b: dict[str, Any]) -> list[dict[str, Any]]:
    labels = {"type": "类型", "name": "名称", "condition": "条件", "form": "表单", "properties": "属性"}
    return [{"aspect": labels[k], "before": _text(a[k]), "after": _text(b[k])} for k in labels if a[k] != b[k]]


def _text(value: Any) -> str:
    if isinstance(value, dict):
        return "；".join(f"{k}={v}" for k, v in value.items()) or "（无）"
    if isinstance(value, list):
        return "；".join(value) or "（无）"
    return value or "（无）"


def _elements(data: bytes) -> dict[str, dict[str, Any]]:
    root, _ = read_xml(data)
    if root is None:
        return {}
    out = {}
    for el in root.iter(etree.Element):
        qname = etree.QName(el)
        if qname.namespace != BPMN_NS or qname.localname not in FLOW_TAGS or not el.get("id"):
            continue
        condition = el.find(f"{{{BPMN_NS}}}conditionExpression")
        out[el.get("id")] = {
            "type": qname.localname,
            "name": (el.get("name") or "").strip(),
            "condition": (condition.text or "").strip() if condition is not None else "",
            "form": _form_text(el),
            "properties": element_properties(el),
        }
    return out


def _form_text(el: etree._Element) -> list[str]:
    form = form_of(el) or ()
    return [
        f"{f.name}（{f.label}，{f.type}{'，必填' if f.required else ''}"
        f"{''.join(f'，{n}={c}' for n, c in f.constraints if n != 'required')}）"
        for f in form
    ]
