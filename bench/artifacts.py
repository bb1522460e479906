"""The names of the files a run leaves in its results directory, shared by what writes them
(run.py, charts.py) and what reads or links them (compare.py, the report)."""

from __future__ import annotations

COLLECTED = "collected.json"
REPORT = "report.md"


def chart(scenario: str, kind: str) -> str:
    """A scenario's PNG chart; `kind` is latency, throughput, resources or steps."""
    return f"{scenario}-{kind}.png"
