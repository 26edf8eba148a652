"""The state machine's graph as a Mermaid flowchart, generated from the ASL definition.

Every state becomes a node and every transition an edge (Next, each Choice rule with its
condition, Default, each Catch with its error names); Parallel branches and Map processors
become subgraphs. Mermaid lays it out in the browser, so the graph follows the definition
whatever it contains. An execution's marks (passed, waiting, failed...) colour the nodes and
add a text marker to their labels; the transitions it took are drawn thicker.

Error paths are dashed. A Catch of every error (States.ALL) carries no label: the legend says
what a dashed line without one means, so the many such edges do not cover the graph with the
same words. A Catch of States.Timeout alone is a timer the definition plans for (a wait that
ends to send a reminder), drawn as a normal transition with a clock.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

# mark -> (text marker, Mermaid style); colour and words, never colour alone.
MARKS = {
    "passed": ("✓ passed", "fill:#e3f4e8,stroke:#1b7f3b,stroke-width:2px,color:#0b3d1c"),
    "running": ("▶ running", "fill:#e1effe,stroke:#1a5fb4,stroke-width:3px,color:#0b2d5c"),
    "waiting": ("◐ waiting", "fill:#fff3c4,stroke:#a05a00,stroke-width:3px,color:#4d2c00"),
    "timer": ("◔ timer fired", "fill:#eef2ff,stroke:#4f46e5,stroke-width:2px,color:#1e1b4b"),
    "caught": ("⚠ error caught", "fill:#ffe6d5,stroke:#c2410c,stroke-width:2px,color:#5c1d00"),
    "failed": ("✗ failed", "fill:#fde2e2,stroke:#b91c1c,stroke-width:3px,color:#5c0a0a"),
    "stopped": ("■ stopped", "fill:#eceff1,stroke:#37474f,stroke-width:3px,stroke-dasharray:5 3,color:#1f2a30"),
}
TAKEN_EDGE = "stroke:#1b7f3b,stroke-width:3px"
ERROR_EDGE = "stroke:#c2410c,stroke-width:1.5px"
ANY_ERROR = "States.ALL"
TIMEOUT = "States.Timeout"

_OPERATORS = {
    "Equals": "==",
    "GreaterThan": ">",
    "GreaterThanEquals": ">=",
    "LessThan": "<",
    "LessThanEquals": "<=",
    "Matches": "matches",
}


@dataclass
class Graph:
    lines: list[str] = field(default_factory=list)
    nodes: dict[str, str] = field(default_factory=dict)  # state name -> node id
    edges: list[tuple[str, str]] = field(default_factory=list)  # (from, to) node ids, in link order
    errors: list[int] = field(default_factory=list)  # link indexes of the error paths

    def node_id(self, name: str) -> str:
        if name not in self.nodes:
            self.nodes[name] = f"s{len(self.nodes)}"
        return self.nodes[name]

    def edge(self, source: str, target: str, label: str | None = None, *, error: bool = False) -> None:
        line = "-.->" if error else "-->"
        arrow = f' {line}|"{_escape(label)}"| ' if label else f" {line} "
        self.lines.append(f"  {source}{arrow}{target}")
        if error:
            self.errors.append(len(self.edges))
        self.edges.append((source, target))


def flowchart(definition: dict[str, Any] | str, marks: dict[str, tuple[str, str]] | None = None,
              path: list[str] | None = None, ended: bool = False) -> dict[str, Any]:
    """Mermaid source for the definition.

    marks: state name -> (mark, detail) with mark a key of MARKS; path: the states entered, in
    order (their transitions are drawn thicker); ended: the execution reached an end state.
    """
    if isinstance(definition, str):
        definition = json.loads(definition)
    marks = marks or {}
    graph = Graph(lines=["flowchart TD"])
    graph.lines.append('  start(["start"])')
    graph.lines.append('  finish(["end"])')
    graph.edges.append(("start", ""))  # link 0, drawn first; its target is known once the states are
    first = _states(graph, definition, marks, "finish", indent="  ")
    graph.edges[0] = ("start", first)
    graph.lines.insert(3, f"  start --> {first}")
    for mark, (_, style) in MARKS.items():
        graph.lines.append(f"  classDef {mark} {style}")
    graph.lines.append("  classDef terminal fill:#f1f3f5,stroke:#6b7280,color:#1f2937")
    graph.lines.append("  class start,finish terminal")
    for name, (mark, _) in marks.items():
        if name in graph.nodes and mark in MARKS:
            graph.lines.append(f"  class {graph.nodes[name]} {mark}")
    taken = _taken(graph, path or [], ended)
    errors = [index for index in graph.errors if index not in taken]
    if errors:
        graph.lines.append(f"  linkStyle {','.join(map(str, errors))} {ERROR_EDGE}")
    for index in taken:
        graph.lines.append(f"  linkStyle {index} {TAKEN_EDGE}")
    return {"source": "\n".join(graph.lines), "nodes": dict(graph.nodes), "taken": taken}


def _states(graph: Graph, machine: dict[str, Any], marks: dict[str, tuple[str, str]], end: str, indent: str) -> str:
    """Declare a (sub)machine's states and their edges; returns the id of its StartAt state."""
    states: dict[str, Any] = machine.get("States", {})
    for name, state in states.items():
        node = graph.node_id(name)
        kind = state.get("Type", "")
        if kind in ("Parallel", "Map"):
            _container(graph, name, state, marks, indent)
            continue
        graph.lines.append(f"{indent}{node}{_shape(kind, _label(name, state, marks.get(name)))}")
    for name, state in states.items():
        node = graph.nodes[name]
        kind = state.get("Type", "")
        if kind == "Choice":
            for rule in state.get("Choices", []):
                graph.edge(node, graph.node_id(rule["Next"]), choice_text(rule))
            if "Default" in state:
                graph.edge(node, graph.node_id(state["Default"]), "Default")
        elif "Next" in state:
            graph.edge(node, graph.node_id(state["Next"]))
        elif state.get("End") or kind in ("Succeed", "Fail"):
            graph.edge(node, end)
        for catcher in state.get("Catch", []):
            caught = catcher.get("ErrorEquals", [])
            target = graph.node_id(catcher["Next"])
            if is_timer(catcher):
                graph.edge(node, target, f"◔ {TIMEOUT}")
            elif caught == [ANY_ERROR]:
                graph.edge(node, target, error=True)  # the legend: a dashed line is "Catch: any error"
            else:
                graph.edge(node, target, f"Catch: {', '.join(caught)}", error=True)
    return graph.node_id(machine["StartAt"])


