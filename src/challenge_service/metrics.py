"""Prometheus metrics (docs/operations.md#metrics): defined once here, incremented where things happen.

Names use the `challenge_` prefix. Label values are bounded: route templates (not raw paths), gRPC
method names, fixed outcome/reason words.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

# Sub-millisecond buckets matter: most answers here take 1–20 ms.
_LATENCY = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

HTTP_REQUESTS = Counter(
    "challenge_http_requests_total",
    "REST requests by route template, method and status",
    ["route", "method", "status"],
)
HTTP_LATENCY = Histogram(
    "challenge_http_request_duration_seconds",
    "REST request latency by route template, method and status",
    ["route", "method", "status"],
    buckets=_LATENCY,
)
GRPC_REQUESTS = Counter(
    "challenge_grpc_requests_total", "gRPC calls by method and status", ["method", "status"]
)
GRPC_LATENCY = Histogram(
    "challenge_grpc_request_duration_seconds",
    "gRPC call latency by method and status",
    ["method", "status"],
    buckets=_LATENCY,
)
EVENTS = Counter(
    "challenge_events_total",
    "Events by outcome (received, applied, ignored, deduplicated, rejected) and reason",
    ["outcome", "reason"],
)
FLUSH_DURATION = Histogram(
    "challenge_flush_duration_seconds", "Duration of one flush transaction", buckets=_LATENCY
)
FLUSH_ROWS = Histogram(
    "challenge_flush_rows",
    "Buffer entries written per flush",
    buckets=(1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000),
)
FLUSH_FAILURES = Counter("challenge_flush_failures_total", "Flushes that failed and were retried")
FLUSH_STATEMENTS = Counter("challenge_flush_statements_total", "SQL statements issued by flushes")
ACK_LATENCY = Histogram(
    "challenge_event_ack_latency_seconds",
    "Time from receiving an event to answering it (durable mode waits for the commit)",
    buckets=_LATENCY,
)
REWARD_GRANTS = Counter("challenge_reward_grants_total", "Reward grants by outcome", ["outcome"])
RECONCILIATIONS = Counter(
    "challenge_reward_reconciliations_total",
    "Unresolved reward grants the reconciler took, by outcome: found (AGS had it), sent (granted now; "
    "AGS applies it once), failed (AGS refused it: claimable again), retry (not settled yet)",
    ["outcome"],
)
AUTO_CLAIMS = Counter(
    "challenge_auto_claims_total",
    "Owed automatic claims the auto-claimer took, by outcome: claimed, retry (waits for a retry or the "
    "reconciler), dropped (no longer owed or refused for good: claimable by hand), error (taken again)",
    ["outcome"],
)
CATALOG_RELOADS = Counter("challenge_catalog_reloads_total", "Catalog reloads by result", ["result"])
IAM_REFRESHES = Counter(
    "challenge_iam_refreshes_total",
    "Fetches of AGS IAM's signing keys (jwks) and revocation list (revocation_list) by result",
    ["source", "result"],
)

# Known label values start at 0 so dashboards and alerts see the series before the first occurrence.
for _outcome in ("granted", "failed", "in_doubt"):
    REWARD_GRANTS.labels(_outcome)
for _outcome in ("found", "sent", "failed", "retry"):
    RECONCILIATIONS.labels(_outcome)
for _result in ("ok", "rejected"):
    CATALOG_RELOADS.labels(_result)
for _source in ("jwks", "revocation_list"):
    for _result in ("ok", "failed"):
        IAM_REFRESHES.labels(_source, _result)


Snapshot = Callable[[], Mapping[str, int]]


class SummedGauges(Collector):
    """Gauges read at scrape time from live objects (pools, write buffers): nothing to update on the
    hot path.

    Registered once; the objects come and go with services (tests run several in one process), and
    their values add up, as they would for one process with several pools or buffers.
    """

    def __init__(self, gauges: Mapping[str, tuple[str, str]]) -> None:
        self._gauges = gauges  # key in a source's snapshot → (metric name, help)
        self._sources: set[Snapshot] = set()

    def add(self, source: Snapshot) -> Callable[[], None]:
        """Include `source` until the returned function (idempotent) is called."""
        self._sources.add(source)
        return lambda: self._sources.discard(source)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        snapshots = [source() for source in list(self._sources)]
        for key, (name, help_text) in self._gauges.items():
            total = sum(snapshot.get(key, 0) for snapshot in snapshots)
            yield GaugeMetricFamily(name, help_text, value=total)


_POOLS = SummedGauges(
    {
        "pool_size": ("challenge_db_pool_size", "Connections currently open in the pool"),
        "pool_available": ("challenge_db_pool_available", "Idle connections in the pool"),
        "requests_waiting": ("challenge_db_requests_waiting", "Requests waiting for a pooled connection"),
    }
)
_BUFFERS = SummedGauges(
    {"entries": ("challenge_buffer_entries", "Pending (user, stat code) entries in the write buffer")}
)
REGISTRY.register(_POOLS)
REGISTRY.register(_BUFFERS)


def register_pool(stats: Snapshot) -> Callable[[], None]:
    """Expose a pool's statistics; returns the function that removes them again (idempotent)."""
    return _POOLS.add(stats)


