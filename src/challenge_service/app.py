"""Wiring and lifecycle: settings → database → catalog → HTTP + gRPC in one event loop → shutdown.

Start-up order: embedded PostgreSQL (dev), migrations, pool, then the servers. Shutdown: stop
accepting gRPC events, let in-flight calls finish, flush, stop HTTP, close the pool — each step bounded
so the whole stop fits in `SHUTDOWN_BUDGET_S`.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import signal
from collections.abc import Callable, Iterator

import httpx
import structlog
import uvicorn
from grpclib.health.check import ServiceCheck
from grpclib.health.service import OVERALL, Health
from grpclib.reflection.service import ServerReflection
from grpclib.server import Server as GrpcServer
from litestar.types import ASGIApp
from psycopg_pool import AsyncConnectionPool

from challenge_service.api.app import create_app
from challenge_service.api.auth import jwt_authenticator, mock_authenticator
from challenge_service.api.deps import Authenticator, Services
from challenge_service.api.metrics_app import metrics_app, with_metrics
from challenge_service.api.observe import ObserveRequests
from challenge_service.auth import IamClient, IamRefresher, JwksVerifier, RevocationCache
from challenge_service.catalog import Catalog, CatalogError, load_catalog
from challenge_service.claims.auto import AutoClaimer, AutoClaimPolicy
from challenge_service.claims.reconciler import GrantReconciler, ReconcilePolicy
from challenge_service.events import EventPipeline
from challenge_service.maintenance import EventIdCleanup, Maintenance, RetentionTask
from challenge_service.metrics import CATALOG_RELOADS, register_pool
from challenge_service.rewards import AgsRewardClient, MockRewardClient, RewardClient
from challenge_service.settings import Settings
from challenge_service.store.database import create_pool, ping
from challenge_service.store.embedded import EMBEDDED_DATA_DIR, EmbeddedPostgres
from challenge_service.store.flush import create_staging_table
from challenge_service.store.migrations import migrate

log = structlog.get_logger(__name__)

SHUTDOWN_BUDGET_S = 10.0
# Allocations between young collections (CPython default 700); see settle_heap.
GC_YOUNG_THRESHOLD = 20_000

# (mtime in ns, size) of the challenge file; None when it cannot be read.
FileStamp = tuple[int, int] | None


def _stamp(path: str) -> FileStamp:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_mtime_ns, info.st_size


class _HttpServer(uvicorn.Server):
    """Uvicorn without its own signal handling: the service decides the shutdown order."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class Service:
    """One running instance: REST, gRPC and the shared pool, started and stopped as a unit."""

    def __init__(
        self,
        settings: Settings,
        *,
        host: str = "0.0.0.0",
        reconcile: ReconcilePolicy | None = None,
        auto_claim: AutoClaimPolicy | None = None,
    ) -> None:
        self.settings = settings
        self.host = host
        # How the grant reconciler and the auto-claimer pace themselves; tests shorten their waits.
        self.reconcile_policy = reconcile or ReconcilePolicy()
        self.auto_claim_policy = auto_claim or AutoClaimPolicy()
        self._embedded: EmbeddedPostgres | None = None
        self._pool: AsyncConnectionPool | None = None
        self._grpc: GrpcServer | None = None
        self._events: EventPipeline | None = None
        self._maintenance: Maintenance | None = None
        self.reconciler: GrantReconciler | None = None
        self.auto_claimer: AutoClaimer | None = None
        self._http_servers: list[tuple[_HttpServer, asyncio.Task[None]]] = []
        self._unregister_pool_metrics: Callable[[], None] = lambda: None
        self._ags_http: httpx.AsyncClient | None = None
        # JWT mode only; tests run a refresh round through it instead of waiting REFRESH_INTERVAL.
        self.iam_refresher: IamRefresher | None = None
        self._reload_lock = asyncio.Lock()
        self._catalog_stamp: FileStamp = None
        self._watch_task: asyncio.Task[None] | None = None
        # Set by start(); tests swap the clock or the reward client through it.
        self.services: Services | None = None

    async def start(self) -> None:
        try:
            await self._start()
        except BaseException:
            # Leave nothing half-started (ports, pool, embedded server) behind a failed start.
            await self.stop()
            raise

    async def _start(self) -> None:
        settings = self.settings
        self._catalog_stamp = _stamp(settings.challenge_config_path)
        catalog = load_catalog(settings.challenge_config_path)
        conninfo = settings.database_url
        if settings.database.override_note:
            log.warning(settings.database.override_note)
        if not conninfo:
            self._embedded = EmbeddedPostgres(EMBEDDED_DATA_DIR)
            conninfo = await asyncio.to_thread(self._embedded.start)
        await migrate(conninfo)
        # Every connection gets the flush's staging table as it opens (after the migrations, which
        # define the table's trigger function).
        self._pool = pool = create_pool(
            conninfo, max_size=settings.database.pool_size, configure=create_staging_table
        )
        await pool.open(wait=True, timeout=30)

        # One HTTP client for every call to AGS (JWKS, revocation list, IAM token, Platform): keep-alive
        # connections.
        self._ags_http = httpx.AsyncClient(timeout=10.0)
        self.services = services = Services(
            catalog=catalog,
            pool=pool,
            authenticate=self._authenticator(self._ags_http),
            rewards=self._reward_client(self._ags_http),
        )
        if self.iam_refresher is not None:
            await self.iam_refresher.start()

        async def database_reachable() -> bool:
            return await ping(pool)

        health = Health({OVERALL: [ServiceCheck(database_reachable, check_ttl=1.0, check_timeout=2.0)]})
        # It reads the catalog, the reward client and the clock through `services`, as the flusher
        # does, so a reload or a test's swapped client or clock applies to it too.
        self.auto_claimer = auto_claimer = AutoClaimer(
            pool,
            catalog=lambda: services.catalog,
            rewards=lambda: services.rewards,
            clock=lambda: services.clock(),
            policy=self.auto_claim_policy,
        )
        # The flusher reads the catalog and the clock through `services`, so a reload or a test's
        # clock applies to REST and events alike.
        self._events = events = EventPipeline(
            settings,
            pool,
            catalog=lambda: services.catalog,
            clock=lambda: services.clock(),
            on_owed=auto_claimer.wake,
        )
        events.start()
        auto_claimer.start()
        self._maintenance = Maintenance(
            RetentionTask(
                pool,
                catalog=lambda: services.catalog,
                clock=lambda: services.clock(),
                retention_days=settings.retention_days,
            ),
            EventIdCleanup(pool, dedup_hours=settings.event_dedup_hours),
        )
        self._maintenance.start()
        # It reads the reward client through `services`, so a test's swapped client is the one used.
        self.reconciler = GrantReconciler(
            pool,
            rewards=lambda: services.rewards,
            clock=lambda: services.clock(),
            policy=self.reconcile_policy,
        )
        self.reconciler.start()
        # Reflection lists every service and serves its descriptors, so grpcurl needs no proto files.
        self._grpc = GrpcServer(ServerReflection.extend([health, *events.servicers]))
        await self._grpc.start(self.host, settings.grpc_port)

        api = ObserveRequests(create_app(services, settings.base_path, jwt_auth=settings.auth_enabled))
        if settings.metrics_port:
            await self._serve_http(api, settings.http_port)
            await self._serve_http(metrics_app, settings.metrics_port)
        else:
            await self._serve_http(with_metrics(api), settings.http_port)
        self._unregister_pool_metrics = register_pool(pool.get_stats)
        if settings.catalog_watch_s:
            self._watch_task = asyncio.create_task(self._watch_catalog(), name="catalog-watch")
        log.info(
            "service started",
            http_port=settings.http_port,
            grpc_port=settings.grpc_port,
            base_path=settings.base_path,
            namespace=settings.namespace,
            embedded_database=settings.embedded_database,
            goals=len(catalog.goals),
        )

    async def reload_catalog(self) -> bool:
        """Re-read `CHALLENGE_CONFIG_PATH`. A valid file replaces `services.catalog` in one assignment
        (running requests keep the object they already read; REST, the event handlers, the flusher and
        retention all read `services.catalog` afresh); an invalid one is logged with every problem and
        the current catalog stays. Returns True when the new catalog is in place."""
        services = self.services
        if services is None:
            raise RuntimeError("the service is not started")
        path = self.settings.challenge_config_path
        async with self._reload_lock:  # two reloads (SIGHUP + watch) never interleave
            stamp = _stamp(path)
            try:
                catalog: Catalog = await asyncio.to_thread(load_catalog, path)
            except (CatalogError, ValueError) as error:
                problems = error.problems if isinstance(error, CatalogError) else [f"$: {error}"]
                CATALOG_RELOADS.labels("rejected").inc()
                log.error(
                    "catalog reload rejected; keeping the current catalog",
                    path=path,
                    problems=problems,
                )
                self._catalog_stamp = stamp  # the watch reports a bad file once, not every poll
                return False
            services.catalog = catalog
            self._catalog_stamp = stamp
        CATALOG_RELOADS.labels("ok").inc()
        log.info("catalog reloaded", path=path, challenges=len(catalog.challenges), goals=len(catalog.goals))
        return True

    async def _watch_catalog(self) -> None:
        """Reload when the challenge file's mtime or size changes (`CATALOG_WATCH_S` polling)."""
        path = self.settings.challenge_config_path
        while True:
            await asyncio.sleep(self.settings.catalog_watch_s)
            stamp = await asyncio.to_thread(_stamp, path)
            # A missing file is usually an editor or a deploy replacing it: wait for it to come back.
            if stamp is None or stamp == self._catalog_stamp:
                continue
            try:
                await self.reload_catalog()
            except Exception:  # never let the watch die; the next change is tried again
                log.exception("catalog reload failed")

    async def _serve_http(self, app: ASGIApp, port: int) -> None:
        config = uvicorn.Config(
            app,
            host=self.host,
            port=port,
            loop="none",
            lifespan="off",
            log_config=None,
            access_log=False,
            server_header=False,
            # Behind a load balancer the client address is not used for anything; skip the parsing.
            proxy_headers=False,
            timeout_graceful_shutdown=5,
            timeout_keep_alive=self.settings.http_keepalive_s,
        )
        server = _HttpServer(config)
        task = asyncio.create_task(server.serve(), name=f"http:{port}")
        self._http_servers.append((server, task))
        while not server.started:
            if task.done():
                # serve() returns early (or raises) when it cannot bind the port.
                await task
                raise RuntimeError(f"HTTP server did not start on port {port}")
            await asyncio.sleep(0.01)

    def _authenticator(self, http: httpx.AsyncClient) -> Authenticator:
        """Mock auth, or JWT verification; the latter also creates `iam_refresher`, which `_start` starts."""
        settings = self.settings
        if not settings.auth_enabled:
            return mock_authenticator(settings.namespace)
        iam = IamClient(settings.ab_base_url, settings.ab_client_id, settings.ab_client_secret, http)
        revocations = RevocationCache(iam)
        verifier = JwksVerifier(iam, settings.namespace, revocations=revocations)
        self.iam_refresher = IamRefresher(verifier, revocations, settings.refresh_interval_s)
        return jwt_authenticator(verifier, settings.namespace)

    def _reward_client(self, http: httpx.AsyncClient) -> RewardClient:
        settings = self.settings
        if settings.reward_client_mode == "mock":
            return MockRewardClient()
        return AgsRewardClient(
            settings.ab_base_url,
            settings.ab_client_id,
            settings.ab_client_secret,
            settings.namespace,
            http,
            item_grant=settings.reward_item_grant,
        )

    async def stop(self) -> None:
        """Stop in the order above; every step runs even if an earlier one failed or timed out."""
        if self._watch_task is not None:
            self._watch_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch_task
            self._watch_task = None
        if self._maintenance is not None:
            # Background work first: none of it is urgent, and it must not hold connections the
            # final flush needs. A settle cut short here is safe: the next lease repeats it.
            await self._maintenance.stop()
        if self.reconciler is not None:
            await self.reconciler.stop()
        if self.auto_claimer is not None:
            # A claim cut short here is safe: its owed row, or its 'pending' ledger rows, are taken
            # again (by this task or the reconciler) after the restart.
            await self.auto_claimer.stop()
        if self._events is not None:
            # Stop accepting events and listening, let running calls answer, flush the buffer.
            # grpclib's close() cancels running handlers, so it comes only after this drain.
            await self._events.stop(self._grpc, timeout_s=SHUTDOWN_BUDGET_S / 2)
        if self._grpc is not None:
            self._grpc.close()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._grpc.wait_closed(), timeout=1.0)
        for server, _ in self._http_servers:
            server.should_exit = True
        for _, task in self._http_servers:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(task, timeout=SHUTDOWN_BUDGET_S / 3)
        self._unregister_pool_metrics()
        if self.iam_refresher is not None:
            await self.iam_refresher.stop()
        if self._ags_http is not None:
            await self._ags_http.aclose()
        if self._pool is not None:
            await self._pool.close(timeout=2.0)
        if self._embedded is not None:
            await asyncio.to_thread(self._embedded.stop)
        log.info("service stopped")


