"""Reports (issue 18, item 10) from stored timestamps, on MongoDB (FerretDB), SQLite
and PostgreSQL; and over REST for admins only, as JSON and CSV."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from goftogu.errors import NotAllowed, ValidationFailed
from goftogu.gateway import Gateway
from goftogu.identity.models import Role
from goftogu.identity.tokens import Principal
from goftogu.ids import new_id
from goftogu.support.documents import (
    ChatStatus,
    Csat,
    CsatSource,
    Decision,
    RoutingEntry,
    SlaStatus,
    first_id_at,
    now,
)
from goftogu.support.reports import SupportReports, percentile
from goftogu.support.store import ChatStore
from tests.helpers.api import API, staff, visitor
from tests.helpers.chats import STORE_BACKENDS, new_chat, open_chat_store, operator_message
from tests.helpers.desk import start_chat
from tests.helpers.waiting import after_this_millisecond

ADMIN = Principal(user_id=uuid.uuid4(), role=Role.admin, session_id=uuid.uuid4())
OPERATOR = Principal(user_id=uuid.uuid4(), role=Role.operator, session_id=uuid.uuid4())


@pytest.fixture(params=STORE_BACKENDS)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ChatStore]:
    async for opened in open_chat_store(request, request.param, tmp_path):
        yield opened


def entry(decision: Decision) -> RoutingEntry:
    return RoutingEntry(at=now(), decision=decision)


def test_percentiles_are_nearest_rank_and_null_without_values() -> None:
    assert percentile([], 50) is None
    assert percentile([3.0], 90) == 3.0
    values = [float(v) for v in range(1, 11)]
    assert (percentile(values, 50), percentile(values, 90)) == (5.0, 9.0)


async def test_a_report_counts_each_team_and_operator_from_the_stored_times(
    store: ChatStore,
) -> None:
    before = new_chat(client_id="old")
    await store.create(before)  # started before the period: left out
    after_this_millisecond()
    since = now()
    sales, operator = str(new_id()), str(new_id())
    answered = new_chat(client_id="a").model_copy(update={"team_id": sales})
    ticket = new_chat(client_id="b").model_copy(update={"team_id": sales})
    general = new_chat(client_id="c")
    for chat in (answered, ticket, general):
        await store.create(chat)
    await store.mark_ticket(ticket.id, entry(Decision.ticketed))
    await store.assign(answered.id, operator, entry(Decision.assigned))
    opened = frozenset({ChatStatus.OPEN})
    await store.append_message(
        answered.id, operator_message(operator), statuses=opened, operator_id=operator
    )
    await store.close(answered.id, operator, entry(Decision.closed))
    await store.rate(answered.id, Csat(score=4, at=now(), source=CsatSource.widget))
    breached = SlaStatus(state="breached", marks=["first_response:breached"])
    await store.record_sla(ticket.id, breached, ["first_response:breached"])
    until = now() + timedelta(seconds=1)

    reports = SupportReports(store)
    by_team = await reports.report(ADMIN, since, until, "team")
    rows = {row.key: row for row in by_team.rows}
    assert set(rows) == {sales, None}
    assert (rows[sales].started, rows[sales].chats, rows[sales].tickets) == (2, 1, 1)
    assert rows[sales].sla_breaches == 1
    assert (rows[sales].csat_avg, rows[sales].csat_count) == (4.0, 1)
    assert rows[sales].first_response_p50_s is not None
    assert rows[sales].resolution_p90_s is not None
    assert rows[sales].first_response_p50_s <= rows[sales].resolution_p90_s
    assert (rows[None].started, rows[None].csat_avg, rows[None].resolution_p50_s) == (1, None, None)
    assert by_team.total.started == 3

    by_operator = await reports.report(ADMIN, since, until, "operator")
    assert {row.key: row.started for row in by_operator.rows} == {operator: 1, None: 2}
    only_sales = await reports.report(ADMIN, since, until, "team", team_id=sales)
    assert only_sales.total.started == 2


async def test_the_store_reads_the_conversations_of_an_id_range_in_batches(
    store: ChatStore,
) -> None:
    outside = new_chat(client_id="before")
    await store.create(outside)
    after_this_millisecond()
    since = now()
    team = str(new_id())
    inside = [new_chat(client_id=f"in{i}") for i in range(3)]
    inside[0] = inside[0].model_copy(update={"team_id": team})
    for chat in inside:
        await store.create(chat)
    after_this_millisecond()
    until = now()
    after_this_millisecond()
    await store.create(new_chat(client_id="after"))
    start, end = first_id_at(since), first_id_at(until)
    read = [chat.id async for batch in store.started_between(start, end) for chat in batch]
    assert sorted(read) == sorted(chat.id for chat in inside)
    of_team = [c.id async for batch in store.started_between(start, end, team) for c in batch]
    assert of_team == [inside[0].id]


async def test_reports_are_for_admins_over_a_sound_period(store: ChatStore) -> None:
    reports = SupportReports(store)
    at = datetime.now(UTC)
    with pytest.raises(NotAllowed):
        await reports.report(OPERATOR, at - timedelta(days=1), at)
    for since, until in ((at, at), (at, at - timedelta(days=1)), (at, at + timedelta(days=400))):
        with pytest.raises(ValidationFailed):
            await reports.report(ADMIN, since, until)


async def test_an_admin_exports_the_report_as_json_and_csv(
    gateway: Gateway, client: httpx.AsyncClient
) -> None:
    admin = await staff(gateway, client, "admin")
    operator = await staff(gateway, client, "operator")
    customer = await visitor(client)
    since = datetime.now(UTC) - timedelta(minutes=1)
    await start_chat(client, customer)
    period = {"since": since.isoformat(), "until": (since + timedelta(hours=1)).isoformat()}
    url = f"{API}/support/reports"
    refused = await client.get(url, params=period, headers=operator.headers)
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "not_allowed")
    bad = await client.get(url, params={**period, "until": period["since"]}, headers=admin.headers)
    assert (bad.status_code, bad.json()["error"]["code"]) == (422, "validation_error")

    report = await client.get(url, params=period, headers=admin.headers)
    assert report.status_code == 200, report.text
    assert report.json()["total"]["started"] == 1
    assert report.json()["rows"][0]["key"] is None
    exported = await client.get(
        url, params={**period, "format": "csv", "group": "operator"}, headers=admin.headers
    )
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(exported.text)))
    assert lines[0][:4] == ["operator", "started", "chats", "tickets"]
    assert lines[-1][:2] == ["total", "1"]


@pytest.mark.slow
async def test_a_report_over_thousands_of_conversations_reads_in_pages_quickly(
    store: ChatStore, request: pytest.FixtureRequest
) -> None:
    import time

    from tests.helpers.figures import report

    since = now()
    teams = [str(new_id()) for _ in range(5)]
    count = 3000
    for index in range(count):
        chat = new_chat(client_id=f"n{index}").model_copy(update={"team_id": teams[index % 5]})
        await store.create(chat)
    until = now() + timedelta(seconds=1)
    started = time.perf_counter()
    built = await SupportReports(store).report(ADMIN, since, until, "team")
    seconds = time.perf_counter() - started
    assert built.total.started == count
    assert sorted(row.started for row in built.rows) == [count // 5] * 5
    backend = request.node.callspec.params["store"]
    report(
        f"support report ({backend})",
        f"{count} conversations, 5 teams: report in {seconds * 1000:.0f} ms",
    )
