"""The scenarios and how one runs: reseed, record before, drive k6 while sampling, record after — and,
for a scenario that has one, the step search against a do-nothing server and then the service.

A new scenario is a k6 script in bench/k6 plus one `Scenario` entry below; one with a step search
names the script run at each step, the environment variable that sets its rate, the latency metric it
is judged on and the do-nothing server it is compared with.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import psutil

import collect
import generate
import processes
import steps
from k6run import K6
from limits import STEP_RULE
from options import Options
from processes import HOST, Postgres, Service, log

BENCH = Path(__file__).resolve().parent


@dataclass(frozen=True, slots=True)
class StepSearch:
    script: str
    rate_env: str
    # The k6 duration metric a step is judged on.
    latency: str
    # A script in bench/ that serves the same calls doing nothing, taking `--port`; and what the report
    # calls it.
    baseline: str
    baseline_server: str
    # How k6 is pointed at a server: GRPC_ADDR for "grpc", BASE_URL for "http".
    protocol: Literal["grpc", "http"]

    def target(self, port: int) -> dict[str, str]:
        if self.protocol == "grpc":
            return {"GRPC_ADDR": f"{HOST}:{port}"}
        return {"BASE_URL": f"http://{HOST}:{port}/challenge"}


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    script: str
    steps: StepSearch | None = None


EVENT_STEPS = StepSearch(
    "events.js", "EVENT_RATE", "grpc_req_duration", "baseline_grpc.py", "do-nothing grpclib server", "grpc"
)
SCENARIOS: Mapping[str, Scenario] = MappingProxyType(
    {
        s.name: s
        for s in (
            Scenario("sessions", "sessions.js"),
            Scenario("api", "api.js"),
            Scenario("events", "events.js", EVENT_STEPS),
            Scenario("combined", "combined.js"),
        )
    }
)


@dataclass(frozen=True, slots=True)
class Bench:
    """What every scenario runs against."""

    options: Options
    k6: K6
    db: Postgres
    service: Service
    # Where bench/generate.py wrote the run's data (seed.csv among it).
    data_dir: Path
    # The seeded login goals, whose Σ progress counts the applied login events.
    login_goals: tuple[str, ...]

    def reseed(self) -> None:
        generate.load_seed(self.db.conninfo, self.data_dir)


def run(bench: Bench, scenario: Scenario) -> dict[str, Any]:
    """One scenario, as the record collected.json keeps of it."""
    o, name, svc = bench.options, scenario.name, bench.service
    duration = o.search_scenario_s if scenario.steps else o.duration_s
    log(f"scenario {name}: {duration:.0f} s")
    bench.reseed()
    result: dict[str, Any] = {"name": name, "duration_s": duration}
    result["metrics_before"] = collect.scrape_metrics(svc.metrics_url)
    result["pg_before"] = collect.pg_stats(bench.db.conninfo, list(bench.login_goals))
    sampler = collect.Sampler(svc.pid, bench.db.data_dir, interval_s=o.sample_s)
    sampler.start()
    svg = o.out / f"flame-{name}.svg"
    profiler = (
        collect.profile_later(svc.pid, duration / 2 - 5, min(15, duration / 3), svg) if o.profile else None
    )
    env = {
        "DURATION": f"{int(duration)}s",
        "VUS": str(o.vus),
        "EVENT_RATE": str(o.event_rate),
        "REQUEST_RATE": str(o.request_rate),
    }
    k6 = bench.k6.run(scenario.script, o.out / name, env, duration)
    if profiler is not None:
        profiler.join(timeout=90)
    time.sleep(1.0)  # let the flusher finish the last batch before reading the tables
    result["samples"] = sampler.stop()
    result["metrics_after"] = collect.scrape_metrics(svc.metrics_url)
    result["pg_after"] = collect.pg_stats(bench.db.conninfo, list(bench.login_goals))
    result.update(exit_code=k6.exit_code, summary=k6.summary, timeseries=k6.timeseries)
    result["flame_graph"] = svg.name if svg.exists() else None
    if scenario.steps and o.step_search:
        result["step_search"] = step_search(bench, scenario.steps)
    return result


def step_search(bench: Bench, spec: StepSearch) -> dict[str, Any]:
    """The do-nothing server first (it never touches the database, so no reseed, and it keeps rising
    past the last rate asked), then the service, each step on a freshly seeded database."""
    rates = bench.options.step_rates
    with processes.baseline(BENCH / spec.baseline) as server:
        log("step search: do-nothing baseline")
        base = steps.search(
            rates,
            lambda rate: _step(bench, spec, "baseline", rate, server.pid, spec.target(server.port)),
            extra_steps=steps.BASELINE_EXTRA_STEPS,
        )
    log("step search: service")
    svc = bench.service
    port = svc.grpc_port if spec.protocol == "grpc" else svc.http_port

    def service_step(rate: int) -> steps.Step:
        bench.reseed()
        return _step(bench, spec, "service", rate, svc.pid, spec.target(port))

    return {
        "p95_limit_ms": STEP_RULE.p95_limit_ms,
        "min_achieved_share": STEP_RULE.min_achieved_share,
        "warmup_s": STEP_RULE.warmup_s,
        "step_s": bench.options.step_s,
        "baseline_server": spec.baseline_server,
        "baseline": base,
        "service": steps.search(rates, service_step),
    }


def _step(
    bench: Bench, spec: StepSearch, label: str, rate: int, pid: int, target: dict[str, str]
) -> steps.Step:
    step_s, warmup_s = bench.options.step_s, STEP_RULE.warmup_s
    server = psutil.Process(pid)
    server.cpu_percent(None)
    run = bench.k6.run(
        spec.script,
        bench.options.out / "steps" / f"{label}-{rate}",
        {"DURATION": f"{int(step_s)}s", spec.rate_env: str(rate), "WARMUP_S": str(warmup_s), **target},
        step_s + warmup_s,
        series=False,
    )
    cpu = server.cpu_percent(None)
    step = steps.judge(rate, step_s, run.summary, STEP_RULE, spec.latency)
    step["server_cpu_percent"] = round(cpu, 1)
    log(
        f"  {label} {rate}/s: achieved {step['achieved_rate']:.0f}/s, p95 {step['p95_ms']:.1f} ms, "
        f"errors {step['errors']} → {'clean' if step['clean'] else 'NOT clean'}"
    )
    return step
