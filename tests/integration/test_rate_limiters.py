"""One contract for both rate limiters: in-process and Redis."""

import time
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from goftogu.errors import RateLimited
from goftogu.ratelimit import RateLimiter, RateRule, enforce
from goftogu.ratelimit.memory import MemoryRateLimiter
from goftogu.ratelimit.redis import RedisRateLimiter
from tests.helpers.waiting import eventually


@pytest.fixture(params=["memory", "redis"])
async def limiter(request: pytest.FixtureRequest) -> AsyncIterator[RateLimiter]:
    if request.param == "memory":
        yield MemoryRateLimiter()
        return
    client = Redis.from_url(request.getfixturevalue("redis_url"))
    yield RedisRateLimiter(client)
    await client.aclose()


async def test_hits_within_the_limit_are_allowed(limiter: RateLimiter) -> None:
    rule = RateRule("t", 5, 60)
    assert [await limiter.hit("k", rule) for _ in range(5)] == [0.0] * 5


async def test_the_hit_past_the_limit_is_told_how_long_to_wait(limiter: RateLimiter) -> None:
    rule = RateRule("t", 3, 60)
    for _ in range(3):
        await limiter.hit("k", rule)
    wait = await limiter.hit("k", rule)
    assert 19 <= wait <= 20.1  # one slot frees every 60/3 seconds


async def test_keys_are_counted_apart(limiter: RateLimiter) -> None:
    rule = RateRule("t", 1, 60)
    assert await limiter.hit("a", rule) == 0
    assert await limiter.hit("b", rule) == 0
    assert await limiter.hit("a", rule) > 0


async def test_the_limit_recovers_with_time(limiter: RateLimiter) -> None:
    rule = RateRule("t", 2, 0.4)
    await limiter.hit("k", rule)
    await limiter.hit("k", rule)
    assert await limiter.hit("k", rule) > 0
    started = time.monotonic()
    await eventually(lambda: _allowed(limiter, "k", rule), what="a slot to free")
    assert time.monotonic() - started >= 0.1  # not at once: a slot frees every 0.2 s


async def test_enforce_raises_rate_limited_with_whole_seconds(limiter: RateLimiter) -> None:
    rule = RateRule("login", 1, 30)
    await enforce(limiter, rule, "sara")
    with pytest.raises(RateLimited) as raised:
        await enforce(limiter, rule, "sara")
    assert raised.value.retry_after == 30


def test_rules_are_parsed_from_settings_text() -> None:
    assert RateRule.parse("x", "10/60") == RateRule("x", 10, 60.0)
    with pytest.raises(ValueError, match="hits/seconds"):
        RateRule.parse("x", "0/60")


async def _allowed(limiter: RateLimiter, key: str, rule: RateRule) -> bool:
    return await limiter.hit(key, rule) == 0
