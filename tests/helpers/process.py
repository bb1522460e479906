"""The real command in a subprocess: its environment, its start-up, its end."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import IO

import httpx

from tests.helpers.service import REPO, free_port
from tests.helpers.waiting import eventually

COMMAND = [sys.executable, "-m", "challenge_service"]
STARTUP_TIMEOUT_S = 30


def service_env(database_url: str, **extra: str) -> dict[str, str]:
    """The environment of a dev-mode `serve` (mock auth and rewards, JSON logs) on free ports."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "METRICS_PORT": "0",
        "CHALLENGE_CONFIG_PATH": str(REPO / "challenges.json"),
        "PLUGIN_GRPC_SERVER_AUTH_ENABLED": "false",
        "REWARD_CLIENT_MODE": "mock",
        "LOG_FORMAT": "json",
        **fresh_ports(),
        **extra,
    }


def fresh_ports() -> dict[str, str]:
    """New HTTP and gRPC ports, for a restart that must not race the old process's sockets."""
    return {"HTTP_PORT": str(free_port()), "GRPC_PORT": str(free_port())}


def http_url(env: dict[str, str]) -> str:
    """Where the process started with `env` serves REST, base path included."""
    return f"http://127.0.0.1:{env['HTTP_PORT']}{env.get('BASE_PATH', '/challenge')}"


async def wait_healthy(env: dict[str, str], process: subprocess.Popen[bytes]) -> None:
    """Return once the process answers its health check; fail at once if it exits first."""
    async with httpx.AsyncClient() as http:

        async def healthy() -> bool:
            assert process.poll() is None, "the service exited during start-up"
            try:
                return (await http.get(f"{http_url(env)}/healthz")).status_code == 200
            except httpx.TransportError:
                return False

        await eventually(healthy, STARTUP_TIMEOUT_S, interval_s=0.1)


async def start(
    env: dict[str, str],
    stderr: int | IO[bytes] = subprocess.DEVNULL,
    command: Sequence[str] = (*COMMAND, "serve"),
) -> subprocess.Popen[bytes]:
    """`challenge-service serve` (or `command`, run from the repository root) with `env`, returned once
    healthy (killed again if it never is)."""
    process = subprocess.Popen([*command], env=env, stderr=stderr, cwd=REPO)  # noqa: ASYNC220
    try:
        await wait_healthy(env, process)
    except BaseException:
        kill(process)
        raise
    return process


async def restart(env: dict[str, str]) -> subprocess.Popen[bytes]:
    """`start` on fresh ports, written into `env`: a killed process's ports may still be held."""
    env.update(fresh_ports())
    return await start(env)


def kill(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the process unless it has ended, and reap it."""
    if process.poll() is None:
        process.kill()
    process.wait()


@asynccontextmanager
async def serving(
    env: dict[str, str], stderr: int | IO[bytes] = subprocess.DEVNULL
) -> AsyncIterator[subprocess.Popen[bytes]]:
    """The command, healthy, for the block; killed at the end if the block did not stop it."""
    process = await start(env, stderr)
    try:
        yield process
    finally:
        kill(process)
