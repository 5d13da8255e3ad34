"""Customer satisfaction (CSAT) after a conversation closed: a score of 1 to 5 and
an optional comment, once per conversation.

The customer rates from the widget (signed in as themselves) or from an email
link that carries a signed token instead of a session: ``csat_token`` signs
the conversation and its customer with a key derived from the server secret
(HS256, audience ``goftogu:csat``, so it is never an access token and an access
token is never one), valid ``csat_token_days``. Once is a conditional write on
the document (closed and not yet rated), so two rating at once store one.
Staff hear ``support:csat`` in ``operators``.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import jwt

from goftogu.bus import Announcements
from goftogu.errors import (
    AlreadyRated,
    ChatNotClosed,
    NotFound,
    TokenExpired,
    TokenInvalid,
    ValidationFailed,
)
from goftogu.identity.tokens import Principal
from goftogu.support.documents import ChatStatus, Csat, CsatSource, SupportChat, now
from goftogu.support.events import csat_received
from goftogu.support.store import ChatStore

AUDIENCE = "goftogu:csat"
MAX_COMMENT = 2000


class CsatLinks:
    """Signed, expiring tokens for rating a conversation by email link."""

    def __init__(self, secret: str, *, ttl: timedelta, public_url: str) -> None:
        self._key = hmac.new(secret.encode(), b"goftogu csat links", hashlib.sha256).digest()
        self._ttl = ttl
        self._public_url = public_url.rstrip("/")

    def token(self, chat: SupportChat, *, at: datetime | None = None) -> str:
        issued = at or datetime.now(UTC)
        claims = {
            "sub": chat.id,
            "cus": chat.customer.id,
            "aud": AUDIENCE,
            "iat": issued,
            "exp": issued + self._ttl,
        }
        return jwt.encode(claims, self._key, algorithm="HS256")

    def link(self, chat: SupportChat) -> str:
        return f"{self._public_url}/csat?token={self.token(chat)}"

    def verify(self, token: str) -> tuple[str, str]:
        """(chat id, customer id) of a valid token; ``token_expired`` /
        ``token_invalid`` otherwise."""
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=["HS256"],
                audience=AUDIENCE,
                options={"require": ["sub", "cus", "exp", "aud"]},
            )
        except jwt.ExpiredSignatureError as error:
            raise TokenExpired("This rating link has expired.") from error
        except jwt.PyJWTError as error:
            raise TokenInvalid("This rating link is not valid.") from error
        return str(claims["sub"]), str(claims["cus"])


class CsatSurveys:
    def __init__(self, store: ChatStore, links: CsatLinks, announcements: Announcements) -> None:
        self.store = store
        self.links = links
        self._announcements = announcements

    async def rate(
        self, principal: Principal, chat_id: str, score: int, comment: str | None
    ) -> SupportChat:
        """The customer rates their own closed conversation (the widget)."""
        chat = await self.store.get(chat_id) if isinstance(chat_id, str) else None
        if chat is None or chat.customer.id != str(principal.user_id):
            raise NotFound("No such support conversation.")
        return await self._rate(chat, score, comment, CsatSource.widget)

    async def rate_by_link(self, token: str, score: int, comment: str | None) -> SupportChat:
        """Whoever holds the emailed link rates the conversation it names."""
        chat_id, customer_id = self.links.verify(token)
        chat = await self.store.get(chat_id)
        if chat is None or chat.customer.id != customer_id:
            raise NotFound("No such support conversation.")
        return await self._rate(chat, score, comment, CsatSource.email)

    async def survey_of(self, token: str) -> SupportChat:
        """What a link is about (the rating page shows it), without rating."""
        chat_id, customer_id = self.links.verify(token)
        chat = await self.store.get(chat_id)
        if chat is None or chat.customer.id != customer_id:
            raise NotFound("No such support conversation.")
        return chat

    async def _rate(
        self, chat: SupportChat, score: int, comment: str | None, source: CsatSource
    ) -> SupportChat:
        if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
            raise ValidationFailed("A score is a whole number from 1 to 5.", field="score")
        text = comment.strip() if isinstance(comment, str) else ""
        if len(text) > MAX_COMMENT:
            raise ValidationFailed(
                f"A comment holds at most {MAX_COMMENT} characters.", field="comment"
            )
        if chat.csat is not None:
            raise AlreadyRated(score=chat.csat.score)
        if chat.status is not ChatStatus.CLOSED:
            raise ChatNotClosed()
        csat = Csat(score=score, comment=text or None, at=now(), source=source)
        async with self._announcements.announcing() as work:
            rated = await self.store.rate(chat.id, csat)
            if rated is None:
                raise AlreadyRated()
            work.announce(*csat_received(rated, csat))
        return rated
