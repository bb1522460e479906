"""The REST error shape every route answers with: {code, errorCode, message, details}."""

from __future__ import annotations

from typing import Any

import httpx


def assert_error(
    response: httpx.Response, status: int, code: int, error_code: str, message: str | None = None
) -> dict[str, Any]:
    """Check an error answer (and its message, when given); return its body for further checks."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body.keys() == {"code", "errorCode", "message", "details"}, body
    assert (body["code"], body["errorCode"], body["details"]) == (code, error_code, [])
    if message is not None:
        assert body["message"] == message
    return body
