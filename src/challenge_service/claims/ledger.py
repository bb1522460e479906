"""The reward ledger (`reward_grants`) and the progress-row writes of a claim: the claim domain's SQL.

Lock order, in every transaction here: the `user_goal_progress` row first, then the ledger row. Claims,
their outcome recording and operator resolutions all follow it, so they cannot deadlock each other.
The reconciler's lease (`lease_due`) is one autocommit statement that locks ledger rows only and skips
locked ones, so it never waits inside that order.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import psycopg

from challenge_service.rewards import RewardLike
from challenge_service.rules.progress import Progress
from challenge_service.store.progress import COLUMNS as PROGRESS_COLUMNS
from challenge_service.store.progress import row_from_record

GrantState = Literal["pending", "in_doubt", "granted", "failed"]
# Rows a claim must not touch: a grant is in flight, or its outcome is unknown.
UNRESOLVED: tuple[GrantState, ...] = ("pending", "in_doubt")

Connection = psycopg.AsyncConnection[Any]

_GRANT_ID = re.compile(r"[0-9a-fA-F]{32}")


@dataclass(frozen=True, slots=True)
class GrantKey:
    user_id: str
    goal_id: str
    period: str
    # Which reward of the goal: a goal's period has one ledger row per reward.
    reward_index: int = 0

    def of_reward(self, index: int) -> GrantKey:
        return GrantKey(self.user_id, self.goal_id, self.period, index)


@dataclass(frozen=True, slots=True)
class Grant:
    """One ledger row."""

    # Opaque and fixed for the row's life: the AGS transaction id and the mark on a wallet credit.
    grant_id: str
    user_id: str
    goal_id: str
    period: str
    reward_index: int
    expires_at: datetime | None
    reward_type: str
    reward_id: str
    quantity: int
    state: GrantState
    attempts: int
    last_error: str
    reconcile_attempts: int
    next_attempt_at: datetime | None  # None: the reconciler never took the row
    created_at: datetime
    updated_at: datetime

    @property
    def key(self) -> GrantKey:
        return GrantKey(self.user_id, self.goal_id, self.period, self.reward_index)

    @property
    def reward(self) -> RewardLike:
        return _LedgerReward(self.reward_type, self.reward_id, self.quantity)


@dataclass(frozen=True, slots=True)
class _LedgerReward:
    """The reward as the ledger copied it at claim time (the catalog may have changed since)."""

    type: str
    reward_id: str
    quantity: int


_COLUMNS = (
    "grant_id", "user_id", "goal_id", "period", "reward_index", "expires_at", "reward_type", "reward_id",
    "quantity", "state", "attempts", "last_error", "reconcile_attempts", "next_attempt_at", "created_at",
    "updated_at",
)  # fmt: skip


def _select(alias: str = "") -> str:
    """The columns of `Grant`, in its order; the id leaves as 32 hex digits, the form AGS transaction
    ids and credit marks carry."""
    prefix = f"{alias}." if alias else ""
    return ", ".join(
        f"replace({prefix}{column}::text, '-', '')" if column == "grant_id" else prefix + column
        for column in _COLUMNS
    )


_GRANT_COLUMNS = _select()


async def lock_progress(conn: Connection, user_id: str, goal_id: str) -> Progress | None:
    """The player's row of this goal, locked until the transaction ends; None when there is none."""
    cursor = await conn.execute(
        f"""SELECT {PROGRESS_COLUMNS} FROM user_goal_progress
             WHERE user_id = %s AND goal_id = %s
               FOR UPDATE""",
        (user_id, goal_id),
    )
    record = await cursor.fetchone()
    return row_from_record(record)[1] if record else None


