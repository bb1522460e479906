"""The verdict: k6's own pass/fail on every threshold it was given (read from the summary export, so
the report never re-evaluates a limit), and the project's targets, which only the report judges."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, NamedTuple

from limits import Targets
from steps import best_clean

from . import cpu
from .k6summary import endpoint_order, endpoint_rows, metric, num
from .markdown import fmt, pct
from .measures import duration_s, logins_applied

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


def project_targets(result: dict[str, Any], run: dict[str, Any], targets: Targets) -> list[Target]:
    """The targets one scenario's record can judge (see `limits.Targets`)."""
    out: list[Target] = []
    name = result["name"]
    summary = result.get("summary") or {}
    if name == "api":
        out += _api_targets(result, targets)
    steps = result.get("step_search")
    if name == "events" and steps:
        svc, base = best_clean(steps["service"]), best_clean(steps["baseline"])
        out.append(_at_least("clean event rate (durable)", svc, targets.events_clean_rate, "/s"))
        out.append(
            _share("share of the do-nothing server's clean rate", svc, base, targets.events_baseline_share)
        )
    if name == "api" and steps:
        svc, base = best_clean(steps["service"]), best_clean(steps["baseline"])
        out.append(
            _share(
                "GET challenges: share of the do-nothing route's clean rate",
                svc,
                base,
                targets.api_baseline_share,
            )
        )
    if name == "events":
        service, baseline = cpu.service_per_event_us(result, run), cpu.baseline_per_event_us(result)
        rate = run.get("config", {}).get("event_rate", "?")
        out.append(
            _at_most(
                f"CPU per event at {rate}/s ÷ the do-nothing server's",
                service / baseline if baseline else math.nan,
                targets.unary_cpu_vs_baseline,
                "×",
                f" ({service:,.0f} vs {baseline:,.0f} µs)",
            )
        )
    if name == "batch":
        batch = metric(summary, "grpc_req_duration{endpoint:grpc_batch}") or {}
        size = run.get("config", {}).get("batch_size", "?")
        out.append(
            _below(f"p95 per call ({size} events)", num(batch.get("p(95)")), targets.batch_p95_ms, " ms")
        )
        if steps:
            out.append(
                _at_least(
                    "clean batch event rate (stretch)",
                    best_clean(steps["service"]),
                    targets.batch_clean_rate,
                    "/s",
                )
            )
    if name == "connections":
        out.append(
            _at_most(
                "CPU per event, most ÷ fewest connections",
                cpu.sweep_growth(result),
                targets.connections_cpu_growth,
                "×",
            )
        )
    applied = logins_applied(result, run)
    if applied is not None:
        found, acknowledged = applied
        share = found / acknowledged if acknowledged else math.nan
        out.append(
            Target(
                "every acknowledged login applied (database)",
                "= 100 %",
                f"{found:,.0f} of {acknowledged:,} ({pct(share)})",
                acknowledged > 0 and found >= acknowledged,
            )
        )
    return out


def run_targets(run: dict[str, Any], targets: Targets) -> list[Target]:
    """Targets comparing two scenarios of the same run: the batch path against the unary one."""
    by_name = {r["name"]: r for r in run.get("scenarios", [])}
    unary, batch = by_name.get("events"), by_name.get("batch")
    if unary is None or batch is None:
        return []
    gain = cpu.service_per_event_us(unary, run) / cpu.service_per_event_us(batch, run)
    out = [_at_least("events per service CPU-second, batch ÷ unary", gain, targets.batch_cpu_gain, "×")]
    unary_steps, batch_steps = unary.get("step_search"), batch.get("step_search")
    if unary_steps and batch_steps:
        unary_rate, batch_rate = best_clean(unary_steps["service"]), best_clean(batch_steps["service"])
        out.append(
            _at_least(
                "clean durable rate, batch ÷ unary",
                batch_rate / unary_rate if unary_rate else math.nan,
                targets.batch_rate_gain,
                "×",
                f" ({batch_rate:,.0f}/s vs {unary_rate:,.0f}/s)",
            )
        )
    return out


def _api_targets(result: dict[str, Any], targets: Targets) -> list[Target]:
    summary = result.get("summary") or {}
    browse = metric(summary, "http_req_duration{endpoint:browse}")
    rows = {r["endpoint"]: r for r in endpoint_rows(summary)}
    if not browse or "browse" not in rows:
        return []
    total_rps = sum(r["requests"] for r in rows.values()) / duration_s(result)
    p95 = num(browse.get("p(95)"))
    ok = (
        total_rps >= 0.95 * targets.api_rps
        and p95 < targets.api_browse_p95_ms
        and rows["browse"]["success"] > 0.99
    )
    return [
        Target(
            f"api ≥ {targets.api_rps:,.0f} req/s, GET challenges p95 < {targets.api_browse_p95_ms:.0f} ms",
            f"≥ {targets.api_rps:,.0f} req/s, < {targets.api_browse_p95_ms:.0f} ms",
            f"{total_rps:,.0f} req/s, {p95:.2f} ms",
            ok,
        )
    ]


def _number(value: float, unit: str) -> str:
    return f"{value:,.2f}{unit}" if unit == "×" else f"{value:,.0f}{unit}"


def _at_least(label: str, measured: float, limit: float, unit: str, detail: str = "") -> Target:
    return Target(
        label,
        f"≥ {_number(limit, unit)}",
        _number(measured, unit) + detail,
        not math.isnan(measured) and measured >= limit,
    )


def _at_most(label: str, measured: float, limit: float, unit: str, detail: str = "") -> Target:
    return Target(
        label,
        f"≤ {_number(limit, unit)}",
        _number(measured, unit) + detail,
        not math.isnan(measured) and measured <= limit,
    )


def _below(label: str, measured: float, limit: float, unit: str) -> Target:
    return Target(
        label,
        f"< {limit:,.0f}{unit}",
        f"{fmt(measured)}{unit}",
        not math.isnan(measured) and measured < limit,
    )


def _share(label: str, service: float, baseline: float, limit: float) -> Target:
    share = service / baseline if baseline else math.nan
    return Target(
        label,
        f"≥ {limit:.0%}",
        f"{pct(share)} ({service:,.0f}/s vs {baseline:,.0f}/s)",
        not math.isnan(share) and share >= limit,
    )
