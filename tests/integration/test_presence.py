"""User presence (M6): one contract for the in-process and Redis stores, and the
service that announces and persists changes."""

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from redis.asyncio import Redis

from goftogu.identity.accounts import NewAccount
from goftogu.identity.models import User, UserStatus
from goftogu.presence.users import OFFLINE_ANNOUNCEMENTS_AT_ONCE, ConnectionStore, UserPresence
from goftogu.presence.users_memory import MemoryConnectionStore
from goftogu.presence.users_redis import RedisConnectionStore
from goftogu.storage.database import Database
from tests.helpers.broadcast import RecordingBroadcaster, units_of_work
from tests.helpers.waiting import eventually


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[ConnectionStore]:
    if request.param == "memory":
        yield MemoryConnectionStore()
        return
    client = Redis.from_url(request.getfixturevalue("redis_url"))
    yield RedisConnectionStore(client)
    await client.aclose()


async def test_connections_are_counted_per_user(store: ConnectionStore) -> None:
    assert await store.add("u1", "a", 30) == 1
    assert await store.add("u1", "b", 30) == 2
    assert await store.add("u2", "c", 30) == 1
    assert await store.remove("u1", "a") == 1
    assert await store.remove("u1", "b") == 0
    assert await store.live_counts(["u1", "u2", "u3"]) == {"u1": 0, "u2": 1, "u3": 0}


async def test_a_lease_that_is_not_renewed_expires(store: ConnectionStore) -> None:
    await store.add("u1", "a", 0.2)
    await store.add("u2", "b", 0.2)
    await store.renew([("u2", "b")], 30)
    await eventually(lambda: _has_count(store, "u1", 0), what="u1's lease to run out")
    assert await store.count("u2") == 1


async def test_users_whose_node_died_are_reported_once(store: ConnectionStore) -> None:
    await store.add("u1", "a", 0.1)
    await store.add("u2", "b", 30)
    assert await eventually(store.lapsed, what="u1's lease to lapse") == ["u1"]
    assert await store.lapsed() == []


async def _has_count(store: ConnectionStore, user: str, count: int) -> bool:
    return await store.count(user) == count


async def test_renewing_recreates_leases_lost_by_the_store(store: ConnectionStore) -> None:
    await store.renew([("u1", "a")], 30)  # e.g. after a Redis restart emptied it
    assert await store.count("u1") == 1


async def test_an_announcement_reports_only_changes(store: ConnectionStore) -> None:
    assert await store.announce("u1", "online") is True
    assert await store.announce("u1", "online") is False
    assert await store.announce("u1", "away") is True
    assert await store.announce("u2", "offline") is False  # never announced: offline


async def test_chosen_statuses_are_remembered(store: ConnectionStore) -> None:
    await store.choose("u1", "away")
    assert await store.chosen(["u1", "u2"]) == {"u1": "away"}


# --- the service ------------------------------------------------------------------


async def make_user(database: Database) -> User:
    from goftogu.identity.accounts import Accounts
    from goftogu.identity.passwords import PasswordHashes

    accounts = Accounts(database, PasswordHashes(memory_kib=1024, time_cost=1, parallelism=1))
    name = f"p{uuid.uuid4().hex[:8]}"
    return await accounts.register(NewAccount(name, f"{name}@example.com", "a long passphrase"))


@pytest.fixture
def broadcaster() -> RecordingBroadcaster:
    return RecordingBroadcaster()


Contacts = Callable[[str], Awaitable[list[str]]]


async def no_contacts(_user_id: str) -> list[str]:
    return []


def presence_of(
    database: Database,
    told: RecordingBroadcaster,
    contacts: Contacts = no_contacts,
    *,
    grace_seconds: float = 0.2,
) -> UserPresence:
    return UserPresence(
        MemoryConnectionStore(),
        units_of_work(database, told),
        contacts_of=contacts,
        grace_seconds=grace_seconds,
        lease_seconds=30,
    )


@pytest.fixture
def presence(database: Database, broadcaster: RecordingBroadcaster) -> UserPresence:
    return presence_of(database, broadcaster)


def announced(told: RecordingBroadcaster, user: User) -> list[str]:
    """The statuses ``user`` was announced with on their own room, in order."""
    return [a["status"] for a in told.to(f"user:{user.id}", "presence")]


