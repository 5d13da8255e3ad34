"""Wire models of messaging: REST requests and answers, and Socket.IO event bodies.

Event bodies (``*Event``) are stored as the payload of their conversation event
and sent unchanged, live and on replay; ``EVENT`` is the Socket.IO event name.
"""

from __future__ import annotations

import unicodedata
import uuid
from datetime import datetime
from typing import Annotated, ClassVar, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    field_validator,
)

from goftogu.bounds import MAX_INT
from goftogu.identity.schemas import UserPublic
from goftogu.messaging.models import GroupRole, MessageType
from goftogu.pages import ListPage
from goftogu.text import Line, Text, safe_filename

MAX_ATTACHMENTS_PER_MESSAGE = 10
MAX_INITIAL_MEMBERS = 200
MAX_PAGE = 200


def _not_blank(value: str) -> str:
    value = unicodedata.normalize("NFC", value).strip()
    if not value:
        raise ValueError("must not be blank")
    return value


def _emoji(value: str) -> str:
    if not value or any(c.isspace() or unicodedata.category(c) == "Cc" for c in value):
        raise ValueError("one emoji, without spaces")
    if any(c.isascii() and c.isalnum() for c in value):
        raise ValueError("an emoji, not letters or digits")
    return value


ClientId = Annotated[
    Line,
    Field(
        min_length=1,
        max_length=64,
        description="the sender's id for this message: a retry"
        " with the same client_id returns the first message",
    ),
    AfterValidator(_not_blank),
]
Title = Annotated[Line, Field(min_length=1, max_length=128), AfterValidator(_not_blank)]
Description = Annotated[Text, Field(max_length=2048)]
# The length limit is the service's (payload_too_large, a setting), not a 422.
Content = Text
Emoji = Annotated[Line, Field(min_length=1, max_length=32), AfterValidator(_emoji)]
Address = Annotated[
    Line, Field(min_length=1, max_length=80, description="`single:<id>` or `group:<id>`")
]
AssignableRole = Literal[GroupRole.admin, GroupRole.member]
MemberChange = Literal["added", "left", "removed", "role_changed", "owner_changed"]


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OpenSingleChat(Request):
    user_id: uuid.UUID


class CreateGroup(Request):
    title: Title
    description: Description | None = None
    avatar_url: HttpUrl | None = None
    member_ids: Annotated[list[uuid.UUID], Field(max_length=MAX_INITIAL_MEMBERS)] = []


class UpdateGroup(Request):
    title: Title | None = None
    description: Description | None = None
    avatar_url: HttpUrl | None = None


class AddMember(Request):
    user_id: uuid.UUID
    role: AssignableRole = GroupRole.member


class ChangeRole(Request):
    role: AssignableRole


class TransferOwnership(Request):
    user_id: uuid.UUID


class SendMessage(Request):
    """A new message; ``message_type`` defaults to ``image`` when every attachment is
    an image, ``file`` when there are others, ``text`` without attachments."""

    client_id: ClientId
    content: Content | None = None
    message_type: MessageType | None = None
    parent_message_id: uuid.UUID | None = None
    attachment_ids: Annotated[list[uuid.UUID], Field(max_length=MAX_ATTACHMENTS_PER_MESSAGE)] = []


class EditMessage(Request):
    content: Content


class ForwardMessage(Request):
    to: Address
    client_id: ClientId | None = None


class AddReaction(Request):
    emoji: Emoji


class MarkRead(Request):
    up_to_seq: Annotated[int, Field(ge=0, le=MAX_INT)]


class PinMessage(Request):
    message_id: uuid.UUID


class UpdateSettings(Request):
    archived: bool | None = None
    muted_until: AwareDatetime | None = Field(
        default=None, description="mute until this time (with its time zone); null unmutes"
    )


# --- Socket.IO client events (payloads; api.md) --------------------------------


class SendMessageEvent(SendMessage):
    """``message:send``: a ``SendMessage`` naming its conversation."""

    conversation: Address

    def message(self) -> SendMessage:
        return SendMessage(**self.model_dump(exclude={"conversation"}, exclude_unset=True))


class EditMessageEvent(EditMessage):
    """``message:edit``."""

    message_id: uuid.UUID


class DeleteMessageEvent(Request):
    """``message:delete``."""

    message_id: uuid.UUID


class MarkReadEvent(MarkRead):
    """``message:read``."""

    conversation: Address


class ReactionEvent(AddReaction):
    """``reaction:add`` and ``reaction:remove``."""

    message_id: uuid.UUID


class TypingEvent(Request):
    """``typing:start`` and ``typing:stop``."""

    conversation: Address


# --- answers -------------------------------------------------------------------


