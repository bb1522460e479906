"""Event ingestion (SPEC §6–§8): gRPC handlers, the write buffer and the flusher.

`EventPipeline` wires the three together for `app.py`: servicers to register on the gRPC server, the
flusher to start, and the first half of the SPEC §2 shutdown (stop accepting, drain, flush).
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
from challenge_service.events.buffer import Buffer
from challenge_service.events.flusher import Flusher
from challenge_service.events.handlers import EventIngest, LoginService, StatService
from challenge_service.settings import Settings

log = structlog.get_logger(__name__)


class EventPipeline:
    def __init__(
        self,
        settings: Settings,
        pool: AsyncConnectionPool,
        catalog: Callable[[], Catalog],
        clock: Callable[[], datetime],
    ) -> None:
        durable = settings.event_ack_mode == "durable"
        self.buffer = buffer = Buffer(
            settings.buffer_max_entries, durable=durable, batch_events=settings.flush_batch_events
        )
        # Read at scrape time: no bookkeeping on the event path.
        metrics.BUFFER_ENTRIES.set_function(lambda: buffer.entries)
        self.flusher = Flusher(
            self.buffer,
            pool,
            catalog,
            clock,
            interval_s=settings.flush_interval_s,
        )
        self.ingest = EventIngest(self.buffer, catalog, settings.namespace, durable=durable)

    @property
    def servicers(self) -> list[Any]:
        return [LoginService(self.ingest), StatService(self.ingest)]

    def start(self) -> None:
        self.flusher.start()

    async def stop(self, grpc: Server | None, timeout_s: float) -> None:
        """Stop accepting events, let running calls answer, flush everything; bounded by timeout_s."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        self.ingest.stop_accepting()
        if grpc is not None:
            # Stop listening without grpclib's close(), which would cancel the running handlers;
            # open connections stay up so in-flight calls can still be answered.
            listener = getattr(grpc, "_server", None)
            if listener is not None:
                listener.close()
        if not await self.ingest.drain(max(deadline - loop.time(), 0.1) / 2):
            log.warning("shutdown: some event calls did not finish in time")
        flushed = await self.flusher.stop(max(deadline - loop.time(), 0.1))
        log.info("event buffer flushed" if flushed else "event buffer NOT fully flushed")
