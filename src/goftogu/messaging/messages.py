"""Messages: send (idempotent), reply, forward, edit (versions kept), soft delete, history.

Every change locks its conversation first and checks membership under that
lock (``goftogu.messaging.preamble``), so a member removed a moment earlier
cannot slip a message in after their departure, and the changes of a
conversation have gap-free seqs.
"""

from __future__ import annotations

import functools
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, bindparam, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from goftogu.bus import Transaction
from goftogu.errors import (
    Conflict,
    DomainError,
    MessageDeleted,
    NotAllowed,
    NotFound,
    ParentNotInConversation,
    ValidationFailed,
)
from goftogu.identity.tokens import Principal
from goftogu.messaging.access import Grant, require_messaging_user
from goftogu.messaging.addresses import ConversationRef, parse_address
from goftogu.messaging.batch import PlainSend, SendBatcher
from goftogu.messaging.common import (
    MessageStored,
    MessagingContext,
    Unchanged,
    check_length,
    conversation_columns,
    parse_message_id,
)
from goftogu.messaging.events import record_event
from goftogu.messaging.models import (
    Attachment,
    ConversationEvent,
    GroupMember,
    GroupRole,
    Message,
    MessageEdit,
    MessageType,
    Pin,
)
from goftogu.messaging.preamble import lock_conversation, lock_message, visible_message
from goftogu.messaging.reads import advance_watermark
from goftogu.messaging.schemas import (
    MAX_PAGE,
    HistoryMessage,
    MessageDeletedEvent,
    MessageEditedEvent,
    MessageNewEvent,
    MessagePublic,
    MessageVersion,
    SendMessage,
)
from goftogu.messaging.serialisers import attachments_of, history_page, message_public
from goftogu.storage.errors import is_unique_violation
from goftogu.storage.models import utcnow


@dataclass(frozen=True)
class _Draft:
    """A message about to be stored: sent by its author, or forwarded."""

    client_id: str
    content: str | None
    message_type: MessageType | None
    parent_id: uuid.UUID | None = None
    attachment_ids: Sequence[uuid.UUID] = ()
    forward_of: Message | None = None
    forward_files: Sequence[Attachment] = field(default_factory=list)


