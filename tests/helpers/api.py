"""The REST API's OpenAPI document, built from an app that is never started."""

from __future__ import annotations

from typing import Any

from challenge_service.api.app import create_app
from challenge_service.api.deps import Services
from challenge_service.catalog import Catalog


def api_document(*, jwt_auth: bool = True, base_path: str = "/challenge") -> dict[str, Any]:
    """The OpenAPI 3.1 document the service serves (its routes only need to exist, not to run)."""

    async def nobody(headers: object) -> str:
        return ""

    services = Services(Catalog([]), None, nobody, None)  # type: ignore[arg-type]
    document: dict[str, Any] = create_app(services, base_path, jwt_auth=jwt_auth).openapi_schema.to_schema()
    return document
