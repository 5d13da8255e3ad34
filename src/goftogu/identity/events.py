"""What identity announces in its units of work (``goftogu.bus``)."""

from __future__ import annotations

from dataclasses import dataclass

from goftogu.bus import Event


@dataclass(frozen=True)
class SessionsRevoked(Event):
    """Sessions of ``user_id`` ended (logout, deleted, a re-used refresh token, a new
    password, an account disabled): their access tokens stop working at once and
    their sockets are ended with ``reason``."""

    user_id: str
    session_ids: tuple[str, ...]
    reason: str
