"""Micro-benchmark: CPU cost per event of the event path, in one process (no gRPC socket, no k6).

Events (stat updates and logins for many players, on the goals of `challenges.json`) go through what
a gRPC call runs once its message is decoded — `EventIngest.login`/`.stat` (one event per call) or,
with `--publish N`, `EventIngest.publish` (N events per call): validation, goal match, dedup lookup,
buffer merge, metrics — and every `--batch` events through `Flusher.flush_once`: staging rows and the
binary COPY into PostgreSQL (the embedded server unless `--database-url`/`DATABASE_URL`), whose
progress table holds `--goals` active rows per player. Buffered acknowledgement, so no call waits for
a flush: what is measured is CPU, not latency — this process's, and the PostgreSQL backends' that
ran the flushes (read from /proc through psutil, when the bench requirements are installed).

    .venv/bin/python bench/micro_event_path.py               # process CPU µs per event, 7 rounds
    .venv/bin/python bench/micro_event_path.py --publish 100 --batch 500   # the batch call
    .venv/bin/python bench/micro_event_path.py --callgrind --events 10000   # instructions per event
    .venv/bin/python bench/micro_event_path.py --callgrind --every-feature   # the design keys in use

CPU time on a shared machine is noisy: compare two builds by alternating runs, or with `--callgrind`,
which runs the measurement under valgrind twice (N and 2N events, same warm-up) and reports the
difference per event. Start-up cancels out and the count repeats to within a fraction of a percent,
so a change of 1 % is visible. The PostgreSQL server is another process and is not counted.

`--catalog FILE` measures another challenge file (an older build's, to compare the same catalog across
builds); `--every-feature` rewrites the catalog so every seeded row uses the keys of docs/challenges.md
beyond the reference: every challenge in a time window (live at the flush clock) with tags, daily
rotation at 04:00 Tokyo time, weekly rotation per player (7 days), monthly rotation in New York that
deactivates, two rewards per goal, and every other goal auto-claimed (no auto-claimer runs here: what
is measured is the event path and the flush).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import math
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import psycopg
import structlog
import uvloop
from psycopg.conninfo import make_conninfo

from challenge_service.catalog import Catalog, Goal, Reward, load_catalog
from challenge_service.events.accept import Acceptor
from challenge_service.events.buffer import Buffer
from challenge_service.events.flusher import Flusher
from challenge_service.events.handlers import EventIngest
from challenge_service.events.proto.accelbyte.iam.account.v1 import account_pb2
from challenge_service.events.proto.accelbyte.social.statistic.v1 import statistic_pb2
from challenge_service.events.proto.challenge.events.v1 import events_pb2
from challenge_service.store.database import create_pool
from challenge_service.store.embedded import EmbeddedPostgres
from challenge_service.store.flush import create_staging_table
from challenge_service.store.migrations import migrate

ROOT = Path(__file__).resolve().parents[1]
NAMESPACE = "accelbyte"
# A fixed flush clock: the rotation periods, and so the staging rows, are the same in every run.
NOW = datetime(2026, 1, 14, 12, 0, tzinfo=UTC)
LOGIN_SHARE = 0.25


@dataclass(frozen=True, slots=True)
class Round:
    events: int
    ingest_s: float
    flush_s: float
    # CPU of the PostgreSQL backends that ran the flushes; NaN without psutil.
    database_s: float

    def per_event_us(self) -> tuple[float, float, float, float]:
        scale = 1e6 / self.events
        ours = self.ingest_s + self.flush_s
        return self.ingest_s * scale, self.flush_s * scale, ours * scale, self.database_s * scale


class Backends:
    """CPU seconds of the PostgreSQL backends behind the pool's connections."""

    def __init__(self) -> None:
        self.pids: list[int] = []

    async def configure(self, conn: psycopg.AsyncConnection[Any]) -> None:
        self.pids.append(conn.info.backend_pid)
        await create_staging_table(conn)

    def cpu_s(self) -> float:
        try:
            import psutil
        except ImportError:
            return math.nan
        total = 0.0
        for pid in self.pids:
            with contextlib.suppress(psutil.Error):
                times = psutil.Process(pid).cpu_times()
                total += times.user + times.system
        return total


# One call's decoded request: an AGS login or stat update, or a batch.
Request = account_pb2.UserLoggedIn | statistic_pb2.StatItemUpdated | events_pb2.PublishRequest


