import json
import logging

import pytest

from goftogu.logs import REDACTED, JsonFormatter, redact, request_id_var


def format_record(message: str, **extra: object) -> dict[str, object]:
    record = logging.LogRecord("goftogu.test", logging.INFO, __file__, 1, message, None, None)
    for key, value in extra.items():
        setattr(record, key, value)
    parsed: dict[str, object] = json.loads(JsonFormatter().format(record))
    return parsed


def test_each_line_is_one_json_object_with_the_request_id() -> None:
    token = request_id_var.set("req-123")
    try:
        entry = format_record("hello", chat_id="c1")
    finally:
        request_id_var.reset(token)
    assert entry["message"] == "hello"
    assert entry["request_id"] == "req-123"
    assert entry["chat_id"] == "c1"
    assert entry["level"] == "info"


@pytest.mark.parametrize("key", ["password", "refresh_token", "Authorization", "secret_key"])
def test_values_under_secret_keys_are_redacted(key: str) -> None:
    entry = format_record("login", **{key: "hunter2-secret-value"})
    assert entry[key] == REDACTED
    assert "hunter2-secret-value" not in json.dumps(entry)


def test_redaction_reaches_into_nested_structures() -> None:
    nested = {"user": {"name": "sara", "password": "p"}, "items": [{"token": "t"}]}
    assert redact(nested) == {
        "user": {"name": "sara", "password": REDACTED},
        "items": [{"token": REDACTED}],
    }


def test_persian_text_is_written_as_is() -> None:
    assert format_record("سلام")["message"] == "سلام"
