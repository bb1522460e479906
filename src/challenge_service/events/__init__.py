"""Event ingestion: validation, gRPC handlers, the write buffer and the flusher (docs/events.md).

`EventPipeline` wires the three together for `app.py`: servicers to register on the gRPC server, the
flusher to start, and the first half of the shutdown in `app.py` (stop accepting, drain, flush).

Stopping the gRPC listener goes through grpclib's private `Server._server`: grpclib (0.4.9, the
latest release) has no public call that closes the listening socket without also cancelling the
running handlers, as `Server.close()` does. `tests/events/test_grpc_listener.py` fails if an upgrade
changes that.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Any

import structlog
from grpclib.server import Server
from psycopg_pool import AsyncConnectionPool

from challenge_service import metrics
from challenge_service.catalog import Catalog
from challenge_service.events.accept import Acceptor
from challenge_service.events.buffer import Buffer
from challenge_service.events.flusher import Flusher
from challenge_service.events.handlers import BatchService, EventIngest, LoginService, StatService
from challenge_service.settings import Settings

log = structlog.get_logger(__name__)


class EventPipeline:
    def __init__(
        self,
        settings: Settings,
        pool: AsyncConnectionPool,
        catalog: Callable[[], Catalog],
        clock: Callable[[], datetime],
        on_owed: Callable[[], None] | None = None,
    ) -> None:
        durable = settings.event_ack_mode == "durable"
        self.buffer = Buffer(
            settings.buffer_max_entries, durable=durable, batch_events=settings.flush_batch_events
        )
        self._unregister_metrics: Callable[[], None] = lambda: None
        self.flusher = Flusher(
            self.buffer,
            pool,
            catalog,
            clock,
            interval_s=settings.flush_interval_s,
            on_owed=on_owed,
        )
        self.ingest = EventIngest(self.buffer, Acceptor(catalog, settings.namespace))

    @property
    def servicers(self) -> list[Any]:
        return [LoginService(self.ingest), StatService(self.ingest), BatchService(self.ingest)]

    def start(self) -> None:
        # Read at scrape time: no bookkeeping on the event path.
        self._unregister_metrics = metrics.register_buffer(lambda: self.buffer.entries)
        self.flusher.start()

    async def stop(self, grpc: Server | None, timeout_s: float) -> None:
        """Stop accepting events, let running calls answer, flush everything; bounded by timeout_s."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        self.ingest.stop_accepting()
        if grpc is not None:
            _stop_listening(grpc)
        if not await self.ingest.drain(max(deadline - loop.time(), 0.1) / 2):
            log.warning("shutdown: some event calls did not finish in time")
        flushed = await self.flusher.stop(max(deadline - loop.time(), 0.1))
        self._unregister_metrics()
        log.info("event buffer flushed" if flushed else "event buffer NOT fully flushed")


def _stop_listening(grpc: Server) -> None:
    """Refuse new connections; open ones stay up so the calls running on them can still answer."""
    listener = getattr(grpc, "_server", None)
    if isinstance(listener, asyncio.AbstractServer):
        listener.close()
    else:  # a grpclib that changed its internals: new calls still get UNAVAILABLE from the handlers
        log.warning("shutdown: cannot stop the gRPC listener before the drain", grpclib_server=repr(listener))
