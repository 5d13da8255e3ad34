"""Dependencies of the routes: the services each uses, the caller, the client.

A route asks for exactly the services it calls (``Messages``, ``SupportDeskDep``
...), each an ``Annotated[..., Depends]`` alias over the process's container,
never for the container itself.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from goftogu.bootstrap import Container
from goftogu.health import Probe
from goftogu.identity.accounts import Accounts
from goftogu.identity.auth import Authentication, ClientInfo
from goftogu.identity.tokens import Principal
from goftogu.logs import user_id_var
from goftogu.messaging.attachments import Attachments
from goftogu.messaging.chats import SingleChats
from goftogu.messaging.conversations import Conversations
from goftogu.messaging.groups import Groups
from goftogu.messaging.messages import Messages
from goftogu.messaging.pins import Pins
from goftogu.messaging.reactions import Reactions
from goftogu.messaging.reads import Reads
from goftogu.notifications.preferences import NotificationPreferences
from goftogu.notifications.subscriptions import PushSubscriptions
from goftogu.settings import Settings
from goftogu.support.canned import CannedReplies
from goftogu.support.content import SupportContent
from goftogu.support.conversation import SupportConversations
from goftogu.support.csat import CsatSurveys
from goftogu.support.desk import SupportDesk
from goftogu.support.lifecycle import SupportLifecycle
from goftogu.support.reports import SupportReports
from goftogu.support.teams import Teams
from goftogu.support.transcripts import Transcripts
from goftogu.text import Line
from goftogu.webhooks.service import Webhooks

# Path parameters: ids are UUIDs or short keys; the text rule applies to them too
# (`%00` in a path is a NUL, and no store takes it).
PathId = Annotated[Line, Path(min_length=1, max_length=64)]
PathEmoji = Annotated[Line, Path(min_length=1, max_length=32)]

_bearer = HTTPBearer(auto_error=False, description="Access token from /auth/login")


def _container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


_Container = Annotated[Container, Depends(_container)]


def _settings(container: _Container) -> Settings:
    return container.settings


def _probes(container: _Container) -> tuple[Probe, ...]:
    return container.probes


def _auth(container: _Container) -> Authentication:
    return container.auth


def _accounts(container: _Container) -> Accounts:
    return container.accounts


def _chats(container: _Container) -> SingleChats:
    return container.messaging.chats


def _conversations(container: _Container) -> Conversations:
    return container.messaging.conversations


def _messages(container: _Container) -> Messages:
    return container.messaging.messages


def _reads(container: _Container) -> Reads:
    return container.messaging.reads


def _pins(container: _Container) -> Pins:
    return container.messaging.pins


def _groups(container: _Container) -> Groups:
    return container.messaging.groups


def _reactions(container: _Container) -> Reactions:
    return container.messaging.reactions


def _attachments(container: _Container) -> Attachments:
    return container.messaging.attachments


def _support(container: _Container) -> SupportDesk:
    return container.support


def _teams(container: _Container) -> Teams:
    return container.team_admin


def _support_content(container: _Container) -> SupportContent:
    return container.support_content


def _support_lifecycle(container: _Container) -> SupportLifecycle:
    return container.support_lifecycle


def _support_reports(container: _Container) -> SupportReports:
    return container.support_reports


def _support_conversations(container: _Container) -> SupportConversations:
    return container.support_conversations


def _csat(container: _Container) -> CsatSurveys:
    return container.csat


def _transcripts(container: _Container) -> Transcripts:
    return container.transcripts


def _canned_replies(container: _Container) -> CannedReplies:
    return container.canned_replies


def _preferences(container: _Container) -> NotificationPreferences:
    return container.notification_preferences


def _push_subscriptions(container: _Container) -> PushSubscriptions:
    return container.push_subscriptions


def _webhooks(container: _Container) -> Webhooks:
    return container.webhooks


SettingsDep = Annotated[Settings, Depends(_settings)]
ProbesDep = Annotated[tuple[Probe, ...], Depends(_probes)]
AuthDep = Annotated[Authentication, Depends(_auth)]
AccountsDep = Annotated[Accounts, Depends(_accounts)]
ChatsDep = Annotated[SingleChats, Depends(_chats)]
ConversationsDep = Annotated[Conversations, Depends(_conversations)]
MessagesDep = Annotated[Messages, Depends(_messages)]
ReadsDep = Annotated[Reads, Depends(_reads)]
PinsDep = Annotated[Pins, Depends(_pins)]
GroupsDep = Annotated[Groups, Depends(_groups)]
ReactionsDep = Annotated[Reactions, Depends(_reactions)]
AttachmentsDep = Annotated[Attachments, Depends(_attachments)]
SupportDeskDep = Annotated[SupportDesk, Depends(_support)]
TeamsDep = Annotated[Teams, Depends(_teams)]
SupportContentDep = Annotated[SupportContent, Depends(_support_content)]
SupportLifecycleDep = Annotated[SupportLifecycle, Depends(_support_lifecycle)]
SupportReportsDep = Annotated[SupportReports, Depends(_support_reports)]
SupportConversationsDep = Annotated[SupportConversations, Depends(_support_conversations)]
CsatDep = Annotated[CsatSurveys, Depends(_csat)]
TranscriptsDep = Annotated[Transcripts, Depends(_transcripts)]
CannedRepliesDep = Annotated[CannedReplies, Depends(_canned_replies)]
PreferencesDep = Annotated[NotificationPreferences, Depends(_preferences)]
PushSubscriptionsDep = Annotated[PushSubscriptions, Depends(_push_subscriptions)]
WebhooksDep = Annotated[Webhooks, Depends(_webhooks)]


async def current_principal(
    auth: AuthDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller proven by ``Authorization: Bearer``; 401 with the reason otherwise."""
    principal = await auth.authenticate(credentials.credentials if credentials else None)
    user_id_var.set(str(principal.user_id))
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def client_info(request: Request) -> ClientInfo:
    # The address is the peer's, or the one a trusted proxy forwarded
    # (``goftogu.api.guard.ForwardedFor`` decides, by the settings).
    ip = request.client.host if request.client else None
    return ClientInfo(ip_address=ip, user_agent=request.headers.get("user-agent"))


Client = Annotated[ClientInfo, Depends(client_info)]
