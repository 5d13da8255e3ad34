"""One Alembic history that runs on SQLite and on PostgreSQL."""

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from goftogu.bootstrap import build_container
from goftogu.storage.database import Database
from goftogu.storage.schema import (
    SchemaOutOfDate,
    current_revision,
    ensure_up_to_date,
    head_revision,
    upgrade_to_head,
)
from tests.conftest import make_settings


async def test_the_test_database_is_at_the_head_revision(database: Database) -> None:
    assert await current_revision(database.engine) == head_revision()
    await ensure_up_to_date(database.engine)


async def test_migrating_twice_changes_nothing(database: Database) -> None:
    before, after = await upgrade_to_head(database.engine)
    assert before == after == head_revision()


async def test_an_empty_database_is_refused_with_the_command_that_fixes_it(
    tmp_path: Path,
) -> None:
    empty = Database(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    try:
        with pytest.raises(SchemaOutOfDate, match="goftogu migrate"):
            await ensure_up_to_date(empty.engine)
    finally:
        await empty.close()


async def test_the_gateway_refuses_an_unmigrated_database_unless_told_to_migrate(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    with pytest.raises(SchemaOutOfDate):
        await build_container(make_settings(url, tmp_path, auto_migrate=False))
    container = await build_container(make_settings(url, tmp_path, auto_migrate=True))
    try:
        assert await current_revision(container.database.engine) == head_revision()
    finally:
        await container.aclose()


async def test_sqlite_enforces_foreign_keys(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'fk.db'}")
    try:
        async with db.transaction() as session:
            result = await session.execute(text("PRAGMA foreign_keys"))
            assert result.scalar_one() == 1
    finally:
        await db.close()


def test_the_migration_history_is_one_line() -> None:
    assert "+" not in head_revision()


async def test_the_migrated_schema_matches_the_models(database: Database) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from goftogu.tables import metadata

    def differences(connection: Any) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))

    async with database.engine.connect() as connection:
        found = await connection.run_sync(differences)
    assert found == []
