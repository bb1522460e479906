"""Swagger 2.0 at `/apidocs/api.json` (what AccelByte's Extend tooling reads) and the offline API pages."""

from __future__ import annotations

import re
from typing import Any

import pytest
from openapi_spec_validator import validate

from challenge_service.api.swagger2 import schema, to_swagger2
from tests.helpers.api import api_document
from tests.helpers.service import RunningService

PAGES = ["/challenge/openapi/swagger", "/challenge/openapi", "/challenge/apidocs/"]


async def test_the_swagger2_document_is_valid_and_describes_the_same_api(running: RunningService) -> None:
    openapi = (await running.http.get("/challenge/openapi/openapi.json")).json()
    response = await running.http.get("/challenge/apidocs/api.json")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    swagger = response.json()
    validate(swagger)  # raises on anything Swagger 2.0 does not allow
    assert swagger["swagger"] == "2.0"
    assert swagger == to_swagger2(openapi)  # converted from the served 3.1 document, not kept by hand
    operations = {
        (path, method): op["operationId"]
        for path, item in swagger["paths"].items()
        for method, op in item.items()
    }
    assert operations == {
        (path, method): op["operationId"]
        for path, item in openapi["paths"].items()
        for method, op in item.items()
    }


async def test_bodies_errors_and_security_survive_the_conversion(running: RunningService) -> None:
    swagger = (await running.http.get("/challenge/apidocs/api.json")).json()
    batch = swagger["paths"]["/challenge/v1/challenges/{challenge_id}/goals/batch-select"]["post"]

    [path_parameter, body] = batch["parameters"]
    assert path_parameter == {"name": "challenge_id", "in": "path", "required": True, "type": "string"}
    assert (body["in"], body["required"]) == ("body", True)
    assert body["schema"]["required"] == ["goalIds"]
    assert body["schema"]["properties"]["goalIds"]["maxItems"] == 100
    assert batch["responses"]["404"]["schema"] == {"$ref": "#/definitions/ErrorBody"}
    assert batch["responses"]["404"]["examples"]["application/json"]["errorCode"] == "CHALLENGE_NOT_FOUND"
    assert "ErrorBody" in swagger["definitions"]
    # The running service is in dev mode: the mock headers are the schemes, the admin one on operator routes.
    assert swagger["securityDefinitions"]["mockUser"]["name"] == "X-Mock-User-Id"
    assert swagger["securityDefinitions"]["mockAdmin"]["name"] == "X-Mock-Admin"
    resolve = swagger["paths"]["/challenge/v1/admin/grants/{grant_id}/resolve"]["post"]
    assert resolve["security"] == [{"mockUser": [], "mockAdmin": []}, {"mockAdmin": []}]
    assert [p["in"] for p in resolve["parameters"]] == ["path", "body"]
    rotation = swagger["definitions"]["Rotation"]["properties"]["currentPeriod"]
    assert rotation == {"allOf": [{"$ref": "#/definitions/RotationPeriod"}], "x-nullable": True}


def test_the_jwt_mode_document_converts_to_valid_swagger2_too() -> None:
    swagger = to_swagger2(api_document(jwt_auth=True))
    validate(swagger)
    assert set(swagger["securityDefinitions"]) == {"bearerAuth"}


@pytest.mark.parametrize("page", PAGES)
async def test_the_pages_load_everything_from_the_service_itself(running: RunningService, page: str) -> None:
    response = await running.http.get(page)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert not re.search(r"(https?:)?//", response.text), "the page names another host"
    assets = re.findall(r'(?:src|href)="([^"]+)"', response.text)
    assert len(assets) == 3, assets  # the bundle, its stylesheet, the icon
    for asset in assets:
        loaded = await running.http.get(asset)
        assert loaded.status_code == 200, asset
        assert len(loaded.content) > 500, asset
    spec_url = re.search(r'"url": "([^"]+)"', response.text)
    assert spec_url is not None
    assert (await running.http.get(spec_url[1])).status_code == 200


async def test_only_the_pages_own_files_are_served(running: RunningService) -> None:
    for name in ("swagger-editor-bundle.js", "..%2F__init__.py", "index.css"):
        response = await running.http.get(f"/challenge/apidocs/swagger-ui/{name}")
        assert response.status_code == 404, name
        assert response.json()["errorCode"] == "NOT_FOUND"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ({"type": ["null", "string"]}, {"type": "string", "x-nullable": True}),
        (
            {"oneOf": [{"$ref": "#/components/schemas/X"}, {"type": "null"}]},
            {"allOf": [{"$ref": "#/definitions/X"}], "x-nullable": True},
        ),
        ({"oneOf": [{"type": "integer"}, {"type": "null"}]}, {"type": "integer", "x-nullable": True}),
        ({"const": "claimed", "type": "string"}, {"type": "string", "enum": ["claimed"]}),
        (
            {"type": "integer", "exclusiveMinimum": 0},
            {"type": "integer", "minimum": 0, "exclusiveMinimum": True},
        ),
        ({"type": "object", "required": [], "properties": {}}, {"type": "object", "properties": {}}),
        (
            {"type": "array", "items": {"$ref": "#/components/schemas/Y"}, "examples": [["a"]]},
            {"type": "array", "items": {"$ref": "#/definitions/Y"}, "example": ["a"]},
        ),
    ],
)
def test_schema_keywords_swagger2_lacks_get_their_nearest_form(
    source: dict[str, Any], expected: dict[str, Any]
) -> None:
    assert schema(source) == expected
