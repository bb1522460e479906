"""Shared fixtures: one real PostgreSQL per test session, a fresh migrated database per test.

The server is the embedded one (or the server behind `DATABASE_URL` when set). Each test that asks for
a database gets its own, cloned from a migrated template, so tests never see each other's rows.
"""

from __future__ import annotations

import os
import socket
import ssl
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import httpx
import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from challenge_service.app import Service
from challenge_service.settings import DatabaseSettings, Settings
from challenge_service.store.embedded import EmbeddedPostgres
from challenge_service.store.migrations import migrate

REPO = Path(__file__).resolve().parents[1]
TEMPLATE_DB = "challenge_test_template"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Admin connection string of the session's PostgreSQL server."""
    external = os.environ.get("DATABASE_URL")
    if external:
        yield external
        return
    server = EmbeddedPostgres(tmp_path_factory.mktemp("pg") / "data")
    yield server.start()
    server.stop()


def with_dbname(conninfo: str, dbname: str) -> str:
    return make_conninfo(conninfo, dbname=dbname)


@pytest.fixture(scope="session")
async def template_db(pg_server: str) -> str:
    async with await psycopg.AsyncConnection.connect(pg_server, autocommit=True) as conn:
        await conn.execute(f"DROP DATABASE IF EXISTS {TEMPLATE_DB} WITH (FORCE)")
        await conn.execute(f"CREATE DATABASE {TEMPLATE_DB}")
    await migrate(with_dbname(pg_server, TEMPLATE_DB))
    return TEMPLATE_DB


@asynccontextmanager
async def _own_database(pg_server: str, prefix: str, template: str | None = None) -> AsyncIterator[str]:
    """A database created for one test (a copy of `template`, or empty), dropped after it."""
    name = f"{prefix}_{uuid.uuid4().hex[:16]}"
    async with await psycopg.AsyncConnection.connect(pg_server, autocommit=True) as conn:
        await conn.execute(f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else ""))
    yield with_dbname(pg_server, name)
    async with await psycopg.AsyncConnection.connect(pg_server, autocommit=True) as conn:
        await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
async def database_url(pg_server: str, template_db: str) -> AsyncIterator[str]:
    """A fresh, migrated database of its own for one test."""
    async with _own_database(pg_server, "t", template_db) as url:
        yield url


@pytest.fixture
async def empty_database_url(pg_server: str) -> AsyncIterator[str]:
    """A fresh database with no schema at all, for migration tests."""
    async with _own_database(pg_server, "e") as url:
        yield url


def make_settings(database_url: str, *, pool_size: int = 10, **overrides: object) -> Settings:
    settings = Settings(
        http_port=free_port(),
        grpc_port=free_port(),
        metrics_port=0,
        database=DatabaseSettings(url=database_url, pool_size=pool_size),
        challenge_config_path=str(REPO / "challenges.json"),
        auth_enabled=False,
        reward_client_mode="mock",
    )
    return replace(settings, **overrides)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def tls_context() -> ssl.SSLContext:
    # Loading the CA bundle costs ~40 ms per client; the fake AGS is plain HTTP, so build it once.
    return ssl.create_default_context()


@pytest.fixture
async def http(tls_context: ssl.SSLContext) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(verify=tls_context) as client:
        yield client


@dataclass
class RunningService:
    service: Service
    settings: Settings
    http: httpx.AsyncClient

    @property
    def base(self) -> str:
        return self.settings.base_path


@pytest.fixture
async def running(database_url: str) -> AsyncIterator[RunningService]:
    """The whole service in this process on free ports, with mock auth and rewards."""
    settings = make_settings(database_url)
    service = Service(settings, host="127.0.0.1")
    await service.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{settings.http_port}", timeout=10) as http:
            yield RunningService(service, settings, http)
    finally:
        await service.stop()
