"""Domain errors with stable, machine-readable codes.

Services and stores raise these; each edge translates them once: the REST
exception handler (``api/errors.py``), the Socket.IO error ack
(``realtime``) and the queue consumers (dead-letter with the code).
The codes are part of the public contract (``design/api.md``): add new ones,
never rename.
"""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    """A failure a client can understand: a code, an HTTP status, details."""

    code: ClassVar[str] = "error"
    status: ClassVar[int] = 400
    default_message: ClassVar[str] = "The request could not be completed."

    def __init__(self, message: str | None = None, **details: Any) -> None:
        self.message = message or self.default_message
        self.details = details
        super().__init__(self.message)

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return body


class ValidationFailed(DomainError):
    code = "validation_error"
    status = 422
    default_message = "The request is not valid."


class Unauthenticated(DomainError):
    code = "unauthenticated"
    status = 401
    default_message = "Authentication is required."


class TokenExpired(Unauthenticated):
    code = "token_expired"
    default_message = "The token has expired."


class TokenInvalid(Unauthenticated):
    code = "token_invalid"
    default_message = "The token is not valid."


class SessionRevoked(Unauthenticated):
    code = "session_revoked"
    default_message = "This session has ended; sign in again."


class InvalidCredentials(Unauthenticated):
    code = "invalid_credentials"
    default_message = "Wrong login or password."


class Forbidden(DomainError):
    code = "forbidden"
    status = 403
    default_message = "You are not allowed to do this."


class NotAMember(Forbidden):
    code = "not_a_member"
    default_message = "You are not a member of this conversation."


class NotAllowed(Forbidden):
    code = "not_allowed"
    default_message = "Your role does not allow this."


class AccountDisabled(Forbidden):
    code = "account_disabled"
    default_message = "This account has been disabled by an administrator."


class NotFound(DomainError):
    code = "not_found"
    status = 404
    default_message = "Not found."


class Conflict(DomainError):
    code = "conflict"
    status = 409
    default_message = "The state changed under you; reload and try again."


class UsernameTaken(Conflict):
    code = "username_taken"
    default_message = "This username is taken."


class EmailTaken(Conflict):
    code = "email_taken"
    default_message = "This email is already registered."


class AlreadyMember(Conflict):
    code = "already_member"
    default_message = "The user is already a member."


class MessageDeleted(Conflict):
    code = "message_deleted"
    default_message = "The message was deleted."


class WeakPassword(ValidationFailed):
    code = "weak_password"
    default_message = "The password is too weak."


class UnknownTeam(ValidationFailed):
    code = "unknown_team"
    default_message = "No team has this id or topic."


class ParentNotInConversation(ValidationFailed):
    code = "parent_not_in_conversation"
    default_message = "The replied-to message is not in this conversation."


class PayloadTooLarge(DomainError):
    code = "payload_too_large"
    status = 413
    default_message = "The content is too large."


class UploadQuotaExceeded(PayloadTooLarge):
    code = "upload_quota_exceeded"
    default_message = "Your uploads have used all the space this server gives one user."


class UnknownEvent(DomainError):
    code = "unknown_event"
    status = 404
    default_message = "There is no such event."


class TooManyConnections(DomainError):
    code = "too_many_connections"
    status = 429
    default_message = "Too many open connections for this account; close one first."


class RateLimited(DomainError):
    code = "rate_limited"
    status = 429
    default_message = "Too many requests; slow down."

    def __init__(self, retry_after: int, message: str | None = None) -> None:
        super().__init__(message, retry_after=retry_after)
        self.retry_after = retry_after


class InternalError(DomainError):
    """Something failed on our side (logged with its traceback); never details."""

    code = "internal_error"
    status = 500
    default_message = "Something went wrong on our side; it has been logged."


class ServiceUnavailable(DomainError):
    code = "service_unavailable"
    status = 503
    default_message = "A backend service is unavailable; try again shortly."


class Overloaded(DomainError):
    """Refused at once because the server has more work than it can finish in time
    (``goftogu.admission``): nothing was stored; retry after ``retry_after`` seconds.
    REST answers 503 with ``Retry-After``; a socket ack carries the code."""

    code = "overloaded"
    status = 503
    default_message = "The server is busy; nothing was stored. Try again shortly."

    def __init__(self, retry_after: int = 1, message: str | None = None) -> None:
        super().__init__(message, retry_after=retry_after)
        self.retry_after = retry_after


class ChatClosed(Conflict):
    code = "chat_closed"
    default_message = "The conversation is closed."


class CapacityReached(Conflict):
    code = "capacity_reached"
    default_message = "The operator already has as many live chats as they can take."


class PushNotConfigured(NotFound):
    code = "push_not_configured"
    default_message = "Web Push is not configured on this server."


class InvalidPushSubscription(ValidationFailed):
    code = "invalid_push_subscription"
    default_message = "The push subscription is not valid."


class ShortcodeTaken(Conflict):
    code = "shortcode_taken"
    default_message = "A canned reply with this shortcode already exists in this scope."


class AlreadyRated(Conflict):
    code = "already_rated"
    default_message = "This conversation has been rated already."


class ChatNotClosed(Conflict):
    code = "chat_not_closed"
    default_message = "A conversation is rated once it is closed."


class ChatSnoozed(Conflict):
    code = "chat_snoozed"
    default_message = "The conversation is snoozed; wake it first."


class NotSnoozed(Conflict):
    code = "not_snoozed"
    default_message = "The conversation is not snoozed."


class InvalidWebhookUrl(ValidationFailed):
    code = "invalid_webhook_url"
    default_message = "This is not a URL webhooks can be delivered to."


class UnknownWebhookEvent(ValidationFailed):
    code = "unknown_webhook_event"
    default_message = "There is no webhook event of this type."


class TooManyWebhooks(Conflict):
    code = "too_many_webhooks"
    default_message = "There are as many webhook subscriptions as allowed; delete one first."
