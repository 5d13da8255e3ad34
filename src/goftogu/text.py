"""The one rule for text that comes in, and the repair of text that is stored.

Every text field of every entry point (REST bodies, query and path parameters,
Socket.IO event payloads, queue messages, CLI options) is one of the types
below, so it is refused the same way — ``validation_error``, before anything is
written — when it holds a character no store or encoder takes for granted:

- a lone surrogate (U+D800..U+DFFF): not encodable as UTF-8, so a JSON answer,
  a BSON document, a PostgreSQL ``text`` or ``jsonb`` value cannot hold it;
- a control character (Unicode category Cc: U+0000..U+001F, U+007F..U+009F),
  NUL included (PostgreSQL refuses it in text), except tab, line feed and
  carriage return in multi-line ``Text``;
- in a one-line ``Line``, also tab, line breaks and the line/paragraph
  separators U+2028/U+2029.

Readers never trust that rule alone: a document stored before it (or by a
store that keeps whatever it is given) is ``repaired`` when read — each refused
character becomes U+FFFD — so one bad row can never fail a whole list.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, SecretStr
from pydantic_core import PydanticCustomError

# Category Cc is exactly these two ranges; surrogates are category Cs.
_REFUSED_IN_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_REFUSED_IN_LINE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\u2028\u2029]")
REPLACEMENT = "\ufffd"
# What can make a file name read other than it is ("invoice\u202egnp.exe" shows as
# "invoiceexe.png"): the bidi embeddings, overrides and isolates, the directional
# marks, and line/paragraph separators; with the control characters (category Cc).
# Not the joiners (U+200C ZWNJ is part of written Persian).
_UNSAFE_IN_FILENAME = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]"
)


def refused_character(value: str, *, line: bool = False) -> str | None:
    """The first character ``value`` may not hold, or None."""
    found = (_REFUSED_IN_LINE if line else _REFUSED_IN_TEXT).search(value)
    return found.group() if found else None


def _check(value: str, *, line: bool) -> str:
    bad = refused_character(value, line=line)
    if bad is not None:
        kind = "lone surrogate" if "\ud800" <= bad <= "\udfff" else "control character"
        raise PydanticCustomError(
            "text_characters",
            "must not contain the {kind} U+{code} (NUL, control characters and lone "
            "surrogates are refused{line})",
            {"kind": kind, "code": f"{ord(bad):04X}", "line": "; one line only" if line else ""},
        )
    return value


def check_text(value: str) -> str:
    """``value`` if it is acceptable multi-line text, else a pydantic error."""
    return _check(value, line=False)


def check_line(value: str) -> str:
    """``value`` if it is acceptable one-line text, else a pydantic error."""
    return _check(value, line=True)


def _check_secret(value: SecretStr) -> SecretStr:
    _check(value.get_secret_value(), line=True)
    return value


class TextRule:
    """Marks a type as carrying the text rule (``tests/unit/test_text_rule.py``
    checks that every text field of every entry point carries it)."""

    def __repr__(self) -> str:
        return "TextRule()"


TEXT_RULE = TextRule()

# Multi-line text: message bodies, descriptions.
Text = Annotated[str, AfterValidator(check_text), TEXT_RULE]
# One line: names, titles, ids, cursors, search terms, client ids.
Line = Annotated[str, AfterValidator(check_line), TEXT_RULE]
# Passwords: one line, never echoed back.
Secret = Annotated[SecretStr, AfterValidator(_check_secret), TEXT_RULE]


def safe_filename(value: str) -> str:
    """``value`` without the characters that can disguise a file name: control
    characters, lone surrogates and bidi controls are removed (not replaced, so
    nothing is left to show where they were)."""
    return _UNSAFE_IN_FILENAME.sub("", value)


def repaired_text(value: str) -> str:
    """``value`` with every refused character (multi-line rule) replaced by U+FFFD."""
    return _REFUSED_IN_TEXT.sub(REPLACEMENT, value)


def repaired(value: Any) -> Any:
    """A stored document with its text repaired, recursively (dicts, lists, str);
    the very same object when nothing needed a repair."""
    if isinstance(value, str):
        return repaired_text(value) if _REFUSED_IN_TEXT.search(value) else value
    if isinstance(value, dict):
        items = {key: repaired(item) for key, item in value.items()}
        return items if any(items[k] is not value[k] for k in value) else value
    if isinstance(value, list):
        elements = [repaired(item) for item in value]
        return elements if any(a is not b for a, b in zip(elements, value, strict=True)) else value
    return value
