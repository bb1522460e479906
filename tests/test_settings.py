from __future__ import annotations

import pytest
from psycopg.conninfo import conninfo_to_dict

from challenge_service.settings import (
    DatabaseSettings,
    Settings,
    SettingsError,
    load_database_settings,
    load_settings,
)

DEV = {"PLUGIN_GRPC_SERVER_AUTH_ENABLED": "false", "REWARD_CLIENT_MODE": "mock"}
AGS = {"AB_BASE_URL": "https://demo.accelbyte.io", "AB_CLIENT_ID": "id", "AB_CLIENT_SECRET": "s3cr3t"}


def test_defaults_follow_the_spec() -> None:
    settings = load_settings(AGS)
    assert (settings.http_port, settings.grpc_port, settings.metrics_port) == (8000, 6565, 8080)
    assert settings.base_path == "/challenge"
    assert settings.namespace == "accelbyte"
    assert settings.auth_enabled is True
    assert settings.reward_client_mode == "real"
    assert settings.challenge_config_path == "challenges.json"
    assert settings.event_ack_mode == "durable"
    assert settings.embedded_database is True
    assert (settings.log_level, settings.log_format) == ("info", "json")
    assert settings.retention_days == 7
    assert settings.refresh_interval_s == 600
    assert settings.database == DatabaseSettings(url="", pool_size=10)
    assert settings.http_keepalive_s == 75


def test_every_variable_is_read_from_the_environment() -> None:
    settings = load_settings(
        {
            **AGS,
            "HTTP_PORT": "9000",
            "GRPC_PORT": "9001",
            "METRICS_PORT": "0",
            "BASE_PATH": "/games/challenge/",
            "AB_NAMESPACE": "mygame",
            "PLUGIN_GRPC_SERVER_AUTH_ENABLED": "FALSE",
            "REWARD_CLIENT_MODE": "mock",
            "CHALLENGE_CONFIG_PATH": "/etc/challenges.json",
            "DATABASE_URL": "postgresql://u:p@db:5432/challenge",
            "EVENT_ACK_MODE": "buffered",
            "FLUSH_INTERVAL_MS": "50",
            "FLUSH_BATCH_EVENTS": "200",
            "BUFFER_MAX_ENTRIES": "1000",
            "DB_POOL_SIZE": "4",
            "REFRESH_INTERVAL": "60",
            "RETENTION_DAYS": "30",
            "LOG_LEVEL": "debug",
            "LOG_FORMAT": "console",
            "HTTP_KEEPALIVE_S": "120",
        }
    )
    assert settings == Settings(
        http_port=9000,
        grpc_port=9001,
        metrics_port=0,
        base_path="/games/challenge",
        namespace="mygame",
        auth_enabled=False,
        reward_client_mode="mock",
        ab_base_url="https://demo.accelbyte.io",
        ab_client_id="id",
        ab_client_secret="s3cr3t",
        refresh_interval_s=60,
        challenge_config_path="/etc/challenges.json",
        database=DatabaseSettings(url="postgresql://u:p@db:5432/challenge", pool_size=4),
        event_ack_mode="buffered",
        flush_interval_ms=50,
        flush_batch_events=200,
        buffer_max_entries=1000,
        retention_days=30,
        log_level="debug",
        log_format="console",
        http_keepalive_s=120,
    )


def test_root_base_path_means_no_prefix() -> None:
    assert load_settings({**DEV, "BASE_PATH": "/"}).base_path == ""


