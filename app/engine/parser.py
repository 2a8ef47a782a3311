"""Safe BPMN parsing: refuse DTDs, parse with entities and network off, validate against the XSD,
then hand the tree to SpiffWorkflow's parser. Every failure becomes a Problem with element and line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.defaults import EndEvent
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import MultiInstanceTask
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser.process import VALIDATOR
from SpiffWorkflow.spiff.specs.defaults import UserTask

from app.engine.guards import PlatformParser

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
NSMAP = {"bpmn": BPMN_NS, "spiffworkflow": SPIFF_NS, "camunda": CAMUNDA_NS}
DECLARED = "declared"  # the task row's `form` when its fields come from the BPMN
_DTD = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_XML_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False
)


@dataclass(frozen=True)
class Problem:
    """One entry of an upload report."""

    severity: str  # "error" or "warning"
    message: str
    element: str | None = None
    line: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """The report entry as api.md shapes it."""
        return {"severity": self.severity, "element": self.element, "line": self.line, "message": self.message}


@dataclass(frozen=True)
class FormField:
    """One field of a task's form, as `camunda:formField` declares it (app/tasks/forms.py builds the schema)."""

    name: str
    label: str
    type: str
    default: str | None = None
    choices: tuple[tuple[str, str], ...] = ()
    # (constraint name, config or None) in document order: required, minlength, maxlength, min, max,
    # required_if (a safe expression over the submission), equals (the value the field must have).
    constraints: tuple[tuple[str, str | None], ...] = ()
    line: int | None = None
    # `camunda:properties` of the field: (id, value); `message` words the refusal of a required_if.
    properties: tuple[tuple[str, str], ...] = ()

    def constraint(self, name: str) -> str | None:
        """The config of a constraint ("" when it has none, None when the field lacks it)."""
        for found, config in self.constraints:
            if found == name:
                return config or ""
        return None

    @property
    def required(self) -> bool:
        """Whether every submission must carry the field."""
        return self.constraint("required") is not None


def form_of(task: etree._Element) -> tuple[FormField, ...] | None:
    """The fields a user task declares in `camunda:formData` (None when it declares no form)."""
    form = task.find("bpmn:extensionElements/camunda:formData", NSMAP)
    if form is None:
        return None
    return tuple(_form_field(el) for el in form.findall("camunda:formField", NSMAP))


def _form_field(el: etree._Element) -> FormField:
    choices = tuple((v.get("id") or "", v.get("name") or v.get("id") or "") for v in el.findall("camunda:value", NSMAP))
    constraints = tuple(
        ((c.get("name") or "").strip(), c.get("config"))
        for c in el.findall("camunda:validation/camunda:constraint", NSMAP)
    )
    name = (el.get("id") or "").strip()
    properties = tuple(
        (p.get("id") or "", p.get("value") or "") for p in el.findall("camunda:properties/camunda:property", NSMAP)
    )
    return FormField(
        name=name,
        label=(el.get("label") or name).strip(),
        type=(el.get("type") or "string").strip(),
        default=el.get("defaultValue"),
        choices=choices,
        constraints=constraints,
        line=el.sourceline,
        properties=properties,
    )


@dataclass(frozen=True)
class HumanTaskSpec:
    """What the platform needs to know about one user task of a process."""

    name: str
    title: str
    lane: str | None
    properties: dict[str, str] = field(default_factory=dict)
    documentation: str | None = None
    # The declared form (camunda:formData); None for versions made before forms lived in the BPMN.
    fields: tuple[FormField, ...] | None = None

    @property
    def form(self) -> str:
        """ "declared" for a form in the BPMN, else the legacy kind of older versions (decision, opinion, ...)."""
        if self.fields is not None:
            return DECLARED
        return self.properties.get("form", "opinion")

    @property
    def data_key(self) -> str:
        """Where a submission lands in the workflow data: the element id unless `data_key` says otherwise."""
        return self.properties.get("data_key", self.name)

    @property
    def carry(self) -> list[str]:
        """Names copied from the task's data into its submission (e.g. the department of a review instance)."""
        return [n.strip() for n in self.properties.get("carry", "").split(",") if n.strip()]


@dataclass
class Definition:
    """A parsed, executable process: the spec objects plus the platform's view of its human tasks."""

    key: str
    name: str
    spec: Any
    subprocess_specs: dict
    human_tasks: dict[str, HumanTaskSpec]
    end_results: dict[str, str]
    # Data names whose lists a multi-instance task fans out over -> that task's element id.
    fan_out: dict[str, str] = field(default_factory=dict)