def _events(catalog: Catalog, count: int, users: int, prefix: str, seed: int, publish: int) -> list[Request]:
    """`count` events: about a quarter logins, the rest stat updates with rising values; one request
    each, or `publish` to a batch request."""
    rng = random.Random(seed)
    codes = sorted({g.requirement.stat_code for g in catalog.goals if g.event_source == "statistic"})
    values: dict[tuple[str, str], int] = {}
    unary: list[Request] = []
    batch: list[events_pb2.Event] = []
    for index in range(count):
        user = f"player-{rng.randrange(users):06d}"
        event_id = f"{prefix}-{index}"
        if rng.random() < LOGIN_SHARE:
            unary.append(account_pb2.UserLoggedIn(id=event_id, user_id=user, namespace=NAMESPACE))
            batch.append(events_pb2.Event(id=event_id, user_id=user, login=events_pb2.Login()))
            continue
        code = rng.choice(codes)
        inc = rng.randint(1, 3)
        value = values[user, code] = values.get((user, code), 0) + inc
        payload = statistic_pb2.StatItem(
            stat_code=code, latest_value=value, inc=inc, user_id=user, namespace=NAMESPACE
        )
        unary.append(
            statistic_pb2.StatItemUpdated(id=event_id, user_id=user, namespace=NAMESPACE, payload=payload)
        )
        stat = events_pb2.Stat(stat_code=code, latest_value=value, inc=inc)
        batch.append(events_pb2.Event(id=event_id, user_id=user, stat=stat))
    if not publish:
        return unary
    return [events_pb2.PublishRequest(events=batch[i : i + publish]) for i in range(0, count, publish)]


async def _answer(ingest: EventIngest, request: Request) -> Any:
    if isinstance(request, account_pb2.UserLoggedIn):
        return await ingest.login(request)
    if isinstance(request, statistic_pb2.StatItemUpdated):
        return await ingest.stat(request)
    return await ingest.publish(request)


def _size(request: Request) -> int:
    return len(request.events) if isinstance(request, events_pb2.PublishRequest) else 1


async def _round(
    ingest: EventIngest, flusher: Flusher, requests: list[Request], batch: int, backends: Backends
) -> Round:
    """Calls until `batch` events are buffered, then a flush; CPU time of each part."""
    database = backends.cpu_s()
    ingest_s = flush_s = 0.0
    events = 0
    index = 0
    while index < len(requests):
        began = time.process_time()
        buffered = 0
        while index < len(requests) and buffered < batch:
            await _answer(ingest, requests[index])
            buffered += _size(requests[index])
            index += 1
        flushing = time.process_time()
        if not await flusher.flush_once():
            raise RuntimeError("a flush failed; see the log")
        ingest_s += flushing - began
        flush_s += time.process_time() - flushing
        events += buffered
    return Round(events, ingest_s, flush_s, backends.cpu_s() - database)


def every_feature(catalog: Catalog) -> Catalog:
    """The catalog with the design keys on every challenge and goal (see the module's docstring)."""
    replace = msgspec.structs.replace
    window = (NOW - timedelta(days=30), NOW + timedelta(days=30))

    def goal(index: int, g: Goal) -> Goal:
        extra = Reward(type="WALLET", reward_id="GEMS", quantity=1)
        rotation = g.rotation
        if rotation is not None and rotation.enabled:
            if rotation.schedule == "daily":
                rotation = replace(rotation, reset_time="04:00", timezone="Asia/Tokyo")
            elif rotation.schedule == "weekly":
                rotation = replace(rotation, type="per_user", schedule=None, duration="7d")
            else:
                deactivating = replace(rotation.on_expiry, deactivate=True)
                rotation = replace(rotation, timezone="America/New_York", on_expiry=deactivating)
        return replace(
            g,
            reward=None,
            rewards=(*g.reward_list, extra),
            rotation=rotation,
            tags=("bench",),
            auto_claim=index % 2 == 0,
        )

    return Catalog(
        replace(
            c,
            starts_at=window[0],
            ends_at=window[1],
            tags=("bench",),
            goals=tuple(goal(i, g) for i, g in enumerate(c.goals)),
        )
        for c in catalog.challenges
    )


async def _seed(url: str, catalog: Catalog, users: int, goals: int) -> None:
    """`goals` active rows per player, a random choice of the catalog's goals (the same every run)."""
    rng = random.Random(0)
    everything = [(g.challenge_id, g.goal_id) for g in catalog.goals]
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        async with (
            conn.cursor() as cursor,
            cursor.copy(
                "COPY user_goal_progress (user_id, goal_id, challenge_id, is_active, status) FROM STDIN"
            ) as copy,
        ):
            for number in range(users):
                for challenge_id, goal_id in rng.sample(everything, min(goals, len(everything))):
                    await copy.write_row((f"player-{number:06d}", goal_id, challenge_id, True, "in_progress"))
        await conn.execute("VACUUM ANALYZE user_goal_progress")


@contextmanager
def _server(database_url: str | None) -> Iterator[str]:
    if database_url:
        yield database_url
        return
    with tempfile.TemporaryDirectory(prefix="micro-event-path-") as tmp:
        server = EmbeddedPostgres(Path(tmp) / "pg")
        try:
            yield server.start()
        finally:
            server.stop()