class Messages:
    def __init__(self, context: MessagingContext) -> None:
        self._db = context.database
        self._work = context.work
        self._access = context.access
        self._max_length = context.max_message_length
        self._batcher = SendBatcher(
            context.work,
            self._send_alone,
            policy=context.send_admission,
            max_batch=context.send_admission.in_flight,
        )

    @property
    def queued_sends(self) -> int:
        """Sends waiting for their batch now."""
        return self._batcher.queued

    # --- send ------------------------------------------------------------------

    async def send_message(
        self, principal: Principal, address: str, message: SendMessage
    ) -> tuple[MessagePublic, bool]:
        """Store a message and emit ``message:new``; returns (message, created).

        Idempotent on (sender, ``client_id``): a retry returns the first message
        with ``created=False`` and emits nothing. Codes: ``payload_too_large``,
        ``validation_error``, ``not_found``, ``not_a_member``,
        ``parent_not_in_conversation``, ``message_deleted`` (the parent),
        ``conflict`` (client_id used in another conversation, attachment already sent).
        """
        ref = parse_address(address)
        draft = _Draft(
            client_id=message.client_id,
            content=message.content,
            message_type=message.message_type,
            parent_id=message.parent_message_id,
            attachment_ids=list(dict.fromkeys(message.attachment_ids)),
        )
        return await self._send(principal, ref, draft)

    async def forward_message(
        self,
        principal: Principal,
        message_id: str | uuid.UUID,
        to: str,
        client_id: str | None = None,
    ) -> tuple[MessagePublic, bool]:
        """Copy a message the caller can read into a conversation they can write to,
        keeping a reference to the original (its first origin, for a forward of a
        forward). ``client_id`` makes it idempotent like a send."""
        parsed = parse_message_id(message_id)
        target = parse_address(to)
        async with self._db.reading() as session:
            _grant, original = await visible_message(session, self._access, principal, parsed)
            if original.deleted_at is not None:
                raise MessageDeleted()
            files = (await attachments_of(session, [original])).get(original.id, [])
        draft = _Draft(
            client_id=client_id or f"forward-{secrets.token_hex(12)}",
            content=original.content,
            message_type=MessageType(original.message_type),
            forward_of=original,
            forward_files=files,
        )
        return await self._send(principal, target, draft)

    async def _send(
        self, principal: Principal, ref: ConversationRef, draft: _Draft
    ) -> tuple[MessagePublic, bool]:
        require_messaging_user(principal)
        check_length(draft.content, self._max_length)
        if draft.forward_of is None and not draft.attachment_ids:
            # The common case, text: stored with the sends of the same moment
            # (group commit, ``goftogu.messaging.batch``).
            kind = _message_type(draft.message_type, draft.content, ())
            plain = PlainSend(draft.client_id, draft.content or "", kind, draft.parent_id)
            return await self._batcher.submit(principal, ref, plain)
        return await self._send_one(principal, ref, draft)

    async def _send_alone(
        self, principal: Principal, ref: ConversationRef, plain: PlainSend
    ) -> tuple[MessagePublic, bool]:
        """A plain send through the single path (the batcher's retries and fallback)."""
        draft = _Draft(plain.client_id, plain.content, plain.message_type, plain.parent_id)
        return await self._send_one(principal, ref, draft)

    async def _send_one(
        self, principal: Principal, ref: ConversationRef, draft: _Draft
    ) -> tuple[MessagePublic, bool]:
        """One send in a transaction of its own (files, forwards, and what a batch
        hands back)."""
        # Insert first: a retry (same client_id) is rare, so it pays for itself by
        # failing on the unique constraint; the first send reads nothing extra.
        try:
            async with self._work.transaction() as work:
                public = await self._store(work, principal, ref, draft)
        except IntegrityError as error:
            # A retry, or two sends with one client_id racing: the first one wins and
            # the others answer with its message.
            if not is_unique_violation(
                error,
                constraint="uq_messages_sender_id_client_id",
                columns="messages.sender_id, messages.client_id",
            ):
                raise
            earlier = await self._sent_before(principal.user_id, draft.client_id)
            if earlier is None:
                raise
            return _same_conversation(earlier, ref), False
        except DomainError:
            # A retry can also trip over what the first send changed (its files are
            # attached, its parent deleted since): it still answers the first message.
            earlier = await self._sent_before(principal.user_id, draft.client_id)
            if earlier is None:
                raise
            return _same_conversation(earlier, ref), False
        return public, True

    async def _store(
        self, work: Transaction, principal: Principal, ref: ConversationRef, draft: _Draft
    ) -> MessagePublic:
        session, now = work.session, utcnow()
        counters = (
            await lock_conversation(session, self._access, principal, ref, message_at=now)
        ).counters
        await _check_parent(session, ref, draft.parent_id)
        files = (
            _copies(draft.forward_files)
            if draft.forward_of is not None
            else await _own_unsent_files(session, principal.user_id, draft.attachment_ids)
        )
        message_type = _message_type(draft.message_type, draft.content, files)
        original = draft.forward_of
        message = Message(
            **conversation_columns(ref),
            sender_id=principal.user_id,
            client_id=draft.client_id,
            seq=counters.seq,
            ordinal=counters.message_count,
            message_type=message_type,
            content=draft.content if draft.content else None,
            parent_message_id=draft.parent_id,
            forwarded_from_id=(original.forwarded_from_id or original.id) if original else None,
            forwarded_from_sender_id=(original.forwarded_from_sender_id or original.sender_id)
            if original
            else None,
            created_at=now,
            updated_at=now,
        )
        session.add(message)
        await session.flush()
        await _attach(session, message.id, files)
        await advance_watermark(
            session,
            ref,
            principal.user_id,
            up_to_seq=counters.seq,
            read_count=counters.message_count,
            at=now,
        )
        public = message_public(message, files)
        body = MessageNewEvent(conversation=ref.address, seq=counters.seq, message=public)
        record_event(work, body, message_id=message.id)
        work.announce(MessageStored(ref, message))
        return public

    async def _sent_before(self, sender_id: uuid.UUID, client_id: str) -> MessagePublic | None:
        async with self._db.reading() as session:
            message = await session.scalar(
                select(Message).where(
                    Message.sender_id == sender_id, Message.client_id == client_id
                )
            )
            if message is None:
                return None
            files = await attachments_of(session, [message])
            return message_public(message, files.get(message.id, ()))

    # --- edit and delete ---------------------------------------------------------

    async def edit_message(
        self, principal: Principal, message_id: str | uuid.UUID, content: str
    ) -> MessagePublic:
        """Replace the content (sender only), keep the previous version, set
        ``edited_at``, emit ``message:edited``. The same content changes nothing."""
        require_messaging_user(principal)
        check_length(content, self._max_length)
        parsed = parse_message_id(message_id)
        now = utcnow()
        try:
            async with self._work.transaction() as work:
                session = work.session
                locked = await lock_message(session, self._access, principal, parsed, live=False)
                message = locked.message
                if message.sender_id != principal.user_id:
                    raise NotAllowed("Only the sender may edit a message.")
                if message.deleted_at is not None:
                    raise MessageDeleted()
                files = (await attachments_of(session, [message])).get(message.id, [])
                new_content = content or None
                if new_content == message.content:
                    raise Unchanged(message_public(message, files))
                _message_type(MessageType(message.message_type), new_content, files)
                versions = await session.scalar(
                    select(func.count()).where(MessageEdit.message_id == parsed)
                )
                session.add(
                    MessageEdit(
                        message_id=parsed,
                        version=(versions or 0) + 1,
                        content=message.content,
                        created_at=now,
                    )
                )
                message.content, message.edited_at = new_content, now
                await session.flush()
                public = message_public(message, files)
                body = MessageEditedEvent(
                    conversation=locked.ref.address, seq=locked.seq, message=public
                )
                record_event(work, body, message_id=parsed)
        except Unchanged as unchanged:
            same: MessagePublic = unchanged.result
            return same
        return public

    async def delete_message(self, principal: Principal, message_id: str | uuid.UUID) -> None:
        """Soft-delete: the row stays (its place in history), its content, files,
        previous versions and pin go, and earlier events stop carrying its content.
        The sender may, and in groups an owner or admin above the sender's role.
        Deleting a deleted message changes nothing."""
        require_messaging_user(principal)
        parsed = parse_message_id(message_id)
        now = utcnow()
        try:
            async with self._work.transaction() as work:
                session = work.session
                locked = await lock_message(session, self._access, principal, parsed, live=False)
                message = locked.message
                if message.deleted_at is not None:
                    raise Unchanged(None)
                await _check_may_delete(session, locked.grant, message)
                message.content, message.deleted_at = None, now
                message.deleted_by_id = principal.user_id
                await session.execute(delete(MessageEdit).where(MessageEdit.message_id == parsed))
                await session.execute(delete(Pin).where(Pin.message_id == parsed))
                await session.flush()
                await _redact_events(session, message)
                body = MessageDeletedEvent(
                    conversation=locked.ref.address,
                    seq=locked.seq,
                    message_id=parsed,
                    deleted_at=now,
                    deleted_by=principal.user_id,
                )
                record_event(work, body, message_id=parsed)
        except Unchanged:
            return

    # --- reading -----------------------------------------------------------------

    async def history(
        self,
        principal: Principal,
        address: str,
        *,
        before_seq: int | None = None,
        after_seq: int | None = None,
        limit: int = 50,
    ) -> tuple[list[HistoryMessage], bool]:
        """A page of messages by seq: newest first (below ``before_seq`` when given);
        with ``after_seq`` alone, oldest first above it. Returns (page, has_more).
        A former member sees messages up to their departure."""
        limit = max(1, min(limit, MAX_PAGE))
        async with self._db.reading() as session:
            grant = await self._access.grant(session, principal, address)
            statement = _history_statement(
                grant.ref.is_group,
                bounded=grant.visible_up_to is not None,
                before=before_seq is not None,
                after=after_seq is not None,
            )
            parameters = {
                "conversation": grant.ref.id,
                "bound": grant.visible_up_to,
                "before": before_seq,
                "after": after_seq,
                "limit": limit + 1,
            }
            rows = (await session.execute(statement, parameters)).all()
            page = await history_page(
                session, grant.ref, rows[:limit], principal.user_id, until=grant.left_at
            )
        return page, len(rows) > limit

    async def get_message(self, principal: Principal, message_id: str | uuid.UUID) -> MessagePublic:
        """One message, for a member who can see it."""
        parsed = parse_message_id(message_id)
        async with self._db.reading() as session:
            _grant, message = await visible_message(session, self._access, principal, parsed)
            files = await attachments_of(session, [message])
            return message_public(message, files.get(message.id, ()))

    async def versions_of(
        self, principal: Principal, message_id: str | uuid.UUID
    ) -> list[MessageVersion]:
        """The previous versions of an edited message, oldest first."""
        parsed = parse_message_id(message_id)
        async with self._db.reading() as session:
            await visible_message(session, self._access, principal, parsed)
            rows = await session.scalars(
                select(MessageEdit)
                .where(MessageEdit.message_id == parsed)
                .order_by(MessageEdit.version)
            )
            return [
                MessageVersion(version=r.version, content=r.content, replaced_at=r.created_at)
                for r in rows
            ]


