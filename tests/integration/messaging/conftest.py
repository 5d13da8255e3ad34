"""Messaging services on the test database, called directly (no HTTP)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from goftogu.identity.models import Role, User
from goftogu.identity.tokens import Principal
from goftogu.ids import new_id
from goftogu.messaging.access import Access
from goftogu.messaging.service import Messaging, build_messaging
from goftogu.storage.database import Database
from tests.conftest import make_settings
from tests.helpers.broadcast import RecordingBroadcaster, units_of_work

NewUser = Callable[[], Awaitable[Principal]]


@pytest.fixture
def broadcasts() -> RecordingBroadcaster:
    return RecordingBroadcaster()


@pytest.fixture
def messaging(
    database: Database, database_url: str, broadcasts: RecordingBroadcaster, tmp_path: Path
) -> Messaging:
    settings = make_settings(database_url, tmp_path, max_message_length=100)
    return build_messaging(units_of_work(database, broadcasts), Access(database), settings)


@pytest.fixture
def new_user(database: Database) -> NewUser:
    """Makes a registered customer and returns them as a signed-in principal."""

    async def make() -> Principal:
        user_id = new_id()
        name = f"u{user_id.hex[-12:]}"
        async with database.transaction() as session:
            session.add(User(id=user_id, username=name, username_key=name, password_hash="unused"))
        return Principal(user_id=user_id, role=Role.customer, session_id=new_id())

    return make
