"""Tests stand alone: shared helpers live in `tests/helpers/`, fixtures in conftest modules.

A test module that imports another test module (or a helper from a conftest by path) runs that
module's tests' set-up on import and couples two files nobody reads together.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent


def _forbidden(module: str) -> bool:
    parts = module.split(".")
    return parts[0] == "tests" and (parts[-1] == "conftest" or parts[-1].startswith("test_"))


def imported_test_modules(source: str, package: str) -> list[str]:
    """The test or conftest modules that `source`, a module of `package`, imports."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if _forbidden(alias.name)]
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            candidates = [module, *(f"{module}.{alias.name}" for alias in node.names)]
            found += [name for name in candidates if _forbidden(name)]
    return found


def _package(path: Path) -> str:
    return ".".join(("tests", *path.parent.relative_to(TESTS).parts))


def test_no_test_module_imports_another_test_module_or_a_conftest() -> None:
    offenders = {
        str(path.relative_to(TESTS)): found
        for path in sorted(TESTS.rglob("*.py"))
        if (found := imported_test_modules(path.read_text(), _package(path)))
    }
    assert offenders == {}, "move what they share into tests/helpers/"


@pytest.mark.parametrize(
    ("source", "package", "expected"),
    [
        ("from tests.api.test_claim import put_row", "tests.claims", ["tests.api.test_claim"]),
        ("from tests.conftest import make_settings", "tests", ["tests.conftest"]),
        ("import tests.test_lifecycle", "tests.events", ["tests.test_lifecycle"]),
        ("from tests.api import test_claim", "tests", ["tests.api.test_claim"]),
        ("from .conftest import FakeSleep", "tests.rewards", ["tests.rewards.conftest"]),
        ("from ..events.test_proto_wire import f_str", "tests.events", ["tests.events.test_proto_wire"]),
        ("from . import test_x", "tests.api", ["tests.api.test_x"]),
        ("from tests.helpers.db import seed", "tests.events", []),
        ("from tests.fake_ags import FakeAgs", "tests", []),
        ("import pytest", "tests", []),
    ],
)
def test_the_scan_sees_every_form_of_import(source: str, package: str, expected: list[str]) -> None:
    assert imported_test_modules(source, package) == expected
