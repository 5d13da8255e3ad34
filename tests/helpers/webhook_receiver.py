"""A real HTTP receiver of webhooks on 127.0.0.1 (aiohttp): it checks every
signature, counts every delivery, and answers what the test scripted.

Usable in-process (``async with Receiver() as receiver``) or as its own process
(``python -m tests.helpers.webhook_receiver PORT SECRET LOG``: one JSON line per
delivery appended to LOG, flushed, so a test reads it from outside).
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from goftogu.webhooks.signing import SIGNATURE_HEADER, verify


@dataclass
class Received:
    event_id: str
    delivery_id: str
    event_type: str
    attempt: int
    signed: bool
    body: dict[str, Any]
    answered: int = 0


@dataclass
class Receiver:
    secret: str = ""
    script: list[int] = field(default_factory=list)  # statuses to answer first, then 200
    always: int | None = None  # answer this to everything
    received: list[Received] = field(default_factory=list)
    log: Path | None = None
    port: int = 0
    # Called with each delivery before answering; a status it returns is the answer.
    on_delivery: Callable[[Received], int | None] | None = None

    async def handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        signed = bool(self.secret) and verify(
            self.secret, request.headers.get(SIGNATURE_HEADER, ""), raw
        )
        got = Received(
            event_id=request.headers.get("Goftogu-Event-Id", ""),
            delivery_id=request.headers.get("Goftogu-Delivery-Id", ""),
            event_type=request.headers.get("Goftogu-Event-Type", ""),
            attempt=int(request.headers.get("Goftogu-Delivery-Attempt", "0")),
            signed=signed,
            body=json.loads(raw),
        )
        self.received.append(got)
        override = self.on_delivery(got) if self.on_delivery else None
        if not signed:
            got.answered = 401
        else:
            got.answered = override or self.always or (self.script.pop(0) if self.script else 200)
        if self.log is not None:
            with self.log.open("a") as out:
                out.write(json.dumps(got.__dict__) + "\n")
        return web.Response(status=got.answered, text="ok")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def counts(self) -> Counter[str]:
        """Deliveries per event id (signed ones)."""
        return Counter(r.event_id for r in self.received if r.signed)

    def accepted(self) -> Counter[str]:
        """Deliveries answered 2xx, per event id: what the receiver took in."""
        return Counter(r.event_id for r in self.received if r.signed and r.answered < 300)

    def of_type(self, event_type: str) -> list[Received]:
        return [r for r in self.received if r.event_type == event_type]

    async def __aenter__(self) -> Receiver:
        app = web.Application()
        app.router.add_post("/hooks", self.handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._runner.cleanup()


async def _serve(port: int, secret: str, log: Path) -> None:
    async with Receiver(secret=secret, log=log, port=port):
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(_serve(int(sys.argv[1]), sys.argv[2], Path(sys.argv[3])))
