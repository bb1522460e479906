"""`challenge-service grants list | resolve`: what operators do with in-doubt reward grants."""

from __future__ import annotations

import os
import subprocess
from collections.abc import AsyncIterator, Awaitable
from typing import Any

import psycopg
import pytest

from challenge_service.claims.grants import list_grants, resolve_grant
from challenge_service.claims.ledger import GrantKey
from challenge_service.claims.service import ClaimHooks
from challenge_service.errors import DomainError, ErrorCode
from tests.helpers.api import assert_error
from tests.helpers.claims import (
    NOW,
    TODAY_END,
    USER,
    claim,
    claim_service,
    crash,
    fetch,
    ledger_rows,
    progress_status,
    put_grant,
    put_row,
    use_mock_rewards,
)
from tests.helpers.process import COMMAND
from tests.helpers.service import REPO, RunningService

OPERATOR = "ops@example"
KEY = GrantKey(USER, "first-login", "")


async def refusal(call: Awaitable[object]) -> DomainError:
    with pytest.raises(DomainError) as refused:
        await call
    return refused.value


@pytest.fixture
async def conn(database_url: str) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as connection:
        yield connection


async def test_list_shows_unresolved_grants_oldest_first(
    database_url: str, conn: psycopg.AsyncConnection[Any]
) -> None:
    await put_grant(database_url, "pending", user_id="a", age_s=10)
    await put_grant(database_url, "in_doubt", user_id="b", age_s=300)
    await put_grant(database_url, "granted", user_id="c", age_s=600)
    await put_grant(database_url, "failed", user_id="d", age_s=600)

    assert [g.user_id for g in await list_grants(conn)] == ["b", "a"]
    assert [g.user_id for g in await list_grants(conn, older_than_s=60)] == ["b"]
    assert [g.user_id for g in await list_grants(conn, ("pending",))] == ["a"]
    assert [g.user_id for g in await list_grants(conn, ("failed",))] == ["d"]
    assert (await refusal(list_grants(conn, older_than_s=-1))).code == ErrorCode.INVALID_INPUT


async def test_resolve_as_granted_marks_the_goal_claimed(
    database_url: str, conn: psycopg.AsyncConnection[Any]
) -> None:
    await put_row(database_url, "first-login", "onboarding")
    await put_grant(database_url, "pending")

    resolved = await resolve_grant(conn, KEY, "granted", OPERATOR, NOW)

    assert resolved.goal_marked_claimed
    assert resolved.grant.state == "granted"
    assert await progress_status(database_url, "first-login") == ("claimed", NOW)
    assert await list_grants(conn) == []
    refused = await refusal(resolve_grant(conn, KEY, "failed", OPERATOR))
    assert (refused.code, refused.message) == (
        ErrorCode.GRANT_ALREADY_RESOLVED,
        "grant is already granted; only pending or in_doubt grants are resolved",
    )


async def test_resolve_as_failed_makes_the_goal_claimable(
    database_url: str, conn: psycopg.AsyncConnection[Any]
) -> None:
    await put_row(database_url, "first-login", "onboarding")
    await put_grant(database_url, "in_doubt")

    resolved = await resolve_grant(conn, KEY, "failed", OPERATOR)

    assert not resolved.goal_marked_claimed
    assert (resolved.grant.state, resolved.grant.last_error) == (
        "failed",
        "resolved as failed by an operator",
    )
    assert await progress_status(database_url, "first-login") == ("completed", None)


async def test_resolve_never_claims_a_newer_period(
    database_url: str, conn: psycopg.AsyncConnection[Any]
) -> None:
    # The grant was for yesterday's period; the row has since been reset into today's.
    key = GrantKey(USER, "daily-login", "2025-03-11T00:00:00Z")
    await put_row(database_url, "daily-login", "daily-challenges", "in_progress", expires_at=TODAY_END)
    await put_grant(
        database_url, "pending", goal_id=key.goal_id, period=key.period, expires_at=NOW.replace(hour=0)
    )

    resolved = await resolve_grant(conn, key, "granted", OPERATOR)

    assert resolved.grant.state == "granted"
    assert not resolved.goal_marked_claimed
    assert (await progress_status(database_url, "daily-login"))[0] == "in_progress"


async def test_resolve_of_an_unknown_grant_is_refused(conn: psycopg.AsyncConnection[Any]) -> None:
    refused = await refusal(resolve_grant(conn, KEY, "granted", OPERATOR))
    assert (refused.code, refused.message) == (
        ErrorCode.GRANT_NOT_FOUND,
        f"no grant for user={USER!r} goal='first-login' period=''",
    )


