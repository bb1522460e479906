"""Catalog hot reload: `Service.reload_catalog()`, the optional file watch and SIGHUP on the real command.

A valid file replaces the catalog for REST and events alike; an invalid one is rejected with every
problem logged, the old catalog kept and `challenge_catalog_reloads_total{result="rejected"}` moved.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import signal
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from grpclib.client import Channel
from prometheus_client import REGISTRY
from structlog.testing import capture_logs

from challenge_service.api.views import encoder_for
from challenge_service.app import Service
from tests.helpers.db import row
from tests.helpers.events import EventClient
from tests.helpers.process import service_env, start
from tests.helpers.service import REPO, in_process, make_settings
from tests.helpers.waiting import eventually

USER = {"X-Mock-User-Id": "reload-player"}
NEW_CHALLENGE, NEW_GOAL, NEW_STAT = "reloaded", "win-three", "reload_wins"


def _with_new_goal(document: dict[str, Any]) -> dict[str, Any]:
    goal = {
        "goalId": NEW_GOAL,
        "name": "Three wins",
        "description": "Added by a hot reload.",
        "eventSource": "statistic",
        "requirement": {"statCode": NEW_STAT, "operator": ">=", "targetValue": 3},
        "reward": {"type": "WALLET", "rewardId": "GOLD", "quantity": 10},
    }
    challenge = {"challengeId": NEW_CHALLENGE, "name": "Reloaded", "goals": [goal]}
    return {**document, "challenges": [*document["challenges"], challenge]}


def _write(path: Path, document: dict[str, Any]) -> None:
    # Write-then-rename, as a deploy would: a reader never sees half a file.
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(document))
    tmp.replace(path)


def _read(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text())
    return document


def _reloads(result: str) -> float:
    return REGISTRY.get_sample_value("challenge_catalog_reloads_total", {"result": result}) or 0.0


def _challenge_ids(listing: httpx.Response) -> list[str]:
    assert listing.status_code == 200, listing.text
    return [c["challengeId"] for c in listing.json()["challenges"]]


@dataclass
class Reloadable:
    service: Service
    http: httpx.AsyncClient
    grpc: Channel
    config: Path
    database_url: str
    original: dict[str, Any]

    async def listed(self) -> list[str]:
        return _challenge_ids(await self.http.get("/challenge/v1/challenges", headers=USER))


async def _start(database_url: str, config: Path, **overrides: object) -> AsyncIterator[Reloadable]:
    settings = make_settings(database_url, challenge_config_path=str(config), **overrides)
    async with in_process(settings) as running:
        channel = Channel("127.0.0.1", settings.grpc_port)
        try:
            yield Reloadable(running.service, running.http, channel, config, database_url, _read(config))
        finally:
            channel.close()


@pytest.fixture
def config(tmp_path: Path) -> Path:
    copy = tmp_path / "challenges.json"
    shutil.copyfile(REPO / "challenges.json", copy)
    return copy


@pytest.fixture
async def reloadable(database_url: str, config: Path) -> AsyncIterator[Reloadable]:
    async for started in _start(database_url, config):
        yield started


@pytest.fixture
async def watched(database_url: str, config: Path) -> AsyncIterator[Reloadable]:
    async for started in _start(database_url, config, catalog_watch_s=1):
        yield started


async def test_a_valid_file_swaps_in_for_rest_and_events(reloadable: Reloadable) -> None:
    services = reloadable.service.services
    assert services is not None
    old = services.catalog
    assert NEW_CHALLENGE not in await reloadable.listed()
    ok_before = _reloads("ok")

    _write(reloadable.config, _with_new_goal(reloadable.original))
    assert await reloadable.service.reload_catalog() is True

    assert services.catalog is not old
    assert services.catalog.goal(NEW_GOAL) is not None
    assert old.goal(NEW_GOAL) is None  # the old object is untouched: running requests keep it
    assert encoder_for(services.catalog) is not encoder_for(old)
    assert _reloads("ok") == ok_before + 1
    assert (await reloadable.listed())[-1] == NEW_CHALLENGE

    activated = await reloadable.http.put(
        f"/challenge/v1/challenges/{NEW_CHALLENGE}/goals/{NEW_GOAL}/active",
        json={"is_active": True},
        headers=USER,
    )
    assert activated.status_code == 200, activated.text
    # Durable acknowledgement: the row is updated when the call returns.
    await EventClient(reloadable.grpc).stat(USER["X-Mock-User-Id"], NEW_STAT, 3)
    progress = await row(reloadable.database_url, USER["X-Mock-User-Id"], NEW_GOAL)
    assert progress is not None
    assert (progress.progress, progress.status) == (3, "completed")

    one = await reloadable.http.get(f"/challenge/v1/challenges/{NEW_CHALLENGE}", headers=USER)
    assert one.status_code == 200
    (goal,) = one.json()["goals"]
    assert (goal["goalId"], goal["progress"], goal["status"]) == (NEW_GOAL, 3, "completed")


async def test_a_removed_goal_stops_matching_events(reloadable: Reloadable) -> None:
    _write(reloadable.config, _with_new_goal(reloadable.original))
    assert await reloadable.service.reload_catalog() is True
    user = USER["X-Mock-User-Id"]
    activated = await reloadable.http.put(
        f"/challenge/v1/challenges/{NEW_CHALLENGE}/goals/{NEW_GOAL}/active",
        json={"is_active": True},
        headers=USER,
    )
    assert activated.status_code == 200, activated.text

    _write(reloadable.config, reloadable.original)
    assert await reloadable.service.reload_catalog() is True
    assert NEW_CHALLENGE not in await reloadable.listed()
    # No goal for the code any more: acknowledged, ignored.
    await EventClient(reloadable.grpc).stat(user, NEW_STAT, 3)
    progress = await row(reloadable.database_url, user, NEW_GOAL)
    assert progress is not None
    assert progress.progress == 0


async def test_an_invalid_file_is_rejected_and_the_old_catalog_kept(reloadable: Reloadable) -> None:
    services = reloadable.service.services
    assert services is not None
    old = services.catalog
    listed = await reloadable.listed()
    rejected_before, ok_before = _reloads("rejected"), _reloads("ok")

    bad = _with_new_goal(reloadable.original)
    bad["challenges"][-1]["name"] = ""
    del bad["challenges"][-1]["goals"][0]["reward"]
    _write(reloadable.config, bad)
    with capture_logs() as logs:
        assert await reloadable.service.reload_catalog() is False

    assert services.catalog is old
    assert await reloadable.listed() == listed
    assert _reloads("rejected") == rejected_before + 1
    assert _reloads("ok") == ok_before
    (entry,) = [e for e in logs if e["event"].startswith("catalog reload rejected")]
    assert entry["log_level"] == "error"
    assert entry["path"] == str(reloadable.config)
    problems = entry["problems"]
    index = len(bad["challenges"]) - 1
    assert any(p.startswith(f"challenges[{index}].name") for p in problems), problems
    assert any(p.startswith(f"challenges[{index}].goals[0].reward") for p in problems), problems

    # Not JSON at all, and then no file: rejected the same way.
    reloadable.config.write_text("{not json")
    assert await reloadable.service.reload_catalog() is False
    reloadable.config.unlink()
    assert await reloadable.service.reload_catalog() is False
    assert services.catalog is old
    assert _reloads("rejected") == rejected_before + 3

    # A fixed file is taken on the next reload.
    _write(reloadable.config, _with_new_goal(reloadable.original))
    assert await reloadable.service.reload_catalog() is True
    assert (await reloadable.listed())[-1] == NEW_CHALLENGE


async def test_the_file_watch_reloads_a_changed_file(watched: Reloadable) -> None:
    _write(watched.config, _with_new_goal(watched.original))

    async def reloaded() -> bool:
        return NEW_CHALLENGE in await watched.listed()

    await eventually(reloaded, 10, interval_s=0.1)


async def _metric(http: httpx.AsyncClient, url: str, line_start: str) -> float:
    text = (await http.get(url)).text
    for line in text.splitlines():
        if line.startswith(line_start):
            return float(line.split()[-1])
    return 0.0


@pytest.mark.slow
async def test_sighup_reloads_the_running_command(database_url: str, config: Path) -> None:
    env = service_env(database_url, CHALLENGE_CONFIG_PATH=str(config))
    original = _read(config)
    rejected = 'challenge_catalog_reloads_total{result="rejected"}'
    process = await start(env, stderr=subprocess.PIPE)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{env['HTTP_PORT']}", timeout=10) as http:

            async def listed() -> list[str]:
                return _challenge_ids(await http.get("/challenge/v1/challenges", headers=USER))

            async def refused() -> bool:
                assert process.poll() is None, "SIGHUP stopped the service"
                return await _metric(http, "/metrics", rejected) >= 1

            async def reloaded() -> bool:
                assert process.poll() is None, "SIGHUP stopped the service"
                return NEW_CHALLENGE in await listed()

            before = await listed()
            # An invalid file first: rejected, the process keeps serving the old catalog.
            _write(config, {"challenges": []})
            process.send_signal(signal.SIGHUP)
            await eventually(refused, 10, interval_s=0.1)
            assert await listed() == before

            _write(config, _with_new_goal(original))
            process.send_signal(signal.SIGHUP)
            await eventually(reloaded, 10, interval_s=0.1)

        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.to_thread(process.communicate, timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0
    entries = [json.loads(line) for line in stderr.decode().splitlines() if line.startswith("{")]
    events = [entry["event"] for entry in entries]
    assert "catalog reloaded" in events
    (rejection,) = [e for e in entries if e["event"].startswith("catalog reload rejected")]
    assert rejection["problems"]
