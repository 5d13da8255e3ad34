"""Support chat stores on every backend, and documents to put in them."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from goftogu.ids import new_id
from goftogu.storage.database import Database
from goftogu.support.documents import (
    Customer,
    Message,
    Sender,
    SenderKind,
    SupportChat,
    message_key,
    now,
)
from goftogu.support.store import ChatStore
from tests.conftest import run_blocking, truncate_all

STORE_BACKENDS = [
    pytest.param("mongodb", marks=pytest.mark.mongodb),
    pytest.param("sqlite", marks=pytest.mark.sqlite),
    pytest.param("postgres", marks=pytest.mark.postgres),
]


def relational_url(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> str:
    """A clean migrated database of ``backend`` (sqlite or postgres) for one test."""
    if backend == "sqlite":
        path = tmp_path / "goftogu.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite+aiosqlite:///{path}"
    url: str = request.getfixturevalue("postgres_url")
    run_blocking(truncate_all(url))
    return url


async def open_chat_store(
    request: pytest.FixtureRequest, backend: str, tmp_path: Path
) -> AsyncIterator[ChatStore]:
    if backend == "mongodb":
        from pymongo import AsyncMongoClient

        from goftogu.support.store_mongo import MongoChatStore

        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
            request.getfixturevalue("mongodb_url"), tz_aware=True
        )
        store: ChatStore = MongoChatStore(client)
        await store.prepare()
        yield store
        await client.close()
        return
    from goftogu.support.store_sql import SqlChatStore

    database = Database(relational_url(request, backend, tmp_path))
    yield SqlChatStore(database)
    await database.close()


def customer_message(customer_id: str, body: str = "Hello?", client_id: str = "c1") -> Message:
    return Message(
        id=str(new_id()),
        client_id=client_id,
        sender=Sender(kind=SenderKind.customer, id=customer_id),
        body=body,
        created_at=now(),
    )


def operator_message(
    operator_id: str, body: str = "How can I help?", client_id: str = "o1"
) -> Message:
    return Message(
        id=str(new_id()),
        client_id=client_id,
        sender=Sender(kind=SenderKind.operator, id=operator_id),
        body=body,
        created_at=now(),
    )


def new_chat(
    customer_id: str | None = None, body: str = "Hello?", client_id: str = "c1"
) -> SupportChat:
    customer_id = customer_id or str(new_id())
    first = customer_message(customer_id, body, client_id)
    at = now()
    return SupportChat(
        id=str(new_id()),
        customer=Customer(id=customer_id, name="Sara", email="sara@example.com"),
        messages=[first],
        created_at=at,
        updated_at=at,
        intake_key=message_key(customer_id, client_id),
    )