@functools.cache
def _history_statement(group: bool, *, bounded: bool, before: bool, after: bool) -> Select[Any]:
    """The page query of one shape, built once: history is the hottest read of all,
    so it selects plain rows (not ORM objects) with a statement built only once."""
    conversation = Message.group_id if group else Message.single_chat_id
    statement = select(*Message.__table__.columns).where(conversation == bindparam("conversation"))
    if bounded:
        statement = statement.where(Message.seq <= bindparam("bound"))
    if before:
        statement = statement.where(Message.seq < bindparam("before"))
    if after:
        statement = statement.where(Message.seq > bindparam("after"))
    order = Message.seq.asc() if after and not before else Message.seq.desc()
    return statement.order_by(order).limit(bindparam("limit"))


def _same_conversation(earlier: MessagePublic, ref: ConversationRef) -> MessagePublic:
    if earlier.conversation != ref.address:
        raise Conflict(
            "This client_id was already used for a message in another conversation.",
            client_id=earlier.client_id,
        )
    return earlier


def _message_type(
    requested: MessageType | None, content: str | None, files: Sequence[Attachment]
) -> MessageType:
    """The type a message gets, or ``validation_error`` when content and files do not fit it."""
    images = bool(files) and all(f.content_type.startswith("image/") for f in files)
    kind = requested or (
        MessageType.image if images else MessageType.file if files else MessageType.text
    )
    if kind is MessageType.text:
        if files:
            raise ValidationFailed("A text message has no attachments; send an image or file.")
        if not content or not content.strip():
            raise ValidationFailed("A text message needs some content.")
    elif not files:
        raise ValidationFailed(f"An {kind.value} message needs at least one attachment.")
    elif kind is MessageType.image and not images:
        raise ValidationFailed("Every attachment of an image message must be an image.")
    return kind


