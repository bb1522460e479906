"""Errors as values: every `errorCode` the service answers with, and the one exception domains raise.

A domain (the catalog lookups, claims, goal selection …) raises `DomainError` with a stable `ErrorCode`
and a message for the caller; it never knows about HTTP or gRPC. `api/errors.py` maps each code to its
HTTP status and the gRPC `code` of the error body, in one table.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    # The request itself: malformed JSON, a wrong type, a count ≤ 0, an empty or oversized list …
    INVALID_INPUT = "INVALID_INPUT"
    # Catalog lookups: an unknown challenge, or a goal unknown or not in that challenge.
    CHALLENGE_NOT_FOUND = "CHALLENGE_NOT_FOUND"
    GOAL_NOT_FOUND = "GOAL_NOT_FOUND"
    # Random selection found no goal it may pick.
    INSUFFICIENT_GOALS = "INSUFFICIENT_GOALS"
    # A challenge's time window: not started yet (or ended, for goal choices), or its claim grace over.
    CHALLENGE_NOT_LIVE = "CHALLENGE_NOT_LIVE"
    CHALLENGE_ENDED = "CHALLENGE_ENDED"
    # Claims, in the order they are checked.
    GOAL_NOT_ACTIVE = "GOAL_NOT_ACTIVE"
    GOAL_ROTATED = "GOAL_ROTATED"
    GOAL_ALREADY_CLAIMED = "GOAL_ALREADY_CLAIMED"
    GOAL_NOT_COMPLETED = "GOAL_NOT_COMPLETED"
    PREREQUISITES_NOT_MET = "PREREQUISITES_NOT_MET"
    REWARD_GRANT_FAILED = "REWARD_GRANT_FAILED"
    # The reward ledger holds the goal: another claim is granting it, or its grant is in doubt.
    CLAIM_IN_PROGRESS = "CLAIM_IN_PROGRESS"
    GRANT_IN_DOUBT = "GRANT_IN_DOUBT"
    # Operator resolution of a grant: none with that key, or it is not pending / in doubt.
    GRANT_NOT_FOUND = "GRANT_NOT_FOUND"
    GRANT_ALREADY_RESOLVED = "GRANT_ALREADY_RESOLVED"
    # Who is calling.
    UNAUTHENTICATED = "UNAUTHENTICATED"
    PERMISSION_DENIED = "PERMISSION_DENIED"
    # Capacity and dependencies.
    UNAVAILABLE = "UNAVAILABLE"
    DATABASE_UNAVAILABLE = "DATABASE_UNAVAILABLE"
    # Routing and the last resort.
    NOT_FOUND = "NOT_FOUND"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    INTERNAL = "INTERNAL"


class DomainError(Exception):
    """A request the service refuses; `message` is meant for the caller and names what was wrong."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __repr__(self) -> str:
        return f"DomainError({self.code.value}, {self.message!r})"


def invalid_input(message: str) -> DomainError:
    return DomainError(ErrorCode.INVALID_INPUT, message)


def challenge_not_found(challenge_id: str) -> DomainError:
    return DomainError(ErrorCode.CHALLENGE_NOT_FOUND, f"challenge not found: {challenge_id}")


def goal_not_found(goal_id: str, challenge_id: str) -> DomainError:
    return DomainError(ErrorCode.GOAL_NOT_FOUND, f"goal not found in challenge {challenge_id}: {goal_id}")


def challenge_not_live(challenge_id: str, state: str) -> DomainError:
    """The challenge's time window is not open: nothing can be assigned or chosen in it now."""
    return DomainError(
        ErrorCode.CHALLENGE_NOT_LIVE, f"challenge is not live (state: {state}): {challenge_id}"
    )
