"""goftogu as a pure relay: the transport's ceiling, with no storage behind it.

    python -m bench.peers.goftogu_relay <port> [--redis-url URL] [--transport engineio]

The Socket.IO server is goftogu's own (``create_socket_server``: the same
AsyncServer options and the same ``OrderedDelivery`` client manager as the
gateway; ``OrderedRedisManager`` when ``--redis-url`` is given), served by
uvicorn exactly as ``goftogu serve`` serves it. The contract is the one of
peers/node_relay.mjs: ``auth.room`` joins a room; ``relay``
``{conversation, client_id, content}`` gets the conversation's next seq (an
in-memory counter standing in for the database's) and goes to the whole room as
``message:new`` ``{...payload, seq}``, so every emit takes the ordered-delivery
path of real conversation events; the ack answers ``{ok: true, data: {seq}}``.
"""

from __future__ import annotations

import argparse
import os
from collections import defaultdict
from typing import Any

import socketio
import uvicorn

import goftogu.realtime.server as realtime_server
from goftogu.settings import Settings


def build(redis_url: str | None, transport: str = "goftogu") -> socketio.ASGIApp:
    # Redis pub/sub channels are shared by every database index: a channel of our
    # own keeps this relay apart from any other goftogu on the same Redis.
    settings = Settings(
        redis_url=redis_url,
        fanout_channel=f"goftogu-bench-{os.getpid()}",
        socket_transport=transport,
    )
    sio = realtime_server.create_socket_server(settings)
    seqs: defaultdict[str, int] = defaultdict(int)

    async def connect(sid: str, _environ: dict[str, Any], auth: Any = None) -> None:
        room = auth.get("room") if isinstance(auth, dict) else None
        if isinstance(room, str):
            await sio.enter_room(sid, room)

    async def relay(_sid: str, data: Any = None) -> dict[str, Any]:
        conversation = data.get("conversation") if isinstance(data, dict) else None
        if not isinstance(conversation, str):
            return {"ok": False, "error": {"code": "validation_error"}}
        seqs[conversation] += 1
        seq = seqs[conversation]
        await sio.emit("message:new", {**data, "seq": seq}, room=conversation)
        return {"ok": True, "data": {"seq": seq}}

    sio.on("connect", connect)
    sio.on("relay", relay)
    return socketio.ASGIApp(sio, socketio_path="socket.io")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("port", type=int)
    parser.add_argument("--redis-url", default=None)
    parser.add_argument(
        "--transport",
        choices=["goftogu", "engineio"],
        default="goftogu",
        help="GOFTOGU_SOCKET_TRANSPORT: engineio = python-engineio's transport as shipped",
    )
    args = parser.parse_args()
    # As `goftogu serve` runs it: uvicorn's defaults (uvloop, websockets), no access log.
    uvicorn.run(
        build(args.redis_url, args.transport),
        host="127.0.0.1",
        port=args.port,
        log_config=None,
        ws_per_message_deflate=Settings().ws_compression,
    )


if __name__ == "__main__":
    main()
