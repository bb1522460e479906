"""The report's Markdown sections, each a pure function of the collected run or one scenario's record."""

from __future__ import annotations

import math
from typing import Any

import artifacts
from limits import STEP_RULE, Targets
from steps import best_clean, cpu_us_per_event

from . import cpu, events
from .k6summary import endpoint_rows, grpc_status_name
from .markdown import fmt, pct, table
from .measures import avg, duration_s, other_cpu, peak, service_metrics
from .verdict import Check, project_targets, run_targets


def config_section(run: dict[str, Any]) -> str:
    c, m, s = run.get("config", {}), run.get("machine", {}), run.get("sizing", {})
    rows = [
        ["command", f"`{c.get('command', '')}`"],
        ["scenarios", ", ".join(c.get("scenarios", []))],
        [
            "duration per scenario",
            f"{fmt(c.get('duration_s', math.nan), 0)} s"
            + (
                f" (events constant part {fmt(c.get('events_duration_s', math.nan), 0)} s)"
                if "events" in c.get("scenarios", [])
                else ""
            ),
        ],
        ["virtual users (sessions)", str(c.get("vus", ""))],
        ["event rate", f"{c.get('event_rate', '')}/s"],
        ["request rate (api)", f"{c.get('request_rate', '')}/s"],
        ["ack mode", str(c.get("ack_mode", ""))],
        ["step search", f"{c.get('step_rates', [])} at {fmt(c.get('step_s', math.nan), 0)} s each"],
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
    return "## Configuration\n\n" + table(["setting", "value"], rows)


def _result(passed: bool) -> str:
    return "✅ pass" if passed else "❌ FAIL"


def verdict_section(
    per_scenario: list[tuple[dict[str, Any], list[Check]]], run: dict[str, Any], targets: Targets
) -> str:
    """k6's verdict on every threshold, then the project targets; PASS only when every threshold held
    (a missed project target is reported, not failed)."""
    rows = [
        [result["name"], c.threshold, c.limit, f"{fmt(c.measured)}{c.unit}", _result(c.passed)]
        for result, checks in per_scenario
        for c in checks
    ]
    rows += [
        [result["name"], t.threshold + " (project target)", t.limit, t.measured, _result(t.passed)]
        for result, _ in per_scenario
        for t in project_targets(result, run, targets)
    ]
    rows += [
        ["batch vs events", t.threshold + " (project target)", t.limit, t.measured, _result(t.passed)]
        for t in run_targets(run, targets)
    ]
    every = all(c.passed for _, checks in per_scenario for c in checks)
    head = "**PASS** — every threshold held." if every else "**FAIL** — see the failing rows."
    return (
        "## Verdict\n\n"
        + head
        + "\n\n"
        + table(["scenario", "threshold", "limit", "measured", "result"], rows)
    )


def latency_section(result: dict[str, Any]) -> str:
    rows = endpoint_rows(result.get("summary") or {})
    if not rows:
        return "No requests recorded."
    dur = duration_s(result)
    body = [
        [
            r["endpoint"],
            f"{r['requests']:,}",
            fmt(r["requests"] / dur, 1),
            pct(r["success"]),
            *(fmt(r[k]) for k in ("avg", "min", "med", "p(90)", "p(95)", "p(99)", "max")),
        ]
        for r in rows
    ]
    return table(
        ["endpoint", "requests", "req/s", "success", "avg ms", "min", "med", "p90", "p95", "p99", "max"], body
    )


def failures_section(result: dict[str, Any]) -> str:
    failures = (result.get("timeseries") or {}).get("failures") or []
    if not failures:
        return "No failed requests."
    rows = []
    for f in failures[:20]:
        status = str(f["status"])
        if status.startswith("grpc_"):
            status = f"gRPC {grpc_status_name(status)}"
        elif status.startswith("event_"):
            status = f"gRPC {grpc_status_name(status.removeprefix('event_'))} (per event)"
        rows.append([f["endpoint"], status, f"`{f['errorCode']}`", f"{int(f['count']):,}"])
    return table(["endpoint", "status", "errorCode", "count"], rows)


def resources_section(result: dict[str, Any]) -> str:
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
        rows.append([label, f"{fmt(avg(vals), 1)} {unit}", f"{fmt(peak(vals), 1)} {unit}"])
    other = [other_cpu(s) for s in samples]
    rows.append(
        [
            "other processes on the machine (machine − the above)",
            f"{fmt(avg(other), 1)} %",
            f"{fmt(peak(other), 1)} %",
        ]
    )
    return table(["process", "average", "max"], rows) + f"\n\n{len(samples)} samples."


def metrics_section(result: dict[str, Any]) -> str:
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
                fmt(sm[k], 0) for k in ("events_ignored", "events_deduplicated", "events_rejected")
            )
        else:
            value = fmt(sm[key], digits)
        rows.append([label, value])
    return table(["service metric (after − before)", "value"], rows)


