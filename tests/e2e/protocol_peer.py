"""goftogu's Socket.IO server (``create_socket_server(gateway=False)``: the
gateway's engine, codec and ordered delivery, without the gateway's refusal of
binary and oversized client events, which are the gateway's rules and not the
protocol's) with a few events that exercise the protocol,
served by uvicorn as ``goftogu serve`` serves it. The conformance tests
(test_socket_protocol.py) drive it with the official clients.

    python -m tests.e2e.protocol_peer <port> [--send-buffer-bytes N]

Events (each answers its ack):
  echo DATA              -> ack DATA (text or binary, any JSON value)
  echo:event DATA        -> the server emits ``echoed`` DATA to the sender, then acks
  ask DATA               -> the server emits ``question`` DATA with a callback, and
                            acks with the client's answer
  join {room}            -> the socket joins ``room``
  burst {room, count, size, start}
                         -> ``count`` conversation events ``message:new``
                            ``{conversation: room, seq, body}`` (seq from ``start``+1,
                            ``size`` characters each) through the ordered delivery
  stats                  -> {slow_consumers}: sockets dropped as slow consumers
  kick                   -> the server disconnects the socket (io server disconnect)
  drop                   -> the server closes the transport (the client reconnects)
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

import socketio
import uvicorn

from goftogu.realtime.engine import EngineSocket
from goftogu.realtime.server import create_socket_server
from goftogu.settings import Settings


def build(send_buffer_bytes: int) -> socketio.ASGIApp:
    settings = Settings(socket_send_buffer_bytes=send_buffer_bytes)
    sio = create_socket_server(settings, gateway=False)
    dropped: list[str] = []
    slow = sio.eio.on_slow_consumer

    def on_slow(eio_sid: str) -> None:
        dropped.append(eio_sid)
        slow(eio_sid)

    sio.eio.on_slow_consumer = on_slow

    async def echo(_sid: str, data: Any = None) -> Any:
        return data

    async def echo_event(sid: str, data: Any = None) -> Any:
        await sio.emit("echoed", data, to=sid)
        return {"ok": True}

    async def ask(sid: str, data: Any = None) -> Any:
        return await sio.call("question", data, to=sid, timeout=10)

    async def join(sid: str, data: Any = None) -> Any:
        await sio.enter_room(sid, data["room"])
        return {"ok": True}

    async def burst(_sid: str, data: Any = None) -> Any:
        room, count, start = data["room"], int(data["count"]), int(data.get("start", 0))
        body = "x" * int(data.get("size", 10))
        for seq in range(start + 1, start + count + 1):
            await sio.emit(
                "message:new", {"conversation": room, "seq": seq, "body": body}, room=room
            )
            if seq % 100 == 0:
                await asyncio.sleep(0)  # let the event loop read and write meanwhile
        return {"ok": True, "last": start + count}

    async def stats(_sid: str, _data: Any = None) -> Any:
        return {"slow_consumers": len(dropped)}

    async def kick(sid: str, _data: Any = None) -> Any:
        sio.start_background_task(sio.disconnect, sid)
        return {"ok": True}

    async def drop(sid: str, _data: Any = None) -> Any:
        eio_sid = sio.manager.eio_sid_from_sid(sid, "/")

        async def later() -> None:
            socket = sio.eio.sockets[eio_sid]
            if isinstance(socket, EngineSocket) and socket.abort_transport():
                return  # websocket: the connection ends as a network failure would end it
            await socket.close(wait=False, abort=True)  # polling: the next request fails

        sio.start_background_task(later)
        return {"ok": True}

    for name, handler in {
        "echo": echo,
        "echo:event": echo_event,
        "ask": ask,
        "join": join,
        "burst": burst,
        "stats": stats,
        "kick": kick,
        "drop": drop,
    }.items():
        sio.on(name, handler)
    return socketio.ASGIApp(sio, socketio_path="socket.io")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("--send-buffer-bytes", type=int, default=8 * 1024 * 1024)
    args = parser.parse_args()
    uvicorn.run(
        build(args.send_buffer_bytes),
        host="127.0.0.1",
        port=args.port,
        log_config=None,
        ws_per_message_deflate=False,
    )


if __name__ == "__main__":
    main()
