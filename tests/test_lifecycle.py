"""The real command: start-up, one-line settings errors, and clean shutdown on SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.helpers.process import COMMAND, http_url, service_env, start
from tests.helpers.service import REPO


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
async def test_serves_and_stops_cleanly_on_signal(database_url: str, signum: signal.Signals) -> None:
    env = service_env(database_url, BASE_PATH="/games")
    process = await start(env, stderr=subprocess.PIPE)
    try:
        async with httpx.AsyncClient() as http:
            listing = await http.get(f"{http_url(env)}/v1/challenges", headers={"X-Mock-User-Id": "u1"})
        assert listing.status_code == 200
        assert listing.json()["challenges"][0]["challengeId"] == "onboarding"

        started = time.monotonic()
        process.send_signal(signum)
        _, stderr = await asyncio.to_thread(process.communicate, timeout=15)
        assert time.monotonic() - started < 10
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0
    messages = [json.loads(line)["event"] for line in stderr.decode().splitlines() if line.startswith("{")]
    assert "service started" in messages
    assert messages.index("shutting down") < messages.index("service stopped")


def test_a_bad_setting_stops_start_up_with_one_line() -> None:
    result = subprocess.run(
        [*COMMAND, "serve"], env={**os.environ, "HTTP_PORT": "eighty"}, capture_output=True, timeout=30
    )
    assert result.returncode == 2
    assert result.stderr.decode().strip().splitlines() == [
        "challenge-service: HTTP_PORT='eighty' is invalid: expected an integer port 1..65535"
    ]


def test_an_invalid_catalog_stops_start_up_listing_every_problem(tmp_path: Path) -> None:
    bad = tmp_path / "challenges.json"
    bad.write_text(json.dumps({"challenges": [{"challengeId": "", "name": "", "goals": []}]}))
    env = {**os.environ, "CHALLENGE_CONFIG_PATH": str(bad), "PLUGIN_GRPC_SERVER_AUTH_ENABLED": "false"}
    env["REWARD_CLIENT_MODE"] = "mock"
    result = subprocess.run([*COMMAND, "serve"], env=env, capture_output=True, timeout=30)
    assert result.returncode == 2
    stderr = result.stderr.decode()
    assert "challenges[0].challengeId: must not be empty" in stderr
    assert "challenges[0].name: must not be empty" in stderr
    assert "challenges[0].goals" in stderr


def test_check_config_validates_without_starting(tmp_path: Path) -> None:
    ok = subprocess.run([*COMMAND, "check-config", str(REPO / "challenges.json")], capture_output=True)
    assert ok.returncode == 0
    assert b": ok (" in ok.stdout

    bad = tmp_path / "bad.json"
    bad.write_text('{"challenges": [{"challengeId": "c", "name": "C", "goals": [{"goalId": "g"}]}]}')
    result = subprocess.run([*COMMAND, "check-config", str(bad)], capture_output=True)
    assert result.returncode == 1
    lines = result.stderr.decode().splitlines()
    assert lines[0].endswith("problem(s)")
    assert any("challenges[0].goals[0].name" in line for line in lines[1:])


def test_an_unreachable_database_stops_start_up_with_one_line(tmp_path: Path) -> None:
    env = service_env(f"postgresql://nobody@/challenge?host={tmp_path}")
    result = subprocess.run([*COMMAND, "serve"], env=env, capture_output=True, timeout=30)
    assert result.returncode == 1
    (line,) = [line for line in result.stderr.decode().splitlines() if line.startswith("challenge-service:")]
    assert line.startswith("challenge-service: cannot reach the database: ")


def test_serving_freezes_the_start_up_heap() -> None:
    # In a child process: freezing the test runner's own heap would outlive this test.
    code = (
        "import gc\n"
        "from challenge_service.app import GC_YOUNG_THRESHOLD, settle_heap\n"
        "assert gc.get_freeze_count() == 0\n"
        "settle_heap()\n"
        "assert gc.get_freeze_count() > 10_000, gc.get_freeze_count()\n"
        "assert gc.get_threshold()[0] == GC_YOUNG_THRESHOLD > 700\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
