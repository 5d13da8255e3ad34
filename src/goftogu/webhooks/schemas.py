"""Wire shapes of the webhooks API (admins) and of the queue job."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from goftogu.pages import ListPage
from goftogu.queueing import QueueMessage
from goftogu.text import Line

WEBHOOKS = "webhooks"  # consumed by `goftogu notifier`

EventName = Annotated[Line, Field(min_length=1, max_length=64)]
Url = Annotated[Line, Field(min_length=1, max_length=2048)]
Description = Annotated[Line, Field(max_length=200)]


class WebhookDue(QueueMessage):
    """Send one delivery (a row of ``webhook_deliveries``)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    type: Literal["webhooks.deliver"] = "webhooks.deliver"
    delivery_id: uuid.UUID


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: Url
    events: list[EventName] = Field(min_length=1, max_length=16)
    description: Description | None = None


class WebhookPatch(BaseModel):
    """Only the fields given change; ``active: true`` re-enables a disabled
    subscription (its failure count starts again); ``rotate_secret`` answers a
    new secret, once."""

    model_config = ConfigDict(extra="forbid")

    url: Url | None = None
    events: list[EventName] | None = Field(default=None, min_length=1, max_length=16)
    description: Description | None = None
    active: bool | None = None
    rotate_secret: bool = False


class WebhookPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    url: str
    events: list[str]
    description: str | None
    active: bool
    consecutive_failures: int
    disabled_at: datetime | None
    disabled_reason: str | None
    created_at: datetime
    updated_at: datetime


class WebhookWithSecret(WebhookPublic):
    secret: str = Field(
        description="the signing secret: answered here only, when created or rotated"
    )


class WebhookList(ListPage[WebhookPublic]):
    pass


class WebhookDeliveryPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    event_id: uuid.UUID
    event_type: str
    status: str = Field(description="queued, sending, delivered, failed or skipped")
    attempts: int
    response_status: int | None = Field(description="the HTTP status of the last try")
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    delivered_at: datetime | None


class WebhookDeliveryList(ListPage[WebhookDeliveryPublic]):
    pass
