"""Each command validates only the settings it uses; `serve` validates them all."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from challenge_service.__main__ import main
from tests.helpers.go_suite import create_go_database
from tests.helpers.service import REPO, free_port

# The service's variables a developer's or CI's shell may carry; each test starts without them.
SERVICE_VARIABLES = (
    "DATABASE_URL",
    "DB_POOL_SIZE",
    "DB_HOST",
    "DB_PORT",
    "DB_NAME",
    "DB_USER",
    "DB_PASSWORD",
    "DB_SSLMODE",
    "DB_MAX_OPEN_CONNS",
    "HTTP_KEEPALIVE_S",
    "AB_BASE_URL",
    "AB_CLIENT_ID",
    "AB_CLIENT_SECRET",
    "AB_NAMESPACE",
    "REWARD_CLIENT_MODE",
    "CHALLENGE_CONFIG_PATH",
    "GRPC_PORT",
    "METRICS_PORT",
)

# Everything `serve` would refuse, none of which a database or file command reads: auth on (the default)
# with no AGS, real rewards with no credentials, a port that is not a number.
NOT_FOR_THIS_COMMAND = {"PLUGIN_GRPC_SERVER_AUTH_ENABLED": "true", "HTTP_PORT": "eighty"}


@pytest.fixture
def environ(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """The process environment without any of the service's variables, then the unrelated bad ones."""
    for variable in SERVICE_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    for variable, value in NOT_FOR_THIS_COMMAND.items():
        monkeypatch.setenv(variable, value)
    return monkeypatch


def test_migrate_needs_only_the_database(
    environ: pytest.MonkeyPatch, empty_database_url: str, capfd: pytest.CaptureFixture[str]
) -> None:
    environ.setenv("DATABASE_URL", empty_database_url)
    assert main(["migrate"]) == 0
    assert "applied 001_" in capfd.readouterr().out
    with psycopg.connect(empty_database_url) as conn:
        assert conn.execute("SELECT count(*) FROM challenge_schema_migrations").fetchone() != (0,)


def test_migrate_names_a_bad_database_url(
    environ: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    environ.setenv("DATABASE_URL", "mysql://db/challenge")
    assert main(["migrate"]) == 2
    assert capfd.readouterr().err.startswith(
        "challenge-service: DATABASE_URL='mysql://db/challenge' is invalid"
    )


def test_grants_needs_only_the_database(environ: pytest.MonkeyPatch, database_url: str) -> None:
    environ.setenv("DATABASE_URL", database_url)
    assert main(["grants", "list"]) == 0  # 1 if it could not read the ledger


def test_grants_reaches_the_database_by_the_go_suites_names(
    environ: pytest.MonkeyPatch, database_url: str, capfd: pytest.CaptureFixture[str]
) -> None:
    where = conninfo_to_dict(database_url)
    environ.setenv("DB_HOST", str(where["host"]))
    environ.setenv("DB_NAME", str(where["dbname"]))
    environ.setenv("DB_USER", str(where["user"]))
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            """INSERT INTO reward_grants (user_id, goal_id, period, reward_type, reward_id, quantity, state)
               VALUES ('go-player', 'daily-login', '', 'ITEM', 'item-1', 1, 'in_doubt')"""
        )
    assert main(["grants", "list"]) == 0
    assert "go-player\tdaily-login" in capfd.readouterr().out