def resource_of(state: dict[str, Any]) -> str:
    """A Task's Resource: the ARN, or the template of an unresolved Fn::Sub (serverless.yml's)."""
    resource = state.get("Resource", "")
    if isinstance(resource, dict) and "Fn::Sub" in resource:
        resource = resource["Fn::Sub"]
        resource = resource[0] if isinstance(resource, list) and resource else resource
    return resource if isinstance(resource, str) else json.dumps(resource)


def starts_and_waits(resource: str) -> bool:
    """states:startExecution.sync (or .sync:2): the Task waits for the execution it starts (a child)."""
    return re.search(r":startExecution\.sync(:\d+)?$", resource) is not None


def is_timer(catcher: dict[str, Any]) -> bool:
    """A Catch of States.Timeout alone: the definition plans for the wait to end on its timer."""
    return catcher.get("ErrorEquals") == [TIMEOUT]


def _container(graph: Graph, name: str, state: dict[str, Any], marks: dict[str, tuple[str, str]], indent: str) -> None:
    """Parallel branches and a Map's item processor as subgraphs inside the state's own subgraph."""
    node = graph.nodes[name]
    graph.lines.append(f'{indent}subgraph {node}["{_label(name, state, marks.get(name))}"]')
    graph.lines.append(f"{indent}  direction TB")
    if state["Type"] == "Parallel":
        machines = state.get("Branches", [])
    else:
        machines = [state.get("ItemProcessor") or state.get("Iterator") or {"States": {}}]
    for index, machine in enumerate(machines):
        inner = f"{node}_{index}"
        title = f"branch {index + 1}" if state["Type"] == "Parallel" else "for each item"
        graph.lines.append(f'{indent}  subgraph {inner}["{title}"]')
        done = f"{inner}_done"
        graph.lines.append(f'{indent}    {done}(["done"])')
        first = _states(graph, machine, marks, done, indent + "    ")
        graph.lines.append(f'{indent}    {inner}_in((" "))')
        graph.edge(f"{inner}_in", first)
        graph.lines.append(f"{indent}  end")
    graph.lines.append(f"{indent}end")


