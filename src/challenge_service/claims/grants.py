"""What an operator does with the reward ledger: list grants, and settle one left unresolved.

Both the admin API (`api/admin.py`) and `challenge-service grants` (claims/cli.py) call these; a
resolution is audited (`admin/audit.py`) in the transaction that makes it. The reconciler
(`claims/reconciler.py`) settles most unresolved grants on its own; these are for the rest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, get_args

import psycopg

from challenge_service.admin import audit
from challenge_service.claims import errors, ledger
from challenge_service.claims.ledger import Grant, GrantKey, GrantState
from challenge_service.errors import invalid_input

STATES: tuple[GrantState, ...] = ("pending", "in_doubt", "granted", "failed")
Resolution = Literal["granted", "failed"]
RESOLUTIONS: tuple[Resolution, ...] = get_args(Resolution)
# At most this many grants in one listing; older-than and the player filter narrow it down.
MAX_LISTED = 1000


@dataclass(frozen=True, slots=True)
class Resolved:
    grant: Grant
    # Resolving as granted marks the goal claimed only while its row is still in the granted period.
    goal_marked_claimed: bool


async def list_grants(
    conn: psycopg.AsyncConnection[object],
    states: Sequence[GrantState] = ledger.UNRESOLVED,
    older_than_s: float = 0,
    *,
    user_id: str | None = None,
    limit: int = MAX_LISTED,
) -> list[Grant]:
    """Ledger rows in `states` whose last change is at least `older_than_s` seconds old, oldest first."""
    if older_than_s < 0:
        raise invalid_input("--older-than must be >= 0")
    return await ledger.list_grants(conn, tuple(states), older_than_s, min(limit, MAX_LISTED), user_id)


async def resolve_grant(
    conn: psycopg.AsyncConnection[object],
    grant: GrantKey | str,
    resolution: Resolution,
    actor: str,
    now: datetime | None = None,
) -> Resolved:
    """Settle an unresolved ('pending' or 'in_doubt') grant, named by its key or its id, after checking
    AGS by hand; `actor` is who did it, for the audit trail."""
    if isinstance(grant, str) and not ledger.is_grant_id(grant):
        raise invalid_input(f"a grant id is 32 hexadecimal digits, not {grant!r}")
    key = grant if isinstance(grant, GrantKey) else await ledger.find_grant_key(conn, grant)
    if key is None:
        raise errors.grant_id_not_found(str(grant))
    note = f"resolved as {resolution} by an operator"
    async with conn.transaction():
        await ledger.lock_progress_of(conn, key)  # lock order: progress row, then ledger row
        before = await ledger.get_grant(conn, key, lock=True)
        if before is None:
            raise errors.grant_not_found(key.user_id, key.goal_id, key.period)
        if before.state not in ledger.UNRESOLVED:
            raise errors.grant_already_resolved(before.state)
        if resolution == "granted":
            claimed = await ledger.mark_granted(conn, key, now or datetime.now(UTC))
        else:
            await ledger.mark_not_granted(conn, key, "failed", note)
            claimed = False
        after = await ledger.get_grant(conn, key)
        assert after is not None
        await audit.record(
            conn,
            actor=actor,
            action="resolve_grant",
            user_id=key.user_id,
            goal_id=key.goal_id,
            grant_id=before.grant_id,
            request={"as": resolution},
            before=audit.image(before),
            after=audit.image(after),
        )
    return Resolved(after, claimed)
