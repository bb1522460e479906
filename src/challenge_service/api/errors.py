"""Every error leaves the REST API here, as `{code, errorCode, message, details}`, and only here.

Domains raise `DomainError` with a stable `ErrorCode` (`challenge_service/errors.py`); `WIRE` gives each
code its HTTP status and the gRPC status code carried in `code`, as the Go reference does. Auth errors,
database trouble and Litestar's own HTTP exceptions are mapped to the same shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

import msgspec
import structlog
from litestar import MediaType, Response
from litestar.exceptions import HTTPException, MethodNotAllowedException, NotFoundException
from msgspec import Meta

from challenge_service.api.deps import AnyRequest
from challenge_service.auth import AuthError
from challenge_service.errors import DomainError, ErrorCode
from challenge_service.store.database import DatabaseUnavailable, Overloaded

log = structlog.get_logger(__name__)

# gRPC status codes.
INVALID_ARGUMENT, NOT_FOUND, ALREADY_EXISTS, PERMISSION_DENIED = 3, 5, 6, 7
FAILED_PRECONDITION, UNIMPLEMENTED, INTERNAL, UNAVAILABLE, UNAUTHENTICATED = 9, 12, 13, 14, 16

# errorCode → (HTTP status, gRPC code).
WIRE: dict[ErrorCode, tuple[int, int]] = {
    ErrorCode.INVALID_INPUT: (400, INVALID_ARGUMENT),
    ErrorCode.CHALLENGE_NOT_FOUND: (404, NOT_FOUND),
    ErrorCode.GOAL_NOT_FOUND: (404, NOT_FOUND),
    ErrorCode.INSUFFICIENT_GOALS: (400, INVALID_ARGUMENT),
    ErrorCode.CHALLENGE_NOT_LIVE: (400, FAILED_PRECONDITION),
    ErrorCode.CHALLENGE_ENDED: (400, FAILED_PRECONDITION),
    ErrorCode.GOAL_NOT_ACTIVE: (400, FAILED_PRECONDITION),
    ErrorCode.GOAL_ROTATED: (400, FAILED_PRECONDITION),
    ErrorCode.GOAL_ALREADY_CLAIMED: (409, ALREADY_EXISTS),
    ErrorCode.GOAL_NOT_COMPLETED: (400, FAILED_PRECONDITION),
    ErrorCode.PREREQUISITES_NOT_MET: (400, FAILED_PRECONDITION),
    ErrorCode.REWARD_GRANT_FAILED: (502, INTERNAL),
    ErrorCode.CLAIM_IN_PROGRESS: (409, ALREADY_EXISTS),
    ErrorCode.GRANT_IN_DOUBT: (409, ALREADY_EXISTS),
    ErrorCode.GRANT_NOT_FOUND: (404, NOT_FOUND),
    ErrorCode.GRANT_ALREADY_RESOLVED: (409, FAILED_PRECONDITION),
    ErrorCode.UNAUTHENTICATED: (401, UNAUTHENTICATED),
    ErrorCode.PERMISSION_DENIED: (403, PERMISSION_DENIED),
    ErrorCode.UNAVAILABLE: (503, UNAVAILABLE),
    ErrorCode.DATABASE_UNAVAILABLE: (503, UNAVAILABLE),
    ErrorCode.NOT_FOUND: (404, NOT_FOUND),
    ErrorCode.METHOD_NOT_ALLOWED: (405, UNIMPLEMENTED),
    ErrorCode.INTERNAL: (500, INTERNAL),
}

# An oversized body is INVALID_INPUT with HTTP's own status for it.
BODY_TOO_LARGE_STATUS = 413

_RETRY = {"Retry-After": "1"}
HEADERS: dict[ErrorCode, Mapping[str, str]] = {
    ErrorCode.UNAUTHENTICATED: {"WWW-Authenticate": "Bearer"},
    ErrorCode.UNAVAILABLE: _RETRY,
    ErrorCode.DATABASE_UNAVAILABLE: _RETRY,
}


class ErrorBody(msgspec.Struct, rename="camel"):
    """Every error answer of the REST API."""

    code: Annotated[int, Meta(description="the gRPC status code, as the Go suite's grpc-gateway answers")]
    error_code: Annotated[ErrorCode, Meta(description="stable name of the error; branch on this")]
    message: Annotated[str, Meta(description="what was wrong, for people; may change between versions")]
    details: Annotated[list[str], Meta(description="always empty; kept for wire compatibility")]


# Errors the shell raises itself (the domains build theirs in their own modules).
BODY_TOO_LARGE = DomainError(ErrorCode.INVALID_INPUT, "request body too large")
DATABASE_DOWN = DomainError(ErrorCode.DATABASE_UNAVAILABLE, "the database is unavailable")
OVERLOADED = DomainError(ErrorCode.UNAVAILABLE, "the service is overloaded; retry shortly")


_ENCODER = msgspec.json.Encoder()


def error_response(error: DomainError, status: int | None = None) -> Response[bytes]:
    """The response for `error`; `status` overrides the table's where HTTP needs a finer answer (413)."""
    wire_status, grpc_code = WIRE[error.code]
    body = ErrorBody(code=grpc_code, error_code=error.code, message=error.message, details=[])
    return Response(
        _ENCODER.encode(body),
        status_code=status or wire_status,
        media_type=MediaType.JSON,
        headers=dict(HEADERS.get(error.code, {})),
    )


def _from_http_exception(exc: HTTPException) -> Response[bytes]:
    if isinstance(exc, NotFoundException):
        return error_response(DomainError(ErrorCode.NOT_FOUND, exc.detail or "not found"))
    if isinstance(exc, MethodNotAllowedException):
        response = error_response(
            DomainError(ErrorCode.METHOD_NOT_ALLOWED, exc.detail or "method not allowed")
        )
        response.headers.update(exc.headers or {})  # Allow
        return response
    if exc.status_code == BODY_TOO_LARGE_STATUS:
        return error_response(BODY_TOO_LARGE, status=BODY_TOO_LARGE_STATUS)
    if 400 <= exc.status_code < 500:
        return error_response(DomainError(ErrorCode.INVALID_INPUT, exc.detail or "invalid request"))
    return error_response(DomainError(ErrorCode.INTERNAL, exc.detail or "internal error"), exc.status_code)


def _from_auth_error(error: AuthError) -> DomainError:
    code = ErrorCode.PERMISSION_DENIED if error.status == 403 else ErrorCode.UNAUTHENTICATED
    return DomainError(code, error.message)


def handle_exception(request: AnyRequest, exc: Exception) -> Response[bytes]:
    """The single exception handler of the REST API."""
    if isinstance(exc, DomainError):
        return error_response(exc)
    if isinstance(exc, AuthError):
        return error_response(_from_auth_error(exc))
    if isinstance(exc, DatabaseUnavailable):
        return error_response(DATABASE_DOWN)
    if isinstance(exc, Overloaded):
        return error_response(OVERLOADED)
    if isinstance(exc, HTTPException):
        return _from_http_exception(exc)
    log.exception("unhandled error", path=request.url.path)
    return error_response(DomainError(ErrorCode.INTERNAL, "internal error"))
