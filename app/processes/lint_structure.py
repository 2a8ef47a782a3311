"""One file, one process key: which process of a file is the one to run, whether its key is usable,
and whether it collides with the processes and matters the platform already knows.

A key that exists already is normal: the upload is its next version. A collision is anything that
would make two different processes hard to tell apart (docs/processes.md):
- more than one executable process in a file (which one would the key name?), or several processes
  of which none is marked executable;
- a key that is not plain ASCII (letters, digits, `_`, `.`, `-`; it appears in URLs and file names);
- a key a modeler generated (`Process_1`, `Process_0x1y2z3`): every untouched diagram has one, so two
  unrelated diagrams would silently become versions of each other;
- a key equal to an existing key except for letter case;
- a key equal to the code of a matter whose process is another key;
- another (non-executable) process of the file whose id is an existing key;
and, as warnings, a name equal to another process's name, or a known key under a new name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from lxml import etree

from app.engine.parser import Problem
from app.processes.lint_rules import b

KEY_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,99}$")
MODELER_DEFAULT_KEY = re.compile(r"^Process_(\d+|[0-9a-z]{7})$")
MAX_NAME = 200  # process_versions.name


@dataclass(frozen=True)
class Known:
    """What an upload is checked against: groups, existing processes and the matter catalog."""

    groups: frozenset[str] = frozenset()
    process_names: Mapping[str, str] = field(default_factory=dict)  # key -> name of its latest version
    matter_processes: Mapping[str, str] = field(default_factory=dict)  # matter code -> process key


def main_process(root: etree._Element) -> etree._Element | None:
    """The process the file's key names: its only executable process, or its only process."""
    processes = root.findall(b("process"))
    executable = [p for p in processes if (p.get("isExecutable") or "false").strip().lower() == "true"]
    candidates = executable or processes
    return candidates[0] if len(candidates) == 1 else None


def problems(root: etree._Element, known: Known) -> list[Problem]:
    """Problems of the file's processes and of its key."""
    processes = root.findall(b("process"))
    if not processes:
        return [Problem("error", "文件中没有流程 the file contains no bpmn:process", None, root.sourceline)]
    main = main_process(root)
    if main is None:
        return _ambiguous(processes)
    out = []
    if (main.get("isExecutable") or "false").strip().lower() != "true":
        out.append(
            Problem(
                "error",
                '流程未标记为可执行（isExecutable=false 是 bpmn-js 的默认值），请设置 isExecutable="true" '
                "the process is not marked executable (the bpmn-js default)",
                main.get("id"),
                main.sourceline,
            )
        )
    out += _key_problems(main, known)
    out += _other_processes(processes, main, known)
    return out


def _ambiguous(processes: list[etree._Element]) -> list[Problem]:
    executable = [p for p in processes if (p.get("isExecutable") or "").strip().lower() == "true"]
    shown = executable or processes
    ids = ", ".join(p.get("id") or "?" for p in shown)
    message = (
        f"一个文件只能有一个可执行流程，这里有 {len(shown)} 个：{ids}；请拆成多个文件，或把其余流程设为不可执行 "
        f"a file holds exactly one executable process; found {len(shown)}"
    )
    return [Problem("error", message, p.get("id"), p.sourceline) for p in shown[1:]]


def _key_problems(process: etree._Element, known: Known) -> list[Problem]:
    key, line = process.get("id") or "", process.sourceline
    name = (process.get("name") or "").strip() or key
    if not KEY_PATTERN.fullmatch(key):
        message = "流程标识须以英文字母开头，只含英文字母、数字、_ . -，最长 100 字符 invalid process key"
        return [Problem("error", f"{message}: {key!r}", key or None, line)]
    if MODELER_DEFAULT_KEY.match(key):
        message = (
            f"流程标识 {key} 是建模工具生成的默认值，请改为有意义的标识（如 food_business_license），"
            f"否则不相关的流程会互相覆盖 the key is a modeler default: give the process a meaningful id"
        )
        return [Problem("error", message, key, line)]
    out = []
    if len(name) > MAX_NAME:
        out.append(Problem("error", f"流程名称超过 {MAX_NAME} 个字符 the process name is too long", key, line))
    for other in known.process_names:
        if other != key and other.lower() == key.lower():
            message = f"流程标识与已有流程 {other} 仅大小写不同 the key differs from existing key {other} only by case"
            out.append(Problem("error", message, key, line))
    owner = known.matter_processes.get(key)
    if owner is not None and owner != key:
        message = (
            f"流程标识 {key} 与事项编码相同，而该事项使用流程 {owner} "
            f"the key equals the code of a matter whose process is {owner}"
        )
        out.append(Problem("error", message, key, line))
    out += _name_problems(key, name, line, known)
    return out


def _name_problems(key: str, name: str, line: int | None, known: Known) -> list[Problem]:
    previous = known.process_names.get(key)
    if previous is not None and previous != name:
        message = f"流程 {key} 的名称由 {previous!r} 改为 {name!r}，请确认不是上传错了文件 the process was renamed"
        return [Problem("warning", message, key, line)]
    clashes = sorted(k for k, n in known.process_names.items() if k != key and n == name)
    if clashes:
        message = f"流程名称 {name!r} 与已有流程 {', '.join(clashes)} 相同 another process has the same name"
        return [Problem("warning", message, key, line)]
    return []


def _other_processes(processes: list[etree._Element], main: etree._Element, known: Known) -> list[Problem]:
    out = []
    for process in processes:
        pid = process.get("id")
        if process is not main and pid in known.process_names:
            message = (
                f"文件中的另一个流程 {pid} 与已有流程标识相同，请在它自己的文件中上传 "
                f"another process of this file has the id of existing process {pid}"
            )
            out.append(Problem("error", message, pid, process.sourceline))
    return out
