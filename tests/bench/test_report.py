"""The bench report (bench/report/) on a recorded run, and bench-compare on the same data."""

from __future__ import annotations

import copy
from typing import Any

import pytest

import compare
from limits import K6_THRESHOLDS, Targets
from report import build_report
from report.k6summary import endpoint_rows
from report.measures import service_metrics
from report.verdict import evaluate_thresholds, parse_threshold


def _by_label(summary: dict[str, Any]) -> dict[str, Any]:
    return {c.threshold: c for c in evaluate_thresholds(summary)}


def test_thresholds_carry_the_value_k6_judged(summary: dict[str, Any]) -> None:
    checks = _by_label(summary)
    browse = summary["metrics"]["http_req_duration{endpoint:browse}"]
    assert checks["browse p95"].measured == pytest.approx(browse["p(95)"])
    assert checks["browse p95"].limit == "< 500.00 ms"
    assert checks["http failed requests"].measured == pytest.approx(
        summary["metrics"]["http_req_failed"]["value"] * 100
    )
    assert checks["http failed requests"].limit == "< 1.00 %"
    assert all(c.passed for c in checks.values())
    # Whole-run HTTP figures first, then the endpoints in journey order.
    assert list(checks) == [
        "http p95 (all endpoints)",
        "http failed requests",
        "checks passed",
        "browse p95",
        "claim p95",
    ]


def test_the_verdict_is_k6s_not_a_second_evaluation(summary: dict[str, Any]) -> None:
    claim = summary["metrics"]["http_req_duration{endpoint:claim}"]
    assert claim["p(95)"] < 100
    claim["thresholds"]["p(95)<100"] = True  # k6 writes true for a threshold that was crossed
    assert not _by_label(summary)["claim p95"].passed


def test_thresholds_that_cannot_fail_and_endpoints_never_called_get_no_row(summary: dict[str, Any]) -> None:
    summary["metrics"]["http_req_duration{endpoint:initialize}"] = {
        "count": 0,
        "p(95)": 0,
        "thresholds": {"p(95)<100": False},
    }
    labels = " ".join(_by_label(summary))
    assert "initialize" not in labels
    assert "req_ok" not in labels  # its `rate>=0` only makes k6 export the sub-metric


def test_every_configured_threshold_gets_a_readable_row() -> None:
    """Build the export k6 would write for a scenario calling every endpoint with a limit: each
    threshold in bench/limits.py becomes one row with a plain label."""
    metrics: dict[str, Any] = {}
    for group, entries in K6_THRESHOLDS.items():
        for name, expressions in entries.items():
            key = f"http_req_duration{{endpoint:{name}}}" if group == "endpoints" else name
            metrics[key] = {"count": 10, "p(95)": 1.0, "value": 0.5, "thresholds": {}}
            for expression in expressions:
                parsed = parse_threshold(expression)
                assert parsed is not None and parsed.can_fail, expression
                metrics[key]["thresholds"][expression] = False
    checks = evaluate_thresholds({"metrics": metrics})
    assert len(checks) == sum(len(e) for entries in K6_THRESHOLDS.values() for e in entries.values())
    assert not [c.threshold for c in checks if "{" in c.threshold or "_req_" in c.threshold]


def test_endpoint_rows_have_every_statistic_and_the_success_rate(summary: dict[str, Any]) -> None:
    rows = {r["endpoint"]: r for r in endpoint_rows(summary)}
    assert set(rows) == {"browse", "claim"}
    ok = summary["metrics"]["req_ok{endpoint:claim}"]
    assert rows["claim"]["requests"] == ok["passes"] + ok["fails"]
    for stat in ("avg", "min", "med", "p(90)", "p(95)", "p(99)", "max"):
        assert rows["browse"][stat] == pytest.approx(
            summary["metrics"]["http_req_duration{endpoint:browse}"][stat]
        )


