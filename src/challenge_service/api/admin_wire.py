"""Response structs of the operator routes and of the player's data export, and their builders.

Same wire rules as `api/wire.py` (lowerCamelCase, every field present, RFC 3339 `Z` timestamps, `""` for
"never"); `null` appears only where there is no row at all (`stored`, `before`) and for an unknown
`baseline` (a relative goal before its first event), which 0 would misstate.
"""

from __future__ import annotations

from typing import Any

import msgspec

from challenge_service.admin.audit import AuditEntry
from challenge_service.admin.players import GoalChange
from challenge_service.api.wire import GoalView, Reward, timestamp
from challenge_service.claims.grants import Resolved
from challenge_service.claims.ledger import Grant
from challenge_service.rules.progress import displayed
from challenge_service.store.progress import StoredRow
from challenge_service.user_data import UserData


class ProgressRecord(msgspec.Struct, rename="camel"):
    """A `user_goal_progress` row as stored: `progress` is the raw value (the latest stat value or the
    login count), not the displayed one."""

    goal_id: str
    challenge_id: str
    progress: int
    baseline: int | None
    status: str
    is_active: bool
    assigned_at: str
    completed_at: str
    claimed_at: str
    expires_at: str
    # An automatic claim is owed from this time (the auto-claimer's next try); "" when none is.
    auto_claim_at: str
    created_at: str
    updated_at: str


class AdminGoalView(GoalView, rename="camel"):
    """The goal as the player sees it, plus the row behind it (null when the player has none)."""

    stored: ProgressRecord | None


class AdminChallengeView(msgspec.Struct, rename="camel"):
    challenge_id: str
    name: str
    description: str
    tags: list[str]
    starts_at: str
    ends_at: str
    state: str
    goals: list[AdminGoalView]


class PlayerState(msgspec.Struct, rename="camel"):
    user_id: str
    challenges: list[AdminChallengeView]


class GoalChanged(msgspec.Struct, rename="camel"):
    user_id: str
    challenge_id: str
    goal_id: str
    # What the player sees now.
    progress: int
    status: str
    before: ProgressRecord | None
    after: ProgressRecord


class GrantView(msgspec.Struct, rename="camel"):
    grant_id: str
    user_id: str
    goal_id: str
    period: str
    # Which reward of the goal (0: the first or only one); each has its own row.
    reward_index: int
    reward: Reward
    state: str
    attempts: int
    last_error: str
    reconcile_attempts: int
    # Until when the reconciler leaves the row alone (its lease, then its back-off); "" if it never
    # took the row.
    next_attempt_at: str
    created_at: str
    updated_at: str


class GrantList(msgspec.Struct, rename="camel"):
    grants: list[GrantView]


class GrantResolved(msgspec.Struct, rename="camel"):
    grant: GrantView
    goal_marked_claimed: bool


class AuditView(msgspec.Struct, rename="camel"):
    id: int
    at: str
    # "" in a player's own export: it names another person.
    actor: str
    action: str
    user_id: str
    goal_id: str
    grant_id: str
    request: dict[str, Any]
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class AuditPage(msgspec.Struct, rename="camel"):
    entries: list[AuditView]
    # Pass as `before` for the next (older) page; 0 when there is none.
    next_before: int


class UserDataExport(msgspec.Struct, rename="camel"):
    user_id: str
    progress: list[ProgressRecord]
    grants: list[GrantView]
    audit: list[AuditView]


# -- builders -----------------------------------------------------------------------------------------


def progress_record(stored: StoredRow) -> ProgressRecord:
    row = stored.row
    return ProgressRecord(
        goal_id=stored.goal_id,
        challenge_id=stored.challenge_id,
        progress=row.progress,
        baseline=row.baseline,
        status=row.status,
        is_active=row.is_active,
        assigned_at=timestamp(row.assigned_at),
        completed_at=timestamp(row.completed_at),
        claimed_at=timestamp(row.claimed_at),
        expires_at=timestamp(row.expires_at),
        auto_claim_at=timestamp(row.auto_claim_at),
        created_at=timestamp(stored.created_at),
        updated_at=timestamp(stored.updated_at),
    )


def goal_changed(user_id: str, change: GoalChange) -> GoalChanged:
    after = change.after
    return GoalChanged(
        user_id=user_id,
        challenge_id=change.goal.challenge_id,
        goal_id=change.goal.goal_id,
        progress=displayed(change.goal, after.row),
        status=after.row.status,
        before=progress_record(change.before) if change.before is not None else None,
        after=progress_record(after),
    )


def grant_view(grant: Grant) -> GrantView:
    return GrantView(
        grant_id=grant.grant_id,
        user_id=grant.user_id,
        goal_id=grant.goal_id,
        period=grant.period,
        reward_index=grant.reward_index,
        reward=Reward(grant.reward_type, grant.reward_id, grant.quantity),
        state=grant.state,
        attempts=grant.attempts,
        last_error=grant.last_error,
        reconcile_attempts=grant.reconcile_attempts,
        next_attempt_at=timestamp(grant.next_attempt_at),
        created_at=timestamp(grant.created_at),
        updated_at=timestamp(grant.updated_at),
    )


def grant_resolved(resolved: Resolved) -> GrantResolved:
    return GrantResolved(grant=grant_view(resolved.grant), goal_marked_claimed=resolved.goal_marked_claimed)


def audit_view(entry: AuditEntry, *, with_actor: bool = True) -> AuditView:
    return AuditView(
        id=entry.id,
        at=timestamp(entry.at),
        actor=entry.actor if with_actor else "",
        action=entry.action,
        user_id=entry.user_id,
        goal_id=entry.goal_id,
        grant_id=entry.grant_id,
        request=entry.request,
        before=entry.before,
        after=entry.after,
    )


def audit_page(entries: list[AuditEntry], limit: int) -> AuditPage:
    return AuditPage(
        entries=[audit_view(entry) for entry in entries],
        next_before=entries[-1].id if len(entries) == limit else 0,
    )


def user_data_export(user_id: str, data: UserData) -> UserDataExport:
    return UserDataExport(
        user_id=user_id,
        progress=[progress_record(stored) for stored in data.progress],
        grants=[grant_view(grant) for grant in data.grants],
        audit=[audit_view(entry, with_actor=False) for entry in data.audit],
    )
