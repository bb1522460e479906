"""`challenge-service demo …` against the whole service in this process (REST + gRPC, mock auth)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from challenge_service.__main__ import main
from tests.helpers.service import RunningService, free_port, set_clock


def demo_argv(running: RunningService, *command: str, user: str = "u1") -> list[str]:
    settings = running.settings
    return [
        "demo",
        "--url",
        f"http://127.0.0.1:{settings.http_port}{settings.base_path}",
        "--grpc",
        f"127.0.0.1:{settings.grpc_port}",
        "--namespace",
        settings.namespace,
        "--user",
        user,
        *command,
    ]


async def run(argv: list[str]) -> int:
    # The service runs on this test's event loop; the command runs its own loop in a worker thread.
    return await asyncio.to_thread(main, argv)


def json_out(text: str) -> dict[str, object]:
    """The command's JSON document; the in-process service may log lines around it on the same stream."""
    start = 0 if text.startswith("{") else text.index("\n{") + 1
    document, _ = json.JSONDecoder().raw_decode(text, start)
    assert isinstance(document, dict)
    return document


def goals_of(listing: dict[str, object], challenge_id: str) -> dict[str, dict[str, object]]:
    challenges = listing["challenges"]
    assert isinstance(challenges, list)
    challenge = next(c for c in challenges if c["challengeId"] == challenge_id)
    return {goal["goalId"]: goal for goal in challenge["goals"]}


async def test_a_goal_from_login_event_to_claim(
    running: RunningService, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await run(demo_argv(running, "initialize")) == 0
    initialized = capsys.readouterr().out
    assert "first-login" in initialized and "new assignment(s)" in initialized

    assert await run(demo_argv(running, "login")) == 0
    assert "login event" in capsys.readouterr().out

    # Durable acks: the login's row is committed by the time the call returned.
    assert await run(demo_argv(running, "list", "--json")) == 0
    first_login = goals_of(json_out(capsys.readouterr().out), "onboarding")["first-login"]
    assert (first_login["status"], first_login["progress"]) == ("completed", 1)

    assert await run(demo_argv(running, "list")) == 0
    table = capsys.readouterr().out.splitlines()
    assert any(line.split()[:4] == ["CHALLENGE", "GOAL", "STATUS", "PROGRESS"] for line in table)
    assert any(line.split()[:4] == ["onboarding", "first-login", "completed", "1/1"] for line in table)

    assert await run(demo_argv(running, "claim", "onboarding", "first-login")) == 0
    assert "first-login claimed" in capsys.readouterr().out

    assert await run(demo_argv(running, "show", "onboarding", "--json")) == 0
    shown = json_out(capsys.readouterr().out)
    assert {g["goalId"]: g["status"] for g in shown["goals"]}["first-login"] == "claimed"

    assert await run(demo_argv(running, "claim", "onboarding", "first-login")) == 1
    captured = capsys.readouterr()
    assert "GOAL_ALREADY_CLAIMED" in captured.err and "claimed at" not in captured.out


async def test_stat_event_select_and_toggle(
    running: RunningService, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await run(demo_argv(running, "select", "career", "career-500-matches", "--replace", "--json")) == 0
    selection = json_out(capsys.readouterr().out)
    assert [g["goalId"] for g in selection["selectedGoals"]] == ["career-500-matches"]

    assert await run(demo_argv(running, "stat", "games_played", "7", "--inc", "1")) == 0
    assert "games_played = 7" in capsys.readouterr().out
    assert await run(demo_argv(running, "list", "--active-only", "--json")) == 0
    career = goals_of(json_out(capsys.readouterr().out), "career")
    assert career["career-500-matches"]["progress"] == 7

    assert await run(demo_argv(running, "deactivate", "career", "career-500-matches")) == 0
    assert "Goal deactivated successfully" in capsys.readouterr().out
    assert await run(demo_argv(running, "random", "career", "2", "--exclude-active")) == 0
    assert "2 active goal(s) in career" in capsys.readouterr().out


async def test_refused_request_and_unreachable_service(
    running: RunningService, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await run(demo_argv(running, "show", "no-such-challenge")) == 1
    assert "CHALLENGE_NOT_FOUND" in capsys.readouterr().err

    port = free_port()
    rest = ["demo", "--url", f"http://127.0.0.1:{port}/challenge", "list"]
    assert await run(rest) == 1
    hints = [line for line in capsys.readouterr().err.splitlines() if "is `make run` running?" in line]
    assert len(hints) == 1 and hints[0].startswith(
        "challenge-service demo: cannot connect to http://127.0.0.1"
    )

    assert await run(["demo", "--grpc", f"127.0.0.1:{port}", "login"]) == 1
    assert "is `make run` running?" in capsys.readouterr().err


async def test_a_reader_that_stops_early_gets_no_traceback(running: RunningService) -> None:
    # As in `challenge-service demo list | head`: the reading end is gone before the table is printed.
    # The pipe is closed before the command even starts, so it always writes into a closed pipe.
    process = subprocess.Popen(  # noqa: ASYNC220
        [sys.executable, "-m", "challenge_service", *demo_argv(running, "list")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None
    process.stdout.close()
    _, err = await asyncio.to_thread(process.communicate, timeout=30)
    assert err.decode() == ""
    assert process.returncode == 1


async def test_the_list_shows_each_challenge_state_tags_and_window(
    running: RunningService, capsys: pytest.CaptureFixture[str]
) -> None:
    set_clock(running, datetime(2026, 12, 4, 12, tzinfo=UTC))  # the day before the weekend event
    assert await run(demo_argv(running, "list")) == 0
    lines = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert ["CHALLENGE", "STATE", "TAGS", "WINDOW"] in lines
    assert ["login-bonus", "live", "daily,login"] in lines
    assert not any(line[:1] == ["weekend-brawl"] for line in lines)  # upcoming: not listed by default
    # The auto-claimed bonus and the two rewards of the sprint goal are shown.
    assert any(line[:2] == ["login-bonus", "daily-login-bonus"] and "(auto)" in line for line in lines)
    sprint = next(line for line in lines if line[:2] == ["sprint", "sprint-50-kills"])
    assert "+" in sprint

    assert await run(demo_argv(running, "list", "--state", "upcoming", "--tags", "event")) == 0
    lines = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert [
        "weekend-brawl",
        "upcoming",
        "event,weekend,pvp",
        "2026-12-05T00:00:00Z",
        "–",
        "2026-12-07T00:00:00Z",
    ] in lines
    assert {line[0] for line in lines if len(line) > 1 and line[1] == "brawl-5-wins"} == {"weekend-brawl"}

    assert await run(demo_argv(running, "show", "weekend-brawl")) == 0
    assert "state upcoming, tags event,weekend,pvp, 2026-12-05T00:00:00Z – 2026-12-07T00:00:00Z" in (
        capsys.readouterr().out
    )
