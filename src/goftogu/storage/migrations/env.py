"""Alembic environment: one migration history for SQLite and PostgreSQL.

Migrations always run on a connection handed over by ``goftogu.storage.schema``
(``config.attributes["connection"]``), so they work inside a running event
loop and share the caller's transaction and advisory lock.
"""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext

from goftogu.storage.models import UTCDateTime
from goftogu.tables import metadata


def render_item(kind: str, item: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Drafts name plain SQLAlchemy types: migrations must not depend on our Python types."""
    if kind == "type" and isinstance(item, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `goftogu migrate` (goftogu.storage.schema)")

context.configure(
    connection=connection,
    target_metadata=metadata,
    # SQLite cannot ALTER most things in place: batch mode copies the table.
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
    render_item=render_item,
)
with context.begin_transaction():
    context.run_migrations()
