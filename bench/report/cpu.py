"""What the service's CPU paid for: CPU time per event and per request, the service's and the do-nothing
servers' under the same load, and the connections sweep.

Every figure is CPU-seconds of one process (psutil, read before and after the load) divided by what
k6 sent in that time, warm-up included. A slow machine shows as slow baselines too, so compare the
service with its baseline of the same run, not with figures of another run.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

from .k6summary import metric, num
from .markdown import fmt, table


class Load(NamedTuple):
    """What one k6 run sent: events (a batch call carries several) and REST requests."""

    events: float
    requests: float


def sent(summary: dict[str, Any], batch_size: int) -> Load:
    """Events and requests of a scenario's k6 run, from its summary export."""
    grpc = num((metric(summary, "grpc_req_duration") or {}).get("count"))
    batch = num((metric(summary, "grpc_req_duration{endpoint:grpc_batch}") or {}).get("count"))
    http = num((metric(summary, "http_req_duration") or {}).get("count"))
    grpc, batch, http = (0.0 if math.isnan(x) else x for x in (grpc, batch, http))
    return Load(grpc - batch + batch * batch_size, http)


def per_unit_us(cpu_s: float | None, count: float) -> float:
    """CPU microseconds per event (or request); NaN when either is missing."""
    if cpu_s is None or not count:
        return math.nan
    return float(cpu_s) / count * 1e6


def service_per_event_us(result: dict[str, Any], run: dict[str, Any]) -> float:
    """The service's CPU per event over the scenario's constant part (NaN without events)."""
    load = sent(result.get("summary") or {}, int(run.get("config", {}).get("batch_size", 1)))
    return per_unit_us(result.get("service_cpu_s"), load.events)


def baseline_per_event_us(result: dict[str, Any]) -> float:
    """The do-nothing server's CPU per event (or request) under the same load, when it was run."""
    base = result.get("baseline_constant") or {}
    return per_unit_us(base.get("server_cpu_s"), base.get("events") or base.get("requests") or 0)


def sweep_rows(result: dict[str, Any]) -> list[dict[str, float]]:
    """The connections sweep: per connection count, CPU per event, p95 and the connections seen."""
    rows = []
    for entry in result.get("connection_sweep") or []:
        rows.append(
            {
                "connections": float(entry["connections"]),
                "cpu_us_per_event": per_unit_us(entry.get("server_cpu_s"), entry.get("events", 0)),
                "p95_ms": num(entry.get("p95_ms")),
                "events_per_s": float(entry.get("events", 0)) / float(entry.get("duration_s") or math.nan),
                "open_connections": num(entry.get("open_connections")),
            }
        )
    return rows


def sweep_growth(result: dict[str, Any]) -> float:
    """CPU per event at the most connections ÷ at the fewest (NaN with fewer than two counts)."""
    rows = sorted(sweep_rows(result), key=lambda r: r["connections"])
    if len(rows) < 2 or not rows[0]["cpu_us_per_event"]:
        return math.nan
    return rows[-1]["cpu_us_per_event"] / rows[0]["cpu_us_per_event"]


def cpu_section(result: dict[str, Any], run: dict[str, Any]) -> str:
    """The service's CPU per event and per request under the scenario's load, beside the do-nothing
    server's under the same load when the scenario has one."""
    if result.get("service_cpu_s") is None:
        return ""
    load = sent(result.get("summary") or {}, int(run.get("config", {}).get("batch_size", 1)))
    cpu_s = float(result["service_cpu_s"])
    rows = [
        [
            "service",
            f"{cpu_s:,.1f}",
            f"{load.events:,.0f}",
            f"{load.requests:,.0f}",
            fmt(per_unit_us(cpu_s, load.events), 1),
            fmt(per_unit_us(cpu_s, load.requests), 1),
        ]
    ]
    base = result.get("baseline_constant")
    if base:
        rows.append(
            [
                f"do-nothing server, same load ({base.get('duration_s', 0):.0f} s)",
                f"{base['server_cpu_s']:,.1f}",
                f"{base.get('events', 0):,}",
                f"{base.get('requests', 0):,}",
                fmt(per_unit_us(base["server_cpu_s"], base.get("events", 0)), 1),
                fmt(per_unit_us(base["server_cpu_s"], base.get("requests", 0)), 1),
            ]
        )
    mixed = load.events and load.requests
    note = " Events and requests share the one CPU figure: each column divides all of it." if mixed else ""
    return (
        "#### CPU per event and per request\n\n"
        "CPU-seconds of the process over the load (warm-up included) ÷ what k6 sent."
        + note
        + "\n\n"
        + table(["server", "CPU-s", "events", "requests", "CPU µs per event", "CPU µs per request"], rows)
    )


def sweep_section(result: dict[str, Any]) -> str:
    """The same event load held over different numbers of open gRPC connections."""
    rows = sweep_rows(result)
    if not rows:
        return ""
    growth = sweep_growth(result)
    return (
        "#### Open connections\n\n"
        f"CPU per event with the most connections ÷ with the fewest: **{fmt(growth)}×**.\n\n"
        + table(
            ["connections asked", "open (seen)", "events/s", "p95 ms", "CPU µs per event"],
            [
                [
                    f"{r['connections']:,.0f}",
                    fmt(r["open_connections"], 0),
                    f"{r['events_per_s']:,.0f}",
                    fmt(r["p95_ms"]),
                    fmt(r["cpu_us_per_event"], 1),
                ]
                for r in rows
            ],
        )
    )
