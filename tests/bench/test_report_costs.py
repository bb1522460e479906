"""The report's CPU figures on a recorded run: per event and per request beside the do-nothing
servers', the batch path against the unary one, the connections sweep, and the targets they feed."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from limits import Targets
from report import build_report
from report.cpu import baseline_per_event_us, sent, service_per_event_us, sweep_growth, sweep_rows
from report.measures import logins_applied
from report.verdict import project_targets, run_targets


def _scenario(run: dict[str, Any], name: str) -> dict[str, Any]:
    return next(r for r in run["scenarios"] if r["name"] == name)


def test_a_batch_call_counts_its_events(batch_run: dict[str, Any]) -> None:
    batch = _scenario(batch_run, "batch")
    calls = batch["summary"]["metrics"]["grpc_req_duration"]["count"]
    assert sent(batch["summary"], 100).events == calls * 100
    assert sent(batch["summary"], 100).requests == 0
    api = _scenario(batch_run, "api")
    assert sent(api["summary"], 100) == (0, api["summary"]["metrics"]["http_req_duration"]["count"])


def test_cpu_per_event_is_cpu_seconds_over_what_was_sent(batch_run: dict[str, Any]) -> None:
    events = _scenario(batch_run, "events")
    calls = events["summary"]["metrics"]["grpc_req_duration"]["count"]
    assert service_per_event_us(events, batch_run) == pytest.approx(events["service_cpu_s"] / calls * 1e6)
    base = events["baseline_constant"]
    assert baseline_per_event_us(events) == pytest.approx(base["server_cpu_s"] / base["events"] * 1e6)
    assert baseline_per_event_us({"name": "sessions"}) != baseline_per_event_us({"name": "sessions"})  # NaN


def test_the_report_shows_cpu_beside_the_baseline_and_per_step(batch_run: dict[str, Any]) -> None:
    md = build_report(batch_run)
    assert md.count("#### CPU per event and per request") == 3  # api, events, batch; not the sweep
    assert "| do-nothing server, same load (20 s) |" in md
    assert "Highest clean rate in calls of 100 events: service" in md
    assert "CPU µs per event | verdict |" in md and "CPU µs per request | verdict |" in md
    assert "![step search](batch-steps.png)" in md


def test_the_batch_path_is_judged_against_the_unary_path_of_the_same_run(batch_run: dict[str, Any]) -> None:
    rows = {t.threshold: t for t in run_targets(batch_run, Targets())}
    gain = rows["events per service CPU-second, batch ÷ unary"]
    unary, batch = _scenario(batch_run, "events"), _scenario(batch_run, "batch")
    expected = service_per_event_us(unary, batch_run) / service_per_event_us(batch, batch_run)
    assert gain.measured == f"{expected:,.2f}×" and gain.passed == (expected >= 20)
    assert rows["clean durable rate, batch ÷ unary"].measured == "3.02× (3,020/s vs 1,000/s)"
    assert not rows["clean durable rate, batch ÷ unary"].passed
    assert run_targets({"scenarios": [batch]}, Targets()) == []  # needs both scenarios


def test_the_connections_sweep_and_its_target(batch_run: dict[str, Any]) -> None:
    sweep = _scenario(batch_run, "connections")
    rows = sweep_rows(sweep)
    assert [(r["connections"], r["open_connections"]) for r in rows] == [(50, 50), (500, 500)]
    assert sweep_growth(sweep) == pytest.approx(rows[1]["cpu_us_per_event"] / rows[0]["cpu_us_per_event"])
    target = next(t for t in project_targets(sweep, batch_run, Targets()) if "connections" in t.threshold)
    assert target.passed
    assert not next(
        t
        for t in project_targets(sweep, batch_run, Targets(connections_cpu_growth=1.0))
        if "connections" in t.threshold
    ).passed
    assert "#### Open connections" in build_report(batch_run)


def test_acknowledged_logins_add_up_over_the_sweeps_runs(batch_run: dict[str, Any]) -> None:
    sweep = _scenario(batch_run, "connections")
    applied = logins_applied(sweep, batch_run)
    assert applied is not None
    found, acknowledged = applied
    assert acknowledged == sum(entry["logins_ok"] for entry in sweep["connection_sweep"])
    assert found == acknowledged
    lost = copy.deepcopy(sweep)
    lost["pg_after"]["login_progress_sum"] -= 3  # three acknowledged logins missing in the database
    target = next(t for t in project_targets(lost, batch_run, Targets()) if "login" in t.threshold)
    assert not target.passed


def test_unary_cpu_against_the_do_nothing_server(batch_run: dict[str, Any]) -> None:
    events = _scenario(batch_run, "events")
    label = "CPU per event at 500/s ÷ the do-nothing server's"
    ratio = service_per_event_us(events, batch_run) / baseline_per_event_us(events)
    strict = next(t for t in project_targets(events, batch_run, Targets()) if t.threshold == label)
    assert strict.measured.startswith(f"{ratio:.2f}×") and strict.passed == (ratio <= 1.25)
    loose = next(
        t
        for t in project_targets(events, batch_run, Targets(unary_cpu_vs_baseline=2))
        if t.threshold == label
    )
    assert loose.passed


def test_the_report_links_only_the_charts_its_data_draws(batch_run: dict[str, Any]) -> None:
    md = build_report(batch_run)
    assert "![resources](connections-resources.png)" in md
    # The sweep's k6 runs keep no per-second series: no latency or throughput chart is drawn.
    assert "connections-latency.png" not in md and "connections-throughput.png" not in md
    assert "![latency](batch-latency.png)" in md
