"""REST routes of the identity domain: /auth, /users, /admin/users."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel

from goftogu import __version__
from goftogu.api.deps import (
    AccountsDep,
    AuthDep,
    Client,
    ConversationsDep,
    CurrentPrincipal,
    PathId,
)
from goftogu.identity.accounts import NewAccount
from goftogu.identity.auth import IssuedTokens
from goftogu.identity.models import Role
from goftogu.identity.schemas import (
    AdminCreateUserRequest,
    AdminUpdateUserRequest,
    AdminUserPage,
    ChangePasswordRequest,
    LoginRequest,
    RefreshRequest,
    RegisterRequest,
    SessionList,
    SessionPublic,
    TokenPair,
    UpdateMeRequest,
    UserAdmin,
    UserCounts,
    UserPage,
    UserPrivate,
    UserPublic,
    VisitorRequest,
)
from goftogu.messaging.schemas import MessagingCounts
from goftogu.text import Line


class AdminStats(BaseModel):
    version: str
    users: UserCounts
    messaging: MessagingCounts


auth_router = APIRouter(prefix="/auth", tags=["auth"])
users_router = APIRouter(prefix="/users", tags=["users"])
admin_router = APIRouter(prefix="/admin", tags=["admin"])


def _pair(issued: IssuedTokens) -> TokenPair:
    return TokenPair(
        access_token=issued.access_token,
        refresh_token=issued.refresh_token,
        expires_in=issued.expires_in,
        user=UserPrivate.model_validate(issued.user),
    )


@auth_router.post("/register", status_code=status.HTTP_201_CREATED)
async def register(
    body: RegisterRequest, accounts: AccountsDep, auth: AuthDep, client: Client
) -> UserPrivate:
    """Create a customer account."""
    await auth.check_register_allowed(client)
    user = await accounts.register(
        NewAccount(body.username, body.email, body.password.get_secret_value())
    )
    return UserPrivate.model_validate(user)


@auth_router.post("/login")
async def login(body: LoginRequest, auth: AuthDep, client: Client) -> TokenPair:
    """Tokens for a username or email and password."""
    issued = await auth.login(body.login, body.password.get_secret_value(), client)
    return _pair(issued)


@auth_router.post("/refresh")
async def refresh(body: RefreshRequest, auth: AuthDep) -> TokenPair:
    """A new pair; the refresh token given stops working."""
    return _pair(await auth.refresh(body.refresh_token))


@auth_router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(body: RefreshRequest, auth: AuthDep, principal: CurrentPrincipal) -> Response:
    await auth.logout(principal, body.refresh_token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@auth_router.post("/password", status_code=status.HTTP_204_NO_CONTENT)
async def change_password(
    body: ChangePasswordRequest, auth: AuthDep, principal: CurrentPrincipal
) -> Response:
    """Change the caller's password; every other device is signed out."""
    await auth.change_password(
        principal,
        body.current_password.get_secret_value(),
        body.new_password.get_secret_value(),
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@auth_router.get("/sessions")
async def list_sessions(auth: AuthDep, principal: CurrentPrincipal) -> SessionList:
    """The caller's live sessions (devices)."""
    sessions = await auth.sessions_of(principal)
    return SessionList.whole(
        [
            SessionPublic(
                id=s.id,
                user_agent=s.user_agent,
                ip_address=s.ip_address,
                created_at=s.created_at,
                last_used_at=s.last_used_at,
                expires_at=s.expires_at,
                current=s.id == principal.session_id,
            )
            for s in sessions
        ]
    )


@auth_router.delete("/sessions/{session_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_session(
    session_id: PathId, auth: AuthDep, principal: CurrentPrincipal
) -> Response:
    """Sign a device out: its refresh token stops working at once."""
    await auth.revoke_session_for(principal, session_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@auth_router.post("/visitor", status_code=status.HTTP_201_CREATED)
async def visitor(
    body: VisitorRequest, accounts: AccountsDep, auth: AuthDep, client: Client
) -> TokenPair:
    """Tokens for an anonymous customer of the support widget (rate-limited per
    address by ``GOFTOGU_RATE_VISITOR_PER_IP``, not by the registration limit)."""
    await auth.check_visitor_allowed(client)
    user = await accounts.create_visitor(body.name, body.email)
    return _pair(await auth.start_session(user, client))


@users_router.get("/me")
async def me(accounts: AccountsDep, principal: CurrentPrincipal) -> UserPrivate:
    return UserPrivate.model_validate(await accounts.get(principal.user_id))


@users_router.patch("/me")
async def update_me(
    body: UpdateMeRequest, accounts: AccountsDep, principal: CurrentPrincipal
) -> UserPrivate:
    """Change display name, avatar, status, or email (visitors may add one later)."""
    return UserPrivate.model_validate(await accounts.update_me(principal, body))


@users_router.get("")
async def search_users(
    accounts: AccountsDep,
    principal: CurrentPrincipal,
    q: Annotated[Line, Query(min_length=1, max_length=64)],
    cursor: Annotated[Line | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=50)] = 20,
) -> UserPage:
    """Users whose username starts with ``q``, or whose email is exactly ``q``."""
    users, has_more = await accounts.search_for(principal, q, after=cursor, limit=limit)
    return UserPage(
        items=[UserPublic.model_validate(u) for u in users],
        has_more=has_more,
        next_cursor=users[-1].username_key if has_more and users else None,
    )


@users_router.get("/{user_id}")
async def profile(
    user_id: PathId, accounts: AccountsDep, principal: CurrentPrincipal
) -> UserPublic:
    return UserPublic.model_validate(await accounts.get_profile_for(principal, user_id))


@admin_router.post("/users", status_code=status.HTTP_201_CREATED)
async def create_user(
    body: AdminCreateUserRequest, accounts: AccountsDep, principal: CurrentPrincipal
) -> UserPrivate:
    """Admins create operators and admins."""
    user = await accounts.create_staff_for(
        principal,
        NewAccount(body.username, body.email, body.password.get_secret_value(), body.role),
    )
    return UserPrivate.model_validate(user)


@admin_router.get("/users")
async def list_users(
    accounts: AccountsDep,
    principal: CurrentPrincipal,
    q: Annotated[Line | None, Query(max_length=64)] = None,
    role: Role | None = None,
    visitors: bool = False,
    cursor: Annotated[Line | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=50)] = 20,
) -> AdminUserPage:
    """Every account by username (admins): ``q`` matches the start of the username,
    email or display name; ``role`` filters; visitors only with ``visitors=true``."""
    users, has_more = await accounts.list_for_admin(
        principal, q, role=role, visitors=visitors, after=cursor, limit=limit
    )
    return AdminUserPage(
        items=[UserAdmin.model_validate(u) for u in users],
        has_more=has_more,
        next_cursor=users[-1].username_key if has_more and users else None,
    )


@admin_router.patch("/users/{user_id}")
async def update_user(
    user_id: PathId,
    body: AdminUpdateUserRequest,
    accounts: AccountsDep,
    auth: AuthDep,
    principal: CurrentPrincipal,
) -> UserAdmin:
    """Change a role, disable or re-enable an account (admins). Disabling revokes
    every session of the account at once; its login is refused with
    ``account_disabled``. Nobody disables or demotes themself or the last admin."""
    user, disabled_now = await accounts.update_for_admin(principal, user_id, body)
    if disabled_now:
        await auth.revoke_all_sessions(user.id, reason="account_disabled")
    return UserAdmin.model_validate(user)


@admin_router.get("/stats")
async def stats(
    accounts: AccountsDep, conversations: ConversationsDep, principal: CurrentPrincipal
) -> AdminStats:
    """Counts for the health page (admins): accounts by kind, live sessions,
    conversations and messages, and the server's version."""
    return AdminStats(
        version=__version__,
        users=await accounts.counts_for_admin(principal),
        messaging=await conversations.counts_for_admin(principal),
    )
