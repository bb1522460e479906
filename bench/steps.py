"""The step search, without k6: judging one step from its k6 summary, and which rate comes next.

A step search runs the same load at rising rates and stops at the first step that is not clean (see
`limits.StepRule`). The do-nothing baseline keeps rising past the last rate asked, because a share
measured against a baseline that never failed is only an upper bound.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, NotRequired, TypedDict

from limits import StepRule

# How many rates the baseline may add past the last one asked, each by the last increment.
BASELINE_EXTRA_STEPS = 4


class Step(TypedDict):
    rate: float
    achieved_rate: float
    p95_ms: float
    p99_ms: float
    errors: int
    dropped: int
    clean: bool
    # Events (or requests) sent over the whole step, warm-up included: what the server's CPU paid for.
    sent: NotRequired[int]
    # The server's CPU over the step (100 = one core), and its CPU-seconds, added by the runner.
    server_cpu_percent: NotRequired[float]
    server_cpu_s: NotRequired[float]


def _metric(summary: dict[str, Any], key: str) -> dict[str, Any]:
    value = summary.get("metrics", {}).get(key)
    return value if isinstance(value, dict) else {}


def _num(value: Any) -> float:
    return float(value) if isinstance(value, int | float) else math.nan


def judge(
    rate: float,
    step_s: float,
    summary: dict[str, Any],
    rule: StepRule,
    latency: str = "grpc_req_duration",
    per_call: int = 1,
) -> Step:
    """One step from its k6 summary export. `latency` is the duration metric judged; only the calls
    tagged phase=steady (after the warm-up) count. A summary without them (a k6 script that does not
    tag phases) is judged on all its calls. `rate` counts events, `per_call` of them in each call."""
    steady = _metric(summary, f"{latency}{{phase:steady}}")
    timing = steady or _metric(summary, latency)
    failures = (_metric(summary, "failures{phase:steady}") if steady else {}) or _metric(summary, "failures")
    if steady:
        ok = _metric(summary, "req_ok{phase:steady}")
        calls = int(ok.get("passes", 0)) + int(ok.get("fails", 0))
    else:
        calls = int(_num(_metric(summary, "iterations").get("count", 0)))
    achieved = calls * per_call / step_s if step_s else math.nan
    p95 = _num(timing.get("p(95)"))
    errors = int(_num(failures.get("count", 0)) or 0)
    clean = (
        not math.isnan(p95)
        and p95 < rule.p95_limit_ms
        and errors == 0
        and achieved >= rule.min_achieved_share * rate
    )
    return {
        "rate": rate,
        "achieved_rate": achieved,
        "p95_ms": p95,
        "p99_ms": _num(timing.get("p(99)")),
        "errors": errors,
        "dropped": int(_num(_metric(summary, "dropped_iterations").get("count", 0)) or 0),
        "clean": bool(clean),
        "sent": int(_num(_metric(summary, latency).get("count", 0)) or 0) * per_call,
    }


def search(rates: Sequence[int], run_step: Callable[[int], Step], *, extra_steps: int = 0) -> list[Step]:
    """Run `run_step` at each rate until a step is not clean. With `extra_steps`, a search still clean
    at the last rate goes on rising by the last increment (by a quarter of the rate, at least 100, when
    only one rate was asked), up to that many more steps."""
    steps: list[Step] = []
    planned = list(rates)
    for rate in planned:  # also visits the rates appended below
        step = run_step(rate)
        steps.append(step)
        if not step["clean"]:
            break
        if rate == planned[-1] and len(planned) < len(rates) + extra_steps:
            increment = rate - planned[-2] if len(planned) > 1 else max(rate // 4, 100)
            planned.append(rate + increment)
    return steps


def cpu_us_per_event(step: Step | dict[str, Any]) -> float:
    """The server's CPU time per event (or request) sent in the step; NaN when not recorded."""
    cpu_s, sent = step.get("server_cpu_s"), step.get("sent")
    return cpu_s / sent * 1e6 if isinstance(cpu_s, int | float) and sent else math.nan


def best_clean(steps: Sequence[dict[str, Any]]) -> float:
    """The highest achieved rate of a clean step, 0 when none was clean."""
    clean = [float(s["achieved_rate"]) for s in steps if s.get("clean")]
    return max(clean) if clean else 0.0
