"""The names of the files a run leaves in its results directory, shared by what writes them
(run.py, charts.py) and what reads or links them (compare.py, the report)."""

from __future__ import annotations

from typing import Any

COLLECTED = "collected.json"
REPORT = "report.md"


def chart(scenario: str, kind: str) -> str:
    """A scenario's PNG chart; `kind` is latency, throughput, resources or steps."""
    return f"{scenario}-{kind}.png"


def charts_of(result: dict[str, Any]) -> set[str]:
    """The kinds of chart a scenario's record has data for: what charts.py draws and the report links."""
    series = result.get("timeseries") or {}
    kinds = {"latency", "throughput"} if series.get("seconds") and series.get("endpoints") else set()
    if result.get("samples"):
        kinds.add("resources")
    if result.get("step_search"):
        kinds.add("steps")
    return kinds
