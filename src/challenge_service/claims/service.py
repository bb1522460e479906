"""Claiming a goal's rewards: each reward exactly once per goal and rotation period.

    tx1 (short)   lock the progress row, run the checks in order (rules.py), record the attempt of each
                  reward not granted yet in the ledger ('pending', one row per reward), commit
    grant         call the reward client for each of them, outside any transaction and without holding
                  a connection
    tx2           the granted rewards 'granted', and the goal 'claimed' once every reward of the period
                  is; each other one 'failed' (claimable again) or 'in_doubt' (AGS may have granted it)

A reward whose ledger row is 'pending' (another claim is granting it, or one died mid-grant), 'in_doubt'
or 'granted' is never granted again by a claim, so no grant is ever repeated blindly; only a verified
failure is retried, and a retry after a partial failure grants only what is missing. Unresolved rows
are the reconciler's (`reconciler.py`), which settles them with AGS; every attempt of a row, the
claim's and the reconciler's, carries the row's grant id.

The same flow serves the player's claim call (`claim`) and the auto-claimer (`auto_claim`, for goals
whose claim the event flush recorded as owed); only the checks differ (rules.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

import structlog
from psycopg_pool import AsyncConnectionPool

from challenge_service.catalog import Catalog, Goal, Reward
from challenge_service.claims import errors, ledger
from challenge_service.claims.rules import auto_refusal, claim_period, refusal
from challenge_service.errors import DomainError
from challenge_service.metrics import REWARD_GRANTS
from challenge_service.rewards import RewardClient, RewardGrantError
from challenge_service.rules.progress import Progress
from challenge_service.store.database import connection
from challenge_service.store.progress import user_rows

log = structlog.get_logger(__name__)

Hook = Callable[[ledger.GrantKey], Awaitable[None]]
Checks = Callable[[Goal, Progress | None, dict[str, Progress], Catalog, datetime], DomainError | None]


async def _no_hook(key: ledger.GrantKey) -> None:
    return None


@dataclass(frozen=True, slots=True)
class ClaimHooks:
    """Fault-injection points for tests; production uses the no-op defaults. Both run once per reward.

    `before_grant`: the 'pending' ledger rows are committed, the reward client not yet called.
    `after_grant`: the reward client returned success, the outcome is not yet recorded — raising or
    cancelling here is a crash between the grant and its commit.
    """

    before_grant: Hook = field(default=_no_hook)
    after_grant: Hook = field(default=_no_hook)


@dataclass(frozen=True, slots=True)
class GrantOutcome:
    """What the reward client's answer means for the ledger, the metric and the player."""

    state: Literal["granted", "failed", "in_doubt"]
    error: str = ""  # for the ledger and operators
    reply: str = ""  # for the player (the 502's message)
    # A failure that trying again later may fix (AGS down or overloaded), as the client judged it.
    retryable: bool = True


@dataclass(frozen=True, slots=True)
class Claimed:
    goal: Goal
    claimed_at: datetime


@dataclass(frozen=True, slots=True)
class Attempt:
    """What one run of the flow did: the ledger rows it granted (or tried to), and the outcome."""

    goal: Goal
    # The rows this run took ('pending' at tx1) with the reward client's answer for each.
    tried: list[tuple[ledger.Grant, GrantOutcome]]
    # The goal is claimed: every reward of its period is granted.
    claimed: bool
    # The rows of the period this run did not take and that are not granted ('pending' elsewhere, or
    # 'in_doubt'): the reconciler's.
    unresolved: list[ledger.Grant]


def _ledger_refusal(grant: ledger.Grant) -> DomainError:
    if grant.state == "granted":
        return errors.goal_already_claimed(grant.goal_id)
    if grant.state == "in_doubt":
        return errors.grant_in_doubt(grant.goal_id)
    return errors.claim_in_progress(grant.goal_id)


