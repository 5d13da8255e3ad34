"""REST routes of the support desk's staff-only content: private notes, labels and
canned replies (``goftogu.support.content``, ``goftogu.support.canned``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field

from goftogu.api.deps import (
    CannedRepliesDep,
    CsatDep,
    CurrentPrincipal,
    PathId,
    SupportContentDep,
    SupportConversationsDep,
    TranscriptsDep,
)
from goftogu.api.messaging import file_response
from goftogu.support.canned import CannedChange, CannedReply, CannedScope
from goftogu.support.documents import SupportChat
from goftogu.support.schemas import (
    CannedReplyChange,
    CannedReplyList,
    CannedReplyPublic,
    CannedReplyRequest,
    CsatPublic,
    CsatRequest,
    LabelsPublic,
    NotePublic,
    NoteRequest,
    PostedNote,
    RenderedCannedReply,
)
from goftogu.text import Line

router = APIRouter(prefix="/support", tags=["support"])


def _public(reply: CannedReply) -> CannedReplyPublic:
    return CannedReplyPublic(
        id=reply.id,
        scope=reply.scope.value,
        team_id=reply.owner_id if reply.scope is CannedScope.team else None,
        owner_id=reply.owner_id if reply.scope is CannedScope.personal else None,
        shortcode=reply.shortcode,
        title=reply.title,
        body=reply.body,
        created_by=reply.created_by,
        created_at=reply.created_at,
        updated_at=reply.updated_at,
    )


@router.post(
    "/chats/{chat_id}/notes",
    status_code=status.HTTP_201_CREATED,
    responses={200: {"description": "a retry: the first note", "model": PostedNote}},
)
async def add_note(
    chat_id: PathId,
    body: NoteRequest,
    content: SupportContentDep,
    principal: CurrentPrincipal,
    response: Response,
) -> PostedNote:
    """Staff only: a private note (201; 200 for a retry with the same ``client_id``).
    Never sent to the customer, never in their view of the conversation."""
    added = await content.add_note(principal, chat_id, body.client_id, body.body)
    if not added.created:
        response.status_code = status.HTTP_200_OK
    return PostedNote(
        chat_id=added.chat.id, conversation=added.chat.conversation, note=NotePublic.of(added.note)
    )


@router.put("/chats/{chat_id}/labels/{label}")
async def add_label(
    chat_id: PathId, label: PathId, content: SupportContentDep, principal: CurrentPrincipal
) -> LabelsPublic:
    """Staff only: label the conversation (already labelled: unchanged)."""
    chat = await content.add_label(principal, chat_id, label)
    return LabelsPublic(chat_id=chat.id, labels=chat.labels)


@router.delete("/chats/{chat_id}/labels/{label}")
async def remove_label(
    chat_id: PathId, label: PathId, content: SupportContentDep, principal: CurrentPrincipal
) -> LabelsPublic:
    """Staff only: take the label off (not there: unchanged)."""
    chat = await content.remove_label(principal, chat_id, label)
    return LabelsPublic(chat_id=chat.id, labels=chat.labels)


@router.get("/canned-replies")
async def list_canned_replies(
    canned: CannedRepliesDep,
    principal: CurrentPrincipal,
    q: Annotated[Line | None, Query(max_length=32, description="shortcode prefix")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 200,
) -> CannedReplyList:
    """Staff only: the caller's personal replies, their teams' and the global ones,
    by shortcode."""
    replies = await canned.list_for(principal, prefix=q, limit=limit)
    return CannedReplyList.whole(_public(reply) for reply in replies)


@router.post("/canned-replies", status_code=status.HTTP_201_CREATED)
async def create_canned_reply(
    body: CannedReplyRequest, canned: CannedRepliesDep, principal: CurrentPrincipal
) -> CannedReplyPublic:
    """Personal (anyone on staff), team (its members, admins) or global (admins).
    409 ``shortcode_taken`` when the scope has the shortcode already."""
    reply = await canned.create(
        principal,
        scope=CannedScope(body.scope),
        team_id=body.team_id,
        shortcode=body.shortcode,
        title=body.title,
        body=body.body,
    )
    return _public(reply)


@router.patch("/canned-replies/{reply_id}")
async def update_canned_reply(
    reply_id: PathId, body: CannedReplyChange, canned: CannedRepliesDep, principal: CurrentPrincipal
) -> CannedReplyPublic:
    change = CannedChange(shortcode=body.shortcode, title=body.title, body=body.body)
    return _public(await canned.update(principal, reply_id, change))


@router.delete("/canned-replies/{reply_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_canned_reply(
    reply_id: PathId, canned: CannedRepliesDep, principal: CurrentPrincipal
) -> None:
    await canned.delete(principal, reply_id)


@router.get("/chats/{chat_id}/canned-replies/{shortcode}")
async def render_canned_reply(
    chat_id: PathId, shortcode: PathId, canned: CannedRepliesDep, principal: CurrentPrincipal
) -> RenderedCannedReply:
    """The reply ``shortcode`` means to the caller (personal, else team, else
    global), its placeholders filled in for this conversation."""
    rendered = await canned.render_for(principal, chat_id, shortcode)
    reply = rendered.reply
    return RenderedCannedReply(
        id=reply.id,
        scope=reply.scope.value,
        shortcode=reply.shortcode,
        title=reply.title,
        body=rendered.body,
    )


@router.get("/chats/{chat_id}/attachments/{attachment_id}", response_class=FileResponse)
async def download_support_file(
    chat_id: PathId,
    attachment_id: PathId,
    conversations: SupportConversationsDep,
    principal: CurrentPrincipal,
) -> FileResponse:
    """A file sent in the conversation, for whoever may read it (its customer, staff)."""
    return file_response(await conversations.file(principal, chat_id, attachment_id))


def _csat(chat: SupportChat) -> CsatPublic:
    return CsatPublic(
        chat_id=chat.id, conversation=chat.conversation, closed_at=chat.closed_at, csat=chat.csat
    )


class CsatByLink(CsatRequest):
    token: Annotated[Line, Field(min_length=1, max_length=2000)]


@router.post("/chats/{chat_id}/csat", status_code=status.HTTP_201_CREATED)
async def rate_chat(
    chat_id: PathId, body: CsatRequest, csat: CsatDep, principal: CurrentPrincipal
) -> CsatPublic:
    """The customer rates their closed conversation, once: 1 to 5 and a comment.
    ``chat_not_closed`` (409) before it closed, ``already_rated`` (409) after."""
    return _csat(await csat.rate(principal, chat_id, body.score, body.comment))


@router.get("/csat")
async def csat_survey(
    token: Annotated[Line, Query(min_length=1, max_length=2000)], csat: CsatDep
) -> CsatPublic:
    """No session: what an emailed rating link is about (and whether it was rated)."""
    return _csat(await csat.survey_of(token))


@router.post("/csat", status_code=status.HTTP_201_CREATED)
async def rate_by_link(body: CsatByLink, csat: CsatDep) -> CsatPublic:
    """No session: the signed token of the emailed link says which conversation
    (``token_invalid`` / ``token_expired``, 401)."""
    return _csat(await csat.rate_by_link(body.token, body.score, body.comment))


class TranscriptRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    client_id: Annotated[Line, Field(min_length=1, max_length=64)]


class TranscriptQueued(BaseModel):
    chat_id: str
    email: str = Field(description="where it goes: the customer's address")


@router.post("/chats/{chat_id}/transcript", status_code=status.HTTP_202_ACCEPTED)
async def request_transcript(
    chat_id: PathId,
    body: TranscriptRequest,
    transcripts: TranscriptsDep,
    principal: CurrentPrincipal,
) -> TranscriptQueued:
    """Email the transcript to the customer's address (the customer, or staff for
    them); once per ``client_id``. 422 ``validation_error`` (``details.field:
    email``) when the customer gave no address."""
    email = await transcripts.request(principal, chat_id, body.client_id)
    return TranscriptQueued(chat_id=chat_id, email=email)