async def begin_attempts(
    conn: Connection, key: GrantKey, expires_at: datetime | None, rewards: Sequence[RewardLike]
) -> list[Grant]:
    """Record that a claim is about to call the reward client for each of `rewards` (reward i of the
    period `key` names), unless the ledger forbids it.

    Per reward: inserts a 'pending' row, or turns a 'failed' row back into 'pending' with one more
    attempt; those rows are returned, in reward order — the claim grants exactly these. A row that is
    'pending', 'in_doubt' or 'granted' stays as it is and is not returned: the caller must not grant it.
    """
    cursor = await conn.execute(
        f"""INSERT INTO reward_grants AS g
                   (user_id, goal_id, period, reward_index, expires_at, reward_type, reward_id, quantity,
                    state)
            SELECT %s, %s, %s, r.n - 1, %s, r.type, r.id, r.quantity, 'pending'
              FROM unnest(%s::text[], %s::text[], %s::integer[]) WITH ORDINALITY AS r(type, id, quantity, n)
            ON CONFLICT (user_id, goal_id, period, reward_index) DO UPDATE
               SET state = 'pending', attempts = g.attempts + 1, expires_at = EXCLUDED.expires_at,
                   reward_type = EXCLUDED.reward_type, reward_id = EXCLUDED.reward_id,
                   quantity = EXCLUDED.quantity, updated_at = now()
             WHERE g.state = 'failed'
            RETURNING {_GRANT_COLUMNS}""",
        (
            key.user_id,
            key.goal_id,
            key.period,
            expires_at,
            [str(reward.type) for reward in rewards],
            [reward.reward_id for reward in rewards],
            [reward.quantity for reward in rewards],
        ),
    )
    return sorted((Grant(*record) for record in await cursor.fetchall()), key=lambda g: g.reward_index)


async def period_grants(conn: Connection, key: GrantKey) -> list[Grant]:
    """Every ledger row of the goal's period `key` names, in reward order."""
    cursor = await conn.execute(
        f"""SELECT {_GRANT_COLUMNS} FROM reward_grants
             WHERE user_id = %s AND goal_id = %s AND period = %s ORDER BY reward_index""",
        (key.user_id, key.goal_id, key.period),
    )
    return [Grant(*record) for record in await cursor.fetchall()]


async def get_grant(conn: Connection, key: GrantKey, *, lock: bool = False) -> Grant | None:
    cursor = await conn.execute(
        f"""SELECT {_GRANT_COLUMNS} FROM reward_grants
             WHERE user_id = %s AND goal_id = %s AND period = %s AND reward_index = %s
             {"FOR UPDATE" if lock else ""}""",
        (key.user_id, key.goal_id, key.period, key.reward_index),
    )
    record = await cursor.fetchone()
    return Grant(*record) if record else None


def is_grant_id(text: str) -> bool:
    """Whether `text` has the form of a `Grant.grant_id` (32 hex digits)."""
    return _GRANT_ID.fullmatch(text) is not None


async def find_grant_key(conn: Connection, grant_id: str) -> GrantKey | None:
    """The key of the row with this id (checked with `is_grant_id` first)."""
    cursor = await conn.execute(
        "SELECT user_id, goal_id, period, reward_index FROM reward_grants WHERE grant_id = %s::uuid",
        (grant_id,),
    )
    record = await cursor.fetchone()
    return GrantKey(*record) if record else None


async def mark_granted(conn: Connection, key: GrantKey, claimed_at: datetime) -> bool:
    """The grant happened: its ledger row 'granted', and the goal claimed once every reward of the
    period is. Run inside one transaction.

    AGS's answer wins over whatever the row said before (a guess by an operator included): the reward
    is in the player's account. Returns whether this marked the goal claimed (see `claim_if_granted`).
    """
    await lock_progress_of(conn, key)
    await _set_granted(conn, key, [key.reward_index])
    return await claim_if_granted(conn, key, claimed_at)


async def record_grants(
    conn: Connection, key: GrantKey, granted: Sequence[int], claimed_at: datetime
) -> bool:
    """A claim's grants of the rewards `granted` (indexes) happened: as `mark_granted`, for several."""
    await lock_progress_of(conn, key)
    if granted:
        await _set_granted(conn, key, granted)
    return await claim_if_granted(conn, key, claimed_at)


