"""VAPID keys from settings, and which push endpoints may be stored."""

import pytest
from pydantic import ValidationError

from goftogu.notifications.subscriptions import EndpointRule
from goftogu.settings import Settings
from goftogu.vapid import VapidKeys, generate_vapid_keys


def test_a_generated_pair_parses_and_matches() -> None:
    public, private = generate_vapid_keys()
    keys = VapidKeys.parse(public, private, "mailto:ops@example.com")
    assert keys.public_key == public


def test_a_private_key_of_another_pair_is_refused_naming_the_setting() -> None:
    public, _ = generate_vapid_keys()
    _, other_private = generate_vapid_keys()
    with pytest.raises(ValidationError, match="does not belong") as caught:
        Settings(_env_file=None, vapid_public_key=public, vapid_private_key=other_private)  # type: ignore[call-arg]
    assert caught.value.errors()[0]["loc"] == ("vapid_private_key",)


def test_an_unreadable_private_key_is_refused() -> None:
    public, _ = generate_vapid_keys()
    with pytest.raises(ValueError, match="cannot be read"):
        VapidKeys.parse(public, "not-a-key", "mailto:ops@example.com")


def test_the_vapid_subject_must_be_a_contact_url() -> None:
    with pytest.raises(ValidationError, match="mailto"):
        Settings(_env_file=None, vapid_subject="ops@example.com")  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("endpoint", "allowed"),
    [
        ("https://fcm.googleapis.com/fcm/send/abc", True),
        ("https://updates.push.services.mozilla.com/wpush/v2/abc", True),
        ("https://web.push.apple.com/QAbc", True),
        ("https://wns2-par02p.notify.windows.com/w/?token=abc", True),
        ("http://fcm.googleapis.com/fcm/send/abc", False),
        ("https://evil.example/fcm.googleapis.com", False),
        ("https://fcm.googleapis.com.evil.example/x", False),
        ("https://10.0.0.5/admin", False),
        ("https://user:pw@fcm.googleapis.com/x", False),
        ("ftp://fcm.googleapis.com/x", False),
        ("http://127.0.0.1:8080/push/x", True),
        ("http://127.0.0.1:8081/push/x", False),
        # https on another port than 443 is not the push service
        ("https://fcm.googleapis.com:8443/fcm/send/abc", False),
        ("https://fcm.googleapis.com:22/x", False),
        ("https://fcm.googleapis.com:443/fcm/send/abc", True),
    ],
)
def test_only_known_push_services_are_accepted(endpoint: str, allowed: bool) -> None:
    rule = EndpointRule.parse(
        Settings(_env_file=None).push_endpoint_hosts + ",http://127.0.0.1:8080"
    )  # type: ignore[call-arg]
    assert rule.allows(endpoint) is allowed


def test_a_star_allows_any_https_host_but_not_plain_http() -> None:
    rule = EndpointRule.parse("*")
    assert rule.allows("https://push.example.org/x")
    assert not rule.allows("http://push.example.org/x")
    assert not rule.allows("https://push.example.org:6379/x")
