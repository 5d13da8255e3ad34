"""How a state change announces itself: events collected by a unit of work and
handled when it commits (the one mechanism; Zulip's ``send_event_on_commit``,
cosmicpython's message bus).

A service never tells anyone anything itself. Inside its unit of work
(``goftogu.storage.work``) it *announces* typed events; the unit of work hands
them to the bus, which runs

- ``before_commit`` handlers inside the transaction, just before it commits:
  work that must commit with the change or not at all (a job in the outbox);
  their failure rolls the change back;
- ``after_commit`` handlers once it committed, in the order the events were
  announced: telling connected clients, waking the outbox relay. Their failure
  is logged, never raised: the change is committed, and clients catch up by
  replay or by reading.

Handlers are registered once, at build time (``Handlers`` in the composition
root), and the bus is immutable afterwards. Since a service holds no
broadcaster and no relay, it cannot publish before its commit by accident.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

log = logging.getLogger(__name__)


class Event:
    """Base of everything a unit of work can announce (frozen dataclasses)."""


class Work:
    """The announcements of one unit of work, in order."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def announce(self, *events: Event) -> None:
        """Have ``events`` handled when the unit of work commits (never before)."""
        self.events.extend(events)


class Transaction(Work):
    """A unit of work inside a relational transaction (``session``)."""

    def __init__(self, session: AsyncSession) -> None:
        super().__init__()
        self.session = session


E = TypeVar("E", bound=Event)
AfterCommit = Callable[[E], Awaitable[None]]
BeforeCommit = Callable[[Transaction, E], Awaitable[None]]


@dataclass(frozen=True)
class Bus:
    """The handlers of each event type; built by ``Handlers.build``."""

    _after: Mapping[type[Event], tuple[AfterCommit[Any], ...]] = field(default_factory=dict)
    _before: Mapping[type[Event], tuple[BeforeCommit[Any], ...]] = field(default_factory=dict)

    def stages(self, event: Event) -> bool:
        """Whether ``event`` has work to do inside its transaction."""
        return type(event) in self._before

    async def stage(self, work: Transaction, event: Event) -> None:
        """Run the ``before_commit`` handlers of ``event`` in ``work``'s transaction."""
        for handler in self._before.get(type(event), ()):
            await handler(work, event)

    async def publish(self, events: Sequence[Event]) -> None:
        """Run the ``after_commit`` handlers of each event, in order; failures are
        logged and do not stop the others."""
        for event in events:
            for handler in self._after.get(type(event), ()):
                try:
                    await handler(event)
                except Exception:
                    log.exception(
                        "an after-commit handler failed; clients will catch up",
                        extra={"event": type(event).__name__},
                    )


class Handlers:
    """Registration of the bus's handlers, at build time only."""

    def __init__(self) -> None:
        self._after: dict[type[Event], list[AfterCommit[Any]]] = {}
        self._before: dict[type[Event], list[BeforeCommit[Any]]] = {}

    def after_commit(self, kind: type[E], handler: AfterCommit[E]) -> Handlers:
        self._after.setdefault(kind, []).append(handler)
        return self

    def before_commit(self, kind: type[E], handler: BeforeCommit[E]) -> Handlers:
        self._before.setdefault(kind, []).append(handler)
        return self

    def build(self) -> Bus:
        return Bus(
            {kind: tuple(handlers) for kind, handlers in self._after.items()},
            {kind: tuple(handlers) for kind, handlers in self._before.items()},
        )


class Announcements:
    """Units of work for writes that commit on their own, one atomic call each (a
    support chat document: a single-document write in MongoDB)::

        async with announcements.announcing() as work:
            chat = await store.assign(...)          # committed by the store
            work.announce(*events.assigned(chat))   # collected, not sent
        # the block ended without an error: the bus has handled them

    ``goftogu.storage.work.UnitsOfWork`` adds relational transactions."""

    def __init__(self, bus: Bus) -> None:
        self._bus = bus

    @asynccontextmanager
    async def announcing(self) -> AsyncIterator[Work]:
        """What the block announces is handled when it ends without an error."""
        work = Work()
        yield work
        staged = [event for event in work.events if self._bus.stages(event)]
        if staged:
            raise TypeError(
                f"{type(staged[0]).__name__} must be announced inside a transaction: "
                "its handlers write with the change"
            )
        await self._bus.publish(work.events)
