"""The events a scenario sent, what the service acknowledged, and what the database shows applied."""

from __future__ import annotations

import math
from typing import Any

from . import cpu
from .k6summary import metric, num, rate_counts
from .markdown import fmt, pct, table
from .measures import duration_s, logins_applied, service_metrics, table_delta


def events_section(result: dict[str, Any], run: dict[str, Any]) -> str:
    summary = result.get("summary") or {}
    grpc = metric(summary, "grpc_req_duration")
    if not grpc:
        return ""
    cfg = run.get("config", {})
    batch = result["name"] == "batch"
    load = cpu.sent(summary, int(cfg.get("batch_size", 1)))
    dur = duration_s(result)
    if batch:  # events answered OK inside the batch calls
        logins, stats = (_count(summary, f"events_ok{{kind:{kind}}}") for kind in ("login", "stat"))
    else:
        logins, stats = (
            rate_counts(metric(summary, f"req_ok{{endpoint:{e}}}"))[0] for e in ("grpc_login", "grpc_stat")
        )
    rate = cfg.get("batch_rate" if batch else "event_rate", "?")
    calls = int(num(grpc.get("count")))
    lines = [
        "#### Events",
        "",
        table(
            ["measure", "value"],
            [
                ["target rate", f"{rate:,}/s" if isinstance(rate, int) else f"{rate}/s"],
                [
                    "achieved rate",
                    f"{load.events / dur:,.1f}/s ({load.events:,.0f} events in {calls:,} calls, {dur:.0f} s)",
                ],
                ["acknowledged OK", f"{logins + stats:,} ({logins:,} logins, {stats:,} stat updates)"],
                [
                    "gRPC p95 / p99 per call",
                    f"{fmt(num(grpc.get('p(95)')))} ms / {fmt(num(grpc.get('p(99)')))} ms",
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
    applied = logins_applied(result, run)
    if applied is not None:
        found, acknowledged = applied
        applied_rows.append(
            [
                "login events applied (Σ progress of the seeded login goals ÷ login goals per user)",
                f"{found:,.0f} of {acknowledged:,} acknowledged "
                f"({pct(found / acknowledged if acknowledged else math.nan)})",
            ]
        )
    upd = table_delta(result, "user_goal_progress", "n_tup_upd")
    if not math.isnan(upd):
        applied_rows.append(["rows updated in user_goal_progress", f"{upd:,.0f}"])
    if applied_rows:
        lines += ["", "Events sent vs applied:", "", table(["measure", "value"], applied_rows)]
    return "\n".join(lines)


def _count(summary: dict[str, Any], key: str) -> int:
    value = num((metric(summary, key) or {}).get("count"))
    return 0 if math.isnan(value) else int(value)
