from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from challenge_service.store.migrations import MigrationError, discover, migrate, migrations_dir


async def test_migrations_apply_in_order_and_are_recorded(empty_database_url: str) -> None:
    applied = await migrate(empty_database_url)
    assert applied == [m.name for m in discover(migrations_dir())]
    assert applied[:2] == ["001_user_goal_progress.sql", "002_reward_grants.sql"]
    async with await psycopg.AsyncConnection.connect(empty_database_url) as conn:
        cursor = await conn.execute("SELECT version, name FROM challenge_schema_migrations ORDER BY version")
        assert [name for _, name in await cursor.fetchall()] == applied


async def test_applying_twice_changes_nothing(empty_database_url: str) -> None:
    await migrate(empty_database_url)
    async with await psycopg.AsyncConnection.connect(empty_database_url, autocommit=True) as conn:
        await conn.execute(
            "INSERT INTO user_goal_progress (user_id, goal_id, challenge_id) VALUES ('u', 'g', 'c')"
        )
    assert await migrate(empty_database_url) == []
    async with await psycopg.AsyncConnection.connect(empty_database_url) as conn:
        cursor = await conn.execute("SELECT count(*) FROM user_goal_progress")
        assert await cursor.fetchone() == (1,)


async def test_an_edited_migration_is_refused(empty_database_url: str, tmp_path: Path) -> None:
    (tmp_path / "001_first.sql").write_text("CREATE TABLE first (id int);")
    await migrate(empty_database_url, tmp_path)
    (tmp_path / "001_first.sql").write_text("CREATE TABLE first (id bigint);")
    with pytest.raises(MigrationError, match="changed after it was applied"):
        await migrate(empty_database_url, tmp_path)


async def test_a_failing_migration_leaves_nothing_half_applied(
    empty_database_url: str, tmp_path: Path
) -> None:
    (tmp_path / "001_ok.sql").write_text("CREATE TABLE ok (id int);")
    (tmp_path / "002_broken.sql").write_text("CREATE TABLE half (id int); SELECT * FROM missing_table;")
    with pytest.raises(MigrationError, match=r"^could not apply 002_broken\.sql: relation \"missing_table\""):
        await migrate(empty_database_url, tmp_path)
    async with await psycopg.AsyncConnection.connect(empty_database_url) as conn:
        cursor = await conn.execute("SELECT to_regclass('ok') IS NOT NULL, to_regclass('half') IS NOT NULL")
        assert await cursor.fetchone() == (True, False)
        cursor = await conn.execute("SELECT name FROM challenge_schema_migrations")
        assert await cursor.fetchall() == [("001_ok.sql",)]


def test_misnamed_sql_files_are_rejected(tmp_path: Path) -> None:
    (tmp_path / "1_first.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match=r"NNN_description\.sql"):
        discover(tmp_path)


async def test_the_status_check_constraint_holds(database_url: str) -> None:
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.CheckViolation):
            await conn.execute(
                "INSERT INTO user_goal_progress (user_id, goal_id, challenge_id, status)"
                " VALUES ('u', 'g', 'c', 'done')"
            )


async def test_ids_longer_than_the_columns_are_refused(database_url: str) -> None:
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.StringDataRightTruncation):
            await conn.execute(
                "INSERT INTO user_goal_progress (user_id, goal_id, challenge_id) VALUES (%s, 'g', 'c')",
                ("u" * 101,),
            )
