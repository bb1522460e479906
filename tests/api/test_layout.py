"""The seams of the package: route modules stand alone, and no domain module knows about HTTP."""

from __future__ import annotations

import ast
from pathlib import Path

import challenge_service
from challenge_service.api.app import create_app
from challenge_service.api.deps import Services
from challenge_service.catalog import Catalog

PACKAGE = Path(challenge_service.__file__).parent


def _imports(path: Path) -> set[str]:
    """Every `challenge_service…` module a file imports (`from a import b` counts as `a` and `a.b`)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in found if name.startswith("challenge_service")}


def _route_modules() -> set[str]:
    async def nobody(headers: object) -> str:
        return ""

    app = create_app(Services(Catalog([]), None, nobody, None), "/challenge")  # type: ignore[arg-type]
    modules = {handler.fn.__module__ for route in app.routes for handler in route.route_handlers}  # type: ignore[union-attr]
    return {module for module in modules if module.startswith("challenge_service.")}  # not Litestar's own


def test_route_modules_never_import_each_other() -> None:
    routes = _route_modules()
    assert "challenge_service.api.challenges" in routes and len(routes) >= 5
    for module in routes:
        path = PACKAGE.parent / (module.replace(".", "/") + ".py")
        assert not (_imports(path) & (routes - {module})), module


def test_domain_modules_know_nothing_of_http() -> None:
    shell = {"api", "app.py", "__main__.py", "demo.py", "events"}
    for path in PACKAGE.rglob("*.py"):
        if path.relative_to(PACKAGE).parts[0] in shell:
            continue
        web = {name for name in _imports(path) if name.startswith("challenge_service.api")}
        assert not web, f"{path.relative_to(PACKAGE)} imports {web}"
