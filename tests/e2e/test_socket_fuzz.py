"""Hypothesis fuzzing of every Socket.IO client event's payload through a real
gateway (issue 17, "Fuzzing in CI"), with the official Python client.

For every event the gateway binds (read from the gateway itself, so a new event
is fuzzed without touching this file) payloads are drawn from: the event's own
fields with plausible values (this user's conversations and messages, someone
else's, unknown ones), the same fields with arbitrary JSON (lone surrogates, NUL,
huge numbers, NaN, nesting), missing and extra fields, and any JSON value at
all. Event names nobody binds are fuzzed too. After each example:

- the ack is ``{ok: true, data}`` or ``{ok: false, error: {code, message}}`` with
  a code the server defines (``goftogu.errors``), never ``internal_error``;
- the socket is still connected and answers the next event;
- a refused write changed nothing: the conversations' messages, seq, read
  watermarks and unread counts, the support chat's messages, status, assignee
  and read state, and the senders' presence, read back over REST, are what they
  were.

Events are sent by the customer (member of the conversations) or by the operator
assigned to the support chat; every event must be acked ``ok`` at least once.

``SOCKET_FUZZ_EXAMPLES`` sets the examples per event (default 50; the whole run
takes about a minute); ``SOCKET_FUZZ_REPORT`` names a JSON file for the figures
(examples, acks by code, per event).
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
import uuid
from collections import Counter, defaultdict
from collections.abc import Coroutine, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from unittest.mock import MagicMock

import httpx
import pytest
import socketio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from goftogu.errors import DomainError
from goftogu.gateway import socket_bindings
from goftogu.ratelimit import RateRule
from goftogu.realtime.delivery import OrderedDelivery
from goftogu.realtime.handlers import RealtimeGateway, SocketLimits
from tests.e2e.conftest import E2E_SECRET
from tests.e2e.servers import Process, gateway_process
from tests.e2e.test_cli import run_goftogu
from tests.helpers.api import API, PASSWORD, SignedIn, login, sign_up
from tests.helpers.figures import report

T = TypeVar("T")

ADMIN_PASSWORD = "a strong admin passphrase"
EXAMPLES = int(os.environ.get("SOCKET_FUZZ_EXAMPLES", "50"))
# Writes: a refused one must leave everything as it was.
WRITES = {
    "message:send",
    "message:edit",
    "message:delete",
    "message:read",
    "reaction:add",
    "reaction:remove",
    "support:message",
    "support:read",
    "presence:set",
}
# support:draft stores nothing (a preview for the assigned operator): it is fuzzed
# for its answers and the socket, like the reads.


def _bound_events() -> dict[str, type]:
    """The gateway's own table of client events and their payload models (services
    are stand-ins: only the table is read, nothing is called)."""
    sio = socketio.AsyncServer(async_mode="asgi", client_manager=OrderedDelivery())
    gateway = RealtimeGateway(
        sio,
        socket_bindings(MagicMock()),
        verify_token=MagicMock(),
        revoked_sessions=MagicMock(),
        typing_ttl_seconds=1,
        limits=SocketLimits(RateRule("s", 1, 1), RateRule("u", 1, 1)),
    )
    return {name: spec.payload for name, spec in gateway._events.items()}


def _known_codes() -> set[str]:
    seen: set[str] = set()
    todo: list[type[DomainError]] = [DomainError]
    while todo:
        kind = todo.pop()
        seen.add(kind.code)
        todo.extend(kind.__subclasses__())
    return seen


EVENTS = _bound_events()
KNOWN_CODES = _known_codes()


# --- the server and the world the events act on --------------------------------------


class Loop:
    """An event loop in a thread of its own: Hypothesis drives a sync test, the
    socket and the REST client live here between examples."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        future: Future[T] = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        return future.result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
        self.loop.close()


