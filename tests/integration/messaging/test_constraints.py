"""The database itself refuses invalid messaging states (M1, M2, M4, M5, M7, M8).

Every row here is written with raw SQL, bypassing the services, on SQLite and
on PostgreSQL: the constraints of migration 0003 are the last line.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import Uuid, bindparam, text
from sqlalchemy.exc import IntegrityError

from goftogu.ids import new_id
from goftogu.storage.database import Database
from goftogu.storage.errors import violated_constraint


async def run(database: Database, sql: str, **params: Any) -> None:
    """One statement in its own committed transaction; UUID parameters typed as such."""
    statement = text(sql).bindparams(
        *(bindparam(k, v, type_=Uuid()) for k, v in params.items() if isinstance(v, uuid.UUID))
    )
    plain = {k: v for k, v in params.items() if not isinstance(v, uuid.UUID)}
    async with database.engine.begin() as connection:
        await connection.execute(statement, plain)


async def refused(database: Database, sql: str, **params: Any) -> str | None:
    """Run a statement that must fail; the name of what it violated."""
    with pytest.raises(IntegrityError) as caught:
        await run(database, sql, **params)
    return violated_constraint(caught.value)


async def add_user(database: Database) -> uuid.UUID:
    user_id = new_id()
    name = f"u{user_id.hex[-12:]}"
    await run(
        database,
        "INSERT INTO users (id, username, username_key, role, is_visitor, status, password_hash)"
        " VALUES (:id, :name, :name, 'customer', false, 'offline', 'x')",
        id=user_id,
        name=name,
    )
    return user_id


async def add_pair(database: Database) -> tuple[uuid.UUID, uuid.UUID]:
    first, second = sorted([await add_user(database), await add_user(database)])
    return first, second


async def add_chat(database: Database, user1: uuid.UUID, user2: uuid.UUID) -> uuid.UUID:
    chat_id = new_id()
    await run(
        database,
        "INSERT INTO single_chats (id, user1_id, user2_id) VALUES (:id, :a, :b)",
        id=chat_id,
        a=user1,
        b=user2,
    )
    return chat_id


async def add_group(database: Database, owner: uuid.UUID) -> uuid.UUID:
    group_id = new_id()
    await run(
        database,
        "INSERT INTO groups (id, owner_id, title) VALUES (:id, :owner, 'g')",
        id=group_id,
        owner=owner,
    )
    return group_id


INSERT_MEMBER = (
    "INSERT INTO group_members (id, group_id, user_id, role) VALUES (:id, :g, :u, :role)"
)
INSERT_MESSAGE = (
    "INSERT INTO messages (id, single_chat_id, group_id, sender_id, client_id, seq, ordinal,"
    " message_type, content, parent_message_id)"
    " VALUES (:id, :chat, :grp, :sender, :client, :seq, 1, 'text', 'x', :parent)"
)


async def add_message(
    database: Database,
    sender: uuid.UUID,
    *,
    chat: uuid.UUID | None = None,
    group: uuid.UUID | None = None,
    seq: int = 1,
    parent: uuid.UUID | None = None,
) -> uuid.UUID:
    message_id = new_id()
    await run(database, INSERT_MESSAGE, **_message(message_id, sender, chat, group, seq, parent))
    return message_id


def _message(
    message_id: uuid.UUID,
    sender: uuid.UUID,
    chat: uuid.UUID | None,
    group: uuid.UUID | None,
    seq: int,
    parent: uuid.UUID | None = None,
    client: str | None = None,
) -> dict[str, Any]:
    # NULLs go in as plain None (untyped), UUIDs typed.
    return {
        "id": message_id,
        "chat": chat,
        "grp": group,
        "sender": sender,
        "client": client or message_id.hex,
        "seq": seq,
        "parent": parent,
    }


# --- M2: a message belongs to exactly one conversation ------------------------------


async def test_a_message_in_both_a_single_chat_and_a_group_is_refused(database: Database) -> None:
    a, b = await add_pair(database)
    chat, group = await add_chat(database, a, b), await add_group(database, a)
    constraint = await refused(
        database, INSERT_MESSAGE, **_message(new_id(), a, chat=chat, group=group, seq=1)
    )
    assert constraint == "ck_messages_exactly_one_conversation"


async def test_a_message_in_no_conversation_is_refused(database: Database) -> None:
    a = await add_user(database)
    constraint = await refused(database, INSERT_MESSAGE, **_message(new_id(), a, None, None, 1))
    assert constraint == "ck_messages_exactly_one_conversation"


# --- M4: one single chat per pair, stored ordered -----------------------------------


async def test_a_single_chat_stored_with_the_pair_reversed_is_refused(database: Database) -> None:
    a, b = await add_pair(database)
    constraint = await refused(
        database,
        "INSERT INTO single_chats (id, user1_id, user2_id) VALUES (:id, :a, :b)",
        id=new_id(),
        a=b,
        b=a,
    )
    assert constraint == "ck_single_chats_ordered_pair"


async def test_a_single_chat_with_oneself_is_refused(database: Database) -> None:
    a = await add_user(database)
    constraint = await refused(
        database,
        "INSERT INTO single_chats (id, user1_id, user2_id) VALUES (:id, :a, :a)",
        id=new_id(),
        a=a,
    )
    assert constraint == "ck_single_chats_ordered_pair"


async def test_a_second_single_chat_for_the_same_pair_is_refused(database: Database) -> None:
    a, b = await add_pair(database)
    await add_chat(database, a, b)
    constraint = await refused(
        database,
        "INSERT INTO single_chats (id, user1_id, user2_id) VALUES (:id, :a, :b)",
        id=new_id(),
        a=a,
        b=b,
    )
    assert constraint in {
        "uq_single_chats_user1_id_user2_id",
        "single_chats.user1_id, single_chats.user2_id",
    }


# --- M5: memberships and roles -------------------------------------------------------


async def test_a_second_active_membership_is_refused(database: Database) -> None:
    owner, member = await add_pair(database)
    group = await add_group(database, owner)
    await run(database, INSERT_MEMBER, id=new_id(), g=group, u=member, role="member")
    constraint = await refused(
        database, INSERT_MEMBER, id=new_id(), g=group, u=member, role="admin"
    )
    assert constraint in {
        "uq_group_members_active",
        "group_members.group_id, group_members.user_id",
    }


async def test_past_memberships_do_not_block_rejoining(database: Database) -> None:
    owner, member = await add_pair(database)
    group = await add_group(database, owner)
    for left_seq in (1, 2):
        await run(
            database,
            "INSERT INTO group_members (id, group_id, user_id, role, left_at, left_seq)"
            " VALUES (:id, :g, :u, 'member', CURRENT_TIMESTAMP, :s)",
            id=new_id(),
            g=group,
            u=member,
            s=left_seq,
        )
    await run(database, INSERT_MEMBER, id=new_id(), g=group, u=member, role="member")
    async with database.engine.connect() as connection:
        rows = await connection.scalar(text("SELECT count(*) FROM group_members"))
    assert rows == 3


async def test_a_second_active_owner_is_refused(database: Database) -> None:
    owner, other = await add_pair(database)
    group = await add_group(database, owner)
    await run(database, INSERT_MEMBER, id=new_id(), g=group, u=owner, role="owner")
    constraint = await refused(database, INSERT_MEMBER, id=new_id(), g=group, u=other, role="owner")
    assert constraint in {"uq_group_members_one_owner", "group_members.group_id"}


async def test_a_role_outside_owner_admin_member_is_refused(database: Database) -> None:
    owner, member = await add_pair(database)
    group = await add_group(database, owner)
    constraint = await refused(
        database, INSERT_MEMBER, id=new_id(), g=group, u=member, role="guest"
    )
    assert constraint == "ck_group_members_role"


async def test_leaving_without_the_seq_of_departure_is_refused(database: Database) -> None:
    owner, member = await add_pair(database)
    group = await add_group(database, owner)
    constraint = await refused(
        database,
        "INSERT INTO group_members (id, group_id, user_id, role, left_at)"
        " VALUES (:id, :g, :u, 'member', CURRENT_TIMESTAMP)",
        id=new_id(),
        g=group,
        u=member,
    )
    assert constraint == "ck_group_members_left_together"


# --- M7, M8: receipts and reactions ---------------------------------------------------


async def test_a_duplicate_reaction_is_refused(database: Database) -> None:
    a, b = await add_pair(database)
    message = await add_message(database, a, chat=await add_chat(database, a, b))
    insert = "INSERT INTO reactions (id, message_id, user_id, emoji) VALUES (:id, :m, :u, :e)"
    await run(database, insert, id=new_id(), m=message, u=b, e="👍")
    await run(database, insert, id=new_id(), m=message, u=b, e="❤️")  # another emoji is fine
    constraint = await refused(database, insert, id=new_id(), m=message, u=b, e="👍")
    assert constraint in {
        "uq_reactions_message_id_user_id_emoji",
        "reactions.message_id, reactions.user_id, reactions.emoji",
    }


async def test_a_duplicate_read_receipt_is_refused(database: Database) -> None:
    a, b = await add_pair(database)
    message = await add_message(database, a, chat=await add_chat(database, a, b))
    insert = "INSERT INTO message_reads (id, message_id, user_id) VALUES (:id, :m, :u)"
    await run(database, insert, id=new_id(), m=message, u=b)
    constraint = await refused(database, insert, id=new_id(), m=message, u=b)
    assert constraint in {
        "uq_message_reads_message_id_user_id",
        "message_reads.message_id, message_reads.user_id",
    }


# --- the rest of the rules ------------------------------------------------------------


async def test_a_reply_to_a_message_of_another_conversation_is_refused(
    database: Database,
) -> None:
    a, b = await add_pair(database)
    elsewhere = await add_message(database, a, group=await add_group(database, a))
    chat = await add_chat(database, a, b)
    constraint = await refused(
        database, INSERT_MESSAGE, **_message(new_id(), a, chat, None, 1, parent=elsewhere)
    )
    # SQLite names no foreign key in its message.
    assert constraint in {"fk_messages_parent_same_single_chat", None}
    # ... while a reply within the conversation is fine.
    parent = await add_message(database, a, chat=chat, seq=2)
    await add_message(database, b, chat=chat, seq=3, parent=parent)


async def test_a_pin_of_a_message_of_another_conversation_is_refused(database: Database) -> None:
    a, b = await add_pair(database)
    group = await add_group(database, a)
    message = await add_message(database, a, chat=await add_chat(database, a, b))
    constraint = await refused(
        database,
        "INSERT INTO pins (id, group_id, message_id, pinned_by_id) VALUES (:id, :g, :m, :u)",
        id=new_id(),
        g=group,
        m=message,
        u=a,
    )
    assert constraint in {"fk_pins_message_same_group", None}


async def test_a_second_message_with_the_same_client_id_from_one_sender_is_refused(
    database: Database,
) -> None:
    a, b = await add_pair(database)
    chat = await add_chat(database, a, b)
    await run(database, INSERT_MESSAGE, **_message(new_id(), a, chat, None, 1, client="c-1"))
    constraint = await refused(
        database, INSERT_MESSAGE, **_message(new_id(), a, chat, None, 2, client="c-1")
    )
    assert constraint in {
        "uq_messages_sender_id_client_id",
        "messages.sender_id, messages.client_id",
    }


async def test_two_messages_with_one_seq_in_a_conversation_are_refused(database: Database) -> None:
    a = await add_user(database)
    group = await add_group(database, a)
    await add_message(database, a, group=group, seq=7)
    constraint = await refused(database, INSERT_MESSAGE, **_message(new_id(), a, None, group, 7))
    assert constraint in {"uq_messages_group_id_seq", "messages.group_id, messages.seq"}


async def test_two_events_with_one_seq_in_a_conversation_are_refused(database: Database) -> None:
    insert = (
        "INSERT INTO conversation_events (id, conversation, seq, type, payload)"
        " VALUES (:id, 'group:x', 1, 'message:new', '{}')"
    )
    await run(database, insert, id=new_id())
    constraint = await refused(database, insert, id=new_id())
    assert constraint in {
        "uq_conversation_events_conversation_seq",
        "conversation_events.conversation, conversation_events.seq",
    }


async def test_a_deleted_message_that_keeps_its_content_is_refused(database: Database) -> None:
    a = await add_user(database)
    group = await add_group(database, a)
    constraint = await refused(
        database,
        "INSERT INTO messages (id, group_id, sender_id, client_id, seq, ordinal, message_type,"
        " content, deleted_at)"
        " VALUES (:id, :g, :u, 'c', 1, 1, 'text', 'secret', CURRENT_TIMESTAMP)",
        id=new_id(),
        g=group,
        u=a,
    )
    assert constraint == "ck_messages_deleted_has_no_content"


async def test_a_message_type_outside_text_image_file_is_refused(database: Database) -> None:
    a = await add_user(database)
    group = await add_group(database, a)
    constraint = await refused(
        database,
        "INSERT INTO messages (id, group_id, sender_id, client_id, seq, ordinal, message_type,"
        " content) VALUES (:id, :g, :u, 'c', 1, 1, 'video', 'x')",
        id=new_id(),
        g=group,
        u=a,
    )
    assert constraint == "ck_messages_message_type"


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO group_members (id, group_id, user_id, role) VALUES (:id, :x, :u, 'member')",
        "INSERT INTO messages (id, group_id, sender_id, client_id, seq, ordinal, message_type,"
        " content) VALUES (:id, :x, :u, 'c', 1, 1, 'text', 'x')",
        "INSERT INTO reactions (id, message_id, user_id, emoji) VALUES (:id, :x, :u, 'e')",
        "INSERT INTO message_reads (id, message_id, user_id) VALUES (:id, :x, :u)",
        "INSERT INTO conversation_settings (id, user_id, group_id) VALUES (:id, :u, :x)",
    ],
    ids=["membership", "message", "reaction", "receipt", "settings"],
)
async def test_rows_pointing_at_nothing_are_refused_by_foreign_keys(
    database: Database, statement: str
) -> None:
    user = await add_user(database)
    await refused(database, statement, id=new_id(), x=new_id(), u=user)


async def test_rows_of_an_unknown_user_are_refused_by_foreign_keys(database: Database) -> None:
    owner = await add_user(database)
    group = await add_group(database, owner)
    await refused(database, INSERT_MEMBER, id=new_id(), g=group, u=new_id(), role="member")
