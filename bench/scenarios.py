"""The scenarios and how one runs: reseed, record before, drive k6 while sampling, record after — and,
for a scenario that has one, the step search against a do-nothing server and then the service.

A new scenario is a k6 script in bench/k6 plus one `Scenario` entry below; one with a step search
names the script run at each step, the environment variable that sets its rate, the latency metric it
is judged on and the do-nothing server it is compared with.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import psutil

import collect
import generate
import k6run
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
    # The rates asked when --step-rates is not given (full run, QUICK).
    rates: tuple[int, ...]
    quick_rates: tuple[int, ...]
    # More environment for each step's k6 run, as (name, value) pairs.
    env: tuple[tuple[str, str], ...] = ()

    def target(self, port: int) -> dict[str, str]:
        if self.protocol == "grpc":
            return {"GRPC_ADDR": f"{HOST}:{port}"}
        return {"BASE_URL": f"http://{HOST}:{port}/challenge"}


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    script: str
    steps: StepSearch | None = None
    # The `Options` field that holds the constant part's event rate.
    rate_option: str = "event_rate"
    # Each call carries `--batch-size` events (rates count events, k6 makes calls).
    batched: bool = False
    # Run the constant part once per count of `Options.connection_counts` instead of once.
    connection_sweep: bool = False


EVENT_STEPS = StepSearch(
    "events.js",
    "EVENT_RATE",
    "grpc_req_duration",
    "baseline_grpc.py",
    "do-nothing grpclib server",
    "grpc",
    rates=tuple(range(250, 3001, 250)),
    quick_rates=(400, 800, 1200, 1600, 2000, 2400, 2800),
)
BATCH_STEPS = StepSearch(
    "batch.js",
    "EVENT_RATE",
    "grpc_req_duration",
    "baseline_grpc.py",
    "do-nothing grpclib server",
    "grpc",
    rates=tuple(range(5000, 40001, 2500)),
    quick_rates=(5000, 10000, 15000, 20000, 25000, 30000),
)
API_STEPS = StepSearch(
    "api.js",
    "REQUEST_RATE",
    "http_req_duration",
    "baseline_http.py",
    "do-nothing Litestar route",
    "http",
    rates=tuple(range(500, 4001, 250)),
    quick_rates=(500, 1000, 1500, 2000, 2500, 3000),
    env=(("BROWSE_ONLY", "1"),),
)
SCENARIOS: Mapping[str, Scenario] = MappingProxyType(
    {
        s.name: s
        for s in (
            Scenario("sessions", "sessions.js"),
            Scenario("api", "api.js", API_STEPS),
            Scenario("events", "events.js", EVENT_STEPS),
            Scenario("batch", "batch.js", BATCH_STEPS, rate_option="batch_rate", batched=True),
            Scenario("combined", "combined.js"),
            Scenario("connections", "events.js", connection_sweep=True),
        )
    }
)
# How long the do-nothing server runs the constant part's load, for its CPU per event at that rate.
BASELINE_CONSTANT_S = 30.0


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

    def rates(self, spec: StepSearch) -> tuple[int, ...]:
        o = self.options
        return o.step_rates or (spec.quick_rates if o.quick else spec.rates)

    def per_call(self, scenario: Scenario) -> int:
        return self.options.batch_size if scenario.batched else 1


def _env(o: Options, scenario: Scenario, duration_s: float, connections: int) -> dict[str, str]:
    return {
        "DURATION": f"{int(duration_s)}s",
        "VUS": str(o.vus),
        "EVENT_RATE": str(getattr(o, scenario.rate_option)),
        "REQUEST_RATE": str(o.request_rate),
        "BATCH_SIZE": str(o.batch_size),
        "CONNECTIONS": str(connections),
    }


def run(bench: Bench, scenario: Scenario) -> dict[str, Any]:
    """One scenario, as the record collected.json keeps of it."""
    o, name, svc = bench.options, scenario.name, bench.service
    duration = o.search_scenario_s if scenario.steps or scenario.connection_sweep else o.duration_s
    log(f"scenario {name}: {duration:.0f} s")
    bench.reseed()
    result: dict[str, Any] = {"name": name, "duration_s": duration}
    result["metrics_before"] = collect.scrape_metrics(svc.metrics_url)
    result["pg_before"] = collect.pg_stats(bench.db.conninfo, list(bench.login_goals))
    sampler = collect.Sampler(svc.pid, bench.db.data_dir, interval_s=o.sample_s, port=svc.grpc_port)
    sampler.start()
    svg = o.out / f"flame-{name}.svg"
    profiler = (
        collect.profile_later(svc.pid, duration / 2 - 5, min(15, duration / 3), svg) if o.profile else None
    )
    if scenario.connection_sweep:
        sweep = [
            _constant(bench, scenario, f"{name}-{count}", duration, svc.pid, svc.grpc_port, {}, count)
            for count in o.connection_counts
        ]
        result["connection_sweep"] = [record for record, _ in sweep]
        k6 = sweep[-1][1]
    else:
        cpu = collect.cpu_seconds(svc.pid)
        k6 = bench.k6.run(scenario.script, o.out / name, _env(o, scenario, duration, o.connections), duration)
        result["service_cpu_s"] = collect.cpu_seconds(svc.pid) - cpu
    if profiler is not None:
        profiler.join(timeout=90)
    time.sleep(1.0)  # let the flusher finish the last batch before reading the tables
    result["samples"] = sampler.stop()
    result["metrics_after"] = collect.scrape_metrics(svc.metrics_url)
    result["pg_after"] = collect.pg_stats(bench.db.conninfo, list(bench.login_goals))
    result.update(exit_code=k6.exit_code, summary=k6.summary, timeseries=k6.timeseries)
    result["flame_graph"] = svg.name if svg.exists() else None
    if scenario.steps:
        result.update(_against_baseline(bench, scenario, scenario.steps, duration))
    return result


def _constant(
    bench: Bench,
    scenario: Scenario,
    label: str,
    duration: float,
    pid: int,
    port: int,
    target: dict[str, str],
    connections: int,
) -> tuple[dict[str, Any], k6run.K6Run]:
    """The scenario's constant load against one server listening on `port` (the service, or a
    baseline at `target`): what it cost that server, how many calls and events it served, and the
    most connections it held open."""
    o = bench.options
    watch = collect.ConnectionWatch(pid, port)
    watch.start()
    cpu = collect.cpu_seconds(pid)
    env = {**_env(o, scenario, duration, connections), **target}
    k6 = bench.k6.run(scenario.script, o.out / label, env, duration, series=False)
    record = {
        "label": label,
        "rate": getattr(o, scenario.rate_option),
        "duration_s": duration,
        "connections": connections,
        "server_cpu_s": round(collect.cpu_seconds(pid) - cpu, 2),
        "open_connections": watch.stop(),
        **k6run.load(k6.summary, bench.per_call(scenario)),
    }
    return record, k6


def _against_baseline(bench: Bench, scenario: Scenario, spec: StepSearch, duration: float) -> dict[str, Any]:
    """The do-nothing server under the constant part's load (its CPU per event at the same rate) and,
    unless switched off, the step search of both. The baseline never touches the database, so only
    the service's steps reseed, and the baseline keeps rising past the last rate asked."""
    o, name = bench.options, scenario.name
    out: dict[str, Any] = {}
    with processes.baseline(BENCH / spec.baseline, *_baseline_args(bench, spec)) as server:
        log(f"{name}: do-nothing baseline at the constant rate")
        out["baseline_constant"], _ = _constant(
            bench,
            scenario,
            f"{name}-baseline",
            min(duration, BASELINE_CONSTANT_S),
            server.pid,
            server.port,
            spec.target(server.port),
            o.connections,
        )
        if not o.step_search:
            return out
        log("step search: do-nothing baseline")
        base = steps.search(
            bench.rates(spec),
            lambda rate: _step(bench, scenario, "baseline", rate, server.pid, spec.target(server.port)),
            extra_steps=steps.BASELINE_EXTRA_STEPS,
        )
    log("step search: service")
    svc = bench.service
    port = svc.grpc_port if spec.protocol == "grpc" else svc.http_port

    def service_step(rate: int) -> steps.Step:
        bench.reseed()
        return _step(bench, scenario, "service", rate, svc.pid, spec.target(port))

    out["step_search"] = {
        "p95_limit_ms": STEP_RULE.p95_limit_ms,
        "min_achieved_share": STEP_RULE.min_achieved_share,
        "warmup_s": STEP_RULE.warmup_s,
        "step_s": o.step_s,
        "events_per_call": bench.per_call(scenario),
        "baseline_server": spec.baseline_server,
        "baseline": base,
        "service": steps.search(bench.rates(spec), service_step),
    }
    return out