def test_report_has_every_section(run: dict[str, Any]) -> None:
    md = build_report(run)
    for heading in (
        "## Configuration",
        "## Verdict",
        "**PASS** — every threshold held.",
        "## Diagnosis",
        "## Scenario `api`",
        "## Scenario `events`",
        "### Latency per endpoint (ms)",
        "### Failures by status and errorCode",
        "#### Events",
        "#### Step search (clean = p95 < 50 ms, no errors, ≥ 95 % of the rate; 5 s per step)",
        "do-nothing grpclib server **500/s**",
        "### Server resources",
        "### Flushes and service metrics",
        "### PostgreSQL",
        "![latency](api-latency.png)",
        "![resources](events-resources.png)",
        "![step search](events-steps.png)",
    ):
        assert heading in md, heading
    # Numbers come from the run: the browse p95 of the export is printed with two decimals.
    browse = next(r for r in endpoint_rows(run["scenarios"][0]["summary"]) if r["endpoint"] == "browse")
    assert f"{browse['p(95)']:.2f}" in md


def test_diagnosis_names_the_failing_threshold_and_the_dominant_cause(run: dict[str, Any]) -> None:
    broken = copy.deepcopy(run)
    api = broken["scenarios"][0]
    failed = api["summary"]["metrics"]["http_req_failed"]
    failed["value"], failed["thresholds"]["rate<0.01"] = 0.2, True
    api["timeseries"]["failures"] = [
        {"endpoint": "random_select", "status": "400", "errorCode": "INSUFFICIENT_GOALS", "count": 412},
        {"endpoint": "claim", "status": "503", "errorCode": "UNAVAILABLE", "count": 7},
    ]
    md = build_report(broken)
    assert "**http failed requests** failed: 20.00 % (limit < 1.00 %)" in md
    assert "random_select failed 412 times with INSUFFICIENT_GOALS: the pool ran dry" in md
    assert "claim failed 7 times with UNAVAILABLE" in md
    assert "| random_select | 400 | `INSUFFICIENT_GOALS` | 412 |" in md
    assert "**FAIL**" in md


def test_project_targets_are_judged_against_the_targets_given(run: dict[str, Any]) -> None:
    row = "| api | api ≥ {rps} req/s, GET challenges p95 < 20 ms (project target) | ≥ {rps} req/s, < 20 ms |"
    assert row.format(rps="1,000") in build_report(run)  # the recorded run held 300 req/s
    relaxed = build_report(run, Targets(api_rps=300))
    line = next(x for x in relaxed.splitlines() if x.startswith(row.format(rps="300")))
    assert line.endswith("| 300 req/s, 7.28 ms | ✅ pass |")
    # A missed project target is reported, not a failed run.
    assert "**PASS**" in relaxed


def test_the_step_rule_shown_is_the_one_the_run_recorded(run: dict[str, Any]) -> None:
    run["scenarios"][1]["step_search"]["min_achieved_share"] = 0.9
    assert "no errors, ≥ 90 % of the rate" in build_report(run)


def test_service_metrics_are_deltas(run: dict[str, Any]) -> None:
    events = run["scenarios"][1]
    sm = service_metrics(events)
    assert sm is not None
    before, after = events["metrics_before"], events["metrics_after"]
    key = next(k for k in after if k.startswith("challenge_events_total") and 'outcome="received"' in k)
    assert sm["events_received"] == after[key] - before.get(key, 0)
    assert service_metrics({"name": "x", "metrics_after": None}) is None


def test_compare_reports_ratios(run: dict[str, Any]) -> None:
    faster = copy.deepcopy(run)
    metric = faster["scenarios"][0]["summary"]["metrics"]["http_req_duration{endpoint:browse}"]
    metric["p(95)"] = metric["p(95)"] / 2
    text = compare.compare(run, faster)
    line = next(row for row in text.splitlines() if row.startswith("| api/browse p(95) ms |"))
    assert "| 0.500 | better |" in line
    assert "| events/clean rate baseline | 500.200 | 500.200 | 1.000 |" in text
