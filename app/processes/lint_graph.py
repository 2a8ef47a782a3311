"""Loops in the sequence-flow graph: every loop needs a way out, a person (or a timer) to wait for,
and a declared bound.

The bound is a `max_rounds` property (1..50) on any element of the loop: with the marked elements
taken out, no cycle may remain. The engine's task tree has a depth limit of 1000 and each round of a
loop adds about one level per element of the loop (engine-notes.md: a 4-element loop stalls silently
near 250 rounds), so the estimated depth of a loop (elements x the product of its bounds) must stay
under DEPTH_BUDGET, half the limit, leaving room for the path before and after the loop.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from math import prod

from lxml import etree

from app.engine.parser import BPMN_NS, Problem
from app.processes.lint_rules import b, element_properties

MAX_ROUNDS = 50
DEPTH_BUDGET = 500
WAIT_STATES = {b("userTask"), b("intermediateCatchEvent"), b("boundaryEvent"), b("receiveTask")}
_SHOWN = 8  # elements named in a message before "..."

Graph = Mapping[str, list[str]]


def problems(root: etree._Element) -> list[Problem]:
    """Every loop without an exit, a wait state, or a bound, and every invalid max_rounds."""
    nodes, edges = flow_graph(root)
    limits, out = _declared_limits(nodes)
    in_loops: set[str] = set()
    for loop in _loops(list(nodes), edges):
        in_loops.update(loop)
        out += _loop_problems(loop, nodes, edges, limits)
    for node_id in sorted(set(limits) - in_loops, key=lambda n: nodes[n].sourceline or 0):
        out.append(
            Problem(
                "warning",
                "max_rounds 所在元素不在任何循环中，已忽略 max_rounds is set on an element outside every loop",
                node_id,
                nodes[node_id].sourceline,
            )
        )
    return out


def round_limits(root: etree._Element) -> dict[str, int]:
    """The valid max_rounds bound of each element that declares one (element id -> rounds)."""
    nodes, _ = flow_graph(root)
    return _declared_limits(nodes)[0]


def flow_graph(root: etree._Element) -> tuple[dict[str, etree._Element], dict[str, list[str]]]:
    """BPMN elements by id, and the edges of sequence flows plus activity -> attached boundary event."""
    nodes = {
        el.get("id"): el for el in root.iter(etree.Element) if el.get("id") and etree.QName(el).namespace == BPMN_NS
    }
    edges: dict[str, list[str]] = defaultdict(list)
    for flow in root.iter(b("sequenceFlow")):
        source, target = flow.get("sourceRef"), flow.get("targetRef")
        if source in nodes and target in nodes:
            edges[source].append(target)
    for event in root.iter(b("boundaryEvent")):
        host = event.get("attachedToRef")
        if host in nodes and event.get("id"):
            edges[host].append(event.get("id"))
    return nodes, edges


def strongly_connected(nodes: Iterable[str], edges: Graph) -> list[list[str]]:
    """Tarjan's strongly connected components, without recursion (a file may hold thousands of nodes)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    for start in nodes:
        if start in index:
            continue
        work = [(start, iter(edges.get(start, ())))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            for succ in successors:
                if succ not in index:
                    index[succ] = low[succ] = len(index)
                    stack.append(succ)
                    on_stack.add(succ)
                    work.append((succ, iter(edges.get(succ, ()))))
                    break
                if succ in on_stack:
                    low[node] = min(low[node], index[succ])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    components.append(_pop_component(node, stack, on_stack))
    return components


def _pop_component(root_node: str, stack: list[str], on_stack: set[str]) -> list[str]:
    component = []
    while True:
        node = stack.pop()
        on_stack.discard(node)
        component.append(node)
        if node == root_node:
            return component


def _loops(nodes: list[str], edges: Graph) -> list[list[str]]:
    """The components that contain a cycle, each in document order of `nodes`."""
    order = {n: i for i, n in enumerate(nodes)}
    loops = []
    for component in strongly_connected(nodes, edges):
        if len(component) > 1 or component[0] in edges.get(component[0], ()):
            loops.append(sorted(component, key=order.__getitem__))
    return sorted(loops, key=lambda loop: order[loop[0]])


def _declared_limits(nodes: dict[str, etree._Element]) -> tuple[dict[str, int], list[Problem]]:
    limits: dict[str, int] = {}
    out: list[Problem] = []
    for node_id, el in nodes.items():
        raw = element_properties(el).get("max_rounds")
        if raw is None:
            continue
        value = raw.strip()
        if value.isdigit() and 1 <= int(value) <= MAX_ROUNDS:
            limits[node_id] = int(value)
            continue
        out.append(
            Problem(
                "error",
                f"max_rounds 须为 1 到 {MAX_ROUNDS} 的整数，当前为 {raw!r} "
                f"max_rounds must be an integer 1..{MAX_ROUNDS}",
                node_id,
                el.sourceline,
            )
        )
    return limits, out


def _loop_problems(loop: list[str], nodes: dict, edges: Graph, limits: dict[str, int]) -> list[Problem]:
    members = set(loop)
    first = nodes[loop[0]]
    named = _names(loop)
    out = []
    if not any(t not in members for n in loop for t in edges.get(n, ())):
        out.append(
            Problem("error", f"循环没有出口，流程无法结束 the loop has no way out: {named}", loop[0], first.sourceline)
        )
    if not any(nodes[n].tag in WAIT_STATES for n in loop):
        out.append(
            Problem(
                "error",
                f"循环中没有用户任务或等待事件，引擎会空转 the loop has no user task or catch event, "
                f"so the engine would spin through it: {named}",
                loop[0],
                first.sourceline,
            )
        )
    out += _unbounded(loop, nodes, edges, limits)
    out += _too_deep(loop, nodes, edges, limits)
    return out


def _unbounded(loop: list[str], nodes: dict, edges: Graph, limits: dict[str, int]) -> list[Problem]:
    rest = [n for n in loop if n not in limits]
    kept = set(rest)
    sub_edges = {n: [t for t in edges.get(n, ()) if t in kept] for n in rest}
    out = []
    for cycle in _loops(rest, sub_edges):
        gateways = [n for n in cycle if nodes[n].tag == b("exclusiveGateway")]
        where = (gateways or cycle)[0]
        out.append(
            Problem(
                "error",
                f"循环没有轮次上限：请在循环中的某个元素上设置 spiffworkflow:property max_rounds（1-{MAX_ROUNDS}）"
                f" unbounded loop: set a max_rounds property (1..{MAX_ROUNDS}) on one of its elements: "
                f"{_names(cycle)}",
                where,
                nodes[where].sourceline,
            )
        )
    return out


def _too_deep(loop: list[str], nodes: dict, edges: Graph, limits: dict[str, int]) -> list[Problem]:
    bounds = [limits[n] for n in loop if n in limits]
    if not bounds:
        return []
    with_boundaries = {n for n in loop if any(nodes[t].tag == b("boundaryEvent") for t in edges.get(n, ()))}
    depth = (len(loop) + 2 * len(with_boundaries)) * prod(bounds)
    if depth <= DEPTH_BUDGET:
        return []
    where = next(n for n in loop if n in limits)
    return [
        Problem(
            "error",
            f"循环过深：约 {depth} 层，超过 {DEPTH_BUDGET}（引擎在 1000 层时会静默停止），请减小 max_rounds "
            f"the loop may nest about {depth} levels deep, over the budget of {DEPTH_BUDGET} "
            f"(the engine stalls silently at 1000): lower max_rounds",
            where,
            nodes[where].sourceline,
        )
    ]


def _names(ids: list[str]) -> str:
    shown = ", ".join(ids[:_SHOWN])
    return shown + (f" ... ({len(ids)})" if len(ids) > _SHOWN else "")
