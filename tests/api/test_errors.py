"""The one mapping from errorCode to the wire: HTTP status, gRPC `code`, headers and body shape."""

from __future__ import annotations

import msgspec
import pytest

from challenge_service.api.errors import WIRE, error_response, handle_exception
from challenge_service.auth import AuthError
from challenge_service.errors import DomainError, ErrorCode

# The contract's error table: errorCode → (HTTP status, gRPC code).
CONTRACT = {
    "INVALID_INPUT": (400, 3),
    "GOAL_NOT_COMPLETED": (400, 9),
    "GOAL_NOT_ACTIVE": (400, 9),
    "PREREQUISITES_NOT_MET": (400, 9),
    "GOAL_ROTATED": (400, 9),
    "INSUFFICIENT_GOALS": (400, 3),
    "CHALLENGE_NOT_FOUND": (404, 5),
    "GOAL_NOT_FOUND": (404, 5),
    "GOAL_ALREADY_CLAIMED": (409, 6),
    "UNAUTHENTICATED": (401, 16),
    "PERMISSION_DENIED": (403, 7),
    "REWARD_GRANT_FAILED": (502, 13),
    "UNAVAILABLE": (503, 14),
    "DATABASE_UNAVAILABLE": (503, 14),
}


def test_every_error_code_has_one_wire_mapping() -> None:
    assert set(WIRE) == set(ErrorCode)


@pytest.mark.parametrize("error_code", sorted(CONTRACT))
def test_the_contract_table_is_mapped_exactly(error_code: str) -> None:
    assert WIRE[ErrorCode(error_code)] == CONTRACT[error_code]


def test_a_domain_error_becomes_the_error_body() -> None:
    response = error_response(DomainError(ErrorCode.GOAL_NOT_ACTIVE, "goal is not active: g"))

    assert response.status_code == 400
    assert msgspec.json.decode(response.content) == {
        "code": 9,
        "errorCode": "GOAL_NOT_ACTIVE",
        "message": "goal is not active: g",
        "details": [],
    }


@pytest.mark.parametrize(
    ("error", "status", "code", "error_code", "headers"),
    [
        (AuthError("token expired"), 401, 16, "UNAUTHENTICATED", {"www-authenticate": "Bearer"}),
        (AuthError("namespace mismatch", status=403), 403, 7, "PERMISSION_DENIED", {}),
    ],
)
def test_auth_errors_are_mapped_here(
    error: AuthError, status: int, code: int, error_code: str, headers: dict[str, str]
) -> None:
    response = handle_exception(None, error)  # type: ignore[arg-type]  # the request is only read for a 500

    assert response.status_code == status
    body = msgspec.json.decode(response.content)
    assert (body["code"], body["errorCode"], body["message"]) == (code, error_code, error.message)
    assert {k.lower(): v for k, v in response.headers.items() if k.lower() == "www-authenticate"} == headers
