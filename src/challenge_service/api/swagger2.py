"""OpenAPI 3.1 → Swagger 2.0, for the document AccelByte's Extend tooling reads (`/apidocs/api.json`).

Covers what this API's document uses: paths with path/query parameters, JSON request bodies and
responses, component schemas, bearer or API-key security. JSON Schema keywords Swagger 2.0 lacks are
mapped to their nearest form: a `null` alternative becomes `x-nullable`, `const` a one-value `enum`,
`examples` the first `example`.
"""

from __future__ import annotations

from typing import Any

JSON = "application/json"
_COMPONENTS = "#/components/schemas/"
_DEFINITIONS = "#/definitions/"
# Keywords Swagger 2.0's schema object has (a subset of JSON Schema draft 4) and keeps as they are.
_KEPT = {
    "title", "description", "default", "format", "type", "enum", "required", "readOnly",
    "pattern", "multipleOf", "maximum", "minimum", "maxLength", "minLength", "maxItems", "minItems",
    "uniqueItems", "maxProperties", "minProperties",
}  # fmt: skip
# Keywords a non-body parameter carries itself instead of a `schema`.
_PARAMETER_KEYWORDS = {"type", "format", "enum", "default", "maximum", "minimum", "maxLength", "minLength"}


def schema(source: dict[str, Any]) -> dict[str, Any]:
    """One JSON Schema (OpenAPI 3.1 dialect) as a Swagger 2.0 schema object."""
    if "$ref" in source:
        return {"$ref": source["$ref"].replace(_COMPONENTS, _DEFINITIONS)}
    for key in ("oneOf", "anyOf"):
        if key in source:
            options = [option for option in source[key] if option.get("type") != "null"]
            nullable = len(options) < len(source[key])
            if len(options) == 1:
                # A `$ref` ignores its siblings, so a nullable reference is wrapped in `allOf`.
                inner = schema(options[0])
                wrapped: dict[str, Any] = {"allOf": [inner]} if "$ref" in inner and nullable else inner
                return {**wrapped, "x-nullable": True} if nullable else wrapped
            # Swagger 2.0 has no union: say what it can and leave the rest to the description.
            return {"description": source.get("description", "one of several shapes")}
    result: dict[str, Any] = {key: value for key, value in source.items() if key in _KEPT}
    if not result.get("required", True):
        del result["required"]  # draft 4 wants at least one name in it
    kind = source.get("type")
    if isinstance(kind, list):
        kinds = [k for k in kind if k != "null"]
        result["type"] = kinds[0] if len(kinds) == 1 else "object"
        if "null" in kind:
            result["x-nullable"] = True
    if "const" in source:
        result["enum"] = [source["const"]]
    if "exclusiveMinimum" in source:
        result.update(minimum=source["exclusiveMinimum"], exclusiveMinimum=True)
    if "exclusiveMaximum" in source:
        result.update(maximum=source["exclusiveMaximum"], exclusiveMaximum=True)
    if source.get("examples"):
        result["example"] = source["examples"][0]
    if "items" in source:
        result["items"] = schema(source["items"])
    if "properties" in source:
        result["properties"] = {name: schema(prop) for name, prop in source["properties"].items()}
    if isinstance(source.get("additionalProperties"), dict):
        result["additionalProperties"] = schema(source["additionalProperties"])
    if "allOf" in source:
        result["allOf"] = [schema(part) for part in source["allOf"]]
    return result


def _parameter(source: dict[str, Any]) -> dict[str, Any]:
    converted = schema(source.get("schema", {"type": "string"}))
    result = {
        "name": source["name"],
        "in": source["in"],
        "required": source.get("required", source["in"] == "path"),
        **{key: value for key, value in converted.items() if key in _PARAMETER_KEYWORDS},
    }
    if "description" in source:
        result["description"] = source["description"]
    return result


def _body(source: dict[str, Any]) -> dict[str, Any]:
    body = {
        "name": "body",
        "in": "body",
        "required": source.get("required", False),
        "schema": schema(source["content"][JSON]["schema"]),
    }
    if "description" in source:
        body["description"] = source["description"]
    return body


def _response(source: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {"description": source.get("description", "")}
    media = source.get("content", {}).get(JSON)
    if media is None:
        return result
    if "schema" in media:
        result["schema"] = schema(media["schema"])
    examples = [example["value"] for example in media.get("examples", {}).values() if "value" in example]
    if examples:
        result["examples"] = {JSON: examples[0]}
    return result


def _operation(source: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {
        key: source[key]
        for key in ("operationId", "summary", "description", "tags", "security", "deprecated")
        if key in source
    }
    parameters = [_parameter(p) for p in source.get("parameters", [])]
    if "requestBody" in source:
        parameters.append(_body(source["requestBody"]))
    if parameters:
        result["parameters"] = parameters
    result["responses"] = {status: _response(r) for status, r in source["responses"].items()}
    return result


def _security_scheme(source: dict[str, Any]) -> dict[str, Any]:
    description = source.get("description", "")
    if source["type"] == "http":
        # Swagger 2.0 has no bearer scheme: the header itself is the key, `Bearer <token>` its value.
        note = "Send `Authorization: Bearer <token>`."
        return {
            "type": "apiKey",
            "name": "Authorization",
            "in": "header",
            "description": f"{description}. {note}" if description else note,
        }
    result = {"type": "apiKey", "name": source["name"], "in": source["in"]}
    if description:
        result["description"] = description
    return result


def to_swagger2(openapi: dict[str, Any]) -> dict[str, Any]:
    """The Swagger 2.0 form of an OpenAPI 3.1 document."""
    components = openapi.get("components", {})
    document: dict[str, Any] = {
        "swagger": "2.0",
        "info": {key: value for key, value in openapi["info"].items() if key != "summary"},
        "basePath": "/",
        "consumes": [JSON],
        "produces": [JSON],
        "paths": {
            path: {method: _operation(operation) for method, operation in item.items()}
            for path, item in openapi.get("paths", {}).items()
        },
        "definitions": {name: schema(s) for name, s in components.get("schemas", {}).items()},
    }
    if "tags" in openapi:
        document["tags"] = openapi["tags"]
    schemes = components.get("securitySchemes", {})
    if schemes:
        document["securityDefinitions"] = {name: _security_scheme(s) for name, s in schemes.items()}
    if "security" in openapi:
        document["security"] = openapi["security"]
    return document
