"""The support desk's use cases for customers and operators (S3, S6, S7).

REST routes and Socket.IO handlers call these and nothing else: they parse
input, call one method, serialise the answer. Every method authorises its
caller and changes one document with a conditional update, inside a unit of
work that announces what the change tells clients (``goftogu.support.events``)
and the relay (the document outbox): the bus handles both once the write is done.

Who may do what:

- customers start conversations, read and write their own (a message to a
  closed one opens a new conversation linked to it), and may close their own;
- operators and admins read every conversation (the queue), claim a waiting
  one, and set their availability;
- only the assigned operator writes in an open conversation; the assigned
  operator or an admin transfers or closes it.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from goftogu.admission import Gate
from goftogu.bus import Announcements, Work
from goftogu.errors import (
    CapacityReached,
    ChatClosed,
    ChatSnoozed,
    Conflict,
    NotAllowed,
    NotFound,
    PayloadTooLarge,
    UnknownTeam,
    ValidationFailed,
)
from goftogu.identity.models import Role
from goftogu.identity.tokens import Principal
from goftogu.ids import new_id
from goftogu.presence.operators import OperatorAvailability, OperatorState, OperatorStatus
from goftogu.queueing.relay import OutboxWritten
from goftogu.support import events, snoozes
from goftogu.support.connections import LocalConnections
from goftogu.support.content import normalise_label
from goftogu.support.documents import (
    ChatStatus,
    ChatType,
    Decision,
    FileRef,
    Message,
    RoutingEntry,
    Sender,
    SenderKind,
    SupportChat,
    conversation_of,
    now,
)
from goftogu.support.events import OPERATORS_ROOM, operator_room
from goftogu.support.queue import Place, QueueMoved, QueuePositions
from goftogu.support.routing import offer_slots
from goftogu.support.schemas import MessagePublic, OperatorPresence, SupportMessageEvent
from goftogu.support.staff import StaffDirectory, StaffMember
from goftogu.support.store import OPEN_STATUSES, ChatQuery, ChatStore
from goftogu.support.teams import TeamDirectory
from goftogu.text import refused_character

log = logging.getLogger(__name__)

MAX_CLIENT_ID_LENGTH = 64
MAX_PAGE = 100
ROOMS_LIMIT = 200


@dataclass(frozen=True)
class SupportRules:
    capacity: int = 3
    max_message_length: int = 16_000
    # Lifecycle (goftogu.support.lifecycle): a customer's message this soon after the
    # close reopens the conversation (0: never, a new one starts); a snooze gives
    # the operator's slot back.
    reopen_window_s: int = 0
    snooze_frees_slot: bool = True


@dataclass(frozen=True)
class ChatView:
    chat: SupportChat
    queue_position: int | None
    operator_name: str | None = None
    place: Place | None = None


@dataclass(frozen=True)
class OperatorCard:
    """An operator as the transfer picker shows them."""

    member: StaffMember
    presence: OperatorPresence


@dataclass(frozen=True)
class Posted:
    chat: SupportChat
    message: Message
    seq: int
    created: bool
    new_conversation: bool = False
    reopened: bool = False


JoinRoom = Callable[[str, str], Awaitable[None]]
"""Put a user's live connections (on every node) into a room, now."""


