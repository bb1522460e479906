"""Everything stored about one player, as a whole: handing it over (data access) and erasing it (the
GDPR right to erasure).

A player's data is their `user_goal_progress` rows, their `reward_grants` (ledger) rows and what the
operator audit trail (`admin_audit`) says about them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
import structlog
from psycopg_pool import AsyncConnectionPool

from challenge_service.admin import audit
from challenge_service.admin.audit import AuditEntry
from challenge_service.claims import ledger
from challenge_service.claims.ledger import Grant
from challenge_service.store.assignments import lock_user
from challenge_service.store.database import connection
from challenge_service.store.progress import StoredRow, stored_rows

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class UserData:
    progress: list[StoredRow]
    grants: list[Grant]
    # The operator changes made to this player's goals and grants, newest first.
    audit: list[AuditEntry]


@dataclass(frozen=True, slots=True)
class Erased:
    goals: int
    grants: int
    audit_entries: int


async def export(pool: AsyncConnectionPool, user_id: str) -> UserData:
    """Every row about one player, read as one consistent snapshot."""
    async with connection(pool) as conn, conn.transaction():
        await conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        return UserData(
            progress=await stored_rows(conn, user_id),
            grants=await ledger.user_grants(conn, user_id),
            audit=await audit.entries(conn, user_id, limit=None),
        )


async def erase(pool: AsyncConnectionPool, user_id: str) -> Erased:
    """Delete every progress and ledger row of one player and anonymise the audit rows about them, in
    one transaction."""
    async with connection(pool) as conn, conn.transaction():
        # The player's REST write lock: a concurrent initialize/select cannot re-create a row halfway.
        await lock_user(conn, user_id)
        erased = await delete_user_data(conn, user_id)
    log.info(
        "user data deleted",
        user_id=user_id,
        goals=erased.goals,
        grants=erased.grants,
        audit_entries=erased.audit_entries,
    )
    return erased


async def delete_user_data(conn: psycopg.AsyncConnection[Any], user_id: str) -> Erased:
    """Delete every progress row and every ledger row of one player; anonymise the audit rows about them.

    Run it inside one transaction. Progress rows go first, then ledger rows: the lock order of
    `claims/ledger.py`, so it cannot deadlock with a claim of the same player.

    The ledger rows are the record of the rewards granted to this player; a studio that must keep such
    records should export them first (`GET /v1/users/me/data` hands them to the player). The audit rows
    stay, without the player's id and without the row images, so what operators did stays accountable
    (admin/audit.py).
    """
    goals = await conn.execute("DELETE FROM user_goal_progress WHERE user_id = %s", (user_id,))
    grants = await conn.execute("DELETE FROM reward_grants WHERE user_id = %s", (user_id,))
    return Erased(goals.rowcount, grants.rowcount, await audit.anonymise(conn, user_id))
