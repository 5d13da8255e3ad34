"""REST routes of webhooks (issue 18, item 11): /admin/webhooks, admins only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from goftogu.api.deps import CurrentPrincipal, PathId, WebhooksDep
from goftogu.text import Line
from goftogu.webhooks.schemas import (
    WebhookCreate,
    WebhookDeliveryList,
    WebhookList,
    WebhookPatch,
    WebhookPublic,
    WebhookWithSecret,
)

router = APIRouter(prefix="/admin/webhooks", tags=["admin"])
Cursor = Annotated[Line | None, Query(max_length=64)]


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_webhook(
    body: WebhookCreate, webhooks: WebhooksDep, principal: CurrentPrincipal
) -> WebhookWithSecret:
    """A subscription; the answer carries its signing ``secret``, the only time it is
    shown (``invalid_webhook_url``, ``unknown_webhook_event``, ``too_many_webhooks``)."""
    return await webhooks.create(principal, body)


@router.get("")
async def list_webhooks(
    webhooks: WebhooksDep,
    principal: CurrentPrincipal,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> WebhookList:
    return await webhooks.list(principal, cursor, limit)


@router.get("/{webhook_id}")
async def get_webhook(
    webhook_id: PathId, webhooks: WebhooksDep, principal: CurrentPrincipal
) -> WebhookPublic:
    return await webhooks.get(principal, webhook_id)


@router.patch("/{webhook_id}")
async def update_webhook(
    webhook_id: PathId, body: WebhookPatch, webhooks: WebhooksDep, principal: CurrentPrincipal
) -> WebhookWithSecret | WebhookPublic:
    """Change the fields given; ``active: true`` re-enables; ``rotate_secret: true``
    answers the new secret (once)."""
    return await webhooks.update(principal, webhook_id, body)


@router.delete("/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_webhook(
    webhook_id: PathId, webhooks: WebhooksDep, principal: CurrentPrincipal
) -> Response:
    """The subscription and its delivery log; pending deliveries are not sent."""
    await webhooks.delete(principal, webhook_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{webhook_id}/deliveries")
async def list_deliveries(
    webhook_id: PathId,
    webhooks: WebhooksDep,
    principal: CurrentPrincipal,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> WebhookDeliveryList:
    """The last ``limit`` deliveries, newest first (status, attempts, last response)."""
    return await webhooks.deliveries(principal, webhook_id, cursor, limit)
