"""The bench report builder (bench/report.py) on a recorded run: two short k6 runs on this machine
(api, and events with its step search) as collected by bench/run.py."""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

import compare  # noqa: E402
import report  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def run() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / "collected.json").read_text())
    return data


@pytest.fixture
def summary() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / "k6-summary-api.json").read_text())
    return data


def test_thresholds_come_from_the_k6_export(summary: dict[str, Any]) -> None:
    checks = {c["threshold"]: c for c in report.evaluate_thresholds(summary)}
    p95 = summary["metrics"]["http_req_duration{endpoint:browse}"]["p(95)"]
    assert checks["browse p95"]["measured"] == pytest.approx(p95)
    assert checks["browse p95"]["pass"] is (p95 < 500)
    assert checks["http failed requests"]["measured"] == pytest.approx(
        summary["metrics"]["http_req_failed"]["value"] * 100
    )
    # Endpoints the scenario never called get no row.
    assert "initialize p95" not in checks


def test_endpoint_rows_have_every_statistic_and_the_success_rate(summary: dict[str, Any]) -> None:
    rows = {r["endpoint"]: r for r in report.endpoint_rows(summary)}
    assert set(rows) == {"browse", "claim"}
    ok = summary["metrics"]["req_ok{endpoint:claim}"]
    assert rows["claim"]["requests"] == ok["passes"] + ok["fails"]
    for stat in ("avg", "min", "med", "p(90)", "p(95)", "p(99)", "max"):
        assert rows["browse"][stat] == pytest.approx(
            summary["metrics"]["http_req_duration{endpoint:browse}"][stat]
        )


def test_report_has_every_section(run: dict[str, Any]) -> None:
    md = report.build_report(run)
    for heading in (
        "## Configuration",
        "## Verdict",
        "## Diagnosis",
        "## Scenario `api`",
        "## Scenario `events`",
        "### Latency per endpoint (ms)",
        "### Failures by status and errorCode",
        "#### Events",
        "#### Step search",
        "### Server resources",
        "### Flushes and service metrics",
        "### PostgreSQL",
        "![latency](api-latency.png)",
        "![step search](events-steps.png)",
    ):
        assert heading in md, heading
    # Numbers come from the run: the browse p95 of the export is printed with two decimals.
    browse = next(
        r for r in report.endpoint_rows(run["scenarios"][0]["summary"]) if r["endpoint"] == "browse"
    )
    assert f"{browse['p(95)']:.2f}" in md


def test_diagnosis_names_the_failing_threshold_and_the_dominant_cause(run: dict[str, Any]) -> None:
    broken = copy.deepcopy(run)
    api = broken["scenarios"][0]
    api["summary"]["metrics"]["http_req_failed"]["value"] = 0.2
    api["timeseries"]["failures"] = [
        {"endpoint": "random_select", "status": "400", "errorCode": "INSUFFICIENT_GOALS", "count": 412},
        {"endpoint": "claim", "status": "503", "errorCode": "UNAVAILABLE", "count": 7},
    ]
    md = report.build_report(broken)
    assert "**http failed requests** failed" in md
    assert "random_select failed 412 times with INSUFFICIENT_GOALS: the pool ran dry" in md
    assert "claim failed 7 times with UNAVAILABLE" in md
    assert "| random_select | 400 | `INSUFFICIENT_GOALS` | 412 |" in md
    assert "**FAIL**" in md


def test_step_result_judges_p95_errors_and_achieved_rate() -> None:
    def summary(p95: float, calls: int, errors: int) -> dict[str, Any]:
        return {
            "metrics": {
                "grpc_req_duration{phase:steady}": {"p(95)": p95, "p(99)": p95 * 2},
                "req_ok{phase:steady}": {"passes": calls - errors, "fails": errors},
                "failures{phase:steady}": {"count": errors},
            }
        }

    assert report.step_result(1000, 10, summary(12.0, 10_000, 0), 50)["clean"]
    assert not report.step_result(1000, 10, summary(60.0, 10_000, 0), 50)["clean"]
    assert not report.step_result(1000, 10, summary(12.0, 10_000, 3), 50)["clean"]
    assert not report.step_result(1000, 10, summary(12.0, 8_000, 0), 50)["clean"]


def test_service_metrics_are_deltas(run: dict[str, Any]) -> None:
    events = run["scenarios"][1]
    sm = report.service_metrics(events)
    assert sm is not None
    before, after = events["metrics_before"], events["metrics_after"]
    key = next(k for k in after if k.startswith("challenge_events_total") and 'outcome="received"' in k)
    assert sm["events_received"] == after[key] - before.get(key, 0)
    assert report.service_metrics({"name": "x", "metrics_after": None}) is None


def test_compare_reports_ratios(run: dict[str, Any]) -> None:
    faster = copy.deepcopy(run)
    metric = faster["scenarios"][0]["summary"]["metrics"]["http_req_duration{endpoint:browse}"]
    metric["p(95)"] = metric["p(95)"] / 2
    text = compare.compare(run, faster)
    line = next(row for row in text.splitlines() if row.startswith("| api/browse p(95) ms |"))
    assert "| 0.500 | better |" in line
