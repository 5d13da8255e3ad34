"""The OpenAPI document says what the gateway answers when it fails
(``goftogu/api/responses.py``): the fuzzer (tests/e2e/test_openapi_fuzz.py) checks
the answers against it, these check the document itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from goftogu.api.responses import ERRORS, NEVER_FORBIDDEN, PREFIX
from tests.unit.test_list_shape import openapi

ERROR = {"$ref": "#/components/schemas/ErrorResponse"}


def _operations(tmp_path: Path) -> dict[str, dict[str, Any]]:
    document = openapi(tmp_path)
    return {
        f"{method.upper()} {path.removeprefix(PREFIX)}": operation
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    }


def test_every_table_entry_names_an_operation_of_the_document(tmp_path: Path) -> None:
    operations = _operations(tmp_path)
    assert set(ERRORS) - set(operations) == set()
    assert NEVER_FORBIDDEN - set(operations) == set()


def test_every_error_answer_has_the_error_shape_and_none_is_fastapis_own(tmp_path: Path) -> None:
    document = openapi(tmp_path)
    assert "HTTPValidationError" not in document["components"]["schemas"]
    for name, operation in _operations(tmp_path).items():
        for status, answer in operation["responses"].items():
            if int(status) >= 400:
                assert answer["content"]["application/json"]["schema"] == ERROR, (name, status)


def test_a_token_a_body_and_a_path_each_bring_their_failures(tmp_path: Path) -> None:
    for name, operation in _operations(tmp_path).items():
        statuses = set(operation["responses"])
        if operation.get("security"):
            assert "401" in statuses, name
            assert ("403" in statuses) != (name in NEVER_FORBIDDEN), name
        if operation.get("requestBody"):
            assert {"400", "413", "422"} <= statuses, name
        if "{" in name:
            assert {"404", "422"} <= statuses, name


def test_routes_that_answer_a_retry_with_200_document_it(tmp_path: Path) -> None:
    operations = _operations(tmp_path)
    for name in (
        "POST /support/chats",
        "POST /support/chats/{chat_id}/messages",
        "POST /support/chats/{chat_id}/notes",
        "POST /push/subscriptions",
        "POST /conversations/{address}/messages",
    ):
        assert {"200", "201"} <= set(operations[name]["responses"]), name


def test_a_team_topic_taken_is_a_documented_conflict(tmp_path: Path) -> None:
    """Found by the fuzzer: POST /support/teams answered 409 `topic_taken` undocumented."""
    operations = _operations(tmp_path)
    for name in ("POST /support/teams", "PATCH /support/teams/{team_id}"):
        assert "409" in operations[name]["responses"], name
