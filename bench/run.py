"""`make bench`: start PostgreSQL and the service, drive k6, collect, and write the report.

    .venv/bin/python bench/run.py --scenarios sessions --vus 150 --event-rate 500 --duration 10m

Everything it starts (an embedded PostgreSQL in a temp dir, the service, the do-nothing baselines) it
stops again, also on Ctrl-C. Load goes to 127.0.0.1 only. Results land in
bench/results/<timestamp>/: report.md, PNG charts, collected.json (what bench-compare reads) and the
raw k6 summaries.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

import charts  # noqa: E402
import collect  # noqa: E402
import generate  # noqa: E402
import report  # noqa: E402

VENV_BIN = Path(sys.executable).parent
SCENARIOS = ("sessions", "api", "events", "combined")
STEP_P95_MS = 50.0
# Each step first runs this long at its rate untimed (connections, VU allocation), then is judged.
STEP_WARMUP_S = 3
BASELINE_EXTRA_STEPS = 4
TUNING_ENV = ("FLUSH_INTERVAL_MS", "FLUSH_BATCH_EVENTS", "BUFFER_MAX_ENTRIES", "DB_POOL_SIZE", "CLAIM_SHARE")
# k6 tags: no `url`/`name` (one time series per claimed goal would bloat k6's memory).
SYSTEM_TAGS = "status,method,scenario,expected_response,error_code,grpc_code"


def log(message: str) -> None:
    print(f"[bench {datetime.now():%H:%M:%S}] {message}", flush=True)


def parse_duration(text: str) -> float:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m|h)?", text.strip())
    if not match:
        raise SystemExit(f"bad duration {text!r}: use e.g. 90s, 10m")
    value, unit = float(match.group(1)), match.group(2) or "s"
    return value * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[unit]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, timeout_s: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before {url} answered")
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2) as resp:
            if resp.status == 200:
                return
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer within {timeout_s:.0f} s")


def wait_port(port: int, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.2)
    raise RuntimeError(f"port {port} did not open within {timeout_s:.0f} s")


def stop_process(proc: subprocess.Popen[bytes] | None, timeout_s: float = 20) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.out: Path = args.out
        self.tmp = Path(tempfile.mkdtemp(prefix="challenge-bench-"))
        self.data_dir = self.tmp / "data"
        self.http_port = free_port()
        self.grpc_port = free_port()
        self.pg: Any = None
        self.conninfo = ""
        self.service: subprocess.Popen[bytes] | None = None
        self.children: list[subprocess.Popen[bytes]] = []
        self.k6 = shutil.which("k6", path=str(VENV_BIN)) or shutil.which("k6") or "k6"
        self.base_url = f"http://127.0.0.1:{self.http_port}/challenge"

    # --- lifecycle ---------------------------------------------------------------------------------

    def start_postgres(self) -> None:
        from challenge_service.store.embedded import EmbeddedPostgres

        self.pg = EmbeddedPostgres(self.tmp / "pg")
        self.conninfo = self.pg.start()
        import psycopg

        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            try:
                conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
                conn.execute("SELECT 1 FROM pg_stat_statements LIMIT 1")
                log("pg_stat_statements enabled")
            except psycopg.Error:
                log("pg_stat_statements not available in this PostgreSQL build: skipped")

    def start_service(self) -> None:
        env = dict(os.environ)
        env.update(
            DATABASE_URL=self.conninfo,
            HTTP_PORT=str(self.http_port),
            GRPC_PORT=str(self.grpc_port),
            METRICS_PORT="0",
            CHALLENGE_CONFIG_PATH=str(self.data_dir / "challenges.json"),
            PLUGIN_GRPC_SERVER_AUTH_ENABLED="false",
            REWARD_CLIENT_MODE="mock",
            EVENT_ACK_MODE=self.args.ack_mode,
            LOG_LEVEL="warning",
        )
        log_file = (self.out / "service.log").open("wb")
        self.service = subprocess.Popen(
            [str(VENV_BIN / "challenge-service"), "serve"],
            env=env,
            stdout=log_file,
            stderr=log_file,
            cwd=self.tmp,
        )
        wait_http(f"{self.base_url}/healthz", 90, self.service)
        log(f"service pid {self.service.pid}: REST :{self.http_port}, gRPC :{self.grpc_port}")

    def stop_all(self) -> None:
        for child in self.children:
            stop_process(child, 5)
        stop_process(self.service)
        if self.pg is not None:
            with contextlib.suppress(Exception):
                self.pg.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    # --- data --------------------------------------------------------------------------------------

    def reseed(self) -> None:
        generate.load_seed(self.conninfo, self.data_dir)

    # --- k6 ----------------------------------------------------------------------------------------

    def run_k6(
        self, script: str, outdir: Path, env: dict[str, str], duration_s: float, *, series: bool = True
    ) -> dict[str, Any]:
        """Run one k6 script; `series=False` skips the per-sample CSV (charts only), whose writing
        costs k6 CPU on the box being measured — the step search judges from the summary alone."""
        outdir.mkdir(parents=True, exist_ok=True)
        k6_env = dict(os.environ)
        k6_env.update(
            BENCH_DATA=str(self.data_dir / "data.json"),
            BASE_URL=self.base_url,
            GRPC_ADDR=f"127.0.0.1:{self.grpc_port}",
            PROTO_DIR=str(ROOT / "proto"),
            RUN_ID=f"{self.out.name}-{outdir.name}",
            K6_NO_USAGE_REPORT="true",
        )
        k6_env.update(env)
        cmd = [
            self.k6,
            "run",
            "--quiet",
            "--no-color",
            "--no-usage-report",
            "--system-tags",
            SYSTEM_TAGS,
            "--summary-export",
            str(outdir / "summary.json"),
            *(["--out", f"csv={outdir / 'k6.csv'}"] if series else []),
            str(BENCH / "k6" / script),
        ]
        with (outdir / "k6.log").open("wb") as log_file:
            proc = subprocess.Popen(
                cmd, env=k6_env, stdout=log_file, stderr=subprocess.STDOUT, cwd=BENCH / "k6"
            )
            self.children.append(proc)
            try:
                code = proc.wait(timeout=duration_s + 120)
            except subprocess.TimeoutExpired:
                proc.kill()
                code = proc.wait()
            self.children.remove(proc)
        summary_path = outdir / "summary.json"
        summary = json.loads(summary_path.read_text()) if summary_path.exists() else {}
        csv_path = outdir / "k6.csv"
        folded = collect.fold_csv(csv_path) if csv_path.exists() else {}
        (outdir / "timeseries.json").write_text(json.dumps(folded))
        if csv_path.exists() and not self.args.keep_raw:
            csv_path.unlink()
        return {"exit_code": code, "summary": summary, "timeseries": folded}

    def profile_later(self, delay_s: float, seconds: float, svg: Path) -> threading.Thread | None:
        py_spy = shutil.which("py-spy", path=str(VENV_BIN))
        if not (self.args.profile and py_spy and self.service):
            return None
        pid = self.service.pid

        def run() -> None:
            time.sleep(delay_s)
            subprocess.run(
                [
                    py_spy,
                    "record",
                    "-p",
                    str(pid),
                    "-d",
                    str(int(seconds)),
                    "-r",
                    "50",
                    "--nonblocking",
                    "-o",
                    str(svg),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                check=False,
                timeout=seconds + 60,
            )

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        return thread

    # --- scenarios ---------------------------------------------------------------------------------

    def scenario(self, name: str) -> dict[str, Any]:
        a = self.args
        duration = a.events_duration_s if name == "events" else a.duration_s
        log(f"scenario {name}: {duration:.0f} s")
        self.reseed()
        metrics_url = f"http://127.0.0.1:{self.http_port}/metrics"
        result: dict[str, Any] = {"name": name, "duration_s": duration}
        result["metrics_before"] = collect.scrape_metrics(metrics_url)
        result["pg_before"] = collect.pg_stats(self.conninfo)
        assert self.service is not None
        sampler = collect.Sampler(self.service.pid, self.tmp / "pg", interval_s=a.sample_s)
        sampler.start()
        svg = self.out / f"flame-{name}.svg"
        profiler = self.profile_later(duration / 2 - 5, min(15, duration / 3), svg)
        env = {
            "DURATION": f"{int(duration)}s",
            "VUS": str(a.vus),
            "EVENT_RATE": str(a.event_rate),
            "REQUEST_RATE": str(a.request_rate),
        }
        run = self.run_k6(f"{name}.js", self.out / name, env, duration)
        if profiler is not None:
            profiler.join(timeout=90)
        time.sleep(1.0)  # let the flusher finish the last batch before reading the tables
        result["samples"] = sampler.stop()
        result["metrics_after"] = collect.scrape_metrics(metrics_url)
        result["pg_after"] = collect.pg_stats(self.conninfo)
        result.update(run)
        result["flame_graph"] = svg.name if svg.exists() else None
        if name == "events" and not a.no_step_search:
            result["step_search"] = self.step_search()
        return result

    def step_search(self) -> dict[str, Any]:
        baseline_port = free_port()
        baseline = subprocess.Popen(
            [sys.executable, str(BENCH / "baseline_grpc.py"), "--port", str(baseline_port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.children.append(baseline)
        try:
            wait_port(baseline_port, 30)
            log("step search: do-nothing baseline")
            base = self.steps(f"127.0.0.1:{baseline_port}", "baseline", baseline.pid, baseline=True)
        finally:
            stop_process(baseline, 5)
            self.children.remove(baseline)
        log("step search: service")
        assert self.service is not None
        svc = self.steps(f"127.0.0.1:{self.grpc_port}", "service", self.service.pid)
        return {"p95_limit_ms": STEP_P95_MS, "step_s": self.args.step_s, "baseline": base, "service": svc}

    def steps(self, addr: str, label: str, pid: int, *, baseline: bool = False) -> list[dict[str, Any]]:
        """Rising rates until a step is unclean. The baseline does not touch the database (no reseed)
        and keeps rising past the last rate asked — by the last increment, at most
        BASELINE_EXTRA_STEPS times — because a share against a baseline that never failed is only an
        upper bound."""
        out: list[dict[str, Any]] = []
        rates = list(self.args.step_rates)
        for rate in rates:  # also visits the rates appended at the end of the loop body
            if not baseline:
                self.reseed()
            proc = psutil.Process(pid)
            proc.cpu_percent(None)
            run = self.run_k6(
                "events.js",
                self.out / "steps" / f"{label}-{rate}",
                {
                    "DURATION": f"{int(self.args.step_s)}s",
                    "EVENT_RATE": str(rate),
                    "GRPC_ADDR": addr,
                    "WARMUP_S": str(STEP_WARMUP_S),
                },
                self.args.step_s + STEP_WARMUP_S,
                series=False,
            )
            cpu = proc.cpu_percent(None)
            step = report.step_result(rate, self.args.step_s, run["summary"], STEP_P95_MS)
            step["server_cpu_percent"] = round(cpu, 1)
            out.append(step)
            log(
                f"  {label} {rate}/s: achieved {step['achieved_rate']:.0f}/s, p95 {step['p95_ms']:.1f} ms, "
                f"errors {step['errors']} → {'clean' if step['clean'] else 'NOT clean'}"
            )
            if not step["clean"]:
                break
            if (
                baseline
                and rate == rates[-1]
                and len(rates) < len(self.args.step_rates) + BASELINE_EXTRA_STEPS
            ):
                rates.append(rate + (rate - rates[-2] if len(rates) > 1 else max(rate // 4, 100)))
        return out

    # --- whole run ---------------------------------------------------------------------------------

    def run(self) -> Path:
        a = self.args
        self.out.mkdir(parents=True, exist_ok=True)
        plan = generate.Plan(
            tuple(a.scenarios),
            a.duration_s,
            a.vus,
            a.request_rate,
            max(a.event_rate, max(a.step_rates, default=0)),
            a.claim_share,
        )
        sizing = generate.generate(self.data_dir, plan, ROOT / "challenges.json")
        check = subprocess.run(
            [str(VENV_BIN / "challenge-service"), "check-config", str(self.data_dir / "challenges.json")],
            capture_output=True,
            text=True,
        )
        if check.returncode != 0:
            raise RuntimeError(f"generated catalog fails check-config:\n{check.stderr}")
        shutil.copy(self.data_dir / "challenges.json", self.out / "bench-challenges.json")
        collect.LOGIN_GOALS[:] = [
            g.goal_id
            for g in generate.seed_goals(json.loads((self.data_dir / "challenges.json").read_text()))
            if g.login
        ]
        log(f"data: {sizing}")
        collected: dict[str, Any] = {
            "config": self.config(),
            "sizing": sizing,
            "machine": machine_info(self.k6),
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "scenarios": [],
        }
        try:
            self.start_postgres()
            self.start_service()
            for name in a.scenarios:
                collected["scenarios"].append(self.scenario(name))
                (self.out / "collected.json").write_text(json.dumps(collected))
        finally:
            self.stop_all()
        collected["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        (self.out / "collected.json").write_text(json.dumps(collected))
        charts.render(collected, self.out)
        (self.out / "report.md").write_text(report.build_report(collected))
        return self.out / "report.md"

    def config(self) -> dict[str, Any]:
        a = self.args
        return {
            "command": a.command_line,
            "scenarios": list(a.scenarios),
            "duration_s": a.duration_s,
            "events_duration_s": a.events_duration_s,
            "vus": a.vus,
            "event_rate": a.event_rate,
            "request_rate": a.request_rate,
            "ack_mode": a.ack_mode,
            "quick": a.quick,
            "step_rates": a.step_rates,
            "step_s": a.step_s,
            "profile": a.profile,
            "sample_s": a.sample_s,
        }


def machine_info(k6: str) -> dict[str, Any]:
    version = subprocess.run([k6, "version"], capture_output=True, text=True, check=False).stdout.strip()
    return {
        "cpus": psutil.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "k6": version.split("(")[0].strip(),
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scenarios", default="sessions", help=f"comma list of {', '.join(SCENARIOS)}")
    p.add_argument("--vus", type=int, default=150)
    p.add_argument("--event-rate", type=int, default=500)
    p.add_argument("--request-rate", type=int, default=1000)
    p.add_argument("--duration", default="", help="per scenario, e.g. 10m (default 10m; QUICK 75s)")
    p.add_argument("--ack-mode", choices=("durable", "buffered"), default="durable")
    p.add_argument("--quick", action="store_true", help="≈ 2 minute profile")
    p.add_argument("--step-rates", default="", help="events step search rates, e.g. 250,500,750")
    p.add_argument("--step-duration", default="", help="seconds per step (default 15; QUICK 6)")
    p.add_argument("--no-step-search", action="store_true")
    p.add_argument("--profile", action="store_true", help="py-spy flame graph at mid-run")
    p.add_argument("--sample-s", type=float, default=2.0)
    p.add_argument("--keep-raw", action="store_true", help="keep k6's raw CSV time series")
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args(argv)
    # Settings the service (or k6) takes from the environment are part of what was measured.
    tuning = [f"{name}={os.environ[name]}" for name in TUNING_ENV if name in os.environ]
    args.command_line = " ".join([*tuning, "bench/run.py", *(argv if argv is not None else sys.argv[1:])])
    # The share of api requests that claim; it sizes the seeded users and reaches k6 through data.json.
    args.claim_share = float(os.environ.get("CLAIM_SHARE", generate.CLAIM_SHARE))
    args.scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    unknown = set(args.scenarios) - set(SCENARIOS)
    if unknown or not args.scenarios:
        p.error(f"unknown scenario(s) {sorted(unknown)}; choose from {', '.join(SCENARIOS)}")
    args.duration_s = parse_duration(args.duration or ("75s" if args.quick else "10m"))
    # The events scenario's constant part is shorter under QUICK: its step search takes the rest.
    args.events_duration_s = min(args.duration_s, 20.0) if args.quick else args.duration_s
    args.step_s = parse_duration(args.step_duration or ("6s" if args.quick else "15s"))
    if args.step_rates:
        args.step_rates = [int(r) for r in args.step_rates.split(",")]
    elif args.quick:
        args.step_rates = [400, 800, 1200, 1600, 2000, 2400, 2800]
    else:
        args.step_rates = list(range(250, 3001, 250))
    if args.out is None:
        args.out = BENCH / "results" / datetime.now().strftime("%Y%m%d-%H%M%S")
    return args


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    previous = signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main() -> int:
    args = parse_args()
    bench = Bench(args)
    with sigterm_as_interrupt():
        path = bench.run()
    log(f"report: {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    text = path.read_text()
    verdict = text.split("## Verdict", 1)[-1].split("\n## ", 1)[0]
    print("## Verdict" + verdict)
    return 0


if __name__ == "__main__":
    sys.exit(main())
