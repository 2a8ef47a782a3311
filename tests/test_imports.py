"""No import circles between the domain packages' modules, call-time imports included.

Every `import` in app/ is read from the source (ast), wherever it stands: at the top of a module or
inside a function. A call-time import that dodges a circle still counts, so a circle cannot hide.
The graph is kept at module level: a package may sit both below the case runtime (its services)
and above it (its jobs, replay and routes), as docs/design.md describes; what must never happen
is a module that, through any chain of imports, imports itself.

Print the graph: `.venv/bin/python -m tests.test_imports` (`--modules` for every module edge).
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app"


def module_name(path: Path) -> str:
    """app/cases/runtime.py -> app.cases.runtime; app/cases/__init__.py -> app.cases."""
    parts = list(path.relative_to(APP.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def app_modules() -> dict[str, Path]:
    """Every module of the application by dotted name."""
    return {module_name(p): p for p in sorted(APP.rglob("*.py"))}


def _targets(node: ast.AST, importer: str, known: dict[str, Path]) -> list[str]:
    """The app modules an import statement loads (`from app.x import y` loads app.x.y when it is a module)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name in known]
    if not isinstance(node, ast.ImportFrom):
        return []
    if node.level:  # the app imports absolutely; a relative import would hide edges from this reader
        raise AssertionError(f"{importer}: relative import at line {node.lineno}")
    base = node.module or ""
    found = [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in known]
    if len(found) < len(node.names) and base in known:
        found.append(base)
    return found


def module_graph() -> dict[str, set[str]]:
    """importer -> the app modules it imports, anywhere in its source."""
    known = app_modules()
    graph: dict[str, set[str]] = {name: set() for name in known}
    for name, path in known.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            graph[name].update(t for t in _targets(node, name, known) if t != name)
    return graph


def domain_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """The edges between modules of different domain packages (app/<package>/...), shown as a summary."""
    edges: dict[str, set[str]] = defaultdict(set)
    for importer, imported in graph.items():
        for target in imported:
            a, b = _package(importer), _package(target)
            if a and b and a != b:
                edges[importer].add(target)
    return edges


def _package(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and (APP / parts[1]).is_dir()) else None


def cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle, or None."""
    try:
        tuple(TopologicalSorter(graph).static_order())
    except CycleError as exc:
        return list(exc.args[1])
    return None


def describe(graph: dict[str, set[str]], *, modules: bool = False) -> str:
    """The domain packages' import graph as text: package -> packages (with the module edges when asked)."""
    by_package: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for importer, imported in sorted(domain_graph(graph).items()):
        for target in sorted(imported):
            by_package[_package(importer)][_package(target)].add(f"{importer} -> {target}")
    lines = []
    for package in sorted(by_package):
        lines.append(f"{package} -> {', '.join(sorted(by_package[package]))}")
        if modules:
            lines += [
                f"    {edge}" for target in sorted(by_package[package]) for edge in sorted(by_package[package][target])
            ]
    return "\n".join(lines)


def test_no_import_circle_between_modules_call_time_imports_included():
    graph = module_graph()
    found = cycle(graph)
    assert found is None, "import circle: " + " -> ".join(found) + "\n\n" + describe(graph, modules=True)


def test_the_services_the_runtime_calls_do_not_import_the_cases_package():
    """Tasks, deadlines and audit services are below the case runtime: none imports cases' runtime or
    service (only the case table's model, which imports nothing of theirs)."""
    graph = module_graph()
    below = ("app.tasks.service", "app.deadlines.service", "app.audit.service", "app.tasks.groups")
    for module in below:
        reached = _reachable(graph, module)
        into_cases = sorted(m for m in reached if m.startswith("app.cases.") and m != "app.cases.models")
        assert into_cases == [], f"{module} reaches {into_cases}\n\n{describe(graph, modules=True)}"


def test_the_graph_reader_sees_call_time_imports():
    """The reader itself: an import inside a function body is an edge (fire_timers' engine import)."""
    graph = module_graph()
    assert "app.cases.runtime" in graph["app.deadlines.jobs"]
    assert "app.deadlines.scheduler" in graph["app"]  # create_app imports it inside a function


def _reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for nxt in graph.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


if __name__ == "__main__":
    graph = module_graph()
    print(describe(graph, modules="--modules" in sys.argv))
    found = cycle(graph)
    print("\nno import circle" if found is None else "\nimport circle: " + " -> ".join(found))
    sys.exit(0 if found is None else 1)
