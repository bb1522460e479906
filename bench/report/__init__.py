"""The bench report: a pure function from the collected run (collected.json) to Markdown.

Every number comes from the run's files: k6's summary export (including its verdict on each
threshold) and folded time series, the process samples, `/metrics` and PostgreSQL statistics before
and after. The modules: `k6summary` reads k6's export, `measures` derives figures from the rest,
`verdict` lists thresholds and project targets, `diagnosis` explains failures, `sections` renders.
"""

from __future__ import annotations

from typing import Any

from limits import TARGETS, Targets

from .diagnosis import diagnose
from .sections import config_section, scenario_section, verdict_section
from .verdict import evaluate_thresholds

__all__ = ["build_report"]


def build_report(run: dict[str, Any], targets: Targets = TARGETS) -> str:
    sizing = run.get("sizing", {})
    per_scenario = [(r, evaluate_thresholds(r.get("summary") or {})) for r in run.get("scenarios", [])]
    diagnosis = ["## Diagnosis", ""] + [
        f"- **{result['name']}**: " + " ".join(diagnose(result, checks, sizing))
        for result, checks in per_scenario
    ]
    parts = [
        f"# Bench report: {', '.join(r['name'] for r, _ in per_scenario) or 'no scenario'}",
        f"Reproduce with `{run.get('config', {}).get('command', '')}` (see docs/performance.md).",
        config_section(run),
        verdict_section(per_scenario, run, targets),
        "\n".join(diagnosis),
        *(scenario_section(result, run) for result, _ in per_scenario),
    ]
    return "\n\n".join(parts) + "\n"