async def _set_granted(conn: Connection, key: GrantKey, indexes: Sequence[int]) -> None:
    await conn.execute(
        """UPDATE reward_grants SET state = 'granted', last_error = '', updated_at = now()
            WHERE user_id = %s AND goal_id = %s AND period = %s AND reward_index = ANY(%s)""",
        (key.user_id, key.goal_id, key.period, list(indexes)),
    )


async def claim_if_granted(conn: Connection, key: GrantKey, claimed_at: datetime) -> bool:
    """Mark the goal claimed (and any owed automatic claim settled) when every ledger row of the period
    is granted, and only while the progress row still belongs to that period (the same `expires_at` as
    when the claim started), so a grant of an old period never marks a newer one claimed. Returns
    whether it did; the caller holds the progress-row lock."""
    cursor = await conn.execute(
        """UPDATE user_goal_progress AS p
              SET status = 'claimed', claimed_at = %s, auto_claim_at = NULL, updated_at = now()
             FROM reward_grants AS g
            WHERE p.user_id = %s AND p.goal_id = %s
              AND g.user_id = p.user_id AND g.goal_id = p.goal_id AND g.period = %s AND g.reward_index = 0
              AND p.expires_at IS NOT DISTINCT FROM g.expires_at
              AND p.status <> 'claimed'
              AND NOT EXISTS (SELECT 1 FROM reward_grants AS o
                               WHERE o.user_id = g.user_id AND o.goal_id = g.goal_id AND o.period = g.period
                                 AND o.state <> 'granted')""",
        (claimed_at, key.user_id, key.goal_id, key.period),
    )
    return cursor.rowcount == 1


async def mark_not_granted(
    conn: Connection,
    key: GrantKey,
    state: Literal["failed", "in_doubt"],
    error: str,
    *,
    only_from: tuple[GrantState, ...] = UNRESOLVED,
) -> bool:
    """The grant verifiably did not happen ('failed': claimable again) or may have ('in_doubt').

    Only a row in one of `only_from` changes, so a late writer (a claim whose AGS call outlived the
    reconciler's patience) cannot undo a settlement; returns whether the row changed.
    """
    await lock_progress_of(conn, key)
    cursor = await conn.execute(
        """UPDATE reward_grants SET state = %s, last_error = %s, updated_at = now()
            WHERE user_id = %s AND goal_id = %s AND period = %s AND reward_index = %s AND state = ANY(%s)""",
        (state, error, key.user_id, key.goal_id, key.period, key.reward_index, list(only_from)),
    )
    return cursor.rowcount == 1


async def list_grants(
    conn: Connection,
    states: tuple[GrantState, ...],
    older_than_s: float = 0.0,
    limit: int = 1000,
    user_id: str | None = None,
) -> list[Grant]:
    """Ledger rows in `states` not updated for `older_than_s` seconds (database time), oldest first;
    only one player's when `user_id` is given."""
    cursor = await conn.execute(
        f"""SELECT {_GRANT_COLUMNS} FROM reward_grants
             WHERE state = ANY(%s) AND updated_at <= now() - make_interval(secs => %s)
               AND (%s::text IS NULL OR user_id = %s)
             ORDER BY updated_at, user_id, goal_id, period, reward_index
             LIMIT %s""",
        (list(states), older_than_s, user_id, user_id, limit),
    )
    return [Grant(*record) for record in await cursor.fetchall()]


async def user_grants(conn: Connection, user_id: str) -> list[Grant]:
    """Every ledger row of one player, oldest first."""
    cursor = await conn.execute(
        f"""SELECT {_GRANT_COLUMNS} FROM reward_grants WHERE user_id = %s
             ORDER BY created_at, goal_id, period, reward_index""",
        (user_id,),
    )
    return [Grant(*record) for record in await cursor.fetchall()]


