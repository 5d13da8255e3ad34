"""Wire models of the identity API (requests and public shapes)."""

from __future__ import annotations

import re
import unicodedata
import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, HttpUrl

from goftogu.identity.models import Role, UserStatus
from goftogu.pages import ListPage
from goftogu.text import Line, Secret

VISITOR_PREFIX = "visitor-"
_USERNAME = re.compile(r"^[^\W_][\w.-]{2,31}$")


def _username(value: str) -> str:
    value = unicodedata.normalize("NFKC", value.strip())
    if not _USERNAME.match(value):
        raise ValueError(
            "3 to 32 letters, digits, '.', '-' or '_', starting with a letter or digit"
        )
    if value.casefold().startswith(VISITOR_PREFIX):
        raise ValueError(f"usernames starting with '{VISITOR_PREFIX}' are reserved")
    return value


def _display_name(value: str) -> str:
    value = unicodedata.normalize("NFKC", value).strip()
    if not value:
        raise ValueError("must not be blank")
    return value


Username = Annotated[Line, Field(min_length=3, max_length=32), AfterValidator(_username)]
DisplayName = Annotated[Line, Field(min_length=1, max_length=64), AfterValidator(_display_name)]
Password = Annotated[Secret, Field(min_length=1, max_length=1024)]


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class RegisterRequest(Request):
    username: Username
    email: EmailStr
    password: Password


class AdminCreateUserRequest(RegisterRequest):
    role: Role = Role.operator


class AdminUpdateUserRequest(Request):
    """An admin's change to an account: its role, or disabling / re-enabling it."""

    role: Role | None = None
    disabled: bool | None = None


class LoginRequest(Request):
    login: Annotated[Line, Field(min_length=1, max_length=254, description="username or email")]
    password: Password


class ChangePasswordRequest(Request):
    current_password: Password
    new_password: Password


class RefreshRequest(Request):
    refresh_token: Annotated[Line, Field(min_length=1, max_length=256)]


class VisitorRequest(Request):
    name: DisplayName | None = None
    email: EmailStr | None = None


class UpdateMeRequest(Request):
    display_name: DisplayName | None = None
    email: EmailStr | None = None
    avatar_url: HttpUrl | None = None
    status: UserStatus | None = None


class UserPublic(BaseModel):
    """What any signed-in user may see of another."""

    id: uuid.UUID
    username: str
    display_name: str | None
    avatar_url: str | None
    role: Role
    is_visitor: bool
    status: UserStatus
    last_seen: datetime | None

    model_config = ConfigDict(from_attributes=True)


class UserPrivate(UserPublic):
    """What a user sees of themself (and admins of anyone)."""

    email: str | None
    created_at: datetime
    updated_at: datetime


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 (a scheme name, not a secret)
    expires_in: int = Field(description="seconds until the access token expires")
    user: UserPrivate


class SessionPublic(BaseModel):
    id: uuid.UUID
    user_agent: str | None
    ip_address: str | None
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime
    current: bool


class UserPage(BaseModel):
    items: list[UserPublic]
    has_more: bool
    next_cursor: str | None = None


class UserAdmin(UserPrivate):
    """What an admin sees of an account in the users list."""

    disabled: bool
    disabled_at: datetime | None


class AdminUserPage(BaseModel):
    items: list[UserAdmin]
    has_more: bool
    next_cursor: str | None = None


class UserCounts(BaseModel):
    """Accounts by kind (the admin health page)."""

    customers: int
    visitors: int
    operators: int
    admins: int
    disabled: int
    live_sessions: int


# --- lists (one shape: goftogu/pages.py) ------------------------------------------


class SessionList(ListPage[SessionPublic]):
    """SessionPublic items, answered whole."""
