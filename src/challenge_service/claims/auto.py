"""The auto-claimer: grants the rewards of `autoClaim` goals that the event flush completed.

The flush records an owed claim in the UPDATE that completes such a goal (`auto_claim_at`, set to the
flush time; sql/021_challenge_design.sql). Every replica runs this task: woken by its own flusher after
a flush that touched such goals, and every `interval_s` for claims owed by other replicas or left by a
process that died. A cycle:

1. lease — one statement takes up to `batch` owed rows whose `auto_claim_at` has come, skipping rows
   locked elsewhere, and moves their `auto_claim_at` a lease ahead, so no other replica takes them
   meanwhile;
2. claim — each through the claim flow (`ClaimService.auto_claim`): the same ledger, one row per
   reward, so each reward is granted exactly once whatever else claims it (the player's own claim
   call, another replica, a retry after a crash). The goal is marked claimed, and the owed claim
   settled, in the transaction that records the last grant;
3. otherwise — a reward client's failure that a retry may fix, or a grant in doubt or in flight
   elsewhere (the reconciler settles those, and marks the goal claimed): the owed claim waits and is
   taken again after a back-off. A refusal a retry cannot fix — the goal is no longer completed (an
   operator reset it), its prerequisites are not met, AGS refused the reward outright — drops the owed
   claim; the goal stays as it is and, if completed, claimable by hand.

A process killed at any point leaves either an owed row (taken again when its lease runs out) or
'pending' ledger rows (settled by the reconciler): never a second grant.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import psycopg
import structlog
from psycopg_pool import AsyncConnectionPool

from challenge_service.catalog import Catalog
from challenge_service.claims.service import Attempt, ClaimService
from challenge_service.errors import DomainError, ErrorCode
from challenge_service.maintenance.periodic import Periodic, doubling_backoff
from challenge_service.metrics import AUTO_CLAIMS
from challenge_service.rewards import RewardClient

log = structlog.get_logger(__name__)

Connection = psycopg.AsyncConnection[Any]

# Refusals after which the owed claim waits: the ledger holds a grant in flight or in doubt, which the
# reconciler settles (and then marks the goal claimed itself).
_WAITING = (ErrorCode.CLAIM_IN_PROGRESS, ErrorCode.GRANT_IN_DOUBT)


@dataclass(frozen=True, slots=True)
class AutoClaimPolicy:
    interval_s: float = 5.0
    first_delay_s: float = 1.0
    # Longer than a claim's grants can take (the reward client's budget is 10 s a reward).
    lease_s: float = 120.0
    backoff_s: float = 10.0
    max_backoff_s: float = 3600.0
    batch: int = 20
    max_batches: int = 10

    def backoff(self, attempts: int) -> float:
        """Seconds before an owed claim whose grant failed `attempts` times is taken again."""
        return doubling_backoff(self.backoff_s, self.max_backoff_s, attempts)


class Owed(NamedTuple):
    user_id: str
    goal_id: str
    # The row's `auto_claim_at` as the lease set it: later writes change the row only while it still
    # holds this value, so an owed claim that was settled, withdrawn or recorded anew meanwhile is left
    # alone.
    leased_until: datetime


# The rows whose owed claim has come (the partial index of sql/021 holds only owed rows).
_LEASE = """
UPDATE user_goal_progress AS p
   SET auto_claim_at = %(until)s
  FROM (SELECT user_id, goal_id
          FROM user_goal_progress
         WHERE auto_claim_at <= %(now)s
         ORDER BY auto_claim_at
         LIMIT %(limit)s
           FOR UPDATE SKIP LOCKED) AS due
 WHERE p.user_id = due.user_id AND p.goal_id = due.goal_id
RETURNING p.user_id, p.goal_id, p.auto_claim_at
"""

# To wait (a time) or to drop the owed claim (NULL); see `Owed.leased_until`.
_SET_OWED = """
UPDATE user_goal_progress SET auto_claim_at = %s
 WHERE user_id = %s AND goal_id = %s AND auto_claim_at = %s
