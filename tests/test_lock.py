"""The lock files agree with what they lock, with each other, and with what `make` installed."""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.helpers.service import REPO

RUNTIME = REPO / "requirements" / "runtime.txt"
DEV = REPO / "requirements" / "dev.txt"
BENCH = REPO / "bench" / "requirements.lock"
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?$")
REFRESH = "run `make lock` after changing dependencies"


def pins(lock: Path) -> dict[str, str]:
    """Package → version pinned for this interpreter and platform (markers evaluated here)."""
    pinned = {}
    for line in lock.read_text().splitlines():
        match = _PIN.match(line)
        if match is None:
            continue
        name, pinned_version, marker = match.groups()
        if marker is None or Marker(marker).evaluate():
            pinned[canonicalize_name(name)] = pinned_version
    return pinned


def every_pin_has_hashes(lock: Path) -> bool:
    text = lock.read_text()
    return text.count("==") <= text.count("--hash=sha256:")


PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
RUNTIME_REQUIREMENTS = [Requirement(r) for r in PROJECT["dependencies"]]
DEV_REQUIREMENTS = [
    Requirement(r) for extra in ("dev", "embedded") for r in PROJECT["optional-dependencies"][extra]
]
BENCH_REQUIREMENTS = [
    Requirement(line)
    for line in (REPO / "bench" / "requirements.txt").read_text().splitlines()
    if line.strip() and not line.startswith("#")
]


@pytest.mark.parametrize(
    ("lock", "requirements"),
    [
        (RUNTIME, RUNTIME_REQUIREMENTS),
        (DEV, RUNTIME_REQUIREMENTS + DEV_REQUIREMENTS),
        (BENCH, BENCH_REQUIREMENTS),
    ],
    ids=["runtime", "dev", "bench"],
)
def test_every_requirement_is_pinned_within_its_range(lock: Path, requirements: list[Requirement]) -> None:
    pinned = pins(lock)
    for requirement in requirements:
        name = canonicalize_name(requirement.name)
        assert name in pinned, f"{requirement} is not in {lock.name}: {REFRESH}"
        assert requirement.specifier.contains(pinned[name], prereleases=True), (
            f"{lock.name} pins {name}=={pinned[name]}, outside {requirement}: {REFRESH}"
        )
    assert every_pin_has_hashes(lock)


@pytest.mark.parametrize(("narrow", "wide"), [(RUNTIME, DEV), (BENCH, DEV)], ids=["runtime", "bench"])
def test_a_package_has_one_version_in_every_lock(narrow: Path, wide: Path) -> None:
    narrower, wider = pins(narrow), pins(wide)
    differ = {name: (v, wider[name]) for name, v in narrower.items() if name in wider and wider[name] != v}
    assert differ == {}, REFRESH
    if narrow == RUNTIME:
        assert set(narrower) <= set(wider)


def test_the_environment_under_test_is_the_locked_one() -> None:
    def installed(name: str) -> str | None:
        try:
            return version(name)
        except PackageNotFoundError:
            return None

    differ = {
        name: (pinned, installed(name)) for name, pinned in pins(DEV).items() if installed(name) != pinned
    }
    assert differ == {}, "the virtual environment is not the locked one: `make install` re-creates it"
