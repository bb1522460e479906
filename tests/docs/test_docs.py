"""The documentation states facts the code can check: each test holds one page to the code it describes,
both ways, so neither can change alone."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import msgspec
import pytest
from prometheus_client import REGISTRY

import challenge_service.metrics  # noqa: F401  (registers every metric)
from challenge_service.api.errors import WIRE
from challenge_service.catalog.model import (
    CatalogFile,
    Challenge,
    Goal,
    OnExpiry,
    Requirement,
    Reward,
    Rotation,
)
from challenge_service.errors import ErrorCode
from tests.helpers.api import api_document

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
SOURCE = REPO / "src" / "challenge_service"


def read(name: str) -> str:
    return (DOCS / name).read_text()


def quoted(text: str) -> set[str]:
    """Every `code span` of a Markdown text."""
    return set(re.findall(r"`([^`\n]+)`", text))


# -- api.md ----------------------------------------------------------------------------------------------


def test_every_error_code_is_documented_with_its_status_and_code() -> None:
    rows = re.findall(r"^\| `([A-Z_]+)` \| (\d{3}) \| (\d+) \|", read("api.md"), re.MULTILINE)
    documented = {code: (int(status), int(grpc)) for code, status, grpc in rows}

    assert len(rows) == len(documented), "an errorCode is listed twice"
    assert documented == {code.value: WIRE[code] for code in ErrorCode}


def test_every_route_is_documented_and_every_documented_route_exists() -> None:
    spec = api_document()
    routes = {
        f"{method.upper()} {path.removeprefix('/challenge')}"
        for path, item in spec["paths"].items()
        for method in item
    }
    headings = set(re.findall(r"^### ((?:GET|POST|PUT|PATCH|DELETE) /\S*)$", read("api.md"), re.MULTILINE))

    assert headings == routes


# -- operations.md ---------------------------------------------------------------------------------------


def environment_variables() -> set[str]:
    """The variables settings.py reads: the keys of its variable tables."""
    return set(re.findall(r'^\s+"([A-Z][A-Z0-9_]+)": \(', (SOURCE / "settings.py").read_text(), re.MULTILINE))


def test_every_setting_is_documented() -> None:
    variables = environment_variables()
    assert {"HTTP_PORT", "DATABASE_URL", "DB_POOL_SIZE"} <= variables  # the pattern still finds them

    settings_table = read("operations.md").split("## Settings", 1)[1].split("\n## ", 1)[0]
    documented = {name for name in quoted(settings_table) if re.fullmatch(r"[A-Z][A-Z0-9_]+", name)}
    assert variables - documented == set(), "undocumented settings"
    listed = {
        name
        for row in settings_table.splitlines()
        if row.startswith("| `")
        for name in quoted(row.split(" | ")[0])
    }
    assert listed - variables == set(), "documented settings the service does not read"


def metric_names() -> set[str]:
    names = set()
    for family in REGISTRY.collect():
        if family.name.startswith("challenge_"):
            names.add(f"{family.name}_total" if family.type == "counter" else family.name)
    return names


def test_every_metric_is_documented_and_every_documented_metric_exists() -> None:
    names = metric_names()
    assert "challenge_events_total" in names and "challenge_buffer_entries" in names

    text = read("operations.md")
    documented = {name for name in quoted(text) if name.startswith("challenge_")}
    table = {
        name
        for row in text.split("## Metrics", 1)[1].split("\n### ", 1)[0].splitlines()
        if row.startswith("| `challenge_")
        for name in quoted(row.split(" | ")[0])
    }
    assert names - documented == set(), "undocumented metrics"
    assert table == names, "the metrics table and the registry differ"
    found = re.findall(r"(?<![{\w])challenge_[a-z_]+", text)  # not `{challenge_id}`
    # `challenge_service` is the package and the Go suite's default database name, not a metric.
    mentioned = {re.sub(r"_(bucket|count|sum)$", "", m) for m in found} - {"challenge_service"}
    assert mentioned - names == set(), "the page names metrics that do not exist"


# -- challenges.md ---------------------------------------------------------------------------------------

CATALOG_STRUCTS = (CatalogFile, Challenge, Goal, Requirement, Reward, Rotation, OnExpiry)


def test_every_key_of_the_catalog_is_documented() -> None:
    keys = {
        field.encode_name
        for struct in CATALOG_STRUCTS
        for field in msgspec.inspect.type_info(struct).fields  # type: ignore[union-attr]
    }
    documented = quoted(read("challenges.md"))

    assert keys - documented == set()


def test_every_choice_of_the_catalog_is_documented() -> None:
    text = read("challenges.md")
    for literal in (
        "login",
        "statistic",
        "absolute",
        "relative",
        "ITEM",
        "WALLET",
        "global",
        "daily",
        "weekly",
    ):
        assert f'"{literal}"' in text or f"`{literal}`" in text, literal


# -- events.md -------------------------------------------------------------------------------------------


def test_both_event_methods_health_and_reflection_are_documented() -> None:
    text = read("events.md")
    for name in (
        "/accelbyte.iam.account.v1.UserAuthenticationUserLoggedInService/OnMessage",
        "/accelbyte.social.statistic.v1.StatisticStatItemUpdatedService/OnMessage",
        "grpc.health.v1.Health",
        "grpc.reflection.v1alpha.ServerReflection",
    ):
        assert name in text, name


def test_every_grpc_status_the_handlers_answer_is_documented() -> None:
    statuses = set(re.findall(r"Status\.([A-Z_]+)", (SOURCE / "events" / "handlers.py").read_text()))
    assert {"OK", "INVALID_ARGUMENT", "RESOURCE_EXHAUSTED", "UNAVAILABLE"} <= statuses

    documented = set(re.findall(r"^\| `([A-Z_]+)` \|", read("events.md"), re.MULTILINE))
    assert documented == statuses


# -- links: README.md and docs/ --------------------------------------------------------------------------

PAGES = [REPO / "README.md", *sorted(DOCS.glob("*.md"))]
# What a reader of a clone cannot open: files beside the repository, and the contract it was built from.
OUTSIDE = re.compile(r"\.\./shared|\bSPEC\b|\bissue \d+")


def anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.DOTALL)
    return {anchor(h) for h in re.findall(r"^#{1,6} (.+)$", text, re.MULTILINE)}


def links(page: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.DOTALL)
    return re.findall(r"\]\(([^)\s]+)\)", text)


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_links_point_at_files_inside_the_repository(page: Path) -> None:
    assert not OUTSIDE.search(page.read_text()), OUTSIDE.search(page.read_text())
    for target in links(page):
        if re.match(r"[a-z]+:", target):
            continue  # a URL, not a file of the repository
        path, _, fragment = target.partition("#")
        resolved = (page.parent / path).resolve() if path else page
        assert resolved.is_relative_to(REPO), f"{page.name}: {target} leaves the repository"
        assert resolved.exists(), f"{page.name}: {target} does not exist"
        if fragment and resolved.suffix == ".md":
            assert fragment in anchors(resolved), f"{page.name}: {target} names no heading"


# Migrations already applied by earlier versions are checksummed by the runner: editing even a comment
# would stop every existing database at start-up, so their old references stay.
APPLIED_MIGRATIONS = {f"sql/00{n}_" for n in range(1, 6)}


def shipped_text_files() -> list[str]:
    listed = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True)
    return [
        name
        for name in listed.stdout.splitlines()
        if name != "tests/docs/test_docs.py"  # holds the pattern itself
        and not any(name.startswith(prefix) for prefix in APPLIED_MIGRATIONS)
        and (REPO / name).suffix not in {".png", ".svg", ".ico"}
    ]


def test_shipped_files_name_nothing_outside_the_repository() -> None:
    found = [
        f"{name}: {match.group()}"
        for name in shipped_text_files()
        if (match := OUTSIDE.search((REPO / name).read_text(errors="replace")))
    ]
    assert found == []


def test_the_link_checker_catches_what_it_should(tmp_path: Path) -> None:
    assert anchor("Runbook: a grant in doubt") == "runbook-a-grant-in-doubt"
    assert anchor("GET /v1/challenges/{challenge_id}/rotation") == "get-v1challengeschallenge_idrotation"
    assert OUTSIDE.search("see [the contract](../shared/SPEC.md)")
    assert OUTSIDE.search("as SPEC §5 says")
    page = tmp_path / "page.md"
    page.write_text("[a](missing.md) [b](https://example.org) `[c](code.md)`\n```\n[d](x.md)\n```\n")
    assert links(page) == ["missing.md", "https://example.org", "code.md"]


def test_every_docs_page_is_linked_from_the_readme() -> None:
    readme = links(REPO / "README.md")
    for page in DOCS.glob("*.md"):
        assert f"docs/{page.name}" in readme, page.name