class SupportDesk:
    def __init__(
        self,
        store: ChatStore,
        availability: OperatorAvailability,
        staff: StaffDirectory,
        announcements: Announcements,
        *,
        join_before_write: JoinRoom,
        rules: SupportRules,
        positions: QueuePositions,
        teams: TeamDirectory | None = None,
        connections: LocalConnections | None = None,
        intake: Gate | None = None,
    ) -> None:
        self.store = store
        self.teams = teams
        self.positions = positions
        # Intakes written at once, waiting, and for how long (``goftogu.admission``).
        self._intake = intake
        self.availability = availability
        self.staff = staff
        self.rules = rules
        self._announcements = announcements
        self._join_before_write = join_before_write
        self.connections = connections or LocalConnections(availability)

    # --- customers -------------------------------------------------------------------

    async def start_chat(
        self, principal: Principal, client_id: str, body: str, team: str | None = None
    ) -> tuple[SupportChat, bool]:
        """A customer's first message opens a ``PENDING`` conversation holding it and
        owing a routing job (S3, S4), for ``team`` (its id or topic) when given. A
        retry answers the first one and ``False``."""
        if principal.role is not Role.customer:
            raise NotAllowed("Support conversations are started by customers.")
        message = self._new_message(principal, SenderKind.customer, client_id, body)
        chosen = None
        if team is not None:
            chosen = await self.teams.find(team) if self.teams and isinstance(team, str) else None
            if chosen is None:
                raise UnknownTeam(field="team", team=team)
        async with self._intake.admit() if self._intake else nullcontext():
            return await self._open_conversation(message, None, chosen.id if chosen else None)

    async def _open_conversation(
        self, message: Message, previous_chat_id: str | None, team_id: str | None = None
    ) -> tuple[SupportChat, bool]:
        assert message.sender.id is not None
        customer = await self.staff.customer(uuid.UUID(message.sender.id))
        at = message.created_at
        chat = SupportChat(
            id=str(new_id()),
            customer=customer,
            messages=[message],
            created_at=at,
            updated_at=at,
            routing=[RoutingEntry(at=at, decision=Decision.queued)],
            previous_chat_id=previous_chat_id,
            intake_key=message.key,
            team_id=team_id,
        )
        # The customer's sockets join the room before the write, not after it: the
        # routing worker may answer as soon as the write is done (a relay woken by
        # another commit), and the customer must not miss what it says. A room
        # without a conversation, if the write fails, tells nobody anything.
        try:
            await self._join_before_write(chat.customer.id, chat.conversation)
        except Exception:
            log.exception("could not join the customer's sockets", extra={"chat_id": chat.id})
        async with self._announcements.announcing() as work:
            stored, created = await self.store.create(chat)
            if created:
                log.info("support chat opened", extra={"chat_id": stored.id})
                work.announce(
                    OutboxWritten(),
                    events.queue_changed(stored, "added"),
                    QueueMoved(stored.id),
                    events.opened(stored),
                )
        return stored, created

    async def get_chat_for(self, principal: Principal, chat_id: str) -> ChatView:
        """The whole conversation, and its place in the queue while it waits."""
        chat = await self._readable(principal, chat_id)
        place = await self.positions.place_of(chat)
        name = await self.staff.name_of(chat.operator_id) if chat.operator_id else None
        return ChatView(chat, place.position if place else None, name, place)

    async def customer_connected(self, principal: Principal, connection_id: str) -> None:
        """The realtime layer: a customer's socket connected; it hears where each of
        their waiting conversations stands (``support:queue_position``)."""
        if principal.is_staff:
            return
        waiting = await self.store.find(
            ChatQuery(
                status=ChatStatus.PENDING,
                customer_id=str(principal.user_id),
                unassigned=True,
                limit=ROOMS_LIMIT,
            )
        )
        async with self._announcements.announcing() as work:
            for chat in waiting:
                if place := await self.positions.place_of(chat):
                    work.announce(self.positions.event_for(chat, place, room=connection_id))

    async def list_chats_for(
        self,
        principal: Principal,
        *,
        status: ChatStatus | None = None,
        type: ChatType | None = None,
        mine: bool = False,
        label: str | None = None,
        team: str | None = None,
        sla: str | None = None,
        snoozed: bool = False,
        after: str | None = None,
        limit: int = 50,
    ) -> tuple[list[SupportChat], bool]:
        """Customers: their own conversations. Operators: every conversation, or
        theirs (``mine``); the waiting ones (``status=PENDING``) oldest first, as a
        queue, anything else newest first; ``label``: staff only, those carrying it.
        Returns (page, has_more)."""
        limit = max(1, min(limit, MAX_PAGE))
        if label is not None:
            self._require_staff(principal)
            label = normalise_label(label)
        if team is not None or sla is not None or snoozed:
            self._require_staff(principal)
        me = str(principal.user_id)
        query = ChatQuery(
            status=status,
            type=type,
            customer_id=None if principal.is_staff else me,
            operator_id=me if principal.is_staff and mine else None,
            label=label,
            team_id=team,
            sla_state=sla,
            snoozed=snoozed,
            after=after,
            oldest_first=status is ChatStatus.PENDING,
            limit=limit + 1,
        )
        chats = await self.store.find(query)
        return chats[:limit], len(chats) > limit

    async def send_message(
        self,
        principal: Principal,
        chat_id: str,
        client_id: str,
        body: str,
        attachments: Sequence[FileRef] = (),
    ) -> Posted:
        """The customer or the assigned operator writes. The customer may write while
        the conversation waits; after it closed, their message opens a new one
        linked to it. A retry (same sender and ``client_id``) answers the first.
        ``attachments``: files already held for this conversation
        (``goftogu.support.conversation``); with them the body may be empty."""
        chat = await self._readable(principal, chat_id)
        async with self._announcements.announcing() as work:
            if chat.customer.id == str(principal.user_id):
                message = self._new_message(
                    principal, SenderKind.customer, client_id, body, attachments
                )
                posted = await self._customer_writes(chat, message, work)
                if posted.created and posted.chat.snooze is not None:
                    woken = await snoozes.wake(
                        self.store, self.availability, work, posted.chat, "reply"
                    )
                    posted = replace(posted, chat=woken or posted.chat)
            else:
                message = self._new_message(
                    principal, SenderKind.operator, client_id, body, attachments
                )
                posted = await self._operator_writes(chat, message)
            if posted.created and not posted.new_conversation:
                work.announce(*events.message_posted(posted.chat, posted.message, posted.seq))
        return posted

    async def _customer_writes(self, chat: SupportChat, message: Message, work: Work) -> Posted:
        appended = await self.store.append_message(chat.id, message, statuses=OPEN_STATUSES)
        if appended is not None:
            return Posted(appended.chat, appended.message, appended.seq, appended.created)
        # Closed (perhaps just now): a retry of a message it holds is answered...
        closed = await self.store.get(chat.id) or chat
        if found := closed.message(message.key):
            return Posted(closed, found[1], found[0], created=False)
        # ...closed moments ago, the message reopens it (lifecycle)...
        if reopened := await self._reopened_by(closed, message, work):
            return reopened
        # ...anything else starts a new conversation that links back to it.
        opened, created = await self._open_conversation(message, chat.id, chat.team_id)
        first = opened.messages[0]
        return Posted(opened, first, 1, created, new_conversation=True)

    async def _reopened_by(
        self, closed: SupportChat, message: Message, work: Work
    ) -> Posted | None:
        window = self.rules.reopen_window_s
        since = message.created_at - timedelta(seconds=window)
        if window <= 0 or closed.closed_at is None or closed.closed_at < since:
            return None
        by = Sender(kind=SenderKind.customer, id=message.sender.id)
        entry = RoutingEntry(
            at=message.created_at,
            decision=Decision.reopened,
            reason=f"the customer wrote within {window}s of the close",
            by=by,
        )
        try:
            await self._join_before_write(closed.customer.id, closed.conversation)
        except Exception:
            log.exception("could not join the customer's sockets", extra={"chat_id": closed.id})
        reopened = await self.store.reopen(
            closed.id, entry, operator_id=None, closed_since=since, message=message
        )
        if reopened is None:
            return None  # closed too long ago after all, or reopened meanwhile
        found = reopened.message(message.key)
        assert found is not None
        log.info("support chat reopened by the customer", extra={"chat_id": closed.id})
        work.announce(OutboxWritten(), *events.reopened(reopened, by), QueueMoved(reopened.id))
        return Posted(reopened, found[1], found[0], created=True, reopened=True)

    async def _operator_writes(self, chat: SupportChat, message: Message) -> Posted:
        me = message.sender.id
        if chat.operator_id != me:
            raise NotAllowed("Only the operator assigned to this conversation writes in it.")
        appended = await self.store.append_message(
            chat.id, message, statuses=frozenset({ChatStatus.OPEN}), operator_id=me
        )
        if appended is None:
            current = await self.store.get(chat.id)
            if current is not None and (found := current.message(message.key)):
                return Posted(current, found[1], found[0], created=False)
            if current is None or current.status is ChatStatus.CLOSED:
                raise ChatClosed()
            raise NotAllowed("Only the operator assigned to this conversation writes in it.")
        return Posted(appended.chat, appended.message, appended.seq, appended.created)

    async def replay_for(
        self, principal: Principal, conversation: str, after_seq: int, limit: int
    ) -> list[tuple[str, dict[str, Any]]]:
        """The ``support:message`` events of a conversation after ``after_seq``, for a
        socket that missed them (reconnect replay, gap repair)."""
        chat = await self._readable(principal, conversation.removeprefix("support:"))
        replayed = []
        for index, message in enumerate(chat.messages[after_seq : after_seq + limit]):
            seq = after_seq + index + 1
            payload = SupportMessageEvent(
                chat_id=chat.id,
                conversation=chat.conversation,
                seq=seq,
                message=MessagePublic.of(message, seq),
            )
            replayed.append(("support:message", payload.model_dump(mode="json")))
        return replayed

    # --- operators -------------------------------------------------------------------

    async def claim_chat(self, principal: Principal, chat_id: str) -> SupportChat:
        """An operator takes a waiting chat or ticket (within their capacity)."""
        self._require_staff(principal)
        chat = await self._readable(principal, chat_id)
        me = str(principal.user_id)
        if not chat.is_waiting:
            raise Conflict("This conversation is no longer waiting.", status=chat.status.value)
        if not await self.availability.reserve_operator(me, chat.id, self.rules.capacity):
            raise CapacityReached(capacity=await self._capacity_of(me))
        entry = RoutingEntry(at=now(), decision=Decision.claimed, operator_id=me, by=_operator(me))
        async with self._announcements.announcing() as work:
            assigned = await self.store.assign(chat.id, me, entry)
            if assigned is None:
                await self._give_back_unless_theirs(me, chat.id)
                raise Conflict("Someone else took this conversation first.")
            await self.availability.confirm(me, chat.id)
            log.info("support chat claimed", extra={"chat_id": chat.id, "operator_id": me})
            work.announce(
                *events.assigned(assigned),
                events.queue_changed(assigned, "removed"),
                QueueMoved(assigned.id),
            )
        return assigned

    async def transfer_chat(
        self, principal: Principal, chat_id: str, operator_id: str
    ) -> SupportChat:
        """Hand an open conversation to another operator (within their capacity)."""
        self._require_staff(principal)
        chat = await self._readable(principal, chat_id)
        me = str(principal.user_id)
        if chat.status is ChatStatus.CLOSED:
            raise ChatClosed()
        if chat.status is not ChatStatus.OPEN or chat.operator_id is None:
            raise Conflict("Only a conversation an operator has taken can be transferred.")
        if chat.operator_id != me and principal.role is not Role.admin:
            raise NotAllowed("Only the assigned operator or an admin transfers a conversation.")
        if chat.snooze is not None:
            raise ChatSnoozed()
        if await self.staff.role_of(operator_id) not in (Role.operator, Role.admin):
            raise NotFound("No such operator.", operator_id=operator_id)
        if operator_id == chat.operator_id:
            raise ValidationFailed("The conversation is already theirs.", field="operator_id")
        if not await self.availability.reserve_operator(operator_id, chat.id, self.rules.capacity):
            raise CapacityReached(capacity=await self._capacity_of(operator_id))
        previous = chat.operator_id
        entry = RoutingEntry(
            at=now(),
            decision=Decision.transferred,
            operator_id=operator_id,
            reason=f"from {previous}",
            by=_operator(me),
        )
        async with self._announcements.announcing() as work:
            moved = await self.store.transfer(chat.id, previous, operator_id, entry)
            if moved is None:
                await self._give_back_unless_theirs(operator_id, chat.id)
                raise Conflict("The conversation changed meanwhile; reload it.")
            await self.availability.confirm(operator_id, chat.id)
            await self.availability.release(previous, chat.id)
            log.info("support chat transferred", extra={"chat_id": chat.id, "to": operator_id})
            work.announce(*events.assigned(moved, previous_operator_id=previous))
            await self._reoffer(work, previous, 1)  # the previous operator has a free slot
        return moved

    async def close_chat(self, principal: Principal, chat_id: str) -> SupportChat:
        """``CLOSED`` (S7), by the assigned operator, an admin or the customer; the
        document stays as the archive, and the operator's slot is free again."""
        chat = await self._readable(principal, chat_id)
        me = str(principal.user_id)
        if chat.status is ChatStatus.CLOSED:
            raise ChatClosed()
        is_customer = chat.customer.id == me
        if not is_customer and principal.role is not Role.admin and chat.operator_id != me:
            raise NotAllowed("Only the operator assigned to this conversation closes it.")
        by = Sender(kind=SenderKind.customer if is_customer else SenderKind.operator, id=me)
        entry = RoutingEntry(
            at=now(), decision=Decision.closed, operator_id=chat.operator_id, by=by
        )
        async with self._announcements.announcing() as work:
            closed = await self.store.close(chat.id, chat.operator_id, entry)
            if closed is None:
                raise Conflict("The conversation changed meanwhile; reload it.")
            log.info("support chat closed", extra={"chat_id": chat.id})
            work.announce(*events.closed(closed, by))
            if chat.operator_id:
                await self.availability.release(chat.operator_id, chat.id)
                await self._reoffer(work, chat.operator_id, 1)
            else:
                work.announce(events.queue_changed(closed, "removed"), QueueMoved(closed.id))
        return closed

    # --- availability ----------------------------------------------------------------

    async def set_presence(
        self, principal: Principal, status: OperatorStatus, accepting: bool | None = None
    ) -> OperatorPresence:
        """An operator's availability (``accepting`` None: as before, true at first).
        Becoming available offers them the oldest waiting conversations."""
        self._require_staff(principal)
        me = str(principal.user_id)
        if accepting is None:
            chosen = await self.staff.chosen(principal.user_id)
            accepting = chosen[1] if chosen else True
        await self.staff.save_status(principal.user_id, status, accepting)
        before = await self.availability.state(me)
        state = await self.availability.set_status(me, status, accepting)
        await self._offer_new_slots(before.free_slots(self.rules.capacity), state)
        log.info("operator presence", extra={"operator_id": me, "status": status.value})
        return self._presence(state)

    async def set_capacity(
        self, principal: Principal, operator_id: str, capacity: int | None
    ) -> OperatorPresence:
        """Admins: an operator's own capacity (None: the default again). A larger one
        offers them waiting conversations at once."""
        if principal.role is not Role.admin:
            raise NotAllowed("Only admins set an operator's capacity.")
        if capacity is not None and not (isinstance(capacity, int) and 1 <= capacity <= 1000):
            raise ValidationFailed("capacity is 1 to 1000, or null.", field="capacity")
        if await self.staff.role_of(operator_id) not in (Role.operator, Role.admin):
            raise NotFound("No such operator.", operator_id=operator_id)
        await self.staff.save_capacity(uuid.UUID(operator_id), capacity)
        before = await self.availability.state(operator_id)
        state = await self.availability.set_capacity(operator_id, capacity)
        await self._offer_new_slots(before.free_slots(self.rules.capacity), state)
        return self._presence(state)

    async def operators_for(self, principal: Principal) -> list[OperatorCard]:
        """Staff only: every operator and admin with their availability and load (the
        transfer picker), those who take chats now first."""
        self._require_staff(principal)
        members = await self.staff.operators()
        states = {state.operator_id: state for state in await self.availability.states()}
        cards = [
            OperatorCard(member, self._presence(states.get(member.id) or _absent(member.id)))
            for member in members
        ]
        return sorted(cards, key=lambda card: not card.presence.connected)

    async def presence_of(self, principal: Principal) -> OperatorPresence:
        self._require_staff(principal)
        return self._presence(await self.availability.state(str(principal.user_id)))

    async def operator_connected(self, principal: Principal, connection_id: str) -> None:
        """The realtime layer: a socket of this user connected (operators only count)."""
        if not principal.is_staff:
            return
        me = str(principal.user_id)
        before = await self.availability.state(me)
        self.connections.opened(me, connection_id)
        state = await self.availability.connection_opened(me, connection_id)
        await self._offer_new_slots(before.free_slots(self.rules.capacity), state)

    async def operator_disconnected(self, principal: Principal, connection_id: str) -> None:
        if not principal.is_staff:
            return
        self.connections.closed(connection_id)
        await self.availability.connection_closed(str(principal.user_id), connection_id)

    async def rooms_for(self, principal: Principal) -> list[str]:
        """The rooms a socket of ``principal`` joins on connect: a customer's
        conversations not closed; an operator's own room, the queue room and the
        conversations assigned to them."""
        me = str(principal.user_id)
        if principal.is_staff:
            mine = await self.store.find_ids(
                ChatQuery(status=ChatStatus.OPEN, operator_id=me, limit=ROOMS_LIMIT)
            )
            teams = await self.teams.teams_of(me) if self.teams else frozenset()
            return [
                operator_room(me),
                OPERATORS_ROOM,
                *(f"team:{team_id}" for team_id in sorted(teams)),
                *map(conversation_of, mine),
            ]
        waiting_or_open = await self.store.find_ids(
            ChatQuery(statuses=OPEN_STATUSES, customer_id=me, limit=ROOMS_LIMIT)
        )
        return list(map(conversation_of, waiting_or_open))

    async def _reoffer(self, work: Work, operator_id: str, slots: int) -> list[str]:
        """Offer the ``slots`` oldest waiting conversations the operator could take
        to routing again."""
        offered = await offer_slots(self.store, self.teams, operator_id, slots)
        if offered:
            work.announce(OutboxWritten())
        return offered

    async def _offer_new_slots(self, free_before: int, state: OperatorState) -> None:
        free_now = state.free_slots(self.rules.capacity)
        if free_now > free_before:
            async with self._announcements.announcing() as work:
                await self._reoffer(work, state.operator_id, free_now - free_before)

    def _presence(self, state: OperatorState) -> OperatorPresence:
        return OperatorPresence(
            operator_id=state.operator_id,
            status=state.status,
            accepting=state.accepting,
            connected=state.connections > 0,
            load=state.load,
            capacity=state.capacity_or(self.rules.capacity),
        )

    # --- helpers ---------------------------------------------------------------------

    async def _readable(self, principal: Principal, chat_id: str) -> SupportChat:
        """The conversation if the caller may read it. Another customer's answers
        ``not_found``, like a conversation that does not exist."""
        chat = await self.store.get(chat_id) if isinstance(chat_id, str) else None
        if chat is None or not (principal.is_staff or chat.customer.id == str(principal.user_id)):
            raise NotFound("No such support conversation.")
        return chat

    async def _give_back_unless_theirs(self, operator_id: str, chat_id: str) -> None:
        """Release a slot held for a write that did not happen, unless the chat is
        this operator's anyway (a request sent twice: the other one won with the
        same slot)."""
        current = await self.store.get(chat_id)
        if current and current.status is ChatStatus.OPEN and current.operator_id == operator_id:
            return
        await self.availability.release(operator_id, chat_id)

    async def _capacity_of(self, operator_id: str) -> int:
        return (await self.availability.state(operator_id)).capacity_or(self.rules.capacity)

    def _require_staff(self, principal: Principal) -> None:
        if not principal.is_staff:
            raise NotAllowed("Only operators and admins do this.")

    def check_message(self, client_id: str, body: str, *, with_files: bool = False) -> None:
        """``validation_error`` / ``payload_too_large`` for a message that cannot be
        sent (checked before anything is written)."""
        if not isinstance(client_id, str) or not 1 <= len(client_id) <= MAX_CLIENT_ID_LENGTH:
            raise ValidationFailed(
                f"client_id must be 1 to {MAX_CLIENT_ID_LENGTH} characters.", field="client_id"
            )
        if not isinstance(body, str) or (not body.strip() and not with_files):
            raise ValidationFailed("The message is empty.", field="body")
        # The wire schemas refuse it already; this holds for every other caller.
        for field, value in (("client_id", client_id), ("body", body)):
            bad = refused_character(value, line=field == "client_id")
            if bad is not None:
                raise ValidationFailed(
                    f"The {field} holds a character that is refused: U+{ord(bad):04X}.",
                    field=field,
                )
        if len(body) > self.rules.max_message_length:
            raise PayloadTooLarge(
                f"A message holds at most {self.rules.max_message_length} characters.",
                limit=self.rules.max_message_length,
                length=len(body),
            )

    def _new_message(
        self,
        principal: Principal,
        kind: SenderKind,
        client_id: str,
        body: str,
        attachments: Sequence[FileRef] = (),
    ) -> Message:
        self.check_message(client_id, body, with_files=bool(attachments))
        return Message(
            id=str(new_id()),
            client_id=client_id,
            sender=Sender(kind=kind, id=str(principal.user_id)),
            body=body,
            created_at=now(),
            attachments=list(attachments),
        )


def _absent(operator_id: str) -> OperatorState:
    """An operator presence has never heard of: offline, nothing assigned."""
    return OperatorState(operator_id, OperatorStatus.offline, False, 0, frozenset(), 0, 0.0)


def _operator(operator_id: str) -> Sender:
    return Sender(kind=SenderKind.operator, id=operator_id)
