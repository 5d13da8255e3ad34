import time
import uuid

from goftogu.ids import new_id, parse_id
from tests.helpers.waiting import after_this_millisecond


def test_new_ids_are_version_7_with_the_rfc_variant() -> None:
    value = new_id()
    assert value.version == 7
    assert value.variant == uuid.RFC_4122


def test_new_ids_sort_by_creation_time_across_milliseconds() -> None:
    first = new_id()
    after_this_millisecond()
    second = new_id()
    assert str(first) < str(second)
    assert first.bytes < second.bytes


def test_new_ids_carry_the_current_unix_milliseconds() -> None:
    before = time.time_ns() // 1_000_000
    value = new_id()
    after = time.time_ns() // 1_000_000
    assert before <= value.int >> 80 <= after


def test_parse_id_answers_none_for_anything_that_is_not_a_uuid() -> None:
    assert parse_id("not-a-uuid") is None
    assert parse_id("") is None
    value = new_id()
    assert parse_id(str(value)) == value
