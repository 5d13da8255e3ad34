"""The Socket.IO protocol on goftogu's server (its engine, codec and ordered
delivery: realtime/engine.py, codec.py, delivery.py), with both official
clients on every transport: long-polling alone, websocket alone, and polling
upgraded to websocket. Acks both ways, binary both ways, room fan-out in
order with nothing lost or doubled, reconnect after a dropped transport, a
server disconnect; and a slow consumer is dropped without stalling its room.

The server is tests/e2e/protocol_peer.py under uvicorn, as ``goftogu serve``
runs the gateway's Socket.IO server.
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import socketio
from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.uri import parse_uri

from tests.e2e.servers import JS_DIR, Process, free_port
from tests.helpers.waiting import eventually

pytestmark = pytest.mark.node

TRANSPORTS = {
    "polling": ["polling"],
    "websocket": ["websocket"],
    "upgrade": ["polling", "websocket"],
}
BYTES = bytes(range(256))


def start_peer(tmp: Path, *extra: str) -> Iterator[Process]:
    port = free_port()
    log_path = tmp / f"protocol-peer-{port}.log"
    with log_path.open("wb") as log:
        popen = subprocess.Popen(
            [sys.executable, "-m", "tests.e2e.protocol_peer", str(port), *extra],
            cwd=Path(__file__).parents[2],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    process = Process("protocol-peer", popen, log_path, f"http://127.0.0.1:{port}")
    try:
        wait_until_socket_answers(process)
        yield process
    finally:
        popen.terminate()
        try:
            popen.wait(timeout=15)
        except subprocess.TimeoutExpired:
            popen.kill()
            popen.wait()


def wait_until_socket_answers(process: Process, timeout: float = 30) -> None:
    """The peer has no /healthz: an Engine.IO handshake is its sign of life."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.popen.poll() is not None:
            raise RuntimeError(f"the protocol peer exited early:\n{process.log()}")
        try:
            url = f"{process.base_url}/socket.io/?EIO=4&transport=polling"
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the protocol peer did not answer:\n{process.log()}")


@pytest.fixture(scope="module")
def peer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Process]:
    yield from start_peer(tmp_path_factory.mktemp("protocol"))


@pytest.fixture(scope="module")
def small_buffer_peer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Process]:
    yield from start_peer(tmp_path_factory.mktemp("protocol-slow"), "--send-buffer-bytes", "262144")


