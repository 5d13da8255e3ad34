"""Text direction for right-to-left content (Persian, Arabic, Hebrew).

Email clients are inconsistent with ``dir="auto"`` (Outlook ignores it), so
every block of user content gets an explicit ``dir`` computed here, and
plain-text paragraphs that must read right to left start with a RIGHT-TO-LEFT
MARK, which every Unicode bidi implementation honours.
"""

from __future__ import annotations

import unicodedata
from typing import Literal

Direction = Literal["ltr", "rtl"]

RLM = "\u200f"
LRM = "\u200e"
FSI = "\u2068"  # FIRST STRONG ISOLATE ... POP DIRECTIONAL ISOLATE: a name inside a sentence
PDI = "\u2069"
_RTL_CLASSES = frozenset({"R", "AL"})


def direction_of(text: str) -> Direction:
    """``rtl`` when most strongly-directional letters of ``text`` are right-to-left."""
    rtl = ltr = 0
    for char in text:
        kind = unicodedata.bidirectional(char)
        if kind in _RTL_CLASSES:
            rtl += 1
        elif kind == "L":
            ltr += 1
    return "rtl" if rtl > ltr else "ltr"


def plain_paragraph(text: str, direction: Direction, document: Direction = "ltr") -> str:
    """``text`` for a text/plain body: each line of a right-to-left paragraph
    starts with a RIGHT-TO-LEFT MARK, so a leading Latin word or digit does not
    flip it; in a right-to-left document a left-to-right paragraph starts with a
    LEFT-TO-RIGHT MARK for the same reason."""
    if direction == "rtl":
        mark = RLM
    elif document == "rtl":
        mark = LRM
    else:
        return text
    return "\n".join(mark + line if line else line for line in text.split("\n"))


_PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


def localised_digits(text: str, language: str) -> str:
    """``text`` with Persian digits when ``language`` is Persian."""
    return text.translate(_PERSIAN_DIGITS) if language == "fa" else text


def localised_number(value: int, language: str) -> str:
    return localised_digits(str(value), language)
