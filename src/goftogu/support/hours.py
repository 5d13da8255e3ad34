"""Business hours of a team (issue 18, item 3): a weekly schedule in the team's
time zone, and holidays (whole local days closed).

``BusinessHours.is_open(at)`` and ``next_opening(at)`` decide intake outside
hours; ``add_open_seconds(start, seconds)`` gives SLA deadlines that only count
open time. Times are local wall-clock times (``zoneinfo``), so a daylight
saving change moves the UTC instants, not the opening hours.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from goftogu.text import Line

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HorizonDays = 400  # how far ahead an opening is looked for (a year of holidays)

Clock = Annotated[Line, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")]


class Interval(BaseModel):
    """Open from ``start`` to ``end`` (local ``HH:MM``; ``end`` may be ``24:00``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: Clock
    end: Clock

    @model_validator(mode="after")
    def _ordered(self) -> Interval:
        if _minutes(self.end) <= _minutes(self.start):
            raise ValueError("an interval ends after it starts")
        return self


class BusinessHours(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    timezone: Line = Field(description="IANA time zone, e.g. Asia/Tehran")
    weekly: dict[Weekday, list[Interval]] = Field(
        description="open intervals per weekday; a day left out is closed"
    )
    holidays: list[date] = Field(default_factory=list, description="local days closed")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {value!r}") from error
        return value

    @field_validator("weekly")
    @classmethod
    def _not_overlapping(
        cls, value: dict[Weekday, list[Interval]]
    ) -> dict[Weekday, list[Interval]]:
        for day, intervals in value.items():
            ordered = sorted(intervals, key=lambda i: _minutes(i.start))
            for before, after in itertools.pairwise(ordered):
                if _minutes(after.start) < _minutes(before.end):
                    raise ValueError(f"intervals of {day} overlap")
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def _intervals_of(self, day: date) -> list[tuple[datetime, datetime]]:
        """The open spans of a local ``day`` as aware UTC datetimes, in order."""
        if day in self.holidays:
            return []
        spans = []
        for interval in sorted(self.weekly.get(WEEKDAYS[day.weekday()], []), key=_start):
            spans.append((self._at(day, interval.start), self._at(day, interval.end)))
        return spans

    def _at(self, day: date, clock: str) -> datetime:
        # Wall-clock time of that day (24:00 is the next midnight), then its zone.
        local = datetime.combine(day, time(0)) + timedelta(minutes=_minutes(clock))
        return local.replace(tzinfo=self.zone).astimezone(UTC)

    def _spans_from(self, at: datetime) -> list[tuple[datetime, datetime]]:
        """Open spans that end after ``at``, over the horizon (lazily enough: a list
        built day by day until one is found is what the callers need)."""
        start_day = at.astimezone(self.zone).date() - timedelta(days=1)
        result = []
        for offset in range(HorizonDays):
            for span in self._intervals_of(start_day + timedelta(days=offset)):
                if span[1] > at:
                    result.append(span)
            if result and offset > 1:
                return result
        return result

    def is_open(self, at: datetime) -> bool:
        return any(start <= at < end for start, end in self._spans_from(at)[:2])

    def next_opening(self, at: datetime) -> datetime | None:
        """When it next opens after ``at`` (``at`` itself when open now); None when no
        opening is scheduled within a year."""
        for start, end in self._spans_from(at):
            if start <= at < end:
                return at
            if start > at:
                return start
        return None

    def add_open_seconds(self, start: datetime, seconds: float) -> datetime | None:
        """The instant when ``seconds`` of open time have passed since ``start``."""
        remaining = timedelta(seconds=seconds)
        day = start.astimezone(self.zone).date() - timedelta(days=1)
        for offset in range(HorizonDays * 2):
            for span_start, span_end in self._intervals_of(day + timedelta(days=offset)):
                if span_end <= start:
                    continue
                begin = max(span_start, start)
                if begin + remaining <= span_end:
                    return begin + remaining
                remaining -= span_end - begin
        return None


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def _start(interval: Interval) -> int:
    return _minutes(interval.start)