async def test_crash_then_operator_list_and_resolve(running: RunningService) -> None:
    """The whole story: the process dies around the grant; claims refuse; an operator settles it."""
    url = running.settings.database_url
    rewards = use_mock_rewards(running)
    for goal_id in ("first-login", "first-match"):
        await put_row(url, goal_id, "onboarding")
    # first-match needs complete-tutorial; give it one so only the crash matters.
    await put_row(url, "complete-tutorial", "onboarding", "claimed")
    # first-login dies after AGS granted it, first-match before AGS heard of it.
    for goal_id, hooks in (
        ("first-login", ClaimHooks(after_grant=crash)),
        ("first-match", ClaimHooks(before_grant=crash)),
    ):
        with pytest.raises(RuntimeError):
            await claim_service(running, hooks).claim(USER, "onboarding", goal_id)
    assert [grant.reward.reward_id for grant in rewards.grants] == ["GOLD"]
    assert_error(await claim(running, "onboarding", "first-login"), 409, 6, "CLAIM_IN_PROGRESS")

    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        listed = await list_grants(conn)
        assert sorted((g.goal_id, g.state, g.attempts) for g in listed) == [
            ("first-login", "pending", 1),
            ("first-match", "pending", 1),
        ]
        # AGS shows first-login was credited: settle it; first-match was not: let the player retry.
        await resolve_grant(conn, GrantKey(USER, "first-login", ""), "granted", OPERATOR, NOW)
        await resolve_grant(conn, GrantKey(USER, "first-match", ""), "failed", OPERATOR)

    assert_error(await claim(running, "onboarding", "first-login"), 409, 6, "GOAL_ALREADY_CLAIMED")
    assert (await claim(running, "onboarding", "first-match")).status_code == 200
    assert len(rewards.grants) == 2
    assert [row[:3] for row in await ledger_rows(url, "first-match")] == [("", "granted", 2)]


async def test_a_wrong_failed_resolution_still_grants_once(running: RunningService) -> None:
    """An operator resolves as failed a grant AGS did apply: the player's next claim repeats it under the
    same grant id, which AGS (here the mock, like AGS fulfillment) applies once."""
    url = running.settings.database_url
    rewards = use_mock_rewards(running)
    await put_row(url, "first-login", "onboarding")
    with pytest.raises(RuntimeError):
        await claim_service(running, ClaimHooks(after_grant=crash)).claim(USER, "onboarding", "first-login")
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await resolve_grant(conn, KEY, "failed", OPERATOR)

    assert (await claim(running, "onboarding", "first-login")).status_code == 200
    assert len(rewards.grants) == 1
    assert [row[:3] for row in await ledger_rows(url, "first-login")] == [("", "granted", 2)]


def _run(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url, "CHALLENGE_CONFIG_PATH": str(REPO / "challenges.json")}
    return subprocess.run([*COMMAND, "grants", *args], env=env, capture_output=True, text=True, timeout=60)


@pytest.mark.slow
async def test_the_grants_command(database_url: str) -> None:
    await put_row(database_url, "first-login", "onboarding")
    await put_grant(database_url, "pending", age_s=120)

    listed = _run(database_url, "list", "--older-than", "60")
    assert listed.returncode == 0, listed.stderr
    header, row = listed.stdout.splitlines()
    assert header.split("\t")[:5] == ["USER", "GOAL", "PERIOD", "INDEX", "STATE"]
    assert row.split("\t")[:6] == [USER, "first-login", "''", "0", "pending", "1"]
    assert _run(database_url, "list", "--older-than", "600").stdout.count("\n") == 1  # header only

    resolved = _run(database_url, "resolve", USER, "first-login", "''", "--as", "granted")
    assert resolved.returncode == 0, resolved.stderr
    assert "is now granted and the goal is claimed" in resolved.stdout
    assert (await progress_status(database_url, "first-login"))[0] == "claimed"

    again = _run(database_url, "resolve", USER, "first-login", "", "--as", "failed")
    assert again.returncode == 1
    assert "already granted" in again.stderr
    assert _run(database_url, "list", "--state", "granted").stdout.count("\n") == 2


@pytest.mark.slow
async def test_the_grants_command_resolves_by_grant_id_and_is_audited(database_url: str) -> None:
    await put_row(database_url, "first-login", "onboarding")
    await put_grant(database_url, "in_doubt")
    [_, row] = _run(database_url, "list").stdout.splitlines()
    grant_id = row.split("\t")[-1]

    resolved = _run(database_url, "resolve", grant_id, "--as", "failed")

    assert resolved.returncode == 0, resolved.stderr
    assert f"grant {grant_id} of first-login for {USER} (no rotation) is now failed" in resolved.stdout
    [(actor, action, request)] = await fetch(database_url, "SELECT actor, action, request FROM admin_audit")
    assert (actor.startswith("cli"), action, request) == (True, "resolve_grant", {"as": "failed"})
    for wrong in ([USER, "first-login"], ["not-hex"], ["f" * 32], [USER, "first-login", "", "x"]):
        refused = _run(database_url, "resolve", *wrong, "--as", "granted")
        assert refused.returncode in (1, 2), refused
        assert refused.stderr


@pytest.mark.slow
async def test_the_grants_command_names_one_reward_of_several_by_its_index(database_url: str) -> None:
    await put_row(database_url, "first-login", "onboarding")
    await put_grant(database_url, "granted")
    await put_grant(database_url, "in_doubt", reward=("ITEM", "SWORD", 1), reward_index=1)
    [_, row] = _run(database_url, "list").stdout.splitlines()
    assert row.split("\t")[3:5] == ["1", "in_doubt"]

    resolved = _run(database_url, "resolve", USER, "first-login", "''", "1", "--as", "granted")

    assert resolved.returncode == 0, resolved.stderr
    assert "is now granted and the goal is claimed" in resolved.stdout
    assert [row[:2] for row in await ledger_rows(database_url, "first-login")] == [("", "granted")] * 2
