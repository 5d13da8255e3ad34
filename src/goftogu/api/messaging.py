"""REST routes of messaging: chats, groups, conversations, messages, attachments.

Each route parses, calls one service function and serialises; rules live in
``goftogu.messaging``. Conversations are named by their address
(``single:<id>`` / ``group:<id>``) in paths.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response, status
from fastapi.responses import FileResponse
from starlette.datastructures import UploadFile as StarletteUploadFile

from goftogu.api.deps import (
    AttachmentsDep,
    ChatsDep,
    ConversationsDep,
    CurrentPrincipal,
    GroupsDep,
    MessagesDep,
    PathEmoji,
    PathId,
    PinsDep,
    ReactionsDep,
    ReadsDep,
    SettingsDep,
    SupportConversationsDep,
)
from goftogu.bounds import MAX_INT
from goftogu.errors import PayloadTooLarge, ValidationFailed
from goftogu.messaging.attachments import StoredFile
from goftogu.messaging.schemas import (
    MAX_PAGE,
    AddMember,
    AddReaction,
    AttachmentPublic,
    ChangeRole,
    ConversationPage,
    CreateGroup,
    EditMessage,
    ForwardMessage,
    GroupDetails,
    MarkRead,
    MemberList,
    MemberPublic,
    MessagePage,
    MessagePublic,
    MessageVersionList,
    OpenSingleChat,
    PinList,
    PinMessage,
    PinPublic,
    ReactionList,
    ReactionPublic,
    ReadState,
    ReceiptList,
    SendMessage,
    SettingsPublic,
    SingleChatPublic,
    TransferOwnership,
    UpdateGroup,
    UpdateSettings,
)
from goftogu.support.conversation import chat_id_of
from goftogu.support.schemas import (
    PostedMessage,
    SupportMessagePage,
    SupportReadState,
    posted_message,
)
from goftogu.text import Line

chats_router = APIRouter(prefix="/chats", tags=["messaging"])
conversations_router = APIRouter(prefix="/conversations", tags=["messaging"])
groups_router = APIRouter(prefix="/groups", tags=["messaging"])
messages_router = APIRouter(prefix="/messages", tags=["messaging"])
attachments_router = APIRouter(prefix="/attachments", tags=["messaging"])

Address = Annotated[
    Line,
    Path(
        max_length=80,
        description="a conversation address: `single:<id>`, `group:<id>`, or `support:<id>` "
        "(history, send and read only)",
    ),
]
UPLOAD_CHUNK = 64 * 1024
# Room for the multipart envelope around the file itself.
MULTIPART_OVERHEAD = 64 * 1024


def _created_or_found(response: Response, created: bool) -> None:
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK


# --- single chats and the conversation list ------------------------------------------


@chats_router.post(
    "/single",
    status_code=status.HTTP_201_CREATED,
    responses={200: {"description": "the chat already existed", "model": SingleChatPublic}},
)
async def open_single_chat(
    body: OpenSingleChat, response: Response, chats: ChatsDep, principal: CurrentPrincipal
) -> SingleChatPublic:
    """The one single chat with that user: 201 when new, 200 when it existed."""
    chat, created = await chats.open_chat(principal, body.user_id)
    _created_or_found(response, created)
    return chat


@conversations_router.get("")
async def list_conversations(
    conversations: ConversationsDep,
    principal: CurrentPrincipal,
    archived: bool | None = None,
    cursor: Annotated[Line | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> ConversationPage:
    """The caller's single chats and groups, latest activity first."""
    return await conversations.list_for(principal, archived=archived, cursor=cursor, limit=limit)


@conversations_router.put("/{address}/settings")
async def update_settings(
    address: Address,
    body: UpdateSettings,
    conversations: ConversationsDep,
    principal: CurrentPrincipal,
) -> SettingsPublic:
    """Archive or mute the conversation for the caller."""
    return await conversations.update_settings(principal, address, body)


# --- messages of a conversation --------------------------------------------------------


