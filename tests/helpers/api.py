"""REST helpers: the error shape every route answers with ({code, errorCode, message, details}) and the
OpenAPI document, built from an app that is never started."""

from __future__ import annotations

from typing import Any

import httpx

from challenge_service.api.app import create_app
from challenge_service.api.deps import Services
from challenge_service.catalog import Catalog


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


def api_document(*, jwt_auth: bool = True, base_path: str = "/challenge") -> dict[str, Any]:
    """The OpenAPI 3.1 document the service serves (its routes only need to exist, not to run)."""

    async def nobody(headers: object) -> str:
        return ""

    services = Services(Catalog([]), None, nobody, None)  # type: ignore[arg-type]
    document: dict[str, Any] = create_app(services, base_path, jwt_auth=jwt_auth).openapi_schema.to_schema()
    return document
