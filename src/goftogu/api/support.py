"""REST routes of the support desk: /support/chats and /support/presence."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response, status

from goftogu.api.deps import CurrentPrincipal, PathId, SupportConversationsDep, SupportDeskDep
from goftogu.support.desk import ChatView, Posted
from goftogu.support.documents import ChatStatus, ChatType, now
from goftogu.support.schemas import (
    OperatorList,
    OperatorPresence,
    OperatorPublic,
    PostedMessage,
    PostMessageRequest,
    PresenceRequest,
    StartChatRequest,
    SupportChatPage,
    SupportChatPublic,
    SupportChatSummary,
    TransferRequest,
    posted_message,
)
from goftogu.text import Line

router = APIRouter(prefix="/support", tags=["support"])


def _view(view: ChatView, *, for_staff: bool = False) -> SupportChatPublic:
    wait = view.place.estimated_wait_s if view.place else None
    return SupportChatPublic.of(
        view.chat, view.queue_position, view.operator_name, wait, for_staff=for_staff
    )


def _posted(posted: Posted) -> PostedMessage:
    return posted_message(
        posted.chat, posted.message, posted.seq, posted.new_conversation, posted.reopened
    )


@router.post(
    "/chats",
    status_code=status.HTTP_201_CREATED,
    responses={200: {"description": "a retry: the same conversation", "model": SupportChatPublic}},
)
async def start_chat(
    body: StartChatRequest,
    desk: SupportDeskDep,
    principal: CurrentPrincipal,
    response: Response,
) -> SupportChatPublic:
    """A customer's first message opens a conversation (201, ``PENDING``); a retry
    with the same ``client_id`` answers the same conversation (200)."""
    chat, created = await desk.start_chat(principal, body.client_id, body.body, body.team)
    if not created:
        response.status_code = status.HTTP_200_OK
    return _view(await desk.get_chat_for(principal, chat.id), for_staff=principal.is_staff)


@router.get("/chats")
async def list_chats(
    desk: SupportDeskDep,
    principal: CurrentPrincipal,
    status_: Annotated[ChatStatus | None, Query(alias="status")] = None,
    type_: Annotated[ChatType | None, Query(alias="type")] = None,
    mine: bool = False,
    label: Annotated[Line | None, Query(max_length=40, description="staff only")] = None,
    team: Annotated[Line | None, Query(max_length=64, description="staff only: a team id")] = None,
    sla: Annotated[
        Literal["ok", "warning", "breached"] | None, Query(description="staff only: SLA state")
    ] = None,
    snoozed: Annotated[bool, Query(description="staff only: the snoozed ones")] = False,
    cursor: Annotated[Line | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> SupportChatPage:
    """Operators: the queue (``status=PENDING``, oldest first) and history (newest
    first; ``mine=true`` for their own). Customers: their own conversations."""
    chats, has_more = await desk.list_chats_for(
        principal,
        status=status_,
        type=type_,
        mine=mine,
        label=label,
        team=team,
        sla=sla,
        snoozed=snoozed,
        after=cursor,
        limit=limit,
    )
    at = now()
    return SupportChatPage(
        items=[SupportChatSummary.of(chat, at, for_staff=principal.is_staff) for chat in chats],
        has_more=has_more,
        next_cursor=chats[-1].id if has_more and chats else None,
    )


@router.get("/chats/{chat_id}")
async def get_chat(
    chat_id: PathId, desk: SupportDeskDep, principal: CurrentPrincipal
) -> SupportChatPublic:
    """The whole conversation in one read, and its place in the queue while it waits;
    for staff also its private notes and labels (never for the customer)."""
    return _view(await desk.get_chat_for(principal, chat_id), for_staff=principal.is_staff)


@router.post(
    "/chats/{chat_id}/messages",
    status_code=status.HTTP_201_CREATED,
    responses={200: {"description": "a retry: the first message", "model": PostedMessage}},
)
async def post_message(
    chat_id: PathId,
    body: PostMessageRequest,
    conversations: SupportConversationsDep,
    principal: CurrentPrincipal,
    response: Response,
) -> PostedMessage:
    """The customer or the assigned operator writes (201; 200 for a retry). A
    customer writing to a closed conversation opens a new one linked to it."""
    posted = await conversations.send(
        principal, chat_id, body.client_id, body.body, body.attachment_ids
    )
    if not posted.created:
        response.status_code = status.HTTP_200_OK
    return _posted(posted)


@router.post("/chats/{chat_id}/claim")
async def claim_chat(
    chat_id: PathId, desk: SupportDeskDep, principal: CurrentPrincipal
) -> SupportChatPublic:
    """An operator takes a waiting chat or ticket (409 ``conflict`` when someone was
    faster, ``capacity_reached`` when they are full)."""
    return SupportChatPublic.of(await desk.claim_chat(principal, chat_id), for_staff=True)


@router.post("/chats/{chat_id}/transfer")
async def transfer_chat(
    chat_id: PathId, body: TransferRequest, desk: SupportDeskDep, principal: CurrentPrincipal
) -> SupportChatPublic:
    """The assigned operator (or an admin) hands the conversation to another operator."""
    chat = await desk.transfer_chat(principal, chat_id, body.operator_id)
    return SupportChatPublic.of(chat, for_staff=True)


@router.post("/chats/{chat_id}/close")
async def close_chat(
    chat_id: PathId, desk: SupportDeskDep, principal: CurrentPrincipal
) -> SupportChatPublic:
    """``CLOSED``: by the assigned operator, an admin, or the customer."""
    chat = await desk.close_chat(principal, chat_id)
    return SupportChatPublic.of(chat, for_staff=principal.is_staff)


@router.put("/presence")
async def set_presence(
    body: PresenceRequest, desk: SupportDeskDep, principal: CurrentPrincipal
) -> OperatorPresence:
    """An operator's availability: offered chats while online, accepting and connected."""
    return await desk.set_presence(principal, body.status, body.accepting)


@router.get("/operators")
async def list_operators(desk: SupportDeskDep, principal: CurrentPrincipal) -> OperatorList:
    """Staff only: every operator and admin with their availability and load, those
    connected first (whom to transfer a conversation to)."""
    cards = await desk.operators_for(principal)
    return OperatorList.whole(
        OperatorPublic(
            **card.presence.model_dump(),
            username=card.member.username,
            display_name=card.member.display_name,
        )
        for card in cards
    )


@router.get("/presence")
async def get_presence(desk: SupportDeskDep, principal: CurrentPrincipal) -> OperatorPresence:
    """The caller's availability and load."""
    return await desk.presence_of(principal)
