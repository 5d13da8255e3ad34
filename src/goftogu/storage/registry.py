"""Every table of every domain, gathered on one metadata for Alembic and tests.

Domain packages define their tables on ``Base``; importing them here registers
them. Add a domain's ``tables`` module to this list when it gains tables.
"""

from __future__ import annotations

from goftogu.storage.models import Base

metadata = Base.metadata
