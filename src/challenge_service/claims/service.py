"""Claiming a goal's reward: exactly one grant per goal per rotation period.

    tx1 (short)   lock the progress row, run the checks in order (rules.py), record the attempt in the ledger
                  ('pending'), commit
    grant         call the reward client outside any transaction and without holding a connection
    tx2           success: ledger 'granted' and the goal 'claimed', together
                  failure: ledger 'failed' (claimable again) or 'in_doubt' (AGS may have granted it)

A claim that finds the ledger row 'pending' (another claim is granting, or one died mid-grant),
'in_doubt' or 'granted' never calls the reward client, so no grant is ever repeated blindly; only a
verified failure is retried. Unresolved rows are the reconciler's (`reconciler.py`), which settles them
with AGS; every attempt of a row, the claim's and the reconciler's, carries the row's grant id.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

import structlog
from psycopg_pool import AsyncConnectionPool

from challenge_service.catalog import Catalog, Goal
from challenge_service.claims import errors, ledger
from challenge_service.claims.rules import claim_period, refusal
from challenge_service.errors import DomainError
from challenge_service.metrics import REWARD_GRANTS
from challenge_service.rewards import RewardClient, RewardGrantError
from challenge_service.store.database import connection
from challenge_service.store.progress import user_rows

log = structlog.get_logger(__name__)

Hook = Callable[[ledger.GrantKey], Awaitable[None]]


async def _no_hook(key: ledger.GrantKey) -> None:
    return None


@dataclass(frozen=True, slots=True)
class ClaimHooks:
    """Fault-injection points for tests; production uses the no-op defaults.

    `before_grant`: the 'pending' ledger row is committed, the reward client not yet called.
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


@dataclass(frozen=True, slots=True)
class Claimed:
    goal: Goal
    claimed_at: datetime


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
        goal = self._catalog.require_goal(challenge_id, goal_id)
        now = self._clock()
        key, grant_id = await self._begin(user_id, goal, now)
        await self._hooks.before_grant(key)
        outcome = await self._grant(user_id, goal, grant_id)
        REWARD_GRANTS.labels(outcome.state).inc()
        if outcome.state != "granted":
            await self._record_failure(key, outcome.error, in_doubt=outcome.state == "in_doubt")
            raise errors.reward_grant_failed(outcome.reply)
        # A crash or cancellation from here until tx2 commits leaves the row 'pending': in doubt.
        await self._hooks.after_grant(key)
        async with connection(self._pool) as conn, conn.transaction():
            claimed = await ledger.mark_granted(conn, key, now)
        if not claimed:
            # The row moved to a new period while AGS answered; the grant belongs to the old one.
            log.warning("claim_granted_after_rotation", user_id=user_id, goal_id=goal.goal_id)
        log.info("goal_claimed", user_id=user_id, goal_id=goal.goal_id, period=key.period)
        return Claimed(goal, now)

    async def _grant(self, user_id: str, goal: Goal, grant_id: str) -> GrantOutcome:
        """Ask the reward client; every way it can answer becomes one of the three outcomes."""
        try:
            await self._rewards.grant(user_id, goal.reward, grant_id)
        except RewardGrantError as error:
            if error.in_doubt:
                unknown = "; the outcome is unknown and is being settled with AGS"
                return GrantOutcome(
                    "in_doubt", error.message, f"reward grant failed: {error.message}{unknown}"
                )
            return GrantOutcome("failed", error.message, f"reward grant failed: {error.message}")
        except Exception as error:
            # Not the client's declared failure (a bug, an unexpected transport error): whether AGS
            # granted is unknown, so never let a retry grant again.
            log.exception("reward_grant_error", user_id=user_id, goal_id=goal.goal_id)
            return GrantOutcome(
                "in_doubt", f"unexpected error: {error!r}", "reward grant failed: outcome unknown"
            )
        return GrantOutcome("granted")

    async def _begin(self, user_id: str, goal: Goal, now: datetime) -> tuple[ledger.GrantKey, str]:
        """tx1: checks under the progress-row lock, then the ledger's 'pending' row, committed; the row's
        key and grant id."""
        async with connection(self._pool) as conn, conn.transaction():
            row = await ledger.lock_progress(conn, user_id, goal.goal_id)
            rows = await user_rows(conn, user_id) if goal.prerequisites and row is not None else {}
            refused = refusal(goal, row, rows, self._catalog, now)
            if refused is not None:
                raise refused
            assert row is not None
            schedule = goal.rotation.schedule if goal.rotating and goal.rotation else None
            key = ledger.GrantKey(user_id, goal.goal_id, claim_period(schedule, row.expires_at))
            started, grant = await ledger.begin_attempt(conn, key, row.expires_at, goal.reward)
            if not started:
                raise _ledger_refusal(grant)
        return key, grant.grant_id

    async def _record_failure(self, key: ledger.GrantKey, message: str, *, in_doubt: bool) -> None:
        state: Literal["failed", "in_doubt"] = "in_doubt" if in_doubt else "failed"
        log.warning("reward_grant_not_recorded_as_granted", **_fields(key), state=state, error=message)
        async with connection(self._pool) as conn, conn.transaction():
            # Only our own 'pending' row: the reconciler or an operator may have settled it meanwhile.
            await ledger.mark_not_granted(conn, key, state, message, only_from=("pending",))


def _fields(key: ledger.GrantKey) -> dict[str, str]:
    return {"user_id": key.user_id, "goal_id": key.goal_id, "period": key.period}