def test_grants_names_a_bad_database_url(
    environ: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    environ.setenv("DB_POOL_SIZE", "many")
    assert main(["grants", "list"]) == 2
    assert capfd.readouterr().err.strip() == (
        "challenge-service: DB_POOL_SIZE='many' is invalid: expected an integer 1..1000"
    )


def test_check_config_needs_only_the_file(
    environ: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    environ.setenv("CHALLENGE_CONFIG_PATH", str(REPO / "challenges.json"))
    assert main(["check-config"]) == 0
    assert ": ok (" in capfd.readouterr().out


def test_demo_uses_only_its_own_flags(environ: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]) -> None:
    # Nothing listens there: the demo gets as far as trying to connect, which no settings check would allow.
    assert main(["demo", "--url", "http://127.0.0.1:9/challenge", "list"]) == 1
    assert "cannot connect" in capfd.readouterr().err


def test_serve_still_validates_everything(
    environ: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    environ.delenv("HTTP_PORT")
    assert main(["serve"]) == 2
    assert capfd.readouterr().err.strip() == (
        "challenge-service: AB_BASE_URL is required when PLUGIN_GRPC_SERVER_AUTH_ENABLED=true "
        "and REWARD_CLIENT_MODE=real"
    )


def test_migrate_dry_run_describes_a_go_upgrade_and_changes_nothing(
    environ: pytest.MonkeyPatch, empty_database_url: str, capfd: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(create_go_database(empty_database_url))
    environ.setenv("DATABASE_URL", empty_database_url)
    assert main(["migrate", "--dry-run"]) == 0
    out = capfd.readouterr().out
    assert out.startswith("found the Go Extend Challenge Suite's database")
    assert "would, in one transaction:" in out and "apply 001_user_goal_progress.sql" in out
    with psycopg.connect(empty_database_url) as conn:
        assert conn.execute("SELECT to_regclass('challenge_schema_migrations')").fetchone() == (None,)
    assert main(["migrate"]) == 0
    assert "copied the Go suite's 17 row(s) into user_goal_progress" in capfd.readouterr().out


def test_migrate_refuses_an_unrecognised_database_with_one_line(
    environ: pytest.MonkeyPatch, empty_database_url: str, capfd: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(create_go_database(empty_database_url))
    with psycopg.connect(empty_database_url, autocommit=True) as conn:
        conn.execute("UPDATE schema_migrations SET dirty = true")
    environ.setenv("DATABASE_URL", empty_database_url)
    assert main(["migrate"]) == 1
    err = capfd.readouterr().err
    assert err.startswith(
        "challenge-service: cannot migrate the database: golang-migrate's schema_migrations"
    )
    assert err.count("\n") == 1


def test_serve_refuses_an_unrecognised_database_with_one_line_and_no_traceback(
    empty_database_url: str,
) -> None:
    asyncio.run(create_go_database(empty_database_url))
    with psycopg.connect(empty_database_url, autocommit=True) as conn:
        conn.execute("UPDATE schema_migrations SET version = 1")
    environ = {
        **{name: value for name, value in os.environ.items() if name not in SERVICE_VARIABLES},
        "DATABASE_URL": empty_database_url,
        "PLUGIN_GRPC_SERVER_AUTH_ENABLED": "false",
        "REWARD_CLIENT_MODE": "mock",
        "HTTP_PORT": str(free_port()),
        "GRPC_PORT": str(free_port()),
        "METRICS_PORT": "0",
        "CHALLENGE_CONFIG_PATH": str(REPO / "challenges.json"),
    }
    # A process of its own: serve configures logging for the whole process.
    result = subprocess.run(
        [sys.executable, "-m", "challenge_service", "serve"], env=environ, capture_output=True, timeout=60
    )
    assert result.returncode == 1
    err = result.stderr.decode()
    assert "Traceback" not in err
    assert err.splitlines()[-1] == (
        "challenge-service: cannot migrate the database: the Go suite's database is at golang-migrate "
        "version 1; this service upgrades version 2 only: run the Go suite's own migrations to "
        "version 2 first"
    )


def test_database_commands_say_once_that_database_url_wins(
    environ: pytest.MonkeyPatch, database_url: str, capfd: pytest.CaptureFixture[str]
) -> None:
    environ.setenv("DATABASE_URL", database_url)
    environ.setenv("DB_HOST", "go-database.internal")
    assert main(["migrate"]) == 0
    err = capfd.readouterr().err
    assert err.count("DATABASE_URL is set, so DB_HOST (the Go suite's variables) are ignored") == 1
