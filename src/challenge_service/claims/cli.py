"""`challenge-service grants list | resolve`: the operator's ledger commands on the command line.

A grant left 'pending' after its claim ended (the process died between calling AGS and recording the
outcome) or marked 'in_doubt' (AGS gave no clear answer) blocks further claims of that goal for that
period, so the reward is never granted twice. The running service's reconciler settles such grants
with AGS on its own; what it cannot settle (AGS cannot tell, see the grant's LAST_ERROR) an operator
checks in AGS (the player's entitlements or wallet history) and resolves, naming the grant by its id or
by user, goal, period and — for a goal with several rewards — the reward's index as listed (default 0):

    --as granted   AGS has it: the ledger says granted and the goal is marked claimed
    --as failed    AGS does not: the ledger says failed and the player can claim again

The admin API does the same over HTTP (docs/admin.md); both write the audit trail.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Sequence
from datetime import UTC
from typing import TextIO

import psycopg

from challenge_service.claims import ledger
from challenge_service.claims.grants import RESOLUTIONS, STATES, Resolution, list_grants, resolve_grant
from challenge_service.claims.ledger import Grant, GrantKey, GrantState
from challenge_service.errors import DomainError
from challenge_service.settings import DatabaseSettings

_HEADER = (
    "USER",
    "GOAL",
    "PERIOD",
    "INDEX",
    "STATE",
    "ATTEMPTS",
    "UPDATED",
    "REWARD",
    "LAST_ERROR",
    "GRANT_ID",
)


def print_grants(grants: Sequence[Grant], out: TextIO | None = None) -> None:
    """Tab-separated, one grant a line; an empty period prints as '' so it can be pasted back."""
    out = out or sys.stdout  # looked up per call: whoever replaced sys.stdout since import gets the output
    print("\t".join(_HEADER), file=out)
    for g in grants:
        fields = (
            g.user_id,
            g.goal_id,
            g.period or "''",
            str(g.reward_index),
            g.state,
            str(g.attempts),
            g.updated_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            f"{g.reward_type}:{g.reward_id}x{g.quantity}",
            g.last_error.replace("\t", " ").replace("\n", " "),
            g.grant_id,
        )
        print("\t".join(fields), file=out)


async def run_list(conninfo: str, state: GrantState | None, older_than_s: float) -> int:
    async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
        grants = await list_grants(conn, (state,) if state else ledger.UNRESOLVED, older_than_s)
    print_grants(grants)
    return 0


def operator_name() -> str:
    """Who runs the command, for the audit trail: the login name of the shell user."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # a container user without a passwd entry or login name
        return "cli"


async def run_resolve(conninfo: str, grant: GrantKey | str, resolution: Resolution) -> int:
    if isinstance(grant, GrantKey) and grant.period == "''":  # as `grants list` prints no rotation
        grant = GrantKey(grant.user_id, grant.goal_id, "", grant.reward_index)
    async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
        resolved = await resolve_grant(conn, grant, resolution, operator_name())
    claimed = " and the goal is claimed" if resolved.goal_marked_claimed else ""
    g = resolved.grant
    period = g.period or "no rotation"
    print(f"grant {g.grant_id} of {g.goal_id} for {g.user_id} ({period}) is now {resolution}{claimed}")
    return 0


def add_grants_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    grants = commands.add_parser(
        "grants",
        help="inspect and resolve reward grants (DATABASE_URL, or the embedded server)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = grants.add_subparsers(dest="grants_command", required=True)
    listing = actions.add_parser("list", help="unresolved (pending or in_doubt) grants, oldest first")
    listing.add_argument("--state", choices=STATES, help="only grants in this state (default: unresolved)")
    listing.add_argument(
        "--older-than", type=float, default=0.0, metavar="SECONDS", help="unchanged for at least SECONDS"
    )
    resolve = actions.add_parser("resolve", help="settle a pending or in_doubt grant after checking AGS")
    resolve.add_argument(
        "grant",
        nargs="+",
        metavar="GRANT_ID | USER GOAL PERIOD [INDEX]",
        help="the grant's id, or its user, goal, period ('' without rotation) and reward index as listed",
    )
    resolve.add_argument("--as", dest="resolution", choices=RESOLUTIONS, required=True)


def run_grants(args: argparse.Namespace, database: DatabaseSettings) -> int:
    """`challenge-service grants …`: 0 on success, 1 when refused or the database is unreachable."""
    from challenge_service.store.embedded import EMBEDDED_DATA_DIR, EmbeddedPostgres

    conninfo = database.url
    embedded = None
    # Attach to the dev server under .data/pg; stop it afterwards only if this command started it, so a
    # running `make run` keeps its database.
    if not conninfo:
        already_running = (EMBEDDED_DATA_DIR / "postmaster.pid").exists()
        embedded = EmbeddedPostgres(EMBEDDED_DATA_DIR)
        conninfo = embedded.start()
    try:
        if args.grants_command == "list":
            return asyncio.run(run_list(conninfo, args.state, args.older_than))
        match args.grant:
            case [grant_id]:
                return asyncio.run(run_resolve(conninfo, grant_id, args.resolution))
            case [user, goal, period]:
                return asyncio.run(run_resolve(conninfo, GrantKey(user, goal, period), args.resolution))
            case [user, goal, period, index] if index.isdigit():
                key = GrantKey(user, goal, period, int(index))
                return asyncio.run(run_resolve(conninfo, key, args.resolution))
        print(
            "challenge-service grants resolve: name a grant by GRANT_ID or by USER GOAL PERIOD [INDEX]",
            file=sys.stderr,
        )
        return 2
    except (DomainError, psycopg.Error) as error:
        print(f"challenge-service grants: {error}", file=sys.stderr)
        return 1
    finally:
        if embedded is not None and not already_running:
            embedded.stop()