async def test_the_first_connection_announces_online_to_contacts_and_persists_it(
    broadcaster: RecordingBroadcaster, database: Database
) -> None:
    user, friend = await make_user(database), await make_user(database)

    async def contacts(_user_id: str) -> list[str]:
        return [str(friend.id)]

    presence = presence_of(database, broadcaster, contacts)
    await presence.connected(user.id, "sid-1")
    await presence.connected(user.id, "sid-2")
    announced = broadcaster.to(f"user:{friend.id}", "presence")
    assert [a["status"] for a in announced] == ["online"]
    async with database.sessions() as session:
        stored = await session.get(User, user.id)
    assert stored is not None
    assert stored.status == "online"
    assert stored.last_seen is not None


async def test_the_last_connection_closing_announces_offline_after_the_grace_period(
    presence: UserPresence, broadcaster: RecordingBroadcaster, database: Database
) -> None:
    user = await make_user(database)
    await presence.connected(user.id, "sid-1")
    await presence.disconnected("sid-1")
    assert announced(broadcaster, user) == ["online"]  # not yet: the grace period runs
    await eventually(lambda: announced(broadcaster, user) == ["online", "offline"])
    async with database.sessions() as session:
        stored = await session.get(User, user.id)
    assert stored is not None
    assert stored.status == "offline"


async def test_reconnecting_within_the_grace_period_announces_nothing(
    presence: UserPresence, broadcaster: RecordingBroadcaster, database: Database
) -> None:
    user, witness = await make_user(database), await make_user(database)
    await presence.connected(user.id, "sid-1")
    await presence.connected(witness.id, "sid-w")
    await presence.disconnected("sid-1")
    await presence.connected(user.id, "sid-2")
    # The witness leaves after the user's grace period began: once the witness is
    # announced offline, the user's announcement would have come too.
    await presence.disconnected("sid-w")
    await eventually(lambda: announced(broadcaster, witness) == ["online", "offline"])
    assert announced(broadcaster, user) == ["online"]


async def test_a_chosen_away_status_is_announced_and_offline_means_invisible(
    presence: UserPresence, broadcaster: RecordingBroadcaster, database: Database
) -> None:
    user = await make_user(database)
    await presence.connected(user.id, "sid-1")
    assert await presence.choose(user.id, UserStatus.away) == UserStatus.away
    assert await presence.choose(user.id, UserStatus.offline) == UserStatus.offline
    assert announced(broadcaster, user) == ["online", "away", "offline"]
    assert (await presence.statuses([str(user.id)]))[str(user.id)] == UserStatus.offline


async def test_offline_announcements_due_together_take_turns_and_a_reconnect_cancels_its_own(
    database: Database, broadcaster: RecordingBroadcaster
) -> None:
    users = [await make_user(database) for _ in range(6)]
    online = {str(user.id) for user in users}
    busy: set[str] = set()
    overload_ends = asyncio.Event()

    async def overloaded_contacts(user_id: str) -> list[str]:
        if user_id not in online:  # an offline announcement: the database is overloaded
            busy.add(user_id)
            await overload_ends.wait()
        return []

    presence = presence_of(database, broadcaster, overloaded_contacts, grace_seconds=0.05)
    for n, user in enumerate(users):
        await presence.connected(user.id, f"sid-{n}")
    online.clear()
    for n in range(len(users)):
        await presence.disconnected(f"sid-{n}")
    # The grace is over for all six: four announce at once, the others wait their turn.
    await eventually(lambda: len(busy) == OFFLINE_ANNOUNCEMENTS_AT_ONCE, what="four at once")
    late = next(user for user in reversed(users) if str(user.id) not in busy)
    online.add(str(late.id))
    await presence.connected(late.id, "sid-back")
    overload_ends.set()

    others = [user for user in users if user is not late]
    await eventually(
        lambda: [announced(broadcaster, u) for u in others] == [["online", "offline"]] * 5
    )
    assert len(busy) == 5  # the late user's turn never came
    assert announced(broadcaster, late) == ["online"]  # never seen offline


async def test_the_users_with_a_live_connection_are_online_even_when_appearing_offline(
    presence: UserPresence, database: Database
) -> None:
    here, invisible, gone = [await make_user(database) for _ in range(3)]
    await presence.connected(here.id, "sid-here")
    await presence.connected(invisible.id, "sid-invisible")
    await presence.choose(invisible.id, UserStatus.offline)
    await presence.connected(gone.id, "sid-gone")
    await presence.disconnected("sid-gone")

    online = await presence.online_among([here.id, invisible.id, gone.id])

    assert online == {here.id, invisible.id}