class MaxGauge(Collector):
    """A gauge read at scrape time from live objects: the largest value among them (one per running
    service; each sees the whole database or its own IAM state, so adding them up would be wrong). A
    source answering None has nothing to report yet; with no value at all there is no sample."""

    def __init__(self, name: str, help_text: str) -> None:
        self._name = name
        self._help = help_text
        self._sources: set[Callable[[], float | None]] = set()

    def add(self, source: Callable[[], float | None]) -> Callable[[], None]:
        """Include `source` until the returned function (idempotent) is called."""
        self._sources.add(source)
        return lambda: self._sources.discard(source)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(self._name, self._help)
        values = [value for source in list(self._sources) if (value := source()) is not None]
        if values:
            family.add_metric([], max(values))
        yield family


# +Inf while no list has been fetched yet; no sample in mock-auth mode.
_REVOCATION_LIST_AGE = MaxGauge(
    "challenge_iam_revocation_list_age_seconds", "Age of the AGS IAM revocation list in use"
)
_UNRESOLVED_GRANTS = MaxGauge(
    "challenge_reward_grants_unresolved",
    "Reward grants pending or in doubt (the reconciler's backlog), as of its last cycle",
)
_UNRESOLVED_GRANT_AGE = MaxGauge(
    "challenge_reward_grants_unresolved_oldest_age_seconds",
    "How long the oldest pending or in-doubt reward grant has been unresolved (0 when none)",
)
for _gauge in (_REVOCATION_LIST_AGE, _UNRESOLVED_GRANTS, _UNRESOLVED_GRANT_AGE):
    REGISTRY.register(_gauge)


def register_revocation_list_age(age_s: Callable[[], float]) -> Callable[[], None]:
    """Expose a verifier's revocation-list age; returns the function that removes it again (idempotent)."""
    return _REVOCATION_LIST_AGE.add(age_s)


def register_grant_backlog(
    entries: Callable[[], float | None], oldest_age_s: Callable[[], float | None]
) -> Callable[[], None]:
    """Expose a reconciler's view of the unresolved grants; returns the function that removes it again."""
    remove_entries = _UNRESOLVED_GRANTS.add(entries)
    remove_age = _UNRESOLVED_GRANT_AGE.add(oldest_age_s)

    def remove() -> None:
        remove_entries()
        remove_age()

    return remove


def register_buffer(entries: Callable[[], int]) -> Callable[[], None]:
    """Expose a write buffer's pending entries; returns the function that removes them again."""
    return _BUFFERS.add(lambda: {"entries": entries()})


def exposition() -> tuple[bytes, str]:
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
