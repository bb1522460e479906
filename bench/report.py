"""The bench report: a pure function from the collected run (collected.json) to Markdown.

Every number comes from the run's files: k6's summary export and folded time series, the process
samples, `/metrics` and PostgreSQL statistics before and after. Chart file names are the ones
`charts.py` writes beside the report.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

# SPEC §10 thresholds: (metric key in the k6 summary, stat, limit, "<" or ">", label).
HTTP_ENDPOINT_P95_MS = {
    "initialize": 100.0,
    "browse": 500.0,
    "progress": 500.0,
    "batch_select": 50.0,
    "random_select": 50.0,
    "claim": 100.0,
}
ENDPOINT_ORDER = (
    "initialize",
    "browse",
    "random_select",
    "batch_select",
    "progress",
    "claim",
    "grpc_login",
    "grpc_stat",
)
GRPC_CODES = {
    "0": "OK",
    "1": "CANCELLED",
    "2": "UNKNOWN",
    "3": "INVALID_ARGUMENT",
    "4": "DEADLINE_EXCEEDED",
    "5": "NOT_FOUND",
    "8": "RESOURCE_EXHAUSTED",
    "12": "UNIMPLEMENTED",
    "13": "INTERNAL",
    "14": "UNAVAILABLE",
    "16": "UNAUTHENTICATED",
}
# Project targets beyond SPEC §10 (issues 3 and 4), reported separately from the SPEC verdict.
API_TARGET_RPS, API_TARGET_P95_MS = 1000.0, 20.0
EVENTS_TARGET_RATE, EVENTS_BASELINE_SHARE, EVENTS_PER_FLUSH = 1200.0, 0.70, 50.0

Check = dict[str, Any]


def _metric(summary: dict[str, Any], key: str) -> dict[str, Any] | None:
    metrics = summary.get("metrics", {})
    value = metrics.get(key)
    return value if isinstance(value, dict) else None


def _num(value: Any) -> float:
    return float(value) if isinstance(value, int | float) else math.nan


def _fmt(value: float, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def _pct(value: float) -> str:
    return "–" if math.isnan(value) else f"{value * 100:.2f} %"


def _table(header: list[str], rows: Iterable[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _rate_counts(metric: dict[str, Any] | None) -> tuple[int, int]:
    """(passes, fails) of a k6 Rate metric in the summary export."""
    if not metric:
        return 0, 0
    return int(metric.get("passes", 0)), int(metric.get("fails", 0))


# --- thresholds ------------------------------------------------------------------------------------


def evaluate_thresholds(summary: dict[str, Any]) -> list[Check]:
    """SPEC §10 thresholds that apply to what this scenario sent, each with its measured value."""
    checks: list[Check] = []

    def add(label: str, measured: float, limit: float, below: bool, unit: str) -> None:
        ok = (measured < limit) if below else (measured > limit)
        checks.append(
            {
                "threshold": label,
                "limit": f"{'<' if below else '>'} {_fmt(limit)}{unit}",
                "measured": measured,
                "unit": unit,
                "pass": bool(ok) and not math.isnan(measured),
            }
        )

    dur = _metric(summary, "http_req_duration")
    if dur:
        add("http p95 (all endpoints)", _num(dur.get("p(95)")), 2000.0, True, " ms")
        failed = _metric(summary, "http_req_failed")
        if failed:
            add("http failed requests", _num(failed.get("value")) * 100, 1.0, True, " %")
    checks_metric = _metric(summary, "checks")
    if checks_metric:
        add("checks passed", _num(checks_metric.get("value")) * 100, 99.0, False, " %")
    for endpoint, limit in HTTP_ENDPOINT_P95_MS.items():
        m = _metric(summary, f"http_req_duration{{endpoint:{endpoint}}}")
        if m and _num(m.get("count", 1)) != 0 and not math.isnan(_num(m.get("p(95)"))):
            add(f"{endpoint} p95", _num(m.get("p(95)")), limit, True, " ms")
    grpc = _metric(summary, "grpc_req_duration")
    if grpc:
        add("gRPC p95", _num(grpc.get("p(95)")), 500.0, True, " ms")
    return checks


# --- per-endpoint table ----------------------------------------------------------------------------


def endpoint_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    metrics = summary.get("metrics", {})
    found: dict[str, dict[str, Any]] = {}
    for key, value in metrics.items():
        match = re.fullmatch(r"(http|grpc)_req_duration\{endpoint:([^}]+)\}", key)
        if match:
            found[match.group(2)] = {"kind": match.group(1), **value}
    rows = []
    for endpoint in sorted(found, key=lambda e: (ENDPOINT_ORDER.index(e) if e in ENDPOINT_ORDER else 99, e)):
        stats = found[endpoint]
        ok, bad = _rate_counts(metrics.get(f"req_ok{{endpoint:{endpoint}}}"))
        total = ok + bad
        rows.append(
            {
                "endpoint": endpoint,
                "kind": stats["kind"],
                "requests": total,
                "success": ok / total if total else math.nan,
                **{k: _num(stats.get(k)) for k in ("avg", "min", "med", "p(90)", "p(95)", "p(99)", "max")},
            }
        )
    return [r for r in rows if r["requests"] > 0]


def _duration_s(result: dict[str, Any]) -> float:
    return float(result.get("duration_s") or 0) or math.nan


# --- service metrics -------------------------------------------------------------------------------


def _metric_name(key: str) -> str:
    return key.split("{", 1)[0]


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
        if _metric_name(key) == name and label in key:
            total += value - before.get(key, 0.0)
            hit = True
    return total if hit else math.nan


def _ratio(a: float, b: float) -> float:
    return a / b if b and not math.isnan(b) else math.nan


def service_metrics(result: dict[str, Any]) -> dict[str, float] | None:
    """SPEC §9 metrics of this service (challenge_*), as deltas over the scenario."""
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
        "flush_avg_ms": _ratio(
            d("challenge_flush_duration_seconds_sum"), d("challenge_flush_duration_seconds_count")
        )
        * 1000,
        "flush_failures": d("challenge_flush_failures_total"),
        "flush_statements": statements,
        "rows_per_flush": _ratio(d("challenge_flush_rows_sum"), d("challenge_flush_rows_count")),
        "events_per_flush_statement": _ratio(received, statements),
        "ack_latency_avg_ms": _ratio(
            d("challenge_event_ack_latency_seconds_sum"), d("challenge_event_ack_latency_seconds_count")
        )
        * 1000,
        "db_requests_waiting_after": metric_delta(None, after, "challenge_db_requests_waiting"),
        "service_cpu_seconds": d("process_cpu_seconds_total"),
    }


# --- steps -----------------------------------------------------------------------------------------


def step_result(rate: float, step_s: float, summary: dict[str, Any], p95_limit_ms: float) -> dict[str, Any]:
    """One step of the events step search, judged clean when p95 < limit, no error, ≥ 95 % of the rate."""
    steady = _metric(summary, "grpc_req_duration{phase:steady}")
    grpc = steady or _metric(summary, "grpc_req_duration") or {}
    fails = (
        (_metric(summary, "failures{phase:steady}") if steady else None) or _metric(summary, "failures") or {}
    )
    dropped = _metric(summary, "dropped_iterations") or {}
    if steady:
        calls = sum(_rate_counts(_metric(summary, "req_ok{phase:steady}")))
    else:
        calls = int(_num((_metric(summary, "iterations") or {}).get("count", 0)))
    achieved = calls / step_s if step_s else math.nan
    p95 = _num(grpc.get("p(95)"))
    errors = int(_num(fails.get("count", 0)) or 0) if fails else 0
    clean = (not math.isnan(p95)) and p95 < p95_limit_ms and errors == 0 and achieved >= 0.95 * rate
    return {
        "rate": rate,
        "achieved_rate": achieved,
        "p95_ms": p95,
        "p99_ms": _num(grpc.get("p(99)")),
        "errors": errors,
        "dropped": int(_num(dropped.get("count", 0)) or 0) if dropped else 0,
        "clean": bool(clean),
    }


def best_clean(steps: list[dict[str, Any]]) -> float:
    clean = [s["achieved_rate"] for s in steps if s.get("clean")]
    return max(clean) if clean else 0.0


# --- diagnosis -------------------------------------------------------------------------------------


def explain_failure(endpoint: str, status: str, code: str, count: int, sizing: dict[str, Any]) -> str:
    what = f"{endpoint} failed {count:,} times with {code if code not in ('', 'NONE') else 'HTTP ' + status}"
    if code == "INSUFFICIENT_GOALS":
        return (
            f"{what}: the pool ran dry ({sizing.get('pool_goals', '?')} pool goals; the plan needed "
            f"≈ {sizing.get('pool_needed_per_user', '?')} per user) — generate a larger pool"
        )
    if status in ("503",) or code in ("UNAVAILABLE", "DATABASE_UNAVAILABLE"):
        return f"{what}: the service shed load (pool exhausted, buffer full or database down)"
    if status == "404" and code in ("NONE", "NOT_JSON", "NOT_FOUND", ""):
        return f"{what}: the route does not exist (404) — not implemented in this build"
    if status == "405":
        return f"{what}: wrong method for the route (405) — not implemented in this build"
    if code.startswith("NETWORK"):
        return f"{what}: connection-level errors (refused, reset or timed out)"
    if code == "GOAL_ALREADY_CLAIMED":
        return f"{what}: more claims than seeded claimable goals (claim slots reused)"
    if status.startswith("grpc_"):
        name = GRPC_CODES.get(status.removeprefix("grpc_"), status)
        if name == "UNIMPLEMENTED":
            return (
                f"{endpoint} failed {count:,} times with gRPC UNIMPLEMENTED: the event method is not served"
            )
        if name == "RESOURCE_EXHAUSTED":
            return f"{endpoint} failed {count:,} times with RESOURCE_EXHAUSTED: the write buffer was full"
        return f"{endpoint} failed {count:,} times with gRPC {name} ({code})"
    if status.startswith("5"):
        return f"{what}: server error"
    return what


def diagnose(result: dict[str, Any], checks: list[Check], sizing: dict[str, Any]) -> list[str]:
    out: list[str] = []
    failing = [c for c in checks if not c["pass"]]
    failures = (result.get("timeseries") or {}).get("failures") or []
    for c in failing:
        out.append(f"**{c['threshold']}** failed: {_fmt(c['measured'])}{c['unit']} (limit {c['limit']}).")
    total_fail = sum(int(f["count"]) for f in failures)
    if failures:
        top = failures[0]
        share = int(top["count"]) / total_fail if total_fail else 0
        out.append(
            f"Dominant failure ({share:.0%} of {total_fail:,}): "
            + explain_failure(
                top["endpoint"], str(top["status"]), str(top["errorCode"]), int(top["count"]), sizing
            )
            + "."
        )
        for f in failures[1:3]:
            out.append(
                "Also: "
                + explain_failure(
                    f["endpoint"], str(f["status"]), str(f["errorCode"]), int(f["count"]), sizing
                )
                + "."
            )
    samples = result.get("samples") or []
    if samples:
        svc = _avg(s["service_cpu"] for s in samples)
        machine = _avg(s.get("machine_cpu", math.nan) for s in samples)
        if svc >= 85:
            out.append(
                f"The service process averaged {svc:.0f} % CPU: one core saturated (the event loop "
                "is single-threaded), so latency grows with queueing there."
            )
        other = _avg(_other_cpu(s) for s in samples)
        if other >= 25:
            out.append(
                f"Processes outside the bench used {other:.0f} % CPU on average during the run: "
                "the figures are disturbed; rerun on a quiet machine."
            )
        if machine >= 170:
            out.append(
                f"The machine averaged {machine:.0f} % of 200 % CPU: k6, PostgreSQL and the service "
                "compete for the two cores."
            )
    dropped = _metric(result.get("summary") or {}, "dropped_iterations")
    if dropped and _num(dropped.get("count")) > 0:
        out.append(
            f"k6 dropped {int(_num(dropped.get('count'))):,} iterations: the arrival rate was not "
            "held (responses too slow for the VU pool)."
        )
    if not out:
        out.append("Every SPEC §10 threshold passed; no failed requests.")
    return out


def _other_cpu(sample: dict[str, float]) -> float:
    ours = sum(float(sample.get(k, 0)) for k in ("service_cpu", "postgres_cpu", "k6_cpu"))
    return max(0.0, float(sample.get("machine_cpu", math.nan)) - ours)


def _avg(values: Iterable[float]) -> float:
    vals = [v for v in values if not math.isnan(v)]
    return sum(vals) / len(vals) if vals else math.nan


def _max(values: Iterable[float]) -> float:
    vals = [v for v in values if not math.isnan(v)]
    return max(vals) if vals else math.nan


# --- sections --------------------------------------------------------------------------------------


def _config_section(run: dict[str, Any]) -> str:
    c, m, s = run.get("config", {}), run.get("machine", {}), run.get("sizing", {})
    rows = [
        ["command", f"`{c.get('command', '')}`"],
        ["scenarios", ", ".join(c.get("scenarios", []))],
        [
            "duration per scenario",
            f"{_fmt(c.get('duration_s', math.nan), 0)} s"
            + (
                f" (events constant part {_fmt(c.get('events_duration_s', math.nan), 0)} s)"
                if "events" in c.get("scenarios", [])
                else ""
            ),
        ],
        ["virtual users (sessions)", str(c.get("vus", ""))],
        ["event rate", f"{c.get('event_rate', '')}/s"],
        ["request rate (api)", f"{c.get('request_rate', '')}/s"],
        ["ack mode", str(c.get("ack_mode", ""))],
        ["step search", f"{c.get('step_rates', [])} at {_fmt(c.get('step_s', math.nan), 0)} s each"],
        ["machine", f"{m.get('cpus', '?')} CPUs, {m.get('memory_gb', '?')} GB, {m.get('platform', '')}"],
        ["load generator", f"{m.get('k6', 'k6')} on the same machine; Python {m.get('python', '')}"],
        [
            "catalog",
            f"{s.get('goals_in_catalog', '?')} goals ({s.get('pool_goals', 0)} in the random-select "
            f"pool; ≈ {s.get('pool_needed_per_user', 0)} needed per user for "
            f"{s.get('sessions_per_user', 0)} sessions)",
        ],
        [
            "seeded users",
            f"{s.get('api_users', 0):,} with {s.get('active_goals_per_api_user', 0)} active goals "
            f"({s.get('claimable_per_api_user', 0)} claimable); {s.get('seed_rows', 0):,} rows",
        ],
        ["run", f"{run.get('started_at', '')} → {run.get('finished_at', '')}"],
    ]
    return "## Configuration\n\n" + _table(["setting", "value"], rows)


def _verdict_section(run: dict[str, Any], per_scenario: list[tuple[dict[str, Any], list[Check]]]) -> str:
    rows = []
    for result, checks in per_scenario:
        for c in checks:
            rows.append(
                [
                    result["name"],
                    c["threshold"],
                    c["limit"],
                    f"{_fmt(c['measured'])}{c['unit']}",
                    "✅ pass" if c["pass"] else "❌ FAIL",
                ]
            )
    for result, _ in per_scenario:
        for target in project_targets(result):
            rows.append(
                [
                    result["name"],
                    target["threshold"] + " (project target)",
                    target["limit"],
                    target["measured"],
                    "✅ pass" if target["pass"] else "❌ FAIL",
                ]
            )
    every = all(c["pass"] for _, checks in per_scenario for c in checks)
    head = "**PASS** — every SPEC §10 threshold held." if every else "**FAIL** — see the failing rows."
    return (
        "## Verdict\n\n"
        + head
        + "\n\n"
        + _table(["scenario", "threshold", "limit", "measured", "result"], rows)
    )


def project_targets(result: dict[str, Any]) -> list[dict[str, Any]]:
    targets: list[dict[str, Any]] = []
    summary = result.get("summary") or {}
    if result["name"] == "api":
        browse = _metric(summary, "http_req_duration{endpoint:browse}")
        rows = {r["endpoint"]: r for r in endpoint_rows(summary)}
        if browse and "browse" in rows:
            total_rps = sum(r["requests"] for r in rows.values()) / _duration_s(result)
            p95 = _num(browse.get("p(95)"))
            ok = (
                total_rps >= 0.95 * API_TARGET_RPS
                and p95 < API_TARGET_P95_MS
                and rows["browse"]["success"] > 0.99
            )
            targets.append(
                {
                    "threshold": "issue 3: api ≥ 1,000 req/s, GET challenges p95 < 20 ms",
                    "limit": "≥ 1,000 req/s, < 20 ms",
                    "measured": f"{total_rps:,.0f} req/s, {p95:.2f} ms",
                    "pass": ok,
                }
            )
    steps = result.get("step_search")
    if steps:
        svc, base = best_clean(steps["service"]), best_clean(steps["baseline"])
        targets.append(
            {
                "threshold": "issue 4: clean event rate (durable)",
                "limit": f"≥ {EVENTS_TARGET_RATE:,.0f}/s",
                "measured": f"{svc:,.0f}/s",
                "pass": svc >= EVENTS_TARGET_RATE,
            }
        )
        share = svc / base if base else math.nan
        targets.append(
            {
                "threshold": "issue 4: share of the do-nothing server's clean rate",
                "limit": f"≥ {EVENTS_BASELINE_SHARE:.0%}",
                "measured": _pct(share),
                "pass": not math.isnan(share) and share >= EVENTS_BASELINE_SHARE,
            }
        )
    if result["name"] == "events":
        sm = service_metrics(result)
        per_flush = sm["events_per_flush_statement"] if sm else math.nan
        targets.append(
            {
                "threshold": "issue 4: events per flush statement",
                "limit": f"≥ {EVENTS_PER_FLUSH:.0f}",
                "measured": _fmt(per_flush) if not math.isnan(per_flush) else "not available",
                "pass": not math.isnan(per_flush) and per_flush >= EVENTS_PER_FLUSH,
            }
        )
    return targets


def _latency_section(result: dict[str, Any]) -> str:
    rows = endpoint_rows(result.get("summary") or {})
    if not rows:
        return "No requests recorded."
    dur = _duration_s(result)
    body = [
        [
            r["endpoint"],
            f"{r['requests']:,}",
            _fmt(r["requests"] / dur, 1),
            _pct(r["success"]),
            *(_fmt(r[k]) for k in ("avg", "min", "med", "p(90)", "p(95)", "p(99)", "max")),
        ]
        for r in rows
    ]
    return _table(
        ["endpoint", "requests", "req/s", "success", "avg ms", "min", "med", "p90", "p95", "p99", "max"], body
    )


def _failures_section(result: dict[str, Any]) -> str:
    failures = (result.get("timeseries") or {}).get("failures") or []
    if not failures:
        return "No failed requests."
    rows = []
    for f in failures[:20]:
        status = str(f["status"])
        if status.startswith("grpc_"):
            status = f"gRPC {GRPC_CODES.get(status.removeprefix('grpc_'), status)}"
        rows.append([f["endpoint"], status, f"`{f['errorCode']}`", f"{int(f['count']):,}"])
    return _table(["endpoint", "status", "errorCode", "count"], rows)


def _events_section(result: dict[str, Any], run: dict[str, Any]) -> str:
    summary = result.get("summary") or {}
    grpc = _metric(summary, "grpc_req_duration")
    if not grpc:
        return ""
    cfg = run.get("config", {})
    ok_login, bad_login = _rate_counts(_metric(summary, "req_ok{endpoint:grpc_login}"))
    ok_stat, bad_stat = _rate_counts(_metric(summary, "req_ok{endpoint:grpc_stat}"))
    sent = ok_login + bad_login + ok_stat + bad_stat
    dur = _duration_s(result)
    lines = [
        "#### Events",
        "",
        _table(
            ["measure", "value"],
            [
                ["target rate", f"{cfg.get('event_rate', '?')}/s"],
                ["achieved rate", f"{sent / dur:,.1f}/s ({sent:,} calls in {dur:.0f} s)"],
                [
                    "acknowledged OK",
                    f"{ok_login + ok_stat:,} ({ok_login:,} logins, {ok_stat:,} stat updates)",
                ],
                [
                    "gRPC p95 / p99",
                    f"{_fmt(_num(grpc.get('p(95)')))} ms / {_fmt(_num(grpc.get('p(99)')))} ms",
                ],
            ],
        ),
    ]
    sm = service_metrics(result)
    applied_rows = []
    if sm and not math.isnan(sm["events_applied"]):
        applied_rows.append(["events applied (service metric)", f"{sm['events_applied']:,.0f}"])
    if sm and not math.isnan(sm["events_received"]):
        applied_rows.append(["events received (service metric)", f"{sm['events_received']:,.0f}"])
    before, after = (result.get("pg_before") or {}), (result.get("pg_after") or {})
    per_user = run.get("sizing", {}).get("login_goals_per_api_user", 0)
    if (
        result["name"] in ("events", "combined")
        and before.get("login_progress_sum") is not None
        and after.get("login_progress_sum") is not None
        and per_user
    ):
        delta = after["login_progress_sum"] - before["login_progress_sum"]
        expected = ok_login * per_user
        applied_rows.append(
            [
                "login events applied (Σ progress of the seeded login goals ÷ login goals per user)",
                f"{delta / per_user:,.0f} of {ok_login:,} acknowledged "
                f"({_pct(delta / expected if expected else math.nan)})",
            ]
        )
    upd = _table_delta(result, "user_goal_progress", "n_tup_upd")
    if not math.isnan(upd):
        applied_rows.append(["rows updated in user_goal_progress", f"{upd:,.0f}"])
    if applied_rows:
        lines += ["", "Events sent vs applied:", "", _table(["measure", "value"], applied_rows)]
    return "\n".join(lines)


def _table_delta(result: dict[str, Any], table: str, column: str) -> float:
    before = ((result.get("pg_before") or {}).get("tables") or {}).get(table)
    after = ((result.get("pg_after") or {}).get("tables") or {}).get(table)
    if not before or not after:
        return math.nan
    return float(after.get(column, 0) - before.get(column, 0))


def _resources_section(result: dict[str, Any]) -> str:
    samples = result.get("samples") or []
    if not samples:
        return "No process samples."
    rows = []
    for label, key, unit in (
        ("service CPU", "service_cpu", "%"),
        ("service RSS", "service_rss_mb", "MB"),
        ("PostgreSQL CPU (all processes)", "postgres_cpu", "%"),
        ("PostgreSQL RSS", "postgres_rss_mb", "MB"),
        ("k6 CPU", "k6_cpu", "%"),
        ("machine CPU (of 200 %)", "machine_cpu", "%"),
    ):
        vals = [float(s.get(key, math.nan)) for s in samples]
        rows.append([label, f"{_fmt(_avg(vals), 1)} {unit}", f"{_fmt(_max(vals), 1)} {unit}"])
    other = [_other_cpu(s) for s in samples]
    rows.append(
        [
            "other processes on the machine (machine − the above)",
            f"{_fmt(_avg(other), 1)} %",
            f"{_fmt(_max(other), 1)} %",
        ]
    )
    return _table(["process", "average", "max"], rows) + f"\n\n{len(samples)} samples."


def _metrics_section(result: dict[str, Any]) -> str:
    sm = service_metrics(result)
    if sm is None:
        return "Service `/metrics`: not available in this build."
    labels = [
        ("events received", "events_received", 0),
        ("events applied", "events_applied", 0),
        ("events ignored / deduplicated / rejected", "", 0),
        ("flushes", "flushes", 0),
        ("flush duration avg (ms)", "flush_avg_ms", 2),
        ("flush failures", "flush_failures", 0),
        ("rows per flush", "rows_per_flush", 1),
        ("flush statements", "flush_statements", 0),
        ("query reduction (events ÷ flush statements)", "events_per_flush_statement", 1),
        ("event ack latency avg (ms)", "ack_latency_avg_ms", 2),
        ("requests waiting for a DB connection (after)", "db_requests_waiting_after", 0),
        ("service CPU seconds", "service_cpu_seconds", 1),
    ]
    rows = []
    for label, key, digits in labels:
        if not key:
            value = " / ".join(
                _fmt(sm[k], 0) for k in ("events_ignored", "events_deduplicated", "events_rejected")
            )
        else:
            value = _fmt(sm[key], digits)
        rows.append([label, value])
    return _table(["service metric (after − before)", "value"], rows)


def _db_section(result: dict[str, Any]) -> str:
    before = (result.get("pg_before") or {}).get("tables") or {}
    after = (result.get("pg_after") or {}).get("tables") or {}
    rows = []
    for table in sorted(after):
        b, a = before.get(table, {}), after[table]
        d = {
            k: a.get(k, 0) - b.get(k, 0)
            for k in ("n_tup_ins", "n_tup_upd", "n_tup_hot_upd", "idx_scan", "seq_scan")
        }
        if not any(d.values()) and table.startswith("schema"):
            continue
        rows.append(
            [table, *(f"{d[k]:,}" for k in d), f"{a.get('n_live_tup', 0):,}", f"{a.get('n_dead_tup', 0):,}"]
        )
    text = (
        _table(
            [
                "table",
                "inserts",
                "updates",
                "HOT updates",
                "index scans",
                "seq scans",
                "live rows",
                "dead rows (after)",
            ],
            rows,
        )
        if rows
        else "No table statistics."
    )
    db_b = (result.get("pg_before") or {}).get("database") or {}
    db_a = (result.get("pg_after") or {}).get("database") or {}
    if db_a:
        dur = _duration_s(result)
        commits = db_a.get("xact_commit", 0) - db_b.get("xact_commit", 0)
        text += (
            f"\n\nTransactions committed: {commits:,} ({commits / dur:,.0f}/s); rolled back: "
            f"{db_a.get('xact_rollback', 0) - db_b.get('xact_rollback', 0):,}; deadlocks: "
            f"{db_a.get('deadlocks', 0) - db_b.get('deadlocks', 0)}."
        )
    statements = (result.get("pg_after") or {}).get("statements")
    if statements:
        text += "\n\nTop statements (pg_stat_statements):\n\n" + _table(
            ["calls", "total ms", "rows", "query"],
            [
                [f"{s['calls']:,}", _fmt(s["total_ms"]), f"{s['rows']:,}", f"`{s['query']}`"]
                for s in statements[:8]
            ],
        )
    else:
        text += "\n\npg_stat_statements: not available."
    return text


def _steps_section(result: dict[str, Any]) -> str:
    steps = result.get("step_search")
    if not steps:
        return ""
    rows = []
    for label in ("baseline", "service"):
        for s in steps[label]:
            rows.append(
                [
                    label,
                    f"{s['rate']:,}",
                    f"{s['achieved_rate']:,.0f}",
                    _fmt(s["p95_ms"]),
                    _fmt(s["p99_ms"]),
                    f"{s['errors']:,}",
                    f"{s.get('server_cpu_percent', math.nan):.0f} %",
                    "clean" if s["clean"] else "not clean",
                ]
            )
    svc, base = best_clean(steps["service"]), best_clean(steps["baseline"])
    ratio = f"{svc / base:.0%}" if base else "–"
    return (
        f"#### Step search (clean = p95 < {steps['p95_limit_ms']:.0f} ms, no errors, ≥ 95 % of the rate; "
        f"{steps['step_s']:.0f} s per step)\n\n"
        f"Highest clean rate: service **{svc:,.0f}/s**, do-nothing grpclib server **{base:,.0f}/s** "
        f"(same run) → **{ratio}** of the baseline. A search that stops at its last rate has not found the "
        "limit.\n\n"
        + _table(
            ["server", "target/s", "achieved/s", "p95 ms", "p99 ms", "errors", "server CPU", "verdict"], rows
        )
        + f"\n\n![step search]({result['name']}-steps.png)"
    )


def build_report(run: dict[str, Any]) -> str:
    sizing = run.get("sizing", {})
    per_scenario = [(r, evaluate_thresholds(r.get("summary") or {})) for r in run.get("scenarios", [])]
    parts = [
        f"# Bench report: {', '.join(r['name'] for r, _ in per_scenario) or 'no scenario'}",
        f"Reproduce with `{run.get('config', {}).get('command', '')}` (see docs/performance.md).",
        _config_section(run),
        _verdict_section(run, per_scenario),
    ]
    diag = ["## Diagnosis", ""]
    for result, checks in per_scenario:
        diag += [f"- **{result['name']}**: " + " ".join(diagnose(result, checks, sizing))]
    parts.append("\n".join(diag))
    for result, _ in per_scenario:
        name = result["name"]
        section = [
            f"## Scenario `{name}`",
            "",
            f"k6 exit code {result.get('exit_code', '?')}; {result.get('duration_s', 0):.0f} s.",
            "",
            "### Latency per endpoint (ms)",
            "",
            _latency_section(result),
            "",
            "### Failures by status and errorCode",
            "",
            _failures_section(result),
        ]
        events = _events_section(result, run)
        if events:
            section += ["", events]
        steps = _steps_section(result)
        if steps:
            section += ["", steps]
        section += [
            "",
            "### Server resources",
            "",
            _resources_section(result),
            "",
            f"![resources]({name}-resources.png)",
            "",
            "### Flushes and service metrics",
            "",
            _metrics_section(result),
            "",
            "### PostgreSQL",
            "",
            _db_section(result),
            "",
            "### Over time",
            "",
            f"![latency]({name}-latency.png)",
            "",
            f"![throughput]({name}-throughput.png)",
        ]
        if result.get("flame_graph"):
            section += [
                "",
                f"Profile at mid-run (py-spy): [{result['flame_graph']}]({result['flame_graph']})",
            ]
        parts.append("\n".join(section))
    return "\n\n".join(parts) + "\n"
