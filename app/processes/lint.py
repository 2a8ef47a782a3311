"""The designer's report: every problem in an uploaded BPMN, each with element, line and a message.

Order of work: a DOCTYPE or ENTITY declaration is refused before any parsing; the bytes are parsed
without DTDs, entities or network; then everything that can safely run on a well-formed tree runs,
so the report is complete rather than stopping at the first problem: the XSD, the file's process
and key (lint_structure), single elements (lint_rules), expressions (lint_expressions), loops
(lint_graph), and SpiffWorkflow's own parser (which only builds specs, never runs anything). The
parser is skipped only when the file has no single process with a usable key to build. A Definition comes back only
when nothing is an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from threading import Lock

from lxml import etree

from app.engine.parser import BPMN_NS, SPIFF_NS, Definition, Problem, build, read_xml, schema_problems
from app.processes import lint_expressions, lint_forms, lint_graph, lint_rules, lint_structure
from app.processes.lint_structure import Known

_DTD = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_WIDE_BOMS = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")
_NAMESPACE_LABELS = {BPMN_NS: "bpmn:", SPIFF_NS: "spiffworkflow:"}
# SpiffWorkflow messages for problems the platform's own rules report (and explain better).
_EXPLAINED_BY_RULES = ("without condition", "loopMaximum or loopCondition", "was not found", "is not executable")
# The XSD validator keeps its error log on a shared object: one validation at a time.
_XSD_LOCK = Lock()

__all__ = ["Known", "Report", "check"]


@dataclass
class Report:
    """The result of checking one file: its key (when one could be read), problems, and definition."""

    key: str | None = None
    name: str | None = None
    problems: list[Problem] = field(default_factory=list)
    definition: Definition | None = None

    @property
    def ok(self) -> bool:
        """True when nothing in the report is an error."""
        return not any(p.severity == "error" for p in self.problems)

    def as_list(self) -> list[dict]:
        """The report entries as api.md shapes them."""
        return [p.as_dict() for p in self.problems]


def check(data: bytes, *, known: Known) -> Report:
    """Check uploaded bytes against the platform's rules and what it already knows."""
    refused = _declares_dtd(data)
    if refused:
        return Report(problems=refused)
    root, problems = read_xml(data)
    if root is None:
        return Report(problems=problems)
    main = lint_structure.main_process(root)
    report = Report()
    if main is not None:
        report.key = main.get("id")
        report.name = (main.get("name") or "").strip() or report.key
    problems = _xsd_problems(root)
    problems += lint_structure.problems(root, known)
    problems += lint_rules.problems(root, groups=known.groups)
    problems += lint_expressions.problems(root)
    problems += lint_forms.problems(root)
    problems += lint_graph.problems(root)
    if report.key is not None and lint_structure.KEY_PATTERN.fullmatch(report.key):
        definition, parse_problems = _parse(root)
        problems += _new_only(parse_problems, problems)
        report.definition = definition
    report.problems = _finish(problems, root)
    if not report.ok:
        report.definition = None
    return report


def _declares_dtd(data: bytes) -> list[Problem]:
    """A DOCTYPE or ENTITY declaration anywhere, in UTF-8-like or UTF-16/32 bytes."""
    texts = [data.decode("latin-1")]
    if data.startswith(_WIDE_BOMS) or b"\x00" in data[:4]:
        for encoding in ("utf-16", "utf-32"):
            try:
                texts.append(data.decode(encoding))
            except UnicodeDecodeError:
                continue
    if any(_DTD.search(t) for t in texts):
        message = "不允许 DOCTYPE 或 ENTITY 声明，文件未解析 DOCTYPE and ENTITY declarations are refused"
        return [Problem("error", message)]
    return []


def _xsd_problems(root: etree._Element) -> list[Problem]:
    """XSD violations with the element on their line and readable namespace prefixes."""
    with _XSD_LOCK:
        found = schema_problems(root)
    by_line: dict[int, str] = {}
    for el in root.iter(etree.Element):
        if el.sourceline is not None and el.sourceline not in by_line:
            owner = lint_rules.element_of(el)
            if owner:
                by_line[el.sourceline] = owner
    out = []
    for p in found:
        message = p.message
        for namespace, label in _NAMESPACE_LABELS.items():
            message = message.replace(f"{{{namespace}}}", label)
        out.append(Problem(p.severity, message, p.element or by_line.get(p.line or -1), p.line))
    return out


def _parse(root: etree._Element) -> tuple[Definition | None, list[Problem]]:
    """SpiffWorkflow's parser on the tree; whatever it raises becomes a report entry."""
    try:
        return build(root)
    except Exception as exc:  # noqa: BLE001 - third-party parser fed designer input: a report entry, never a 500
        return None, [Problem("error", f"流程解析失败 parse error: {type(exc).__name__}: {exc}")]


def _new_only(parse_problems: list[Problem], problems: list[Problem]) -> list[Problem]:
    """Parser problems, less those a platform rule already explains on the same element."""
    explained = {p.element for p in problems if p.severity == "error" and p.element}
    return [
        p
        for p in parse_problems
        if not (p.element in explained and any(fragment in p.message for fragment in _EXPLAINED_BY_RULES))
    ]


def _finish(problems: list[Problem], root: etree._Element) -> list[Problem]:
    """Each problem once, with its element's line when the rule did not know it, ordered by line."""
    lines = {el.get("id"): el.sourceline for el in root.iter(etree.Element) if el.get("id")}
    out = []
    for p in dict.fromkeys(problems):
        line = p.line if p.line is not None else lines.get(p.element)
        out.append(Problem(p.severity, p.message, p.element, line))
    return sorted(dict.fromkeys(out), key=lambda p: p.line or 0)