def _baseline_args(bench: Bench, spec: StepSearch) -> list[str]:
    """The HTTP baseline answers GET challenges with the service's own body for a seeded player."""
    if spec.protocol != "http":
        return []
    body = bench.data_dir / "baseline-body.json"
    if not body.exists():
        user = json.loads((bench.data_dir / "data.json").read_text())["apiUsers"][0]
        request = urllib.request.Request(
            f"{bench.service.base_url}/v1/challenges", headers={"X-Mock-User-Id": user}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            body.write_bytes(response.read())
    return ["--body", str(body)]


def _step(
    bench: Bench, scenario: Scenario, label: str, rate: int, pid: int, target: dict[str, str]
) -> steps.Step:
    o, spec = bench.options, scenario.steps
    assert spec is not None
    step_s, warmup_s = o.step_s, STEP_RULE.warmup_s
    server = psutil.Process(pid)
    server.cpu_percent(None)
    cpu = collect.cpu_seconds(pid)
    env = {
        "DURATION": f"{int(step_s)}s",
        spec.rate_env: str(rate),
        "WARMUP_S": str(warmup_s),
        "BATCH_SIZE": str(o.batch_size),
        "CONNECTIONS": str(o.connections),
        **dict(spec.env),
        **target,
    }
    outdir = o.out / "steps" / f"{scenario.name}-{label}-{rate}"
    run = bench.k6.run(spec.script, outdir, env, step_s + warmup_s, series=False)
    cpu_percent = server.cpu_percent(None)
    step = steps.judge(rate, step_s, run.summary, STEP_RULE, spec.latency, bench.per_call(scenario))
    step["server_cpu_percent"] = round(cpu_percent, 1)
    step["server_cpu_s"] = round(collect.cpu_seconds(pid) - cpu, 2)
    log(
        f"  {label} {rate}/s: achieved {step['achieved_rate']:.0f}/s, p95 {step['p95_ms']:.1f} ms, "
        f"errors {step['errors']}, {steps.cpu_us_per_event(step):.0f} µs CPU each → "
        f"{'clean' if step['clean'] else 'NOT clean'}"
    )
    return step