@pytest.mark.parametrize(
    ("variable", "value", "accepted"),
    [
        ("HTTP_PORT", "http", "an integer port 1..65535"),
        ("HTTP_PORT", "0", "an integer port 1..65535"),
        ("GRPC_PORT", "70000", "an integer port 1..65535"),
        ("METRICS_PORT", "-1", "an integer port 0..65535"),
        ("BASE_PATH", "challenge", "a path starting with '/'"),
        ("BASE_PATH", "/a b", "a path starting with '/'"),
        ("AB_NAMESPACE", " ", "a non-empty string"),
        ("PLUGIN_GRPC_SERVER_AUTH_ENABLED", "maybe", "true or false"),
        ("REWARD_CLIENT_MODE", "fake", "real or mock"),
        ("AB_BASE_URL", "demo.accelbyte.io", "an http(s) URL"),
        ("CHALLENGE_CONFIG_PATH", "  ", "a non-empty string"),
        ("DATABASE_URL", "mysql://x", "a PostgreSQL URL"),
        ("EVENT_ACK_MODE", "sometimes", "durable or buffered"),
        ("FLUSH_INTERVAL_MS", "0", "an integer 1..60000"),
        ("FLUSH_INTERVAL_MS", "fast", "an integer 1..60000"),
        ("FLUSH_BATCH_EVENTS", "0", "an integer 1..1000000"),
        ("BUFFER_MAX_ENTRIES", "-5", "an integer 1..10000000"),
        ("DB_POOL_SIZE", "0", "an integer 1..1000"),
        ("REFRESH_INTERVAL", "0", "an integer 1..86400"),
        ("REFRESH_INTERVAL", "10m", "an integer 1..86400"),
        ("RETENTION_DAYS", "0", "an integer 1..3650"),
        ("RETENTION_DAYS", "3651", "an integer 1..3650"),
        ("LOG_LEVEL", "verbose", "debug or info or warning or error"),
        ("LOG_FORMAT", "xml", "json or console"),
        ("HTTP_KEEPALIVE_S", "0", "an integer 1..3600"),
        ("HTTP_KEEPALIVE_S", "75s", "an integer 1..3600"),
        ("DB_PORT", "postgres", "an integer port 1..65535"),
        ("DB_SSLMODE", "on", "disable or allow or prefer or require or verify-ca or verify-full"),
        ("DB_MAX_OPEN_CONNS", "0", "an integer 1..1000"),
    ],
)
def test_a_bad_value_names_the_variable_and_what_it_accepts(variable: str, value: str, accepted: str) -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings({**DEV, variable: value})
    message = str(raised.value)
    assert message.startswith(f"{variable}={value!r} is invalid: expected ")
    assert accepted in message
    assert "\n" not in message


def test_auth_needs_the_ags_base_url() -> None:
    with pytest.raises(SettingsError, match=r"^AB_BASE_URL is required when PLUGIN_GRPC_SERVER_AUTH_ENABLED"):
        load_settings({"REWARD_CLIENT_MODE": "mock"})


def test_real_rewards_need_client_credentials() -> None:
    with pytest.raises(SettingsError, match=r"^AB_CLIENT_ID and AB_CLIENT_SECRET are required"):
        load_settings({"PLUGIN_GRPC_SERVER_AUTH_ENABLED": "false", "AB_BASE_URL": "http://ags.local"})


def test_jwt_mode_needs_client_credentials_for_the_keys_and_revocation_list() -> None:
    with pytest.raises(
        SettingsError,
        match=r"^AB_CLIENT_ID and AB_CLIENT_SECRET are required when PLUGIN_GRPC_SERVER_AUTH_ENABLED=true$",
    ):
        load_settings({"REWARD_CLIENT_MODE": "mock", "AB_BASE_URL": "http://ags.local", "AB_CLIENT_ID": "id"})


def test_the_database_group_reads_only_its_own_variables() -> None:
    environ = {
        "DATABASE_URL": "postgresql://db/challenge",
        "DB_POOL_SIZE": "3",
        # What `serve` would refuse: auth on without AGS, a bad port. A database command does not care.
        "PLUGIN_GRPC_SERVER_AUTH_ENABLED": "true",
        "HTTP_PORT": "eighty",
    }
    assert load_database_settings(environ) == DatabaseSettings(url="postgresql://db/challenge", pool_size=3)
    assert load_database_settings({}).embedded


@pytest.mark.parametrize(("variable", "value"), [("DATABASE_URL", "mysql://x"), ("DB_POOL_SIZE", "none")])
def test_the_database_group_still_validates_its_variables(variable: str, value: str) -> None:
    with pytest.raises(SettingsError, match=rf"^{variable}={value!r} is invalid"):
        load_database_settings({variable: value})


def test_ports_must_differ() -> None:
    with pytest.raises(SettingsError, match=r"^GRPC_PORT=8000 is invalid: already used by HTTP_PORT"):
        load_settings({**DEV, "GRPC_PORT": "8000"})


