"""Attachments: uploaded first, typed by their bytes, stored on disk, served to members only."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from goftogu.gateway import Gateway, create_gateway
from goftogu.messaging.models import Attachment
from goftogu.storage.models import utcnow
from tests.conftest import make_settings
from tests.helpers.api import API, SignedIn, sign_up
from tests.helpers.messaging import error_code, history, open_chat

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
HTML = b"<html><script>alert(1)</script></html>"


async def upload(
    client: httpx.AsyncClient, who: SignedIn, data: bytes, name: str = "photo.png"
) -> httpx.Response:
    return await client.post(
        f"{API}/attachments",
        headers=who.headers,
        files={"file": (name, data, "image/png")},
    )


async def uploaded(client: httpx.AsyncClient, who: SignedIn, data: bytes, name: str = "f") -> str:
    response = await upload(client, who, data, name)
    assert response.status_code == 201, response.text
    attachment_id: str = response.json()["id"]
    return attachment_id


async def send_files(
    client: httpx.AsyncClient, who: SignedIn, address: str, ids: list[str], **extra: Any
) -> httpx.Response:
    return await client.post(
        f"{API}/conversations/{address}/messages",
        headers=who.headers,
        json={"client_id": uuid.uuid4().hex, "attachment_ids": ids, **extra},
    )


async def test_an_image_sent_in_a_chat_is_served_to_both_users_and_nobody_else(
    client: httpx.AsyncClient, tmp_path: Path
) -> None:
    a, b, outsider = await sign_up(client), await sign_up(client), await sign_up(client)
    chat = await open_chat(client, a, b)
    response = await upload(client, a, PNG, "../../etc/cat.png")
    assert response.status_code == 201
    file = response.json()
    assert (file["filename"], file["content_type"], file["size_bytes"]) == (
        "cat.png",
        "image/png",
        len(PNG),
    )
    sent = await send_files(client, a, chat, [file["id"]], content="look")
    assert sent.status_code == 201
    assert sent.json()["message_type"] == "image"
    assert [f["id"] for f in sent.json()["attachments"]] == [file["id"]]
    for who in (a, b):
        download = await client.get(f"{API}/attachments/{file['id']}", headers=who.headers)
        assert download.status_code == 200
        assert download.content == PNG
        assert download.headers["content-type"] == "image/png"
        assert download.headers["content-disposition"].startswith("inline")
        assert download.headers["x-content-type-options"] == "nosniff"
    refused = await client.get(f"{API}/attachments/{file['id']}", headers=outsider.headers)
    assert refused.status_code == 403
    assert error_code(refused) == "not_a_member"
    stored = [p.name for p in (tmp_path / "attachments").iterdir()]
    assert len(stored) == 1
    assert "cat" not in stored[0]


async def test_a_file_is_typed_by_its_bytes_not_by_its_name(client: httpx.AsyncClient) -> None:
    a, b = await sign_up(client), await sign_up(client)
    chat = await open_chat(client, a, b)
    disguised = await uploaded(client, a, HTML, "innocent.png")
    as_image = await send_files(client, a, chat, [disguised], message_type="image")
    assert as_image.status_code == 422
    as_file = await send_files(client, a, chat, [disguised])
    assert as_file.status_code == 201
    assert as_file.json()["message_type"] == "file"
    download = await client.get(f"{API}/attachments/{disguised}", headers=b.headers)
    assert download.headers["content-type"].startswith("text/plain")
    assert download.headers["content-disposition"].startswith("attachment")


async def test_an_upload_is_private_until_sent_and_is_sent_once(client: httpx.AsyncClient) -> None:
    a, b = await sign_up(client), await sign_up(client)
    chat = await open_chat(client, a, b)
    file = await uploaded(client, a, PNG)
    assert (await client.get(f"{API}/attachments/{file}", headers=a.headers)).status_code == 200
    not_yet = await client.get(f"{API}/attachments/{file}", headers=b.headers)
    assert not_yet.status_code == 403
    theirs = await send_files(client, b, chat, [file])
    assert theirs.status_code == 404
    assert error_code(theirs) == "not_found"
    assert (await send_files(client, a, chat, [file])).status_code == 201
    twice = await send_files(client, a, chat, [file])
    assert twice.status_code == 409
    assert error_code(twice) == "conflict"
    assert len((await history(client, b, chat))["items"]) == 1


async def test_a_deleted_messages_files_are_served_to_their_uploader_only(
    client: httpx.AsyncClient,
) -> None:
    a, b = await sign_up(client), await sign_up(client)
    chat = await open_chat(client, a, b)
    file = await uploaded(client, a, PNG)
    message = (await send_files(client, a, chat, [file])).json()
    await client.delete(f"{API}/messages/{message['id']}", headers=a.headers)
    assert (await client.get(f"{API}/attachments/{file}", headers=b.headers)).status_code == 404
    assert (await client.get(f"{API}/attachments/{file}", headers=a.headers)).status_code == 200
    assert (await history(client, b, chat))["items"][0]["attachments"] == []


async def test_a_forwarded_file_reaches_the_members_of_the_target(
    client: httpx.AsyncClient,
) -> None:
    a, b, c = await sign_up(client), await sign_up(client), await sign_up(client)
    source, target = await open_chat(client, a, b), await open_chat(client, b, c)
    file = await uploaded(client, a, PNG)
    message = (await send_files(client, a, source, [file], content="pic")).json()
    forwarded = await client.post(
        f"{API}/messages/{message['id']}/forward", headers=b.headers, json={"to": target}
    )
    assert forwarded.status_code == 201
    copy = forwarded.json()["attachments"][0]
    assert copy["id"] != file
    download = await client.get(f"{API}/attachments/{copy['id']}", headers=c.headers)
    assert download.content == PNG
    refused = await client.get(f"{API}/attachments/{file}", headers=c.headers)
    assert refused.status_code == 403


async def test_an_upload_without_a_file_or_empty_is_refused(client: httpx.AsyncClient) -> None:
    a = await sign_up(client)
    empty = await upload(client, a, b"")
    assert empty.status_code == 422
    no_file = await client.post(f"{API}/attachments", headers=a.headers, data={"x": "1"})
    assert no_file.status_code == 422


@pytest.fixture
async def small_gateway(database_url: str, tmp_path: Path) -> AsyncIterator[Gateway]:
    gateway = create_gateway(make_settings(database_url, tmp_path, max_attachment_bytes=1000))
    async with gateway.api.router.lifespan_context(gateway.api):
        yield gateway


async def test_a_file_over_the_limit_is_refused_and_leaves_nothing_behind(
    small_gateway: Gateway, tmp_path: Path
) -> None:
    transport = httpx.ASGITransport(app=small_gateway.asgi)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        a = await sign_up(client)
        response = await upload(client, a, PNG + b"\x00" * 1000)
        assert response.status_code == 413
        assert error_code(response) == "payload_too_large"
        huge = await upload(client, a, b"\x00" * 200_000)
        assert huge.status_code == 413
        assert (await upload(client, a, PNG)).status_code == 201
    assert len(list((tmp_path / "attachments").iterdir())) == 1


async def test_uploads_never_sent_are_discarded_after_a_day_and_sent_ones_kept(
    gateway: Gateway, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    a, b = await sign_up(client), await sign_up(client)
    chat = await open_chat(client, a, b)
    sent, forgotten, fresh = [await uploaded(client, a, PNG, f"{n}.png") for n in range(3)]
    assert (await send_files(client, a, chat, [sent])).status_code == 201
    async with gateway.container.database.transaction() as session:
        await session.execute(
            update(Attachment)
            .where(Attachment.id.in_([uuid.UUID(sent), uuid.UUID(forgotten)]))
            .values(created_at=utcnow() - timedelta(hours=25))
        )
    files = tmp_path / "attachments"
    interrupted = files / ".0123abcd.part"
    interrupted.write_bytes(b"half an upload")
    os.utime(interrupted, (time.time() - 90_000, time.time() - 90_000))

    discarded = await gateway.container.messaging.attachments.discard_unsent(timedelta(hours=24))

    assert discarded == 1
    assert len(list(files.iterdir())) == 2  # the sent one and the fresh one
    gone = await client.get(f"{API}/attachments/{forgotten}", headers=a.headers)
    assert gone.status_code == 404
    assert error_code(await send_files(client, a, chat, [forgotten])) == "not_found"
    for kept in (sent, fresh):
        assert (await client.get(f"{API}/attachments/{kept}", headers=a.headers)).status_code == 200
    assert await gateway.container.messaging.attachments.discard_unsent(timedelta(hours=24)) == 0


async def test_a_file_name_cannot_hide_its_real_extension_behind_bidi_controls(
    gateway: Gateway, client: httpx.AsyncClient
) -> None:
    a, b = await sign_up(client), await sign_up(client)
    chat = await open_chat(client, a, b)
    # U+202E would show "invoice\u202egnp.exe" as "invoiceexe.png".
    disguised = await upload(client, a, PNG, "invoice\u202egnp.exe")
    assert disguised.json()["filename"] == "invoicegnp.exe"
    marks = await upload(client, a, PNG, "\u2066a\u2067b\u2068c\u2069\u200e\u200f\u061cd\u202a.png")
    assert marks.json()["filename"] == "abcd.png"
    # ZWNJ is part of written Persian: kept.
    persian = await upload(client, a, PNG, "می\u200cخواهم.png")
    assert persian.json()["filename"] == "می\u200cخواهم.png"
    # A name stored before the rule is shown (history, download) without them.
    async with gateway.container.database.transaction() as session:
        await session.execute(
            update(Attachment)
            .where(Attachment.id == uuid.UUID(persian.json()["id"]))
            .values(filename="old\u202egnp.exe")
        )
    sent = await send_files(client, a, chat, [persian.json()["id"]])
    assert [f["filename"] for f in sent.json()["attachments"]] == ["oldgnp.exe"]
    message = (await history(client, b, chat))["items"][-1]
    assert [f["filename"] for f in message["attachments"]] == ["oldgnp.exe"]
    download = await client.get(f"{API}/attachments/{persian.json()['id']}", headers=b.headers)
    assert "\u202e" not in download.headers["content-disposition"]
    assert "%E2%80%AE" not in download.headers["content-disposition"]


@pytest.fixture
async def quota_gateway(database_url: str, tmp_path: Path) -> AsyncIterator[Gateway]:
    settings = make_settings(database_url, tmp_path, upload_quota_bytes=3 * len(PNG))
    gateway = create_gateway(settings)
    async with gateway.api.router.lifespan_context(gateway.api):
        yield gateway


async def test_each_user_has_an_upload_quota_with_its_own_error_code(
    quota_gateway: Gateway, tmp_path: Path
) -> None:
    transport = httpx.ASGITransport(app=quota_gateway.asgi)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        a, b, c = await sign_up(client), await sign_up(client), await sign_up(client)
        chat = await open_chat(client, a, b)
        first = await uploaded(client, a, PNG, "1.png")
        assert (await upload(client, a, PNG, "2.png")).status_code == 201
        # A forwarded copy shares the bytes: it does not count twice.
        sent = await send_files(client, a, chat, [first])
        forward = await client.post(
            f"{API}/messages/{sent.json()['id']}/forward",
            headers=a.headers,
            json={"to": chat, "client_id": uuid.uuid4().hex},
        )
        assert forward.status_code == 201, forward.text
        assert (await upload(client, a, PNG, "3.png")).status_code == 201

        over = await upload(client, a, PNG, "4.png")
        assert over.status_code == 413
        assert error_code(over) == "upload_quota_exceeded"
        # A file that only fits partly is refused too, and nothing of it stays.
        assert error_code(await upload(client, c, PNG * 4, "big.png")) == "upload_quota_exceeded"
        # Others still have theirs.
        assert (await upload(client, b, PNG, "b.png")).status_code == 201
    assert len(list((tmp_path / "attachments").iterdir())) == 4
