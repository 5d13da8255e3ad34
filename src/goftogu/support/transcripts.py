"""Transcripts by email: the customer asks (or staff ask for them), or the
conversation closes.

On close the store's conditional write itself owes the closing email (a token in
the document's outbox, ``OutboxKind.closed_notice``): the relay publishes a
``support.transcript_requested`` job (with the rating link) to ``notify``. On
request the job goes to the relational outbox in one transaction. Either way
the notifier's path makes it one email: the job id is
``transcript:<chat>:<request>`` (a request's ``client_id``, or ``closed``), and
the delivery ledger sends each planned email once, across retries and restarts.
Only messages go in, never a private note; the email is in the customer's
language (English or Persian, right to left).
"""

from __future__ import annotations

from goftogu.errors import NotFound, ValidationFailed
from goftogu.identity.tokens import Principal
from goftogu.notifications.triggers import enqueue_notification
from goftogu.storage.work import UnitsOfWork
from goftogu.support.outbox import transcript_of
from goftogu.support.store import ChatStore

MAX_CLIENT_ID = 64


class Transcripts:
    def __init__(self, store: ChatStore, work: UnitsOfWork) -> None:
        self._store = store
        self._work = work

    async def request(self, principal: Principal, chat_id: str, client_id: str) -> str:
        """Email the conversation to its customer's address (the customer, or staff on
        their behalf); a retry with the same ``client_id`` sends it once. Answers the
        address it goes to."""
        if not isinstance(client_id, str) or not 1 <= len(client_id) <= MAX_CLIENT_ID:
            raise ValidationFailed(
                f"client_id must be 1 to {MAX_CLIENT_ID} characters.", field="client_id"
            )
        chat = await self._store.get(chat_id) if isinstance(chat_id, str) else None
        if chat is None or not (principal.is_staff or chat.customer.id == str(principal.user_id)):
            raise NotFound("No such support conversation.")
        if not chat.customer.email:
            raise ValidationFailed(
                "The customer gave no email address to send the transcript to.", field="email"
            )
        async with self._work.transaction() as work:
            await enqueue_notification(
                work, transcript_of(chat, f"request:{client_id}", requested=True)
            )
        return chat.customer.email
