"""Figures derived from one scenario's record: deltas of the service's `/metrics` and of PostgreSQL's
table statistics over the scenario, and averages of the process samples."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any


def duration_s(result: dict[str, Any]) -> float:
    return float(result.get("duration_s") or 0) or math.nan


def ratio(a: float, b: float) -> float:
    return a / b if b and not math.isnan(b) else math.nan


def avg(values: Iterable[float]) -> float:
    vals = [v for v in values if not math.isnan(v)]
    return sum(vals) / len(vals) if vals else math.nan


def peak(values: Iterable[float]) -> float:
    vals = [v for v in values if not math.isnan(v)]
    return max(vals) if vals else math.nan


def other_cpu(sample: dict[str, float]) -> float:
    """CPU of the processes on the machine that are not the service, PostgreSQL or k6."""
    ours = sum(float(sample.get(k, 0)) for k in ("service_cpu", "postgres_cpu", "k6_cpu"))
    return max(0.0, float(sample.get("machine_cpu", math.nan)) - ours)


def metric_delta(
    before: dict[str, float] | None, after: dict[str, float] | None, name: str, label: str = ""
) -> float:
    """Sum over label sets of (after − before) for the metric `name` whose labels contain `label`
    (e.g. 'outcome="applied"'); NaN when the service does not expose it."""
    if not after:
        return math.nan
    before = before or {}
    total, hit = 0.0, False
    for key, value in after.items():
        if key.split("{", 1)[0] == name and label in key:
            total += value - before.get(key, 0.0)
            hit = True
    return total if hit else math.nan


def service_metrics(result: dict[str, Any]) -> dict[str, float] | None:
    """The service's own metrics (challenge_*), as deltas over the scenario; None when it has none."""
    before, after = result.get("metrics_before"), result.get("metrics_after")
    if not after:
        return None

    def d(name: str, label: str = "") -> float:
        return metric_delta(before, after, name, label)

    received = d("challenge_events_total", 'outcome="received"')
    statements = d("challenge_flush_statements_total")
    return {
        "events_received": received,
        "events_applied": d("challenge_events_total", 'outcome="applied"'),
        "events_ignored": d("challenge_events_total", 'outcome="ignored"'),
        "events_deduplicated": d("challenge_events_total", 'outcome="deduplicated"'),
        "events_rejected": d("challenge_events_total", 'outcome="rejected"'),
        "flushes": d("challenge_flush_duration_seconds_count"),
        "flush_avg_ms": ratio(
            d("challenge_flush_duration_seconds_sum"), d("challenge_flush_duration_seconds_count")
        )
        * 1000,
        "flush_failures": d("challenge_flush_failures_total"),
        "flush_statements": statements,
        "rows_per_flush": ratio(d("challenge_flush_rows_sum"), d("challenge_flush_rows_count")),
        "events_per_flush_statement": ratio(received, statements),
        "ack_latency_avg_ms": ratio(
            d("challenge_event_ack_latency_seconds_sum"), d("challenge_event_ack_latency_seconds_count")
        )
        * 1000,
        "db_requests_waiting_after": metric_delta(None, after, "challenge_db_requests_waiting"),
        "service_cpu_seconds": d("process_cpu_seconds_total"),
    }


def table_delta(result: dict[str, Any], table: str, column: str) -> float:
    """after − before of one pg_stat_user_tables column; NaN when the table was not recorded."""
    before = ((result.get("pg_before") or {}).get("tables") or {}).get(table)
    after = ((result.get("pg_after") or {}).get("tables") or {}).get(table)
    if not before or not after:
        return math.nan
    return float(after.get(column, 0) - before.get(column, 0))


def acknowledged_logins(summary: dict[str, Any]) -> int:
    """Login events the service answered OK: unary calls, and the logins of batch calls."""
    unary = (summary.get("metrics", {}).get("req_ok{endpoint:grpc_login}") or {}).get("passes", 0)
    batched = (summary.get("metrics", {}).get("events_ok{kind:login}") or {}).get("count", 0)
    return int(unary) + int(batched)


def logins_applied(result: dict[str, Any], run: dict[str, Any]) -> tuple[float, int] | None:
    """(logins the database shows applied, logins acknowledged) over the scenario: Σ progress of the
    seeded login goals ÷ login goals per player; None when not measurable."""
    before, after = (result.get("pg_before") or {}), (result.get("pg_after") or {})
    per_user = run.get("sizing", {}).get("login_goals_per_api_user", 0)
    if (
        result["name"] not in ("events", "batch", "combined", "connections")
        or before.get("login_progress_sum") is None
        or after.get("login_progress_sum") is None
        or not per_user
    ):
        return None
    delta = after["login_progress_sum"] - before["login_progress_sum"]
    sweep = result.get("connection_sweep")
    if sweep:  # several k6 runs: the scenario's summary is only the last one's
        return delta / per_user, sum(int(entry.get("logins_ok", 0)) for entry in sweep)
    return delta / per_user, acknowledged_logins(result.get("summary") or {})
