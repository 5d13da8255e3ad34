"""One rule for incoming text: every text field of every entry point carries it
(REST bodies, query and path parameters, Socket.IO payloads, queue messages),
and the rule refuses what no store or encoder takes while repairs keep readers up."""

from __future__ import annotations

import types
import typing
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.routing import APIRoute
from pydantic import BaseModel, SecretStr, ValidationError
from pydantic.fields import FieldInfo

from goftogu.gateway import create_gateway
from goftogu.identity.schemas import Request as IdentityRequest
from goftogu.messaging.schemas import Request as MessagingRequest
from goftogu.notifications.schemas import Request as NotificationsRequest
from goftogu.queueing import QueueMessage
from goftogu.realtime.protocol import Payload
from goftogu.settings import Settings
from goftogu.support.schemas import Request as SupportRequest
from goftogu.support.schemas import SupportMessagePayload
from goftogu.text import TEXT_RULE, Line, Text, refused_character, repaired
from tests.conftest import make_settings

TEXT_TYPES = (str, SecretStr)


def unruled_text(annotation: Any, metadata: list[Any], where: str) -> Iterator[str]:
    """Where ``annotation`` holds text without the rule."""
    if typing.get_origin(annotation) is typing.Annotated:
        base, *more = typing.get_args(annotation)
        yield from unruled_text(base, [*metadata, *more], where)
        return
    if annotation in TEXT_TYPES:
        if TEXT_RULE not in metadata:
            yield where
        return
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield from unruled_fields(annotation)
        return
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return
    if origin in (typing.Union, types.UnionType, list, dict, tuple, set, frozenset):
        for index, arg in enumerate(typing.get_args(annotation)):
            yield from unruled_text(arg, [], f"{where}[{index}]")


def unruled_field(field: FieldInfo, where: str) -> Iterator[str]:
    yield from unruled_text(field.annotation, list(field.metadata), where)


def unruled_fields(model: type[BaseModel]) -> Iterator[str]:
    for name, field in model.model_fields.items():
        yield from unruled_field(field, f"{model.__qualname__}.{name}")


def all_subclasses(base: type) -> set[type]:
    found: set[type] = set()
    for sub in base.__subclasses__():
        found |= {sub, *all_subclasses(sub)}
    return found


@pytest.fixture(scope="module")
def routes(tmp_path_factory: pytest.TempPathFactory) -> list[APIRoute]:
    data = tmp_path_factory.mktemp("text-rule")
    settings: Settings = make_settings(f"sqlite+aiosqlite:///{data}/db.sqlite", data)
    gateway = create_gateway(settings)
    return list(api_routes(gateway.api.routes))


def api_routes(routes: list[Any]) -> Iterator[APIRoute]:
    """Every route, included routers' too (FastAPI keeps those as their router)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):
            yield from api_routes(route.original_router.routes)


def test_every_body_query_and_path_parameter_of_the_rest_api_carries_the_text_rule(
    routes: list[APIRoute],
) -> None:
    unruled = []
    checked = 0
    for route in routes:
        dependant = route.dependant
        params = [*dependant.path_params, *dependant.query_params, *dependant.body_params]
        for dep in dependant.dependencies:
            params += [*dep.path_params, *dep.query_params, *dep.body_params]
        for param in params:
            checked += 1
            unruled += unruled_field(param.field_info, f"{route.path} {param.name}")
    assert checked > 50
    assert unruled == []


def test_every_socket_payload_and_queue_message_carries_the_text_rule() -> None:
    models = set()
    for base in (
        Payload,
        MessagingRequest,
        SupportRequest,
        IdentityRequest,
        NotificationsRequest,
        QueueMessage,
    ):
        models |= all_subclasses(base)
    models = {model for model in models if model.__module__.startswith("goftogu.")}
    assert SupportMessagePayload in models
    unruled = [where for model in models for where in unruled_fields(model)]
    assert unruled == []


@pytest.mark.parametrize(
    "value", ["x\ud800", "\udfff", "a\x00b", "a\x1bb", "a\x7fb", "a\x85b", "a\x9fb"]
)
def test_lone_surrogates_nul_and_control_characters_are_refused(value: str) -> None:
    with pytest.raises(ValidationError) as refused:
        SupportMessagePayload(chat_id="c", client_id="c1", body=value)
    assert refused.value.errors()[0]["type"] == "text_characters"
    assert refused_character(value) is not None


def test_text_keeps_tabs_and_line_breaks_and_a_line_keeps_none() -> None:
    text: Any = Text
    line: Any = Line
    from pydantic import TypeAdapter

    assert TypeAdapter(text).validate_python("one\ttwo\nthree\r\n") == "one\ttwo\nthree\r\n"
    assert TypeAdapter(text).validate_python("سلام 👋 \u200f") == "سلام 👋 \u200f"
    for breaking in ("a\nb", "a\tb", "a\u2028b"):
        with pytest.raises(ValidationError):
            TypeAdapter(line).validate_python(breaking)


def test_a_repair_replaces_each_refused_character_and_leaves_the_rest_as_it_is() -> None:
    document = {"a": ["ok", "x\ud800y\x00"], "b": {"c": "fine\n"}, "n": 1}
    assert repaired(document) == {"a": ["ok", "x\ufffdy\ufffd"], "b": {"c": "fine\n"}, "n": 1}
    clean = {"a": ["ok"], "b": {"c": "fine\n"}}
    assert repaired(clean) is clean
