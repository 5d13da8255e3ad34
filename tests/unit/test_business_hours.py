"""Business hours (issue 18, item 3): open or not, the next opening across nights,
weekends, holidays and a daylight-saving change, open time added for SLA
deadlines, and the automatic reply naming the opening in English and Persian."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from goftogu.support.autoreply import outside_hours_reply, to_jalali
from goftogu.support.hours import BusinessHours


def hours(**extra: object) -> BusinessHours:
    weekdays = {day: [{"start": "09:00", "end": "17:00"}] for day in ("mon", "tue", "wed", "thu")}
    return BusinessHours.model_validate(
        {
            "timezone": "Europe/Berlin",
            "weekly": {**weekdays, "sat": [], **extra.pop("weekly", {})},
            **extra,
        }
    )


def berlin(text: str) -> datetime:
    from zoneinfo import ZoneInfo

    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo("Europe/Berlin"))


def test_open_within_an_interval_and_closed_outside_it() -> None:
    week = hours()
    assert week.is_open(berlin("2026-12-02T09:00"))  # a Wednesday, as it opens
    assert week.is_open(berlin("2026-12-02T16:59"))
    assert not week.is_open(berlin("2026-12-02T17:00"))  # the end is not open
    assert not week.is_open(berlin("2026-12-02T08:59"))
    assert not week.is_open(berlin("2026-12-04T12:00"))  # Friday: not listed


def test_the_next_opening_skips_the_night_the_weekend_and_holidays() -> None:
    week = hours(holidays=["2026-12-07"])
    assert week.next_opening(berlin("2026-12-02T20:00")) == berlin("2026-12-03T09:00")
    # Thursday evening -> (Friday, weekend closed, Monday a holiday) -> Tuesday.
    assert week.next_opening(berlin("2026-12-03T18:00")) == berlin("2026-12-08T09:00")
    assert week.next_opening(berlin("2026-12-02T10:00")) == berlin("2026-12-02T10:00")  # open now


def test_opening_hours_are_wall_clock_times_across_a_daylight_saving_change() -> None:
    week = hours(weekly={"sun": [{"start": "09:00", "end": "10:00"}]})
    # 29 March 2026: Berlin moves from UTC+1 to UTC+2; 09:00 is 07:00 UTC that day.
    assert week.next_opening(berlin("2026-03-28T20:00")) == datetime(2026, 3, 29, 7, tzinfo=UTC)


def test_an_interval_may_end_at_midnight_and_nothing_scheduled_has_no_opening() -> None:
    late = BusinessHours.model_validate(
        {"timezone": "UTC", "weekly": {"mon": [{"start": "20:00", "end": "24:00"}]}}
    )
    assert late.is_open(datetime(2026, 11, 30, 23, 59, tzinfo=UTC))
    assert not late.is_open(datetime(2026, 12, 1, 0, 0, tzinfo=UTC))
    never = BusinessHours.model_validate({"timezone": "UTC", "weekly": {}})
    assert never.next_opening(datetime(2026, 12, 1, tzinfo=UTC)) is None


def test_open_seconds_are_added_only_while_open() -> None:
    week = hours()
    # Two hours of open time from Wednesday 16:00: one today, one Thursday 09-10.
    assert week.add_open_seconds(berlin("2026-12-02T16:00"), 7200) == berlin("2026-12-03T10:00")
    # From a closed moment the clock starts at the opening.
    assert week.add_open_seconds(berlin("2026-12-04T12:00"), 60) == berlin("2026-12-07T09:01")
    assert week.add_open_seconds(berlin("2026-12-02T10:00"), 0) == berlin("2026-12-02T10:00")


@pytest.mark.parametrize(
    "bad",
    [
        {"timezone": "Nowhere/Else", "weekly": {}},
        {"timezone": "UTC", "weekly": {"mon": [{"start": "9:00", "end": "17:00"}]}},
        {"timezone": "UTC", "weekly": {"mon": [{"start": "10:00", "end": "10:00"}]}},
        {"timezone": "UTC", "weekly": {"fun": []}},
        {
            "timezone": "UTC",
            "weekly": {
                "mon": [{"start": "09:00", "end": "12:00"}, {"start": "11:59", "end": "13:00"}]
            },
        },
        {"timezone": "UTC", "weekly": {}, "holidays": ["someday"]},
    ],
)
def test_bad_hours_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        BusinessHours.model_validate(bad)


def test_the_jalali_date_of_known_days() -> None:
    assert to_jalali(2026, 12, 2) == (1405, 9, 11)
    assert to_jalali(2025, 3, 21) == (1404, 1, 1)  # Nowruz
    assert to_jalali(2024, 3, 20) == (1403, 1, 1)


def test_the_reply_names_the_opening_in_english_and_in_persian() -> None:
    opening = datetime(2026, 12, 5, 5, 30, tzinfo=UTC)  # 09:00 in Tehran, a Saturday
    english, persian = outside_hours_reply("Sales", opening, "Asia/Tehran").split("\n")
    assert "Saturday 5 December 2026, 09:00 (Asia/Tehran)" in english
    assert "شنبه ۱۴ آذر ۱۴۰۵، ساعت ۰۹:۰۰" in persian
    unscheduled = outside_hours_reply("Sales", None, "UTC")
    assert "no opening is scheduled" in unscheduled