# --- the official JavaScript client -----------------------------------------------


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_the_javascript_client_passes_every_protocol_case(peer: Process, transport: str) -> None:
    run = subprocess.run(
        ["node", str(JS_DIR / "protocol.mjs"), peer.base_url, json.dumps(TRANSPORTS[transport])],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    lines = [json.loads(line) for line in run.stdout.splitlines() if line.strip()]
    assert lines, run.stderr
    assert lines[-1] == {"done": True}, run.stdout + run.stderr
    failures = {line["case"]: line["error"] for line in lines[:-1] if not line["ok"]}
    assert not failures, failures
    assert len(lines) - 1 == 8


# --- the official Python client ------------------------------------------------------


async def open_client(peer: Process, transport: str, **options: Any) -> socketio.AsyncClient:
    client = socketio.AsyncClient(reconnection=options.pop("reconnection", False), **options)
    await client.connect(peer.base_url, transports=TRANSPORTS[transport], wait_timeout=10)
    return client


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_the_python_client_gets_acks_with_json_and_binary(
    peer: Process, transport: str
) -> None:
    client = await open_client(peer, transport)
    try:
        data = {"text": "سلام, hello", "n": [1, 2.5, -3], "nested": {"ok": True, "none": None}}
        assert await client.call("echo", data, timeout=10) == data
        answer = await client.call("echo", {"blob": BYTES, "tag": "b"}, timeout=10)
        assert answer == {"blob": BYTES, "tag": "b"}
        if transport != "polling":
            await eventually(lambda: client.transport() == "websocket", what="the websocket")
    finally:
        await client.disconnect()


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_the_python_client_gets_binary_events_and_answers_the_servers_questions(
    peer: Process, transport: str
) -> None:
    client = await open_client(peer, transport)
    echoed: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    client.on("echoed", lambda data: echoed.set_result(data))
    client.on("question", lambda data: {"double": data["n"] * 2})
    try:
        await client.call("echo:event", {"blob": BYTES, "list": [BYTES, 1]}, timeout=10)
        assert await asyncio.wait_for(echoed, 10) == {"blob": BYTES, "list": [BYTES, 1]}
        assert await client.call("ask", {"n": 21}, timeout=10) == {"double": 42}
    finally:
        await client.disconnect()


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_room_gets_every_event_in_order_once_on_every_socket(
    peer: Process, transport: str
) -> None:
    room = f"group:{uuid.uuid4()}"
    clients = [await open_client(peer, transport) for _ in range(3)]
    seen: list[list[int]] = [[] for _ in clients]
    for client, seqs in zip(clients, seen, strict=True):
        client.on("message:new", lambda m, seqs=seqs: seqs.append(m["seq"]))
        await client.call("join", {"room": room}, timeout=10)
    try:
        count = 1000
        await clients[0].call("burst", {"room": room, "count": count, "size": 50}, timeout=30)
        await eventually(lambda: all(len(s) >= count for s in seen), what="every event")
        for seqs in seen:
            assert seqs == list(range(1, count + 1))
    finally:
        for client in clients:
            await client.disconnect()


# Not on long-polling alone: python-socketio's client then opens a new aiohttp
# session and leaves the old one unclosed to the garbage collector, which fails any
# test around it (the JavaScript client's run covers reconnects on polling).
@pytest.mark.parametrize("transport", ["websocket", "upgrade"])
async def test_the_python_client_reconnects_after_the_transport_drops(
    peer: Process, transport: str
) -> None:
    client = await open_client(peer, transport, reconnection=True, reconnection_delay=0.1)
    connects: list[str] = []
    reasons: list[Any] = []
    client.on("connect", lambda: connects.append(client.sid))
    client.on("disconnect", lambda reason=None: reasons.append(reason))
    try:
        first = client.sid
        await client.call("drop", {}, timeout=10)
        await eventually(lambda: connects and client.connected, what="the reconnect")
        assert client.sid != first
        assert reasons == [client.reason.TRANSPORT_ERROR] or reasons == [
            client.reason.TRANSPORT_CLOSE
        ]
        assert await client.call("echo", {"again": 1}, timeout=10) == {"again": 1}
    finally:
        await client.disconnect()


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_server_disconnect_reaches_the_python_client(peer: Process, transport: str) -> None:
    client = await open_client(peer, transport)
    reasons: list[Any] = []
    client.on("disconnect", lambda reason=None: reasons.append(reason))
    await client.call("kick", {}, timeout=10)
    await eventually(lambda: reasons, what="the disconnect")
    assert reasons == [client.reason.SERVER_DISCONNECT]


# --- a slow consumer ----------------------------------------------------------------


class SilentWebsocket:
    """An Engine.IO client on a raw websocket that joins a room and then stops
    reading (its receive buffer kept small), as a stalled phone would."""

    def __init__(self, base_url: str) -> None:
        url = base_url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        self.protocol = ClientProtocol(parse_uri(url))
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect
        self.sock.connect(("127.0.0.1", int(base_url.rsplit(":", 1)[1])))
        self.protocol.send_request(self.protocol.connect())
        self._flush()
        while not self._text_frames():
            self.protocol.receive_data(self.sock.recv(65536))
        self.sock.settimeout(10)

    def _flush(self) -> None:
        for data in self.protocol.data_to_send():
            if data:
                self.sock.sendall(data)

    def _text_frames(self) -> list[str]:
        return [
            event.data.decode()
            for event in self.protocol.events_received()
            if isinstance(event, Frame) and event.opcode is Opcode.TEXT
        ]

    def send(self, text: str) -> None:
        self.protocol.send_text(text.encode())
        self._flush()

    def read_until(self, prefix: str) -> None:
        while True:
            self.protocol.receive_data(self.sock.recv(65536))
            if any(t.startswith(prefix) for t in self._text_frames()):
                return

    def is_cut_off(self) -> bool:
        """Drains what the server sent; True once the server has ended the connection."""
        self.sock.settimeout(0.05)
        try:
            while True:
                data = self.sock.recv(1 << 20)
                if not data:
                    return True
        except TimeoutError:
            return False
        except ConnectionResetError:
            return True


async def test_a_slow_consumer_is_dropped_and_its_room_keeps_receiving(
    small_buffer_peer: Process,
) -> None:
    room = f"group:{uuid.uuid4()}"
    silent = await asyncio.to_thread(SilentWebsocket, small_buffer_peer.base_url)
    silent.send("40")
    await asyncio.to_thread(silent.read_until, "40")
    silent.send(f'421["join",{{"room":"{room}"}}]')
    await asyncio.to_thread(silent.read_until, "431")
    # From here the silent client reads nothing.
    reader = await open_client(small_buffer_peer, "websocket")
    seqs: list[int] = []
    reader.on("message:new", lambda m: seqs.append(m["seq"]))
    await reader.call("join", {"room": room}, timeout=10)
    try:
        # About 3 MB for a cap of 256 KiB, in steps: each step's ack comes after its
        # events, so the reading socket never has more than a step waiting.
        steps, step, size = 30, 100, 1000
        for i in range(steps):
            where = {"room": room, "count": step, "size": size, "start": i * step}
            await reader.call("burst", where, timeout=30)
        count = steps * step
        await eventually(lambda: len(seqs) >= count, what="every event at the reading socket")
        assert seqs == list(range(1, count + 1))
        stats = await reader.call("stats", {}, timeout=10)
        assert stats == {"slow_consumers": 1}
        assert await eventually(
            lambda: asyncio.to_thread(silent.is_cut_off), what="the silent socket cut off"
        )
    finally:
        await reader.disconnect()
        silent.sock.close()
