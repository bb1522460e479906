"""Prerequisite references between goals: each must name another existing goal, with no cycles."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import NamedTuple


class PrerequisiteRef(NamedTuple):
    path: str  # JSON path of the list element, for messages
    goal_id: str


def check_prerequisites(
    goal_paths: Mapping[str, str],
    prerequisites: Mapping[str, tuple[str, Sequence[PrerequisiteRef]]],
) -> list[str]:
    """Problems with the prerequisite graph.

    `goal_paths` maps every known goal id to its goal's JSON path; `prerequisites` maps a goal id to its
    path and its prerequisite references, in file order.
    """
    problems: list[str] = []
    graph: dict[str, list[str]] = {}
    for goal_id, (_, refs) in prerequisites.items():
        edges = graph.setdefault(goal_id, [])
        for ref in refs:
            if ref.goal_id == goal_id:
                problems.append(f"{ref.path}: must not be the goal itself")
            elif ref.goal_id not in goal_paths:
                problems.append(f'{ref.path}: unknown goal "{ref.goal_id}"')
            else:
                edges.append(ref.goal_id)
    for cycle in _cycles(graph):
        problems.append(f"{goal_paths[cycle[0]]}.prerequisites: cycle {' -> '.join(cycle)}")
    return problems


def _cycles(graph: Mapping[str, Sequence[str]]) -> Iterator[list[str]]:
    """One cycle per back edge of a depth-first search in file order, each as a closed path a -> … -> a.

    Iterative, so a long prerequisite chain cannot hit the recursion limit.
    """
    finished: set[str] = set()
    for start in graph:
        if start in finished:
            continue
        trail = [start]
        on_trail = {start}
        stack = [iter(graph.get(start, ()))]
        while stack:
            successor = next(stack[-1], None)
            if successor is None:
                stack.pop()
                done = trail.pop()
                on_trail.discard(done)
                finished.add(done)
            elif successor in on_trail:
                yield [*trail[trail.index(successor) :], successor]
            elif successor not in finished:
                trail.append(successor)
                on_trail.add(successor)
                stack.append(iter(graph.get(successor, ())))
