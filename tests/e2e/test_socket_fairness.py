"""One user cannot crowd out the others (issue 17, item 7): events are limited per
user across their sockets (and nodes: the limiter is Redis when configured), a
user's sockets are capped, and a flood leaves everyone else served."""

from __future__ import annotations

import asyncio
import logging
import statistics
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.clients import ConnectRefused, PyClient, connect
from tests.e2e.conftest import E2E_SECRET
from tests.e2e.servers import Process, gateway_process
from tests.helpers.api import API, SignedIn, sign_up
from tests.helpers.waiting import eventually

log = logging.getLogger(__name__)

PER_USER = 30  # events per 10 s, across a user's sockets
SOCKETS = 10


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Process]:
    env = {
        "GOFTOGU_SECRET_KEY": E2E_SECRET,
        "GOFTOGU_RATE_REGISTER_PER_IP": "10000/60",
        "GOFTOGU_RATE_VISITOR_PER_IP": "10000/60",
        "GOFTOGU_RATE_LOGIN_PER_IP": "10000/60",
        "GOFTOGU_RATE_SOCKET_EVENTS": "1000/10",  # the socket's own limit stays out of it
        "GOFTOGU_RATE_SOCKET_EVENTS_PER_USER": f"{PER_USER}/10",
        "GOFTOGU_MAX_SOCKETS_PER_USER": str(SOCKETS),
    }
    with gateway_process(env=env, cwd=tmp_path_factory.mktemp("fairness")) as process:
        yield process


async def _users(gateway: Process, count: int) -> list[SignedIn]:
    async with httpx.AsyncClient(base_url=gateway.base_url, timeout=15) as http:
        return [await sign_up(http) for _ in range(count)]


async def _chat(gateway: Process, me: SignedIn, peer: SignedIn) -> str:
    async with httpx.AsyncClient(base_url=gateway.base_url, timeout=15) as http:
        opened = await http.post(
            f"{API}/chats/single", headers=me.headers, json={"user_id": peer.id}
        )
        conversation: str = opened.json()["conversation"]
        return conversation


def _send(conversation: str, content: str) -> dict[str, str]:
    return {"conversation": conversation, "client_id": uuid.uuid4().hex, "content": content}


async def test_a_users_sockets_are_capped_across_their_connections(gateway: Process) -> None:
    (user,) = await _users(gateway, 1)
    sockets = [
        await connect("python", gateway.base_url, {"token": user.access_token})
        for _ in range(SOCKETS)
    ]
    try:
        with pytest.raises(ConnectRefused) as refused:
            await connect("js", gateway.base_url, {"token": user.access_token})
        assert refused.value.data["code"] == "too_many_connections"
        assert refused.value.data["details"] == {"limit": SOCKETS}
        await sockets.pop().close()

        async def admitted_again() -> PyClient | None:
            try:
                return await PyClient.connect(gateway.base_url, {"token": user.access_token})
            except ConnectRefused:
                return None

        sockets.append(await eventually(admitted_again, what="a place freed by a closed socket"))
    finally:
        for socket in sockets:
            await socket.close()


async def test_ten_sockets_of_one_user_cannot_starve_another_user(gateway: Process) -> None:
    flooder, victim, peer = await _users(gateway, 3)
    flood_chat, victim_chat = (
        await _chat(gateway, flooder, peer),
        await _chat(gateway, victim, peer),
    )
    floods = [
        await connect("python", gateway.base_url, {"token": flooder.access_token})
        for _ in range(SOCKETS)
    ]
    own = await connect("python", gateway.base_url, {"token": victim.access_token})
    try:
        started = time.monotonic()

        async def flood(socket: Any) -> list[dict[str, Any]]:
            return list(
                await asyncio.gather(
                    *(socket.emit("message:send", _send(flood_chat, "spam")) for _ in range(40))
                )
            )

        async def victim_sends() -> list[float]:
            took = []
            for i in range(10):
                before = time.monotonic()
                answer = await own.emit("message:send", _send(victim_chat, f"still here {i}"))
                assert answer["ok"], answer  # the other user's flood never limits this user
                took.append(time.monotonic() - before)
            return took

        flooded, took = await asyncio.gather(
            asyncio.gather(*(flood(s) for s in floods)), victim_sends()
        )
        elapsed = time.monotonic() - started
        answers = [a for per_socket in flooded for a in per_socket]
        accepted = sum(a["ok"] for a in answers)
        codes = {a["error"]["code"] for a in answers if not a["ok"]}
        # 400 sends over ten sockets: the user's limit holds across them (its burst,
        # plus what refills while the flood lasts), not ten times the socket's.
        assert codes == {"rate_limited"}
        assert accepted <= PER_USER + PER_USER / 10 * elapsed + 1, (accepted, elapsed)
        log.info(
            "flood: %d/%d accepted in %.1f s; the other user's acks p50 %.0f ms, max %.0f ms",
            accepted,
            len(answers),
            elapsed,
            statistics.median(took) * 1000,
            max(took) * 1000,
        )
        assert max(took) < 5  # served all along (a generous bound: a loaded machine)
    finally:
        for socket in [*floods, own]:
            await socket.close()
