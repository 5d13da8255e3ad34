"""Private notes, labels and canned replies over REST (SQLite and PostgreSQL), and
what their writes announce (every chat store)."""

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from goftogu.errors import NotAllowed
from goftogu.gateway import Gateway
from goftogu.identity.models import Role
from goftogu.ids import new_id
from goftogu.support.canned import CannedReplies, CannedScope
from goftogu.support.content import SupportContent
from goftogu.support.staff import StaffDirectory
from goftogu.support.store import ChatStore
from tests.helpers.api import API, SignedIn, staff, visitor
from tests.helpers.broadcast import RecordingBroadcaster, announcements
from tests.helpers.chats import STORE_BACKENDS, new_chat, open_chat_store
from tests.helpers.desk import chat_of, principal_of, start_chat


async def note(
    client: httpx.AsyncClient, user: SignedIn, chat_id: str, body: str, client_id: str = "n1"
) -> httpx.Response:
    return await client.post(
        f"{API}/support/chats/{chat_id}/notes",
        json={"client_id": client_id, "body": body},
        headers=user.headers,
    )


async def test_a_private_note_is_seen_by_staff_and_never_by_the_customer(
    gateway: Gateway, client: httpx.AsyncClient
) -> None:
    operator = await staff(gateway, client)
    customer = await visitor(client, name="Sara")
    chat = await start_chat(client, customer, "Where is my parcel?")
    written = await note(client, operator, chat["id"], "Ordered twice; refund one")
    assert written.status_code == 201, written.text
    assert written.json()["note"]["author_id"] == operator.id
    retried = await note(client, operator, chat["id"], "Ordered twice; refund one")
    assert retried.status_code == 200
    assert retried.json()["note"]["id"] == written.json()["note"]["id"]

    seen_by_staff = await chat_of(client, operator, chat["id"])
    assert [n["body"] for n in seen_by_staff["notes"]] == ["Ordered twice; refund one"]
    seen_by_customer = await chat_of(client, customer, chat["id"])
    assert seen_by_customer["notes"] is None
    assert "refund" not in str(seen_by_customer)
    assert [m["body"] for m in seen_by_customer["messages"]] == ["Where is my parcel?"]
    listed = await client.get(f"{API}/support/chats", headers=customer.headers)
    assert "refund" not in listed.text


async def test_customers_cannot_write_notes_and_bad_notes_store_nothing(
    gateway: Gateway, client: httpx.AsyncClient
) -> None:
    operator = await staff(gateway, client)
    customer = await visitor(client)
    chat = await start_chat(client, customer)
    refused = await note(client, customer, chat["id"], "let me in")
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "not_allowed")
    empty = await note(client, operator, chat["id"], "   ")
    assert (empty.status_code, empty.json()["error"]["code"]) == (422, "validation_error")
    huge = await note(client, operator, chat["id"], "x" * 16_001)
    assert (huge.status_code, huge.json()["error"]["code"]) == (413, "payload_too_large")
    missing = await note(client, operator, str(uuid.uuid4()), "hello")
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "not_found")
    assert (await chat_of(client, operator, chat["id"]))["notes"] == []


async def test_labels_are_added_removed_and_filter_the_list_for_staff(
    gateway: Gateway, client: httpx.AsyncClient
) -> None:
    operator = await staff(gateway, client)
    customer = await visitor(client)
    first = await start_chat(client, customer, "one")
    second = await start_chat(client, customer, "two")
    labels = f"{API}/support/chats/{first['id']}/labels"
    added = await client.put(f"{labels}/Refund", headers=operator.headers)
    assert added.status_code == 200, added.text
    assert added.json()["labels"] == ["refund"]  # casefolded
    await client.put(f"{labels}/vip", headers=operator.headers)
    await client.put(f"{API}/support/chats/{second['id']}/labels/vip", headers=operator.headers)

    async def filtered(label: str) -> list[str]:
        page = await client.get(
            f"{API}/support/chats", params={"label": label}, headers=operator.headers
        )
        assert page.status_code == 200, page.text
        return [item["id"] for item in page.json()["items"]]

    assert await filtered("refund") == [first["id"]]
    assert set(await filtered("VIP")) == {first["id"], second["id"]}
    removed = await client.delete(f"{labels}/vip", headers=operator.headers)
    assert removed.json()["labels"] == ["refund"]
    assert await filtered("vip") == [second["id"]]
    assert (await chat_of(client, operator, first["id"]))["labels"] == ["refund"]
    assert (await chat_of(client, customer, first["id"]))["labels"] is None

    by_customer = await client.put(f"{labels}/mine", headers=customer.headers)
    assert (by_customer.status_code, by_customer.json()["error"]["code"]) == (403, "not_allowed")
    customer_filter = await client.get(
        f"{API}/support/chats", params={"label": "vip"}, headers=customer.headers
    )
    assert customer_filter.json()["error"]["code"] == "not_allowed"
    bad = await client.put(f"{labels}/{'x' * 41}", headers=operator.headers)
    assert (bad.status_code, bad.json()["error"]["code"]) == (422, "validation_error")
    bad = await client.put(f"{labels}/-dash-first", headers=operator.headers)
    assert bad.json()["error"]["code"] == "validation_error"
    assert (await chat_of(client, operator, first["id"]))["labels"] == ["refund"]


