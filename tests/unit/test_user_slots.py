"""A user's events take turns through a few slots; other users have their own."""

import asyncio

from goftogu.realtime.handlers import UserSlots


async def test_one_user_gets_at_most_its_slots_while_another_is_not_kept_waiting() -> None:
    slots = UserSlots(2)
    running: dict[str, int] = {"flood": 0, "other": 0}
    most = {"flood": 0, "other": 0}
    release = asyncio.Event()

    async def event(user: str) -> None:
        async with slots.slot(user):
            running[user] += 1
            most[user] = max(most[user], running[user])
            await release.wait()
            running[user] -= 1

    flood = [asyncio.create_task(event("flood")) for _ in range(20)]
    other = asyncio.create_task(event("other"))
    while running["other"] == 0:
        await asyncio.sleep(0)
    assert running == {"flood": 2, "other": 1}  # the flood waits its turn, the other is served
    release.set()
    await asyncio.gather(*flood, other)
    assert most == {"flood": 2, "other": 1}
    assert slots._slots == {}  # nothing kept for users who are done
