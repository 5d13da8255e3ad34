"""Ordered, exactly-once delivery of conversation events to each socket.

Every conversation event carries ``conversation`` and its ``seq`` (gap-free per
conversation, assigned in the transaction that made the change). For each
socket and conversation this node remembers the last seq it delivered (the
*watermark*). An event at or below it is a duplicate and is dropped; the next
one is sent; one further ahead means an event is missing (still in flight from
another task or node, or missed while the client was away), so it is held and
the gap is repaired from the database after a short wait.

Replay after a reconnect is the same mechanism: the client's cursor becomes the
watermark and a repair fills everything after it. Live events that arrive
during the replay are held or dropped by seq, so the boundary between the two
has neither a gap nor a duplicate, on whichever node the client lands.

The check runs in the client manager, on the path every emit takes to this
node's sockets, so it covers events from this process, from other gateway
nodes and from workers (through the Redis manager) alike.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import socketio
from engineio import packet as eio_packet
from socketio import packet

from goftogu.realtime.engine import EngineSocket, OutgoingFrame

log = logging.getLogger(__name__)

RepairPage = tuple[list[tuple[str, dict[str, Any]]], bool]
"""(event name, payload) pairs in seq order, and whether more may follow them."""

# Fetches a page of the events of ``conversation`` after ``after_seq`` that ``sid``
# may see.
RepairFetcher = Callable[[str, str, int], Awaitable[RepairPage]]

HOLD_SECONDS = 0.25  # how long an out-of-order event waits for the missing ones

# An emit with this event name is an instruction to every node, not a message to
# clients: move the local sockets of a user into or out of a room, or end the
# sockets of revoked sessions. It travels like
# any emit, so workers with a write-only Redis manager can send it too.
CONTROL_EVENT = "goftogu:control"


@dataclass
class _Stream:
    """Delivery state of one conversation on one socket."""

    watermark: int | None  # None: nothing delivered yet, accept the first live event
    held: dict[int, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    repair: asyncio.Task[None] | None = None


def sequenced(data: Any) -> tuple[str, int] | None:
    """(conversation, seq) when ``data`` is a conversation event, else None."""
    if isinstance(data, dict):
        conversation, seq = data.get("conversation"), data.get("seq")
        if isinstance(conversation, str) and isinstance(seq, int):
            return conversation, seq
    return None


SESSION_ENDED = "session:ended"


async def end_socket(server: socketio.AsyncServer, sid: str, reason: str) -> None:
    """``session:ended {reason}`` to this node's socket ``sid``, then disconnect it."""
    if not server.manager.is_connected(sid, "/"):
        return
    # The plain manager's emit: to this node's socket only, never republished.
    await socketio.AsyncManager.emit(server.manager, SESSION_ENDED, {"reason": reason}, "/", to=sid)
    await server.disconnect(sid, namespace="/", ignore_queue=True)


