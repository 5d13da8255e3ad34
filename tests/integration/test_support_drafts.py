"""Typing preview on every chat store: the assigned operator sees the customer's
draft, throttled, only where the team opted in; nothing is stored."""

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from goftogu.errors import NotFound, PayloadTooLarge
from goftogu.identity.models import Role
from goftogu.identity.tokens import Principal
from goftogu.ids import new_id
from goftogu.support.documents import Decision, RoutingEntry, now
from goftogu.support.drafts import DraftPreviews
from goftogu.support.store import ChatStore
from tests.helpers.broadcast import RecordingBroadcaster, announcements
from tests.helpers.chats import STORE_BACKENDS, new_chat, open_chat_store
from tests.helpers.waiting import eventually

BILLING, SALES = str(new_id()), str(new_id())  # teams (ids, as the store keeps them)


class Teams:
    def __init__(self, previewing: set[str]) -> None:
        self.previewing = previewing

    async def teams_of(self, user_id: str) -> frozenset[str]:
        return frozenset()

    async def team_exists(self, team_id: str) -> bool:
        return True

    async def typing_preview(self, team_id: str | None) -> bool:
        return team_id in self.previewing


@pytest.fixture(params=STORE_BACKENDS)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ChatStore]:
    async for opened in open_chat_store(request, request.param, tmp_path):
        yield opened


def customer(user_id: str) -> Principal:
    return Principal(user_id=uuid.UUID(user_id), role=Role.customer, session_id=uuid.uuid4())


async def open_chat(store: ChatStore, team_id: str | None) -> tuple[str, str, str]:
    """(chat id, its customer, its operator) of an OPEN conversation of ``team_id``."""
    chat = new_chat().model_copy(update={"team_id": team_id})
    await store.create(chat)
    operator = str(new_id())
    assigned = await store.assign(
        chat.id, operator, RoutingEntry(at=now(), decision=Decision.assigned)
    )
    assert assigned is not None
    return chat.id, chat.customer.id, operator


def previews(store: ChatStore, told: RecordingBroadcaster, interval: float = 0.2) -> DraftPreviews:
    return DraftPreviews(
        store, Teams({BILLING}), announcements(told), interval=interval, max_length=100
    )


async def test_the_operator_sees_the_draft_and_nothing_is_stored(store: ChatStore) -> None:
    told = RecordingBroadcaster()
    drafts = previews(store, told)
    chat_id, customer_id, operator = await open_chat(store, BILLING)
    before = await store.get(chat_id)
    assert await drafts.draft(customer(customer_id), chat_id, "My order numb")
    [shown] = told.to(f"operator:{operator}", "support:draft")
    assert (shown["chat_id"], shown["text"]) == (chat_id, "My order numb")
    assert told.events(room=f"support:{chat_id}") == []  # not the customer's room
    assert await store.get(chat_id) == before
    await drafts.aclose()


async def test_drafts_are_throttled_and_the_latest_always_arrives(store: ChatStore) -> None:
    told = RecordingBroadcaster()
    drafts = previews(store, told, interval=0.3)
    chat_id, customer_id, operator = await open_chat(store, BILLING)
    for text in ("H", "He", "Hel", "Hell", "Hello"):
        assert await drafts.draft(customer(customer_id), chat_id, text)

    async def both() -> list[str] | None:
        texts = [d["text"] for d in told.to(f"operator:{operator}", "support:draft")]
        return texts if len(texts) == 2 else None

    assert await eventually(both, what="the trailing draft") == ["H", "Hello"]
    await drafts.aclose()


async def test_no_preview_unless_the_team_opted_in_and_the_chat_is_live(
    store: ChatStore,
) -> None:
    told = RecordingBroadcaster()
    drafts = previews(store, told)
    chat_id, customer_id, _ = await open_chat(store, SALES)
    assert not await drafts.draft(customer(customer_id), chat_id, "secret")
    no_team, no_team_customer, _ = await open_chat(store, None)
    assert not await drafts.draft(customer(no_team_customer), no_team, "secret")
    waiting = new_chat().model_copy(update={"team_id": BILLING})
    await store.create(waiting)
    assert not await drafts.draft(customer(waiting.customer.id), waiting.id, "secret")
    assert told.emitted == []
    await drafts.aclose()


async def test_only_the_conversations_customer_drafts_and_within_the_limit(
    store: ChatStore,
) -> None:
    told = RecordingBroadcaster()
    drafts = previews(store, told)
    chat_id, customer_id, _ = await open_chat(store, BILLING)
    with pytest.raises(NotFound):
        await drafts.draft(customer(str(new_id())), chat_id, "not mine")
    with pytest.raises(NotFound):
        await drafts.draft(customer(customer_id), str(new_id()), "no chat")
    with pytest.raises(PayloadTooLarge):
        await drafts.draft(customer(customer_id), chat_id, "x" * 101)
    assert told.emitted == []
    await drafts.aclose()
