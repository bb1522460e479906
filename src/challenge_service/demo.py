"""Demo client: `challenge-service demo …` plays one player against a running service.

Works against `make run` out of the box: REST on http://localhost:8000/challenge with the mock-auth
header `X-Mock-User-Id`, gRPC events on localhost:6565. A walk through one goal, from event to claim:

    challenge-service demo initialize                   # assign the default goals
    challenge-service demo login                        # send a login event over gRPC
    challenge-service demo list                         # first-login is now completed
    challenge-service demo claim onboarding first-login

Tables are for people; `--json` prints the service's raw JSON for scripts. A refused request prints the
service's errorCode and message on stderr and exits with status 1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import uuid
from collections.abc import Sequence
from typing import Any, TextIO
from urllib.parse import quote

import httpx
from grpclib import GRPCError
from grpclib.client import Channel

from challenge_service.events.proto.accelbyte.iam.account.v1 import account_grpc, account_pb2
from challenge_service.events.proto.accelbyte.social.statistic.v1 import statistic_grpc, statistic_pb2

DEFAULT_URL = "http://localhost:8000/challenge"
DEFAULT_GRPC = "localhost:6565"
DEFAULT_USER = "demo-user"
TIMEOUT_S = 10.0
HINT = "is `make run` running?"

Json = Any


class DemoError(Exception):
    """The command failed; the message is the one line printed on stderr (exit status 1)."""


# -- options -----------------------------------------------------------------------------------------------


def _global_options(parser: argparse.ArgumentParser, defaults: bool) -> None:
    """The demo's global options; on sub-commands they default to SUPPRESS so both positions work."""

    def default(value: object) -> object:
        return value if defaults else argparse.SUPPRESS

    parser.add_argument("--user", default=default(DEFAULT_USER), help=f"player id (default {DEFAULT_USER})")
    parser.add_argument(
        "--url",
        default=default(os.environ.get("CHALLENGE_URL", DEFAULT_URL)),
        help=f"REST base URL (default $CHALLENGE_URL or {DEFAULT_URL})",
    )
    parser.add_argument(
        "--grpc", default=default(DEFAULT_GRPC), help=f"gRPC HOST:PORT (default {DEFAULT_GRPC})"
    )
    parser.add_argument(
        "--namespace",
        default=default(os.environ.get("AB_NAMESPACE") or "accelbyte"),
        help="namespace of sent events (default $AB_NAMESPACE or accelbyte)",
    )
    parser.add_argument(
        "--token", default=default(None), help="send 'Authorization: Bearer TOKEN' instead of the mock header"
    )
    parser.add_argument(
        "--json", action="store_true", default=default(False), help="print the raw JSON response"
    )


