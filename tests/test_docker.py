"""No Docker engine runs here, so the container files are checked by reading them."""

from __future__ import annotations

import re
import shlex

import yaml

from tests.helpers.service import REPO

DOCKERFILE = (REPO / "docker" / "Dockerfile").read_text()


def _instructions(name: str) -> list[str]:
    joined = DOCKERFILE.replace("\\\n", " ")
    return [line.split(None, 1)[1] for line in joined.splitlines() if line.startswith(f"{name} ")]


def test_multi_stage_on_a_slim_python_base() -> None:
    bases = _instructions("FROM")
    assert len(bases) >= 2
    assert all(re.match(r"python:3\.1[1-9]-slim\b", base) for base in bases)


def test_runs_as_a_non_root_user() -> None:
    users = _instructions("USER")
    assert users and users[-1] not in ("root", "0")
    assert re.search(rf"useradd .*\b{users[-1]}\b", DOCKERFILE)


def test_exposes_the_three_ports_with_extend_defaults() -> None:
    assert _instructions("EXPOSE") == ["8000 6565 8080"]
    env = " ".join(_instructions("ENV"))
    for setting in ("HTTP_PORT=8000", "GRPC_PORT=6565", "METRICS_PORT=8080", "BASE_PATH=/challenge"):
        assert setting in env


def test_healthcheck_probes_healthz() -> None:
    (check,) = _instructions("HEALTHCHECK")
    assert "/healthz" in check and "BASE_PATH" in check


def test_entrypoint_is_make_runs_command_without_dev_mode() -> None:
    (entrypoint,) = _instructions("ENTRYPOINT")
    assert yaml.safe_load(entrypoint) == ["challenge-service", "serve"]
    makefile = (REPO / "Makefile").read_text()
    assert "$(BIN)/challenge-service serve" in makefile
    # Dev mode is something `make run` adds; the image must not.
    assert "PLUGIN_GRPC_SERVER_AUTH_ENABLED" not in " ".join(_instructions("ENV"))
    assert "REWARD_CLIENT_MODE" not in " ".join(_instructions("ENV"))


def test_config_and_migrations_are_baked_in() -> None:
    copies = [shlex.split(args) for args in _instructions("COPY")]
    sources = {part for args in copies for part in args if not part.startswith("--")}
    assert {"sql", "challenges.json"} <= sources
    assert "CHALLENGE_CONFIG_PATH=/app/challenges.json" in " ".join(_instructions("ENV"))
    pyproject = (REPO / "pyproject.toml").read_text()
    assert '"sql" = "challenge_service/sql"' in pyproject


def test_compose_runs_the_service_against_postgres() -> None:
    compose = yaml.safe_load((REPO / "docker" / "compose.yaml").read_text())
    services = compose["services"]
    assert services["postgres"]["image"].startswith("postgres:")
    service = services["challenge-service"]
    assert service["build"]["dockerfile"] == "docker/Dockerfile"
    assert service["environment"]["DATABASE_URL"].startswith("postgresql://")
    assert "@postgres:5432/" in service["environment"]["DATABASE_URL"]
    assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert {port.split(":")[1] for port in service["ports"]} == {"8000", "6565", "8080"}


def test_dependencies_come_from_the_runtime_lock() -> None:
    copies = [shlex.split(args) for args in _instructions("COPY")]
    assert ["requirements/runtime.txt", "/tmp/runtime.txt"] in copies
    installs = " ".join(_instructions("RUN"))
    assert "pip install --no-cache-dir --require-hashes -r /tmp/runtime.txt" in installs
    # The service's wheel must not pull anything unlocked in.
    assert "--no-deps --no-index /wheels/challenge_service-" in installs
    assert "pip wheel" not in installs
