"""Support conversations in the conversation API (``support:<id>`` addresses):
history paged by ``seq``, read watermarks both ways, files sent with messages.

The document holds the messages in order, so ``seq`` is a message's position
(from 1) and a page is a slice. Reads: the customer's watermark and the
assigned operator's are kept in the document; each side sees the other's (the
customer's "seen"). Files are uploaded through messaging's ``POST
/attachments`` (the same checks: size limit, type from the bytes) and held by
the conversation when sent; whoever may read the conversation downloads them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from goftogu.bus import Announcements
from goftogu.errors import NotAllowed, NotFound, ValidationFailed
from goftogu.identity.tokens import Principal
from goftogu.messaging.attachments import Attachments, StoredFile
from goftogu.support.desk import MAX_PAGE, Posted, SupportDesk
from goftogu.support.documents import FileRef, SenderKind, SupportChat
from goftogu.support.events import read_moved
from goftogu.support.schemas import MessagePublic
from goftogu.support.store import Reader

MAX_FILES = 10


@dataclass(frozen=True)
class SupportReads:
    conversation: str
    last_read_seq: int
    unread_count: int
    peer_last_read_seq: int  # the other side's watermark: "seen" up to there


def chat_id_of(address: str) -> str:
    if not isinstance(address, str) or not address.startswith("support:"):
        raise NotFound("No such conversation.", conversation=str(address)[:80])
    return address.removeprefix("support:")


class SupportConversations:
    def __init__(
        self, desk: SupportDesk, attachments: Attachments, announcements: Announcements
    ) -> None:
        self._desk = desk
        self._attachments = attachments
        self._announcements = announcements

    async def history(
        self,
        principal: Principal,
        chat_id: str,
        *,
        before_seq: int | None = None,
        after_seq: int | None = None,
        limit: int = 50,
    ) -> tuple[list[MessagePublic], bool]:
        """As messaging's history: newest first (below ``before_seq`` when given);
        with ``after_seq`` alone, oldest first above it. Returns (page, has_more)."""
        chat = (await self._desk.get_chat_for(principal, chat_id)).chat
        limit = max(1, min(limit, MAX_PAGE))
        numbered = [MessagePublic.of(m, i + 1) for i, m in enumerate(chat.messages)]
        low = after_seq or 0
        if before_seq is None and after_seq is not None:
            above = numbered[low:]
            return above[:limit], len(above) > limit
        high = len(numbered) if before_seq is None else min(before_seq - 1, len(numbered))
        window = numbered[low:high] if high > low else []
        page = list(reversed(window[-limit:]))
        return page, len(window) > limit

    async def send(
        self,
        principal: Principal,
        chat_id: str,
        client_id: str,
        body: str,
        attachment_ids: Sequence[str] = (),
    ) -> Posted:
        """A message with files: the message is checked, then the caller's uploads
        are held by the conversation, then it is sent (``SupportDesk.send_message``).
        Bad files (not theirs, sent elsewhere) store nothing."""
        if len(attachment_ids) > MAX_FILES:
            raise ValidationFailed(
                f"A message carries at most {MAX_FILES} files.", field="attachment_ids"
            )
        self._desk.check_message(client_id, body or "", with_files=bool(attachment_ids))
        chat = (await self._desk.get_chat_for(principal, chat_id)).chat
        files: list[FileRef] = []
        if attachment_ids:
            held = await self._attachments.hold_for_support(principal, attachment_ids, chat.id)
            files = [
                FileRef(
                    id=str(file.id),
                    filename=file.filename,
                    content_type=file.content_type,
                    size_bytes=file.size_bytes,
                )
                for file in held
            ]
        return await self._desk.send_message(principal, chat.id, client_id, body or "", files)

    async def mark_read(self, principal: Principal, chat_id: str, up_to_seq: int) -> SupportReads:
        """The customer or the assigned operator read up to ``up_to_seq`` (capped at
        the last message; a watermark never moves back). The other side hears
        ``support:read`` when it moved."""
        chat = (await self._desk.get_chat_for(principal, chat_id)).chat
        reader = self._reader(principal, chat)
        if reader is None:
            raise NotAllowed("Only the customer and the assigned operator mark it read.")
        if not isinstance(up_to_seq, int) or up_to_seq < 0:
            raise ValidationFailed("up_to_seq is a seq, 0 or more.", field="up_to_seq")
        seq = min(up_to_seq, len(chat.messages))
        before = _watermark(chat, reader)
        async with self._announcements.announcing() as work:
            moved = await self._desk.store.mark_read(chat.id, reader, seq)
            if moved is None:
                raise NotFound("No such support conversation.")
            if _watermark(moved, reader) > before:
                work.announce(read_moved(moved, reader, _watermark(moved, reader)))
        return _reads(moved, reader)

    async def read_state(self, principal: Principal, chat_id: str) -> SupportReads:
        chat = (await self._desk.get_chat_for(principal, chat_id)).chat
        return _reads(chat, self._reader(principal, chat) or "operator")

    async def file(self, principal: Principal, chat_id: str, attachment_id: str) -> StoredFile:
        """A file sent in the conversation, for whoever may read it."""
        chat = (await self._desk.get_chat_for(principal, chat_id)).chat
        if not any(f.id == attachment_id for m in chat.messages for f in m.attachments):
            raise NotFound("No such attachment in this conversation.")
        return await self._attachments.stored(attachment_id)

    def _reader(self, principal: Principal, chat: SupportChat) -> Reader | None:
        me = str(principal.user_id)
        if chat.customer.id == me:
            return "customer"
        if principal.is_staff and chat.operator_id == me:
            return "operator"
        return None


def _watermark(chat: SupportChat, reader: Reader) -> int:
    return chat.customer_read_seq if reader == "customer" else chat.operator_read_seq


def _reads(chat: SupportChat, reader: Reader) -> SupportReads:
    mine = _watermark(chat, reader)
    theirs = _watermark(chat, "operator" if reader == "customer" else "customer")
    own_kind = SenderKind.customer if reader == "customer" else SenderKind.operator
    unread = sum(1 for m in chat.messages[mine:] if m.sender.kind is not own_kind)
    return SupportReads(chat.conversation, mine, unread, theirs)
