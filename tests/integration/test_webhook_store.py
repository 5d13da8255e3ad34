"""The webhook store's contract, on SQLite and PostgreSQL (where its data lives)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from goftogu.bus import Handlers, Transaction
from goftogu.storage.database import Database
from goftogu.storage.work import UnitsOfWork
from goftogu.webhooks.store import Busy, Claimed, Done, WebhookStore


async def planned(database: Database, store: WebhookStore, subscription_id: uuid.UUID) -> uuid.UUID:
    work = UnitsOfWork(database, Handlers().build())
    event_id = uuid.uuid4()
    ids = []
    for _ in range(2):  # the same event twice: one delivery
        async with work.transaction() as tx:
            assert isinstance(tx, Transaction)
            ids.append(
                await store.plan(
                    tx, subscription_id, event_id=event_id, event_type="message.created", body="{}"
                )
            )
    assert ids[0] is not None
    assert ids[1] is None
    return ids[0]


async def test_subscriptions_are_made_paged_changed_and_deleted(database: Database) -> None:
    store = WebhookStore(database)
    made = [
        await store.create(
            url=f"https://h{n}.example.com/",
            secret="whsec_x",
            events=["message.created"] if n else ["csat.received"],
            description=None,
            created_by=None,
        )
        for n in range(3)
    ]
    page, more = await store.page(None, 2)
    assert [s.id for s in page] == [s.id for s in made[:2]]
    assert more
    page, more = await store.page(page[-1].id, 2)
    assert [s.id for s in page] == [made[2].id]
    assert not more
    assert await store.count() == 3
    assert [s.id for s in await store.subscribers("message.created")] == [m.id for m in made[1:]]
    off = await store.update(made[1].id, {"active": False})
    assert off is not None
    assert not off.active
    assert off.disabled_reason == "disabled by an admin"
    assert [s.id for s in await store.subscribers("message.created")] == [made[2].id]
    on = await store.update(made[1].id, {"active": True, "events": ["csat.received"]})
    assert on is not None
    assert on.active
    assert on.events == ["csat.received"]
    assert await store.update(uuid.uuid4(), {"active": True}) is None
    assert await store.delete(made[0].id)
    assert not await store.delete(made[0].id)
    assert await store.get(made[0].id) is None


async def test_a_delivery_is_claimed_once_retried_failed_and_disables_its_subscription(
    database: Database,
) -> None:
    store = WebhookStore(database)
    hook = await store.create(
        url="https://h.example.com/",
        secret="s",
        events=["message.created"],
        description=None,
        created_by=None,
    )
    delivery_id = await planned(database, store, hook.id)
    claim = await store.claim(delivery_id, timedelta(seconds=30))
    assert isinstance(claim, Claimed)
    assert claim.delivery.attempts == 1
    assert isinstance(await store.claim(delivery_id, timedelta(seconds=30)), Busy)
    first = await store.failed(
        claim, response_status=500, error="HTTP 500", max_attempts=3, disable_after=2
    )
    assert (first.final, first.disabled) == (False, False)
    again = await store.claim(delivery_id, timedelta(seconds=30))
    assert isinstance(again, Claimed)
    assert again.delivery.attempts == 2
    second = await store.failed(
        again, response_status=None, error="timeout", max_attempts=3, disable_after=2
    )
    assert (second.final, second.disabled) == (True, True)
    assert isinstance(await store.claim(delivery_id, timedelta(seconds=30)), Done)
    hook_now = await store.get(hook.id)
    assert hook_now is not None
    assert not hook_now.active
    assert hook_now.consecutive_failures == 2
    log, more = await store.deliveries(hook.id, None, 10)
    assert [(d.status, d.attempts, d.last_error) for d in log] == [("failed", 2, "timeout")]
    assert not more


async def test_a_lease_run_out_is_taken_over_and_a_success_clears_the_failures(
    database: Database,
) -> None:
    store = WebhookStore(database)
    hook = await store.create(
        url="https://h.example.com/",
        secret="s",
        events=["message.created"],
        description=None,
        created_by=None,
    )
    delivery_id = await planned(database, store, hook.id)
    crashed = await store.claim(delivery_id, timedelta(seconds=-1))  # its holder died
    assert isinstance(crashed, Claimed)
    taken = await store.claim(delivery_id, timedelta(seconds=30))
    assert isinstance(taken, Claimed)
    assert taken.delivery.attempts == 2
    await store.update(hook.id, {"consecutive_failures": 4})
    await store.delivered(taken, 204)
    # The older attempt's late failure does not undo the delivery.
    late = await store.failed(
        crashed, response_status=500, error="late", max_attempts=5, disable_after=100
    )
    assert late.final
    log, _ = await store.deliveries(hook.id, None, 10)
    assert [(d.status, d.response_status) for d in log] == [("delivered", 204)]
    hook_now = await store.get(hook.id)
    assert hook_now is not None
    assert hook_now.consecutive_failures == 0
    assert await store.purge(timedelta(days=-1)) == 1
