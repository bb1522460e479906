"""Errors are values with a stable `errorCode`, mapped to HTTP here and nowhere else (SPEC §5)."""

from __future__ import annotations

from collections.abc import Mapping

import msgspec
import structlog
from litestar import MediaType, Response
from litestar.exceptions import HTTPException, MethodNotAllowedException, NotFoundException

from challenge_service.api.deps import AnyRequest
from challenge_service.store.database import DatabaseUnavailable, Overloaded

log = structlog.get_logger(__name__)

# gRPC status codes carried in the `code` field, as the Go reference does.
INVALID_ARGUMENT, NOT_FOUND, ALREADY_EXISTS, PERMISSION_DENIED = 3, 5, 6, 7
FAILED_PRECONDITION, INTERNAL, UNAVAILABLE, UNAUTHENTICATED = 9, 13, 14, 16


class ErrorBody(msgspec.Struct, rename="camel"):
    code: int
    error_code: str
    message: str
    details: list[str] = msgspec.field(default_factory=list)


class ServiceError(Exception):
    def __init__(
        self,
        status: int,
        code: int,
        error_code: str,
        message: str,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.error_code = error_code
        self.message = message
        self.headers = dict(headers or {})


def invalid_input(message: str) -> ServiceError:
    return ServiceError(400, INVALID_ARGUMENT, "INVALID_INPUT", message)


def challenge_not_found(challenge_id: str) -> ServiceError:
    return ServiceError(404, NOT_FOUND, "CHALLENGE_NOT_FOUND", f"challenge not found: {challenge_id}")


def goal_not_found(goal_id: str, challenge_id: str) -> ServiceError:
    return ServiceError(
        404, NOT_FOUND, "GOAL_NOT_FOUND", f"goal not found in challenge {challenge_id}: {goal_id}"
    )


def insufficient_goals(available: int, requested: int) -> ServiceError:
    return ServiceError(
        400,
        INVALID_ARGUMENT,
        "INSUFFICIENT_GOALS",
        "INSUFFICIENT_GOALS: no goals available for selection "
        f"(available: {available}, requested: {requested})",
    )


def unauthenticated(message: str) -> ServiceError:
    return ServiceError(401, UNAUTHENTICATED, "UNAUTHENTICATED", message, {"WWW-Authenticate": "Bearer"})


def permission_denied(message: str) -> ServiceError:
    return ServiceError(403, PERMISSION_DENIED, "PERMISSION_DENIED", message)


def overloaded() -> ServiceError:
    return ServiceError(
        503, UNAVAILABLE, "UNAVAILABLE", "the service is overloaded; retry shortly", {"Retry-After": "1"}
    )


def database_unavailable() -> ServiceError:
    return ServiceError(
        503, UNAVAILABLE, "DATABASE_UNAVAILABLE", "the database is unavailable", {"Retry-After": "1"}
    )


# -- claim (SPEC §5) ------------------------------------------------------------------------------------


def goal_not_completed(goal_id: str, status: str) -> ServiceError:
    return ServiceError(
        400, FAILED_PRECONDITION, "GOAL_NOT_COMPLETED", f"goal is not completed (status: {status}): {goal_id}"
    )


def goal_not_active(goal_id: str) -> ServiceError:
    return ServiceError(400, FAILED_PRECONDITION, "GOAL_NOT_ACTIVE", f"goal is not active: {goal_id}")


def goal_rotated(goal_id: str) -> ServiceError:
    return ServiceError(
        400, FAILED_PRECONDITION, "GOAL_ROTATED", f"goal has rotated since it was completed: {goal_id}"
    )


def goal_already_claimed(goal_id: str) -> ServiceError:
    return ServiceError(409, ALREADY_EXISTS, "GOAL_ALREADY_CLAIMED", f"goal already claimed: {goal_id}")


def prerequisites_not_met(goal_id: str, missing: list[str]) -> ServiceError:
    return ServiceError(
        400,
        FAILED_PRECONDITION,
        "PREREQUISITES_NOT_MET",
        f"prerequisites not met for goal {goal_id}: {', '.join(missing)}",
    )


def reward_grant_failed(message: str) -> ServiceError:
    return ServiceError(502, INTERNAL, "REWARD_GRANT_FAILED", message)


def claim_in_progress(goal_id: str) -> ServiceError:
    # Not in the SPEC table: another claim of this goal holds the ledger row (or died holding it).
    return ServiceError(
        409,
        ALREADY_EXISTS,
        "CLAIM_IN_PROGRESS",
        f"a claim of this goal is already in progress; its reward is not granted twice: {goal_id}",
    )


def grant_in_doubt(goal_id: str) -> ServiceError:
    # Not in the SPEC table: AGS may have granted the reward; an operator decides (grants resolve).
    return ServiceError(
        409,
        ALREADY_EXISTS,
        "GRANT_IN_DOUBT",
        f"the reward grant of this goal is in doubt and awaits operator review: {goal_id}",
    )


_ENCODER = msgspec.json.Encoder()


def error_response(error: ServiceError) -> Response[bytes]:
    body = ErrorBody(code=error.code, error_code=error.error_code, message=error.message)
    return Response(
        _ENCODER.encode(body), status_code=error.status, media_type=MediaType.JSON, headers=error.headers
    )


def _from_http_exception(exc: HTTPException) -> ServiceError:
    if isinstance(exc, NotFoundException):
        return ServiceError(404, NOT_FOUND, "NOT_FOUND", exc.detail or "not found")
    if isinstance(exc, MethodNotAllowedException):
        return ServiceError(405, 12, "METHOD_NOT_ALLOWED", exc.detail or "method not allowed")
    if exc.status_code == 413:
        return ServiceError(413, INVALID_ARGUMENT, "INVALID_INPUT", "request body too large")
    if 400 <= exc.status_code < 500:
        return invalid_input(exc.detail or "invalid request")
    return ServiceError(exc.status_code, INTERNAL, "INTERNAL", exc.detail or "internal error")


def handle_exception(request: AnyRequest, exc: Exception) -> Response[bytes]:
    """The single exception handler: every error leaves as `{code, errorCode, message, details}`."""
    if isinstance(exc, ServiceError):
        return error_response(exc)
    if isinstance(exc, DatabaseUnavailable):
        return error_response(database_unavailable())
    if isinstance(exc, Overloaded):
        return error_response(overloaded())
    if isinstance(exc, HTTPException):
        error = _from_http_exception(exc)
        response = error_response(error)
        if isinstance(exc, MethodNotAllowedException) and exc.headers:
            response.headers.update(exc.headers)
        return response
    log.exception("unhandled error", path=request.url.path)
    return error_response(ServiceError(500, INTERNAL, "INTERNAL", "internal error"))
