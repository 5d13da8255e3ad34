"""Two gateway nodes sharing Redis and PostgreSQL, as in production (P4)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack

import httpx
import pytest

from tests.conftest import run_blocking, service_url
from tests.e2e.clients import ConnectRefused, connect
from tests.e2e.conftest import E2E_SECRET
from tests.e2e.servers import Process, gateway_process
from tests.helpers.api import SignedIn, sign_up

pytestmark = pytest.mark.redis


async def _flush(url: str) -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(url)
    await client.flushdb()
    await client.aclose()


@pytest.fixture(scope="module")
def cluster(
    postgres_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Process, Process]]:
    redis_url = service_url("redis")
    run_blocking(_flush(redis_url))
    env = {
        "GOFTOGU_SECRET_KEY": E2E_SECRET,
        "GOFTOGU_DATABASE_URL": postgres_url,
        "GOFTOGU_REDIS_URL": redis_url,
        "GOFTOGU_RATE_REGISTER_PER_IP": "10000/60",
        "GOFTOGU_RATE_VISITOR_PER_IP": "10000/60",
        "GOFTOGU_RATE_LOGIN_PER_IP": "10000/60",
        "GOFTOGU_PRESENCE_GRACE_SECONDS": "0.3",
        "GOFTOGU_RATE_SOCKET_EVENTS": "1000/1",
        "GOFTOGU_RATE_SOCKET_EVENTS_PER_USER": "1000/1",
        "GOFTOGU_MAX_SOCKETS_PER_USER": "4",
        "GOFTOGU_SOCKET_EXPIRY_SWEEP_SECONDS": "0.5",
        "GOFTOGU_FANOUT_CHANNEL": f"goftogu-test-{os.getpid()}",
    }
    with ExitStack() as stack:
        nodes = tuple(
            stack.enter_context(
                gateway_process(env=env, cwd=tmp_path_factory.mktemp(name), name=name)
            )
            for name in ("node-a", "node-b")
        )
        yield nodes  # type: ignore[misc]


@pytest.fixture
async def carol(cluster: tuple[Process, Process]) -> SignedIn:
    async with httpx.AsyncClient(base_url=cluster[0].base_url, timeout=15) as http:
        return await sign_up(http)


async def test_an_event_raised_on_one_node_reaches_a_socket_on_the_other(
    cluster: tuple[Process, Process], carol: SignedIn
) -> None:
    node_a, node_b = cluster
    on_a = await connect("js", node_a.base_url, {"token": carol.access_token})
    on_b = await connect("python", node_b.base_url, {"token": carol.access_token})
    try:
        answer = await on_b.emit("presence:set", {"status": "away"})
        assert answer["data"] == {"status": "away"}
        seen = await on_a.wait_for("presence", lambda p: p["status"] == "away")
        assert seen["user_id"] == carol.id
    finally:
        await on_a.close()
        await on_b.close()


async def test_presence_is_one_answer_across_nodes(
    cluster: tuple[Process, Process], carol: SignedIn
) -> None:
    node_a, node_b = cluster
    async with httpx.AsyncClient(base_url=node_a.base_url, timeout=15) as http:
        erin = await sign_up(http)
        opened = await http.post(
            "/api/v1/chats/single", headers=carol.headers, json={"user_id": erin.id}
        )
        assert opened.status_code == 201  # erin is carol's contact
    watcher = await connect("python", node_a.base_url, {"token": carol.access_token})
    second = await connect("js", node_b.base_url, {"token": carol.access_token})
    witness = await connect("python", node_b.base_url, {"token": erin.access_token})
    await second.close()
    await witness.close()
    # Erin left node B after carol's second socket did, with the same grace period:
    # once she is announced offline, carol would have been too.
    await watcher.wait_for(
        "presence", lambda p: p["user_id"] == erin.id and p["status"] == "offline"
    )
    # The connection on node A keeps carol online although node B saw its socket go.
    statuses = [p["status"] for p in watcher.events("presence") if p["user_id"] == carol.id]
    assert statuses.count("online") == 1
    assert "offline" not in statuses
    await watcher.close()


async def test_a_client_back_on_the_other_node_gets_exactly_what_it_missed_then_live(
    cluster: tuple[Process, Process], carol: SignedIn
) -> None:
    node_a, node_b = cluster
    async with httpx.AsyncClient(base_url=node_a.base_url, timeout=15) as http:
        dave = await sign_up(http)
        created = await http.post(
            "/api/v1/groups", headers=carol.headers, json={"title": "t", "member_ids": [dave.id]}
        )
        conversation = created.json()["conversation"]
    writer = await connect("python", node_b.base_url, {"token": carol.access_token})
    reader = await connect("js", node_a.base_url, {"token": dave.access_token})
    first = await writer.emit("message:send", _send(conversation, "before"))
    cursor = (await reader.wait_for("message:new", lambda d: d["conversation"] == conversation))[
        "seq"
    ]
    assert cursor == first["data"]["message"]["seq"]
    await reader.close()

    # 100 changes while the reader is away: 40 sends, 20 edits, 20 reactions, 20 deletes.
    sent = [
        (await writer.emit("message:send", _send(conversation, f"m{i}")))["data"]["message"]
        for i in range(40)
    ]
    for message in sent[:20]:
        assert (await writer.emit("message:edit", {"message_id": message["id"], "content": "e"}))[
            "ok"
        ]
        assert (await writer.emit("reaction:add", {"message_id": message["id"], "emoji": "🙂"}))[
            "ok"
        ]
    for message in sent[20:]:
        assert (await writer.emit("message:delete", {"message_id": message["id"]}))["ok"]

    back = await connect(
        "python", node_b.base_url, {"token": dave.access_token, "cursors": {conversation: cursor}}
    )
    try:
        await back.wait_for("message:deleted", lambda d: d["seq"] == cursor + 100, timeout=20)
        live = (await writer.emit("message:send", _send(conversation, "live")))["data"]["message"]
        await back.wait_for("message:new", lambda d: d["message"]["id"] == live["id"])
        seqs = [
            data["seq"]
            for _name, data in back.received
            if isinstance(data, dict) and data.get("conversation") == conversation and "seq" in data
        ]
        assert seqs == list(range(cursor + 1, cursor + 102))
        kinds = [name for name, data in back.received if isinstance(data, dict) and "seq" in data]
        assert kinds.count("message:new") == 41
        assert kinds.count("message:edited") == 20
        assert kinds.count("reaction:added") == 20
        assert kinds.count("message:deleted") == 20
    finally:
        await back.close()
        await writer.close()


def _send(conversation: str, content: str) -> dict[str, str]:
    import uuid

    return {"conversation": conversation, "client_id": uuid.uuid4().hex, "content": content}


async def test_a_logout_on_one_node_is_refused_and_ends_sockets_on_the_other(
    cluster: tuple[Process, Process], carol: SignedIn
) -> None:
    node_a, node_b = cluster
    on_b = await connect("js", node_b.base_url, {"token": carol.access_token})
    try:
        async with httpx.AsyncClient(base_url=node_b.base_url, timeout=15) as http_b:
            assert (await http_b.get("/api/v1/users/me", headers=carol.headers)).status_code == 200
            async with httpx.AsyncClient(base_url=node_a.base_url, timeout=15) as http_a:
                out = await http_a.post(
                    "/api/v1/auth/logout",
                    json={"refresh_token": carol.refresh_token},
                    headers=carol.headers,
                )
                assert out.status_code == 204
            refused = await http_b.get("/api/v1/users/me", headers=carol.headers)
            assert refused.status_code == 401
            assert refused.json()["error"]["code"] == "session_revoked"
        assert await on_b.wait_for("session:ended") == {"reason": "logout"}
        await on_b.wait_for("disconnect")
        with pytest.raises(ConnectRefused) as again:
            await connect("python", node_b.base_url, {"token": carol.access_token})
        assert again.value.data["code"] == "session_revoked"
    finally:
        await on_b.close()


async def test_a_users_sockets_are_counted_across_nodes(
    cluster: tuple[Process, Process], carol: SignedIn
) -> None:
    node_a, node_b = cluster
    auth = {"token": carol.access_token}
    sockets = [await connect("python", node.base_url, auth) for node in (node_a, node_b) * 2]
    try:
        for node in cluster:  # four open, two on each node: the fifth is refused on both
            with pytest.raises(ConnectRefused) as refused:
                await connect("python", node.base_url, auth)
            assert refused.value.data["code"] == "too_many_connections"
    finally:
        for socket in sockets:
            await socket.close()


async def test_the_sweep_ends_sockets_of_a_session_revoked_without_a_signal(
    cluster: tuple[Process, Process], carol: SignedIn
) -> None:
    """Should the control message be lost, the periodic sweep finds the session in
    the revoked set and ends its sockets all the same."""
    import jwt
    from redis.asyncio import Redis

    socket = await connect("python", cluster[1].base_url, {"token": carol.access_token})
    session_id = jwt.decode(carol.access_token, options={"verify_signature": False})["sid"]
    redis = Redis.from_url(service_url("redis"))
    try:
        # Only the revoked set learns of it: no unit of work, no control message.
        await redis.set(f"goftogu:revoked:{session_id}", "account_disabled", ex=60)
        assert await socket.wait_for("session:ended") == {"reason": "account_disabled"}
        await socket.wait_for("disconnect")
    finally:
        await redis.aclose()
        await socket.close()
