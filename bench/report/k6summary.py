"""Reading k6's `--summary-export`: metrics and sub-metrics, and the per-endpoint rows."""

from __future__ import annotations

import math
import re
from typing import Any

# The order endpoints appear in, in tables and in the verdict.
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
# The k6 scripts record a failed gRPC call's status as grpc_<code>.
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
TREND_STATS = ("avg", "min", "med", "p(90)", "p(95)", "p(99)", "max")


def metric(summary: dict[str, Any], key: str) -> dict[str, Any] | None:
    value = summary.get("metrics", {}).get(key)
    return value if isinstance(value, dict) else None


def num(value: Any) -> float:
    return float(value) if isinstance(value, int | float) else math.nan


def rate_counts(rate: dict[str, Any] | None) -> tuple[int, int]:
    """(passes, fails) of a k6 Rate metric."""
    if not rate:
        return 0, 0
    return int(rate.get("passes", 0)), int(rate.get("fails", 0))


def grpc_status_name(status: str) -> str:
    """'grpc_14' → 'UNAVAILABLE'; anything else unchanged."""
    return GRPC_CODES.get(status.removeprefix("grpc_"), status)


def endpoint_order(endpoint: str) -> tuple[int, str]:
    return (ENDPOINT_ORDER.index(endpoint) if endpoint in ENDPOINT_ORDER else len(ENDPOINT_ORDER), endpoint)


def endpoint_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per endpoint that was called: kind (http/grpc), requests, success rate, trend stats."""
    metrics = summary.get("metrics", {})
    found: dict[str, dict[str, Any]] = {}
    for key, value in metrics.items():
        match = re.fullmatch(r"(http|grpc)_req_duration\{endpoint:([^}]+)\}", key)
        if match:
            found[match.group(2)] = {"kind": match.group(1), **value}
    rows = []
    for endpoint in sorted(found, key=endpoint_order):
        stats = found[endpoint]
        ok, bad = rate_counts(metrics.get(f"req_ok{{endpoint:{endpoint}}}"))
        total = ok + bad
        rows.append(
            {
                "endpoint": endpoint,
                "kind": stats["kind"],
                "requests": total,
                "success": ok / total if total else math.nan,
                **{k: num(stats.get(k)) for k in TREND_STATS},
            }
        )
    return [r for r in rows if r["requests"] > 0]
