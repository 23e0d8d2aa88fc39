"""`python3 run.py lineage <dataset> [--column COL]`: lineage from the event file, no Marquez.

Reads the JSON-lines file the platform's file transport writes and answers the two questions a
steward asks most: what feeds this dataset and what does it feed (jobs' inputs and outputs,
transitively), and which raw columns a column comes from (`columnLineage` facets,
transitively), with the PII tags the lineage carried.
"""

from __future__ import annotations

import difflib
import json
import sys
from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Node = tuple[str, str]  # (namespace, name)
Column = tuple[str, str, str]  # (namespace, name, field)


class LineageQueryError(Exception):
    """What the user asked for cannot be answered; the message says why and what to try."""


@dataclass
class LineageGraph:
    """Datasets and columns as the events describe them (a later event overrides facets)."""

    downstream: dict[Node, set[Node]] = field(default_factory=lambda: defaultdict(set))
    upstream: dict[Node, set[Node]] = field(default_factory=lambda: defaultdict(set))
    datasets: set[Node] = field(default_factory=set)
    columns: dict[Node, set[str]] = field(default_factory=lambda: defaultdict(set))
    column_inputs: dict[Column, list[Column]] = field(default_factory=dict)
    tags: dict[Column, list[str]] = field(default_factory=dict)

    @classmethod
    def from_events(cls, events: Iterable[dict[str, Any]]) -> LineageGraph:
        graph = cls()
        for event in events:
            inputs = [graph._add(d) for d in event.get("inputs") or []]
            outputs = [graph._add(d) for d in event.get("outputs") or []]
            if "dataset" in event:  # a DatasetEvent: facets only
                graph._add(event["dataset"])
            for source in inputs:
                for target in outputs:
                    if source != target:
                        graph.downstream[source].add(target)
                        graph.upstream[target].add(source)
        return graph

    def _add(self, dataset: dict[str, Any]) -> Node:
        node = (dataset.get("namespace", ""), dataset.get("name", ""))
        self.datasets.add(node)
        facets = dataset.get("facets") or {}
        fields = (facets.get("schema") or {}).get("fields") or []
        self.columns[node] |= {f["name"] for f in fields if "name" in f}
        lineage = (facets.get("columnLineage") or {}).get("fields") or {}
        for column, spec in lineage.items():
            self.columns[node].add(column)
            self.column_inputs[(*node, column)] = [
                (i["namespace"], i["name"], i["field"]) for i in spec.get("inputFields") or []]
        tagged: dict[Column, list[str]] = defaultdict(list)
        for tag in (facets.get("tags") or {}).get("tags") or []:
            if tag.get("field"):
                tagged[(*node, tag["field"])].append(f"{tag['key']}:{tag['value']}")
        if "tags" in facets:  # the dataset's latest tags replace what earlier events said
            self.tags = {k: v for k, v in self.tags.items() if k[:2] != node} | tagged
        return node

    def find(self, query: str) -> Node:
        """A dataset by its name, `namespace/name`, or a unique dotted suffix of its name."""
        exact = [n for n in self.datasets if query in (n[1], f"{n[0]}/{n[1]}")]
        found = exact or [n for n in self.datasets if n[1].endswith("." + query)]
        if len(found) == 1:
            return found[0]
        if found:
            names = ", ".join(sorted(f"{ns}/{name}" for ns, name in found))
            raise LineageQueryError(f"{query!r} is ambiguous: {names}")
        names = {n[1] for n in self.datasets} | {n[1].rsplit(".", 1)[-1] for n in self.datasets}
        close = difflib.get_close_matches(query, sorted(names), n=5, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise LineageQueryError(f"no dataset {query!r} in the lineage events{hint}")

    def reach(self, start: Node, edges: dict[Node, set[Node]]) -> dict[Node, int]:
        """Every dataset reachable from `start`, with its distance in jobs."""
        depth: dict[Node, int] = {}
        queue = deque([(start, 0)])
        while queue:
            node, distance = queue.popleft()
            for nxt in sorted(edges.get(node, ())):
                if nxt != start and nxt not in depth:
                    depth[nxt] = distance + 1
                    queue.append((nxt, distance + 1))
        return depth

    def origins(self, column: Column) -> tuple[list[Column], list[Column]]:
        """The columns `column` comes from that come from nothing further (the raw ones), and
        the columns passed on the way."""
        leaves: list[Column] = []
        through: list[Column] = []
        seen = {column}
        queue = deque(self.column_inputs.get(column, []))
        while queue:
            current = queue.popleft()
            if current in seen:
                continue
            seen.add(current)
            parents = self.column_inputs.get(current)
            (through if parents else leaves).append(current)
            queue.extend(parents or [])
        return sorted(leaves), sorted(through)


def load_events(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        raise LineageQueryError(
            f"no lineage events at {path}: run the main job first (python3 run.py main), or "
            "point --file at an events file (JSON lines)")
    events, bad = [], 0
    for line in path.read_text().splitlines():
        if line.strip():
            try:
                events.append(json.loads(line))
            except json.JSONDecodeError:
                bad += 1  # a line cut short by a crash must not hide the rest
    if bad:
        print(f"warning: skipped {bad} unreadable line(s) in {path}", file=sys.stderr)
    return events


def _label(graph: LineageGraph, column: Column) -> str:
    tags = graph.tags.get(column)
    return f"{column[1]}.{column[2]}" + (f"  [{', '.join(sorted(tags))}]" if tags else "")


def describe(graph: LineageGraph, query: str, column: str | None = None) -> list[str]:
    node = graph.find(query)
    lines = [f"{node[1]}  ({node[0]})"]
    if column is None:
        for title, edges in (("upstream", graph.upstream), ("downstream", graph.downstream)):
            found = graph.reach(node, edges)
            lines.append(f"{title} ({len(found)}):")
            ordered = sorted(found.items(), key=lambda item: (item[1], item[0][1]))
            lines += [f"  {depth}  {name}" for (_, name), depth in ordered] or ["  (none)"]
        return lines
    if column not in graph.columns.get(node, set()):
        close = difflib.get_close_matches(column, sorted(graph.columns.get(node, ())), n=5)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise LineageQueryError(f"{node[1]} has no column {column!r} in the events{hint}")
    leaves, through = graph.origins((*node, column))
    lines[0] = _label(graph, (*node, column)) + f"  ({node[0]})"
    lines.append(f"comes from ({len(leaves)} column(s) with no further lineage):")
    lines += [f"  {_label(graph, leaf)}" for leaf in leaves] or ["  (no column lineage)"]
    if through:
        lines.append("through:")
        lines += [f"  {_label(graph, step)}" for step in through]
    return lines


def run(dataset: str, column: str | None, path: Path) -> int:
    try:
        lines = describe(LineageGraph.from_events(load_events(path)), dataset, column)
    except LineageQueryError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print("\n".join(lines))
    return 0
