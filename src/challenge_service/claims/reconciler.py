"""Grants that settle themselves: every replica's background reconciler of unresolved ledger rows.

A claim leaves a ledger row unresolved when AGS gave no clear answer ('in_doubt') or when the process
died between asking AGS and recording the answer ('pending' long after). Claims never touch such a
row; this task does, every `interval_s`:

1. lease — one statement takes up to `batch` due rows (in doubt for `settle_after_s`, or pending for
   `pending_after_s`, and not backed off), skipping rows another replica holds, and moves their
   `next_attempt_at` a lease ahead, so no other replica takes them meanwhile (`ledger.lease_due`);
2. settle — for each row, at once and each within `settle_timeout_s` (well inside the lease), the reward
   client makes sure AGS applies the grant exactly once (`RewardClient.settle`): it repeats an ITEM
   fulfillment under the row's grant id, which AGS applies once, or looks a WALLET credit up by its
   mark and credits only when it is missing;
3. record — granted (and the goal claimed, as a claim would) when AGS has it; 'failed' when AGS
   refused it outright (the player may claim again); otherwise the row stays in doubt and is tried
   again after a back-off that doubles up to `max_backoff_s`, with the reason in `last_error`.

Each settled row counts once in `challenge_reward_grants_total` (`granted` or `failed`, what AGS finally
answered; the claim counted it `in_doubt`, or not at all if it died), and every take by its outcome in
`challenge_reward_reconciliations_total`.

Replicas share the work through the lease; a replica that dies mid-settle leaves its rows to the
next lease, which is safe because settling twice still grants once. `settle_after_s` is the one
assumption: an AGS request that got no answer is applied within that time or never.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import structlog
from psycopg_pool import AsyncConnectionPool

from challenge_service.claims import ledger
from challenge_service.maintenance.periodic import Periodic, doubling_backoff
from challenge_service.metrics import RECONCILIATIONS, REWARD_GRANTS, register_grant_backlog
from challenge_service.rewards import RewardClient, RewardGrantError

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class ReconcilePolicy:
    interval_s: float = 10.0
    first_delay_s: float = 10.0
    # An unanswered AGS request may still be applied for a while; a lookup before that could miss it.
    settle_after_s: float = 60.0
    # A claim's grant takes at most the reward client's budget (10 s); pending far longer means it died.
    pending_after_s: float = 120.0
    settle_timeout_s: float = 60.0
    lease_s: float = 120.0
    backoff_s: float = 30.0
    max_backoff_s: float = 3600.0
    batch: int = 20
    # Batches per cycle: a long backlog (after an AGS outage) drains at batch × max_batches per cycle.
    max_batches: int = 10

    def __post_init__(self) -> None:
        if self.settle_timeout_s >= self.lease_s:
            raise ValueError("settle_timeout_s must be shorter than lease_s, or two replicas could overlap")

    def backoff(self, attempts: int) -> float:
        """Seconds before the next try of a row the reconciler has taken `attempts` times."""
        return doubling_backoff(self.backoff_s, self.max_backoff_s, attempts)


class GrantReconciler(Periodic):
    name = "grant-reconciler"

    def __init__(
        self,
        pool: AsyncConnectionPool,
        rewards: Callable[[], RewardClient],
        clock: Callable[[], datetime],
        policy: ReconcilePolicy | None = None,
    ) -> None:
        self.policy = policy or ReconcilePolicy()
        super().__init__(interval_s=self.policy.interval_s, first_delay_s=self.policy.first_delay_s)
        self.pool = pool
        self.rewards = rewards
        self.clock = clock
        self.backlog: ledger.Backlog | None = None  # as of the last cycle
        self._unregister: Callable[[], None] = lambda: None

    def start(self) -> None:
        self._unregister = register_grant_backlog(
            lambda: None if self.backlog is None else self.backlog.entries,
            lambda: None if self.backlog is None else self.backlog.oldest_age_s,
        )
        super().start()

    async def stop(self) -> None:
        await super().stop()
        self._unregister()

    async def run_once(self) -> int:
        """Lease and settle due rows, batch after batch; returns how many rows were taken."""
        policy = self.policy
        total = 0
        for _ in range(policy.max_batches):
            async with self.pool.connection() as conn:
                due = await ledger.lease_due(
                    conn,
                    settle_after_s=policy.settle_after_s,
                    pending_after_s=policy.pending_after_s,
                    lease_s=policy.lease_s,
                    limit=policy.batch,
                )
            await asyncio.gather(*(self._settle(grant) for grant in due))
            total += len(due)
            if len(due) < policy.batch:
                break
        async with self.pool.connection() as conn:
            self.backlog = await ledger.backlog(conn)
        return total

    async def _settle(self, grant: ledger.Grant) -> None:
        context = {"grant_id": grant.grant_id, "user_id": grant.user_id, "goal_id": grant.goal_id}
        try:
            async with asyncio.timeout(self.policy.settle_timeout_s):
                settled = await self.rewards().settle(
                    grant.user_id, grant.reward, grant.grant_id, grant.created_at
                )
        except RewardGrantError as error:
            if error.in_doubt or error.retryable:
                await self._postpone(grant, error.message)
            else:
                await self._fail(grant, error.message)
            return
        except TimeoutError:
            await self._postpone(grant, f"settling took longer than {self.policy.settle_timeout_s:g} s")
            return
        except Exception as error:
            # A bug or an unexpected transport error: the grant may or may not have happened.
            log.exception("grant_reconcile_error", **context)
            await self._postpone(grant, f"unexpected error: {error!r}")
            return
        async with self.pool.connection() as conn, conn.transaction():
            claimed = await ledger.mark_granted(conn, grant.key, self.clock())
        RECONCILIATIONS.labels(settled).inc()
        REWARD_GRANTS.labels("granted").inc()
        log.info("grant_reconciled", **context, outcome=settled, goal_marked_claimed=claimed)

    async def _postpone(self, grant: ledger.Grant, reason: str) -> None:
        delay_s = self.policy.backoff(grant.reconcile_attempts)
        async with self.pool.connection() as conn, conn.transaction():
            await ledger.postpone(conn, grant.key, delay_s, reason)
        RECONCILIATIONS.labels("retry").inc()
        log.warning(
            "grant_reconcile_postponed",
            grant_id=grant.grant_id,
            user_id=grant.user_id,
            goal_id=grant.goal_id,
            reason=reason,
            attempts=grant.reconcile_attempts,
            retry_in_s=delay_s,
        )

    async def _fail(self, grant: ledger.Grant, reason: str) -> None:
        async with self.pool.connection() as conn, conn.transaction():
            await ledger.mark_not_granted(conn, grant.key, "failed", reason)
        RECONCILIATIONS.labels("failed").inc()
        REWARD_GRANTS.labels("failed").inc()
        log.warning("grant_reconcile_refused", grant_id=grant.grant_id, user_id=grant.user_id, reason=reason)
