"""Environment → frozen settings objects.

Every setting is read once at start-up. A bad value raises `SettingsError` whose message is one line
naming the variable and what it accepts; `__main__` prints it and exits non-zero.

Settings come in groups so that a command reads and validates only what it uses: `migrate` and `grants`
ask for `load_database_settings` (the database group), `serve` for `load_settings` (every group, plus
the checks across groups, such as AGS credentials when auth or real rewards are on).

The database is `DATABASE_URL`, or else the Go Extend Challenge Suite's separate `DB_*` variables (so a
Go deployment's environment works unchanged), or else the embedded server. Passwords never reach a
repr or an error message.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Literal, TypeVar, cast

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

T = TypeVar("T")

AckMode = Literal["durable", "buffered"]
RewardMode = Literal["real", "mock"]
ItemGrant = Literal["fulfillment", "entitlement"]
LogFormat = Literal["json", "console"]
LogLevel = Literal["debug", "info", "warning", "error"]


class SettingsError(ValueError):
    """A setting that cannot be used; the message names the variable."""


_PASSWORD_IN_URL = re.compile(r"(://[^:/@?#]*:)[^@/?#]*@")
_PASSWORD_PARAMETER = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&]*)", re.IGNORECASE)


def redact(conninfo: str) -> str:
    """The connection string with any password replaced by ***: for reprs and error messages. Works on
    strings that do not parse, which are exactly the ones an error message shows."""
    return _PASSWORD_PARAMETER.sub(r"\1***", _PASSWORD_IN_URL.sub(r"\1***@", conninfo))


DEFAULT_POOL_SIZE = 10


@dataclass(frozen=True, slots=True)
class DatabaseSettings:
    """Where PostgreSQL is and how many connections the service holds: all a database command needs."""

    # DATABASE_URL, or a libpq string built from the DB_* variables; empty = the embedded server.
    url: str = ""
    pool_size: int = DEFAULT_POOL_SIZE
    # DB_* location variables that were set but not used because DATABASE_URL wins; the commands log
    # them once so a half-migrated environment does not silently point somewhere unexpected.
    overridden: tuple[str, ...] = ()

    @property
    def embedded(self) -> bool:
        return not self.url

    @property
    def override_note(self) -> str:
        """What the commands say once when DATABASE_URL made them ignore DB_* variables; '' otherwise."""
        if not self.overridden:
            return ""
        return f"DATABASE_URL is set, so {', '.join(self.overridden)} (the Go suite's variables) are ignored"

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{f.name}={redact(self.url) if f.name == 'url' else getattr(self, f.name)!r}"
            for f in fields(self)
        )
        return f"DatabaseSettings({shown})"


@dataclass(frozen=True, slots=True)
class Settings:
    http_port: int = 8000
    grpc_port: int = 6565
    metrics_port: int = 8080
    base_path: str = "/challenge"
    namespace: str = "accelbyte"
    auth_enabled: bool = True
    reward_client_mode: RewardMode = "real"
    # How ITEM rewards reach AGS: by fulfillment under the ledger's grant id (AGS applies it once, so a
    # grant in doubt settles itself) or, where that endpoint is not offered (AGS Shared Cloud), as a
    # plain entitlement, whose in-doubt grants wait for an operator (rewards/ags.py).
    reward_item_grant: ItemGrant = "fulfillment"
    ab_base_url: str = ""
    ab_client_id: str = ""
    ab_client_secret: str = ""
    # Seconds between refreshes of the IAM signing keys and revocation list (the Go suite's name and
    # default); a revoked token is refused at most this long after AGS revoked it.
    refresh_interval_s: int = 600
    challenge_config_path: str = "challenges.json"
    database: DatabaseSettings = DatabaseSettings()
    event_ack_mode: AckMode = "durable"
    # How long the first event of a batch waits for company before the flush, unless the batch reaches
    # flush_batch_events sooner. Latency vs. statements per event, measured in docs/performance.md:
    # 5 ms keeps durable p95 near 25 ms at 1,200 events/s; 40 ms gives ~50 events per flush statement
    # at that rate and p95 near 50 ms.
    flush_interval_ms: int = 5
    # A batch holding this many events is flushed without waiting for the rest of the interval: with
    # a long interval, busy periods get short waits instead of the whole interval.
    flush_batch_events: int = 50
    buffer_max_entries: int = 50_000
    # How long processed event ids are kept for deduplication (at least 24 h: AGS redelivers within a day).
    event_dedup_hours: int = 24
    # Rotating progress rows whose period ended more than this many days ago are deleted by the
    # retention task (claimed rows of non-reselectable goals are kept: see retention.py).
    retention_days: int = 7
    # Seconds between checks of the challenge file's mtime for a hot reload; 0 = only on SIGHUP.
    catalog_watch_s: int = 0
    # How long an idle HTTP keep-alive connection stays open. Longer than the idle timeout of common load
    # balancers (60 s), which reuse idle backend connections: a server closing first races the
    # balancer's next request on that connection, and the player gets a reset.
    http_keepalive_s: int = 75
    log_level: LogLevel = "info"
    log_format: LogFormat = "json"

    def __repr__(self) -> str:
        # Settings end up in logs and tracebacks; the AGS secret must not.
        secret = "***" if self.ab_client_secret else ""
        fields = ", ".join(
            f"{name}={secret if name == 'ab_client_secret' else getattr(self, name)!r}"
            for name in self.__dataclass_fields__
        )
        return f"Settings({fields})"

    @property
    def database_url(self) -> str:
        """Shorthand for `database.url`, which most callers want."""
        return self.database.url

    @property
    def embedded_database(self) -> bool:
        return self.database.embedded

    @property
    def flush_interval_s(self) -> float:
        return self.flush_interval_ms / 1000


def _port(allow_zero: bool = False) -> Callable[[str], int]:
    low = 0 if allow_zero else 1

    def parse(raw: str) -> int:
        value = int(raw)
        if not low <= value <= 65535:
            raise ValueError
        return value

    parse.__doc__ = f"an integer port {low}..65535"
    return parse


def _positive_int(limit: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        value = int(raw)
        if not 1 <= value <= limit:
            raise ValueError
        return value

    parse.__doc__ = f"an integer 1..{limit}"
    return parse


def _int_between(low: int, high: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        value = int(raw)
        if not low <= value <= high:
            raise ValueError
        return value

    parse.__doc__ = f"an integer {low}..{high}"
    return parse


def _choice(*options: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        value = raw.strip().lower()
        if value not in options:
            raise ValueError
        return value

    parse.__doc__ = " or ".join(options)
    return parse


def _bool(raw: str) -> bool:
    """true or false"""
    value = raw.strip().lower()
    if value in ("true", "1", "yes"):
        return True
    if value in ("false", "0", "no"):
        return False
    raise ValueError


def _base_path(raw: str) -> str:
    """a path starting with '/', e.g. /challenge"""
    value = raw.strip()
    if not value.startswith("/") or any(c.isspace() or c in "?#" for c in value):
        raise ValueError
    # "/" means "no prefix"; "/challenge/" and "/challenge" mean the same prefix.
    return value.rstrip("/")


def _url(raw: str) -> str:
    """an http(s) URL, e.g. https://demo.accelbyte.io"""
    value = raw.strip().rstrip("/")
    if not value.startswith(("http://", "https://")) or len(value) <= len("https://"):
        raise ValueError
    return value


