"""Seed a long history into the browser tests' gateway database, in one transaction.

    python seed_history.py <data-dir> <single-chat-id> <sender-a> <sender-b> <count>

Sending 5,000 messages through the API takes minutes on a shared machine; the
scrolling test needs the rows, not the sends. Messages get seq = ordinal = 1..n
(the chat must be new), alternate senders, contents "seeded <i>" and times one
second apart; the chat's counters follow, so lists and unread counts agree.
"""

import asyncio
import sys
import uuid
from datetime import timedelta
from pathlib import Path

from sqlalchemy import update

import goftogu.tables  # noqa: F401 (every table, so foreign keys resolve)
from goftogu.ids import new_id
from goftogu.messaging.models import Message, SingleChat
from goftogu.settings import Settings
from goftogu.storage.database import Database
from goftogu.storage.models import utcnow


async def main(data_dir: str, chat_id: str, sender_a: str, sender_b: str, count: int) -> None:
    settings = Settings(data_dir=Path(data_dir))
    database = Database(settings.effective_database_url)
    chat, senders = uuid.UUID(chat_id), (uuid.UUID(sender_a), uuid.UUID(sender_b))
    start = utcnow() - timedelta(seconds=count + 60)
    async with database.transaction() as session:
        session.add_all(
            Message(
                id=new_id(),
                single_chat_id=chat,
                sender_id=senders[i % 3 == 0],
                client_id=f"seed-{i}",
                seq=i + 1,
                ordinal=i + 1,
                message_type="text",
                content=f"seeded {i}",
                created_at=start + timedelta(seconds=i),
                updated_at=start + timedelta(seconds=i),
            )
            for i in range(count)
        )
        await session.execute(
            update(SingleChat)
            .where(SingleChat.id == chat)
            .values(last_seq=count, message_count=count, last_activity_at=start + timedelta(seconds=count))
        )
    await database.close()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5], int(sys.argv[5])))