class OrderedDelivery(socketio.AsyncManager):  # type: ignore[misc]
    """Local delivery with per-socket, per-conversation ordering and dedupe.

    Sits below ``AsyncPubSubManager`` in the MRO of the Redis variant, so events
    arriving from other nodes pass through ``emit`` here too.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._streams: dict[str, dict[str, _Stream]] = {}
        self.fetch_repair: RepairFetcher | None = None

    # --- the hot path ---------------------------------------------------------

    async def emit(
        self,
        event: str,
        data: Any,
        namespace: str,
        room: str | None = None,
        skip_sid: Any = None,
        callback: Any = None,
        to: str | None = None,
        **kwargs: Any,
    ) -> None:
        if event == CONTROL_EVENT:
            await self._control(data, namespace)
            return
        target = sequenced(data)
        if target is None or callback is not None or namespace not in self.rooms:
            await super().emit(
                event,
                data,
                namespace,
                room=room,
                skip_sid=skip_sid,
                callback=callback,
                to=to,
                **kwargs,
            )
            return
        conversation, seq = target
        skip = set(skip_sid) if isinstance(skip_sid, list) else {skip_sid}
        frame = self._encode(event, data, namespace)
        for sid, eio_sid in list(self.get_participants(namespace, to or room)):
            if sid not in skip:
                self._offer(sid, eio_sid, conversation, seq, event, data, frame)

    def _offer(
        self,
        sid: str,
        eio_sid: str,
        conversation: str,
        seq: int,
        event: str,
        data: dict[str, Any],
        frame: OutgoingFrame | None = None,
    ) -> None:
        streams = self._streams.setdefault(sid, {})
        stream = streams.get(conversation)
        if stream is None:
            stream = streams[conversation] = _Stream(watermark=None)
        if stream.watermark is not None and seq <= stream.watermark:
            return  # already delivered
        if stream.watermark is None or seq == stream.watermark + 1:
            self._send(eio_sid, frame or self._encode(event, data, "/"))
            stream.watermark = seq
            self._release_held(sid, eio_sid, stream)
            return
        stream.held[seq] = (event, data)
        if stream.repair is None:
            stream.repair = asyncio.create_task(self._repair_after_hold(sid, conversation))

    def _release_held(self, sid: str, eio_sid: str, stream: _Stream) -> None:
        if not stream.held:
            return
        while stream.watermark is not None and stream.watermark + 1 in stream.held:
            event, data = stream.held.pop(stream.watermark + 1)
            self._send(eio_sid, self._encode(event, data, "/"))
            stream.watermark += 1
        # Anything at or below the watermark that is still held is a duplicate.
        for seq in [
            s for s in stream.held if stream.watermark is not None and s <= stream.watermark
        ]:
            del stream.held[seq]

    def _encode(self, event: str, data: Any, namespace: str) -> OutgoingFrame:
        """The packet encoded once, for every socket it goes to."""
        pkt = self.server.packet_class(packet.EVENT, namespace=namespace, data=[event, data])
        encoded = pkt.encode()
        parts = encoded if isinstance(encoded, list) else [encoded]
        return OutgoingFrame([eio_packet.Packet(eio_packet.MESSAGE, part) for part in parts])

    def _send(self, eio_sid: str, frame: OutgoingFrame) -> None:
        """Hand the packets to the socket, in order, without a task per recipient:
        written at once when its transport is free, else queued behind what waits
        (realtime/engine.py; a socket over its send buffer cap is dropped there)."""
        socket = self.server.eio.sockets.get(eio_sid)
        if socket is None or socket.closed:
            return
        if isinstance(socket, EngineSocket):
            socket.offer(frame)
            return
        for part in frame.packets:
            socket.queue.put_nowait(part)

    # --- replay and repair -----------------------------------------------------

    def prime(self, sid: str, conversation: str, after_seq: int) -> None:
        """Start ``sid``'s stream of ``conversation`` at the client's cursor."""
        self._streams.setdefault(sid, {})[conversation] = _Stream(watermark=after_seq)

    async def replay(self, sid: str, conversation: str, after_seq: int) -> int:
        """Deliver to ``sid`` every event of ``conversation`` after ``after_seq`` not yet
        delivered, then keep it ordered from there; returns the new watermark."""
        streams = self._streams.setdefault(sid, {})
        stream = streams.get(conversation)
        if stream is None or stream.watermark is None or stream.watermark < after_seq:
            held = stream.held if stream else {}
            stream = streams[conversation] = _Stream(watermark=after_seq, held=held)
        await self._repair(sid, conversation)
        return stream.watermark or after_seq

    def watermark(self, sid: str, conversation: str) -> int | None:
        stream = self._streams.get(sid, {}).get(conversation)
        return stream.watermark if stream else None

    async def _repair_after_hold(self, sid: str, conversation: str) -> None:
        try:
            await asyncio.sleep(HOLD_SECONDS)
            await self._repair(sid, conversation)
        finally:
            stream = self._streams.get(sid, {}).get(conversation)
            if stream is not None:
                stream.repair = None
                if stream.held:  # still a gap (events the fetch could not see yet): try again
                    stream.repair = asyncio.create_task(self._repair_after_hold(sid, conversation))

    async def _repair(self, sid: str, conversation: str) -> None:
        stream = self._streams.get(sid, {}).get(conversation)
        eio_sid = self.eio_sid_from_sid(sid, "/")
        if stream is None or eio_sid is None or self.fetch_repair is None:
            return
        while True:
            after = stream.watermark or 0
            try:
                events, more = await self.fetch_repair(sid, conversation, after)
            except Exception:
                log.exception(
                    "replay fetch failed", extra={"sid": sid, "conversation": conversation}
                )
                return
            if self._streams.get(sid, {}).get(conversation) is not stream:
                return  # the socket left while the page was read
            for event, data in events:
                target = sequenced(data)
                if target is not None:
                    self._offer(sid, eio_sid, conversation, target[1], event, data)
            if not more or (events and (stream.watermark or 0) <= after):
                # Everything up to the read is delivered (what is newer comes live), or
                # the page could not be delivered (the socket is gone).
                return

    # --- membership moves ------------------------------------------------------------

    async def _control(self, data: Any, namespace: str) -> None:
        if not isinstance(data, dict) or namespace not in self.rooms:
            return
        if data.get("op") == "end":
            await self._end(data, namespace)
            return
        op, user_room, room = data.get("op"), data.get("user_room"), data.get("room")
        if not isinstance(user_room, str) or not isinstance(room, str):
            return
        for sid, _eio_sid in list(self.get_participants(namespace, user_room)):
            if op == "join":
                # The plain manager's method: acting on this node's own socket.
                await socketio.AsyncManager.enter_room(self, sid, namespace, room)
            elif op == "leave":
                await socketio.AsyncManager.leave_room(self, sid, namespace, room)
                self.forget_conversation(sid, room)

    async def _end(self, data: dict[str, Any], namespace: str) -> None:
        """Tell this node's sockets in ``rooms`` (sessions) ``session:ended``, then
        disconnect them (the frame is queued before the disconnect, so it arrives)."""
        rooms, reason = data.get("rooms"), data.get("reason")
        if not isinstance(rooms, list) or not isinstance(reason, str):
            return
        for room in rooms:
            if not isinstance(room, str):
                continue
            for sid, _eio_sid in list(self.get_participants(namespace, room)):
                await end_socket(self.server, sid, reason)

    # --- bookkeeping ---------------------------------------------------------------

    async def disconnect(self, sid: str, namespace: str, **kwargs: Any) -> Any:
        self.forget(sid)
        return await super().disconnect(sid, namespace, **kwargs)

    async def aclose(self) -> None:
        """Release what the manager holds (nothing here; the Redis variant its client)."""

    def forget(self, sid: str) -> None:
        for stream in self._streams.pop(sid, {}).values():
            if stream.repair is not None:
                stream.repair.cancel()

    def forget_conversation(self, sid: str, conversation: str) -> None:
        stream = self._streams.get(sid, {}).pop(conversation, None)
        if stream is not None and stream.repair is not None:
            stream.repair.cancel()


PUBLISH_POOL_SIZE = 32
PUBLISH_ATTEMPTS = 5
PUBLISH_BATCH = 500  # messages in one PUBLISH at most


class OrderedRedisManager(socketio.AsyncRedisManager, OrderedDelivery):  # type: ignore[misc]
    """The Redis fan-out between nodes, with ordered delivery on each node.

    python-socketio's pub/sub manager already delivers an emit to this node's
    sockets first and then publishes it. Three changes, each measured by
    bench/fanout.py (``relay-redis`` against ``relay``):

    - its client uses a blocking connection pool (the default pool fails at once
      when busy, and the stock manager then drops the emit);
    - what this node publishes while a publish is in flight goes out as one
      batch, ``{"b": <host id>, "m": [message, ...]}``, in one PUBLISH, by one
      background task (so the node's emits stay in order);
    - every node receives its own publications back from Redis: a batch of this
      node's is recognised by its first bytes and skipped unparsed (the stock
      manager parsed each one to find it was its own).

    Single messages (python-socketio's write-only managers in workers and
    notifiers publish those) are handled as before.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._outgoing: list[Any] = []
        self._publisher: asyncio.Task[None] | None = None

    def _redis_connect(self) -> None:
        from redis.asyncio import BlockingConnectionPool, Redis

        pool = BlockingConnectionPool.from_url(
            self.redis_url, max_connections=PUBLISH_POOL_SIZE, timeout=10, **self.redis_options
        )
        self.redis = Redis.from_pool(pool)
        self.pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        self.connected = True

    async def aclose(self) -> None:
        """Send what is queued, stop listening and close the Redis client."""
        if self._publisher is not None:
            await asyncio.gather(self._publisher, return_exceptions=True)
        listener = getattr(self, "thread", None)
        if isinstance(listener, asyncio.Task):
            listener.cancel()
            await asyncio.gather(listener, return_exceptions=True)
        if self.connected:
            self.connected = False
            await self.redis.aclose()

    async def _publish(self, data: Any) -> None:
        self._outgoing.append(data)
        if self._publisher is None or self._publisher.done():
            self._publisher = asyncio.create_task(self._drain())

    def _batch_prefix(self) -> bytes:
        return f'{{"b":"{self.host_id}"'.encode()

    async def _drain(self) -> None:
        while self._outgoing:
            batch = self._outgoing[:PUBLISH_BATCH]
            del self._outgoing[:PUBLISH_BATCH]
            # Written by hand so that its first bytes are exactly _batch_prefix().
            payload = f'{{"b":"{self.host_id}","m":{self.json.dumps(batch)}}}'
            for attempt in range(PUBLISH_ATTEMPTS):
                try:
                    if not self.connected:
                        self._redis_connect()
                    await self.redis.publish(self.channel, payload)
                    break
                except Exception:
                    log.warning("fan-out publish failed; retrying", exc_info=True)
                    self.connected = False
                    await asyncio.sleep(0.05 * 2**attempt)
            else:
                log.error("fan-out publish gave up", extra={"messages": len(batch)})

    async def _listen(self) -> Any:
        own = self._batch_prefix()
        async for raw in super()._listen():
            if isinstance(raw, bytes) and raw.startswith(own):
                continue  # this node's own batch: delivered here before it was published
            try:
                data = self.json.loads(raw)
            except Exception:
                log.warning("unreadable fan-out message skipped")
                continue
            if isinstance(data, dict) and isinstance(data.get("m"), list) and "b" in data:
                for message in data["m"]:
                    if isinstance(message, dict):
                        yield message
            elif isinstance(data, dict):
                yield data
