"""What a handler's exception means for its message."""

from __future__ import annotations

from goftogu.errors import NotFound, ServiceUnavailable
from goftogu.queueing import QueuePolicy, Reject, Retry
from goftogu.queueing.failures import settle_failure, too_many_redeliveries

POLICY = QueuePolicy(max_attempts=4, retry_base_seconds=1.0, retry_max_seconds=5.0)


def test_backoff_doubles_per_attempt_up_to_the_maximum() -> None:
    assert [POLICY.backoff(n) for n in (1, 2, 3, 4, 5)] == [1.0, 2.0, 4.0, 5.0, 5.0]


def test_any_exception_is_retried_with_the_policys_backoff() -> None:
    verdict = settle_failure(ConnectionError("reset"), 2, POLICY)
    assert (verdict.dead, verdict.delay, verdict.error) == (False, 2.0, "ConnectionError: reset")


def test_retry_may_name_its_own_delay() -> None:
    assert settle_failure(Retry(0.25), 1, POLICY).delay == 0.25


def test_the_last_attempt_dead_letters_with_the_error() -> None:
    verdict = settle_failure(Retry(0.25, "still busy"), 4, POLICY)
    assert (verdict.dead, verdict.reason) == (True, "max_attempts")


def test_reject_and_client_domain_errors_are_permanent_but_outages_are_not() -> None:
    assert settle_failure(Reject("spam"), 1, POLICY).reason == "rejected"
    assert settle_failure(NotFound(), 1, POLICY).error == "not_found: Not found."
    assert settle_failure(ServiceUnavailable(), 1, POLICY).dead is False


def test_a_message_redelivered_past_the_maximum_is_dead() -> None:
    assert too_many_redeliveries(4, POLICY) is None
    verdict = too_many_redeliveries(5, POLICY)
    assert verdict is not None
    assert verdict.reason == "max_attempts"
