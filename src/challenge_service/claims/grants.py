"""What an operator does with the reward ledger: list grants, and settle one left unresolved.

When and why a grant needs an operator is told by `challenge-service grants --help` (claims/cli.py);
these are the actions behind that command, free of any command-line plumbing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import psycopg

from challenge_service.claims import errors, ledger
from challenge_service.claims.ledger import Grant, GrantKey, GrantState
from challenge_service.errors import invalid_input

STATES: tuple[GrantState, ...] = ("pending", "in_doubt", "granted", "failed")
Resolution = Literal["granted", "failed"]


@dataclass(frozen=True, slots=True)
class Resolved:
    grant: Grant
    # Resolving as granted marks the goal claimed only while its row is still in the granted period.
    goal_marked_claimed: bool


async def list_grants(
    conn: psycopg.AsyncConnection[object],
    states: Sequence[GrantState] = ledger.UNRESOLVED,
    older_than_s: float = 0,
) -> list[Grant]:
    """Ledger rows in `states` whose last change is at least `older_than_s` seconds old, oldest first."""
    if older_than_s < 0:
        raise invalid_input("--older-than must be >= 0")
    return await ledger.list_grants(conn, tuple(states), older_than_s)


async def resolve_grant(
    conn: psycopg.AsyncConnection[object], key: GrantKey, resolution: Resolution, now: datetime | None = None
) -> Resolved:
    """Settle an unresolved ('pending' or 'in_doubt') grant after checking AGS by hand."""
    note = f"resolved as {resolution} by an operator"
    async with conn.transaction():
        await ledger.lock_progress_of(conn, key)  # lock order: progress row, then ledger row
        grant = await ledger.get_grant(conn, key, lock=True)
        if grant is None:
            raise errors.grant_not_found(key.user_id, key.goal_id, key.period)
        if grant.state not in ledger.UNRESOLVED:
            raise errors.grant_already_resolved(grant.state)
        if resolution == "granted":
            claimed = await ledger.mark_granted(conn, key, now or datetime.now(UTC))
        else:
            await ledger.mark_not_granted(conn, key, "failed", note)
            claimed = False
        updated = await ledger.get_grant(conn, key)
    assert updated is not None
    return Resolved(updated, claimed)
