"""The error answers of every operation, in the OpenAPI document.

Every failure of the REST API has one shape (``goftogu.api.errors``), but FastAPI
only documents the success and a 422 of its own shape. ``document_errors`` makes
the document say what the gateway really answers (issue 17, "Fuzzing in CI":
schemathesis fails for a status code the document does not list, or a body
outside its schema):

- by the operation's shape: 400 (a JSON body that is not JSON) and 413 (a body
  over the route's limit, ``api/guard.py`` ``BodyLimits``) where there is a body,
  401 where a token is needed, 404 where a path names a resource, 422 everywhere
  a parameter or body is read, all with the error shape;
- by the operation (``ERRORS`` below): 401 of the sign-in routes, 403, 409, 429
  and 503, where the services raise them.

``tests/e2e/test_openapi_fuzz.py`` fails for an answer outside the document;
``tests/unit/test_openapi_errors.py`` for a table entry naming no operation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, Field

PREFIX = "/api/v1"


class ErrorDetail(BaseModel):
    code: str = Field(description="stable, machine-readable: see goftogu.errors")
    message: str
    details: dict[str, Any] | None = Field(
        default=None, description="per code: fields[], limit, retry_after, reason, ..."
    )


class ErrorResponse(BaseModel):
    """Every failure of the REST API."""

    error: ErrorDetail


WHY = {
    400: "`validation_error` / `bad_request`: the body is not valid JSON (or multipart)",
    401: "`unauthenticated`, `token_invalid`, `token_expired` or `session_revoked`",
    403: "`forbidden`, `not_a_member` or `not_allowed`: not yours to see or do",
    404: "`not_found`: no such resource, or not one the caller may know of",
    409: "`conflict` or a more precise code: the resource's state does not allow it",
    413: "`payload_too_large` (`details.limit`): the body is over the route's limit",
    422: "`validation_error` (`details.fields[]`) or a more precise code",
    429: "`rate_limited` (`details.retry_after`, `Retry-After`)",
    503: "`overloaded` (`Retry-After`): the gateway sheds load instead of queueing it",
}

# Secured operations that never answer 403: the caller's own account and devices.
NEVER_FORBIDDEN = {
    "POST /auth/logout",
    "GET /auth/sessions",
    "DELETE /auth/sessions/{session_id}",
    "GET /users/me",
    "GET /users/me/notification-settings",
    "PUT /users/me/notification-settings",
    "GET /push/vapid-public-key",
    "GET /push/subscriptions",
    "POST /push/subscriptions",
    "DELETE /push/subscriptions/{subscription_id}",
    "GET /support/topics",
}

TAKEN = "`username_taken` or `email_taken`"
DELETED = "`message_deleted`: the message (or the one replied to) was deleted"
DESK = "`conflict` (the conversation changed meanwhile), `chat_closed` or `capacity_reached`"
PUSH = "`push_not_configured`: the server has no VAPID keys"
BY_LINK = "`token_invalid` or `token_expired`: the rating link's token"

# Errors that depend on what an operation does, by "METHOD path" (without the
# /api/v1 prefix): status -> what it means there (None: the generic reason).
ERRORS: dict[str, dict[int, str | None]] = {
    "POST /auth/register": {409: TAKEN, 429: None},
    "POST /auth/login": {
        401: "`invalid_credentials`",
        403: "`account_disabled`",
        429: None,
        503: None,
    },
    "POST /auth/refresh": {
        401: "`token_invalid`, `token_expired` or `session_revoked`",
        403: "`account_disabled`",
    },
    "POST /auth/password": {
        401: "`invalid_credentials` (the current password), or the token's",
        403: "`not_allowed` for visitors",
        429: None,
    },
    "POST /auth/visitor": {429: None},
    "PATCH /users/me": {409: "`email_taken`"},
    "POST /admin/users": {409: TAKEN},
    "PATCH /admin/users/{user_id}": {409: "`conflict`: the last enabled admin"},
    "POST /admin/webhooks": {409: "`too_many_webhooks`"},
    "GET /push/vapid-public-key": {404: PUSH},
    "POST /push/subscriptions": {404: PUSH, 409: "`conflict`: registered at the same time"},
    "POST /chats/single": {404: "`not_found`: no such user"},
    "POST /groups": {404: "`not_found`: no such user among `member_ids`"},
    "POST /groups/{group_id}/members": {409: "`already_member`"},
    "POST /conversations/{address}/messages": {
        409: DELETED + "; `conflict`: an attachment already sent",
        503: None,
    },
    "POST /conversations/{address}/pins": {409: DELETED},
    "PATCH /messages/{message_id}": {409: DELETED},
    "POST /messages/{message_id}/forward": {409: DELETED},
    "POST /messages/{message_id}/reactions": {409: DELETED},
    "POST /support/chats": {503: None},
    "POST /support/chats/{chat_id}/messages": {
        409: "`chat_closed` (an operator's reply), `conflict`: an attachment already sent"
    },
    "POST /support/chats/{chat_id}/claim": {409: DESK},
    "POST /support/chats/{chat_id}/transfer": {409: DESK + ", or `chat_snoozed`"},
    "POST /support/chats/{chat_id}/close": {409: DESK},
    "POST /support/canned-replies": {409: "`shortcode_taken`"},
    "PATCH /support/canned-replies/{reply_id}": {409: "`shortcode_taken`"},
    "POST /support/teams": {409: "`topic_taken`"},
    "PATCH /support/teams/{team_id}": {409: "`topic_taken`"},
    "POST /support/chats/{chat_id}/csat": {409: "`already_rated` or `chat_not_closed`"},
    "POST /support/chats/{chat_id}/reopen": {
        409: "`chat_not_closed`, `capacity_reached` or `conflict` (changed meanwhile)"
    },
    "POST /support/chats/{chat_id}/snooze": {
        409: "`chat_snoozed`, `chat_closed` or `conflict` (not taken, changed meanwhile)"
    },
    "POST /support/chats/{chat_id}/wake": {409: "`not_snoozed`"},
    "POST /support/chats/{chat_id}/assign": {409: DESK + ", or `chat_snoozed`"},
    "GET /support/csat": {401: BY_LINK, 404: None},
    "POST /support/csat": {401: BY_LINK, 404: None, 409: "`already_rated` or `chat_not_closed`"},
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _answer(status: int, why: str | None) -> dict[str, Any]:
    return {
        "description": why or WHY[status],
        "content": {"application/json": {"schema": _ref("ErrorResponse")}},
    }


def add_error_responses(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` with the error answers of each operation (changed in place)."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for model in (ErrorDetail, ErrorResponse):
        schemas[model.__name__] = model.model_json_schema(
            ref_template="#/components/schemas/{model}"
        )
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            responses: dict[str, Any] = operation.setdefault("responses", {})
            statuses: dict[int, str | None] = {}
            key = f"{method.upper()} {path.removeprefix(PREFIX)}"
            if operation.get("requestBody"):
                statuses[400] = None
                statuses[413] = None
            if operation.get("security"):
                statuses[401] = None
                if key not in NEVER_FORBIDDEN:
                    statuses[403] = None
            parameters = operation.get("parameters", [])
            if any(p.get("in") == "path" for p in parameters):
                statuses[404] = None
            if parameters or operation.get("requestBody") or "422" in responses:
                statuses[422] = None
            statuses.update(ERRORS.get(key, {}))
            for status, why in sorted(statuses.items()):
                responses[str(status)] = _answer(status, why)
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    return document


def document_errors(api: FastAPI) -> None:
    """Serve (and cache) ``api``'s document with the error answers."""
    build: Callable[[], dict[str, Any]] = api.openapi

    def openapi() -> dict[str, Any]:
        if api.openapi_schema is None:
            api.openapi_schema = add_error_responses(build())
        return api.openapi_schema

    api.openapi = openapi  # type: ignore[method-assign]
