"""Property: paging history in either direction yields every message exactly once, in
seq order, whatever else happened in the conversation between the messages."""

from __future__ import annotations

import uuid
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from goftogu.identity.models import Role, User
from goftogu.identity.tokens import Principal
from goftogu.ids import new_id
from goftogu.messaging.access import Access
from goftogu.messaging.schemas import SendMessage
from goftogu.messaging.service import build_messaging
from goftogu.storage.database import Database
from tests.conftest import make_settings, run_blocking
from tests.helpers.broadcast import RecordingBroadcaster, units_of_work

# One step of a conversation: a message from a or b, then maybe a reaction to it
# and maybe its deletion.
steps = st.lists(st.tuples(st.booleans(), st.booleans(), st.booleans()), min_size=0, max_size=30)


async def _person(database: Database) -> Principal:
    user_id = new_id()
    async with database.transaction() as session:
        session.add(
            User(
                id=user_id,
                username=user_id.hex[-12:],
                username_key=user_id.hex[-12:],
                password_hash="unused",
            )
        )
    return Principal(user_id=user_id, role=Role.customer, session_id=new_id())


async def _check(
    url: str, data_dir: Path, story: list[tuple[bool, bool, bool]], back: int, forth: int
) -> None:
    database = Database(url)
    try:
        work = units_of_work(database, RecordingBroadcaster())
        messaging = build_messaging(work, Access(database), make_settings(url, data_dir))
        a, b = await _person(database), await _person(database)
        chat = (await messaging.chats.open_chat(a, b.user_id))[0].conversation
        sent: list[int] = []
        for from_a, react, delete in story:
            who, other = (a, b) if from_a else (b, a)
            message, _ = await messaging.messages.send_message(
                who, chat, SendMessage(client_id=uuid.uuid4().hex, content="x")
            )
            sent.append(message.seq)
            if react:
                await messaging.reactions.add_reaction(other, str(message.id), "👍")
            if delete:
                await messaging.messages.delete_message(who, str(message.id))

        backwards: list[int] = []
        before: int | None = None
        while True:
            page, more = await messaging.messages.history(a, chat, before_seq=before, limit=back)
            backwards += [m.seq for m in page]
            if not more:
                break
            before = page[-1].seq
        assert backwards == sorted(sent, reverse=True)

        forwards: list[int] = []
        after = 0
        while True:
            page, more = await messaging.messages.history(b, chat, after_seq=after, limit=forth)
            forwards += [m.seq for m in page]
            if not more:
                break
            after = page[-1].seq
        assert forwards == sent
    finally:
        await database.close()


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(story=steps, back=st.integers(1, 7), forth=st.integers(1, 7))
def test_history_pages_return_every_message_once_in_seq_order(
    database_url: str, tmp_path: Path, story: list[tuple[bool, bool, bool]], back: int, forth: int
) -> None:
    # Each example works in a conversation of its own, so examples share the database.
    run_blocking(_check(database_url, tmp_path, story, back, forth))
