"""Wire shapes of the Socket.IO contract: acks, connect errors, client payloads."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from goftogu.bounds import MAX_INT
from goftogu.errors import DomainError, ValidationFailed
from goftogu.text import Line

ADDRESS = re.compile(r"^(single|group|support):[0-9a-fA-F-]{36}$")


def ok(data: Any = None) -> dict[str, Any]:
    return {"ok": True, "data": data}


def failed(error: DomainError) -> dict[str, Any]:
    return {"ok": False, "error": error.to_dict()}


def invalid_payload(error: ValidationError) -> ValidationFailed:
    """The error a payload that fails its model answers, naming each field."""
    fields = [
        {"location": [str(p) for p in e.get("loc", ())], "message": e.get("msg", "")}
        for e in error.errors()
    ]
    return ValidationFailed("The payload is not valid.", fields=fields)


def _address(value: str) -> str:
    if not ADDRESS.match(value):
        raise ValueError("a conversation address: single:<id>, group:<id> or support:<id>")
    return value.lower()


class Payload(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ConversationPayload(Payload):
    conversation: Annotated[Line, Field(max_length=64)]

    @field_validator("conversation")
    @classmethod
    def _conversation(cls, value: str) -> str:
        return _address(value)


class SyncPayload(Payload):
    cursors: dict[Line, Annotated[int, Field(ge=0, le=MAX_INT)]] = Field(max_length=1000)

    @field_validator("cursors")
    @classmethod
    def _addresses(cls, cursors: dict[str, int]) -> dict[str, int]:
        return {_address(address): seq for address, seq in cursors.items()}


class RefreshPayload(Payload):
    token: Annotated[Line, Field(min_length=1, max_length=4096)]


class PresencePayload(Payload):
    status: Literal["online", "away", "offline"]
    accepting: bool | None = None


def connect_cursors(auth: Any) -> dict[str, int]:
    """The optional ``auth.cursors`` of a connect, validated (invalid ones ignored)."""
    if not isinstance(auth, dict) or not isinstance(auth.get("cursors"), dict):
        return {}
    try:
        return SyncPayload(cursors=auth["cursors"]).cursors
    except ValidationError:
        return {}