class Public(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class AttachmentPublic(Public):
    id: uuid.UUID
    filename: str
    content_type: str
    size_bytes: int
    created_at: datetime

    @field_validator("filename")
    @classmethod
    def _shown_safely(cls, value: str) -> str:
        # Uploads are cleaned as they come in; a name stored before that rule is too.
        return safe_filename(value) or "file"


class ForwardedFrom(BaseModel):
    message_id: uuid.UUID
    sender_id: uuid.UUID | None


class MessagePublic(BaseModel):
    """A message as every member sees it; a deleted one keeps its place without content."""

    id: uuid.UUID
    conversation: str
    seq: int
    sender_id: uuid.UUID
    client_id: str
    message_type: MessageType
    content: str | None
    parent_message_id: uuid.UUID | None
    forwarded_from: ForwardedFrom | None
    attachments: list[AttachmentPublic]
    created_at: datetime
    edited_at: datetime | None
    deleted_at: datetime | None


class ReactionCount(BaseModel):
    emoji: str
    count: int
    reacted: bool = Field(description="whether the caller is among them")


class HistoryMessage(MessagePublic):
    reactions: list[ReactionCount]


class MessagePage(BaseModel):
    items: list[HistoryMessage]
    has_more: bool
    next_cursor: str | None = Field(
        default=None,
        description="the seq to page on from: pass it as `before_seq` (newest first) or "
        "`after_seq` (paging forward); null on the last page",
    )


class MessageVersion(BaseModel):
    version: int
    content: str | None
    replaced_at: datetime


class ReactionPublic(Public):
    message_id: uuid.UUID
    user_id: uuid.UUID
    emoji: str
    created_at: datetime


class ReceiptPublic(Public):
    user_id: uuid.UUID
    read_at: datetime


class ReadState(BaseModel):
    conversation: str
    last_read_seq: int
    unread_count: int


class SingleChatPublic(BaseModel):
    id: uuid.UUID
    conversation: str
    user_ids: tuple[uuid.UUID, uuid.UUID]
    created_at: datetime


class GroupPublic(BaseModel):
    id: uuid.UUID
    conversation: str
    title: str
    description: str | None
    avatar_url: str | None
    owner_id: uuid.UUID
    created_at: datetime
    updated_at: datetime


class GroupDetails(GroupPublic):
    my_role: GroupRole | None = Field(description="null for a former member")
    member_count: int


class MemberPublic(BaseModel):
    user: UserPublic
    role: GroupRole
    joined_at: datetime
    added_by_id: uuid.UUID | None


class PinPublic(BaseModel):
    message: MessagePublic
    pinned_by_id: uuid.UUID
    pinned_at: datetime


class SettingsPublic(BaseModel):
    """The caller's view of a conversation; also sent to their other devices."""

    EVENT: ClassVar[str] = "conversation:settings"  # to user:<id>
    conversation: str
    archived: bool
    muted_until: datetime | None


class ConversationSummary(BaseModel):
    """One line of the caller's conversation list."""

    conversation: str
    kind: Literal["single", "group"]
    title: str | None = Field(description="groups: the title")
    avatar_url: str | None = Field(description="groups: the group's avatar")
    peer: UserPublic | None = Field(description="single chats: the other user")
    role: GroupRole | None = Field(description="groups: the caller's role")
    last_message: MessagePublic | None
    last_activity_at: datetime
    last_seq: int
    last_read_seq: int
    unread_count: int = Field(description="messages from others after the caller's watermark")
    archived: bool
    muted_until: datetime | None


class MessagingCounts(BaseModel):
    """How many conversations and messages exist (the admin health page)."""

    single_chats: int
    groups: int
    messages: int


class ConversationPage(BaseModel):
    items: list[ConversationSummary]
    has_more: bool
    next_cursor: str | None = None


# --- Socket.IO server events (bodies) -------------------------------------------


class ConversationEventBody(BaseModel):
    EVENT: ClassVar[str]
    conversation: str
    seq: int


class MessageNewEvent(ConversationEventBody):
    EVENT: ClassVar[str] = "message:new"
    message: MessagePublic


class MessageEditedEvent(ConversationEventBody):
    EVENT: ClassVar[str] = "message:edited"
    message: MessagePublic


class MessageDeletedEvent(ConversationEventBody):
    EVENT: ClassVar[str] = "message:deleted"
    message_id: uuid.UUID
    deleted_at: datetime
    deleted_by: uuid.UUID


class MessageReadEvent(ConversationEventBody):
    EVENT: ClassVar[str] = "message:read"
    user_id: uuid.UUID
    up_to_seq: int
    read_at: datetime


class ReactionAddedEvent(ConversationEventBody):
    EVENT: ClassVar[str] = "reaction:added"
    message_id: uuid.UUID
    user_id: uuid.UUID
    emoji: str


class ReactionRemovedEvent(ReactionAddedEvent):
    EVENT: ClassVar[str] = "reaction:removed"


class MessagePinnedEvent(ConversationEventBody):
    EVENT: ClassVar[str] = "message:pinned"
    message_id: uuid.UUID
    user_id: uuid.UUID


class MessageUnpinnedEvent(MessagePinnedEvent):
    EVENT: ClassVar[str] = "message:unpinned"


class GroupUpdatedEvent(ConversationEventBody):
    EVENT: ClassVar[str] = "group:updated"
    group: GroupPublic
    by: uuid.UUID


class GroupMemberEvent(ConversationEventBody):
    """Membership changed: ``added``, ``left``, ``removed``, ``role_changed``,
    ``owner_changed`` (``user_id`` is the new owner, ``by`` the old one)."""

    EVENT: ClassVar[str] = "group:member"
    change: MemberChange
    user_id: uuid.UUID
    role: GroupRole | None
    by: uuid.UUID


class ConversationJoinedEvent(BaseModel):
    """To ``user:<id>``: you are now in this conversation (its room was joined)."""

    EVENT: ClassVar[str] = "conversation:joined"
    conversation: str
    kind: Literal["single", "group"]
    by: uuid.UUID | None


class ConversationLeftEvent(BaseModel):
    """To ``user:<id>``: you are no longer in this conversation."""

    EVENT: ClassVar[str] = "conversation:left"
    conversation: str
    reason: Literal["left", "removed"]
    by: uuid.UUID


# --- lists (one shape: goftogu/pages.py) ------------------------------------------


class MessageVersionList(ListPage[MessageVersion]):
    """MessageVersion items, answered whole."""


class ReceiptList(ListPage[ReceiptPublic]):
    """ReceiptPublic items, answered whole."""


class ReactionList(ListPage[ReactionPublic]):
    """ReactionPublic items (who reacted with what), answered whole."""


class MemberList(ListPage[MemberPublic]):
    """MemberPublic items, answered whole."""


class PinList(ListPage[PinPublic]):
    """PinPublic items, answered whole."""
