"""`make bench`: start PostgreSQL and the service, drive k6, collect, and write the report.

    .venv/bin/python bench/run.py --scenarios sessions --vus 150 --event-rate 500 --duration 10m

Everything it starts (an embedded PostgreSQL in a temp dir, the service, the do-nothing baselines) it
stops again, also on Ctrl-C. Load goes to 127.0.0.1 only. Results land in
bench/results/<timestamp>/: report.md, PNG charts, collected.json (what bench-compare reads) and the
raw k6 summaries.

The parts: options.py (the command line), generate.py (the data), processes.py (what is started),
scenarios.py (what runs, incl. the step search), k6run.py, collect.py, charts.py and report/.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

import artifacts  # noqa: E402
import charts  # noqa: E402
import generate  # noqa: E402
import k6run  # noqa: E402
import options  # noqa: E402
import processes  # noqa: E402
import scenarios  # noqa: E402
from limits import K6_THRESHOLDS  # noqa: E402
from processes import log  # noqa: E402
from report import build_report  # noqa: E402


def run(o: options.Options) -> Path:
    """The whole run; returns the report's path."""
    o.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="challenge-bench-", ignore_cleanup_errors=True) as tmp_dir:
        tmp = Path(tmp_dir)
        data_dir = tmp / "data"
        sizing = prepare_data(o, data_dir)
        catalog = data_dir / "challenges.json"
        login_goals = tuple(
            g.goal_id for g in generate.seed_goals(json.loads(catalog.read_text())) if g.login
        )
        binary = k6run.find_binary()
        collected: dict[str, Any] = {
            "config": o.config(),
            "sizing": sizing,
            "machine": machine_info(binary),
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "scenarios": [],
        }
        with (
            processes.postgres(tmp / "pg") as db,
            processes.service(db.conninfo, catalog, o.ack_mode, o.out / "service.log", tmp) as svc,
        ):
            k6 = k6run.K6(
                binary,
                env={
                    "BENCH_DATA": str(data_dir / "data.json"),
                    "BENCH_THRESHOLDS": json.dumps(dict(K6_THRESHOLDS)),
                    "BASE_URL": svc.base_url,
                    "GRPC_ADDR": svc.grpc_addr,
                    "PROTO_DIR": str(ROOT / "proto"),
                },
                run_id=o.out.name,
                keep_raw=o.keep_raw,
            )
            bench = scenarios.Bench(o, k6, db, svc, data_dir, login_goals)
            for name in o.scenarios:
                collected["scenarios"].append(scenarios.run(bench, scenarios.SCENARIOS[name]))
                (o.out / artifacts.COLLECTED).write_text(json.dumps(collected))
    collected["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    (o.out / artifacts.COLLECTED).write_text(json.dumps(collected))
    charts.render(collected, o.out)
    report = o.out / artifacts.REPORT
    report.write_text(build_report(collected))
    return report


def prepare_data(o: options.Options, data_dir: Path) -> dict[str, Any]:
    """Generate the run's catalog, k6 data and seed rows (sized for the highest rate the run will ask
    for) and make sure the service accepts the catalog; returns the sizing."""
    plan = generate.Plan(
        o.scenarios,
        o.duration_s,
        o.vus,
        o.request_rate,
        max(o.event_rate, max(o.step_rates, default=0)),
        o.claim_share,
    )
    sizing = generate.generate(data_dir, plan, ROOT / "challenges.json")
    catalog = data_dir / "challenges.json"
    check = subprocess.run(
        [str(processes.VENV_BIN / "challenge-service"), "check-config", str(catalog)],
        capture_output=True,
        text=True,
    )
    if check.returncode != 0:
        raise RuntimeError(f"generated catalog fails check-config:\n{check.stderr}")
    shutil.copy(catalog, o.out / "bench-challenges.json")
    log(f"data: {sizing}")
    return sizing


def machine_info(k6_binary: str) -> dict[str, Any]:
    return {
        "cpus": psutil.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "k6": k6run.version(k6_binary),
    }


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    def interrupt(*_: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main() -> int:
    o = options.parse(sys.argv[1:], os.environ, scenarios.SCENARIOS, BENCH / "results")
    with sigterm_as_interrupt():
        path = run(o)
    log(f"report: {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    verdict = path.read_text().split("## Verdict", 1)[-1].split("\n## ", 1)[0]
    print("## Verdict" + verdict)
    return 0


if __name__ == "__main__":
    sys.exit(main())
