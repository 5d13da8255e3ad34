"""The one shape of every list the API answers: ``{items, has_more, next_cursor}``.

Paged lists (conversations, history, users, support chats) fill ``has_more``
and ``next_cursor``; a list answered whole (a group's members, a message's
reads, pins, sessions...) is the same shape with ``has_more: false`` and
``next_cursor: null``, so a client reads every list one way and a list may
start paging later without a breaking change.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Generic, Self, TypeVar

from pydantic import BaseModel, Field

T = TypeVar("T")


class ListPage(BaseModel, Generic[T]):
    items: list[T]
    has_more: bool = Field(default=False, description="more items after these")
    next_cursor: str | None = Field(
        default=None, description="pass as `cursor` for the next page; null on the last"
    )

    @classmethod
    def whole(cls, items: Iterable[T]) -> Self:
        """A list answered in one page."""
        return cls(items=list(items))
