"""The automatic reply to a conversation that arrives outside its team's business
hours (issue 18, item 3), in English and Persian in one message.

The next opening is named in the team's time zone: in English with the
Gregorian date, in Persian with the Solar Hijri (Jalali) date, Persian digits
and weekday names, as a Persian reader expects it. The customer's language is
not known at intake, so the message carries both (English first, then Persian
on its own line: the widget renders each line in its own direction).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
PERSIAN_WEEKDAYS = ("دوشنبه", "سه‌شنبه", "چهارشنبه", "پنجشنبه", "جمعه", "شنبه", "یکشنبه")
JALALI_MONTHS = (
    "فروردین",
    "اردیبهشت",
    "خرداد",
    "تیر",
    "مرداد",
    "شهریور",
    "مهر",
    "آبان",
    "آذر",
    "دی",
    "بهمن",
    "اسفند",
)


def to_jalali(year: int, month: int, day: int) -> tuple[int, int, int]:
    """Gregorian -> Solar Hijri (the arithmetic of jdf.scr.ir, valid 1900-2100)."""
    days_before = (0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334)
    gy2 = year + 1 if month > 2 else year
    days = (
        355666
        + 365 * year
        + (gy2 + 3) // 4
        - (gy2 + 99) // 100
        + (gy2 + 399) // 400
        + day
        + days_before[month - 1]
    )
    jy = -1595 + 33 * (days // 12053)
    days %= 12053
    jy += 4 * (days // 1461)
    days %= 1461
    if days > 365:
        jy += (days - 1) // 365
        days = (days - 1) % 365
    if days < 186:
        return jy, 1 + days // 31, 1 + days % 31
    return jy, 7 + (days - 186) // 30, 1 + (days - 186) % 30


def outside_hours_reply(team_name: str, opening: datetime | None, timezone: str) -> str:
    if opening is None:
        return (
            f"{team_name} is closed now and no opening is scheduled yet. Your message is "
            "saved as a ticket and we will answer as soon as we can.\n"
            f"{team_name} اکنون بسته است و زمان بازگشایی هنوز مشخص نیست. پیام شما به صورت "
            "تیکت ثبت شد و در اولین فرصت پاسخ می‌دهیم."
        )
    local = opening.astimezone(ZoneInfo(timezone))
    english_time = local.strftime("%A %-d %B %Y, %H:%M")
    jy, jm, jd = to_jalali(local.year, local.month, local.day)
    persian_time = (
        f"{PERSIAN_WEEKDAYS[local.weekday()]} {jd} {JALALI_MONTHS[jm - 1]} {jy}، ساعت {local:%H:%M}"
    ).translate(PERSIAN_DIGITS)
    return (
        f"{team_name} is closed now. We open again on {english_time} ({timezone}). "
        "Your message is saved as a ticket and we will answer then.\n"
        f"{team_name} اکنون بسته است. زمان بازگشایی: {persian_time} ({timezone}). "
        "پیام شما به صورت تیکت ثبت شد و در آن زمان پاسخ می‌دهیم."
    )
