"""Staff-only content of a support conversation: private notes and labels.

A note is kept beside the messages, not among them: it has no ``seq``, is never
sent to the conversation's room (the customer is in it), and the customer's
view of the document, its message history and its transcript are all made of
messages only. Notes and label changes go to the ``operators`` room, which only
staff join.

Any operator or admin may note or label any conversation, whatever its status
(staff read every conversation: a note is how they hand knowledge on). A note
is written once: a retry with the same ``client_id`` answers the first.
"""

from __future__ import annotations

import re

from goftogu.bus import Announcements
from goftogu.errors import NotAllowed, NotFound, PayloadTooLarge, ValidationFailed
from goftogu.identity.tokens import Principal
from goftogu.ids import new_id
from goftogu.support.documents import Note, SupportChat, now
from goftogu.support.events import labels_changed, note_added
from goftogu.support.store import ChatStore, NoteAdded

MAX_LABEL = 40
MAX_LABELS = 20
MAX_NOTE = 16_000
MAX_CLIENT_ID = 64
# Letters and digits of any script, "-", "_", ".", ":" and inner spaces; casefolded.
_LABEL = re.compile(r"^[^\W_](?:[\w\-.: ]*[^\W_])?$")


def normalise_label(value: str) -> str:
    label = " ".join(value.split()).casefold() if isinstance(value, str) else ""
    if not label or len(label) > MAX_LABEL or not _LABEL.match(label):
        raise ValidationFailed(
            f"A label is 1 to {MAX_LABEL} letters, digits, spaces, '-', '_', '.' or ':'.",
            field="label",
        )
    return label


class SupportContent:
    def __init__(self, store: ChatStore, announcements: Announcements) -> None:
        self.store = store
        self._announcements = announcements

    async def add_note(
        self, principal: Principal, chat_id: str, client_id: str, body: str
    ) -> NoteAdded:
        me = _staff_id(principal)
        if not isinstance(client_id, str) or not 1 <= len(client_id) <= MAX_CLIENT_ID:
            raise ValidationFailed(
                f"client_id must be 1 to {MAX_CLIENT_ID} characters.", field="client_id"
            )
        if not isinstance(body, str) or not body.strip():
            raise ValidationFailed("The note is empty.", field="body")
        if len(body) > MAX_NOTE:
            raise PayloadTooLarge(
                f"A note holds at most {MAX_NOTE} characters.", limit=MAX_NOTE, length=len(body)
            )
        note = Note(
            id=str(new_id()), client_id=client_id, author_id=me, body=body, created_at=now()
        )
        async with self._announcements.announcing() as work:
            added = await self.store.add_note(chat_id, note) if isinstance(chat_id, str) else None
            if added is None:
                raise NotFound("No such support conversation.")
            if added.created:
                work.announce(note_added(added.chat, added.note))
        return added

    async def add_label(self, principal: Principal, chat_id: str, label: str) -> SupportChat:
        _staff_id(principal)
        label = normalise_label(label)
        chat = await self._chat(chat_id)
        if label in chat.labels:
            return chat
        if len(chat.labels) >= MAX_LABELS:
            raise ValidationFailed(
                f"A conversation carries at most {MAX_LABELS} labels.", field="label"
            )
        async with self._announcements.announcing() as work:
            changed = await self.store.add_label(chat.id, label)
            if changed is None:
                raise NotFound("No such support conversation.")
            work.announce(labels_changed(changed, added=label))
        return changed

    async def remove_label(self, principal: Principal, chat_id: str, label: str) -> SupportChat:
        _staff_id(principal)
        label = normalise_label(label)
        chat = await self._chat(chat_id)
        if label not in chat.labels:
            return chat
        async with self._announcements.announcing() as work:
            changed = await self.store.remove_label(chat.id, label)
            if changed is None:
                raise NotFound("No such support conversation.")
            work.announce(labels_changed(changed, removed=label))
        return changed

    async def _chat(self, chat_id: str) -> SupportChat:
        chat = await self.store.get(chat_id) if isinstance(chat_id, str) else None
        if chat is None:
            raise NotFound("No such support conversation.")
        return chat


def _staff_id(principal: Principal) -> str:
    if not principal.is_staff:
        raise NotAllowed("Only operators and admins write notes and labels.")
    return str(principal.user_id)
