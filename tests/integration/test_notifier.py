"""The notifier end to end in one process: triggers in the outbox, the queue, the
planner and dispatcher, and what the SMTP server and the push service receive."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from goftogu.bootstrap import build_container
from goftogu.identity.models import Role
from goftogu.notifications.jobs import (
    NOTIFY,
    ChatAssigned,
    MessageCreated,
    OperatorReplied,
    TicketCreated,
)
from goftogu.vapid import generate_vapid_keys
from tests.conftest import make_settings
from tests.helpers.notify import NOW, NotifyWorld, statuses
from tests.helpers.queues import delete_queues
from tests.helpers.smtp import SmtpServer, free_port
from tests.helpers.waiting import eventually
from tests.helpers.webpush import PushService

PUBLIC_KEY, PRIVATE_KEY = generate_vapid_keys()
GROUP = "group:0190a0c0-0000-7000-8000-000000000001"
OTHER_GROUP = "group:0190a0c0-0000-7000-8000-000000000002"


@asynccontextmanager
async def running_world(
    database_url: str, tmp_path: Path, *, broker_url: str | None = None, **overrides: Any
) -> AsyncIterator[NotifyWorld]:
    smtp = SmtpServer()
    if overrides.pop("smtp_running", True):
        smtp.start()
    push = PushService(PUBLIC_KEY).start()
    prefix = f"test-{tmp_path.name[-20:]}-{free_port()}."
    values: dict[str, Any] = {
        "smtp_url": smtp.url,
        "vapid_public_key": PUBLIC_KEY,
        "vapid_private_key": PRIVATE_KEY,
        "push_endpoint_hosts": f"http://{push.origin.removeprefix('http://')}",
        "public_url": "https://chat.example",
        "notify_digest_seconds": 3600,  # tests end windows themselves: no race with the clock
        "notify_retry_base_seconds": 0.05,
        "notify_retry_max_seconds": 0.2,
        "notify_send_lease_seconds": 2,
        "outbox_sweep_seconds": 0.1,
        "broker_url": broker_url,
        "queue_prefix": prefix,
        **overrides,
    }
    container = await build_container(make_settings(database_url, tmp_path, **values))
    world = NotifyWorld(container, smtp, push)
    runner = world.runner()
    await runner.start()
    try:
        yield world
    finally:
        await runner.stop()
        await container.aclose()
        smtp.stop()
        push.stop()
        if broker_url:
            await delete_queues(broker_url, [prefix + NOTIFY])


@pytest.fixture
async def world(database_url: str, tmp_path: Path) -> AsyncIterator[NotifyWorld]:
    async with running_world(database_url, tmp_path) as made:
        yield made


def message(
    sender: Any,
    recipients: Collection[Any],
    text: str,
    *,
    conversation: str = GROUP,
    title: str | None = "تیم فروش",
    at: datetime = NOW,
    number: int = 0,
) -> MessageCreated:
    return MessageCreated(
        conversation=conversation,
        conversation_title=title,
        message_id=f"m-{conversation[-4:]}-{number}",
        sender_id=sender.id,
        preview=text,
        created_at=at + timedelta(seconds=number),
        recipient_ids=[user.id for user in recipients],
    )


async def test_messages_to_an_away_user_push_each_and_email_once_per_conversation(
    world: NotifyWorld,
) -> None:
    sara = await world.user("sara", display_name="سارا")
    maryam = await world.user("maryam", display_name="مریم")
    phone = await world.subscribe(maryam)
    texts = ["سلام مریم!", "جلسه ساعت ۱۰ است.", "OK? خبر بده"]

    await world.trigger(*(message(sara, [sara, maryam], t, number=n) for n, t in enumerate(texts)))
    await world.trigger(
        message(sara, [maryam], "another room", conversation=OTHER_GROUP, title="R")
    )

    await eventually(lambda: len(phone.received) == 4)
    first = next(p for p in phone.received if p["message_id"] == f"m-{GROUP[-4:]}-0")
    assert (first["title"], first["body"]) == ("تیم فروش", "سارا: سلام مریم!")
    assert (first["tag"], first["dir"]) == (GROUP, "rtl")
    assert first["url"] == f"https://chat.example/conversations/{GROUP}"
    await eventually(lambda: _count_items(world, 4))
    assert world.smtp.received() == []  # the window is still open

    await world.end_digest_windows()
    await eventually(world.settled)
    emails = world.emails_to("maryam@example.com")
    assert sorted(m.message["Subject"] for m in emails) == [
        "1 new message in R",
        "3 new messages in تیم فروش",
    ]
    digest = next(m for m in emails if "تیم فروش" in m.message["Subject"])
    text = digest.body("plain")
    assert all(t in text for t in ("سلام مریم!", "جلسه ساعت ۱۰ است.", "OK? خبر بده"))
    assert text.index("سلام مریم!") < text.index("OK? خبر بده")
    assert world.emails_to("sara@example.com") == []


async def _count_items(world: NotifyWorld, expected: int) -> bool:
    return len(await world.digest_items()) == expected


async def test_a_user_with_a_live_connection_is_not_notified(world: NotifyWorld) -> None:
    sara, maryam = await world.user("sara"), await world.user("maryam")
    await world.subscribe(maryam)
    await world.presence.connected(maryam.id, "maryam-laptop")

    await world.handle(message(sara, [maryam], "are you there?"))

    assert await world.deliveries() == []
    assert await world.digests() == []


async def test_a_user_back_online_before_the_window_ends_gets_no_email(
    world: NotifyWorld,
) -> None:
    sara, maryam = await world.user("sara"), await world.user("maryam")
    await world.handle(message(sara, [maryam], "hello"))
    await world.presence.connected(maryam.id, "maryam-laptop")

    await world.end_digest_windows()
    await eventually(lambda: _digest_outcome(world, "online_or_muted"))
    assert await world.deliveries() == []
    assert world.smtp.received() == []


async def _digest_outcome(world: NotifyWorld, outcome: str) -> bool:
    return [d.outcome for d in await world.digests()] == [outcome]


async def test_preferences_choose_the_channels(world: NotifyWorld) -> None:
    sara = await world.user("sara")
    no_email, no_push = await world.user("noemail"), await world.user("nopush")
    for user in (no_email, no_push):
        await world.subscribe(user)
    await world.prefer(no_email, email=False)
    await world.prefer(no_push, push=False)

    await world.handle(message(sara, [no_email, no_push], "hi"))

    kinds = {(d.user_id, d.channel) for d in await world.deliveries()}
    assert kinds == {(no_email.id, "push")}
    assert [item.user_id for item in await world.digest_items()] == [no_push.id]


async def test_a_user_without_email_gets_push_only_and_a_visitor_without_either_nothing(
    world: NotifyWorld,
) -> None:
    operator = await world.user("op", role=Role.operator)
    visitor = await world.user("visitor-1", email=None, visitor=True)

    await world.handle(
        OperatorReplied(
            chat_id="c1",
            message_id="r1",
            operator_id=operator.id,
            customer_id=visitor.id,
            preview="We are on it",
            created_at=NOW,
        )
    )

    assert await world.deliveries() == []
    assert await world.digests() == []


async def test_a_new_ticket_reaches_every_operator_and_admin_but_no_customer(
    world: NotifyWorld,
) -> None:
    operators = [await world.user(f"op{n}", role=Role.operator) for n in range(2)]
    admin = await world.user("boss", role=Role.admin)
    await world.user("customer")
    console = await world.subscribe(operators[0])

    await world.trigger(
        TicketCreated(
            chat_id="chat-1",
            customer_name="مینا",
            preview="سفارشم هنوز نرسیده",
            created_at=NOW,
        )
    )

    await eventually(world.settled)
    recipients = sorted(r for m in world.smtp.received() for r in m.recipients)
    assert recipients == ["boss@example.com", "op0@example.com", "op1@example.com"]
    email = world.emails_to("op0@example.com")[0]
    assert email.message["Subject"] == "New ticket from مینا"
    assert "سفارشم هنوز نرسیده" in email.body("html")
    assert "https://chat.example/support/chats/chat-1" in email.body("plain")
    assert [p["title"] for p in console.received] == ["New ticket from مینا"]
    assert admin.id not in world.browsers


async def test_an_operator_reply_emails_the_away_customer_who_gave_an_address(
    world: NotifyWorld,
) -> None:
    operator = await world.user("op", role=Role.operator, display_name="Reza")
    customer = await world.user("visitor-2", email="mina@example.com", visitor=True)
    await world.prefer(customer, language="fa")

    await world.trigger(
        OperatorReplied(
            chat_id="chat-9",
            message_id="r1",
            operator_id=operator.id,
            customer_id=customer.id,
            preview="سلام، پیگیری کردیم؛ فردا می‌رسد.",
            created_at=NOW,
        )
    )
    await eventually(lambda: _count_items(world, 1))
    await world.end_digest_windows()
    await eventually(world.settled)

    [email] = world.emails_to("mina@example.com")
    assert email.message["Subject"] == "یک پاسخ تازه از پشتیبانی"
    html = email.body("html")
    assert '<html lang="fa" dir="rtl">' in html
    assert "سلام، پیگیری کردیم؛ فردا می‌رسد." in html
    assert "<bdi>Reza</bdi>" in html


async def test_an_assignment_is_pushed_to_the_operator_and_not_emailed(
    world: NotifyWorld,
) -> None:
    operator = await world.user("op", role=Role.operator)
    laptop, phone = await world.subscribe(operator), await world.subscribe(operator)

    await world.trigger(
        ChatAssigned(
            chat_id="chat-3",
            operator_id=operator.id,
            customer_name="Mina",
            preview="my order is late",
            assigned_at=NOW,
        )
    )

    await eventually(world.settled)
    for browser in (laptop, phone):
        [push] = browser.received
        assert push["type"] == "chat_assigned"
        assert (push["title"], push["body"]) == (
            "New chat assigned to you",
            "Mina: my order is late",
        )
        assert push["chat_id"] == "chat-3"
        assert browser.headers[0]["ttl"] == "600"
    assert world.smtp.received() == []


async def test_a_trigger_handled_twice_is_delivered_once(world: NotifyWorld) -> None:
    operator = await world.user("op", role=Role.operator)
    console = await world.subscribe(operator)
    ticket = TicketCreated(chat_id="chat-2", customer_name="Mina", preview="hi", created_at=NOW)

    await world.handle(ticket)
    await world.handle(ticket)
    await world.trigger(ticket)  # and once more through the queue

    await eventually(world.settled)
    assert statuses(await world.deliveries()) == [
        ("ticket_created", "email", "sent"),
        ("ticket_created", "push", "sent"),
    ]
    assert len(world.smtp.received()) == 1
    assert len(console.received) == 1


async def test_a_410_from_the_push_service_removes_the_subscription(world: NotifyWorld) -> None:
    operator = await world.user("op", role=Role.operator)
    gone = await world.subscribe(operator, answer=410)
    alive = await world.subscribe(operator)

    await world.trigger(
        ChatAssigned(chat_id="c", operator_id=operator.id, customer_name="M", assigned_at=NOW)
    )

    await eventually(world.settled)
    remaining = await world.container.push_subscriptions.list_for(_principal(operator))
    assert [s.endpoint for s in remaining] == [alive.endpoint]
    assert len(alive.received) == 1
    assert gone.received == []
    assert await world.container.queue.dead_letters(NOTIFY) == []


def _principal(user: Any) -> Any:
    from tests.helpers.notify import principal

    return principal(user)


async def test_a_refused_address_goes_to_the_dead_letter_queue_with_the_reason(
    world: NotifyWorld,
) -> None:
    operator = await world.user("op", role=Role.operator)
    world.smtp.refuse["op@example.com"] = "550 5.1.1 Mailbox does not exist"

    await world.trigger(TicketCreated(chat_id="c", customer_name="M", created_at=NOW))

    await eventually(lambda: _dead_letters(world, 1))
    [dead] = await world.container.queue.dead_letters(NOTIFY)
    assert dead.reason == "rejected"
    assert "550 5.1.1 Mailbox does not exist" in dead.error
    [delivery] = await world.deliveries()
    assert (delivery.status, delivery.user_id) == ("failed", operator.id)
    assert "550" in (delivery.last_error or "")


async def _dead_letters(world: NotifyWorld, count: int) -> bool:
    return len(await world.container.queue.dead_letters(NOTIFY)) == count


async def test_a_push_service_error_is_retried_until_it_answers(world: NotifyWorld) -> None:
    operator = await world.user("op", role=Role.operator)
    flaky = await world.subscribe(operator, answer=503)

    await world.trigger(
        ChatAssigned(chat_id="c", operator_id=operator.id, customer_name="M", assigned_at=NOW)
    )
    await eventually(lambda: _attempts_at_least(world, 2))
    flaky.answer = 201

    await eventually(world.settled)
    assert len(flaky.received) == 1
    [delivery] = await world.deliveries()
    assert delivery.status == "sent"
    assert delivery.attempts >= 2


async def _attempts_at_least(world: NotifyWorld, attempts: int) -> bool:
    return any(d.attempts >= attempts for d in await world.deliveries())


@pytest.mark.parametrize("queue", ["memory", pytest.param("rabbitmq", marks=pytest.mark.rabbitmq)])
async def test_smtp_down_for_a_while_then_every_email_arrives_exactly_once(
    database_url: str, tmp_path: Path, request: pytest.FixtureRequest, queue: str
) -> None:
    broker_url = request.getfixturevalue("broker_url") if queue == "rabbitmq" else None
    async with running_world(
        database_url, tmp_path, broker_url=broker_url, smtp_running=False
    ) as world:
        operators = [await world.user(f"op{n}", role=Role.operator) for n in range(3)]
        tickets = [
            TicketCreated(chat_id=f"chat-{n}", customer_name="M", preview="?", created_at=NOW)
            for n in range(2)
        ]
        await world.trigger(*tickets)

        # Every email has failed at least twice while the server is down...
        await eventually(lambda: _all_attempted(world, 6, 2))
        assert world.smtp.received() == []
        world.smtp.start()

        # ...and arrives once it is back: 2 tickets x 3 staff, no loss, no copy.
        await eventually(world.settled)
        received = world.smtp.received()
        assert sorted(r for m in received for r in m.recipients) == sorted(
            f"{op.username}@example.com" for op in operators for _ in tickets
        )
        assert len({m.message["Message-ID"] for m in received}) == 6
        assert await world.container.queue.dead_letters(NOTIFY) == []


async def _all_attempted(world: NotifyWorld, count: int, attempts: int) -> bool:
    deliveries = await world.deliveries()
    return len(deliveries) == count and all(d.attempts >= attempts for d in deliveries)


class MutedFor:
    """The ``MuteSettings`` port as the messaging domain will answer it, over a set of
    (conversation, user) pairs (messaging is not on this branch yet)."""

    def __init__(self, *muted: tuple[str, Any]) -> None:
        self.muted = {(conversation, user.id) for conversation, user in muted}

    async def muted_among(
        self, conversation: str, user_ids: Collection[Any], at: datetime
    ) -> set[Any]:
        return {user_id for user_id in user_ids if (conversation, user_id) in self.muted}


async def test_a_muted_conversation_is_not_notified_but_others_are(world: NotifyWorld) -> None:
    sara, maryam = await world.user("sara"), await world.user("maryam")
    await world.subscribe(maryam)
    world.container.notifier.planner.mutes = MutedFor((GROUP, maryam))

    await world.handle(message(sara, [maryam], "muted room"))
    assert await world.deliveries() == []
    assert await world.digests() == []

    await world.handle(message(sara, [maryam], "other room", conversation=OTHER_GROUP))
    assert [d.channel for d in await world.deliveries()] == ["push"]
    assert [d.conversation for d in await world.digests()] == [OTHER_GROUP]


async def test_muting_during_the_window_cancels_the_email(world: NotifyWorld) -> None:
    sara, maryam = await world.user("sara"), await world.user("maryam")
    await world.handle(message(sara, [maryam], "hello"))
    world.container.notifier.planner.mutes = MutedFor((GROUP, maryam))

    await world.end_digest_windows()
    await eventually(lambda: _digest_outcome(world, "online_or_muted"))
    assert await world.deliveries() == []


async def test_the_embedded_gateway_runs_the_notifier_and_logs_email_without_smtp(
    database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from goftogu.gateway import create_gateway

    caplog.set_level(logging.INFO, logger="goftogu.notifications.mail")
    caplog.set_level(logging.INFO, logger="goftogu.notifications.dispatch")
    gateway = create_gateway(make_settings(database_url, tmp_path, outbox_sweep_seconds=0.1))
    async with gateway.api.router.lifespan_context(gateway.api):
        world = NotifyWorld(gateway.container, SmtpServer(), push=None)
        await world.user("op", role=Role.operator)
        await world.trigger(TicketCreated(chat_id="c1", customer_name="مینا", created_at=NOW))
        await eventually(lambda: _all_sent(world, 1))
    assert _logged(caplog, "New ticket from مینا")
    # The log says what happened: written down, not delivered to anyone.
    said = [r.getMessage() for r in caplog.records if r.name == "goftogu.notifications.dispatch"]
    assert "delivery written to the log (GOFTOGU_SMTP_URL is unset), not sent" in said
    assert "delivery sent" not in said


async def _all_sent(world: NotifyWorld, count: int) -> bool:
    deliveries = await world.deliveries()
    return len(deliveries) == count and all(d.status == "sent" for d in deliveries)


def _logged(caplog: pytest.LogCaptureFixture, subject: str) -> bool:
    return any(r.__dict__.get("mail_subject") == subject for r in caplog.records)


async def test_each_away_member_of_a_group_gets_one_digest_of_every_message(
    world: NotifyWorld,
) -> None:
    sara = await world.user("sara")
    members = [await world.user(f"member{n}") for n in range(3)]
    await world.handle(message(sara, [sara, *members[:2]], "first", number=1))
    await world.handle(message(sara, [sara, *members], "second", number=2))
    await world.handle(message(sara, [sara, *members], "second", number=2))  # redelivered

    digests = await world.digests()
    assert sorted(d.user_id for d in digests) == sorted(m.id for m in members)
    items = await world.digest_items()
    per_member = {m.id: sorted(i.preview for i in items if i.user_id == m.id) for m in members}
    assert per_member == {
        members[0].id: ["first", "second"],
        members[1].id: ["first", "second"],
        members[2].id: ["second"],
    }
    assert len({i.digest_id for i in items}) == 3


async def test_a_direct_chat_digest_is_named_after_the_one_who_wrote(world: NotifyWorld) -> None:
    sara = await world.user("sara", display_name="Sara")
    maryam = await world.user("maryam")
    chat = "single:0190a0c0-0000-7000-8000-000000000003"
    for n, text in enumerate(("hi", "are you free at 10?")):
        await world.handle(message(sara, [maryam], text, conversation=chat, title=None, number=n))

    await world.end_digest_windows()
    await eventually(world.settled)
    [email] = world.emails_to("maryam@example.com")
    assert email.message["Subject"] == "2 new messages from Sara"
    assert f"https://chat.example/conversations/{chat}" in email.body("plain")
