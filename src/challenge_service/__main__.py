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
from challenge_service.settings import SettingsError, load_database_settings, load_settings
from challenge_service.store.embedded import EmbeddedUnavailable


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


def _migrate() -> int:
    from challenge_service.store.embedded import EMBEDDED_DATA_DIR, EmbeddedPostgres
    from challenge_service.store.migrations import migrate

    database = load_database_settings(os.environ)
    embedded = EmbeddedPostgres(EMBEDDED_DATA_DIR) if database.embedded else None
    conninfo = embedded.start() if embedded else database.url
    try:
        applied = asyncio.run(migrate(conninfo))
    finally:
        if embedded:
            embedded.stop()
    print("\n".join(f"applied {name}" for name in applied) or "schema is up to date")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="challenge-service", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="run REST + gRPC (settings from the environment, SPEC §2)")
    check = commands.add_parser("check-config", help="validate a challenges.json without starting")
    check.add_argument("path", nargs="?", default=os.environ.get("CHALLENGE_CONFIG_PATH", "challenges.json"))
    commands.add_parser("migrate", help="apply pending migrations from sql/ and exit")
    add_grants_commands(commands)
    add_demo_commands(commands)
    args = parser.parse_args(argv)
    try:
        if args.command == "serve":
            return _serve()
        if args.command == "check-config":
            return _check_config(args.path)
        if args.command == "grants":
            # Validated like every database command; run_grants reads the URL from the mapping it is given.
            database = load_database_settings(os.environ)
            return run_grants(args, {"DATABASE_URL": database.url})
        if args.command == "demo":
            return run_demo(args)
        return _migrate()
    except SettingsError as error:
        print(f"challenge-service: {error}", file=sys.stderr)
        return 2
    except CatalogError as error:
        print(f"challenge-service: invalid challenge config:\n{error}", file=sys.stderr)
        return 2
    except EmbeddedUnavailable as error:
        print(f"challenge-service: {error}", file=sys.stderr)
        return 2
    except psycopg.OperationalError as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        print(f"challenge-service: cannot reach the database: {reason}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