async def _measure(args: argparse.Namespace, server_url: str) -> list[Round]:
    name = f"micro_{uuid.uuid4().hex[:12]}"
    async with await psycopg.AsyncConnection.connect(server_url, autocommit=True) as conn:
        await conn.execute(f"CREATE DATABASE {name}")
    url = make_conninfo(server_url, dbname=name)
    try:
        await migrate(url)
        catalog = load_catalog(args.catalog)
        if args.every_feature:
            catalog = every_feature(catalog)
        await _seed(url, catalog, args.users, args.goals)
        backends = Backends()
        pool = create_pool(url, max_size=2, configure=backends.configure)
        await pool.open(wait=True, timeout=30)
        try:
            # Room for every entry of a round: the bound is not what is measured.
            buffer = Buffer(10**7, durable=False, batch_events=args.batch)
            ingest = EventIngest(buffer, Acceptor(lambda: catalog, NAMESPACE))
            flusher = Flusher(buffer, pool, lambda: catalog, lambda: NOW, interval_s=0.0)
            warmup = _events(catalog, args.warmup, args.users, "warm", 1, args.publish)
            await _round(ingest, flusher, warmup, args.batch, backends)
            rounds = []
            for number in range(args.rounds):
                events = _events(catalog, args.events, args.users, f"r{number}", 2 + number, args.publish)
                rounds.append(await _round(ingest, flusher, events, args.batch, backends))
            return rounds
        finally:
            await pool.close()
    finally:
        async with await psycopg.AsyncConnection.connect(server_url, autocommit=True) as conn:
            await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _report(args: argparse.Namespace, rounds: list[Round]) -> None:
    if args.quiet:
        return
    calls = f"{args.publish} per batch call" if args.publish else "one per call"
    print(
        f"events per round {args.events} ({calls}), players {args.users}, flush every {args.batch},"
        f" warm-up {args.warmup}"
    )
    print("round   ingest µs/event   flush µs/event   total µs/event   PostgreSQL µs/event")
    for number, one in enumerate(rounds):
        ingest, flush, total, database = one.per_event_us()
        print(f"{number:5d}   {ingest:15.2f}   {flush:14.2f}   {total:14.2f}   {database:19.2f}")
    totals = [one.per_event_us() for one in rounds]
    for label, pick in (("best", min), ("median", statistics.median)):
        ingest, flush, total, database = (pick(column) for column in zip(*totals, strict=True))
        print(f"{label:>6}  {ingest:15.2f}   {flush:14.2f}   {total:14.2f}   {database:19.2f}")


_COLLECTED = re.compile(r"Collected\s*:\s*(\d+)")


def _instructions(args: argparse.Namespace, events: int, server_url: str) -> int:
    command = [
        "valgrind",
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        sys.executable,
        __file__,
        "--quiet",
        "--rounds=1",
        f"--events={events}",
        f"--warmup={args.warmup}",
        f"--users={args.users}",
        f"--goals={args.goals}",
        f"--batch={args.batch}",
        f"--publish={args.publish}",
        f"--database-url={server_url}",
        f"--catalog={args.catalog}",
        *(["--every-feature"] if args.every_feature else []),
    ]
    # A fixed hash seed: set and dict iteration orders, and so the instructions, repeat exactly.
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    found = _COLLECTED.search(done.stderr)
    if done.returncode != 0 or found is None:
        sys.exit(f"callgrind run failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return int(found.group(1))


def _callgrind(args: argparse.Namespace, server_url: str) -> None:
    small = _instructions(args, args.events, server_url)
    large = _instructions(args, 2 * args.events, server_url)
    print(f"instructions: {small:,} for {args.events} events, {large:,} for {2 * args.events} events")
    print(f"instructions per event: {(large - small) / args.events:,.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--events", type=int, default=20_000, help="events per round")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--warmup", type=int, default=5_000, help="events before the first round")
    parser.add_argument("--users", type=int, default=2_000, help="distinct players")
    parser.add_argument("--goals", type=int, default=10, help="active progress rows per player")
    parser.add_argument("--batch", type=int, default=50, help="events per flush (FLUSH_BATCH_EVENTS)")
    parser.add_argument("--publish", type=int, default=0, help="events per batch call (0: unary calls)")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--callgrind", action="store_true", help="count instructions under valgrind")
    parser.add_argument("--catalog", type=Path, default=ROOT / "challenges.json", help="the challenge file")
    parser.add_argument(
        "--every-feature",
        action="store_true",
        help="use time windows, zoned and per-player rotation, several "
        "rewards and auto-claim on every goal (see above)",
    )
    parser.add_argument("--quiet", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    # Migrations and the embedded server log each step; only problems matter here.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    if not args.quiet:
        print("command:", " ".join([".venv/bin/python", "bench/micro_event_path.py", *sys.argv[1:]]))
    with _server(args.database_url) as server_url:
        if args.callgrind:
            _callgrind(args, server_url)
            return
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            rounds = runner.run(_measure(args, server_url))
    _report(args, rounds)


if __name__ == "__main__":
    main()