async def _check_parent(
    session: AsyncSession, ref: ConversationRef, parent_id: uuid.UUID | None
) -> None:
    if parent_id is None:
        return
    row = (
        await session.execute(
            select(Message.single_chat_id, Message.group_id, Message.deleted_at).where(
                Message.id == parent_id
            )
        )
    ).one_or_none()
    if row is None or ConversationRef.of_columns(row[0], row[1]) != ref:
        raise ParentNotInConversation(parent_message_id=str(parent_id))
    if row[2] is not None:
        raise MessageDeleted("The message replied to was deleted.")


async def _own_unsent_files(
    session: AsyncSession, user_id: uuid.UUID, ids: Sequence[uuid.UUID]
) -> list[Attachment]:
    if not ids:
        return []
    found = {
        a.id: a for a in await session.scalars(select(Attachment).where(Attachment.id.in_(ids)))
    }
    files = []
    for attachment_id in ids:
        attachment = found.get(attachment_id)
        if attachment is None or attachment.uploader_id != user_id:
            raise NotFound("No such attachment.", attachment_id=str(attachment_id))
        if attachment.message_id is not None or attachment.support_chat_id is not None:
            raise Conflict("This attachment was already sent.", attachment_id=str(attachment_id))
        files.append(attachment)
    return files


def _copies(files: Sequence[Attachment]) -> list[Attachment]:
    """New rows for a forwarded message's files, sharing the stored bytes."""
    return [
        Attachment(
            uploader_id=f.uploader_id,
            filename=f.filename,
            content_type=f.content_type,
            size_bytes=f.size_bytes,
            sha256=f.sha256,
            storage_name=f.storage_name,
        )
        for f in sorted(files, key=lambda f: f.position)
    ]


async def _attach(session: AsyncSession, message_id: uuid.UUID, files: list[Attachment]) -> None:
    """Tie the files to the message, in order; an upload that a concurrent send
    attached first is a conflict (the conditional update finds no row)."""
    for position, attachment in enumerate(files):
        if attachment.id is None:  # a forwarded copy
            attachment.message_id, attachment.position = message_id, position
            session.add(attachment)
            continue
        claimed = await session.execute(
            update(Attachment)
            .where(Attachment.id == attachment.id, Attachment.message_id.is_(None))
            .values(message_id=message_id, position=position)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict("This attachment was already sent.", attachment_id=str(attachment.id))
        set_committed_value(attachment, "message_id", message_id)
        set_committed_value(attachment, "position", position)
    await session.flush()


async def _check_may_delete(session: AsyncSession, grant: Grant, message: Message) -> None:
    if message.sender_id == grant.user_id:
        return
    if not grant.ref.is_group or grant.role is None:
        raise NotAllowed("Only the sender may delete this message.")
    sender_role = await session.scalar(
        select(GroupMember.role).where(
            GroupMember.group_id == grant.ref.id,
            GroupMember.user_id == message.sender_id,
            GroupMember.left_at.is_(None),
        )
    )
    sender_rank = GroupRole(sender_role).rank if sender_role else GroupRole.member.rank
    if grant.role.rank <= sender_rank:
        raise NotAllowed("Only the sender, or an owner or admin above the sender, may delete it.")


async def _redact_events(session: AsyncSession, message: Message) -> None:
    """Earlier events of a deleted message carry it as it is now: without content."""
    redacted = message_public(message).model_dump(mode="json")
    events = await session.scalars(
        select(ConversationEvent).where(ConversationEvent.message_id == message.id)
    )
    for event in events:
        if "message" in event.payload:
            event.payload = {**event.payload, "message": redacted}
