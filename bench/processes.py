"""The processes a bench run starts — an embedded PostgreSQL, the service, do-nothing baselines — each a
context manager that stops what it started, also on Ctrl-C. Everything listens on 127.0.0.1 only."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import psycopg

from challenge_service.store.embedded import EmbeddedPostgres

VENV_BIN = Path(sys.executable).parent
HOST = "127.0.0.1"


def log(message: str) -> None:
    print(f"[bench {datetime.now():%H:%M:%S}] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
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


def wait_port(port: int, timeout_s: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before port {port} opened")
        with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=1):
            return
        time.sleep(0.2)
    raise RuntimeError(f"port {port} did not open within {timeout_s:.0f} s")


def stop_process(proc: subprocess.Popen[bytes], timeout_s: float = 20) -> None:
    """SIGTERM, then SIGKILL if it has not exited within `timeout_s`."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


@contextlib.contextmanager
def stopping(proc: subprocess.Popen[bytes], timeout_s: float = 20) -> Iterator[subprocess.Popen[bytes]]:
    try:
        yield proc
    finally:
        stop_process(proc, timeout_s)


@dataclass(frozen=True, slots=True)
class Postgres:
    conninfo: str
    data_dir: Path


@contextlib.contextmanager
def postgres(data_dir: Path) -> Iterator[Postgres]:
    """An embedded PostgreSQL in `data_dir`, with pg_stat_statements when the build has it."""
    server = EmbeddedPostgres(data_dir)
    conninfo = server.start()
    try:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            try:
                conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
                conn.execute("SELECT 1 FROM pg_stat_statements LIMIT 1")
                log("pg_stat_statements enabled")
            except psycopg.Error:
                log("pg_stat_statements not available in this PostgreSQL build: skipped")
        yield Postgres(conninfo, data_dir)
    finally:
        with contextlib.suppress(Exception):
            server.stop()


@dataclass(frozen=True, slots=True)
class Service:
    pid: int
    http_port: int
    grpc_port: int

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.http_port}/challenge"

    @property
    def metrics_url(self) -> str:
        return f"http://{HOST}:{self.http_port}/metrics"

    @property
    def grpc_addr(self) -> str:
        return f"{HOST}:{self.grpc_port}"


@contextlib.contextmanager
def service(conninfo: str, catalog: Path, ack_mode: str, log_path: Path, cwd: Path) -> Iterator[Service]:
    """The service with mock auth and mock rewards on free ports, its output in `log_path`."""
    http_port, grpc_port = free_port(), free_port()
    env = dict(os.environ)
    env.update(
        DATABASE_URL=conninfo,
        HTTP_PORT=str(http_port),
        GRPC_PORT=str(grpc_port),
        METRICS_PORT="0",
        CHALLENGE_CONFIG_PATH=str(catalog),
        PLUGIN_GRPC_SERVER_AUTH_ENABLED="false",
        REWARD_CLIENT_MODE="mock",
        EVENT_ACK_MODE=ack_mode,
        LOG_LEVEL="warning",
    )
    command = [str(VENV_BIN / "challenge-service"), "serve"]
    with (
        log_path.open("wb") as out,
        stopping(subprocess.Popen(command, env=env, stdout=out, stderr=out, cwd=cwd)) as proc,
    ):
        handle = Service(proc.pid, http_port, grpc_port)
        wait_http(f"{handle.base_url}/healthz", 90, proc)
        log(f"service pid {proc.pid}: REST :{http_port}, gRPC :{grpc_port}")
        yield handle


@dataclass(frozen=True, slots=True)
class Baseline:
    pid: int
    port: int


@contextlib.contextmanager
def baseline(script: Path, *args: str) -> Iterator[Baseline]:
    """A do-nothing server (a script taking `--port`) on a free port, for a step search to compare
    against."""
    port = free_port()
    command = [sys.executable, str(script), "--port", str(port), *args]
    popen = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with stopping(popen, 5) as proc:
        wait_port(port, 30, proc)
        yield Baseline(proc.pid, port)
