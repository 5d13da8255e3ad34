"""REST routes of notifications: the caller's preferences and Web Push subscriptions."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from goftogu.api.deps import CurrentPrincipal, PathId, PreferencesDep, PushSubscriptionsDep
from goftogu.notifications.preferences import Preferences
from goftogu.notifications.schemas import (
    NotificationSettingsPublic,
    NotificationSettingsUpdate,
    PushSubscriptionCreate,
    PushSubscriptionList,
    PushSubscriptionPublic,
    VapidPublicKey,
)

settings_router = APIRouter(prefix="/users/me", tags=["notifications"])
push_router = APIRouter(prefix="/push", tags=["notifications"])


def _public(preferences: Preferences) -> NotificationSettingsPublic:
    return NotificationSettingsPublic.model_validate(
        {"email": preferences.email, "push": preferences.push, "language": preferences.language}
    )


@settings_router.get("/notification-settings")
async def get_notification_settings(
    preferences: PreferencesDep, principal: CurrentPrincipal
) -> NotificationSettingsPublic:
    """Whether you get emails and push notifications, and in which language."""
    return _public(await preferences.get_for(principal))


@settings_router.put("/notification-settings")
async def put_notification_settings(
    body: NotificationSettingsUpdate, preferences: PreferencesDep, principal: CurrentPrincipal
) -> NotificationSettingsPublic:
    """Change them; fields left out keep their value."""
    return _public(await preferences.update_for(principal, body))


@push_router.get("/vapid-public-key")
async def vapid_public_key(
    push: PushSubscriptionsDep, principal: CurrentPrincipal
) -> VapidPublicKey:
    """The ``applicationServerKey`` for ``pushManager.subscribe``;
    ``push_not_configured`` (404) when this server has no VAPID keys."""
    return VapidPublicKey(public_key=push.vapid_public_key())


@push_router.post(
    "/subscriptions",
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"description": "already yours: keys updated", "model": PushSubscriptionPublic}
    },
)
async def subscribe(
    body: PushSubscriptionCreate,
    request: Request,
    response: Response,
    push: PushSubscriptionsDep,
    principal: CurrentPrincipal,
) -> PushSubscriptionPublic:
    """Register this browser (the JSON of its ``PushSubscription``): 201 when new,
    200 when the endpoint was already yours (its keys are updated)."""
    subscription, created = await push.subscribe(principal, body, request.headers.get("user-agent"))
    if not created:
        response.status_code = status.HTTP_200_OK
    return PushSubscriptionPublic.model_validate(subscription)


@push_router.get("/subscriptions")
async def list_subscriptions(
    push: PushSubscriptionsDep, principal: CurrentPrincipal
) -> PushSubscriptionList:
    """Your subscribed browsers."""
    rows = await push.list_for(principal)
    return PushSubscriptionList.whole(PushSubscriptionPublic.model_validate(row) for row in rows)


@push_router.delete("/subscriptions/{subscription_id}", status_code=status.HTTP_204_NO_CONTENT)
async def unsubscribe(
    subscription_id: PathId, push: PushSubscriptionsDep, principal: CurrentPrincipal
) -> Response:
    """Stop pushing to one of your browsers."""
    await push.unsubscribe_for(principal, subscription_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