@dataclass
class World:
    me: SignedIn
    http: httpx.AsyncClient
    socket: socketio.AsyncClient
    single: str
    group: str
    foreign_group: str  # a group I am not in
    support_chat: str
    my_messages: list[str]
    others_messages: list[str]
    operator: SignedIn | None = None  # assigned to the support chat
    operator_socket: socketio.AsyncClient | None = None
    stats: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    by_sender: Counter[str] = field(default_factory=Counter)
    server_events: Counter[str] = field(default_factory=Counter)
    failures: int = 0  # examples that broke the property

    async def replace_deleted(self, message_id: str) -> None:
        """Keep messages to act on: one deleted, one new in its conversation."""
        if message_id not in self.my_messages:
            return
        self.my_messages.remove(message_id)
        sent = await self.http.post(
            f"{API}/conversations/{self.single}/messages",
            headers=self.me.headers,
            json={"client_id": uuid.uuid4().hex, "content": "seed again"},
        )
        self.my_messages.append(sent.json()["id"])

    async def snapshot(self) -> Any:
        """What a refused write must not change, read over REST."""
        listed = await self.http.get(f"{API}/conversations", headers=self.me.headers)
        seqs = {
            c["conversation"]: (c["last_seq"], c["last_read_seq"], c["unread_count"])
            for c in listed.json()["items"]
        }
        messages = {}
        for address in (self.single, self.group):
            page = await self.http.get(
                f"{API}/conversations/{address}/messages",
                headers=self.me.headers,
                params={"limit": 100},
            )
            messages[address] = page.json()["items"]
        chat = await self.http.get(
            f"{API}/support/chats/{self.support_chat}", headers=self.me.headers
        )
        support = {
            key: chat.json().get(key) for key in ("messages", "status", "assigned_operator_id")
        }
        reads = await self.http.get(
            f"{API}/conversations/support:{self.support_chat}/read", headers=self.me.headers
        )
        statuses = {}
        for user in (self.me, self.operator):
            if user is not None:
                mine = await self.http.get(f"{API}/users/me", headers=user.headers)
                statuses[user.id] = mine.json().get("status")
        return {
            "seqs": seqs,
            "messages": messages,
            "support": support,
            "support_read": reads.json() if reads.status_code == 200 else reads.status_code,
            "statuses": statuses,
        }


async def _build_world(base_url: str) -> World:
    http = httpx.AsyncClient(base_url=base_url, timeout=30)
    me, peer, stranger = await sign_up(http), await sign_up(http), await sign_up(http)

    async def post(path: str, user: SignedIn, body: dict[str, Any]) -> dict[str, Any]:
        response = await http.post(f"{API}{path}", headers=user.headers, json=body)
        assert response.status_code in (200, 201), response.text
        answer: dict[str, Any] = response.json()
        return answer

    single = (await post("/chats/single", me, {"user_id": peer.id}))["conversation"]
    group = (await post("/groups", me, {"title": "fuzz", "member_ids": [peer.id]}))["conversation"]
    foreign = (await post("/groups", stranger, {"title": "not yours"}))["conversation"]
    chat = await post("/support/chats", me, {"client_id": uuid.uuid4().hex, "body": "help"})
    # The operator, made by the admin the CLI created, takes the chat: their
    # socket sends the staff side of the support events.
    admin = await login(http, "fuzzadmin", ADMIN_PASSWORD)
    name = f"op{uuid.uuid4().hex[:10]}"
    await post(
        "/admin/users",
        admin,
        {"username": name, "email": f"{name}@example.com", "password": PASSWORD},
    )
    operator = await login(http, name)
    await post(f"/support/chats/{chat['id']}/claim", operator, {})
    mine, theirs = [], []
    for address in (single, group):
        for author, into in ((me, mine), (peer, theirs)):
            sent = await post(
                f"/conversations/{address}/messages",
                author,
                {"client_id": uuid.uuid4().hex, "content": "seed"},
            )
            into.append(sent["id"])
    client = socketio.AsyncClient(reconnection=False)
    world = World(me, http, client, single, group, foreign, chat["id"], mine, theirs, operator)

    @client.on("*")  # type: ignore[misc]
    async def any_event(event: str, _data: Any = None) -> None:
        world.server_events[event] += 1

    await client.connect(
        base_url, auth={"token": me.access_token}, transports=["websocket"], wait_timeout=10
    )
    staff_socket = socketio.AsyncClient(reconnection=False)
    await staff_socket.connect(
        base_url, auth={"token": operator.access_token}, transports=["websocket"], wait_timeout=10
    )
    world.operator_socket = staff_socket
    return world


@pytest.fixture(scope="module")
def gateway(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Process]:
    env = {
        "GOFTOGU_SECRET_KEY": E2E_SECRET,
        "GOFTOGU_DATABASE_URL": postgres_url,
        "GOFTOGU_RATE_REGISTER_PER_IP": "10000/60",
        "GOFTOGU_RATE_VISITOR_PER_IP": "10000/60",
        "GOFTOGU_RATE_LOGIN_PER_IP": "10000/60",
        # The fuzzer is one user sending as fast as it can: limits are not what it tests.
        "GOFTOGU_RATE_SOCKET_EVENTS": "1000000/10",
        "GOFTOGU_RATE_SOCKET_EVENTS_PER_USER": "1000000/10",
        "GOFTOGU_LOG_LEVEL": "WARNING",
    }
    workdir = tmp_path_factory.mktemp("fuzz")
    created = run_goftogu(
        "create-admin",
        *("--username", "fuzzadmin", "--email", "fuzzadmin@example.com"),
        *("--password", ADMIN_PASSWORD),
        env=env,
        cwd=workdir,
    )
    assert created.returncode == 0 or "username_taken" in created.stderr, created.stderr
    with gateway_process(env=env, cwd=workdir) as process:
        yield process


