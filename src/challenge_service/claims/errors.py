"""Why a claim, or an operator's resolution of a grant, is refused: the claim domain's `DomainError`s."""

from __future__ import annotations

from datetime import UTC, datetime

from challenge_service.errors import DomainError, ErrorCode


def challenge_ended(challenge_id: str, claimable_until: datetime) -> DomainError:
    until = claimable_until.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return DomainError(
        ErrorCode.CHALLENGE_ENDED,
        f"challenge has ended and its rewards could be claimed until {until}: {challenge_id}",
    )


def goal_not_completed(goal_id: str, status: str) -> DomainError:
    return DomainError(ErrorCode.GOAL_NOT_COMPLETED, f"goal is not completed (status: {status}): {goal_id}")


def goal_not_active(goal_id: str) -> DomainError:
    return DomainError(ErrorCode.GOAL_NOT_ACTIVE, f"goal is not active: {goal_id}")


def goal_rotated(goal_id: str) -> DomainError:
    return DomainError(ErrorCode.GOAL_ROTATED, f"goal has rotated since it was completed: {goal_id}")


def goal_already_claimed(goal_id: str) -> DomainError:
    return DomainError(ErrorCode.GOAL_ALREADY_CLAIMED, f"goal already claimed: {goal_id}")


def prerequisites_not_met(goal_id: str, missing: list[str]) -> DomainError:
    return DomainError(
        ErrorCode.PREREQUISITES_NOT_MET, f"prerequisites not met for goal {goal_id}: {', '.join(missing)}"
    )


def reward_grant_failed(message: str) -> DomainError:
    return DomainError(ErrorCode.REWARD_GRANT_FAILED, message)


def claim_in_progress(goal_id: str) -> DomainError:
    return DomainError(
        ErrorCode.CLAIM_IN_PROGRESS,
        f"a claim of this goal is already in progress; its reward is not granted twice: {goal_id}",
    )


def grant_in_doubt(goal_id: str) -> DomainError:
    # AGS may have granted the reward; the reconciler (or an operator) settles it, never a claim.
    return DomainError(
        ErrorCode.GRANT_IN_DOUBT,
        f"the reward grant of this goal is in doubt and is being settled with AGS: {goal_id}",
    )


def grant_not_found(user_id: str, goal_id: str, period: str) -> DomainError:
    return DomainError(
        ErrorCode.GRANT_NOT_FOUND, f"no grant for user={user_id!r} goal={goal_id!r} period={period!r}"
    )


def grant_id_not_found(grant_id: str) -> DomainError:
    return DomainError(ErrorCode.GRANT_NOT_FOUND, f"no grant with id {grant_id!r}")


def grant_already_resolved(state: str) -> DomainError:
    return DomainError(
        ErrorCode.GRANT_ALREADY_RESOLVED,
        f"grant is already {state}; only pending or in_doubt grants are resolved",
    )