def test_the_secret_never_appears_in_repr() -> None:
    settings = load_settings({**DEV, **AGS})
    assert "s3cr3t" not in repr(settings)
    assert "ab_client_secret='***'" in repr(settings)


GO_DATABASE = {
    "DB_HOST": "db.internal",
    "DB_PORT": "6432",
    "DB_NAME": "challenges",
    "DB_USER": "challenge",
    "DB_PASSWORD": "pa ss'word",
    "DB_SSLMODE": "require",
}


def test_the_go_suites_database_variables_locate_the_database() -> None:
    database = load_database_settings(GO_DATABASE)
    assert conninfo_to_dict(database.url) == {
        "host": "db.internal",
        "port": "6432",
        "dbname": "challenges",
        "user": "challenge",
        "password": "pa ss'word",
        "sslmode": "require",
    }
    assert not database.embedded and database.overridden == ()
    assert load_settings({**DEV, **GO_DATABASE}).database == database


def test_unset_go_variables_take_the_go_suites_defaults_or_libpqs() -> None:
    database = load_database_settings({"DB_HOST": "localhost"})
    # The Go suite's database name; port 5432 and sslmode prefer are libpq's own defaults.
    assert conninfo_to_dict(database.url) == {"host": "localhost", "dbname": "challenge_service"}


def test_database_url_wins_over_the_go_variables_and_says_so() -> None:
    database = load_database_settings({**GO_DATABASE, "DATABASE_URL": "postgresql://db/challenge"})
    assert database.url == "postgresql://db/challenge"
    assert database.overridden == ("DB_HOST", "DB_PORT", "DB_NAME", "DB_USER", "DB_PASSWORD", "DB_SSLMODE")
    assert database.override_note == (
        "DATABASE_URL is set, so DB_HOST, DB_PORT, DB_NAME, DB_USER, DB_PASSWORD, DB_SSLMODE "
        "(the Go suite's variables) are ignored"
    )
    assert load_database_settings({"DATABASE_URL": "postgresql://db/challenge"}).override_note == ""


@pytest.mark.parametrize("variable", ["DB_NAME", "DB_USER", "DB_PASSWORD", "DB_PORT", "DB_SSLMODE"])
def test_go_variables_without_a_host_are_refused_rather_than_using_the_embedded_server(variable: str) -> None:
    # The Go suite defaulted DB_HOST to localhost; silently starting an empty embedded server instead
    # would look like every player lost their progress.
    value = {"DB_PORT": "5432", "DB_SSLMODE": "disable"}.get(variable, "x")
    with pytest.raises(SettingsError) as refused:
        load_database_settings({variable: value})
    assert str(refused.value) == (
        f"{variable} is set but DB_HOST is not: set DB_HOST (or DATABASE_URL) to use that server, "
        "or unset the DB_* variables to use the embedded one"
    )


def test_the_go_pool_limit_sizes_the_pool_unless_db_pool_size_does() -> None:
    assert load_database_settings({"DB_MAX_OPEN_CONNS": "25"}).pool_size == 25
    assert load_database_settings({"DB_MAX_OPEN_CONNS": "25", "DB_POOL_SIZE": "8"}).pool_size == 8


@pytest.mark.parametrize(
    "environ",
    [GO_DATABASE, {"DATABASE_URL": "postgresql://challenge:pa%20ss@db/challenge"}, {**DEV, **GO_DATABASE}],
)
def test_database_passwords_never_appear_in_repr(environ: dict[str, str]) -> None:
    shown = repr(load_database_settings(environ)) + repr(load_settings({**DEV, **environ}))
    assert "pa ss" not in shown and "pa%20ss" not in shown
    assert "***" in shown


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("mysql://challenge:hunter2@db/challenge", "mysql://challenge:***@db/challenge"),
        ("host=db password=hunter2 sslmode", "host=db password=*** sslmode"),
    ],
)
def test_a_bad_database_url_is_shown_without_its_password(url: str, shown: str) -> None:
    with pytest.raises(SettingsError) as refused:
        load_database_settings({"DATABASE_URL": url})
    assert str(refused.value).startswith(f"DATABASE_URL={shown!r} is invalid")
    assert "hunter2" not in str(refused.value)