async def create(client: httpx.AsyncClient, user: SignedIn, **fields: str | None) -> httpx.Response:
    body = {"shortcode": "hi", "title": "Greeting", "body": "Hello {{customer.name}}!", **fields}
    return await client.post(f"{API}/support/canned-replies", json=body, headers=user.headers)


async def test_a_canned_reply_is_filled_in_for_the_conversation(
    gateway: Gateway, client: httpx.AsyncClient
) -> None:
    operator = await staff(gateway, client)
    customer = await visitor(client, name="Sara")
    anonymous = await visitor(client)
    chat = await start_chat(client, customer)
    other = await start_chat(client, anonymous)
    made = await create(
        client, operator, body="Hello {{ customer.name | there }}, {{operator.name}} here."
    )
    assert made.status_code == 201, made.text
    assert (made.json()["scope"], made.json()["owner_id"]) == ("personal", operator.id)
    rendered = await client.get(
        f"{API}/support/chats/{chat['id']}/canned-replies/hi", headers=operator.headers
    )
    assert rendered.status_code == 200, rendered.text
    assert rendered.json()["body"] == f"Hello Sara, {operator.username} here."
    fallback = await client.get(
        f"{API}/support/chats/{other['id']}/canned-replies/HI", headers=operator.headers
    )
    assert fallback.json()["body"].startswith("Hello there,")
    unknown = await client.get(
        f"{API}/support/chats/{chat['id']}/canned-replies/nope", headers=operator.headers
    )
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "not_found")


async def test_personal_replies_override_global_ones_and_stay_their_authors(
    gateway: Gateway, client: httpx.AsyncClient
) -> None:
    admin = await staff(gateway, client, "admin")
    sara = await staff(gateway, client)
    omid = await staff(gateway, client)
    chat = await start_chat(client, await visitor(client, name="Ali"))
    assert (await create(client, admin, scope="global", body="Global hello")).status_code == 201
    assert (await create(client, sara, body="Sara's hello")).status_code == 201

    async def hi(user: SignedIn) -> str:
        answer = await client.get(
            f"{API}/support/chats/{chat['id']}/canned-replies/hi", headers=user.headers
        )
        body: str = answer.json()["body"]
        return body

    assert await hi(sara) == "Sara's hello"
    assert await hi(omid) == "Global hello"
    listed = await client.get(f"{API}/support/canned-replies", headers=omid.headers)
    assert [r["scope"] for r in listed.json()["items"]] == ["global"]
    mine = (await client.get(f"{API}/support/canned-replies?q=h", headers=sara.headers)).json()[
        "items"
    ]
    assert sorted(r["scope"] for r in mine) == ["global", "personal"]
    saras = next(r for r in mine if r["scope"] == "personal")
    # Someone else's personal reply does not exist for them; a global one is admins'.
    theft = await client.patch(
        f"{API}/support/canned-replies/{saras['id']}", json={"body": "x"}, headers=omid.headers
    )
    assert (theft.status_code, theft.json()["error"]["code"]) == (404, "not_found")
    global_id = next(r for r in mine if r["scope"] == "global")["id"]
    refused = await client.delete(f"{API}/support/canned-replies/{global_id}", headers=sara.headers)
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "not_allowed")
    by_operator = await create(client, sara, scope="global", shortcode="bye")
    assert by_operator.json()["error"]["code"] == "not_allowed"
    changed = await client.patch(
        f"{API}/support/canned-replies/{saras['id']}",
        json={"body": "Sara's new hello"},
        headers=sara.headers,
    )
    assert changed.status_code == 200, changed.text
    assert await hi(sara) == "Sara's new hello"
    deleted = await client.delete(
        f"{API}/support/canned-replies/{saras['id']}", headers=sara.headers
    )
    assert deleted.status_code == 204
    assert await hi(sara) == "Global hello"