def add_demo_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = commands.add_parser(
        "demo",
        help="play a player against a running service (REST + gRPC events)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _global_options(demo, defaults=True)
    common = argparse.ArgumentParser(add_help=False)
    _global_options(common, defaults=False)
    actions = demo.add_subparsers(dest="demo_command", required=True)

    def add(name: str, help: str) -> argparse.ArgumentParser:
        return actions.add_parser(name, help=help, parents=[common])

    listing = add("list", "challenges with each goal's progress and status")
    listing.add_argument("--active-only", action="store_true", help="only the player's active goals")
    listing.add_argument(
        "--state", help="comma list of upcoming, live, ended (default: live, and ended ones still claimable)"
    )
    listing.add_argument("--tags", help="comma list: only challenges carrying one of these tags")
    add("show", "one challenge and its goals").add_argument("challenge_id")
    add("initialize", "assign the default goals (idempotent)")
    for name, verb in (("activate", "activate"), ("deactivate", "deactivate")):
        toggle = add(name, f"{verb} one goal")
        toggle.add_argument("challenge_id")
        toggle.add_argument("goal_id")
    select = add("select", "activate the given goals of one challenge (batch-select)")
    select.add_argument("challenge_id")
    select.add_argument("goal_ids", nargs="+", metavar="goal_id")
    select.add_argument("--replace", action="store_true", help="deactivate the challenge's other goals")
    pick = add("random", "activate COUNT random goals of one challenge (random-select)")
    pick.add_argument("challenge_id")
    pick.add_argument("count", type=int)
    pick.add_argument("--exclude-active", action="store_true", help="do not pick already active goals")
    pick.add_argument("--replace", action="store_true", help="deactivate the challenge's other goals")
    claim = add("claim", "claim a completed goal's reward")
    claim.add_argument("challenge_id")
    claim.add_argument("goal_id")
    add("login", "send a login event over gRPC")
    stat = add("stat", "send a stat-updated event over gRPC")
    stat.add_argument("stat_code")
    stat.add_argument("value", type=float, help="the stat's latest value")
    stat.add_argument("--inc", type=float, default=0.0, help="the increment carried by the event (default 0)")


# -- REST ----------------------------------------------------------------------------------------------


class Rest:
    def __init__(self, args: argparse.Namespace) -> None:
        auth = {"Authorization": f"Bearer {args.token}"} if args.token else {"X-Mock-User-Id": args.user}
        self.url = args.url.rstrip("/")
        self.client = httpx.AsyncClient(base_url=self.url, headers=auth, timeout=TIMEOUT_S)

    async def __aenter__(self) -> Rest:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.client.aclose()

    async def call(
        self, method: str, path: str, body: Json = None, params: dict[str, str] | None = None
    ) -> Json:
        try:
            response = await self.client.request(method, path, json=body, params=params)
        except httpx.ConnectError:
            raise DemoError(f"cannot connect to {self.url} — {HINT}") from None
        except httpx.TimeoutException:
            raise DemoError(f"{method} {self.url}{path} timed out after {TIMEOUT_S:g} s") from None
        except httpx.HTTPError as error:
            raise DemoError(f"{method} {self.url}{path}: {error}") from None
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if response.status_code >= 400:
            if isinstance(payload, dict) and "errorCode" in payload:
                raise DemoError(
                    f"{payload['errorCode']}: {payload.get('message', '')} (HTTP {response.status_code})"
                )
            text = response.text.strip().replace("\n", " ")[:200]
            raise DemoError(f"HTTP {response.status_code} from {method} {self.url}{path}: {text}")
        if payload is None:
            raise DemoError(f"{method} {self.url}{path}: the response is not JSON")
        return payload


# -- gRPC events ---------------------------------------------------------------------------------------


def _host_port(target: str) -> tuple[str, int]:
    host, sep, port = target.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise DemoError(f"--grpc must be HOST:PORT, got {target!r}")
    return host.strip("[]"), int(port)


async def _send(target: str, send: Any) -> None:
    host, port = _host_port(target)
    channel = Channel(host, port)
    try:
        await send(channel)
    except GRPCError as error:
        raise DemoError(f"gRPC {error.status.name}: {error.message}") from None
    except (TimeoutError, OSError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else type(error).__name__
        raise DemoError(f"cannot reach gRPC at {target} ({reason}) — {HINT}") from None
    finally:
        channel.close()


async def send_login(target: str, user_id: str, namespace: str) -> dict[str, str]:
    event_id = str(uuid.uuid4())
    message = account_pb2.UserLoggedIn(
        id=event_id, user_id=user_id, namespace=namespace, timestamp=_now(), name="userLoggedIn"
    )

    async def send(channel: Channel) -> None:
        await account_grpc.UserAuthenticationUserLoggedInServiceStub(channel).OnMessage(
            message, timeout=TIMEOUT_S
        )

    await _send(target, send)
    return {"event": "login", "id": event_id, "userId": user_id, "namespace": namespace}


async def send_stat(
    target: str, user_id: str, namespace: str, stat_code: str, value: float, inc: float
) -> dict[str, Any]:
    event_id = str(uuid.uuid4())
    item = statistic_pb2.StatItem(
        stat_code=stat_code, user_id=user_id, latest_value=value, inc=inc, namespace=namespace
    )
    message = statistic_pb2.StatItemUpdated(
        payload=item,
        id=event_id,
        user_id=user_id,
        namespace=namespace,
        timestamp=_now(),
        name="statItemUpdated",
    )

    async def send(channel: Channel) -> None:
        await statistic_grpc.StatisticStatItemUpdatedServiceStub(channel).OnMessage(
            message, timeout=TIMEOUT_S
        )

    await _send(target, send)
    return {
        "event": "stat",
        "id": event_id,
        "userId": user_id,
        "namespace": namespace,
        "statCode": stat_code,
        "latestValue": value,
        "inc": inc,
    }


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


# -- output --------------------------------------------------------------------------------------------


def table(header: Sequence[str], rows: Sequence[Sequence[str]], out: TextIO) -> None:
    """Plain left-aligned columns, two spaces apart."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=False)]
    for row in (header, *rows):
        print(
            "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip(),
            file=out,
        )


def _reward(reward: Json) -> str:
    if not reward:
        return ""
    return f"{reward.get('type', '')} {reward.get('rewardId', '')} x{reward.get('quantity', 0)}"


def _rewards(goal: Json) -> str:
    """Every reward of a goal (an older service sends only `reward`), marked when granted on completion."""
    rewards = goal.get("rewards") or [goal.get("reward")]
    text = " + ".join(_reward(reward) for reward in rewards if reward)
    return f"{text} (auto)" if goal.get("autoClaim") else text


def _window(challenge: Json) -> str:
    starts, ends = challenge.get("startsAt") or "", challenge.get("endsAt") or ""
    return f"{starts or '…'} – {ends or '…'}" if starts or ends else ""


_CHALLENGE_HEADER = ("CHALLENGE", "STATE", "TAGS", "WINDOW")


def _challenge_row(challenge: Json) -> list[str]:
    return [
        challenge.get("challengeId", ""),
        challenge.get("state", ""),
        ",".join(challenge.get("tags") or []),
        _window(challenge),
    ]


def _progress(progress: Json, target: Json) -> str:
    return f"{progress}/{target}"


def _expires(goal: Json) -> str:
    return str(goal.get("expiresAt") or "")


_GOAL_HEADER = ("CHALLENGE", "GOAL", "STATUS", "PROGRESS", "ACTIVE", "LOCKED", "REWARD", "EXPIRES")


def _goal_rows(challenge: Json) -> list[list[str]]:
    rows = []
    for goal in challenge.get("goals", []):
        target = (goal.get("requirement") or {}).get("targetValue", "")
        rows.append(
            [
                challenge.get("challengeId", ""),
                goal.get("goalId", ""),
                goal.get("status", ""),
                _progress(goal.get("progress", 0), target),
                "yes" if goal.get("isActive") else "no",
                "yes" if goal.get("locked") else "",
                _rewards(goal),
                _expires(goal),
            ]
        )
    return rows


def _assigned_rows(goals: Json, with_challenge: str | None = None) -> list[list[str]]:
    return [
        [
            goal.get("challengeId", with_challenge or ""),
            goal.get("goalId", ""),
            goal.get("status", ""),
            _progress(goal.get("progress", 0), goal.get("target", "")),
            "yes" if goal.get("isActive") else "no",
            _rewards(goal),
            _expires(goal),
        ]
        for goal in goals
    ]


_ASSIGNED_HEADER = ("CHALLENGE", "GOAL", "STATUS", "PROGRESS", "ACTIVE", "REWARD", "EXPIRES")


def _print_selection(result: Json, out: TextIO) -> None:
    cid = result.get("challengeId", "")
    table(_ASSIGNED_HEADER, _assigned_rows(result.get("selectedGoals", []), cid), out)
    replaced = ", ".join(result.get("replacedGoals", [])) or "none"
    print(f"{result.get('totalActiveGoals', 0)} active goal(s) in {cid}; replaced: {replaced}", file=out)


# -- commands ------------------------------------------------------------------------------------------


async def _run(args: argparse.Namespace, out: TextIO) -> None:
    command = args.demo_command
    if command in ("login", "stat"):
        if command == "login":
            sent = await send_login(args.grpc, args.user, args.namespace)
            text = f"login event {sent['id']} sent for {args.user}"
        else:
            sent = await send_stat(args.grpc, args.user, args.namespace, args.stat_code, args.value, args.inc)
            text = f"stat event {sent['id']} sent for {args.user}: {args.stat_code} = {args.value:g}"
            if args.inc:
                text += f" (inc {args.inc:g})"
        print(json.dumps(sent, indent=2) if args.json else text, file=out)
        return

    async with Rest(args) as rest:
        result = await _rest_command(rest, args)
    if args.json:
        print(json.dumps(result, indent=2), file=out)
        return
    if command == "list":
        challenges = result.get("challenges", [])
        table(_CHALLENGE_HEADER, [_challenge_row(challenge) for challenge in challenges], out)
        print(file=out)
        rows = [row for challenge in challenges for row in _goal_rows(challenge)]
        table(_GOAL_HEADER, rows, out)
    elif command == "show":
        print(
            f"{result.get('challengeId', '')}: {result.get('name', '')} — {result.get('description', '')}",
            file=out,
        )
        _cid, state, tags, window = _challenge_row(result)
        print(
            f"state {state}" + (f", tags {tags}" if tags else "") + (f", {window}" if window else ""),
            file=out,
        )
        table(_GOAL_HEADER, _goal_rows(result), out)
    elif command == "initialize":
        table(_ASSIGNED_HEADER, _assigned_rows(result.get("assignedGoals", [])), out)
        print(
            f"{result.get('newAssignments', 0)} new assignment(s),"
            f" {result.get('totalActive', 0)} active goal(s)",
            file=out,
        )
    elif command in ("activate", "deactivate"):
        print(
            f"{result.get('challengeId', '')}/{result.get('goalId', '')}: {result.get('message', '')}",
            file=out,
        )
    elif command in ("select", "random"):
        _print_selection(result, out)
    elif command == "claim":
        reward = _rewards(result)
        print(
            f"{result.get('goalId', '')} {result.get('status', '')}"
            f" at {result.get('claimedAt', '')}: {reward}",
            file=out,
        )


async def _rest_command(rest: Rest, args: argparse.Namespace) -> Json:
    command = args.demo_command
    if command == "list":
        params = {"active_only": "true"} if args.active_only else {}
        params |= {key: value for key in ("state", "tags") if (value := getattr(args, key))}
        return await rest.call("GET", "/v1/challenges", params=params or None)
    if command == "show":
        return await rest.call("GET", f"/v1/challenges/{_seg(args.challenge_id)}")
    if command == "initialize":
        return await rest.call("POST", "/v1/challenges/initialize", {})
    goals = f"/v1/challenges/{_seg(args.challenge_id)}/goals"
    if command in ("activate", "deactivate"):
        return await rest.call(
            "PUT", f"{goals}/{_seg(args.goal_id)}/active", {"is_active": command == "activate"}
        )
    if command == "select":
        return await rest.call(
            "POST", f"{goals}/batch-select", {"goal_ids": args.goal_ids, "replace_existing": args.replace}
        )
    if command == "random":
        body = {"count": args.count, "replace_existing": args.replace, "exclude_active": args.exclude_active}
        return await rest.call("POST", f"{goals}/random-select", body)
    if command == "claim":
        return await rest.call("POST", f"{goals}/{_seg(args.goal_id)}/claim", {})
    raise DemoError(f"unknown demo command {command!r}")


def _seg(value: str) -> str:
    """One URL path segment."""
    return quote(value, safe="")


def run_demo(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """`challenge-service demo …`: 0 on success, 1 when the service refused or could not be reached."""
    try:
        asyncio.run(_run(args, out or sys.stdout))
    except DemoError as error:
        print(f"challenge-service demo: {error}", file=err or sys.stderr)
        return 1
    return 0
