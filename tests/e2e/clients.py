"""Socket.IO clients for end-to-end tests: the official JavaScript one (driven
through tests/e2e/js/driver.mjs) and python-socketio's AsyncClient, behind
one small interface: connect, emit with ack, wait for events."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import Callable
from typing import Any, Protocol

import socketio

from tests.e2e.servers import JS_DIR

Received = tuple[str, Any]


class ConnectRefused(Exception):
    def __init__(self, message: str, data: Any) -> None:
        super().__init__(message)
        self.data = data


class Client(Protocol):
    received: list[Received]

    async def emit(self, event: str, data: Any) -> Any: ...

    async def wait_for(
        self, event: str, where: Callable[[Any], bool] = ..., timeout: float = ...
    ) -> Any: ...

    def events(self, name: str) -> list[Any]: ...

    async def close(self) -> None: ...


class _Inbox:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self._arrived = asyncio.Condition()

    async def put(self, event: str, data: Any) -> None:
        async with self._arrived:
            self.received.append((event, data))
            self._arrived.notify_all()

    async def wait_for(
        self, event: str, where: Callable[[Any], bool] = lambda _d: True, timeout: float = 10
    ) -> Any:
        def found() -> Any:
            for name, data in self.received:
                if name == event and where(data):
                    return (data,)
            return None

        async with self._arrived:
            match = await asyncio.wait_for(self._arrived.wait_for(found), timeout)
        return match[0]

    def events(self, name: str) -> list[Any]:
        return [data for event, data in self.received if event == name]


class JsClient(_Inbox):
    """The official socket.io-client from npm, in a Node process."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        super().__init__()
        self._process = process
        self._ids = itertools.count(1)
        self._acks: dict[int, asyncio.Future[Any]] = {}
        self._reader: asyncio.Task[None] | None = None
        self.connected = asyncio.get_running_loop().create_future()

    @classmethod
    async def connect(cls, base_url: str, auth: dict[str, Any]) -> JsClient:
        process = await asyncio.create_subprocess_exec(
            "node",
            str(JS_DIR / "driver.mjs"),
            base_url,
            json.dumps(auth),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        client = cls(process)
        client._reader = asyncio.create_task(client._read())
        await asyncio.wait_for(client.connected, 15)
        return client

    async def _read(self) -> None:
        assert self._process.stdout is not None
        async for line in self._process.stdout:
            message = json.loads(line)
            kind = message["type"]
            if kind == "connect" and not self.connected.done():
                self.connected.set_result(message["sid"])
            elif kind == "connect_error" and not self.connected.done():
                self.connected.set_exception(ConnectRefused(message["message"], message["data"]))
            elif kind == "event":
                await self.put(message["event"], message["data"])
            elif kind == "ack":
                future = self._acks.pop(message["id"], None)
                if future is not None and not future.done():
                    future.set_result(message["data"])
            elif kind == "disconnect":
                await self.put("disconnect", message["reason"])

    async def emit(self, event: str, data: Any) -> Any:
        command_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._acks[command_id] = future
        await self._send({"id": command_id, "op": "emit", "event": event, "data": data})
        return await asyncio.wait_for(future, 15)

    async def _send(self, command: dict[str, Any]) -> None:
        assert self._process.stdin is not None
        self._process.stdin.write((json.dumps(command) + "\n").encode())
        await self._process.stdin.drain()

    async def close(self) -> None:
        with contextlib.suppress(ConnectionError, BrokenPipeError):
            await self._send({"op": "close"})
        try:
            await asyncio.wait_for(self._process.wait(), 5)
        except TimeoutError:
            self._process.kill()
            await self._process.wait()
        if self._reader is not None:
            self._reader.cancel()


class PyClient(_Inbox):
    """python-socketio's AsyncClient."""

    def __init__(self) -> None:
        super().__init__()
        self.sio = socketio.AsyncClient(reconnection=False)

        self.refusal: Any = None

        @self.sio.on("*")  # type: ignore[misc]
        async def any_event(event: str, data: Any = None) -> None:
            await self.put(event, data)

        @self.sio.on("connect_error")  # type: ignore[misc]
        async def refused(data: Any = None) -> None:
            self.refusal = data

        @self.sio.on("disconnect")  # type: ignore[misc]
        async def gone(reason: Any = None) -> None:
            await self.put("disconnect", reason)

    @classmethod
    async def connect(cls, base_url: str, auth: dict[str, Any]) -> PyClient:
        client = cls()
        try:
            await client.sio.connect(base_url, auth=auth, transports=["websocket"], wait_timeout=10)
        except socketio.exceptions.ConnectionError as error:
            refusal = client.refusal if isinstance(client.refusal, dict) else {}
            raise ConnectRefused(str(error), refusal.get("data", refusal)) from error
        return client

    async def emit(self, event: str, data: Any) -> Any:
        return await self.sio.call(event, data, timeout=15)

    async def close(self) -> None:
        await self.sio.disconnect()


CLIENTS = {"js": JsClient, "python": PyClient}


async def connect(kind: str, base_url: str, auth: dict[str, Any]) -> JsClient | PyClient:
    factory = CLIENTS[kind]
    return await factory.connect(base_url, auth)
