"""Socket.IO at its edges (issue 17, item 9): an unknown event is answered, an event
too large is answered ``payload_too_large`` and changes nothing, a frame over the
hard cap closes the socket with a reason, binary payloads are refused."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import httpx
import pytest
import socketio
import websockets

from tests.e2e.clients import PyClient, connect
from tests.e2e.conftest import E2E_SECRET
from tests.e2e.servers import Process, gateway_process
from tests.helpers.api import API, SignedIn, sign_up

KINDS = ["js", "python"]
EVENT_LIMIT = 20_000
FRAME_CAP = 100_000


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Process]:
    env = {
        "GOFTOGU_SECRET_KEY": E2E_SECRET,
        "GOFTOGU_RATE_REGISTER_PER_IP": "10000/60",
        "GOFTOGU_RATE_VISITOR_PER_IP": "10000/60",
        "GOFTOGU_RATE_LOGIN_PER_IP": "10000/60",
        "GOFTOGU_MAX_MESSAGE_LENGTH": "100000",  # so that only the socket's limit speaks
        "GOFTOGU_MAX_SOCKET_EVENT_BYTES": str(EVENT_LIMIT),
        "GOFTOGU_MAX_SOCKET_PACKET_BYTES": str(FRAME_CAP),
    }
    with gateway_process(env=env, cwd=tmp_path_factory.mktemp("edges")) as process:
        yield process


@pytest.fixture
async def pair(gateway: Process) -> tuple[SignedIn, SignedIn, str]:
    async with httpx.AsyncClient(base_url=gateway.base_url, timeout=15) as http:
        me, peer = await sign_up(http), await sign_up(http)
        opened = await http.post(
            f"{API}/chats/single", headers=me.headers, json={"user_id": peer.id}
        )
        return me, peer, opened.json()["conversation"]


def _send(conversation: str, content: str) -> dict[str, str]:
    return {"conversation": conversation, "client_id": uuid.uuid4().hex, "content": content}


async def _history(gateway: Process, user: SignedIn, conversation: str) -> list[str]:
    async with httpx.AsyncClient(base_url=gateway.base_url, timeout=15) as http:
        page = await http.get(f"{API}/conversations/{conversation}/messages", headers=user.headers)
        return [m["content"] for m in page.json()["items"]]


@pytest.mark.parametrize("kind", KINDS)
async def test_an_unknown_event_is_answered_and_the_socket_stays(
    gateway: Process, pair: tuple[SignedIn, SignedIn, str], kind: str
) -> None:
    me, _peer, _conversation = pair
    client = await connect(kind, gateway.base_url, {"token": me.access_token})
    try:
        answer = await client.emit("message:sned", {"anything": 1})
        assert answer["ok"] is False
        assert answer["error"]["code"] == "unknown_event"
        assert "message:sned" in answer["error"]["message"]
        assert (await client.emit("presence:set", {"status": "online"}))["ok"]
    finally:
        await client.close()


@pytest.mark.parametrize("kind", KINDS)
async def test_an_event_over_the_size_limit_is_answered_and_stores_nothing(
    gateway: Process, pair: tuple[SignedIn, SignedIn, str], kind: str
) -> None:
    me, peer, conversation = pair
    client = await connect(kind, gateway.base_url, {"token": me.access_token})
    try:
        too_large = await client.emit("message:send", _send(conversation, "x" * (EVENT_LIMIT + 1)))
        assert too_large["ok"] is False
        assert too_large["error"]["code"] == "payload_too_large"
        assert too_large["error"]["details"] == {"limit": EVENT_LIMIT}
        # Counted in bytes on the wire: 12,000 Persian letters are 24,000 bytes in
        # UTF-8 (the JS client) and 72,000 as \u escapes (the Python client's JSON).
        persian = await client.emit("message:send", _send(conversation, "س" * 12_000))
        assert persian["error"]["code"] == "payload_too_large"
        fits = await client.emit("message:send", _send(conversation, "س" * 3_000))
        assert fits["ok"], fits
        assert await _history(gateway, peer, conversation) == ["س" * 3_000]
    finally:
        await client.close()


@pytest.mark.parametrize("kind", KINDS)
async def test_a_frame_over_the_hard_cap_disconnects_the_socket(
    gateway: Process, pair: tuple[SignedIn, SignedIn, str], kind: str
) -> None:
    me, peer, conversation = pair
    client = await connect(kind, gateway.base_url, {"token": me.access_token})
    try:
        if isinstance(client, PyClient):
            await client.sio.emit("message:send", _send(conversation, "x" * FRAME_CAP))
        else:
            await client._send(
                {
                    "id": 0,
                    "op": "emit",
                    "event": "message:send",
                    "data": _send(conversation, "x" * FRAME_CAP),
                }
            )
        await client.wait_for("disconnect")
        assert await _history(gateway, peer, conversation) == []
    finally:
        await client.close()


async def test_the_hard_cap_closes_the_websocket_with_code_1009(
    gateway: Process, pair: tuple[SignedIn, SignedIn, str]
) -> None:
    me, _peer, conversation = pair
    url = gateway.base_url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket"
    async with websockets.connect(url, max_size=None) as ws:
        assert str(await ws.recv()).startswith("0")  # Engine.IO open
        await ws.send("40" + json.dumps({"token": me.access_token}))
        while not str(await ws.recv()).startswith("40"):  # until Socket.IO connected
            pass
        await ws.send("421" + json.dumps(["message:send", _send(conversation, "x" * FRAME_CAP)]))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await _read_until_closed(ws)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1009  # message too big


async def _read_until_closed(ws: websockets.ClientConnection) -> None:
    while True:
        await ws.recv()


async def test_a_binary_payload_is_refused_and_the_socket_stays(
    gateway: Process, pair: tuple[SignedIn, SignedIn, str]
) -> None:
    me, peer, conversation = pair
    client = await connect("python", gateway.base_url, {"token": me.access_token})
    try:
        binary = {**_send(conversation, "hi"), "content": b"binary"}
        answer = await client.emit("message:send", binary)
        assert answer["error"]["code"] == "validation_error"
        assert (await client.emit("message:send", _send(conversation, "after")))["ok"]
        assert await _history(gateway, peer, conversation) == ["after"]
    finally:
        await client.close()


@pytest.mark.parametrize(("origin", "opens"), [("https://evil.example", False), (None, True)])
async def test_a_websocket_from_a_foreign_page_is_refused(
    gateway: Process, pair: tuple[SignedIn, SignedIn, str], origin: str | None, opens: bool
) -> None:
    me = pair[0]
    own = gateway.base_url  # the console's and the widget iframe's origin
    client = socketio.AsyncClient(reconnection=False)
    try:
        await client.connect(
            gateway.base_url,
            auth={"token": me.access_token},
            headers={"Origin": origin or own},
            transports=["websocket"],
            wait_timeout=10,
        )
        assert opens
    except socketio.exceptions.ConnectionError:
        assert not opens
    finally:
        await client.disconnect()
