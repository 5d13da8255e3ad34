"""Wire models of the notification API: preferences and Web Push subscriptions."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from goftogu.bounds import MAX_INT
from goftogu.pages import ListPage
from goftogu.text import Line

Language = Literal["en", "fa"]


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NotificationSettingsPublic(BaseModel):
    email: bool = Field(description="emails about messages and tickets while you are away")
    push: bool = Field(description="Web Push notifications to your subscribed browsers")
    language: Language | None = Field(description="None: the server's default language")


class NotificationSettingsUpdate(Request):
    """Fields left out keep their value; ``language: null`` returns to the default."""

    email: bool | None = None
    push: bool | None = None
    language: Language | None = None


class PushKeys(BaseModel):
    p256dh: Annotated[Line, Field(min_length=1, max_length=128)]
    auth: Annotated[Line, Field(min_length=1, max_length=64)]


class PushSubscriptionCreate(Request):
    """What a browser's ``PushSubscription.toJSON()`` gives."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    endpoint: Annotated[Line, Field(min_length=1, max_length=2048)]
    keys: PushKeys
    expiration_time: int | None = Field(default=None, ge=0, le=MAX_INT, alias="expirationTime")


class PushSubscriptionPublic(BaseModel):
    id: uuid.UUID
    endpoint: str
    user_agent: str | None
    created_at: datetime
    last_success_at: datetime | None

    model_config = ConfigDict(from_attributes=True)


class VapidPublicKey(BaseModel):
    public_key: str = Field(description="base64url; the browser's applicationServerKey")


# --- lists (one shape: goftogu/pages.py) ------------------------------------------


class PushSubscriptionList(ListPage[PushSubscriptionPublic]):
    """PushSubscriptionPublic items, answered whole."""
