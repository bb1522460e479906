"""The automatic diagnosis of one scenario: what failed and the dominant cause, CPU saturation, other
load on the machine, and dropped iterations."""

from __future__ import annotations

import math
from typing import Any

from .k6summary import grpc_status_name, metric, num
from .markdown import fmt
from .measures import avg, other_cpu
from .verdict import Check


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
    if status.startswith("event_"):
        name = grpc_status_name(status.removeprefix("event_"))
        cause = {
            "RESOURCE_EXHAUSTED": "the write buffer was full",
            "UNAVAILABLE": "no commit within the acknowledgement bound",
            "INVALID_ARGUMENT": "the script sent malformed events",
        }.get(name, code)
        return f"{endpoint}: {count:,} events answered {name} inside their batch calls ({cause})"
    if status.startswith("grpc_"):
        name = grpc_status_name(status)
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


def _explain(failure: dict[str, Any], sizing: dict[str, Any]) -> str:
    return explain_failure(
        failure["endpoint"],
        str(failure["status"]),
        str(failure["errorCode"]),
        int(failure["count"]),
        sizing,
    )


def diagnose(result: dict[str, Any], checks: list[Check], sizing: dict[str, Any]) -> list[str]:
    out: list[str] = []
    failures = (result.get("timeseries") or {}).get("failures") or []
    for c in checks:
        if not c.passed:
            out.append(f"**{c.threshold}** failed: {fmt(c.measured)}{c.unit} (limit {c.limit}).")
    total_fail = sum(int(f["count"]) for f in failures)
    if failures:
        share = int(failures[0]["count"]) / total_fail if total_fail else 0
        out.append(f"Dominant failure ({share:.0%} of {total_fail:,}): {_explain(failures[0], sizing)}.")
        out += [f"Also: {_explain(f, sizing)}." for f in failures[1:3]]
    samples = result.get("samples") or []
    if samples:
        svc = avg(s["service_cpu"] for s in samples)
        machine = avg(s.get("machine_cpu", math.nan) for s in samples)
        if svc >= 85:
            out.append(
                f"The service process averaged {svc:.0f} % CPU: one core saturated (the event loop "
                "is single-threaded), so latency grows with queueing there."
            )
        other = avg(other_cpu(s) for s in samples)
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
    dropped = metric(result.get("summary") or {}, "dropped_iterations")
    if dropped and num(dropped.get("count")) > 0:
        out.append(
            f"k6 dropped {int(num(dropped.get('count'))):,} iterations: the arrival rate was not "
            "held (responses too slow for the VU pool)."
        )
    if not out:
        out.append("Every threshold passed; no failed requests.")
    return out
