"""Shared fixtures: one real PostgreSQL per test session, a fresh migrated database per test.

The server is the embedded one (or the server behind `DATABASE_URL` when set). Each test that asks for
a database gets its own, cloned from a migrated template, so tests never see each other's rows.
"""

from __future__ import annotations

import asyncio
import os
import ssl
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import psycopg
import pytest

from challenge_service.store.embedded import EmbeddedPostgres
from challenge_service.store.migrations import migrate
from tests.helpers.db import with_dbname
from tests.helpers.service import RunningService, in_process, make_settings

TEMPLATE_DB = "challenge_test_template"


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


@pytest.fixture
async def own_database(tmp_path: Path) -> AsyncIterator[tuple[EmbeddedPostgres, str]]:
    """A PostgreSQL server of this test's own, so the test can stop it: (server, migrated database)."""
    server = EmbeddedPostgres(tmp_path / "pg")
    url = await asyncio.to_thread(server.start)
    await migrate(url)
    yield server, url
    await asyncio.to_thread(server.stop)


@pytest.fixture(scope="session")
def tls_context() -> ssl.SSLContext:
    # Loading the CA bundle costs ~40 ms per client; the fake AGS is plain HTTP, so build it once.
    return ssl.create_default_context()


@pytest.fixture
async def http(tls_context: ssl.SSLContext) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(verify=tls_context) as client:
        yield client


@pytest.fixture
async def running(database_url: str) -> AsyncIterator[RunningService]:
    """The whole service in this process on free ports, with mock auth and rewards."""
    async with in_process(make_settings(database_url)) as service:
        yield service