def _database_url(raw: str) -> str:
    """a PostgreSQL URL (postgresql://…) or libpq key=value string, or empty for the embedded server"""
    value = raw.strip()
    if not value:
        return value
    try:
        conninfo_to_dict(value)
    except psycopg.ProgrammingError:
        raise ValueError from None
    if "://" in value and not value.startswith(("postgresql://", "postgres://")):
        raise ValueError
    return value


def _text(raw: str) -> str:
    """a non-empty string"""
    if not raw.strip():
        raise ValueError
    return raw.strip()


def _any(raw: str) -> str:
    """any string"""
    return raw


# variable name → (field, parser). The parser's docstring is the "accepted values" in error messages.
Variables = dict[str, tuple[str, Callable[[str], object]]]

# Shown as *** in error messages.
_SECRETS = frozenset({"AB_CLIENT_SECRET", "DB_PASSWORD"})

_DATABASE_VARIABLES: Variables = {
    "DATABASE_URL": ("url", _database_url),
    "DB_POOL_SIZE": ("pool_size", _positive_int(1000)),
    # The Go suite's pool limit: the same meaning as DB_POOL_SIZE, which wins when both are set.
    "DB_MAX_OPEN_CONNS": ("max_open_conns", _positive_int(1000)),
}

# The Go suite's database location (variable → libpq keyword, parser), used when DATABASE_URL is unset.
_GO_DATABASE_VARIABLES: Variables = {
    "DB_HOST": ("host", _text),
    "DB_PORT": ("port", _port()),
    "DB_NAME": ("dbname", _text),
    "DB_USER": ("user", _text),
    "DB_PASSWORD": ("password", _any),
    "DB_SSLMODE": ("sslmode", _choice("disable", "allow", "prefer", "require", "verify-ca", "verify-full")),
}
# The Go suite's default database name. Its sslmode default was `disable`; libpq's `prefer` (used when
# DB_SSLMODE is unset) connects wherever `disable` did and encrypts where the server offers TLS.
GO_DEFAULT_DB_NAME = "challenge_service"

