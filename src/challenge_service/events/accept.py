"""Which events are valid and which goals they move — one code path for the AGS unary calls and the
batch call (docs/events.md).

Each request shape is read into the same few fields (`event`), which decide the outcome: malformed →
`Invalid` (INVALID_ARGUMENT); another namespace or no matching goal → `None` (acknowledged and
ignored); otherwise an `Event` keyed by what it moves (a stat code, or `None` for the login goals).
Errors are values: the handlers map them to a status, per call or per event.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

from challenge_service import metrics
from challenge_service.catalog import Catalog
from challenge_service.events.buffer import Event, Key
from challenge_service.events.proto.accelbyte.iam.account.v1 import account_pb2
from challenge_service.events.proto.accelbyte.social.statistic.v1 import statistic_pb2
from challenge_service.events.proto.challenge.events.v1 import events_pb2

# Ids are stored in varchar(100) columns (user_goal_progress.user_id, processed_events.event_id).
MAX_ID_LENGTH = 100
# int(value) must fit PostgreSQL's bigint; 2**63 itself is the first float that does not.
_INT64_LIMIT = 2.0**63


class Invalid(NamedTuple):
    """A malformed event: `reason` labels the rejection metric, `message` goes to the caller."""

    reason: str
    message: str


MISSING_USER_ID = Invalid("missing_user_id", "user_id is required")
MISSING_STAT_CODE = Invalid("missing_stat_code", "stat_code is required")
MISSING_PAYLOAD = Invalid("missing_payload", "payload is required")
MISSING_KIND = Invalid("missing_kind", "login or stat is required")


def _check_id(value: str, name: str) -> Invalid | None:
    if len(value) > MAX_ID_LENGTH:
        return Invalid(f"{name}_too_long", f"{name} is longer than {MAX_ID_LENGTH} characters")
    if not value.isprintable():
        return Invalid(f"{name}_not_printable", f"{name} contains control characters")
    return None


def _count(value: float, name: str) -> int | Invalid:
    if not math.isfinite(value) or value < 0 or value >= _INT64_LIMIT:
        return Invalid(f"bad_{name}", f"{name} must be a finite number in 0..2^63, got {value!r}")
    return int(value)


class Acceptor:
    """Validates events against the current catalog; ignored events are counted here."""

    def __init__(self, catalog: Callable[[], Catalog], namespace: str) -> None:
        self.catalog = catalog
        self.namespace = namespace
        self._ignored_namespace = metrics.EVENTS.labels("ignored", "namespace")
        self._ignored_no_goal = metrics.EVENTS.labels("ignored", "no_matching_goal")
        # The keys some goal listens to (a stat code; None for logins), rebuilt when the catalog object
        # is replaced (reload).
        self._indexed: Catalog | None = None
        self._keys: frozenset[Key] = frozenset()

    def _index(self) -> frozenset[Key]:
        catalog = self.catalog()
        if catalog is not self._indexed:
            keys: set[Key] = {g.requirement.stat_code for g in catalog.goals if g.event_source == "statistic"}
            if catalog.login_goals:
                keys.add(None)
            self._keys = frozenset(keys)
            self._indexed = catalog
        return self._keys

    def event(
        self, event_id: str, user_id: str, namespace: str, stat_code: str | None, value: float, inc: float
    ) -> Event | Invalid | None:
        """The one decision, for every request shape: a login when `stat_code` is None, else a stat
        update setting `value` and reporting `inc`. None: acknowledged and ignored."""
        if not user_id:
            return MISSING_USER_ID
        if stat_code == "":
            return MISSING_STAT_CODE
        invalid = _check_id(user_id, "user_id") or _check_id(event_id, "id")
        if invalid is not None:
            return invalid
        if stat_code is None:
            # A login adds one to the raw count and to the increments (`rules.progress.login_delta`).
            latest, add, increment = None, 1, 1
        else:
            counted = _count(value, "latest_value")
            if isinstance(counted, Invalid):
                return counted
            reported = _count(inc, "inc")
            if isinstance(reported, Invalid):
                return reported
            # A stat update sets the raw value and reports its increment (`rules.progress.stat_delta`).
            latest, add, increment = counted, 0, reported
        if namespace != self.namespace:
            self._ignored_namespace.inc()
            return None
        if stat_code not in self._index():
            self._ignored_no_goal.inc()
            return None
        return Event(event_id, user_id, stat_code, latest, add, increment)

    # ---- the request shapes -----------------------------------------------------------------------

    def login(self, request: account_pb2.UserLoggedIn) -> Event | Invalid | None:
        account = request.payload.user_account
        return self.event(
            request.id, request.user_id or account.user_id, request.namespace or account.namespace, None, 0, 0
        )

    def stat(self, request: statistic_pb2.StatItemUpdated) -> Event | Invalid | None:
        if not request.HasField("payload"):
            return MISSING_PAYLOAD
        payload = request.payload
        return self.event(
            request.id,
            request.user_id or payload.user_id,
            request.namespace or payload.namespace,
            payload.stat_code,
            payload.latest_value,
            payload.inc,
        )

    def batch_event(self, event: events_pb2.Event) -> Event | Invalid | None:
        """An event of a batch call; an empty namespace means the service's own."""
        kind = event.WhichOneof("kind")
        if kind is None:
            return MISSING_KIND
        namespace = event.namespace or self.namespace
        if kind == "login":
            return self.event(event.id, event.user_id, namespace, None, 0, 0)
        stat = event.stat
        return self.event(event.id, event.user_id, namespace, stat.stat_code, stat.latest_value, stat.inc)