@pytest.fixture(scope="module")
def loop() -> Iterator[Loop]:
    running = Loop()
    yield running
    running.close()


@pytest.fixture(scope="module")
def world(gateway: Process, loop: Loop) -> Iterator[World]:
    built = loop.run(_build_world(gateway.base_url))
    yield built
    loop.run(built.socket.disconnect())
    if built.operator_socket is not None:
        loop.run(built.operator_socket.disconnect())
    loop.run(built.http.aclose())
    _report(built)


def _report(world: World) -> None:
    figures = {
        "examples": sum(sum(c.values()) for c in world.stats.values()),
        "by_event": {name: dict(codes) for name, codes in sorted(world.stats.items())},
        "codes": dict(sum(world.stats.values(), Counter())),
        "server_events_seen": dict(world.server_events),
        "failures": world.failures,
        "by_sender": dict(world.by_sender),
    }
    report(
        "hypothesis (Socket.IO, tests/e2e/test_socket_fuzz.py)",
        f"{len(set(world.stats) & set(EVENTS))} events and unbound names, "
        f"{figures['examples']} examples, "
        f"{world.failures} failures; acks by code {figures['codes']}",
    )
    path = os.environ.get("SOCKET_FUZZ_REPORT")
    if path:
        Path(path).write_text(json.dumps(figures, indent=2, ensure_ascii=False))


# --- payloads ---------------------------------------------------------------------

TEXT = st.one_of(
    st.text(max_size=40),
    st.text(st.characters(codec=None, exclude_categories=()), max_size=40),  # surrogates too
    st.sampled_from(["", " ", "\x00", "x\ud800", "\u202eevil", "a" * 20_000, "😀" * 5]),
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    TEXT,
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)


def _addresses(world: World) -> st.SearchStrategy[Any]:
    return st.sampled_from(
        [
            world.single,
            world.group,
            world.foreign_group,
            f"support:{world.support_chat}",
            f"group:{uuid.uuid4()}",
            world.single.upper(),
            "single:",
            "group:not-an-id",
        ]
    )


SAFE_TEXT = st.text(
    st.characters(codec="utf-8", categories=["L", "N", "P", "Zs"]), min_size=1, max_size=60
)


def _good(name: str, world: World) -> st.SearchStrategy[Any] | None:
    """A value of the field that the server should take, by the field's name."""
    mine = [world.single, world.group]
    ids = st.sampled_from([*world.my_messages, *world.others_messages])
    good: dict[str, st.SearchStrategy[Any]] = {
        "conversation": st.sampled_from([*mine, f"support:{world.support_chat}"]),
        "to": st.sampled_from(mine),
        "message_id": ids,
        "parent_message_id": st.none() | ids,
        "attachment_ids": st.just([]),
        "client_id": st.uuids().map(lambda u: u.hex),
        "content": SAFE_TEXT,
        "body": SAFE_TEXT,
        "emoji": st.sampled_from(["👍", "❤️", "🎉", "😂"]),
        "up_to_seq": st.integers(0, 60),
        "message_type": st.just("text"),
        "chat_id": st.just(world.support_chat),
        "status": st.sampled_from(["online", "away", "offline"]),
        "accepting": st.booleans() | st.none(),
        "token": st.sampled_from([world.me.access_token]) | SAFE_TEXT,
        "text": SAFE_TEXT,
        "cursors": st.dictionaries(st.sampled_from(mine), st.integers(0, 60), max_size=2),
    }
    return good.get(name)


def _edge(name: str, world: World) -> st.SearchStrategy[Any]:
    """A value of the field a careless client or an attacker might send."""
    addresses = st.sampled_from(
        [
            world.foreign_group,
            f"group:{uuid.uuid4()}",
            f"single:{uuid.uuid4()}",
            world.single.upper(),
            "single:",
            "group:not-an-id",
        ]
    )
    edges: dict[str, st.SearchStrategy[Any]] = {
        "conversation": addresses,
        "to": addresses,
        "message_id": st.uuids().map(str) | TEXT,
        "parent_message_id": st.uuids().map(str),
        "attachment_ids": st.lists(st.uuids().map(str), max_size=12),
        "content": TEXT,
        "body": TEXT,
        "emoji": st.sampled_from(["a", "", " ", "👍" * 40]) | TEXT,
        "up_to_seq": st.integers(min_value=-5, max_value=2**64),
        "message_type": st.sampled_from(["image", "file", "system", "nope"]),
        "chat_id": st.sampled_from([str(uuid.uuid4()), "x", ""]),
        "status": st.sampled_from(["busy", "", "ONLINE"]),
        "cursors": st.dictionaries(addresses, st.integers(-3, 2**64), max_size=3),
    }
    return st.one_of(edges.get(name, JSON), JSON)