def _shape(kind: str, label: str) -> str:
    if kind == "Choice":
        return '{"' + label + '"}'
    if kind in ("Succeed", "Fail"):
        return '(["' + label + '"])'
    if kind == "Task":
        return '("' + label + '")'
    return '["' + label + '"]'


def _label(name: str, state: dict[str, Any], mark: tuple[str, str] | None) -> str:
    kind = state.get("Type", "")
    resource = resource_of(state)
    subtitle = kind
    if kind == "Task" and resource.endswith(".waitForTaskToken"):
        subtitle = "Task · waits for a callback"
    elif kind == "Task" and starts_and_waits(resource):
        subtitle = "Task · starts an execution, waits for its end"
    elif kind == "Fail" and state.get("Error"):
        subtitle = f"Fail · {state['Error']}"
    parts = [f"<b>{_escape(name)}</b>", f"<small>{_escape(subtitle)}</small>"]
    if mark is not None and mark[0] in MARKS:
        marker = MARKS[mark[0]][0]
        parts.append(_escape(f"{marker}: {mark[1]}" if mark[1] else marker))
    return "<br/>".join(parts)


def choice_text(rule: dict[str, Any]) -> str:
    """A Choice rule in words: '$.input.x is numeric and $.input.y is numeric'."""
    if "Condition" in rule:  # JSONata
        return str(rule["Condition"])
    if "And" in rule:
        return " and ".join(_nested(inner) for inner in rule["And"])
    if "Or" in rule:
        return " or ".join(_nested(inner) for inner in rule["Or"])
    if "Not" in rule:
        return f"not {_nested(rule['Not'])}"
    variable = rule.get("Variable", "?")
    for key, value in rule.items():
        if key in ("Variable", "Next", "Comment"):
            continue
        if key.startswith("Is"):
            words = key[2:].lower()
            return f"{variable} is {'' if value else 'not '}{words}"
        operator = key.removesuffix("Path")
        for suffix, symbol in _OPERATORS.items():
            if operator.endswith(suffix):
                shown = value if key.endswith("Path") else json.dumps(value)
                return f"{variable} {symbol} {shown}"
        return f"{variable} {key} {json.dumps(value)}"
    return variable


def _nested(rule: dict[str, Any]) -> str:
    text = choice_text(rule)
    return f"({text})" if any(key in rule for key in ("And", "Or")) else text


def _taken(graph: Graph, path: list[str], ended: bool) -> list[int]:
    """Link indexes of the transitions between consecutive states entered."""
    ids = [graph.nodes[name] for name in path if name in graph.nodes]
    pairs = set(zip(ids, ids[1:]))
    if ids:
        pairs.add(("start", ids[0]))
        if ended:
            pairs.add((ids[-1], "finish"))
    return [index for index, edge in enumerate(graph.edges) if edge in pairs]


def _escape(text: str) -> str:
    """Text inside a quoted Mermaid label: entity codes for what Mermaid or HTML would read."""
    return (
        str(text)
        .replace("&", "&amp;")
        .replace("#", "#35;")
        .replace('"', "#quot;")
        .replace("<", "#lt;")
        .replace(">", "#gt;")
        .replace("\n", " ")
    )
