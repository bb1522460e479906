"""Command line: `challenge-service serve | check-config FILE | migrate | grants list|resolve | demo …`."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

import msgspec
import psycopg
import uvloop

from challenge_service.catalog import Catalog, CatalogError, load_catalog
from challenge_service.claims.cli import add_grants_commands, run_grants
from challenge_service.demo import add_demo_commands, run_demo
from challenge_service.settings import DatabaseSettings, SettingsError, load_database_settings, load_settings
from challenge_service.store.embedded import EmbeddedUnavailable
from challenge_service.store.migrations import MigrationError


def _serve() -> int:
    from challenge_service.app import serve
    from challenge_service.observability import configure_logging

    settings = load_settings(os.environ)
    configure_logging(settings)
    uvloop.run(serve(settings))
    return 0


def _check_config(path: str) -> int:
    """The validator's problems, then any the JSON Schema (what editors apply) finds beyond them."""
    from challenge_service.catalog.schema import not_covered, schema_problems

    catalog: Catalog | None = None
    try:
        catalog = load_catalog(path)
        problems: list[str] = []
    except CatalogError as error:
        problems = error.problems
    try:
        document = msgspec.json.decode(Path(path).read_bytes())
    except (OSError, msgspec.DecodeError):
        document = None  # already reported by the validator
    if document is not None:
        problems += not_covered(schema_problems(document), problems)
    if problems:
        print(f"{path}: {len(problems)} problem(s)", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    assert catalog is not None
    print(f"{path}: ok ({len(catalog.challenges)} challenges, {len(catalog.goals)} goals)")
    return 0


def _database_settings() -> DatabaseSettings:
    """The database group for `migrate` and `grants`, saying once when DATABASE_URL overrides DB_*."""
    database = load_database_settings(os.environ)
    if database.override_note:
        print(f"challenge-service: {database.override_note}", file=sys.stderr)
    return database


def _migrate(dry_run: bool) -> int:
    from challenge_service.store.embedded import EMBEDDED_DATA_DIR, EmbeddedPostgres
    from challenge_service.store.migrations import run_migrations

    database = _database_settings()
    embedded = EmbeddedPostgres(EMBEDDED_DATA_DIR) if database.embedded else None
    conninfo = embedded.start() if embedded else database.url
    try:
        result = asyncio.run(run_migrations(conninfo, dry_run=dry_run))
    finally:
        if embedded:
            embedded.stop()
    print("\n".join(result.dry_run if dry_run else result.done) or "schema is up to date")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="challenge-service", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="run REST + gRPC (settings from the environment, docs/operations.md)")
    check = commands.add_parser("check-config", help="validate a challenges.json without starting")
    check.add_argument("path", nargs="?", default=os.environ.get("CHALLENGE_CONFIG_PATH", "challenges.json"))
    migrate = commands.add_parser(
        "migrate",
        help="apply pending migrations from sql/ (or upgrade a Go suite database) and exit",
        description="Apply pending migrations from sql/, or upgrade a database of the Go Extend Challenge "
        "Suite in place (docs/migrating-from-go-suite.md), then exit.",
    )
    migrate.add_argument("--dry-run", action="store_true", help="print what would change; change nothing")
    add_grants_commands(commands)
    add_demo_commands(commands)
    args = parser.parse_args(argv)
    try:
        if args.command == "serve":
            return _serve()
        if args.command == "check-config":
            return _check_config(args.path)
        if args.command == "grants":
            return run_grants(args, _database_settings())
        if args.command == "demo":
            return run_demo(args)
        return _migrate(args.dry_run)
    except SettingsError as error:
        print(f"challenge-service: {error}", file=sys.stderr)
        return 2
    except CatalogError as error:
        print(f"challenge-service: invalid challenge config:\n{error}", file=sys.stderr)
        return 2
    except EmbeddedUnavailable as error:
        print(f"challenge-service: {error}", file=sys.stderr)
        return 2
    except MigrationError as error:
        print(f"challenge-service: cannot migrate the database: {error}", file=sys.stderr)
        return 1
    except psycopg.OperationalError as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        print(f"challenge-service: cannot reach the database: {reason}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # Whoever read our output stopped early (`demo list | head`): nothing to report. Stdout goes to
        # /dev/null so the interpreter's last flush of it does not fail again on the way out.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
