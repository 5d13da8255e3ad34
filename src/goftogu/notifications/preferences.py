"""Per-user notification preferences: email on/off, push on/off, language."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from goftogu.identity.tokens import Principal
from goftogu.notifications.models import NotificationSettings
from goftogu.notifications.schemas import NotificationSettingsUpdate
from goftogu.storage.database import Database


@dataclass(frozen=True)
class Preferences:
    email: bool = True
    push: bool = True
    language: str | None = None


DEFAULT_PREFERENCES = Preferences()


def _of(row: NotificationSettings | None) -> Preferences:
    if row is None:
        return DEFAULT_PREFERENCES
    return Preferences(email=row.email_enabled, push=row.push_enabled, language=row.language)


async def preferences_of(
    session: AsyncSession, user_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, Preferences]:
    """The preferences of each of ``user_ids`` (defaults for those without a row)."""
    rows = await session.scalars(
        select(NotificationSettings).where(NotificationSettings.user_id.in_(list(user_ids)))
    )
    found = {row.user_id: _of(row) for row in rows}
    return {user_id: found.get(user_id, DEFAULT_PREFERENCES) for user_id in user_ids}


class NotificationPreferences:
    """The caller's own notification settings."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def get_for(self, principal: Principal) -> Preferences:
        async with self._db.sessions() as session:
            return (await preferences_of(session, [principal.user_id]))[principal.user_id]

    async def update_for(
        self, principal: Principal, changes: NotificationSettingsUpdate
    ) -> Preferences:
        """Change the fields given; the others keep their value."""
        try:
            return await self._update(principal, changes)
        except IntegrityError:
            # Two first-time updates raced to create the row: the loser updates it.
            return await self._update(principal, changes)

    async def _update(
        self, principal: Principal, changes: NotificationSettingsUpdate
    ) -> Preferences:
        async with self._db.transaction() as session:
            row = await session.scalar(
                select(NotificationSettings)
                .where(NotificationSettings.user_id == principal.user_id)
                .with_for_update()
            )
            if row is None:
                row = NotificationSettings(user_id=principal.user_id)
                session.add(row)
            given = changes.model_fields_set
            if "email" in given and changes.email is not None:
                row.email_enabled = changes.email
            if "push" in given and changes.push is not None:
                row.push_enabled = changes.push
            if "language" in given:
                row.language = changes.language
            await session.flush()
            return _of(row)