def _payloads(model: type, world: World) -> st.SearchStrategy[Any]:
    """Mostly payloads the server should take, each with at most one thing wrong
    (so that the services are reached, not only validation), some shaped wrong
    all over, and some any JSON at all."""
    fields = list(getattr(model, "model_fields", {}))

    @st.composite
    def nearly_valid(draw: st.DrawFn) -> dict[str, Any]:
        body: dict[str, Any] = {}
        for name in fields:
            good = _good(name, world)
            if good is not None:
                body[name] = draw(good)
        flaw = draw(st.sampled_from(["none"] * 5 + ["edge", "missing", "extra"]))
        if flaw == "edge" and fields:
            name = draw(st.sampled_from(fields))
            body[name] = draw(_edge(name, world))
        elif flaw == "missing" and body:
            del body[draw(st.sampled_from(sorted(body)))]
        elif flaw == "extra":
            body[draw(TEXT)] = draw(JSON)
        return body

    @st.composite
    def wrong_all_over(draw: st.DrawFn) -> dict[str, Any]:
        return {name: draw(_edge(name, world)) for name in fields if draw(st.booleans())}

    @st.composite
    def payload(draw: st.DrawFn) -> Any:
        # An explicit mix (st.one_of leans to its simpler branches).
        kind = draw(st.sampled_from(["nearly_valid"] * 7 + ["wrong_all_over", "json", "json"]))
        if kind == "nearly_valid":
            return draw(nearly_valid())
        return draw(wrong_all_over() if kind == "wrong_all_over" else JSON)

    return payload()


# --- the property -------------------------------------------------------------------


def _check(world: World, loop: Loop, event: str, payload: Any, who: str = "customer") -> None:
    socket = world.socket if who == "customer" else world.operator_socket
    assert socket is not None

    async def one() -> None:
        before = await world.snapshot() if event in WRITES else None
        answer = await socket.call(event, payload, timeout=20)
        world.by_sender[who] += 1
        assert isinstance(answer, dict), answer
        assert isinstance(answer.get("ok"), bool), answer
        if answer["ok"]:
            world.stats[event]["ok"] += 1
            assert "data" in answer
            if event == "message:delete":
                await world.replace_deleted(answer["data"]["message_id"])
        else:
            code = answer["error"]["code"]
            world.stats[event][code] += 1
            assert code in KNOWN_CODES, answer
            assert code != "internal_error", (event, payload, answer)
            assert isinstance(answer["error"]["message"], str)
            if before is not None:
                assert await world.snapshot() == before, (event, payload, answer)
        assert socket.connected, (event, payload, who)
        alive = await socket.call("sync", {"cursors": {}}, timeout=20)
        assert alive == {"ok": True, "data": {"up_to": {}}}, alive

    try:
        loop.run(one())
    except BaseException:
        world.failures += 1
        raise


FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=bool(os.environ.get("CI")),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.mark.parametrize("event", sorted(EVENTS))
def test_every_payload_of_an_event_is_answered_with_a_known_code_and_no_half_write(
    world: World, loop: Loop, event: str
) -> None:
    @FUZZ
    @given(data=st.data())
    def examples(data: st.DataObject) -> None:
        payload = data.draw(_payloads(EVENTS[event], world), label="payload")
        # Mostly the customer (a member of the conversations), sometimes the
        # operator assigned to the support chat (and a stranger to the rest).
        who = data.draw(st.sampled_from(["customer"] * 3 + ["operator"]), label="who")
        _check(world, loop, event, payload, who)

    examples()


def test_event_names_nobody_binds_are_answered_unknown_event(world: World, loop: Loop) -> None:
    names = TEXT.filter(lambda n: n not in EVENTS and n not in ("connect", "disconnect"))

    @FUZZ
    @given(name=names, payload=JSON)
    def examples(name: str, payload: Any) -> None:
        async def one() -> None:
            answer = await world.socket.call(name, payload, timeout=20)
            world.stats["(unknown)"][answer["error"]["code"]] += 1
            assert answer["error"]["code"] == "unknown_event", answer
            assert world.socket.connected

        loop.run(one())

    examples()


def test_the_fuzzer_reached_every_event_and_beyond_the_refusals(world: World) -> None:
    """Run after the others (file order): every event was tried, by both senders,
    and the plausible payloads of every event got through sometimes (the fuzzer is
    not only testing validation)."""
    assert set(EVENTS) <= set(world.stats)
    for event in EVENTS:
        assert world.stats[event]["ok"] > 0, (event, world.stats[event])
    assert world.by_sender["operator"] > 0
