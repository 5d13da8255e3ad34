"""Sends of the same moment are stored in one transaction (group commit), and none
is lost, doubled, reordered or poisoned by another; past its bounds the send path
refuses at once with ``overloaded``, and a refused send is never stored."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text

from goftogu.broadcast import clients_are_told
from goftogu.bus import Handlers
from goftogu.errors import (
    Conflict,
    DomainError,
    NotAMember,
    NotFound,
    Overloaded,
    ParentNotInConversation,
)
from goftogu.gateway import create_gateway
from goftogu.identity.tokens import Principal
from goftogu.ids import new_id
from goftogu.messaging.access import Access
from goftogu.messaging.common import MessagesStored, MessageStored
from goftogu.messaging.models import ConversationEvent, ConversationSettings, Message, MessageRead
from goftogu.messaging.notices import notify_recipients, notify_recipients_of_batch
from goftogu.messaging.schemas import CreateGroup, MessagePublic, SendMessage
from goftogu.messaging.service import Messaging, build_messaging
from goftogu.queueing.outbox import OutboxMessage
from goftogu.queueing.relay import OutboxWritten
from goftogu.realtime.protocol import failed
from goftogu.storage.database import Database
from goftogu.storage.models import utcnow
from goftogu.storage.work import UnitsOfWork
from tests.conftest import make_settings
from tests.helpers.api import API, sign_up
from tests.helpers.broadcast import RecordingBroadcaster
from tests.helpers.messaging import create_group
from tests.helpers.waiting import eventually
from tests.integration.messaging.conftest import NewUser

Outcome = tuple[MessagePublic, bool] | BaseException


def messaging_with(
    database: Database, database_url: str, tmp_path: Path, told: RecordingBroadcaster, **admit: Any
) -> Messaging:
    """Messaging whose stored messages also queue their notifier jobs (as in bootstrap)."""
    access = Access(database)

    async def wake(_event: OutboxWritten) -> None:
        return None

    bus = (
        clients_are_told(Handlers(), told)
        .after_commit(OutboxWritten, wake)
        .before_commit(MessageStored, notify_recipients(access))
        .before_commit(MessagesStored, notify_recipients_of_batch())
        .build()
    )
    settings = make_settings(database_url, tmp_path, **admit)
    return build_messaging(UnitsOfWork(database, bus), access, settings)


@pytest.fixture
def told() -> RecordingBroadcaster:
    return RecordingBroadcaster()


@pytest.fixture
def batching(
    database: Database, database_url: str, tmp_path: Path, told: RecordingBroadcaster
) -> Messaging:
    return messaging_with(database, database_url, tmp_path, told)


async def group_of(messaging: Messaging, owner: Principal, *members: Principal) -> str:
    group = await messaging.groups.create_group(
        owner, CreateGroup(title="g", member_ids=[m.user_id for m in members])
    )
    return group.conversation


def send(
    messaging: Messaging, who: Principal, address: str, content: str, **extra: Any
) -> asyncio.Future[tuple[MessagePublic, bool]]:
    """A send started now (queued at once, in the order of the calls)."""
    body = SendMessage(client_id=extra.pop("client_id", uuid.uuid4().hex), content=content, **extra)
    return asyncio.ensure_future(messaging.messages.send_message(who, address, body))


async def settle(*sends: asyncio.Future[tuple[MessagePublic, bool]]) -> list[Outcome]:
    return list(await asyncio.gather(*sends, return_exceptions=True))


async def count(database: Database, model: Any, *where: Any) -> int:
    async with database.reading() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def test_concurrent_sends_are_all_stored_once_in_the_order_they_came(
    batching: Messaging, new_user: NewUser, database: Database, told: RecordingBroadcaster
) -> None:
    a, b, c = await new_user(), await new_user(), await new_user()
    group = await group_of(batching, a, b, c)
    other = await group_of(batching, b, a)
    told.clear()
    people = [a, b, c]
    sends = [send(batching, people[n % 3], group, f"m{n}") for n in range(30)]
    sends += [send(batching, a, other, f"o{n}") for n in range(5)]
    outcomes = await settle(*sends)

    assert all(isinstance(o, tuple) and o[1] for o in outcomes)
    stored = [o[0] for o in outcomes if isinstance(o, tuple)]
    assert [m.seq for m in stored[:30]] == list(range(1, 31))  # arrival order, gap-free
    assert [m.content for m in stored[:30]] == [f"m{n}" for n in range(30)]
    assert [m.seq for m in stored[30:]] == [1, 2, 3, 4, 5]  # each conversation counts alone
    assert await count(database, Message) == 35
    # The event rows are what was broadcast, in seq order.
    live = [e.data for e in told.events("message:new", room=group)]
    replayed = [e.payload for e in await batching.events.events_after(a, group, 0)]
    assert live == replayed
    assert [p["message"]["content"] for p in live] == [f"m{n}" for n in range(30)]
    assert await count(database, ConversationEvent) == 35
    # One notifier job per message, for the other members.
    async with database.reading() as session:
        jobs = list(await session.scalars(select(OutboxMessage)))
    assert len(jobs) == 35
    first = next(j.payload for j in jobs if j.payload["message_id"] == str(stored[0].id))
    assert sorted(first["recipient_ids"]) == sorted(str(p.user_id) for p in (b, c))
    assert first["conversation_title"] == "g"


async def test_each_sender_has_read_up_to_their_own_message_and_receipts_for_the_rest(
    batching: Messaging, new_user: NewUser, database: Database
) -> None:
    a, b = await new_user(), await new_user()
    group = await group_of(batching, a, b)
    await settle(send(batching, a, group, "first"))  # before the batch
    await settle(*(send(batching, b if n % 2 else a, group, f"m{n}") for n in range(6)))
    # seqs 1..7: a sent 1, 2, 4, 6; b sent 3, 5, 7.
    for who, (seq, read) in ((a, (6, 6)), (b, (7, 7))):
        async with database.reading() as session:
            row = (
                await session.execute(
                    select(ConversationSettings.last_read_seq, ConversationSettings.read_count)
                    .where(ConversationSettings.user_id == who.user_id)
                    .where(ConversationSettings.group_id == uuid.UUID(group.split(":")[1]))
                )
            ).one()
        assert tuple(row) == (seq, read)
    async with database.reading() as session:
        receipts = (
            await session.execute(
                select(MessageRead.user_id, Message.seq)
                .join(Message, Message.id == MessageRead.message_id)
                .order_by(MessageRead.user_id, Message.seq)
            )
        ).all()
    by_user = {who: [seq for user, seq in receipts if user == who.user_id] for who in (a, b)}
    assert by_user[a] == [3, 5]  # the messages of b its own passed
    assert by_user[b] == [1, 2, 4, 6]
    page = await batching.conversations.list_for(a)
    assert [c.unread_count for c in page.items if c.conversation == group] == [1]


async def test_a_client_id_sent_twice_in_a_batch_or_again_later_is_stored_once(
    batching: Messaging, new_user: NewUser, database: Database
) -> None:
    a, b = await new_user(), await new_user()
    group = await group_of(batching, a, b)
    elsewhere = await group_of(batching, a, b)
    outcomes = await settle(
        send(batching, a, group, "once", client_id="same"),
        send(batching, b, group, "b's own", client_id="same"),  # another sender's id
        send(batching, a, group, "once", client_id="same"),
        send(batching, a, elsewhere, "once", client_id="same"),
    )
    first, of_b, again, moved = outcomes
    assert isinstance(first, tuple)
    assert isinstance(again, tuple)
    assert isinstance(of_b, tuple)
    assert first[1] is True
    assert again == (first[0], False)
    assert of_b[1] is True
    assert of_b[0].id != first[0].id
    assert isinstance(moved, Conflict)  # the id was used in another conversation
    [retried] = await settle(send(batching, a, group, "once", client_id="same"))
    assert retried == (first[0], False)
    assert await count(database, Message) == 2
    assert [e.seq for e in await batching.events.events_after(a, group, 0)] == [1, 2]


async def test_a_refused_send_does_not_fail_the_others_of_its_batch_nor_take_a_seq(
    batching: Messaging, new_user: NewUser, database: Database
) -> None:
    a, b, stranger = await new_user(), await new_user(), await new_user()
    group = await group_of(batching, a, b)
    chat_elsewhere = await group_of(batching, stranger)
    [(parent_elsewhere, _)] = [
        o
        for o in await settle(send(batching, stranger, chat_elsewhere, "p"))
        if isinstance(o, tuple)
    ]
    outcomes = await settle(
        send(batching, a, group, "one"),
        send(batching, stranger, group, "not a member"),
        send(batching, a, f"group:{new_id()}", "nowhere"),
        send(batching, b, group, "bad reply", parent_message_id=parent_elsewhere.id),
        send(batching, b, group, "two"),
    )
    kinds = [type(o) if isinstance(o, DomainError) else "ok" for o in outcomes]
    assert kinds == ["ok", NotAMember, NotFound, ParentNotInConversation, "ok"]
    stored = [o[0] for o in outcomes if isinstance(o, tuple)]
    assert [(m.content, m.seq) for m in stored] == [("one", 1), ("two", 2)]
    [(reply, _)] = [
        o
        for o in await settle(send(batching, a, group, "re", parent_message_id=stored[1].id))
        if isinstance(o, tuple)
    ]
    assert reply.parent_message_id == stored[1].id
    assert reply.seq == 3


@pytest.fixture
async def held_lock(database: Database) -> AsyncIterator[Any]:
    """Take a conversation's row lock in a transaction of the test's own (another
    writer), and release it when asked."""
    release = asyncio.Event()
    tasks: list[asyncio.Task[None]] = []

    async def hold(row_id: uuid.UUID, locked: asyncio.Event) -> None:
        async with database.transaction() as session:
            await session.execute(
                text("SELECT id FROM groups WHERE id = :id FOR UPDATE"), {"id": row_id}
            )
            locked.set()
            await release.wait()

    async def take(address: str) -> None:
        locked = asyncio.Event()
        row_id = uuid.UUID(address.split(":")[1])
        tasks.append(asyncio.create_task(hold(row_id, locked)))
        await locked.wait()

    take.release = release  # type: ignore[attr-defined]
    yield take
    release.set()
    await asyncio.gather(*tasks)


async def waiting_for_a_lock(database: Database) -> bool:
    async with database.reading() as session:
        waiting = await session.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
        )
    return bool(waiting)


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_a_batch_that_fails_whole_is_sent_again_one_by_one(
    batching: Messaging, new_user: NewUser, database: Database
) -> None:
    """Another process sends client id "race" while the batch waits for the lock; the
    batch's insert then trips over it, and each of its sends is tried alone."""
    a, b = await new_user(), await new_user()
    group = await group_of(batching, a, b)
    racing = asyncio.Event()
    racer: list[uuid.UUID] = []

    async def other_process() -> None:  # a send of another gateway, by hand
        async with database.transaction() as session:
            row_id = uuid.UUID(group.split(":")[1])
            seq = await session.scalar(
                text(
                    "UPDATE groups SET last_seq = last_seq + 1, message_count = message_count + 1 "
                    "WHERE id = :id RETURNING last_seq"
                ),
                {"id": row_id},
            )
            message = Message(
                group_id=row_id,
                sender_id=a.user_id,
                client_id="race",
                seq=seq,
                ordinal=seq,
                message_type="text",
                content="first",
                created_at=utcnow(),
                updated_at=utcnow(),
            )
            session.add(message)
            await session.flush()
            racer.append(message.id)
            racing.set()
            await eventually(lambda: waiting_for_a_lock(database), what="the batch to wait")

    other = asyncio.create_task(other_process())
    await racing.wait()
    outcomes = await settle(
        send(batching, b, group, "before"),
        send(batching, a, group, "again", client_id="race"),
        send(batching, b, group, "after"),
    )
    await other
    before, again, after = outcomes
    assert isinstance(before, tuple)
    assert isinstance(after, tuple)
    assert isinstance(again, tuple)
    assert again[0].id == racer[0]
    assert again[1] is False
    assert [before[0].seq, after[0].seq] == [2, 3]
    assert await count(database, Message) == 3
    assert [e.seq for e in await batching.events.events_after(a, group, 0)] == [2, 3]


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_past_its_queue_and_deadline_a_send_is_refused_at_once_and_never_stored(
    database: Database,
    database_url: str,
    tmp_path: Path,
    told: RecordingBroadcaster,
    new_user: NewUser,
    held_lock: Any,
) -> None:
    deadline = 0.5
    messaging = messaging_with(
        database,
        database_url,
        tmp_path,
        told,
        send_batch_max=2,
        admit_send_queue=4,
        admit_send_deadline_seconds=deadline,
    )
    a, b = await new_user(), await new_user()
    group = await group_of(messaging, a, b)
    await held_lock(group)  # the database is "slow": the first batch waits
    started = time.monotonic()
    first_batch = [send(messaging, a, group, f"f{n}") for n in range(2)]
    await eventually(lambda: waiting_for_a_lock(database), what="the first batch to wait")
    queued = [send(messaging, a, group, f"q{n}") for n in range(4)]
    refused = [send(messaging, b, group, f"r{n}") for n in range(3)]  # the queue is full
    outcomes = await settle(*refused)
    assert all(isinstance(o, Overloaded) for o in outcomes)
    assert time.monotonic() - started < deadline  # at once, not after waiting
    assert all(isinstance(o, Overloaded) and o.retry_after >= 1 for o in outcomes)
    # The queued sends wait past their deadline behind the stuck batch.
    await eventually(lambda: time.monotonic() - started > deadline * 1.2, what="the deadline")
    held_lock.release.set()
    stored = await settle(*first_batch)
    late = await settle(*queued)
    assert all(isinstance(o, tuple) and o[1] for o in stored)
    assert all(isinstance(o, Overloaded) for o in late)  # refused before writing
    # Nothing refused was stored; everything stored was answered.
    async with database.reading() as session:
        contents = sorted(await session.scalars(select(Message.content)))
    assert contents == ["f0", "f1"]
    [(after, created)] = [
        o for o in await settle(send(messaging, b, group, "later")) if isinstance(o, tuple)
    ]
    assert created
    assert after.seq == 3


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_rest_answers_a_send_it_cannot_take_with_503_and_retry_after(
    database_url: str, tmp_path: Path, held_lock: Any
) -> None:
    settings = make_settings(database_url, tmp_path, send_batch_max=1, admit_send_queue=1)
    gateway = create_gateway(settings)
    async with gateway.api.router.lifespan_context(gateway.api):
        transport = httpx.ASGITransport(app=gateway.asgi)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            owner, member = await sign_up(client), await sign_up(client)
            group = await create_group(client, owner, member)
            await held_lock(group)
            url = f"{API}/conversations/{group}/messages"

            def post(n: int) -> asyncio.Task[httpx.Response]:
                body = {"client_id": f"c{n}", "content": f"m{n}"}
                return asyncio.create_task(client.post(url, headers=owner.headers, json=body))

            stuck = post(0)  # its batch waits for the lock
            await eventually(lambda: waiting_for_a_lock(gateway.container.database))
            queued = post(1)
            await eventually(lambda: gateway.container.messaging.messages.queued_sends == 1)
            refused = await client.post(
                url, headers=owner.headers, json={"client_id": "c2", "content": "m2"}
            )
            assert refused.status_code == 503
            assert refused.headers["Retry-After"] == "1"
            assert refused.json()["error"]["code"] == "overloaded"
            held_lock.release.set()
            assert (await stuck).status_code == 201
            assert (await queued).status_code in (201, 503)  # stored, or refused late: never lost
            retried = await client.post(
                url, headers=owner.headers, json={"client_id": "c2", "content": "m2"}
            )
            assert retried.status_code == 201  # a refused send can simply be sent again


def test_a_socket_ack_refusing_for_overload_carries_the_code_and_the_retry_hint() -> None:
    assert failed(Overloaded(3)) == {
        "ok": False,
        "error": {
            "code": "overloaded",
            "message": Overloaded.default_message,
            "details": {"retry_after": 3},
        },
    }