class DefinitionError(Exception):
    """The BPMN cannot be turned into a Definition; `problems` says why."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems


def read_xml(data: bytes) -> tuple[etree._Element | None, list[Problem]]:
    """Parse bytes into an XML tree without DTDs, entities or network (problems instead of exceptions)."""
    if _DTD.search(data):
        return None, [Problem("error", "不允许 DOCTYPE 或 ENTITY 声明 DOCTYPE and ENTITY declarations are refused")]
    try:
        root = etree.fromstring(data, _XML_PARSER)
    except etree.XMLSyntaxError as exc:
        line = exc.position[0] if getattr(exc, "position", None) else None
        return None, [Problem("error", f"XML 格式不正确 not well-formed XML: {exc.msg}", line=line)]
    if root.tag != f"{{{BPMN_NS}}}definitions":
        return None, [
            Problem("error", f"根元素不是 bpmn:definitions the root element is {root.tag}", line=root.sourceline)
        ]
    return root, []


def schema_problems(root: etree._Element) -> list[Problem]:
    """Every XSD violation of the tree (BPMN 2.0 plus the spiffworkflow extension schema)."""
    tree = etree.ElementTree(root)
    VALIDATOR.preprocess(tree)
    schema = VALIDATOR.validator
    if schema.validate(tree):
        return []
    return [
        Problem("error", f"不符合 BPMN 2.0 规范 XSD violation: {e.message}", line=e.line)
        for e in list(schema.error_log)[:50]
    ]


def build(root: etree._Element, *, filename: str = "upload.bpmn") -> tuple[Definition | None, list[Problem]]:
    """Run SpiffWorkflow's parser over a checked tree and build the executable Definition."""
    parser = PlatformParser()
    try:
        parser.add_bpmn_xml(etree.ElementTree(root), filename=filename)
        key = _executable_process(root)
        spec = parser.get_spec(key)
        subprocess_specs = parser.get_subprocess_specs(key)
    except ValidationException as exc:
        line = exc.line_number if isinstance(exc.line_number, int) else None
        return None, [Problem("error", f"流程解析失败 parse error: {exc}", element=exc.id or None, line=line)]
    except (SpiffWorkflowException, KeyError, ValueError, TypeError, AttributeError) as exc:
        return None, [Problem("error", f"流程解析失败 parse error: {type(exc).__name__}: {exc}")]
    forms = {el.get("id"): form_of(el) for el in root.iter(f"{{{BPMN_NS}}}userTask")}
    human = {}
    ends = {}
    fan_out = {}
    for task_spec in spec.task_specs.values():
        props = dict(getattr(task_spec, "extensions", {}).get("properties", {}) or {})
        if isinstance(task_spec, UserTask):
            human[task_spec.bpmn_id] = HumanTaskSpec(
                name=task_spec.bpmn_id,
                title=task_spec.bpmn_name or task_spec.bpmn_id,
                lane=task_spec.lane,
                properties=props,
                documentation=task_spec.documentation,
                fields=forms.get(task_spec.bpmn_id),
            )
        elif isinstance(task_spec, EndEvent) and task_spec.bpmn_id and "result" in props:
            ends[task_spec.bpmn_id] = props["result"]
        if isinstance(task_spec, MultiInstanceTask) and task_spec.data_input is not None:
            fan_out[task_spec.data_input.bpmn_id] = task_spec.bpmn_id
    process = next(p for p in root.findall("bpmn:process", NSMAP) if p.get("id") == key)
    name = process.get("name") or key
    return Definition(key, name, spec, subprocess_specs, human, ends, fan_out), []


def _executable_process(root: etree._Element) -> str:
    processes = root.findall("bpmn:process", NSMAP)
    executable = [p for p in processes if p.get("isExecutable", "false").lower() == "true"] or processes
    if len(executable) != 1:
        raise ValueError(f"需要恰好一个可执行流程 exactly one executable process is required, found {len(executable)}")
    return executable[0].get("id")


def load_definition(data: bytes, *, filename: str = "stored.bpmn") -> Definition:
    """Parse stored, already-checked BPMN into a Definition (DefinitionError if it is not usable)."""
    root, problems = read_xml(data)
    if root is None:
        raise DefinitionError(problems)
    definition, problems = build(root, filename=filename)
    if definition is None:
        raise DefinitionError(problems)
    return definition
