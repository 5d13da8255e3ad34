"""Accounts: registering, visitors, profiles, search, admin-made staff."""

from __future__ import annotations

import logging
import secrets
import unicodedata
import uuid
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from goftogu.errors import (
    Conflict,
    EmailTaken,
    Forbidden,
    NotAllowed,
    NotFound,
    UsernameTaken,
)
from goftogu.identity.models import AuthSession, Role, User
from goftogu.identity.passwords import PasswordHashes, check_strength
from goftogu.identity.schemas import (
    VISITOR_PREFIX,
    AdminUpdateUserRequest,
    UpdateMeRequest,
    UserCounts,
)
from goftogu.identity.tokens import Principal
from goftogu.ids import parse_id
from goftogu.storage.database import Database
from goftogu.storage.errors import is_unique_violation
from goftogu.storage.models import utcnow

log = logging.getLogger(__name__)

MAX_SEARCH_RESULTS = 50


def identifier_key(value: str) -> str:
    """The case-insensitive form that carries uniqueness of usernames and emails."""
    return unicodedata.normalize("NFKC", value.strip()).casefold()


@dataclass(frozen=True)
class NewAccount:
    username: str
    email: str
    password: str
    role: Role = Role.customer


class Accounts:
    """Use cases on users. Passwords are checked and hashed here, never stored plain."""

    def __init__(self, database: Database, hashes: PasswordHashes) -> None:
        self._db = database
        self._hashes = hashes

    async def register(self, account: NewAccount) -> User:
        """Create a user; ``username_taken`` / ``email_taken`` / ``weak_password``."""
        check_strength(account.password, username=account.username, email=account.email)
        user = User(
            username=account.username,
            username_key=identifier_key(account.username),
            email=account.email,
            email_key=identifier_key(account.email),
            password_hash=await self._hashes.hash(account.password),
            role=account.role,
        )
        async with self._db.transaction() as session:
            await self._refuse_taken(session, user.username_key, user.email_key)
            session.add(user)
            await _flush_translating_duplicates(session)
        return user

    async def set_password(self, username: str, password: str) -> User | None:
        """Give an existing account a new password (a command-line tool's reset; the
        account's sessions stay). None when there is no such user."""
        check_strength(password, username=username, email=None)
        new_hash = await self._hashes.hash(password)
        async with self._db.transaction() as session:
            user = await session.scalar(
                select(User).where(User.username_key == identifier_key(username))
            )
            if user is not None:
                user.password_hash = new_hash
        return user

    async def set_display_name(self, user_id: uuid.UUID, display_name: str | None) -> None:
        async with self._db.transaction() as session:
            user = await session.get(User, user_id)
            if user is not None:
                user.display_name = display_name

    async def create_visitor(self, name: str | None, email: str | None) -> User:
        """An anonymous customer for the support widget; name and email optional.

        An email another account holds already (a returning visitor, or anyone who
        registered with it) is not proof of being them: the visitor still gets a
        session, as a new visitor without that email, and starts a new conversation
        (the old one is never handed to whoever types an address)."""
        try:
            return await self._new_visitor(name, email)
        except EmailTaken:
            log.info("visitor email already held by an account; new visitor without it")
            return await self._new_visitor(name, None)

    async def _new_visitor(self, name: str | None, email: str | None) -> User:
        username = VISITOR_PREFIX + secrets.token_hex(6)
        user = User(
            username=username,
            username_key=username,
            display_name=name,
            email=email,
            email_key=identifier_key(email) if email else None,
            role=Role.customer,
            is_visitor=True,
        )
        async with self._db.transaction() as session:
            if user.email_key:
                await self._refuse_taken(session, None, user.email_key)
            session.add(user)
            await _flush_translating_duplicates(session)
        return user

    async def get(self, user_id: uuid.UUID) -> User:
        async with self._db.sessions() as session:
            user = await session.get(User, user_id)
        if user is None:
            raise NotFound("No such user.")
        return user

    async def get_profile_for(self, principal: Principal, user_id: str) -> User:
        """A public profile; visitors are visible only to staff and to themselves.
        A visitor sees only their own (role, status and last seen of staff are not
        theirs to watch): anyone else is ``not_found``."""
        parsed = parse_id(user_id)
        if parsed is None or (principal.is_visitor and parsed != principal.user_id):
            raise NotFound("No such user.")
        user = await self.get(parsed)
        if user.is_visitor and not (principal.is_staff or principal.user_id == user.id):
            raise NotFound("No such user.")
        return user

    async def update_me(self, principal: Principal, changes: UpdateMeRequest) -> User:
        async with self._db.transaction() as session:
            user = await session.get(User, principal.user_id)
            if user is None:
                raise NotFound("No such user.")
            fields = changes.model_fields_set
            if "display_name" in fields:
                user.display_name = changes.display_name
            if "avatar_url" in fields:
                user.avatar_url = str(changes.avatar_url) if changes.avatar_url else None
            if "status" in fields and changes.status is not None:
                user.status = changes.status
            if "email" in fields:
                await self._change_email(session, user, changes.email)
            await _flush_translating_duplicates(session)
        return user

    async def search_for(
        self, principal: Principal, query: str, *, after: str | None, limit: int
    ) -> tuple[list[User], bool]:
        """Users whose username starts with ``query`` (or whose email is exactly it),
        by username; visitors only for staff. Visitors of the widget search nobody
        (``not_allowed``). Returns (page, has_more)."""
        if principal.is_visitor:
            raise NotAllowed("Visitors of the support widget cannot look people up.")
        key = identifier_key(query)
        pattern = _prefix_pattern(key)
        statement = select(User).where(
            or_(User.username_key.like(pattern, escape="\\"), User.email_key == key)
        )
        if not principal.is_staff:
            statement = statement.where(User.is_visitor.is_(False))
        if after:
            statement = statement.where(User.username_key > after)
        limit = max(1, min(limit, MAX_SEARCH_RESULTS))
        statement = statement.order_by(User.username_key).limit(limit + 1)
        async with self._db.sessions() as session:
            users = list((await session.scalars(statement)).all())
        return users[:limit], len(users) > limit

    async def create_staff_for(self, principal: Principal, account: NewAccount) -> User:
        """Admins create operators and admins (and customers)."""
        if principal.role is not Role.admin:
            raise Forbidden("Only admins create accounts for others.")
        return await self.register(account)

    async def list_for_admin(
        self,
        principal: Principal,
        query: str | None,
        *,
        role: Role | None = None,
        visitors: bool = False,
        after: str | None,
        limit: int,
    ) -> tuple[list[User], bool]:
        """Every account by username, for admins: ``query`` matches the start of the
        username, the email or the display name (case-folded); visitors only when
        asked for. Returns (page, has_more); the cursor is the last username key."""
        _require_admin(principal)
        statement = select(User)
        if query:
            key = identifier_key(query)
            pattern = _prefix_pattern(key)
            statement = statement.where(
                or_(
                    User.username_key.like(pattern, escape="\\"),
                    User.email_key.like(pattern, escape="\\"),
                    func.lower(User.display_name).like(pattern, escape="\\"),
                )
            )
        if role is not None:
            statement = statement.where(User.role == role)
        if not visitors:
            statement = statement.where(User.is_visitor.is_(False))
        if after:
            statement = statement.where(User.username_key > after)
        limit = max(1, min(limit, MAX_SEARCH_RESULTS))
        statement = statement.order_by(User.username_key).limit(limit + 1)
        async with self._db.sessions() as session:
            users = list((await session.scalars(statement)).all())
        return users[:limit], len(users) > limit

    async def update_for_admin(
        self, principal: Principal, user_id: str, changes: AdminUpdateUserRequest
    ) -> tuple[User, bool]:
        """Change an account's role or disable / re-enable it. Returns the user and
        whether it was disabled by this call (its sessions are then to be revoked).

        An admin cannot disable or demote themself, and nobody leaves the system
        without an enabled admin (``conflict``); visitors keep the customer role."""
        _require_admin(principal)
        parsed = parse_id(user_id)
        fields = changes.model_fields_set
        async with self._db.transaction() as session:
            # The enabled admins first, in one order, then the target: two admins
            # demoting each other wait for one another instead of deadlocking.
            admins = (
                await session.scalars(
                    select(User.id)
                    .where(User.role == Role.admin, User.disabled_at.is_(None))
                    .order_by(User.id)
                    .with_for_update()
                )
            ).all()
            user = await session.get(User, parsed, with_for_update=True) if parsed else None
            if user is None:
                raise NotFound("No such user.")
            demoting = (
                "role" in fields
                and changes.role is not None
                and changes.role is not Role.admin
                and user.role == Role.admin
            )
            disabling = "disabled" in fields and changes.disabled is True and not user.disabled
            if user.id == principal.user_id and (demoting or disabling):
                raise NotAllowed("An admin cannot disable or demote themself.")
            if (demoting or disabling) and user.id in admins and len(admins) <= 1:
                raise Conflict("The last enabled admin cannot be disabled or demoted.")
            if "role" in fields and changes.role is not None:
                if user.is_visitor and changes.role is not Role.customer:
                    raise NotAllowed("A visitor of the support widget stays a customer.")
                user.role = changes.role
            if "disabled" in fields and changes.disabled is not None:
                if changes.disabled and not user.disabled:
                    user.disabled_at = utcnow()
                elif not changes.disabled:
                    user.disabled_at = None
        return user, disabling

    async def counts_for_admin(self, principal: Principal) -> UserCounts:
        """How many accounts of each kind, and live sessions (the health page)."""
        _require_admin(principal)
        async with self._db.sessions() as session:
            rows = (
                await session.execute(
                    select(User.role, User.is_visitor, func.count()).group_by(
                        User.role, User.is_visitor
                    )
                )
            ).all()
            disabled = await session.scalar(
                select(func.count()).select_from(User).where(User.disabled_at.is_not(None))
            )
            live = await session.scalar(
                select(func.count())
                .select_from(AuthSession)
                .where(AuthSession.revoked_at.is_(None), AuthSession.expires_at > utcnow())
            )
        by_kind = {(role, is_visitor): count for role, is_visitor, count in rows}
        return UserCounts(
            customers=by_kind.get((Role.customer.value, False), 0),
            visitors=sum(c for (_, is_visitor), c in by_kind.items() if is_visitor),
            operators=by_kind.get((Role.operator.value, False), 0),
            admins=by_kind.get((Role.admin.value, False), 0),
            disabled=disabled or 0,
            live_sessions=live or 0,
        )

    async def _change_email(self, session: AsyncSession, user: User, email: str | None) -> None:
        if email is None:
            if not user.is_visitor:
                raise NotAllowed("A registered account keeps an email address.")
            user.email, user.email_key = None, None
            return
        key = identifier_key(email)
        if key != user.email_key:
            await self._refuse_taken(session, None, key)
        user.email, user.email_key = email, key

    async def _refuse_taken(
        self, session: AsyncSession, username_key: str | None, email_key: str | None
    ) -> None:
        if username_key is not None:
            taken = await session.scalar(select(User.id).where(User.username_key == username_key))
            if taken is not None:
                raise UsernameTaken()
        if email_key is not None:
            taken = await session.scalar(select(User.id).where(User.email_key == email_key))
            if taken is not None:
                raise EmailTaken()


def _require_admin(principal: Principal) -> None:
    if principal.role is not Role.admin:
        raise Forbidden("Only admins manage accounts.")


def _prefix_pattern(key: str) -> str:
    return key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


async def _flush_translating_duplicates(session: AsyncSession) -> None:
    """Flush; a unique violation (a race past the check) becomes its domain code."""
    try:
        await session.flush()
    except IntegrityError as error:
        if is_unique_violation(
            error, constraint="uq_users_username_key", columns="users.username_key"
        ):
            raise UsernameTaken() from error
        if is_unique_violation(error, constraint="uq_users_email_key", columns="users.email_key"):
            raise EmailTaken() from error
        raise
