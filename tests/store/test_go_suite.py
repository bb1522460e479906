"""Upgrading the Go Extend Challenge Suite's database in place, and refusing what is not one."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from challenge_service.store.migrations import (
    MigrationError,
    discover,
    migrate,
    migrations_dir,
    run_migrations,
)
from tests.helpers.go_suite import create_go_database, execute, fetch, snapshot

ALL = [m.name for m in discover(migrations_dir())]


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


async def test_the_upgrade_keeps_every_row_and_applies_every_migration(empty_database_url: str) -> None:
    url = empty_database_url
    await create_go_database(url)
    golang_migrate = await fetch(url, "SELECT version, dirty FROM schema_migrations")

    assert await migrate(url) == ALL

    rows = {
        (user, goal): rest
        for user, goal, *rest in await fetch(
            url,
            """SELECT user_id, goal_id, challenge_id, progress, baseline, status, is_active, assigned_at,
                      completed_at, claimed_at, expires_at, created_at, updated_at
               FROM user_goal_progress""",
        )
    }
    assert len(rows) == 17
    # Naive UTC timestamps stay the same instants, whatever the session's zone.
    assert rows[("go-completed", "complete-tutorial")] == [
        "winter-challenge-2025",
        1,
        0,
        "completed",
        True,
        utc(2025, 3, 11, 20),
        utc(2025, 3, 11, 23, 59, 59),
        None,
        None,
        utc(2025, 3, 11, 20),
        utc(2025, 3, 11, 23, 59, 59),
    ]
    assert rows[("go-claimed", "kill-10-snowmen")][2:9] == [
        0,
        "claimed",
        True,
        utc(2025, 3, 2, 10),
        utc(2025, 3, 10, 12),
        utc(2025, 3, 10, 12, 5, 30),
        None,
    ]
    # Progress stays what the Go suite showed; baseline 0 keeps it displayed for relative goals, and a
    # row without progress gets none, so it starts from its first event. baseline_value is not used.
    progress_baseline = {key: (row[1], row[2]) for key, row in rows.items()}
    assert progress_baseline[("go-relative", "daily-challenges-goal-01")] == (4, 0)
    assert progress_baseline[("go-relative", "weekly-challenges-goal-01")] == (4, 0)
    assert progress_baseline[("go-relative", "daily-login-rotation")] == (0, None)
    assert progress_baseline[("go-new", "complete-tutorial")] == (0, None)
    assert rows[("go-progress", "reach-level-5")][4] is False
    assert rows[("go-relative", "daily-challenges-goal-01")][8] == utc(2025, 3, 13)
    # golang-migrate's own table is left exactly as it was.
    assert await fetch(url, "SELECT version, dirty FROM schema_migrations") == golang_migrate
    recorded = await fetch(url, "SELECT name FROM challenge_schema_migrations ORDER BY version")
    assert [name for (name,) in recorded] == ALL


async def test_the_upgraded_schema_is_a_fresh_install(empty_database_url: str, database_url: str) -> None:
    await create_go_database(empty_database_url)
    await migrate(empty_database_url)

    def schema(snap: dict[str, object]) -> dict[str, list[tuple[object, ...]]]:
        # golang-migrate's table, which the upgrade leaves in place, is the one addition.
        return {
            key: [item for item in items if not str(item[0]).startswith("schema_migrations")]
            for key, items in snap.items()
            if key != "rows" and isinstance(items, list)
        }

    assert schema(await snapshot(empty_database_url)) == schema(await snapshot(database_url))


async def test_upgrading_twice_changes_nothing(empty_database_url: str) -> None:
    await create_go_database(empty_database_url)
    await migrate(empty_database_url)
    before = await snapshot(empty_database_url)
    assert await migrate(empty_database_url) == []
    assert await snapshot(empty_database_url) == before


async def test_replicas_starting_together_upgrade_once(empty_database_url: str) -> None:
    await create_go_database(empty_database_url)
    results = await asyncio.gather(*(migrate(empty_database_url) for _ in range(3)))
    assert sorted(results, key=len) == [[], [], ALL]
    assert await fetch(empty_database_url, "SELECT count(*) FROM user_goal_progress") == [(17,)]


async def test_a_dry_run_describes_the_upgrade_and_changes_nothing(empty_database_url: str) -> None:
    await create_go_database(empty_database_url)
    before = await snapshot(empty_database_url)
    result = await run_migrations(empty_database_url, dry_run=True)
    assert await snapshot(empty_database_url) == before
    text = "\n".join(result.dry_run)
    assert result.dry_run[0].startswith(
        "found the Go Extend Challenge Suite's database (golang-migrate version 2, 17 row(s)"
    )
    assert "would, in one transaction:" in text
    assert "baseline_value is not used (3 row(s) have one)" in text
    assert "golang-migrate's schema_migrations is left as it is" in text
    for name in ALL:
        assert f"apply {name}" in text
    assert result.applied == []


async def test_a_dry_run_of_an_up_to_date_database_says_so(database_url: str) -> None:
    result = await run_migrations(database_url, dry_run=True)
    assert result.dry_run == ["found this service's database; the schema is up to date"]


BAD_STATES = {
    "dirty": (
        "UPDATE schema_migrations SET dirty = true",
        "golang-migrate's schema_migrations says version 2 is dirty",
    ),
    "older version": (
        "UPDATE schema_migrations SET version = 1",
        "is at golang-migrate version 1; this service upgrades version 2 only",
    ),
    "newer version": (
        "UPDATE schema_migrations SET version = 3",
        "is at golang-migrate version 3; this service upgrades version 2 only",
    ),
    "no row": ("DELETE FROM schema_migrations", "holds 0 rows, not the one row (2, false)"),
    "two rows": (
        "INSERT INTO schema_migrations VALUES (1, false)",
        "holds 2 rows, not the one row (2, false)",
    ),
    "table missing": (
        "DROP TABLE user_goal_progress",
        "says version 2 but user_goal_progress is missing",
    ),
    "half-applied upgrade": (
        "ALTER TABLE user_goal_progress DROP COLUMN namespace, ADD COLUMN baseline bigint",
        "user_goal_progress is not the Go suite's version-2 table (missing namespace; unexpected baseline): "
        "a half-applied upgrade",
    ),
    "changed column": (
        "ALTER TABLE user_goal_progress ALTER COLUMN progress TYPE bigint",
        "(changed type of progress)",
    ),
    "unknown bookkeeping": (
        "DROP TABLE schema_migrations; CREATE TABLE schema_migrations (id int, ran_at timestamp)",
        "a table schema_migrations with columns (id, ran_at) that neither this service nor golang-migrate",
    ),
    "no bookkeeping": (
        "DROP TABLE schema_migrations",
        "user_goal_progress exists but no record of how it was made",
    ),
}


@pytest.mark.parametrize("state", list(BAD_STATES))
async def test_an_unrecognised_database_is_refused_with_one_line_and_left_alone(
    empty_database_url: str, state: str
) -> None:
    change, expected = BAD_STATES[state]
    await create_go_database(empty_database_url)
    await execute(empty_database_url, change)
    before = await snapshot(empty_database_url)
    for dry_run in (True, False):
        with pytest.raises(MigrationError) as refused:
            await run_migrations(empty_database_url, dry_run=dry_run)
        assert expected in str(refused.value)
        assert "\n" not in str(refused.value)
    assert await snapshot(empty_database_url) == before


async def test_rows_our_rules_cannot_carry_are_listed_and_nothing_changes(empty_database_url: str) -> None:
    url = empty_database_url
    await create_go_database(url)
    await execute(
        url,
        """UPDATE user_goal_progress SET progress = -1
               WHERE (user_id, goal_id) = ('go-new', 'complete-tutorial');
           INSERT INTO user_goal_progress (user_id, goal_id, challenge_id, namespace, status)
           VALUES ('go-odd', 'kill-10-snowmen', 'winter-challenge-2025', 'mygame', 'claimed');""",
    )
    before = await snapshot(url)
    with pytest.raises(MigrationError) as refused:
        await migrate(url)
    assert str(refused.value) == (
        "the Go suite's user_goal_progress has 2 row(s) this service cannot carry over — "
        "negative progress: (go-new, complete-tutorial); "
        "claimed without completed_at: (go-odd, kill-10-snowmen); "
        "correct or delete them in the Go database (user_id, goal_id) and start again. Nothing was changed"
    )
    assert await snapshot(url) == before


async def test_many_offending_rows_list_the_first_twenty_and_count_them_all(empty_database_url: str) -> None:
    await create_go_database(empty_database_url, players=False)
    await execute(
        empty_database_url,
        """INSERT INTO user_goal_progress (user_id, goal_id, challenge_id, namespace, progress)
           SELECT format('u%s', lpad(i::text, 3, '0')), 'kill-10-snowmen', 'winter-challenge-2025',
                  'mygame', -i
           FROM generate_series(1, 45) AS i""",
    )
    with pytest.raises(MigrationError) as refused:
        await migrate(empty_database_url)
    message = str(refused.value)
    assert "has 45 row(s) this service cannot carry over (the first 20)" in message
    assert message.count("kill-10-snowmen)") == 20
    assert "(u020, kill-10-snowmen)" in message and "(u021," not in message


async def test_a_failure_during_the_upgrade_rolls_all_of_it_back(empty_database_url: str) -> None:
    # A view a studio added on the Go table keeps it from being dropped halfway through the upgrade.
    await create_go_database(empty_database_url)
    await execute(empty_database_url, "CREATE VIEW claimed AS SELECT * FROM user_goal_progress")
    before = await snapshot(empty_database_url)
    with pytest.raises(MigrationError) as refused:
        await migrate(empty_database_url)
    assert str(refused.value).startswith(
        "could not set the Go suite's 17 row(s) aside in a temporary table and drop its user_goal_progress: "
        "cannot drop table user_goal_progress because other objects depend on it"
    )
    assert str(refused.value).endswith("; the whole upgrade was rolled back: nothing changed")
    assert await snapshot(empty_database_url) == before


async def test_a_go_service_still_holding_its_table_stops_the_upgrade(empty_database_url: str) -> None:
    await create_go_database(empty_database_url)
    async with await psycopg.AsyncConnection.connect(empty_database_url) as go_service:
        await go_service.execute("UPDATE user_goal_progress SET progress = progress WHERE user_id = 'go-new'")
        with pytest.raises(MigrationError, match=r"stop the Go suite's services before the upgrade"):
            await run_migrations(empty_database_url, lock_timeout_s=0.2)
        await go_service.rollback()
    assert await fetch(empty_database_url, "SELECT to_regclass('challenge_schema_migrations')") == [(None,)]


async def test_our_own_earlier_databases_move_their_records_to_the_new_name(empty_database_url: str) -> None:
    # What earlier versions of this service left: the same records in a table called schema_migrations.
    url = empty_database_url
    await migrate(url)
    await execute(
        url,
        """ALTER TABLE challenge_schema_migrations RENAME TO schema_migrations;
           ALTER TABLE schema_migrations RENAME CONSTRAINT challenge_schema_migrations_pkey
               TO schema_migrations_pkey;
           INSERT INTO user_goal_progress (user_id, goal_id, challenge_id) VALUES ('u', 'g', 'c');""",
    )
    result = await run_migrations(url)
    assert result.applied == []
    assert result.done == ["renamed the migration records schema_migrations to challenge_schema_migrations"]
    assert await fetch(url, "SELECT to_regclass('schema_migrations')") == [(None,)]
    assert len(await fetch(url, "SELECT * FROM challenge_schema_migrations")) == len(ALL)
    assert await fetch(url, "SELECT user_id FROM user_goal_progress") == [("u",)]
    assert await migrate(url) == []


async def test_both_record_tables_of_ours_are_refused(database_url: str) -> None:
    await execute(database_url, "CREATE TABLE schema_migrations AS SELECT * FROM challenge_schema_migrations")
    with pytest.raises(MigrationError, match=r"^both challenge_schema_migrations and schema_migrations"):
        await migrate(database_url)


async def test_a_later_migration_applies_to_an_upgraded_database(
    empty_database_url: str, tmp_path: Path
) -> None:
    for migration in discover(migrations_dir()):
        (tmp_path / migration.name).write_text(migration.sql)
    await create_go_database(empty_database_url)
    await migrate(empty_database_url, tmp_path)
    (tmp_path / "900_later.sql").write_text("ALTER TABLE user_goal_progress ADD COLUMN note text;")
    assert await migrate(empty_database_url, tmp_path) == ["900_later.sql"]
