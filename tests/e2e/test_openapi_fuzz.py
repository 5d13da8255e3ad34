"""Schemathesis against the gateway's own ``/openapi.json`` (issue 17, "Fuzzing in
CI"), through a real gateway on PostgreSQL.

The gateway is given a world to work on first: a customer, a second member, an
operator, an admin and a visitor; a single chat and a group between the two
customers with messages, a reaction, a pin and an attachment; a support chat the
operator claimed, with a note and a label; a canned reply and a team. Every
generated request goes out as one of those users (drawn by Hypothesis) and its
path parameters are, most of the time, one of those real ids (someone's own or
another's), so the fuzzer reaches the services and their authorisation, not only
validation. Calls that would end a session (logout, a new password, deleting a
session) or change an account (``PATCH /admin/users/{id}``) act on a throwaway
user made for the call, so the world keeps its users.

Two passes, both bounded: every operation alone (positive and negative data,
``OPENAPI_FUZZ_EXAMPLES`` each, default 12), then stateful scenarios from the
schema's links (inferred by schemathesis from the responses and path parameters)
starting on the same world (``OPENAPI_FUZZ_SCENARIOS``, default 25). Every answer
is checked: no 5xx, the status code is documented for the operation, the body
and content type are those the document declares. Failures are collected, not
raised one by one, and the figures (operations, requests, failures) are printed
so a CI log shows them; ``OPENAPI_FUZZ_REPORT`` names a JSON file for them too.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import hypothesis
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.e2e.conftest import E2E_SECRET
from tests.e2e.servers import Process, gateway_process
from tests.e2e.test_cli import run_goftogu
from tests.helpers.api import API, PASSWORD, SignedIn, login, sign_up, unique_name
from tests.helpers.figures import report

EXAMPLES = int(os.environ.get("OPENAPI_FUZZ_EXAMPLES", "12"))
SCENARIOS = int(os.environ.get("OPENAPI_FUZZ_SCENARIOS", "25"))
STATEFUL_SECONDS = float(os.environ.get("OPENAPI_FUZZ_STATEFUL_SECONDS", "60"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    response_schema_conformance,
    content_type_conformance,
]
# Calls that end the caller's session(s) or change an account: a throwaway user's.
THROWAWAY_CALLER = {
    ("POST", "/api/v1/auth/logout"),
    ("POST", "/api/v1/auth/password"),
    ("DELETE", "/api/v1/auth/sessions/{session_id}"),
}
THROWAWAY_TARGET = {("PATCH", "/api/v1/admin/users/{user_id}")}


@dataclass
class World:
    base_url: str
    users: dict[str, SignedIn]  # customer, member, operator, admin, visitor
    ids: dict[str, list[str]]  # path parameter name -> real values
    requests: int = 0
    by_status: Counter[int] = field(default_factory=Counter)
    operations: set[str] = field(default_factory=set)
    failures: list[str] = field(default_factory=list)
    alone: tuple[int, float] = (0, 0.0)  # requests and seconds of the first pass
    scenarios: int = 0  # stateful scenarios run

    def throwaway(self) -> SignedIn:
        with httpx.Client(base_url=self.base_url, timeout=30) as http:
            name = unique_name("spare")
            made = http.post(
                f"{API}/auth/register",
                json={"username": name, "email": f"{name}@example.com", "password": PASSWORD},
            )
            assert made.status_code == 201, made.text
            signed = http.post(f"{API}/auth/login", json={"login": name, "password": PASSWORD})
            pair = signed.json()
            return SignedIn(
                pair["user"]["id"],
                name,
                pair["access_token"],
                pair["refresh_token"],
                pair["user"],
            )


def _build_world(base_url: str, admin_name: str) -> World:
    import asyncio

    async def build() -> World:
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
            customer, member = await sign_up(http), await sign_up(http)
            admin = await login(http, admin_name, "a strong admin passphrase")

            async def call(
                method: str, path: str, user: SignedIn, body: Any = None, **kw: Any
            ) -> dict[str, Any]:
                answer = await http.request(
                    method, f"{API}{path}", headers=user.headers, json=body, **kw
                )
                assert answer.status_code in (200, 201, 202), (path, answer.text)
                return answer.json() if answer.content else {}

            name = unique_name("op")
            await call(
                "POST",
                "/admin/users",
                admin,
                {"username": name, "email": f"{name}@example.com", "password": PASSWORD},
            )
            operator = await login(http, name)
            visitor_pair = (await http.post(f"{API}/auth/visitor", json={})).json()
            visitor = SignedIn(
                visitor_pair["user"]["id"],
                visitor_pair["user"]["username"],
                visitor_pair["access_token"],
                visitor_pair["refresh_token"],
                visitor_pair["user"],
            )
            await call("PUT", "/support/presence", operator, {"status": "online"})
            single = await call("POST", "/chats/single", customer, {"user_id": member.id})
            group = await call(
                "POST", "/groups", customer, {"title": "fuzz", "member_ids": [member.id]}
            )
            upload = await http.post(
                f"{API}/attachments",
                headers=customer.headers,
                files={"file": ("note.txt", b"hello", "text/plain")},
            )
            assert upload.status_code == 201, upload.text
            attachment = upload.json()["id"]
            messages = []
            for address in (single["conversation"], group["conversation"]):
                for author in (customer, member):
                    sent = await call(
                        "POST",
                        f"/conversations/{address}/messages",
                        author,
                        {"client_id": uuid.uuid4().hex, "content": "seed"},
                    )
                    messages.append(sent["id"])
            with_file = await call(
                "POST",
                f"/conversations/{single['conversation']}/messages",
                customer,
                {
                    "client_id": uuid.uuid4().hex,
                    "content": "a file",
                    "attachment_ids": [attachment],
                },
            )
            messages.append(with_file["id"])
            await call("POST", f"/messages/{messages[0]}/reactions", member, {"emoji": "👍"})
            await call(
                "POST",
                f"/conversations/{single['conversation']}/pins",
                customer,
                {"message_id": messages[0]},
            )
            chat = await call(
                "POST",
                "/support/chats",
                customer,
                {"client_id": uuid.uuid4().hex, "body": "help, please"},
            )
            visitor_chat = await call(
                "POST", "/support/chats", visitor, {"client_id": uuid.uuid4().hex, "body": "hi"}
            )
            await call("POST", f"/support/chats/{chat['id']}/claim", operator)
            await call(
                "POST",
                f"/support/chats/{chat['id']}/notes",
                operator,
                {"client_id": uuid.uuid4().hex, "body": "vip"},
            )
            await call("PUT", f"/support/chats/{chat['id']}/labels/billing", operator)
            canned = await call(
                "POST",
                "/support/canned-replies",
                operator,
                {"shortcode": "hello", "title": "Hello", "body": "Hello {{customer.name}}"},
            )
            team = await call(
                "POST", "/support/teams", admin, {"name": "Billing", "topic": "billing"}
            )
            sessions = await call("GET", "/auth/sessions", customer)
            users = {
                "customer": customer,
                "member": member,
                "operator": operator,
                "admin": admin,
                "visitor": visitor,
            }
            user_ids = [u.id for u in users.values()]
            ids = {
                "address": [single["conversation"], group["conversation"]],
                "group_id": [group["id"]],
                "message_id": messages,
                "attachment_id": [attachment],
                "chat_id": [chat["id"], visitor_chat["id"]],
                "user_id": user_ids,
                "operator_id": [operator.id, admin.id],
                "reply_id": [canned["id"]],
                "team_id": [team["id"]],
                "shortcode": ["hello"],
                "label": ["billing"],
                "emoji": ["👍"],
                "session_id": [s["id"] for s in sessions["items"]],
            }
            return World(base_url, users, ids)

    return asyncio.run(build())


@pytest.fixture(scope="module")
def gateway(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Process]:
    env = {
        "GOFTOGU_SECRET_KEY": E2E_SECRET,
        "GOFTOGU_DATABASE_URL": postgres_url,
        # The fuzzer signs in and registers more than a person would: limits are not what it tests.
        "GOFTOGU_RATE_REGISTER_PER_IP": "100000/60",
        "GOFTOGU_RATE_VISITOR_PER_IP": "100000/60",
        "GOFTOGU_RATE_LOGIN_PER_IP": "100000/60",
        "GOFTOGU_RATE_LOGIN_PER_ACCOUNT": "100000/60",
        "GOFTOGU_LOG_LEVEL": "WARNING",
    }
    workdir = tmp_path_factory.mktemp("openapi-fuzz")
    created = run_goftogu(
        "create-admin",
        "--username",
        "fuzzadmin",
        "--email",
        "fuzzadmin@example.com",
        "--password",
        "a strong admin passphrase",
        env=env,
        cwd=workdir,
    )
    assert created.returncode == 0 or "username_taken" in created.stderr, created.stderr
    with gateway_process(env=env, cwd=workdir) as process:
        yield process


@pytest.fixture(scope="module")
def world(gateway: Process) -> Iterator[World]:
    built = _build_world(gateway.base_url, "fuzzadmin")
    yield built
    _report(built)


@pytest.fixture(scope="module")
def schema(gateway: Process) -> Any:
    return schemathesis.openapi.from_url(f"{gateway.base_url}/openapi.json")


def _report(world: World) -> None:
    figures = {
        "operations": len(world.operations),
        "requests": world.requests,
        "failures": len(world.failures),
        "by_status": {str(k): v for k, v in sorted(world.by_status.items())},
        "operations_alone": {"requests": world.alone[0], "seconds": round(world.alone[1])},
        "stateful_scenarios": world.scenarios,
    }
    report(
        "schemathesis (REST, tests/e2e/test_openapi_fuzz.py)",
        f"{figures['operations']} operations, {figures['requests']} requests, "
        f"{figures['failures']} failures ({world.scenarios} stateful scenarios); "
        f"by status {figures['by_status']}",
    )
    path = os.environ.get("OPENAPI_FUZZ_REPORT")
    if path:
        Path(path).write_text(json.dumps({**figures, "failed": world.failures}, indent=2))


# --- who calls, on what -----------------------------------------------------------------


def _personalise(world: World) -> Callable[[Case], st.SearchStrategy[Case]]:
    """A strategy that sends ``case`` as one of the world's users, with real ids
    for its path parameters most of the time."""

    def personalise(case: Case) -> st.SearchStrategy[Case]:
        @st.composite
        def draw_case(draw: st.DrawFn) -> Case:
            who = draw(st.sampled_from(sorted(world.users)))
            case.headers = {**(case.headers or {})}
            case.headers["Authorization"] = f"Bearer {world.users[who].access_token}"
            if case.path_parameters:
                for name in list(case.path_parameters):
                    real = world.ids.get(name)
                    if real and draw(st.integers(0, 3)) > 0:
                        case.path_parameters[name] = draw(st.sampled_from(real))
            return case

        return draw_case()

    return personalise


def _prepare(world: World, case: Case) -> None:
    key = (case.method.upper(), case.operation.path)
    if key in THROWAWAY_CALLER:
        case.headers = {**(case.headers or {})}
        spare = world.throwaway()
        case.headers["Authorization"] = f"Bearer {spare.access_token}"
        if case.path_parameters and "session_id" in case.path_parameters:
            with httpx.Client(base_url=world.base_url, timeout=30) as http:
                mine = http.get(f"{API}/auth/sessions", headers=spare.headers).json()
            case.path_parameters["session_id"] = mine["items"][0]["id"]
    if key in THROWAWAY_TARGET and case.path_parameters:
        case.path_parameters["user_id"] = world.throwaway().id


def _call_and_check(world: World, case: Case, session: requests.Session) -> None:
    _prepare(world, case)
    response = case.call(session=session, timeout=30)
    world.requests += 1
    world.by_status[response.status_code] += 1
    world.operations.add(f"{case.method.upper()} {case.operation.path}")
    try:
        case.validate_response(response, checks=CHECKS)
    except FailureGroup as failures:
        for failure in failures.exceptions:
            world.failures.append(
                f"{case.method.upper()} {case.formatted_path} -> {response.status_code}: "
                f"{failure.title}: {str(getattr(failure, 'message', ''))[:300]}"
            )


def _label(path: str) -> str:
    return path


FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=bool(os.environ.get("CI")),
    database=None,
    phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
    suppress_health_check=list(HealthCheck),
)


def test_every_operation_answers_documented_statuses_and_bodies(schema: Any, world: World) -> None:
    started = time.monotonic()
    personalise = _personalise(world)
    session = requests.Session()
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            strategy = operation.as_strategy(generation_mode=mode)

            @FUZZ
            @given(case=strategy.flatmap(personalise))
            def examples(case: Case) -> None:
                _call_and_check(world, case, session)

            try:
                examples()
            except hypothesis.errors.Unsatisfiable:
                # Nothing of the operation can be made invalid (no parameters, no body).
                assert mode is GenerationMode.NEGATIVE, operation.label
    world.alone = (world.requests, time.monotonic() - started)
    assert world.failures == [], "\n".join(world.failures[:40])


def test_stateful_scenarios_over_the_links_stay_within_the_document(
    schema: Any, world: World
) -> None:
    personalise_users = sorted(world.users)
    session = requests.Session()
    before = len(world.failures)

    class Machine(schema.as_state_machine()):  # type: ignore[misc]
        turn = 0
        scenarios = 0

        def setup(self) -> None:
            Machine.scenarios += 1

        def before_call(self, case: Case) -> None:
            Machine.turn += 1
            who = personalise_users[Machine.turn % len(personalise_users)]
            case.headers = {**(case.headers or {})}
            case.headers["Authorization"] = f"Bearer {world.users[who].access_token}"

        def call(self, case: Case, **kwargs: Any) -> Any:
            _prepare(world, case)
            return case.call(session=session, timeout=30, **kwargs)

        def validate_response(self, response: Any, case: Case, *_: Any, **__: Any) -> None:
            world.requests += 1
            world.by_status[response.status_code] += 1
            world.operations.add(f"{case.method.upper()} {case.operation.path}")
            try:
                case.validate_response(response, checks=CHECKS)
            except FailureGroup as failures:
                for failure in failures.exceptions:
                    world.failures.append(
                        f"(stateful) {case.method.upper()} {case.formatted_path} -> "
                        f"{response.status_code}: {failure.title}: "
                        f"{str(getattr(failure, 'message', ''))[:300]}"
                    )

    # Against a live API a replayed scenario may draw differently (the world moved
    # on): Hypothesis calls that flaky; schemathesis' own engine counts the scenarios
    # run so far and goes on (engine/run/stateful), and so does this.
    deadline = time.monotonic() + STATEFUL_SECONDS
    rounds = 0
    while Machine.scenarios < SCENARIOS and time.monotonic() < deadline and rounds < 10:
        rounds += 1
        try:
            Machine.run(
                settings=settings(
                    max_examples=SCENARIOS - Machine.scenarios,
                    stateful_step_count=8,
                    deadline=None,
                    derandomize=bool(os.environ.get("CI")) and rounds == 1,
                    database=None,
                    phases=[hypothesis.Phase.generate],
                    suppress_health_check=list(HealthCheck),
                )
            )
        except hypothesis.errors.Flaky:
            continue
    world.scenarios = Machine.scenarios
    assert Machine.scenarios > 0
    assert world.failures[before:] == [], "\n".join(world.failures[before:][:40])