async def lock_progress_of(conn: Connection, key: GrantKey) -> None:
    """Take the progress-row lock first (see the module's lock order) before touching a ledger row."""
    await conn.execute(
        "SELECT 1 FROM user_goal_progress WHERE user_id = %s AND goal_id = %s FOR UPDATE",
        (key.user_id, key.goal_id),
    )


# -- the reconciler's queries ---------------------------------------------------------------------------

# Due: in doubt for `settle_after_s` (an AGS request still on its way may yet be applied; looking
# earlier could miss it), or pending for `pending_after_s` (its claim died between asking AGS and
# recording the answer), and not leased or backed off (`next_attempt_at`). SKIP LOCKED and the lease
# written in the same statement let every replica run this at once: each row goes to one of them.
LEASE_DUE = f"""
UPDATE reward_grants AS g
   SET next_attempt_at = now() + make_interval(secs => %(lease_s)s),
       reconcile_attempts = g.reconcile_attempts + 1
  FROM (SELECT user_id, goal_id, period, reward_index
          FROM reward_grants
         WHERE ((state = 'in_doubt' AND updated_at <= now() - make_interval(secs => %(settle_after_s)s))
             OR (state = 'pending' AND updated_at <= now() - make_interval(secs => %(pending_after_s)s)))
           AND (next_attempt_at IS NULL OR next_attempt_at <= now())
         ORDER BY next_attempt_at NULLS FIRST, updated_at
         LIMIT %(limit)s
           FOR UPDATE SKIP LOCKED) AS due
 WHERE g.user_id = due.user_id AND g.goal_id = due.goal_id AND g.period = due.period
   AND g.reward_index = due.reward_index
RETURNING {_select("g")}
"""


async def lease_due(
    conn: Connection, *, settle_after_s: float, pending_after_s: float, lease_s: float, limit: int
) -> list[Grant]:
    """Take up to `limit` due rows for `lease_s` seconds; no other replica sees them until then."""
    cursor = await conn.execute(
        LEASE_DUE,
        {
            "settle_after_s": settle_after_s,
            "pending_after_s": pending_after_s,
            "lease_s": lease_s,
            "limit": limit,
        },
    )
    return [Grant(*record) for record in await cursor.fetchall()]


async def postpone(conn: Connection, key: GrantKey, delay_s: float, error: str) -> bool:
    """The reconciler could not settle the row now: it is in doubt, tried again after `delay_s`.

    `updated_at` keeps the moment the row became unresolved, so the backlog's age says how long a
    player has been waiting, not when the reconciler last looked. Returns whether the row changed
    (it may have been settled meanwhile).
    """
    await lock_progress_of(conn, key)
    cursor = await conn.execute(
        """UPDATE reward_grants
              SET state = 'in_doubt', last_error = %s,
                  next_attempt_at = now() + make_interval(secs => %s),
                  updated_at = CASE WHEN state = 'in_doubt' THEN updated_at ELSE now() END
            WHERE user_id = %s AND goal_id = %s AND period = %s AND reward_index = %s AND state = ANY(%s)""",
        (error, delay_s, key.user_id, key.goal_id, key.period, key.reward_index, list(UNRESOLVED)),
    )
    return cursor.rowcount == 1


@dataclass(frozen=True, slots=True)
class Backlog:
    """Unresolved rows: how many, and for how long the oldest has been unresolved (0 when none)."""

    entries: int
    oldest_age_s: float


async def backlog(conn: Connection) -> Backlog:
    cursor = await conn.execute(
        """SELECT count(*), COALESCE(EXTRACT(EPOCH FROM now() - min(updated_at)), 0)::float8
             FROM reward_grants WHERE state = ANY(%s)""",
        (list(UNRESOLVED),),
    )
    record = await cursor.fetchone()
    assert record is not None
    return Backlog(*record)
