"""Why an operator's request is refused: the admin domain's `DomainError`s."""

from __future__ import annotations

from challenge_service.errors import DomainError, ErrorCode


def unknown_goal(goal_id: str) -> DomainError:
    return DomainError(ErrorCode.GOAL_NOT_FOUND, f"goal not found: {goal_id}")


def permission_denied(resource: str, action: str) -> DomainError:
    return DomainError(
        ErrorCode.PERMISSION_DENIED, f"this route needs the permission {resource} [{action}] in the token"
    )