def db_section(result: dict[str, Any]) -> str:
    before = (result.get("pg_before") or {}).get("tables") or {}
    after = (result.get("pg_after") or {}).get("tables") or {}
    rows = []
    for relname in sorted(after):
        b, a = before.get(relname, {}), after[relname]
        d = {
            k: a.get(k, 0) - b.get(k, 0)
            for k in ("n_tup_ins", "n_tup_upd", "n_tup_hot_upd", "idx_scan", "seq_scan")
        }
        if not any(d.values()) and relname.startswith("schema"):
            continue
        rows.append(
            [relname, *(f"{d[k]:,}" for k in d), f"{a.get('n_live_tup', 0):,}", f"{a.get('n_dead_tup', 0):,}"]
        )
    text = (
        table(
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
        dur = duration_s(result)
        commits = db_a.get("xact_commit", 0) - db_b.get("xact_commit", 0)
        text += (
            f"\n\nTransactions committed: {commits:,} ({commits / dur:,.0f}/s); rolled back: "
            f"{db_a.get('xact_rollback', 0) - db_b.get('xact_rollback', 0):,}; deadlocks: "
            f"{db_a.get('deadlocks', 0) - db_b.get('deadlocks', 0)}."
        )
    statements = (result.get("pg_after") or {}).get("statements")
    if statements:
        text += "\n\nTop statements (pg_stat_statements):\n\n" + table(
            ["calls", "total ms", "rows", "query"],
            [
                [f"{s['calls']:,}", fmt(s["total_ms"]), f"{s['rows']:,}", f"`{s['query']}`"]
                for s in statements[:8]
            ],
        )
    else:
        text += "\n\npg_stat_statements: not available."
    return text


def steps_section(result: dict[str, Any]) -> str:
    """The step search table. The rule is the one the run recorded (older records lack some of it:
    today's rule fills in)."""
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
                    fmt(s["p95_ms"]),
                    fmt(s["p99_ms"]),
                    f"{s['errors']:,}",
                    f"{s.get('server_cpu_percent', math.nan):.0f} %",
                    fmt(cpu_us_per_event(s), 1),
                    "clean" if s["clean"] else "not clean",
                ]
            )
    svc, base = best_clean(steps["service"]), best_clean(steps["baseline"])
    ratio = f"{svc / base:.0%}" if base else "–"
    unit = "request" if result["name"] == "api" else "event"
    per_call = int(steps.get("events_per_call", 1))
    calls = f" in calls of {per_call} events" if per_call > 1 else ""
    share = steps.get("min_achieved_share", STEP_RULE.min_achieved_share)
    baseline = steps.get("baseline_server", "do-nothing grpclib server")
    return (
        f"#### Step search (clean = p95 < {steps['p95_limit_ms']:.0f} ms, no errors, ≥ {share * 100:.0f} % "
        f"of the rate; {steps['step_s']:.0f} s per step)\n\n"
        f"Highest clean rate{calls}: service **{svc:,.0f}/s**, {baseline} **{base:,.0f}/s** "
        f"(same run) → **{ratio}** of the baseline. A search that stops at its last rate has not found the "
        f"limit. CPU per {unit}: the server's CPU time over the step ÷ the {unit}s sent in it.\n\n"
        + table(
            [
                "server",
                "target/s",
                "achieved/s",
                "p95 ms",
                "p99 ms",
                "errors",
                "server CPU",
                f"CPU µs per {unit}",
                "verdict",
            ],
            rows,
        )
        + "\n".join(["", *_chart(result, "steps", "step search")])
    )


def _chart(result: dict[str, Any], kind: str, alt: str) -> list[str]:
    """The chart's image link, when the record has data for it (charts.py draws exactly those)."""
    return (
        ["", f"![{alt}]({artifacts.chart(result['name'], kind)})"]
        if kind in artifacts.charts_of(result)
        else []
    )


def scenario_section(result: dict[str, Any], run: dict[str, Any]) -> str:
    name = result["name"]
    section = [
        f"## Scenario `{name}`",
        "",
        f"k6 exit code {result.get('exit_code', '?')}; {result.get('duration_s', 0):.0f} s.",
        "",
        "### Latency per endpoint (ms)",
        "",
        latency_section(result),
        "",
        "### Failures by status and errorCode",
        "",
        failures_section(result),
    ]
    for optional in (
        events.events_section(result, run),
        cpu.cpu_section(result, run),
        cpu.sweep_section(result),
        steps_section(result),
    ):
        if optional:
            section += ["", optional]
    section += [
        "",
        "### Server resources",
        "",
        resources_section(result),
        *_chart(result, "resources", "resources"),
        "",
        "### Flushes and service metrics",
        "",
        metrics_section(result),
        "",
        "### PostgreSQL",
        "",
        db_section(result),
    ]
    over_time = _chart(result, "latency", "latency") + _chart(result, "throughput", "throughput")
    if over_time:
        section += ["", "### Over time", *over_time]
    if result.get("flame_graph"):
        section += ["", f"Profile at mid-run (py-spy): [{result['flame_graph']}]({result['flame_graph']})"]
    return "\n".join(section)
