"""Every list the REST API answers has one shape: ``{items, has_more, next_cursor}``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from goftogu.gateway import create_gateway
from tests.conftest import make_settings


def openapi(tmp_path: Path) -> dict[str, Any]:
    settings = make_settings(f"sqlite+aiosqlite:///{tmp_path}/db.sqlite", tmp_path)
    document: dict[str, Any] = create_gateway(settings).api.openapi()
    return document


def test_no_answer_of_the_api_is_a_bare_array_and_every_page_has_the_three_fields(
    tmp_path: Path,
) -> None:
    document = openapi(tmp_path)
    schemas = document["components"]["schemas"]
    bare, pages = [], 0
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status, response in operation.get("responses", {}).items():
                schema = response.get("content", {}).get("application/json", {}).get("schema")
                if not schema:
                    continue
                if schema.get("type") == "array":
                    bare.append(f"{method.upper()} {path} {status}")
                ref = schema.get("$ref", "")
                properties = schemas.get(ref.rpartition("/")[2], {}).get("properties", {})
                if "items" in properties:
                    pages += 1
                    assert {"items", "has_more", "next_cursor"} <= properties.keys(), ref
    assert bare == []
    assert pages >= 12
