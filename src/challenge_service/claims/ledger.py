"""The reward ledger (`reward_grants`) and the progress-row writes of a claim: the claim domain's SQL.

Lock order, in every transaction here: the `user_goal_progress` row first, then the ledger row. Claims,
their outcome recording and operator resolutions all follow it, so they cannot deadlock each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import psycopg

from challenge_service.rewards import RewardLike
from challenge_service.rules.progress import Progress

GrantState = Literal["pending", "in_doubt", "granted", "failed"]
# Rows a claim must not touch: a grant is in flight, or its outcome is unknown.
UNRESOLVED: tuple[GrantState, ...] = ("pending", "in_doubt")

Connection = psycopg.AsyncConnection[Any]


@dataclass(frozen=True, slots=True)
class GrantKey:
    user_id: str
    goal_id: str
    period: str


@dataclass(frozen=True, slots=True)
class Grant:
    """One ledger row."""

    user_id: str
    goal_id: str
    period: str
    expires_at: datetime | None
    reward_type: str
    reward_id: str
    quantity: int
    state: GrantState
    attempts: int
    last_error: str
    created_at: datetime
    updated_at: datetime

    @property
    def key(self) -> GrantKey:
        return GrantKey(self.user_id, self.goal_id, self.period)


_GRANT_COLUMNS = (
    "user_id, goal_id, period, expires_at, reward_type, reward_id, quantity, state, attempts, last_error, "
    "created_at, updated_at"
)


async def lock_progress(conn: Connection, user_id: str, goal_id: str) -> Progress | None:
    """The player's row of this goal, locked until the transaction ends; None when there is none."""
    cursor = await conn.execute(
        """SELECT progress, baseline, status, is_active, assigned_at, completed_at, claimed_at, expires_at
             FROM user_goal_progress
            WHERE user_id = %s AND goal_id = %s
              FOR UPDATE""",
        (user_id, goal_id),
    )
    record = await cursor.fetchone()
    return Progress(*record) if record else None


async def begin_attempt(
    conn: Connection, key: GrantKey, expires_at: datetime | None, reward: RewardLike
) -> tuple[bool, Grant]:
    """Record that a claim is about to call the reward client, unless the ledger forbids it.

    Inserts a 'pending' row, or turns a 'failed' row back into 'pending' with one more attempt, and
    returns (True, row). Any other existing row ('pending', 'in_doubt', 'granted') is returned
    unchanged as (False, row): the caller must not grant.
    """
    cursor = await conn.execute(
        f"""INSERT INTO reward_grants AS g
                   (user_id, goal_id, period, expires_at, reward_type, reward_id, quantity, state)
            VALUES (%s, %s, %s, %s, %s, %s, %s, 'pending')
            ON CONFLICT (user_id, goal_id, period) DO UPDATE
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
            str(reward.type),
            reward.reward_id,
            reward.quantity,
        ),
    )
    record = await cursor.fetchone()
    if record is not None:
        return True, Grant(*record)
    existing = await get_grant(conn, key)
    assert existing is not None, "ON CONFLICT without a conflicting row"
    return False, existing


async def get_grant(conn: Connection, key: GrantKey, *, lock: bool = False) -> Grant | None:
    cursor = await conn.execute(
        f"""SELECT {_GRANT_COLUMNS} FROM reward_grants
             WHERE user_id = %s AND goal_id = %s AND period = %s {"FOR UPDATE" if lock else ""}""",
        (key.user_id, key.goal_id, key.period),
    )
    record = await cursor.fetchone()
    return Grant(*record) if record else None


async def mark_granted(conn: Connection, key: GrantKey, claimed_at: datetime) -> bool:
    """The grant happened: ledger 'granted' and the goal claimed. Run inside one transaction.

    The progress row is marked claimed only while it still belongs to the granted period (same
    `expires_at` as when the claim started); returns whether it was.
    """
    await lock_progress_of(conn, key)
    cursor = await conn.execute(
        """UPDATE user_goal_progress AS p
              SET status = 'claimed', claimed_at = %s, updated_at = now()
             FROM reward_grants AS g
            WHERE p.user_id = %s AND p.goal_id = %s
              AND g.user_id = p.user_id AND g.goal_id = p.goal_id AND g.period = %s
              AND p.expires_at IS NOT DISTINCT FROM g.expires_at
              AND p.status <> 'claimed'""",
        (claimed_at, key.user_id, key.goal_id, key.period),
    )
    claimed = cursor.rowcount == 1
    await conn.execute(
        """UPDATE reward_grants SET state = 'granted', last_error = '', updated_at = now()
            WHERE user_id = %s AND goal_id = %s AND period = %s""",
        (key.user_id, key.goal_id, key.period),
    )
    return claimed


async def mark_not_granted(
    conn: Connection, key: GrantKey, state: Literal["failed", "in_doubt"], error: str
) -> None:
    """The grant verifiably did not happen ('failed': claimable again) or may have ('in_doubt')."""
    await lock_progress_of(conn, key)
    await conn.execute(
        """UPDATE reward_grants SET state = %s, last_error = %s, updated_at = now()
            WHERE user_id = %s AND goal_id = %s AND period = %s""",
        (state, error, key.user_id, key.goal_id, key.period),
    )


async def list_grants(
    conn: Connection, states: tuple[GrantState, ...], older_than_s: float = 0.0, limit: int = 1000
) -> list[Grant]:
    """Ledger rows in `states` not updated for `older_than_s` seconds (database time), oldest first."""
    cursor = await conn.execute(
        f"""SELECT {_GRANT_COLUMNS} FROM reward_grants
             WHERE state = ANY(%s) AND updated_at <= now() - make_interval(secs => %s)
             ORDER BY updated_at, user_id, goal_id, period
             LIMIT %s""",
        (list(states), older_than_s, limit),
    )
    return [Grant(*record) for record in await cursor.fetchall()]


async def lock_progress_of(conn: Connection, key: GrantKey) -> None:
    """Take the progress-row lock first (see the module's lock order) before touching a ledger row."""
    await conn.execute(
        "SELECT 1 FROM user_goal_progress WHERE user_id = %s AND goal_id = %s FOR UPDATE",
        (key.user_id, key.goal_id),
    )
