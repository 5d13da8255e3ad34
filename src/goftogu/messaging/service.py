"""The messaging services of a process, built once (``container.messaging``).

Entry points for transports (REST routes, Socket.IO handlers), all taking the
caller's ``Principal`` first and raising ``DomainError`` codes:

- ``messages.send_message(principal, address, SendMessage) -> (MessagePublic, created)``
  (idempotent on the sender's ``client_id``), ``messages.edit_message``,
  ``messages.delete_message``, ``messages.forward_message``, ``messages.history``;
- ``reactions.add_reaction`` / ``reactions.remove_reaction(principal, message_id, emoji)``;
- ``reads.mark_read(principal, address, up_to_seq) -> ReadState``;
- ``events.events_after(principal, address, after_seq, limit) -> [ConversationEvent]``:
  replay in seq order; each row's ``type`` and ``payload`` are the Socket.IO event;
- ``access.rooms_of(user_id) -> [address]``: rooms to join on connect;
- ``access.check_can_read`` / ``access.check_can_write(principal, address) -> Grant``.
"""

from __future__ import annotations

from dataclasses import dataclass

from goftogu.messaging.access import Access
from goftogu.messaging.attachments import Attachments
from goftogu.messaging.chats import SingleChats
from goftogu.messaging.common import MessagingContext
from goftogu.messaging.conversations import Conversations
from goftogu.messaging.events import Events
from goftogu.messaging.groups import Groups
from goftogu.messaging.messages import Messages
from goftogu.messaging.pins import Pins
from goftogu.messaging.reactions import Reactions
from goftogu.messaging.reads import Reads
from goftogu.settings import Settings
from goftogu.storage.work import UnitsOfWork


@dataclass(frozen=True)
class Messaging:
    access: Access
    events: Events
    chats: SingleChats
    groups: Groups
    messages: Messages
    reactions: Reactions
    reads: Reads
    pins: Pins
    conversations: Conversations
    attachments: Attachments


def build_messaging(work: UnitsOfWork, access: Access, settings: Settings) -> Messaging:
    """The services, writing through ``work`` (whose bus tells clients, and the
    notifier through ``MessageStored``, what they did)."""
    context = MessagingContext(
        database=work.database,
        work=work,
        access=access,
        max_message_length=settings.max_message_length,
        max_attachment_bytes=settings.max_attachment_bytes,
        upload_quota_bytes=settings.upload_quota_bytes,
        attachments_dir=settings.effective_attachments_dir,
        send_admission=settings.admission("send"),
    )
    return Messaging(
        access=access,
        events=Events(work.database, access),
        chats=SingleChats(context),
        groups=Groups(context),
        messages=Messages(context),
        reactions=Reactions(context),
        reads=Reads(context),
        pins=Pins(context),
        conversations=Conversations(context),
        attachments=Attachments(context),
    )