async def test_bad_canned_replies_get_a_code_and_store_nothing(
    gateway: Gateway, client: httpx.AsyncClient
) -> None:
    operator = await staff(gateway, client)
    customer = await visitor(client)
    assert (await create(client, operator)).status_code == 201
    taken = await create(client, operator, title="Again")
    assert (taken.status_code, taken.json()["error"]["code"]) == (409, "shortcode_taken")
    for fields, field in (
        ({"shortcode": "no spaces"}, "shortcode"),
        ({"shortcode": "x" * 33}, "shortcode"),
        ({"shortcode": "ok2", "title": " "}, "title"),
        ({"shortcode": "ok3", "body": "Hi {{customer.password}}"}, "body"),
        ({"shortcode": "ok4", "body": "x" * 4001}, "body"),
        ({"shortcode": "ok5", "scope": "personal", "team_id": "t1"}, "team_id"),
    ):
        answer = await create(client, operator, **fields)
        assert (answer.status_code, answer.json()["error"]["code"]) == (422, "validation_error"), (
            fields
        )
        assert answer.json()["error"]["details"]["field"] == field
    no_team = await create(client, operator, shortcode="ok6", scope="team", team_id="nowhere")
    assert (no_team.status_code, no_team.json()["error"]["code"]) == (404, "not_found")
    by_customer = await create(client, customer, shortcode="ok7")
    assert by_customer.json()["error"]["code"] == "not_allowed"
    listed = await client.get(f"{API}/support/canned-replies", headers=operator.headers)
    assert [r["shortcode"] for r in listed.json()["items"]] == ["hi"]


class Teams:
    """A team directory of fixed memberships (teams themselves are the routing side's)."""

    def __init__(self, members: dict[str, set[str]]) -> None:
        self.members = members

    async def teams_of(self, user_id: str) -> frozenset[str]:
        return frozenset(team for team, users in self.members.items() if user_id in users)

    async def team_exists(self, team_id: str) -> bool:
        return team_id in self.members


@pytest.fixture(params=STORE_BACKENDS)
async def chats(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ChatStore]:
    async for opened in open_chat_store(request, request.param, tmp_path):
        yield opened


async def test_notes_and_labels_are_announced_to_staff_only(chats: ChatStore) -> None:
    told = RecordingBroadcaster()
    content = SupportContent(chats, announcements(told))
    chat = new_chat()
    await chats.create(chat)
    operator = principal_of(SignedIn(str(new_id()), "op", "", "", {}))
    await content.add_note(operator, chat.id, "n1", "internal")
    await content.add_note(operator, chat.id, "n1", "internal")  # a retry tells nobody
    await content.add_label(operator, chat.id, "vip")
    assert [e.event for e in told.events(room="operators")] == ["support:note", "support:labels"]
    assert told.events(room=chat.conversation) == []


async def test_team_replies_are_written_and_seen_by_the_teams_members(
    chats: ChatStore, database_url: str
) -> None:
    from goftogu.storage.database import Database
    from goftogu.support.canned_sql import SqlCannedReplyStore

    database = Database(database_url)
    try:
        sara, omid, admin = (str(new_id()) for _ in range(3))
        teams = Teams({"billing": {sara}, "sales": {omid}})
        canned = CannedReplies(
            SqlCannedReplyStore(database),
            chats,
            StaffDirectory(database),
            teams,
            announcements(told := RecordingBroadcaster()),
        )

        def who(user_id: str, role: Role = Role.operator) -> SignedIn:
            return SignedIn(user_id, user_id, "", "", {})

        as_sara = principal_of(who(sara))
        as_omid = principal_of(who(omid))
        as_admin = principal_of(who(admin), Role.admin)
        made = await canned.create(
            as_sara,
            scope=CannedScope.team,
            team_id="billing",
            shortcode="iban",
            title="IBAN",
            body="Our IBAN: IR00",
        )
        assert told.to("operators", "support:canned")[0]["reply_id"] == made.id
        assert [r.id for r in await canned.list_for(as_sara)] == [made.id]
        assert await canned.list_for(as_omid) == []
        with pytest.raises(NotAllowed):
            await canned.create(
                as_omid,
                scope=CannedScope.team,
                team_id="billing",
                shortcode="x",
                title="X",
                body="x",
            )
        by_admin = await canned.create(
            as_admin, scope=CannedScope.team, team_id="sales", shortcode="x", title="X", body="x"
        )
        assert [r.id for r in await canned.list_for(as_omid)] == [by_admin.id]
    finally:
        await database.close()
