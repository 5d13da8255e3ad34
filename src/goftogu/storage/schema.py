"""Applying and checking the Alembic migration history on a live engine."""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Serialises concurrent `goftogu migrate` runs against one PostgreSQL database.
_PG_MIGRATION_LOCK = 0x60F7060


class SchemaOutOfDate(RuntimeError):
    """The database is not at the revision this code needs."""


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str:
    """The head revisions of the history, joined with ``+`` when it has branches."""
    heads = sorted(ScriptDirectory.from_config(_config()).get_heads())
    assert heads, "the migration history is empty"
    return "+".join(heads)


def _current_revision(connection: Connection) -> str | None:
    heads = sorted(MigrationContext.configure(connection).get_current_heads())
    return "+".join(heads) or None


def _upgrade(connection: Connection) -> tuple[str | None, str]:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
    before = _current_revision(connection)
    config = _config()
    config.attributes["connection"] = connection
    command.upgrade(config, "heads")
    return before, _current_revision(connection) or "base"


async def upgrade_to_head(engine: AsyncEngine) -> tuple[str | None, str]:
    """Apply every pending migration; returns (revision before, revision after)."""
    async with engine.begin() as connection:
        before, after = await connection.run_sync(_upgrade)
    if before != after:
        log.info("database migrated", extra={"from_revision": before, "to_revision": after})
    return before, after


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as connection:
        return await connection.run_sync(_current_revision)


async def ensure_up_to_date(engine: AsyncEngine) -> None:
    """Raise ``SchemaOutOfDate`` with the fix when the database lags the code."""
    current, head = await current_revision(engine), head_revision()
    if current != head:
        raise SchemaOutOfDate(
            f"the database is at revision {current or 'none (empty database)'} but this "
            f"version of goftogu needs {head}: run `goftogu migrate` first"
        )
