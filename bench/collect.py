"""What the bench records while it runs: process samples, PostgreSQL statistics, the service's
`/metrics`, k6's CSV time series folded into per-second buckets, and an optional py-spy profile.
Everything here returns plain JSON-able data; the `report` package turns it into Markdown."""

from __future__ import annotations

import contextlib
import csv
import math
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import psutil

PG_TABLE_COLUMNS = (
    "n_tup_ins",
    "n_tup_upd",
    "n_tup_hot_upd",
    "n_tup_del",
    "idx_scan",
    "seq_scan",
    "n_live_tup",
    "n_dead_tup",
)
PG_DATABASE_COLUMNS = (
    "xact_commit",
    "xact_rollback",
    "blks_hit",
    "blks_read",
    "tup_inserted",
    "tup_updated",
    "deadlocks",
)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process `pid` so far."""
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


def open_connections(process: psutil.Process, port: int) -> int:
    """Established TCP connections of `process` on its listening `port` (0 when unreadable)."""
    with contextlib.suppress(psutil.Error):
        return sum(
            1
            for c in process.net_connections("tcp")
            if c.status == psutil.CONN_ESTABLISHED and c.laddr and c.laddr.port == port
        )
    return 0


class ConnectionWatch(threading.Thread):
    """The most connections `pid` holds open on `port` while it runs, read every `interval_s`."""

    def __init__(self, pid: int, port: int, interval_s: float = 1.0) -> None:
        super().__init__(daemon=True, name="connections")
        self.process = psutil.Process(pid)
        self.port = port
        self.interval_s = interval_s
        self.most = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(self.interval_s):
            self.most = max(self.most, open_connections(self.process, self.port))

    def stop(self) -> int:
        self._stop_event.set()
        self.join(timeout=5)
        return self.most


class Sampler(threading.Thread):
    """CPU % and RSS of the service, PostgreSQL (all its processes) and k6, and the service's open
    connections on `port`, every `interval_s`."""

    def __init__(
        self, service_pid: int, pg_data_dir: Path | None, interval_s: float = 2.0, port: int | None = None
    ) -> None:
        super().__init__(daemon=True, name="sampler")
        self.interval_s = interval_s
        self.port = port
        self.service = psutil.Process(service_pid)
        self.pg_data_dir = str(pg_data_dir) if pg_data_dir else None
        self.samples: list[dict[str, float]] = []
        self._stop_event = threading.Event()
        self._seen: dict[int, psutil.Process] = {}
        self.t0 = time.time()

    def _postgres(self) -> list[psutil.Process]:
        found = []
        for proc in psutil.process_iter(["name", "cmdline"]):
            name = proc.info.get("name") or ""
            if name.startswith("postgres"):
                found.append(self._seen.setdefault(proc.pid, proc))
        return found

    def _k6(self) -> list[psutil.Process]:
        return [
            self._seen.setdefault(p.pid, p)
            for p in psutil.process_iter(["name"])
            if (p.info.get("name") or "") == "k6"
        ]

    def _connections(self) -> int:
        return open_connections(self.service, self.port) if self.port is not None else 0

    @staticmethod
    def _usage(procs: list[psutil.Process]) -> tuple[float, float]:
        cpu = rss = 0.0
        for proc in procs:
            with contextlib.suppress(psutil.Error):
                cpu += proc.cpu_percent(None)
                rss += proc.memory_info().rss
        return cpu, rss / 2**20

    def run(self) -> None:
        self._usage([self.service, *self._postgres(), *self._k6()])  # prime cpu_percent
        while not self._stop_event.wait(self.interval_s):
            svc_cpu, svc_rss = self._usage([self.service])
            pg_cpu, pg_rss = self._usage(self._postgres())
            k6_cpu, _ = self._usage(self._k6())
            self.samples.append(
                {
                    "t": round(time.time() - self.t0, 1),
                    "service_cpu": round(svc_cpu, 1),
                    "service_rss_mb": round(svc_rss, 1),
                    "postgres_cpu": round(pg_cpu, 1),
                    "postgres_rss_mb": round(pg_rss, 1),
                    "k6_cpu": round(k6_cpu, 1),
                    "machine_cpu": round(psutil.cpu_percent(None) * (psutil.cpu_count() or 1), 1),
                    "service_connections": self._connections(),
                }
            )

    def stop(self) -> list[dict[str, float]]:
        self._stop_event.set()
        self.join(timeout=5)
        return self.samples


def scrape_metrics(url: str) -> dict[str, float] | None:
    """Prometheus text → {'name{labels}': value}; None when the endpoint is absent."""
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            if resp.status != 200:
                return None
            text = resp.read().decode()
    except (urllib.error.URLError, OSError):
        return None
    values: dict[str, float] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        key, _, value = line.rpartition(" ")
        with contextlib.suppress(ValueError):
            values[key] = float(value)
    return values or None


def pg_stats(conninfo: str, login_goals: list[str]) -> dict[str, Any]:
    """Table, database and statement statistics, and Σ progress of `login_goals` (the goals whose raw
    progress counts applied login events)."""
    import psycopg

    out: dict[str, Any] = {"tables": {}, "statements": None, "database": {}}
    with psycopg.connect(conninfo, autocommit=True) as conn:
        cols = ", ".join(PG_TABLE_COLUMNS)
        for row in conn.execute(f"SELECT relname, {cols} FROM pg_stat_user_tables ORDER BY relname"):
            out["tables"][row[0]] = {
                c: (int(v) if v is not None else 0) for c, v in zip(PG_TABLE_COLUMNS, row[1:], strict=True)
            }
        database = conn.execute(
            f"SELECT {', '.join(PG_DATABASE_COLUMNS)} FROM pg_stat_database "
            "WHERE datname = current_database()"
        ).fetchone()
        if database:
            out["database"] = {n: int(v or 0) for n, v in zip(PG_DATABASE_COLUMNS, database, strict=True)}
        try:
            rows = conn.execute(
                "SELECT query, calls, total_exec_time, rows FROM pg_stat_statements "
                "ORDER BY total_exec_time DESC LIMIT 15"
            ).fetchall()
            out["statements"] = [
                {"query": " ".join(q.split())[:160], "calls": int(c), "total_ms": float(t), "rows": int(r)}
                for q, c, t, r in rows
            ]
        except psycopg.Error:
            out["statements"] = None
        try:
            total = conn.execute(
                "SELECT coalesce(sum(progress), 0) FROM user_goal_progress WHERE goal_id = ANY(%s)",
                (login_goals,),
            ).fetchone()
            out["login_progress_sum"] = int(total[0]) if total else None
        except psycopg.Error:
            out["login_progress_sum"] = None
    return out


def profile_later(pid: int, delay_s: float, seconds: float, svg: Path) -> threading.Thread | None:
    """A py-spy flame graph of `pid` for `seconds`, starting after `delay_s`; None when py-spy is not
    installed. Attaching needs root or ptrace rights: without them no file appears."""
    py_spy = shutil.which("py-spy", path=str(Path(sys.executable).parent))
    if py_spy is None:
        return None
    command = [py_spy, "record", "-p", str(pid), "-d", str(int(seconds)), "-r", "50", "--nonblocking"]

    def run() -> None:
        time.sleep(delay_s)
        subprocess.run(
            [*command, "-o", str(svg)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
            timeout=seconds + 60,
        )

    thread = threading.Thread(target=run, daemon=True, name="py-spy")
    thread.start()
    return thread


def _percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return math.nan
    idx = min(len(sorted_values) - 1, max(0, math.ceil(q * len(sorted_values)) - 1))
    return sorted_values[idx]


def fold_csv(path: Path) -> dict[str, Any]:
    """k6 `--out csv` → per-second latency (avg, p95) and throughput per endpoint, failures grouped."""
    lat: dict[str, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    fails: dict[tuple[str, str, str], int] = defaultdict(int)
    fail_series: dict[int, int] = defaultdict(int)
    t0: int | None = None
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        for row in reader:
            name = row["metric_name"]
            if name not in ("http_req_duration", "grpc_req_duration", "failures"):
                continue
            ts = int(float(row["timestamp"]))
            t0 = ts if t0 is None else min(t0, ts)
            tags = dict(parse_qsl(row.get("extra_tags") or ""))
            endpoint = tags.get("endpoint", "other")
            if name == "failures":
                status = tags.get("status") or row.get("status") or ""
                fails[(endpoint, status, tags.get("err", ""))] += int(float(row["metric_value"]))
                fail_series[ts] += 1
            else:
                lat[endpoint][ts].append(float(row["metric_value"]))
    if t0 is None:
        return {"seconds": [], "endpoints": {}, "failures": [], "failures_per_s": []}
    last = max([max(s) for s in lat.values() if s] + [t0])
    seconds = list(range(0, last - t0 + 1))
    endpoints: dict[str, Any] = {}
    for endpoint, per_s in lat.items():
        p95, avg, count = [], [], []
        for s in seconds:
            values = sorted(per_s.get(t0 + s, []))
            count.append(len(values))
            p95.append(round(_percentile(values, 0.95), 3) if values else None)
            avg.append(round(sum(values) / len(values), 3) if values else None)
        endpoints[endpoint] = {"p95_ms": p95, "avg_ms": avg, "count": count}
    return {
        "seconds": seconds,
        "endpoints": endpoints,
        "failures": [
            {"endpoint": e, "status": s, "errorCode": c, "count": n}
            for (e, s, c), n in sorted(fails.items(), key=lambda kv: -kv[1])
        ],
        "failures_per_s": [fail_series.get(t0 + s, 0) for s in seconds],
    }