def settle_heap() -> None:
    """Keep the garbage collector off the event path.

    Durable events wait ~10–40 ms for their flush, so each in-flight call's objects survive the young
    collections and get promoted; with CPython's default thresholds that triggered a full collection
    every few seconds, and each walked the ~100,000 objects of start-up (imports, the app, the catalog):
    60–110 ms with the event loop stopped, measured at 1,000 events/s — the largest part of the gRPC
    p99. Freezing what start-up built takes it out of every later collection, and a larger young
    generation makes collections rarer (docs/performance.md).
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, 20, 20)


async def serve(
    settings: Settings, *, reconcile: ReconcilePolicy | None = None, auto_claim: AutoClaimPolicy | None = None
) -> None:
    """Run until SIGTERM or SIGINT, then shut down in order; SIGHUP reloads the challenge file. The
    policies pace the background grant tasks (crash tests shorten them)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    service = Service(settings, reconcile=reconcile, auto_claim=auto_claim)
    reloads: set[asyncio.Task[None]] = set()

    async def reload() -> None:
        try:
            await service.reload_catalog()
        except Exception:
            log.exception("catalog reload failed")

    def on_sighup() -> None:
        if service.services is None:
            log.warning("SIGHUP ignored: the service is still starting")
            return
        task = loop.create_task(reload(), name="catalog-reload")
        reloads.add(task)
        task.add_done_callback(reloads.discard)

    # Installed before start(), so an early SIGHUP does not kill the process (its default action).
    loop.add_signal_handler(signal.SIGHUP, on_sighup)
    try:
        await service.start()
        settle_heap()
        await stop.wait()
        log.info("shutting down")
    finally:
        await service.stop()
