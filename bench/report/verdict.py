"""The verdict: k6's own pass/fail on every threshold it was given (read from the summary export, so
the report never re-evaluates a limit), and the project's targets, which only the report judges."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, NamedTuple

from limits import Targets
from steps import best_clean

from .k6summary import endpoint_order, endpoint_rows, metric, num
from .markdown import fmt, pct
from .measures import duration_s, service_metrics

_EXPRESSION = re.compile(
    r"\s*(?P<stat>[a-z]+|p\(\d+(?:\.\d+)?\))\s*(?P<op><=|>=|==|!=|<|>)\s*(?P<limit>-?\d+(?:\.\d+)?)\s*"
)
_LABELS = {
    "http_req_duration": "http {stat} (all endpoints)",
    "http_req_failed": "http failed requests",
    "checks": "checks passed",
    "grpc_req_duration": "gRPC {stat}",
}
# Where a threshold's row goes: whole-run HTTP figures, then each endpoint, then gRPC, then the rest.
_PLACE = {"http_req_duration": 0, "http_req_failed": 1, "checks": 2, "grpc_req_duration": 4}
_ENDPOINT_PLACE, _OTHER_PLACE = 3, 5


class Threshold(NamedTuple):
    """A k6 threshold expression such as `p(95)<500`: the statistic, the comparison and the limit."""

    stat: str
    op: str
    limit: float

    @property
    def can_fail(self) -> bool:
        # Every statistic k6 reports here is ≥ 0: `max>=0` and the like only make k6 export a metric.
        return not (self.op == ">=" and self.limit <= 0)


def parse_threshold(expression: str) -> Threshold | None:
    match = _EXPRESSION.fullmatch(expression)
    return Threshold(match["stat"], match["op"], float(match["limit"])) if match else None


@dataclass(frozen=True, slots=True)
class Check:
    """One threshold: what k6 measured and whether it held."""

    threshold: str
    limit: str
    measured: float
    unit: str
    passed: bool


@dataclass(frozen=True, slots=True)
class Target:
    """One project target, measured and judged by the report."""

    threshold: str
    limit: str
    measured: str
    passed: bool


def evaluate_thresholds(summary: dict[str, Any]) -> list[Check]:
    """Every threshold in the summary export that could fail, with k6's verdict and the value it
    judged. Thresholds that cannot fail (`max>=0`, set only so that k6 exports a sub-metric) and
    endpoints the scenario never called get no row."""
    placed: list[tuple[tuple[int, Any], Check]] = []
    for key, values in summary.get("metrics", {}).items():
        timing = key.split("{", 1)[0].endswith("_duration")
        if not isinstance(values, dict) or (timing and values.get("count") == 0):
            continue
        for expression, crossed in (values.get("thresholds") or {}).items():
            parsed = parse_threshold(expression)
            if parsed is None:
                placed.append(
                    ((_OTHER_PLACE, key), Check(f"{key} {expression}", "", math.nan, "", not crossed))
                )
                continue
            if not parsed.can_fail:
                continue
            stat, op, limit = parsed
            measured = num(values.get("value" if stat == "rate" else stat))
            unit = " ms" if timing else ""
            if stat == "rate":
                measured, limit, unit = measured * 100, limit * 100, " %"
            label, place = _label(key, stat)
            check = Check(
                label, f"{op} {fmt(limit)}{unit}", measured, unit, not crossed and not math.isnan(measured)
            )
            placed.append((place, check))
    return [check for _, check in sorted(placed, key=lambda pc: pc[0])]


def _label(key: str, stat: str) -> tuple[str, tuple[int, Any]]:
    short = stat.replace("(", "").replace(")", "")  # p(95) → p95
    base, _, tags = key.partition("{")
    if tags.startswith("endpoint:"):
        endpoint = tags.removeprefix("endpoint:").rstrip("}")
        return f"{endpoint} {short}", (_ENDPOINT_PLACE, endpoint_order(endpoint))
    if tags or base not in _LABELS:
        return f"{key} {short}", (_OTHER_PLACE, key)
    return _LABELS[base].format(stat=short), (_PLACE[base], key)


def project_targets(result: dict[str, Any], targets: Targets) -> list[Target]:
    out: list[Target] = []
    summary = result.get("summary") or {}
    if result["name"] == "api":
        browse = metric(summary, "http_req_duration{endpoint:browse}")
        rows = {r["endpoint"]: r for r in endpoint_rows(summary)}
        if browse and "browse" in rows:
            total_rps = sum(r["requests"] for r in rows.values()) / duration_s(result)
            p95 = num(browse.get("p(95)"))
            ok = (
                total_rps >= 0.95 * targets.api_rps
                and p95 < targets.api_browse_p95_ms
                and rows["browse"]["success"] > 0.99
            )
            out.append(
                Target(
                    f"api ≥ {targets.api_rps:,.0f} req/s, GET challenges p95 < "
                    f"{targets.api_browse_p95_ms:.0f} ms",
                    f"≥ {targets.api_rps:,.0f} req/s, < {targets.api_browse_p95_ms:.0f} ms",
                    f"{total_rps:,.0f} req/s, {p95:.2f} ms",
                    ok,
                )
            )
    steps = result.get("step_search")
    if steps:
        svc, base = best_clean(steps["service"]), best_clean(steps["baseline"])
        out.append(
            Target(
                "clean event rate (durable)",
                f"≥ {targets.events_clean_rate:,.0f}/s",
                f"{svc:,.0f}/s",
                svc >= targets.events_clean_rate,
            )
        )
        share = svc / base if base else math.nan
        out.append(
            Target(
                "share of the do-nothing server's clean rate",
                f"≥ {targets.events_baseline_share:.0%}",
                pct(share),
                not math.isnan(share) and share >= targets.events_baseline_share,
            )
        )
    if result["name"] == "events":
        sm = service_metrics(result)
        per_flush = sm["events_per_flush_statement"] if sm else math.nan
        out.append(
            Target(
                "events per flush statement",
                f"≥ {targets.events_per_flush_statement:.0f}",
                fmt(per_flush) if not math.isnan(per_flush) else "not available",
                not math.isnan(per_flush) and per_flush >= targets.events_per_flush_statement,
            )
        )
    return out