class ClaimService:
    def __init__(
        self,
        catalog: Catalog,
        pool: AsyncConnectionPool,
        rewards: RewardClient,
        clock: Callable[[], datetime],
        hooks: ClaimHooks | None = None,
    ) -> None:
        self._catalog = catalog
        self._pool = pool
        self._rewards = rewards
        self._clock = clock
        self._hooks = hooks or ClaimHooks()

    async def claim(self, user_id: str, challenge_id: str, goal_id: str) -> Claimed:
        """The player's claim: every reward of the goal granted and the goal claimed, or an error."""
        goal = self._catalog.require_goal(challenge_id, goal_id)
        now = self._clock()
        attempt = await self._run(user_id, goal, now, refusal)
        if attempt.claimed:
            log.info("goal_claimed", user_id=user_id, goal_id=goal.goal_id, rewards=len(attempt.tried))
            return Claimed(goal, now)
        failed = [outcome for _, outcome in attempt.tried if outcome.state != "granted"]
        if failed:
            raise errors.reward_grant_failed(_reply(failed, len(goal.reward_list)))
        if attempt.unresolved:
            raise _ledger_refusal(attempt.unresolved[0])
        # Every reward granted, yet the row had moved to a new period while AGS answered: the grants
        # belong to the old one.
        log.warning("claim_granted_after_rotation", user_id=user_id, goal_id=goal.goal_id)
        return Claimed(goal, now)

    async def auto_claim(self, user_id: str, goal: Goal) -> Attempt | DomainError:
        """The auto-claimer's claim of an owed goal: the attempt, or why it must not be made."""
        try:
            return await self._run(user_id, goal, self._clock(), auto_refusal)
        except DomainError as refused:
            return refused

    async def _run(self, user_id: str, goal: Goal, now: datetime, checks: Checks) -> Attempt:
        key, started, unresolved = await self._begin(user_id, goal, now, checks)
        tried: list[tuple[ledger.Grant, GrantOutcome]] = []
        for grant in started:
            await self._hooks.before_grant(grant.key)
            outcome = await self._grant(user_id, goal, grant)
            REWARD_GRANTS.labels(outcome.state).inc()
            if outcome.state == "granted":
                # A crash or cancellation from here until tx2 commits leaves the row 'pending': in doubt.
                await self._hooks.after_grant(grant.key)
            tried.append((grant, outcome))
        claimed = await self._record(key, tried, now)
        return Attempt(goal, tried, claimed, unresolved)

    async def _grant(self, user_id: str, goal: Goal, grant: ledger.Grant) -> GrantOutcome:
        """Ask the reward client; every way it can answer becomes one of the three outcomes."""
        try:
            await self._rewards.grant(user_id, grant.reward, grant.grant_id)
        except RewardGrantError as error:
            if error.in_doubt:
                unknown = "; the outcome is unknown and is being settled with AGS"
                return GrantOutcome(
                    "in_doubt", error.message, f"reward grant failed: {error.message}{unknown}"
                )
            return GrantOutcome(
                "failed", error.message, f"reward grant failed: {error.message}", retryable=error.retryable
            )
        except Exception as error:
            # Not the client's declared failure (a bug, an unexpected transport error): whether AGS
            # granted is unknown, so never let a retry grant again.
            log.exception("reward_grant_error", user_id=user_id, goal_id=goal.goal_id)
            return GrantOutcome(
                "in_doubt", f"unexpected error: {error!r}", "reward grant failed: outcome unknown"
            )
        return GrantOutcome("granted")

    async def _begin(
        self, user_id: str, goal: Goal, now: datetime, checks: Checks
    ) -> tuple[ledger.GrantKey, list[ledger.Grant], list[ledger.Grant]]:
        """tx1: checks under the progress-row lock, then a 'pending' ledger row for each reward not yet
        granted, committed. The period's key, the rows taken, and the rows another claim or the
        reconciler holds."""
        async with connection(self._pool) as conn, conn.transaction():
            row = await ledger.lock_progress(conn, user_id, goal.goal_id)
            rows = await user_rows(conn, user_id) if goal.prerequisites and row is not None else {}
            refused = checks(goal, row, rows, self._catalog, now)
            if refused is not None:
                raise refused
            assert row is not None
            rotation = goal.rotation if goal.rotating else None
            key = ledger.GrantKey(user_id, goal.goal_id, claim_period(rotation, row.expires_at))
            rewards: Sequence[Reward] = goal.reward_list
            started = await ledger.begin_attempts(conn, key, row.expires_at, rewards)
            unresolved: list[ledger.Grant] = []
            if len(started) < len(rewards):
                taken = {grant.reward_index for grant in started}
                others = await ledger.period_grants(conn, key)
                unresolved = [g for g in others if g.reward_index not in taken and g.state != "granted"]
                if not started:
                    if unresolved:
                        raise _ledger_refusal(unresolved[0])
                    raise errors.goal_already_claimed(goal.goal_id)
        return key, started, unresolved

    async def _record(
        self, key: ledger.GrantKey, tried: list[tuple[ledger.Grant, GrantOutcome]], now: datetime
    ) -> bool:
        """tx2: every outcome into the ledger; the goal claimed when its period's rewards are all granted."""
        for grant, outcome in tried:
            if outcome.state != "granted":
                log.warning(
                    "reward_grant_not_recorded_as_granted",
                    **_fields(grant.key),
                    state=outcome.state,
                    error=outcome.error,
                )
        async with connection(self._pool) as conn, conn.transaction():
            granted = [grant.reward_index for grant, outcome in tried if outcome.state == "granted"]
            claimed = await ledger.record_grants(conn, key, granted, now)
            for grant, outcome in tried:
                if outcome.state != "granted":
                    state: Literal["failed", "in_doubt"] = (
                        "failed" if outcome.state == "failed" else "in_doubt"
                    )
                    # Only our own 'pending' row: the reconciler or an operator may have settled it
                    # meanwhile.
                    await ledger.mark_not_granted(
                        conn, grant.key, state, outcome.error, only_from=("pending",)
                    )
        return claimed


def _reply(failed: list[GrantOutcome], rewards: int) -> str:
    """The 502's message: the first failure, and how much of a several-reward goal is still missing."""
    reply = failed[0].reply
    if rewards > 1:
        reply += f" ({len(failed)} of {rewards} rewards not granted; a new claim grants only those)"
    return reply


def _fields(key: ledger.GrantKey) -> dict[str, str | int]:
    return {"user_id": key.user_id, "goal_id": key.goal_id, "period": key.period, "reward": key.reward_index}
