"""A gate takes on what it can finish: a bounded number at once, a bounded queue
served first come first served, and a deadline; the rest is refused at once."""

from __future__ import annotations

import asyncio
import time

import pytest

from goftogu.admission import AdmissionPolicy, Gate
from goftogu.errors import Overloaded


async def hold(gate: Gate, entered: list[int], n: int, release: asyncio.Event) -> None:
    async with gate.admit():
        entered.append(n)
        await release.wait()


async def test_past_its_places_and_its_queue_a_gate_refuses_at_once() -> None:
    gate = Gate("test", AdmissionPolicy(in_flight=2, queue=1, deadline_seconds=30))
    release, entered = asyncio.Event(), []
    holders = [asyncio.create_task(hold(gate, entered, n, release)) for n in range(3)]
    while gate.running < 2 or gate.waiting < 1:
        await asyncio.sleep(0)
    started = time.monotonic()
    with pytest.raises(Overloaded) as refused:
        async with gate.admit():
            pass
    assert time.monotonic() - started < 1  # not after the others' work
    assert refused.value.retry_after == 1
    assert entered == [0, 1]
    release.set()
    await asyncio.gather(*holders)
    assert entered == [0, 1, 2]  # the queued one had its turn
    assert (gate.running, gate.waiting) == (0, 0)


async def test_a_caller_that_waited_past_the_deadline_is_refused_and_its_turn_given_on() -> None:
    gate = Gate("test", AdmissionPolicy(in_flight=1, queue=5, deadline_seconds=0.05))
    release, entered = asyncio.Event(), []
    first = asyncio.create_task(hold(gate, entered, 0, release))
    while gate.running < 1:
        await asyncio.sleep(0)
    with pytest.raises(Overloaded):
        async with gate.admit():
            entered.append(99)
    assert gate.waiting == 0
    release.set()
    await first
    async with gate.admit():  # free again
        entered.append(1)
    assert entered == [0, 1]
    assert gate.running == 0


async def test_waiters_are_served_in_the_order_they_came() -> None:
    gate = Gate("test", AdmissionPolicy(in_flight=1, queue=10, deadline_seconds=30))
    release, entered = asyncio.Event(), []
    holders = [asyncio.create_task(hold(gate, entered, n, release)) for n in range(5)]
    while gate.waiting < 4:
        await asyncio.sleep(0)
    release.set()
    await asyncio.gather(*holders)
    assert entered == [0, 1, 2, 3, 4]
