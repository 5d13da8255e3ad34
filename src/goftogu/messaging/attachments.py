"""Files sent with messages: uploaded first, stored on disk, served only to those
who may see them.

An upload streams to a hidden part file under ``attachments_dir`` (refused as
soon as it passes ``max_attachment_bytes``), is renamed to a random name, then
recorded. Its type comes from its first bytes, never from the client's word,
so an HTML page cannot pass for an image. The uploader may always download it;
anyone else only as a member who can see a live message carrying it.

Support conversations use the same upload (visitors may upload too: their files
can only go into a support conversation, since messaging refuses visitors).
``hold_for_support`` ties uploads to a support conversation as they are sent;
the support desk decides who reads them and asks for the file with ``stored``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import secrets
import unicodedata
import uuid
from collections.abc import AsyncIterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from goftogu.errors import (
    Conflict,
    NotAMember,
    NotFound,
    PayloadTooLarge,
    UploadQuotaExceeded,
    ValidationFailed,
)
from goftogu.identity.tokens import Principal
from goftogu.ids import parse_id
from goftogu.messaging.access import require_messaging_user
from goftogu.messaging.addresses import ConversationRef
from goftogu.messaging.common import MessagingContext
from goftogu.messaging.models import Attachment, Message
from goftogu.messaging.schemas import AttachmentPublic
from goftogu.storage.models import utcnow
from goftogu.text import safe_filename

log = logging.getLogger(__name__)

DISCARD_BATCH = 500

SNIFF_BYTES = 512
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
    (b"PK\x03\x04", "application/zip"),
    (b"\x1f\x8b", "application/gzip"),
    (b"OggS", "audio/ogg"),
    (b"ID3", "audio/mpeg"),
)


def detect_content_type(head: bytes) -> str:
    """The type of a file from its first bytes: a few images, documents and
    archives by signature, UTF-8 text, else ``application/octet-stream``."""
    for signature, content_type in _SIGNATURES:
        if head.startswith(signature):
            return content_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:8] == b"ftyp":
        return "video/mp4"
    if b"\x00" not in head:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as error:
            # A multi-byte character cut at the sniffing boundary is still text.
            if error.start < len(head) - 3:
                return "application/octet-stream"
        return "text/plain"
    return "application/octet-stream"


def clean_filename(name: str | None) -> str:
    """The last path component, without control characters nor bidi controls
    (``goftogu.text.safe_filename``), at most 255 characters."""
    base = PurePosixPath((name or "").replace("\\", "/")).name
    base = safe_filename(unicodedata.normalize("NFC", base))
    base = base.strip().lstrip(".")
    return base[:255] or "file"


@dataclass(frozen=True)
class StoredFile:
    """A file the caller may download."""

    path: Path
    filename: str
    content_type: str
    size_bytes: int
    sha256: str

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


class Attachments:
    def __init__(self, context: MessagingContext) -> None:
        self._db = context.database
        self._access = context.access
        self._dir = context.attachments_dir
        self._max_bytes = context.max_attachment_bytes
        self._quota = context.upload_quota_bytes

    async def upload(
        self,
        principal: Principal,
        filename: str | None,
        chunks: AsyncIterable[bytes],
        *,
        declared_size: int | None = None,
    ) -> AttachmentPublic:
        """Store an upload for a later message; ``payload_too_large`` past the limit
        (before reading when ``declared_size`` says so), ``validation_error`` when empty.
        Visitors may upload (for their support conversations)."""
        if declared_size is not None and declared_size > self._max_bytes:
            raise self._too_large()
        room = self._quota - await self.used_bytes(principal.user_id)
        if room <= 0 or (declared_size is not None and declared_size > room):
            raise self._over_quota()
        await asyncio.to_thread(self._dir.mkdir, parents=True, exist_ok=True)
        storage_name = secrets.token_hex(16)
        final = self._dir / storage_name
        size, digest, head = await self._receive(
            chunks, self._dir / f".{storage_name}.part", final, room=room
        )
        row = Attachment(
            uploader_id=principal.user_id,
            filename=clean_filename(filename),
            content_type=detect_content_type(head),
            size_bytes=size,
            sha256=digest,
            storage_name=storage_name,
        )
        try:
            async with self._db.transaction() as session:
                session.add(row)
                await session.flush()
                # Uploads of the same user finishing at once: the last to commit sees all.
                if await self._used_in(session, principal.user_id) > self._quota:
                    raise self._over_quota()
        except BaseException:
            await asyncio.to_thread(final.unlink, missing_ok=True)
            raise
        return AttachmentPublic.model_validate(row)

    async def open_for(self, principal: Principal, attachment_id: str) -> StoredFile:
        """The file, for its uploader or a member who can see a live message carrying it.
        ``not_found``; ``not_a_member`` for anyone else."""
        require_messaging_user(principal)
        parsed = parse_id(attachment_id)
        async with self._db.reading() as session:
            attachment = await session.get(Attachment, parsed) if parsed else None
            if attachment is None:
                raise NotFound("No such attachment.")
            if attachment.uploader_id != principal.user_id:
                message = (
                    await session.get(Message, attachment.message_id)
                    if attachment.message_id
                    else None
                )
                if message is None:
                    raise NotAMember("This file was not shared in a conversation of yours.")
                ref = ConversationRef.of_columns(message.single_chat_id, message.group_id)
                grant = await self._access.grant(session, principal, ref)
                if not grant.sees(message.seq):
                    raise NotAMember(conversation=ref.address)
                if message.deleted_at is not None:
                    raise NotFound("The message carrying this file was deleted.")
        path = self._dir / attachment.storage_name
        if not await asyncio.to_thread(path.is_file):
            log.error("attachment file missing", extra={"attachment_id": str(attachment.id)})
            raise NotFound("The file is no longer stored.")
        return StoredFile(
            path=path,
            filename=safe_filename(attachment.filename) or "file",
            content_type=attachment.content_type,
            size_bytes=attachment.size_bytes,
            sha256=attachment.sha256,
        )

    async def hold_for_support(
        self, principal: Principal, attachment_ids: Sequence[str], chat_id: str
    ) -> list[AttachmentPublic]:
        """Tie the caller's own unsent uploads to support conversation ``chat_id``
        (held: never discarded), in one transaction. Already held by it: answered
        again (a retried send). Another's or unknown: ``not_found``; sent elsewhere:
        ``conflict``; either way nothing is held."""
        chat = parse_id(chat_id)
        if chat is None:
            raise NotFound("No such support conversation.")
        ids: list[uuid.UUID] = []
        for raw in attachment_ids:
            parsed = parse_id(raw)
            if parsed is None:
                raise NotFound("No such attachment.", attachment_id=str(raw)[:80])
            if parsed not in ids:
                ids.append(parsed)
        if not ids:
            return []
        async with self._db.transaction() as session:
            rows = {
                row.id: row
                for row in await session.scalars(
                    select(Attachment).where(Attachment.id.in_(ids)).with_for_update()
                )
            }
            for attachment_id in ids:
                row = rows.get(attachment_id)
                if row is None or row.uploader_id != principal.user_id:
                    raise NotFound("No such attachment.", attachment_id=str(attachment_id))
                if row.message_id is not None or row.support_chat_id not in (None, chat):
                    raise Conflict(
                        "This attachment was already sent.", attachment_id=str(attachment_id)
                    )
            await session.execute(
                update(Attachment).where(Attachment.id.in_(ids)).values(support_chat_id=chat)
            )
            return [AttachmentPublic.model_validate(rows[i]) for i in ids]

    async def stored(self, attachment_id: str) -> StoredFile:
        """The file of an upload held by a support conversation: the support desk has
        checked that the caller may read a message of it carrying this file."""
        parsed = parse_id(attachment_id)
        async with self._db.reading() as session:
            attachment = await session.get(Attachment, parsed) if parsed else None
        if attachment is None or attachment.support_chat_id is None:
            raise NotFound("No such attachment.")
        return await self._file_of(attachment)

    async def _file_of(self, attachment: Attachment) -> StoredFile:
        path = self._dir / attachment.storage_name
        if not await asyncio.to_thread(path.is_file):
            log.error("attachment file missing", extra={"attachment_id": str(attachment.id)})
            raise NotFound("The file is no longer stored.")
        return StoredFile(
            path=path,
            filename=safe_filename(attachment.filename) or "file",
            content_type=attachment.content_type,
            size_bytes=attachment.size_bytes,
            sha256=attachment.sha256,
        )

    async def ensure_room(self, principal: Principal) -> None:
        """``upload_quota_exceeded`` before an upload is read, when the caller's
        uploads have used their whole quota already."""
        if await self.used_bytes(principal.user_id) >= self._quota:
            raise self._over_quota()

    async def used_bytes(self, user_id: uuid.UUID) -> int:
        """What ``user_id``'s uploads hold on disk (the upload quota's measure)."""
        async with self._db.sessions() as session:
            return await self._used_in(session, user_id)

    @staticmethod
    async def _used_in(session: AsyncSession, user_id: uuid.UUID) -> int:
        # Distinct stored files: a forwarded copy shares its original's bytes.
        files = (
            select(Attachment.storage_name, Attachment.size_bytes)
            .where(Attachment.uploader_id == user_id)
            .distinct()
            .subquery()
        )
        used = await session.scalar(select(func.coalesce(func.sum(files.c.size_bytes), 0)))
        return int(used or 0)

    async def _receive(
        self, chunks: AsyncIterable[bytes], partial: Path, final: Path, *, room: int
    ) -> tuple[int, str, bytes]:
        """Stream to ``partial``, then rename to ``final``: (size, sha256, first bytes)."""
        size, digest, head = 0, hashlib.sha256(), b""
        out: BinaryIO = await asyncio.to_thread(partial.open, "wb")
        try:
            async for chunk in chunks:
                size += len(chunk)
                if size > self._max_bytes:
                    raise self._too_large()
                if size > room:
                    raise self._over_quota()
                if len(head) < SNIFF_BYTES:
                    head += chunk[: SNIFF_BYTES - len(head)]
                digest.update(chunk)
                await asyncio.to_thread(out.write, chunk)
            await asyncio.to_thread(out.close)
            if size == 0:
                raise ValidationFailed("The file is empty.")
            await asyncio.to_thread(os.replace, partial, final)
        except BaseException:
            await asyncio.to_thread(out.close)
            await asyncio.to_thread(partial.unlink, missing_ok=True)
            raise
        return size, digest.hexdigest(), head

    async def discard_unsent(self, older_than: timedelta) -> int:
        """Delete the uploads not sent within ``older_than`` (rows and files, and
        partial files of interrupted uploads); returns how many uploads went.

        A send racing with it either ties the file to its message first (the
        delete skips it) or finds it gone (``conflict``, nothing stored)."""
        cutoff = utcnow() - older_than
        discarded = 0
        while True:
            async with self._db.transaction() as session:
                batch = (
                    select(Attachment.id)
                    .where(
                        Attachment.message_id.is_(None),
                        Attachment.support_chat_id.is_(None),
                        Attachment.created_at < cutoff,
                    )
                    .limit(DISCARD_BATCH)
                )
                gone = list(
                    await session.scalars(
                        delete(Attachment)
                        .where(
                            Attachment.id.in_(batch),
                            Attachment.message_id.is_(None),
                            Attachment.support_chat_id.is_(None),
                        )
                        .returning(Attachment.storage_name)
                    )
                )
                kept = set(
                    await session.scalars(
                        select(Attachment.storage_name).where(Attachment.storage_name.in_(gone))
                    )
                )
            for name in set(gone) - kept:  # kept: another row shares the bytes
                await asyncio.to_thread((self._dir / name).unlink, missing_ok=True)
            discarded += len(gone)
            if len(gone) < DISCARD_BATCH:
                break
        await asyncio.to_thread(self._discard_partial_files, cutoff.timestamp())
        if discarded:
            log.info("unsent uploads discarded", extra={"count": discarded})
        return discarded

    def _discard_partial_files(self, before: float) -> None:
        if not self._dir.is_dir():
            return
        for partial in self._dir.glob(".*.part"):
            with contextlib.suppress(FileNotFoundError):
                if partial.stat().st_mtime < before:
                    partial.unlink()

    def _over_quota(self) -> UploadQuotaExceeded:
        return UploadQuotaExceeded(
            f"Your uploads may hold at most {self._quota} bytes together.", limit=self._quota
        )

    def _too_large(self) -> PayloadTooLarge:
        return PayloadTooLarge(
            f"A file may hold at most {self._max_bytes} bytes.", limit=self._max_bytes
        )
