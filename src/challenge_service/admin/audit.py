"""The audit trail of operator writes (`admin_audit`): who changed what, when, from what to what.

Every write of the admin API (and `challenge-service grants resolve`) calls `record` inside the
transaction that makes the change, so the trail holds a change if and only if it was committed; the
same facts go to the log as one `operator_change` line.

A player's GDPR erasure keeps the rows (what an operator did stays accountable) but drops what they
said about the player: the player id becomes '' and the row images before/after become NULL.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Literal

import psycopg
import structlog
from psycopg.types.json import Jsonb

from challenge_service.claims.ledger import Grant
from challenge_service.rules.progress import Progress

log = structlog.get_logger(__name__)

Connection = psycopg.AsyncConnection[Any]
AuditAction = Literal["set_progress", "reset_goal", "resolve_grant"]
Image = dict[str, Any]

# What an erased player's rows say instead of their id.
ERASED_USER = ""


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    action: str
    user_id: str
    goal_id: str
    grant_id: str  # '' when the change was not about a ledger row
    request: Image
    before: Image | None  # None: there was no row (or the player was erased since)
    after: Image | None


_COLUMNS = (
    "id, at, actor, action, user_id, goal_id, COALESCE(replace(grant_id::text, '-', ''), ''), "
    "request, before, after"
)


async def record(
    conn: Connection,
    *,
    actor: str,
    action: AuditAction,
    user_id: str,
    goal_id: str,
    request: Mapping[str, Any],
    before: Image | None,
    after: Image | None,
    grant_id: str = "",
) -> None:
    """Store one change; run it in the transaction that makes the change."""
    await conn.execute(
        """INSERT INTO admin_audit (actor, action, user_id, goal_id, grant_id, request, before, after)
           VALUES (%s, %s, %s, %s, NULLIF(%s, '')::uuid, %s, %s, %s)""",
        (
            actor,
            action,
            user_id,
            goal_id,
            grant_id,
            Jsonb(dict(request)),
            None if before is None else Jsonb(before),
            None if after is None else Jsonb(after),
        ),
    )
    log.info(
        "operator_change",
        actor=actor,
        action=action,
        user_id=user_id,
        goal_id=goal_id,
        grant_id=grant_id,
        request=dict(request),
        before=before,
        after=after,
    )


async def entries(
    conn: Connection, user_id: str | None, limit: int | None, before_id: int | None = None
) -> list[AuditEntry]:
    """Newest first: all entries, or those about one player; at most `limit` (None: all of them);
    `before_id` continues a previous page."""
    cursor = await conn.execute(
        f"""SELECT {_COLUMNS} FROM admin_audit
             WHERE (%(user)s::text IS NULL OR user_id = %(user)s)
               AND (%(before)s::bigint IS NULL OR id < %(before)s)
             ORDER BY id DESC
             LIMIT %(limit)s""",
        {"user": user_id, "before": before_id, "limit": limit},
    )
    return [AuditEntry(*record) for record in await cursor.fetchall()]


async def anonymise(conn: Connection, user_id: str) -> int:
    """Drop what the rows about one player say about them (GDPR erasure); returns how many rows."""
    cursor = await conn.execute(
        "UPDATE admin_audit SET user_id = %s, before = NULL, after = NULL WHERE user_id = %s",
        (ERASED_USER, user_id),
    )
    return cursor.rowcount


def image(record: Progress | Grant | None) -> Image | None:
    """A progress or ledger row as the audit stores it (timestamps as ISO 8601 text)."""
    if record is None:
        return None
    return {
        name: value.isoformat() if isinstance(value, datetime) else value
        for name, value in asdict(record).items()
    }
