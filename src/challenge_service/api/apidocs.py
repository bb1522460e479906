"""The browsable API, offline, and the Swagger 2.0 document AccelByte's Extend tooling reads.

- `{BASE_PATH}/openapi/swagger`: Swagger UI over the OpenAPI 3.1 document (`OfflineSwaggerUI`, a Litestar
  render plugin).
- `{BASE_PATH}/apidocs/`: Swagger UI over `{BASE_PATH}/apidocs/api.json`, the same API as Swagger 2.0,
  where the Go suite serves it (Extend's API pages and SDK generator read that file).
- `{BASE_PATH}/apidocs/swagger-ui/{file}`: Swagger UI's own files, from the `swagger-ui-py` package, so
  neither page loads anything from another host: they work on a machine without internet access.
"""

from __future__ import annotations

import importlib.util
import json
from html import escape
from pathlib import Path
from typing import Any

from litestar import MediaType, Request, Response, Router, get
from litestar.exceptions import NotFoundException
from litestar.openapi.plugins import OpenAPIRenderPlugin
from litestar.params import FromPath
from litestar.response import File

TITLE = "Challenge Service"
# Swagger UI 5 (OpenAPI 3.1 support); `swagger-ui-bundle` on PyPI still ships 4.x, which refuses 3.1.
SWAGGER_UI_PACKAGE = "swagger_ui"
# The files the page loads; nothing else of the package is served.
SWAGGER_UI_FILES = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon-32x32.png": "image/png",
}
ASSETS = "swagger-ui"


def swagger_ui_dir() -> Path:
    """Where the installed `swagger-ui-py` keeps Swagger UI's files (found without importing it)."""
    spec = importlib.util.find_spec(SWAGGER_UI_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the {SWAGGER_UI_PACKAGE!r} package (swagger-ui-py) is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


def swagger_page(spec_url: str, assets_url: str) -> bytes:
    """A Swagger UI page for the document at `spec_url`, its files under `assets_url`."""
    # `validatorUrl: null`: Swagger UI would otherwise ask swagger.io to validate the document.
    config = json.dumps({"url": spec_url, "dom_id": "#swagger-ui", "deepLinking": True, "validatorUrl": None})
    # Inside <script>, a "</script>" in a configured path must not end the element.
    config = config.replace("<", "\\u003c")
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{escape(TITLE)}</title>
<link rel="icon" type="image/png" href="{escape(assets_url)}/favicon-32x32.png">
<link rel="stylesheet" href="{escape(assets_url)}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{escape(assets_url)}/swagger-ui-bundle.js"></script>
<script>window.ui = SwaggerUIBundle({config});</script>
</body>
</html>
""".encode()


class OfflineSwaggerUI(OpenAPIRenderPlugin):
    """`{BASE_PATH}/openapi/swagger` (and `/openapi`): the page over the OpenAPI 3.1 document."""

    def __init__(self, base_path: str) -> None:
        super().__init__(path="/swagger")
        self._page = swagger_page(f"{base_path}/openapi/openapi.json", f"{base_path}/apidocs/{ASSETS}")

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        return self._page


def apidocs_router(base_path: str, swagger2: bytes) -> Router:
    """`{BASE_PATH}/apidocs/…`: the Swagger 2.0 document, its page and Swagger UI's files."""
    page = swagger_page(f"{base_path}/apidocs/api.json", f"{base_path}/apidocs/{ASSETS}")
    files = swagger_ui_dir()

    @get("/", media_type=MediaType.HTML, sync_to_thread=False)
    def apidocs_page() -> bytes:
        return page

    @get("/api.json", media_type=MediaType.JSON, sync_to_thread=False)
    def swagger2_document() -> Response[bytes]:
        return Response(swagger2, media_type=MediaType.JSON)

    @get(f"/{ASSETS}/{{name:str}}", sync_to_thread=False)
    def swagger_ui_file(name: FromPath[str]) -> File:
        media_type = SWAGGER_UI_FILES.get(name)
        if media_type is None:
            raise NotFoundException(f"no such file: {name}")
        return File(
            files / name,
            media_type=media_type,
            content_disposition_type="inline",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    return Router(
        f"{base_path}/apidocs",
        route_handlers=[apidocs_page, swagger2_document, swagger_ui_file],
        include_in_schema=False,
    )