@conversations_router.get("/{address}/messages")
async def history(
    address: Address,
    messages: MessagesDep,
    support: SupportConversationsDep,
    principal: CurrentPrincipal,
    before_seq: Annotated[int | None, Query(ge=1, le=MAX_INT)] = None,
    after_seq: Annotated[int | None, Query(ge=0, le=MAX_INT)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> MessagePage | SupportMessagePage:
    """Messages by seq: newest first (below ``before_seq``); with ``after_seq`` alone,
    oldest first above it. A ``support:<id>`` conversation answers its support
    messages (``SupportMessagePage``)."""
    if address.startswith("support:"):
        found, more = await support.history(
            principal,
            chat_id_of(address),
            before_seq=before_seq,
            after_seq=after_seq,
            limit=limit,
        )
        last = str(found[-1].seq) if more and found else None
        return SupportMessagePage(items=found, has_more=more, next_cursor=last)
    items, has_more = await messages.history(
        principal, address, before_seq=before_seq, after_seq=after_seq, limit=limit
    )
    cursor = str(items[-1].seq) if has_more and items else None
    return MessagePage(items=items, has_more=has_more, next_cursor=cursor)


@conversations_router.post(
    "/{address}/messages",
    status_code=status.HTTP_201_CREATED,
    responses={200: {"description": "a retry: the first message", "model": MessagePublic}},
)
async def send_message(
    address: Address,
    body: SendMessage,
    response: Response,
    messages: MessagesDep,
    support: SupportConversationsDep,
    principal: CurrentPrincipal,
) -> MessagePublic | PostedMessage:
    """Send; a repeated ``client_id`` returns the first message (200). To a
    ``support:<id>`` conversation: ``content`` and ``attachment_ids`` (no reply or
    type), answered as ``POST /support/chats/{id}/messages`` answers."""
    if address.startswith("support:"):
        if body.parent_message_id is not None:
            raise ValidationFailed("Support messages are not replies.", field="parent_message_id")
        posted = await support.send(
            principal,
            chat_id_of(address),
            body.client_id,
            body.content or "",
            [str(i) for i in body.attachment_ids],
        )
        _created_or_found(response, posted.created)
        return posted_message(
            posted.chat, posted.message, posted.seq, posted.new_conversation, posted.reopened
        )
    message, created = await messages.send_message(principal, address, body)
    _created_or_found(response, created)
    return message


@conversations_router.post("/{address}/read")
async def mark_read(
    address: Address,
    body: MarkRead,
    reads: ReadsDep,
    support: SupportConversationsDep,
    principal: CurrentPrincipal,
) -> ReadState | SupportReadState:
    """Move the caller's read watermark up to ``up_to_seq``. In a ``support:<id>``
    conversation: the customer's or the assigned operator's, and the answer
    carries the other side's (``peer_last_read_seq``)."""
    if address.startswith("support:"):
        state = await support.mark_read(principal, chat_id_of(address), body.up_to_seq)
        return SupportReadState(**vars(state))
    return await reads.mark_read(principal, address, body.up_to_seq)


@conversations_router.get("/{address}/read")
async def read_state(
    address: Address, reads: ReadsDep, support: SupportConversationsDep, principal: CurrentPrincipal
) -> ReadState | SupportReadState:
    if address.startswith("support:"):
        state = await support.read_state(principal, chat_id_of(address))
        return SupportReadState(**vars(state))
    return await reads.read_state(principal, address)


@conversations_router.get("/{address}/pins")
async def pins(address: Address, pins: PinsDep, principal: CurrentPrincipal) -> PinList:
    return PinList.whole(await pins.pins_of(principal, address))


@conversations_router.post(
    "/{address}/pins",
    status_code=status.HTTP_201_CREATED,
    responses={200: {"description": "it was pinned already", "model": PinPublic}},
)
async def pin_message(
    address: Address,
    body: PinMessage,
    response: Response,
    pins: PinsDep,
    principal: CurrentPrincipal,
) -> PinPublic:
    pin, created = await pins.pin_message(principal, address, body.message_id)
    _created_or_found(response, created)
    return pin


@conversations_router.delete("/{address}/pins/{message_id}", status_code=204)
async def unpin_message(
    address: Address, message_id: PathId, pins: PinsDep, principal: CurrentPrincipal
) -> Response:
    await pins.unpin_message(principal, address, message_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- groups --------------------------------------------------------------------------


@groups_router.post("", status_code=status.HTTP_201_CREATED)
async def create_group(
    body: CreateGroup, groups: GroupsDep, principal: CurrentPrincipal
) -> GroupDetails:
    """A new group owned by the caller."""
    return await groups.create_group(principal, body)


@groups_router.get("/{group_id}")
async def get_group(
    group_id: PathId, groups: GroupsDep, principal: CurrentPrincipal
) -> GroupDetails:
    return await groups.get_group(principal, group_id)


@groups_router.patch("/{group_id}")
async def update_group(
    group_id: PathId, body: UpdateGroup, groups: GroupsDep, principal: CurrentPrincipal
) -> GroupDetails:
    """Edit title, description, avatar (owner or admin)."""
    return await groups.update_group(principal, group_id, body)


@groups_router.get("/{group_id}/members")
async def group_members(
    group_id: PathId, groups: GroupsDep, principal: CurrentPrincipal
) -> MemberList:
    return MemberList.whole(await groups.members_of(principal, group_id))


@groups_router.post("/{group_id}/members", status_code=status.HTTP_201_CREATED)
async def add_member(
    group_id: PathId, body: AddMember, groups: GroupsDep, principal: CurrentPrincipal
) -> MemberPublic:
    """Add a user (owner or admin; only the owner adds admins)."""
    return await groups.add_member(principal, group_id, body.user_id, body.role)


@groups_router.patch("/{group_id}/members/{user_id}")
async def change_role(
    group_id: PathId,
    user_id: uuid.UUID,
    body: ChangeRole,
    groups: GroupsDep,
    principal: CurrentPrincipal,
) -> MemberPublic:
    """Change a member's role (owner only)."""
    return await groups.change_role(principal, group_id, user_id, body.role)


@groups_router.delete("/{group_id}/members/{user_id}", status_code=204)
async def remove_member(
    group_id: PathId, user_id: uuid.UUID, groups: GroupsDep, principal: CurrentPrincipal
) -> Response:
    """Remove a member ranked below the caller, or leave (the caller's own id)."""
    await groups.remove_member(principal, group_id, user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@groups_router.post("/{group_id}/owner")
async def transfer_ownership(
    group_id: PathId, body: TransferOwnership, groups: GroupsDep, principal: CurrentPrincipal
) -> GroupDetails:
    """Hand the group over; the old owner stays as an admin."""
    return await groups.transfer_ownership(principal, group_id, body.user_id)


# --- single messages -------------------------------------------------------------------


@messages_router.get("/{message_id}")
async def get_message(
    message_id: PathId, messages: MessagesDep, principal: CurrentPrincipal
) -> MessagePublic:
    return await messages.get_message(principal, message_id)


@messages_router.patch("/{message_id}")
async def edit_message(
    message_id: PathId, body: EditMessage, messages: MessagesDep, principal: CurrentPrincipal
) -> MessagePublic:
    """Replace the content (the sender); the previous version is kept."""
    return await messages.edit_message(principal, message_id, body.content)


@messages_router.delete("/{message_id}", status_code=204)
async def delete_message(
    message_id: PathId, messages: MessagesDep, principal: CurrentPrincipal
) -> Response:
    """Soft delete (the sender; in groups an owner or admin above the sender)."""
    await messages.delete_message(principal, message_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@messages_router.get("/{message_id}/edits")
async def message_versions(
    message_id: PathId, messages: MessagesDep, principal: CurrentPrincipal
) -> MessageVersionList:
    """Previous versions of an edited message, oldest first."""
    return MessageVersionList.whole(await messages.versions_of(principal, message_id))


@messages_router.post(
    "/{message_id}/forward",
    status_code=status.HTTP_201_CREATED,
    responses={200: {"description": "a retry: the first forward", "model": MessagePublic}},
)
async def forward_message(
    message_id: PathId,
    body: ForwardMessage,
    response: Response,
    messages: MessagesDep,
    principal: CurrentPrincipal,
) -> MessagePublic:
    """Copy the message into another conversation of the caller."""
    message, created = await messages.forward_message(
        principal, message_id, body.to, body.client_id
    )
    _created_or_found(response, created)
    return message


@messages_router.post(
    "/{message_id}/reactions",
    status_code=status.HTTP_201_CREATED,
    responses={200: {"description": "the caller had this reaction", "model": ReactionPublic}},
)
async def add_reaction(
    message_id: PathId,
    body: AddReaction,
    response: Response,
    reactions: ReactionsDep,
    principal: CurrentPrincipal,
) -> ReactionPublic:
    reaction, created = await reactions.add_reaction(principal, message_id, body.emoji)
    _created_or_found(response, created)
    return reaction


@messages_router.get("/{message_id}/reactions")
async def message_reactions(
    message_id: PathId, reactions: ReactionsDep, principal: CurrentPrincipal
) -> ReactionList:
    """Who reacted to the message with which emoji, first reaction first."""
    return ReactionList.whole(await reactions.reactions_of(principal, message_id))


@messages_router.delete("/{message_id}/reactions/{emoji}", status_code=204)
async def remove_reaction(
    message_id: PathId, emoji: PathEmoji, reactions: ReactionsDep, principal: CurrentPrincipal
) -> Response:
    await reactions.remove_reaction(principal, message_id, emoji)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@messages_router.get("/{message_id}/reads")
async def message_reads(
    message_id: PathId, reads: ReadsDep, principal: CurrentPrincipal
) -> ReceiptList:
    """Who read the message, and when."""
    return ReceiptList.whole(await reads.receipts_of(principal, message_id))


# --- attachments ---------------------------------------------------------------------

_UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            }
        },
    }
}


@attachments_router.post("", status_code=status.HTTP_201_CREATED, openapi_extra=_UPLOAD_BODY)
async def upload_attachment(
    request: Request,
    attachments: AttachmentsDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
) -> AttachmentPublic:
    """Upload one file (multipart field ``file``) to send with a message next.
    Larger than the limit: 413 ``payload_too_large``, refused before reading when
    the request says its length. Past the caller's upload quota (all their uploads
    together, ``GOFTOGU_UPLOAD_QUOTA_BYTES``): 413 ``upload_quota_exceeded``."""
    limit = settings.max_attachment_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit + MULTIPART_OVERHEAD:
        raise PayloadTooLarge(f"A file may hold at most {limit} bytes.", limit=limit)
    await attachments.ensure_room(principal)
    form = await request.form(max_files=1, max_fields=1)
    try:
        upload = form.get("file")
        if not isinstance(upload, StarletteUploadFile):
            raise ValidationFailed("Send the file in the multipart field `file`.")
        return await attachments.upload(
            principal, upload.filename, _chunks(upload), declared_size=upload.size
        )
    finally:
        await form.close()


async def _chunks(upload: StarletteUploadFile) -> AsyncIterator[bytes]:
    while chunk := await upload.read(UPLOAD_CHUNK):
        yield chunk


@attachments_router.get("/{attachment_id}", response_class=FileResponse)
async def download_attachment(
    attachment_id: PathId, attachments: AttachmentsDep, principal: CurrentPrincipal
) -> FileResponse:
    """The file, for its uploader and members who can see its message. Images are
    shown inline; anything else downloads."""
    return file_response(await attachments.open_for(principal, attachment_id))


def file_response(stored: StoredFile) -> FileResponse:
    """A stored upload as a download: inline for images, never sniffed or scripted."""
    media_type = stored.content_type
    if media_type == "text/plain":
        media_type += "; charset=utf-8"
    return FileResponse(
        stored.path,
        media_type=media_type,
        filename=stored.filename,
        content_disposition_type="inline" if stored.is_image else "attachment",
        headers={
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox",
            "Cache-Control": "private, max-age=3600",
            "ETag": f'"{stored.sha256}"',
        },
    )
