"""gRPC servicers for the two AGS events (SPEC §6): validate, match goals, buffer, acknowledge.

Results: a malformed event → INVALID_ARGUMENT; another namespace or no matching goal → OK (ignored);
buffer full → RESOURCE_EXHAUSTED (never a silent drop); shutting down → UNAVAILABLE. In durable mode
the answer waits for the commit of the flush holding the event, at most `ACK_TIMEOUT_S`; past that the
caller gets UNAVAILABLE while the event stays buffered and is applied when the database is back. A
client may simply retry: the event id makes the retry a no-op if the first attempt is applied.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from typing import Any

from google.protobuf.empty_pb2 import Empty
from google.protobuf.message import DecodeError
from grpclib import GRPCError
from grpclib.const import Status
from grpclib.server import Stream

from challenge_service import metrics
from challenge_service.catalog import Catalog
from challenge_service.events.buffer import Buffer, Event
from challenge_service.events.proto.accelbyte.iam.account.v1 import account_grpc, account_pb2
from challenge_service.events.proto.accelbyte.social.statistic.v1 import statistic_grpc, statistic_pb2

ACK_TIMEOUT_S = 5.0
# Ids are stored in varchar(100) columns (user_goal_progress.user_id, processed_events.event_id).
MAX_ID_LENGTH = 100
# int(value) must fit PostgreSQL's bigint; 2**63 itself is the first float that does not.
_INT64_LIMIT = 2.0**63

LOGIN = "UserAuthenticationUserLoggedInService/OnMessage"
STAT = "StatisticStatItemUpdatedService/OnMessage"
_EMPTY = Empty()


class _Invalid(Exception):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def _check_id(value: str, name: str) -> None:
    if len(value) > MAX_ID_LENGTH:
        raise _Invalid(f"{name}_too_long", f"{name} is longer than {MAX_ID_LENGTH} characters")
    if not value.isprintable():
        raise _Invalid(f"{name}_not_printable", f"{name} contains control characters")


def _count(value: float, name: str) -> int:
    if not math.isfinite(value) or value < 0 or value >= _INT64_LIMIT:
        raise _Invalid(f"bad_{name}", f"{name} must be a finite number in 0..2^63, got {value!r}")
    return int(value)


class EventIngest:
    """What both servicers share: validation outcome → buffer → acknowledgement, and the drain."""

    def __init__(
        self, buffer: Buffer, catalog: Callable[[], Catalog], namespace: str, *, durable: bool
    ) -> None:
        self.buffer = buffer
        self.catalog = catalog
        self.namespace = namespace
        self.durable = durable
        self.accepting = True
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._received = metrics.EVENTS.labels("received", "")
        self._ignored_namespace = metrics.EVENTS.labels("ignored", "namespace")
        self._ignored_no_goal = metrics.EVENTS.labels("ignored", "no_matching_goal")
        self._deduplicated = metrics.EVENTS.labels("deduplicated", "recent")
        self._ok = {m: metrics.GRPC_REQUESTS.labels(m, "OK") for m in (LOGIN, STAT)}
        self._ok_latency = {m: metrics.GRPC_LATENCY.labels(m, "OK") for m in (LOGIN, STAT)}
        # Goal ids per event kind, rebuilt when the catalog object is replaced (reload).
        self._indexed: Catalog | None = None
        self._login_goal_ids: tuple[str, ...] = ()
        self._stat_goal_ids: dict[str, tuple[str, ...]] = {}

    def _index(self) -> Catalog:
        catalog = self.catalog()
        if catalog is not self._indexed:
            self._login_goal_ids = tuple(g.goal_id for g in catalog.login_goals)
            self._stat_goal_ids = {
                g.requirement.stat_code: tuple(s.goal_id for s in catalog.stat_goals(g.requirement.stat_code))
                for g in catalog.goals
                if g.event_source == "statistic"
            }
            self._indexed = catalog
        return catalog

    def stop_accepting(self) -> None:
        self.accepting = False

    async def drain(self, timeout_s: float) -> bool:
        """Wait for the calls already running to answer; True when none is left."""
        try:
            async with asyncio.timeout(timeout_s):
                await self._idle.wait()
        except TimeoutError:
            return False
        return True

    async def handle(self, method: str, stream: Stream[Any, Empty], accept: Callable[[Any], Event]) -> None:
        """Run one call to the end, trailers included, so a drained call has really been answered
        (grpclib's close() would cancel one still sending). `accept` validates the request and returns
        its `Event` or raises `_Invalid`; an event without goal ids is acknowledged and ignored."""
        started = time.perf_counter()
        self._in_flight += 1
        self._idle.clear()
        status, message = Status.OK, None
        try:
            try:
                await self._handle(accept, await stream.recv_message())
            except DecodeError:
                # Bytes that are not the method's message: the caller's fault, not ours (no 500-style
                # UNKNOWN, no traceback in the logs).
                metrics.EVENTS.labels("rejected", "malformed_protobuf").inc()
                status, message = Status.INVALID_ARGUMENT, "malformed protobuf message"
            except GRPCError as error:
                status, message = error.status, error.message
            if status is Status.OK:
                await stream.send_message(_EMPTY)
            await stream.send_trailing_metadata(status=status, status_message=message)
        finally:
            self._in_flight -= 1
            if not self._in_flight:
                self._idle.set()
            elapsed = time.perf_counter() - started
            if status is Status.OK:
                self._ok[method].inc()
                self._ok_latency[method].observe(elapsed)
            else:
                metrics.GRPC_REQUESTS.labels(method, status.name).inc()
                metrics.GRPC_LATENCY.labels(method, status.name).observe(elapsed)

    async def _handle(self, accept: Callable[[Any], Event], request: Any) -> None:
        if not self.accepting:
            raise GRPCError(Status.UNAVAILABLE, "shutting down")
        self._received.inc()
        try:
            event = accept(request)
        except _Invalid as invalid:
            metrics.EVENTS.labels("rejected", invalid.reason).inc()
            raise GRPCError(Status.INVALID_ARGUMENT, str(invalid)) from None
        if not event.goal_ids:
            return
        buffer = self.buffer
        if event.event_id:
            previous = buffer.duplicate(event.event_id)
            if previous is not False:
                self._deduplicated.inc()
                if previous is not True:
                    await self._await_commit(previous, event.user_id)
                return
        if not buffer.has_room(len(event.goal_ids)):
            metrics.EVENTS.labels("rejected", "buffer_full").inc()
            raise GRPCError(Status.RESOURCE_EXHAUSTED, "event buffer is full; retry later")
        future = buffer.add(event)
        if future is not None:
            await self._await_commit(future, event.user_id)

    async def _await_commit(self, future: asyncio.Future[frozenset[str]], user_id: str) -> None:
        started = time.perf_counter()
        try:
            async with asyncio.timeout(ACK_TIMEOUT_S):
                # shield: a caller giving up (deadline, disconnect) must not cancel the shared future.
                dropped = await asyncio.shield(future)
        except TimeoutError:
            raise GRPCError(
                Status.UNAVAILABLE, "database unavailable; the event is buffered and will be applied"
            ) from None
        metrics.ACK_LATENCY.observe(time.perf_counter() - started)
        if dropped and user_id in dropped:
            raise GRPCError(Status.INTERNAL, "the database refused this event's progress")

    # ---- the two event kinds -----------------------------------------------------------------------

    def login(self, request: account_pb2.UserLoggedIn) -> Event:
        user_id = request.user_id or request.payload.user_account.user_id
        if not user_id:
            raise _Invalid("missing_user_id", "user_id is required")
        _check_id(user_id, "user_id")
        _check_id(request.id, "id")
        namespace = request.namespace or request.payload.user_account.namespace
        if namespace != self.namespace:
            self._ignored_namespace.inc()
            return Event(request.id, user_id, (), None, 1, 1)
        self._index()
        goal_ids = self._login_goal_ids
        if not goal_ids:
            self._ignored_no_goal.inc()
        # A login adds one to the raw count and to the increments (`rules.progress.login_delta`).
        return Event(request.id, user_id, goal_ids, None, 1, 1)

    def stat(self, request: statistic_pb2.StatItemUpdated) -> Event:
        if not request.HasField("payload"):
            raise _Invalid("missing_payload", "payload is required")
        payload = request.payload
        user_id = request.user_id or payload.user_id
        if not user_id:
            raise _Invalid("missing_user_id", "user_id is required")
        if not payload.stat_code:
            raise _Invalid("missing_stat_code", "payload.stat_code is required")
        _check_id(user_id, "user_id")
        _check_id(request.id, "id")
        value = _count(payload.latest_value, "latest_value")
        inc = _count(payload.inc, "inc")
        namespace = request.namespace or payload.namespace
        if namespace != self.namespace:
            self._ignored_namespace.inc()
            return Event(request.id, user_id, (), value, 0, inc)
        self._index()
        goal_ids = self._stat_goal_ids.get(payload.stat_code, ())
        if not goal_ids:
            self._ignored_no_goal.inc()
        # A stat update sets the raw value and reports its increment (`rules.progress.stat_delta`).
        return Event(request.id, user_id, goal_ids, value, 0, inc)


class LoginService(account_grpc.UserAuthenticationUserLoggedInServiceBase):
    def __init__(self, ingest: EventIngest) -> None:
        self._ingest = ingest

    async def OnMessage(self, stream: Stream[account_pb2.UserLoggedIn, Empty]) -> None:
        await self._ingest.handle(LOGIN, stream, self._ingest.login)


class StatService(statistic_grpc.StatisticStatItemUpdatedServiceBase):
    def __init__(self, ingest: EventIngest) -> None:
        self._ingest = ingest

    async def OnMessage(self, stream: Stream[statistic_pb2.StatItemUpdated, Empty]) -> None:
        await self._ingest.handle(STAT, stream, self._ingest.stat)