_VARIABLES: Variables = {
    "HTTP_PORT": ("http_port", _port()),
    "GRPC_PORT": ("grpc_port", _port()),
    "METRICS_PORT": ("metrics_port", _port(allow_zero=True)),
    "BASE_PATH": ("base_path", _base_path),
    "AB_NAMESPACE": ("namespace", _text),
    "PLUGIN_GRPC_SERVER_AUTH_ENABLED": ("auth_enabled", _bool),
    "REWARD_CLIENT_MODE": ("reward_client_mode", _choice("real", "mock")),
    "REWARD_ITEM_GRANT": ("reward_item_grant", _choice("fulfillment", "entitlement")),
    "AB_BASE_URL": ("ab_base_url", _url),
    "AB_CLIENT_ID": ("ab_client_id", _any),
    "AB_CLIENT_SECRET": ("ab_client_secret", _any),
    "REFRESH_INTERVAL": ("refresh_interval_s", _positive_int(86_400)),
    "CHALLENGE_CONFIG_PATH": ("challenge_config_path", _text),
    "EVENT_ACK_MODE": ("event_ack_mode", _choice("durable", "buffered")),
    "FLUSH_INTERVAL_MS": ("flush_interval_ms", _positive_int(60_000)),
    "FLUSH_BATCH_EVENTS": ("flush_batch_events", _positive_int(1_000_000)),
    "BUFFER_MAX_ENTRIES": ("buffer_max_entries", _positive_int(10_000_000)),
    "EVENT_DEDUP_HOURS": ("event_dedup_hours", _int_between(24, 24 * 365)),
    "RETENTION_DAYS": ("retention_days", _positive_int(3650)),
    "CATALOG_WATCH_S": ("catalog_watch_s", _int_between(0, 3600)),
    "HTTP_KEEPALIVE_S": ("http_keepalive_s", _positive_int(3600)),
    "LOG_LEVEL": ("log_level", _choice("debug", "info", "warning", "error")),
    "LOG_FORMAT": ("log_format", _choice("json", "console")),
}


def _parse(variable: str, raw: str, parser: Callable[[str], T]) -> T:
    try:
        return parser(raw)
    except ValueError:
        shown = "***" if variable in _SECRETS else redact(raw)
        raise SettingsError(f"{variable}={shown!r} is invalid: expected {parser.__doc__}") from None


def _read(environ: Mapping[str, str], variables: Variables) -> dict[str, object]:
    values: dict[str, object] = {}
    for variable, (field, parser) in variables.items():
        raw = environ.get(variable)
        if raw is None or (raw == "" and variable not in ("AB_CLIENT_ID", "AB_CLIENT_SECRET")):
            continue
        values[field] = _parse(variable, raw, parser)
    return values


def load_database_settings(environ: Mapping[str, str]) -> DatabaseSettings:
    """The database group alone, for commands that touch nothing else (`migrate`, `grants`)."""
    values = _read(environ, _DATABASE_VARIABLES)
    location = _read(environ, _GO_DATABASE_VARIABLES)
    given = [variable for variable, (key, _) in _GO_DATABASE_VARIABLES.items() if key in location]
    pool_size = cast(int, values.get("pool_size", values.get("max_open_conns", DEFAULT_POOL_SIZE)))
    url = cast(str, values.get("url", ""))
    if url:
        return DatabaseSettings(url=url, pool_size=pool_size, overridden=tuple(given))
    if given and "host" not in location:
        raise SettingsError(
            f"{given[0]} is set but DB_HOST is not: set DB_HOST (or DATABASE_URL) to use that server, "
            "or unset the DB_* variables to use the embedded one"
        )
    if given:
        url = make_conninfo("", **{"dbname": GO_DEFAULT_DB_NAME, **cast(dict[str, str | int], location)})
    return DatabaseSettings(url=url, pool_size=pool_size)


def load_settings(environ: Mapping[str, str]) -> Settings:
    """Every setting, for `serve`."""
    values = _read(environ, _VARIABLES)
    settings = Settings(database=load_database_settings(environ), **values)  # type: ignore[arg-type]
    _check_combinations(settings)
    return settings


def _check_combinations(settings: Settings) -> None:
    needs_ags = [
        reason
        for reason, on in (
            ("PLUGIN_GRPC_SERVER_AUTH_ENABLED=true", settings.auth_enabled),
            ("REWARD_CLIENT_MODE=real", settings.reward_client_mode == "real"),
        )
        if on
    ]
    when = " and ".join(needs_ags)
    if needs_ags and not settings.ab_base_url:
        raise SettingsError(f"AB_BASE_URL is required when {when}")
    # JWT mode needs them too: the service fetches IAM's keys and revocation list as an authenticated client.
    if needs_ags and not (settings.ab_client_id and settings.ab_client_secret):
        raise SettingsError(f"AB_CLIENT_ID and AB_CLIENT_SECRET are required when {when}")
    ports = {"HTTP_PORT": settings.http_port, "GRPC_PORT": settings.grpc_port}
    if settings.metrics_port:
        ports["METRICS_PORT"] = settings.metrics_port
    seen: dict[int, str] = {}
    for variable, port in ports.items():
        if port in seen:
            raise SettingsError(f"{variable}={port} is invalid: already used by {seen[port]}")
        seen[port] = variable
