"""Every pass/fail number of `make bench`, defined once.

- `K6_THRESHOLDS` are the product's load thresholds, in k6's own threshold syntax. `run.py` hands them to
  every k6 script (environment variable `BENCH_THRESHOLDS`), `k6/lib.js` applies the ones that fit what
  the script sends, and the report prints k6's own verdict on each from the summary export — so the
  report never re-evaluates a limit.
- `STEP_RULE` says when a step of a step search is clean; the run records it with the steps.
- `TARGETS` are the project's own goals beyond those thresholds, reported beside them.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

# Groups by what the script sends: `any` always, `http`/`grpc` when it makes such calls, and
# `endpoints` for the latency of one endpoint (`<http|grpc>_req_duration{endpoint:<name>}`).
K6_THRESHOLDS = MappingProxyType(
    {
        "any": {"checks": ["rate>0.99"]},
        "http": {"http_req_duration": ["p(95)<2000"], "http_req_failed": ["rate<0.01"]},
        "grpc": {"grpc_req_duration": ["p(95)<500"]},
        "endpoints": {
            "initialize": ["p(95)<100"],
            "browse": ["p(95)<500"],
            "progress": ["p(95)<500"],
            "batch_select": ["p(95)<50"],
            "random_select": ["p(95)<50"],
            "claim": ["p(95)<100"],
        },
    }
)


@dataclass(frozen=True, slots=True)
class StepRule:
    """A step is clean when its p95 is under the limit, no call failed and the load generator achieved
    at least `min_achieved_share` of the rate asked. The first `warmup_s` of each step (connections
    opening, k6 allocating VUs) are run but not judged."""

    p95_limit_ms: float = 50.0
    min_achieved_share: float = 0.95
    warmup_s: float = 3.0


STEP_RULE = StepRule()


@dataclass(frozen=True, slots=True)
class Targets:
    """The project's goals beyond the k6 thresholds, each judged from one run on one machine:

    - api: `api_rps` held (within 5 %) with GET challenges p95 under `api_browse_p95_ms`; its step
      search's clean rate at least `api_baseline_share` of the do-nothing Litestar route's.
    - events (unary): a clean durable rate of at least `events_clean_rate` and `events_baseline_share`
      of the do-nothing grpclib server's; at the constant rate, CPU per event at most
      `unary_cpu_vs_baseline` times the do-nothing server's under the same load.
    - batch: p95 per call under `batch_p95_ms`; with `events` in the same run, at least
      `batch_cpu_gain` times the events per service CPU-second of the unary path and a clean rate at
      least `batch_rate_gain` times the unary one (stretch: `batch_clean_rate`).
    - connections: CPU per event with the most connections at most `connections_cpu_growth` times
      that with the fewest.
    - every acknowledged login applied (the database cross-check), wherever events are sent.
    """

    api_rps: float = 1000.0
    api_browse_p95_ms: float = 20.0
    api_baseline_share: float = 0.80
    events_clean_rate: float = 1200.0
    events_baseline_share: float = 0.70
    unary_cpu_vs_baseline: float = 1.25
    batch_p95_ms: float = 100.0
    batch_cpu_gain: float = 20.0
    batch_rate_gain: float = 10.0
    batch_clean_rate: float = 20_000.0
    connections_cpu_growth: float = 1.2


TARGETS = Targets()
