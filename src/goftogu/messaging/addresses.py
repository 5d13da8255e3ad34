"""Conversation addresses: ``single:<id>`` and ``group:<id>``.

The same string names a conversation in REST paths, Socket.IO payloads and
room names (api.md).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal

from goftogu.errors import NotFound
from goftogu.ids import parse_id

Kind = Literal["single", "group"]
KINDS: tuple[Kind, ...] = ("single", "group")


@dataclass(frozen=True)
class ConversationRef:
    """A parsed address: which table, which row."""

    kind: Kind
    id: uuid.UUID

    @property
    def address(self) -> str:
        return f"{self.kind}:{self.id}"

    @property
    def is_group(self) -> bool:
        return self.kind == "group"

    def __str__(self) -> str:
        return self.address

    @classmethod
    def single(cls, chat_id: uuid.UUID) -> ConversationRef:
        return cls("single", chat_id)

    @classmethod
    def group(cls, group_id: uuid.UUID) -> ConversationRef:
        return cls("group", group_id)

    @classmethod
    def of_columns(
        cls, single_chat_id: uuid.UUID | None, group_id: uuid.UUID | None
    ) -> ConversationRef:
        """The conversation of a row with the two exclusive conversation columns."""
        if single_chat_id is not None:
            return cls.single(single_chat_id)
        assert group_id is not None, "the database guarantees exactly one conversation"
        return cls.group(group_id)


def parse_address(text: str) -> ConversationRef:
    """The conversation an address names; ``not_found`` when it is not one."""
    kind, _, raw_id = text.partition(":")
    parsed = parse_id(raw_id)
    if kind == "single" and parsed is not None:
        return ConversationRef.single(parsed)
    if kind == "group" and parsed is not None:
        return ConversationRef.group(parsed)
    raise NotFound("No such conversation.", conversation=text[:80])
