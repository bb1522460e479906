"""Judging a step of a step search from k6's summary, and the order of rates it visits."""

from __future__ import annotations

import math
from typing import Any

import pytest

from limits import StepRule
from steps import Step, best_clean, cpu_us_per_event, judge, search

RULE = StepRule(p95_limit_ms=50, min_achieved_share=0.95, warmup_s=3)


def steady(p95: float, calls: int, errors: int, latency: str = "grpc_req_duration") -> dict[str, Any]:
    return {
        "metrics": {
            f"{latency}{{phase:steady}}": {"p(95)": p95, "p(99)": p95 * 2},
            "req_ok{phase:steady}": {"passes": calls - errors, "fails": errors},
            "failures{phase:steady}": {"count": errors},
            # Warm-up calls count in the whole-run figures, never in the verdict.
            latency: {"p(95)": 999.0, "p(99)": 999.0},
            "failures": {"count": 50},
        }
    }


def test_a_step_is_clean_only_with_low_p95_no_errors_and_the_rate_achieved() -> None:
    assert judge(1000, 10, steady(12.0, 10_000, 0), RULE)["clean"]
    assert not judge(1000, 10, steady(60.0, 10_000, 0), RULE)["clean"]
    assert not judge(1000, 10, steady(12.0, 10_000, 3), RULE)["clean"]
    assert not judge(1000, 10, steady(12.0, 9_400, 0), RULE)["clean"]
    assert judge(1000, 10, steady(12.0, 9_500, 0), RULE)["clean"]


def test_the_rule_and_the_latency_metric_are_parameters() -> None:
    summary = steady(60.0, 10_000, 0, latency="http_req_duration")
    step = judge(1000, 10, summary, StepRule(p95_limit_ms=100), latency="http_req_duration")
    assert step["clean"]
    assert step["p95_ms"] == 60.0
    assert step["achieved_rate"] == 1000


def test_a_summary_without_phases_is_judged_on_all_calls() -> None:
    summary = {
        "metrics": {
            "grpc_req_duration": {"p(95)": 20.0, "p(99)": 30.0},
            "iterations": {"count": 5_000},
            "failures": {"count": 2},
            "dropped_iterations": {"count": 7},
        }
    }
    step = judge(500, 10, summary, RULE)
    assert (step["achieved_rate"], step["errors"], step["dropped"], step["clean"]) == (500, 2, 7, False)


def test_a_step_without_latency_figures_is_not_clean() -> None:
    assert not judge(500, 10, {}, RULE)["clean"]


def fake_steps(limit: int, visited: list[int]) -> Any:
    """A server that is clean up to `limit` events/s."""

    def run_step(rate: int) -> Step:
        visited.append(rate)
        return {
            "rate": rate,
            "achieved_rate": float(rate),
            "p95_ms": 10.0,
            "p99_ms": 20.0,
            "errors": 0,
            "dropped": 0,
            "clean": rate <= limit,
        }

    return run_step


@pytest.mark.parametrize(
    ("rates", "limit", "extra", "visited"),
    [
        ((500, 1000, 1500, 2000), 1200, 0, [500, 1000, 1500]),  # stops at the first unclean step
        ((500, 1000), 5000, 0, [500, 1000]),  # the service's search ends at the last rate asked
        ((500, 1000), 1600, 4, [500, 1000, 1500, 2000]),  # the baseline rises by the last increment
        ((500, 1000), 9000, 4, [500, 1000, 1500, 2000, 2500, 3000]),  # … at most `extra` more steps
        ((400,), 9000, 2, [400, 500, 600]),  # one rate asked: rise by a quarter, at least 100
    ],
)
def test_the_search_rises_until_a_step_is_not_clean(
    rates: tuple[int, ...], limit: int, extra: int, visited: list[int]
) -> None:
    seen: list[int] = []
    steps = search(rates, fake_steps(limit, seen), extra_steps=extra)
    assert seen == visited
    assert best_clean(steps) == max((r for r in visited if r <= limit), default=0)


def test_best_clean_is_zero_without_a_clean_step() -> None:
    assert best_clean([]) == 0.0
    assert best_clean([{"achieved_rate": 480.0, "clean": False}]) == 0.0


def test_a_batch_step_counts_events_not_calls() -> None:
    summary = steady(20.0, 1_000, 0)
    summary["metrics"]["grpc_req_duration"]["count"] = 1_300  # warm-up calls included
    step = judge(10_000, 10, summary, RULE, per_call=100)
    assert (step["achieved_rate"], step["sent"], step["clean"]) == (10_000, 130_000, True)
    assert not judge(20_000, 10, summary, RULE, per_call=100)["clean"]  # half the rate asked


def test_cpu_per_event_divides_the_steps_cpu_by_what_it_sent() -> None:
    step: dict[str, Any] = {"server_cpu_s": 2.6, "sent": 130_000}
    assert cpu_us_per_event(step) == pytest.approx(20.0)
    assert math.isnan(cpu_us_per_event({"sent": 10}))
