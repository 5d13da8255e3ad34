"""The Engine.IO layer under python-socketio's server: python-engineio's protocol,
with a lighter websocket transport and a bounded send buffer per socket.

python-engineio (5.x) runs three tasks per websocket (the ASGI handler reading,
a writer task draining the socket's queue, a task per read wrapped in
``wait_for``) plus a sleeping task per socket for the next ping, and every
packet crosses the queue, a task switch and one ASGI ``send``. py-spy at the
fan-out's maximum showed the writer and the per-read tasks dominating
(README, Performance). Here, for a socket on the websocket transport:

- packets are written straight into the connection when the ASGI server is
  uvicorn's websockets-sansio protocol: a room's frame is serialised once and
  the same bytes go to every socket of the room, and what one turn of the
  event loop offers a socket is written in one system call at its end;
- otherwise (another ASGI server, or packets queued before the transport was
  ours) they are queued, and one short-lived task flushes the queue in order
  through ASGI ``send``; nothing is ever written ahead of a queued packet;
- reads run in the handler's own task under a deadline (no task per read);
- the next ping is a timer, not a sleeping task.

Long-polling, the upgrade from polling and every packet type are
python-engineio's own code paths. The protocol is unchanged: the official
clients' conformance runs (tests/e2e/test_socket_protocol.py) prove it.

**Slow consumers.** Each socket may have at most ``send_buffer_bytes`` waiting
to be written (the transport's buffer plus the queue). A socket over that cap
is dropped (its connection aborted, the disconnect reason ``slow consumer``
logged and counted) rather than the server growing without bound or the
room waiting for it; nothing is dropped silently from a socket that is kept.
The client reconnects by itself and replays from its cursors.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

import engineio
from engineio import packet as eio_packet
from engineio.async_socket import AsyncSocket
from websockets.frames import Frame, Opcode

log = logging.getLogger(__name__)

SLOW_CONSUMER = "slow consumer"
POLL_PACKETS = 16  # at most per long-polling response (see EngineSocket.poll)
_PACKET_OVERHEAD = 64  # bytes counted for a queued packet besides its payload


class OutgoingFrame:
    """The Engine.IO packets of one Socket.IO packet, encoded once for every socket
    it goes to (a room's recipients share it), with their websocket bytes made on
    first use."""

    __slots__ = ("_wire", "packets", "size")

    def __init__(self, packets: list[eio_packet.Packet]) -> None:
        self.packets = packets
        self._wire: bytes | None = None
        self.size = sum(_packet_size(p) for p in packets)

    def wire(self) -> bytes:
        """Unmasked websocket frames, no extension: what a server writes for these
        packets to a connection without permessage-deflate."""
        if self._wire is None:
            self._wire = b"".join(_ws_frame(p) for p in self.packets)
        return self._wire


def _packet_size(pkt: eio_packet.Packet) -> int:
    data = pkt.data
    return _PACKET_OVERHEAD + (len(data) if isinstance(data, str | bytes) else 0)


def _ws_frame(pkt: eio_packet.Packet) -> bytes:
    encoded = pkt.encode()
    if isinstance(encoded, bytes):
        frame = Frame(Opcode.BINARY, encoded)
    else:
        frame = Frame(Opcode.TEXT, encoded.encode())
    return frame.serialize(mask=False)


class _Direct:
    """Writes into uvicorn's websockets-sansio connection without an ASGI message:
    the same calls its ``send`` makes, so the connection's state stays right."""

    __slots__ = ("protocol",)

    def __init__(self, protocol: Any) -> None:
        self.protocol = protocol

    @classmethod
    def of(cls, asgi_send: Any) -> _Direct | None:
        protocol = getattr(asgi_send, "__self__", None)
        needed = ("conn", "transport", "writable", "close_sent", "disconnected")
        if protocol is None or not all(hasattr(protocol, name) for name in needed):
            return None
        if type(protocol).__name__ != "WebSocketsSansIOProtocol":
            return None
        return cls(protocol)

    def write_frames(self, frames: list[OutgoingFrame]) -> bool:
        """Write now; False when the connection cannot take it (closing)."""
        conn = self.protocol.conn
        if conn.state.name != "OPEN" or conn.expect_continuation_frame:
            return False
        if conn.extensions:  # permessage-deflate: frames differ per connection
            for frame in frames:
                for pkt in frame.packets:
                    encoded = pkt.encode()
                    if isinstance(encoded, bytes):
                        conn.send_binary(encoded)
                    else:
                        conn.send_text(encoded.encode())
            data = b"".join(conn.data_to_send())
        elif len(frames) == 1:
            data = frames[0].wire()
        else:
            data = b"".join(frame.wire() for frame in frames)
        self.protocol.transport.write(data)
        return True

    def buffered(self) -> int:
        size: int = self.protocol.transport.get_write_buffer_size()
        return size

    def abort(self) -> None:
        self.protocol.transport.abort()


class EngineSocket(AsyncSocket):  # type: ignore[misc]
    """One Engine.IO client; see the module's docstring. Created by
    ``EngineServer`` in place of python-engineio's ``AsyncSocket`` (same state)."""

    # python-engineio's state (BaseSocket), declared for the type checker
    last_ping: float | None
    connected: bool
    upgrading: bool
    upgraded: bool
    closing: bool
    closed: bool

    _ws: Any = None  # engine.io's ASGI websocket wrapper, once on the websocket transport
    _direct: _Direct | None = None
    _flusher: asyncio.Task[None] | None = None
    _queued_bytes: int = 0
    _ping_timer: asyncio.TimerHandle | None = None
    _pending: list[OutgoingFrame] | None = None  # offered this turn of the loop, unwritten
    _pending_bytes: int = 0
    dropped: bool = False

    # --- sending ------------------------------------------------------------------

    async def send(self, pkt: eio_packet.Packet) -> None:
        if not await self.check_ping_timeout():
            return
        self.offer(OutgoingFrame([pkt]))

    def offer(self, frame: OutgoingFrame) -> bool:
        """Send ``frame`` after everything offered before it; False when this socket
        is closed or was just dropped.

        On a websocket written directly, the frames offered during one turn of the
        event loop are written together at its end (one system call per socket per
        turn, however many events the turn fanned out to it)."""
        if self.closed or self.dropped:
            return False
        if self._ws is not None and not self.upgrading:
            if self._flusher is None and self._direct is not None:
                if self._pending is None:
                    self._pending = [frame]
                    self._pending_bytes = frame.size
                    self.server.write_soon(self)
                else:
                    self._pending.append(frame)
                    self._pending_bytes += frame.size
                return self._within_cap(self._pending_bytes)
            self._enqueue(frame)
            if self._flusher is None:
                self._flusher = asyncio.ensure_future(self._flush())
            return self._within_cap(self._queued_bytes)
        # Polling (or upgrading): python-engineio's queue, drained by its GET handler.
        self._enqueue(frame)
        return self._within_cap(self._queued_bytes)

    def write_pending(self) -> None:
        """Write what this turn of the event loop offered (``EngineServer.write_soon``).
        Written even after ``close()`` began: its CLOSE packet may be among them."""
        frames, self._pending = self._pending, None
        self._pending_bytes = 0
        direct = self._direct
        if not frames or direct is None or self.dropped:
            return
        if direct.write_frames(frames):
            self._within_cap(0)

    def _enqueue(self, frame: OutgoingFrame) -> None:
        for pkt in frame.packets:
            self.queue.put_nowait(pkt)
        self._queued_bytes += frame.size

    def _within_cap(self, queued: int) -> bool:
        cap = getattr(self.server, "send_buffer_bytes", None)
        if not cap:
            return True
        waiting = queued + (self._direct.buffered() if self._direct is not None else 0)
        if waiting <= cap:
            return True
        self._drop_slow_consumer(waiting)
        return False

    def _drop_slow_consumer(self, waiting: int) -> None:
        self.dropped = True
        log.warning(
            "socket dropped: slow consumer",
            extra={"eio_sid": self.sid, "waiting_bytes": waiting},
        )
        on_drop = getattr(self.server, "on_slow_consumer", None)
        if on_drop is not None:
            on_drop(self.sid)
        if self._direct is not None:
            self._direct.abort()  # the reader sees the connection end and cleans up
        self.server.start_background_task(self.close, wait=False, abort=True, reason=SLOW_CONSUMER)

    def abort_transport(self) -> bool:
        """End the websocket connection at once, as a network failure would (the
        client sees ``transport close`` and reconnects), after writing what was
        already offered to it; False on polling."""
        if self._direct is None:
            return False
        self.write_pending()
        self._direct.abort()
        return True

    async def poll(self) -> list[eio_packet.Packet]:
        """The packets of one long-polling response: python-engineio's, at most
        ``POLL_PACKETS`` of them (python-engineio's own client refuses a payload of
        more than 16 packets; the rest go in the next response)."""
        timeout = self.server.ping_interval + self.server.ping_timeout
        try:
            async with asyncio.timeout(timeout):
                first = await self.queue.get()
        except (TimeoutError, asyncio.CancelledError):
            raise engineio.exceptions.QueueEmpty() from None
        self.queue.task_done()
        if first is None:
            return []
        packets = [first]
        while len(packets) < POLL_PACKETS:
            try:
                pkt = self.queue.get_nowait()
            except asyncio.QueueEmpty:
                break
            self.queue.task_done()
            if pkt is None:
                self.queue.put_nowait(None)
                break
            packets.append(pkt)
        self._queued_bytes = 0 if self.queue.empty() else self._queued_bytes
        return packets

    async def _flush(self) -> None:
        """Write the queued packets in order, then let direct writes resume."""
        try:
            while not self.queue.empty():
                batch: list[eio_packet.Packet] = []
                closing = False
                while not self.queue.empty():
                    pkt = self.queue.get_nowait()
                    self.queue.task_done()
                    if pkt is None:
                        closing = True
                        break
                    batch.append(pkt)
                self._queued_bytes = 0 if self.queue.empty() else self._queued_bytes
                direct = self._direct
                if direct is not None:
                    await direct.protocol.writable.wait()
                    if not direct.write_frames([OutgoingFrame(batch)]):
                        return
                else:
                    for pkt in batch:
                        await self._ws.send(pkt.encode())
                if closing:
                    await self._ws.close()
                    return
        except Exception:  # the connection is gone: the reader ends the socket
            log.debug("websocket write failed", extra={"eio_sid": self.sid}, exc_info=True)
        finally:
            self._flusher = None

    # --- pings --------------------------------------------------------------------

    def schedule_ping(self) -> None:
        if self.last_ping:
            self.last_ping = None
            loop = asyncio.get_running_loop()
            self._ping_timer = loop.call_later(self.server.ping_interval, self._ping)

    def _ping(self) -> None:
        self._ping_timer = None
        if not self.closing and not self.closed:
            self.last_ping = time.time()
            self.offer(OutgoingFrame([eio_packet.Packet(eio_packet.PING)]))

    async def close(self, wait: bool = True, abort: bool = False, reason: Any = None) -> None:
        if self._ping_timer is not None:
            self._ping_timer.cancel()
            self._ping_timer = None
        await super().close(wait=wait, abort=abort, reason=reason)

    # --- the websocket transport -------------------------------------------------------

    async def _websocket_handler(self, ws: Any) -> None:
        """python-engineio's handler, with the reads in this task and the writes as
        above."""
        limit = self.server.max_http_buffer_size
        timeout = self.server.ping_interval + self.server.ping_timeout

        async def receive() -> Any:
            async with asyncio.timeout(timeout):
                data = await ws.wait()
            if data and len(data) > limit:
                raise ValueError("packet is too large")
            return data

        if self.connected:
            # An upgrade from polling: the probe, then the UPGRADE packet; packet
            # sends are held (queued) meanwhile.
            self.upgrading = True
            try:
                pkt = eio_packet.Packet(encoded_packet=await receive())
            except Exception:
                self.upgrading = False
                return
            if pkt.packet_type != eio_packet.PING or pkt.data != "probe":
                self.server.logger.info("%s: Failed websocket upgrade, no PING packet", self.sid)
                self.upgrading = False
                return
            await ws.send(eio_packet.Packet(eio_packet.PONG, data="probe").encode())
            self.queue.put_nowait(eio_packet.Packet(eio_packet.NOOP))  # end the poll
            try:
                pkt = eio_packet.Packet(encoded_packet=await receive())
            except Exception:
                self.upgrading = False
                return
            if pkt.packet_type != eio_packet.UPGRADE:
                self.upgraded = False
                self.server.logger.info(
                    "%s: Failed websocket upgrade, expected UPGRADE packet", self.sid
                )
                self.upgrading = False
                return
            self.upgraded = True
        else:
            self.connected = True
            self.upgraded = True

        self._ws = ws
        self._direct = _Direct.of(ws.asgi_send)
        self.upgrading = False
        self._queued_bytes = 0
        if not self.queue.empty() and self._flusher is None:
            # What was queued before the transport was ours (the OPEN packet, what
            # was held during the upgrade) goes first.
            self._flusher = asyncio.ensure_future(self._flush())

        while True:
            try:
                data = await receive()
            except Exception:
                break
            if data is None:
                break  # closed by the client
            try:
                await self.receive(eio_packet.Packet(encoded_packet=data))
            except engineio.exceptions.UnknownPacketError:
                pass
            except engineio.exceptions.SocketIsClosedError:
                break
            except Exception:
                self.server.logger.exception("Unknown receive error")

        self.write_pending()
        flusher = self._flusher
        if flusher is not None:
            self.queue.put_nowait(None)
            with contextlib.suppress(Exception):  # the connection is ending either way
                await flusher
        with contextlib.suppress(Exception):
            await ws.close()
        await self.close(wait=False, abort=True, reason=self.server.reason.TRANSPORT_CLOSE)


class _Sockets(dict[str, Any]):
    """The server's socket table: a socket put in it becomes an ``EngineSocket``
    (python-engineio creates its sockets inline, with no factory to override)."""

    def __setitem__(self, sid: str, socket: Any) -> None:
        if type(socket) is AsyncSocket:
            socket.__class__ = EngineSocket
        super().__setitem__(sid, socket)


class EngineServer(engineio.AsyncServer):  # type: ignore[misc]
    """python-engineio's server whose sockets are ``EngineSocket``."""

    def __init__(self, *args: Any, send_buffer_bytes: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sockets = _Sockets()
        self.send_buffer_bytes = send_buffer_bytes
        self.on_slow_consumer: Any = None
        self._dirty: list[EngineSocket] = []
        self._write_scheduled = False

    def write_soon(self, socket: EngineSocket) -> None:
        """Write ``socket``'s pending frames at the end of this turn of the loop."""
        self._dirty.append(socket)
        if not self._write_scheduled:
            self._write_scheduled = True
            asyncio.get_running_loop().call_soon(self._write_dirty)

    def _write_dirty(self) -> None:
        self._write_scheduled = False
        dirty, self._dirty = self._dirty, []
        for socket in dirty:
            try:
                socket.write_pending()
            except Exception:
                log.exception("websocket write failed", extra={"eio_sid": socket.sid})

    async def disconnect(self, sid: str | None = None) -> None:
        await super().disconnect(sid)
        if not isinstance(self.sockets, _Sockets):
            self.sockets = _Sockets(self.sockets)