"""


async def lease_owed(conn: Connection, now: datetime, lease_s: float, limit: int) -> list[Owed]:
    cursor = await conn.execute(
        _LEASE, {"now": now, "until": now + timedelta(seconds=lease_s), "limit": limit}
    )
    return [Owed(*record) for record in await cursor.fetchall()]


class AutoClaimer(Periodic):
    name = "auto-claimer"

    def __init__(
        self,
        pool: AsyncConnectionPool,
        catalog: Callable[[], Catalog],
        rewards: Callable[[], RewardClient],
        clock: Callable[[], datetime],
        policy: AutoClaimPolicy | None = None,
    ) -> None:
        self.policy = policy or AutoClaimPolicy()
        super().__init__(interval_s=self.policy.interval_s, first_delay_s=self.policy.first_delay_s)
        self.pool = pool
        self.catalog = catalog
        self.rewards = rewards
        self.clock = clock

    async def run_once(self) -> int:
        """Lease and claim owed rows, batch after batch; returns how many rows were taken."""
        policy = self.policy
        claims = ClaimService(self.catalog(), self.pool, self.rewards(), self.clock)
        total = 0
        for _ in range(policy.max_batches):
            async with self.pool.connection() as conn:
                due = await lease_owed(conn, self.clock(), policy.lease_s, policy.batch)
            await asyncio.gather(*(self._claim(claims, owed) for owed in due))
            total += len(due)
            if len(due) < policy.batch:
                break
        return total

    async def _claim(self, claims: ClaimService, owed: Owed) -> None:
        context = {"user_id": owed.user_id, "goal_id": owed.goal_id}
        goal = self.catalog().goal(owed.goal_id)
        if goal is None:
            await self._drop(owed, "the goal is no longer in the catalog")
            return
        try:
            result = await claims.auto_claim(owed.user_id, goal)
        except Exception:
            # The database, most likely: the lease runs out and the claim is taken again.
            log.exception("auto_claim_error", **context)
            AUTO_CLAIMS.labels("error").inc()
            return
        if isinstance(result, DomainError):
            if result.code in _WAITING:
                await self._postpone(owed, self.policy.backoff_s, result.message)
            else:
                await self._drop(owed, result.message)
            return
        await self._settle(owed, result)

    async def _settle(self, owed: Owed, attempt: Attempt) -> None:
        if attempt.claimed:
            AUTO_CLAIMS.labels("claimed").inc()
            log.info(
                "goal_auto_claimed", user_id=owed.user_id, goal_id=owed.goal_id, rewards=len(attempt.tried)
            )
            return
        failed = [(grant, outcome) for grant, outcome in attempt.tried if outcome.state == "failed"]
        if any(not outcome.retryable for _, outcome in failed):
            reason = next(outcome.error for _, outcome in failed if not outcome.retryable)
            await self._drop(owed, f"AGS refused a reward: {reason}")
            return
        attempts = max((grant.attempts for grant, _ in failed), default=1)
        reason = failed[0][1].error if failed else "a grant is in doubt; the reconciler settles it"
        await self._postpone(owed, self.policy.backoff(attempts), reason)

    async def _postpone(self, owed: Owed, delay_s: float, reason: str) -> None:
        await self._set(owed, self.clock() + timedelta(seconds=delay_s))
        AUTO_CLAIMS.labels("retry").inc()
        log.warning(
            "auto_claim_postponed",
            user_id=owed.user_id,
            goal_id=owed.goal_id,
            reason=reason,
            retry_in_s=delay_s,
        )

    async def _drop(self, owed: Owed, reason: str) -> None:
        await self._set(owed, None)
        AUTO_CLAIMS.labels("dropped").inc()
        log.warning("auto_claim_dropped", user_id=owed.user_id, goal_id=owed.goal_id, reason=reason)

    async def _set(self, owed: Owed, auto_claim_at: datetime | None) -> None:
        async with self.pool.connection() as conn:
            await conn.execute(_SET_OWED, (auto_claim_at, owed.user_id, owed.goal_id, owed.leased_until))
