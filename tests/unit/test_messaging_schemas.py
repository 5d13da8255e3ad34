"""Payloads of messaging: addresses and the Socket.IO client events."""

import uuid

import pytest
from pydantic import ValidationError

from goftogu.errors import NotFound
from goftogu.messaging.addresses import ConversationRef, parse_address
from goftogu.messaging.attachments import clean_filename, detect_content_type
from goftogu.messaging.schemas import SendMessage, SendMessageEvent


def test_an_address_names_the_kind_and_id_of_a_conversation() -> None:
    conversation_id = uuid.uuid4()
    ref = parse_address(f"group:{conversation_id}")
    assert ref == ConversationRef.group(conversation_id)
    assert ref.address == f"group:{conversation_id}"


@pytest.mark.parametrize(
    "text", ["", "group:", "group:x", "support:" + str(uuid.uuid4()), str(uuid.uuid4())]
)
def test_anything_else_is_no_conversation(text: str) -> None:
    with pytest.raises(NotFound):
        parse_address(text)


def test_a_message_send_event_carries_a_send_message() -> None:
    event = SendMessageEvent.model_validate(
        {"conversation": "single:x", "client_id": "c1", "content": "hi"}
    )
    assert event.message() == SendMessage(client_id="c1", content="hi")
    with pytest.raises(ValidationError):
        SendMessageEvent.model_validate({"client_id": "c1", "content": "hi"})


@pytest.mark.parametrize(
    ("head", "content_type"),
    [
        (b"\x89PNG\r\n\x1a\n....", "image/png"),
        (b"\xff\xd8\xff\xe0", "image/jpeg"),
        (b"GIF89a", "image/gif"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"%PDF-1.7", "application/pdf"),
        (b"<svg onload=alert(1)>", "text/plain"),
        ("سلام".encode(), "text/plain"),
        (b"\x00\x01\x02\xff", "application/octet-stream"),
    ],
)
def test_a_files_type_comes_from_its_first_bytes(head: bytes, content_type: str) -> None:
    assert detect_content_type(head) == content_type


@pytest.mark.parametrize(
    ("name", "clean"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\photo.jpg", "photo.jpg"),
        ("a\x00b.txt", "ab.txt"),
        (".hidden", "hidden"),
        ("", "file"),
        (None, "file"),
    ],
)
def test_an_uploaded_files_name_keeps_only_its_last_part(name: str | None, clean: str) -> None:
    assert clean_filename(name) == clean


def test_file_names_shown_anywhere_lose_their_bidi_controls() -> None:
    import uuid
    from datetime import UTC, datetime

    from goftogu.messaging.schemas import AttachmentPublic
    from goftogu.support.documents import FileRef

    disguised = "invoice\u202egnp.exe"
    ref = FileRef(id="f1", filename=disguised, content_type="image/png", size_bytes=1)
    assert ref.filename == "invoicegnp.exe"
    public = AttachmentPublic(
        id=uuid.uuid4(),
        filename="\u2067" + disguised + "\u2069",
        content_type="image/png",
        size_bytes=1,
        created_at=datetime.now(UTC),
    )
    assert public.filename == "invoicegnp.exe"
    assert clean_filename("می\u200cخواهم\u200f.pdf") == "می\u200cخواهم.pdf"
