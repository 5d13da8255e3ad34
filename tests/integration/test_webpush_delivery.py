"""Web Push to a local push service that checks VAPID and decrypts like a browser."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from goftogu.notifications.failures import PermanentFailure, SubscriptionGone, TransientFailure
from goftogu.notifications.webpush import PushTarget, WebPushSender
from goftogu.vapid import VapidKeys, generate_vapid_keys
from tests.helpers.webpush import Browser, PushService

SUBJECT = "mailto:ops@goftogu.example"


@pytest.fixture
def keys() -> VapidKeys:
    public, private = generate_vapid_keys()
    return VapidKeys.parse(public, private, SUBJECT)


@pytest.fixture
def service(keys: VapidKeys) -> Iterator[PushService]:
    push = PushService(keys.public_key).start()
    yield push
    push.stop()


def target(browser: Browser) -> PushTarget:
    keys = browser.subscription["keys"]
    return PushTarget(browser.endpoint, keys["p256dh"], keys["auth"])


async def test_the_browser_decrypts_the_payload_and_the_vapid_signature_holds(
    service: PushService, keys: VapidKeys
) -> None:
    browser = service.browser()
    payload = {"title": "سارا", "body": "سلام! کجایی؟", "url": "https://chat.example/c/1"}

    await WebPushSender(keys).send(
        target(browser), payload, ttl=600, urgency="high", topic="conversation1"
    )

    assert browser.received == [payload]
    assert service.refusals == []
    headers = browser.headers[0]
    assert (headers["ttl"], headers["urgency"], headers["topic"]) == (
        "600",
        "high",
        "conversation1",
    )


async def test_a_push_signed_with_another_key_is_refused_by_the_service(
    service: PushService,
) -> None:
    public, private = generate_vapid_keys()
    impostor = WebPushSender(VapidKeys.parse(public, private, SUBJECT))
    browser = service.browser()

    with pytest.raises(PermanentFailure, match="401"):
        await impostor.send(target(browser), {"title": "x"}, ttl=60)
    assert browser.received == []
    assert [r.reason for r in service.refusals] == ["k is not the application server's key"]


async def test_a_410_means_the_subscription_is_gone(service: PushService, keys: VapidKeys) -> None:
    browser = service.browser(answer=410)
    with pytest.raises(SubscriptionGone, match="410"):
        await WebPushSender(keys).send(target(browser), {"title": "x"}, ttl=60)


async def test_a_404_means_the_subscription_is_gone(keys: VapidKeys, service: PushService) -> None:
    stranger = Browser(f"{service.origin}/push/unknown")
    with pytest.raises(SubscriptionGone, match="404"):
        await WebPushSender(keys).send(target(stranger), {"title": "x"}, ttl=60)


async def test_a_server_error_is_transient_and_a_bad_request_permanent(
    service: PushService, keys: VapidKeys
) -> None:
    sender = WebPushSender(keys)
    with pytest.raises(TransientFailure, match="500"):
        await sender.send(target(service.browser(answer=500)), {"title": "x"}, ttl=60)
    with pytest.raises(TransientFailure, match="429"):
        await sender.send(target(service.browser(answer=429)), {"title": "x"}, ttl=60)
    with pytest.raises(PermanentFailure, match="400"):
        await sender.send(target(service.browser(answer=400)), {"title": "x"}, ttl=60)


async def test_an_unreachable_push_service_is_transient(keys: VapidKeys) -> None:
    from tests.helpers.smtp import free_port

    nowhere = Browser(f"http://127.0.0.1:{free_port()}/push/x")
    with pytest.raises(TransientFailure, match="unreachable"):
        await WebPushSender(keys).send(target(nowhere), {"title": "x"}, ttl=60)
