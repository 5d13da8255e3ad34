"""Reading which constraint a failed write violated, on SQLite and PostgreSQL.

Services check their rules first and answer with a clear code; the database
constraint is the last line. When two requests race past the check, the
loser's IntegrityError is translated here into the same code.
"""

from __future__ import annotations

import re

from sqlalchemy.exc import IntegrityError

# SQLite names the columns, not the constraint: "UNIQUE constraint failed: users.username_key"
_SQLITE_UNIQUE = re.compile(r"UNIQUE constraint failed: ([\w.,\s]+)")
_SQLITE_CHECK = re.compile(r"CHECK constraint failed: (\w+)")


def violated_constraint(error: IntegrityError) -> str | None:
    """The violated constraint's name (PostgreSQL), or for SQLite the
    ``table.column[, table.column]`` list of a unique failure or the check's name."""
    original = getattr(error.orig, "__cause__", None) or error.orig
    name = getattr(original, "constraint_name", None)
    if isinstance(name, str):
        return name
    text = str(error.orig)
    if match := _SQLITE_UNIQUE.search(text):
        return match.group(1).strip()
    if match := _SQLITE_CHECK.search(text):
        return match.group(1)
    return None


def is_unique_violation(error: IntegrityError, *, constraint: str, columns: str) -> bool:
    """Whether ``error`` broke the unique ``constraint`` (PostgreSQL name) whose SQLite
    message lists ``columns`` (``"table.column, table.column"``)."""
    return violated_constraint(error) in {constraint, columns}
