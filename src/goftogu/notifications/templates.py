"""Rendering notifications from the templates in ``templates/``.

Email bodies are ``string.Template`` files (``digest.txt``, ``digest.html``,
``item.*``, ``layout.html``); every phrase lives in ``<language>.ini``, so a
translation is one file. HTML gets every value escaped, names in ``<bdi>``,
each quoted message in a block with its own ``dir``, and the document
``dir="rtl"`` for right-to-left languages; plain text gets bidi isolates around
names and marks on right-to-left paragraphs (see ``bidi``).
"""

from __future__ import annotations

import configparser
import html
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import resources
from string import Template

from goftogu.notifications.bidi import (
    FSI,
    PDI,
    Direction,
    direction_of,
    localised_digits,
    localised_number,
    plain_paragraph,
)

LANGUAGES = ("en", "fa")
RTL_LANGUAGES = frozenset({"fa"})
PREVIEW_LENGTH = 300
_ITEMS = "\x00items\x00"  # where quoted messages go, after the chrome got its marks


@dataclass(frozen=True)
class Line:
    """One message quoted in an email."""

    sender: str
    text: str
    at: datetime


@dataclass(frozen=True)
class EmailContent:
    subject: str
    text: str
    html: str
    language: str


@dataclass(frozen=True)
class PushContent:
    title: str
    body: str


@cache
def _file(name: str) -> Template:
    source = resources.files("goftogu.notifications").joinpath("templates", name)
    return Template(source.read_text(encoding="utf-8"))


@cache
def _phrases(language: str) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser()
    source = resources.files("goftogu.notifications").joinpath("templates", f"{language}.ini")
    parser.read_string(source.read_text(encoding="utf-8"))
    return parser


def phrase_raw(language: str, section: str, key: str) -> Template:
    return Template(_phrases(language).get(section, key))


def phrase(language: str, section: str, key: str, **values: str) -> str:
    """The ``key`` phrase of ``section`` in ``language``, with ``values`` filled in."""
    return phrase_raw(language, section, key).substitute(values)


def count_phrase(language: str, kind: str, count: int) -> str:
    form = "one" if count == 1 else "other"
    return phrase(language, kind, form, count=localised_number(count, language))


def preview(text: str, limit: int = PREVIEW_LENGTH) -> str:
    """``text`` on at most ``limit`` characters, cut at a word when possible."""
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip() + "…"


def document_direction(language: str) -> Direction:
    return "rtl" if language in RTL_LANGUAGES else "ltr"


def _align(direction: Direction) -> str:
    return "right" if direction == "rtl" else "left"


def _time(language: str, moment: datetime) -> str:
    return localised_digits(moment.strftime(phrase(language, "common", "time_format")), language)


def _items_text(language: str, lines: list[Line]) -> str:
    document = document_direction(language)
    blocks = []
    for line in lines:
        heading = plain_paragraph(f"{line.sender} · {_time(language, line.at)}", document)
        body = plain_paragraph(line.text, direction_of(line.text), document)
        blocks.append(_file("item.txt").substitute(heading=heading, text=body).rstrip("\n"))
    return "\n\n".join(blocks)


def _items_html(language: str, lines: list[Line]) -> str:
    start = "right" if document_direction(language) == "rtl" else "left"
    blocks = []
    for line in lines:
        text_dir = direction_of(line.text)
        blocks.append(
            _file("item.html").substitute(
                start=start,
                sender=html.escape(line.sender),
                time=html.escape(_time(language, line.at)),
                text=html.escape(line.text),
                text_dir=text_dir,
                text_align=_align(text_dir),
            )
        )
    return "".join(blocks)


def _isolated(value: str) -> str:
    """A name or title inside a sentence of plain text: a bidi isolate keeps a
    Persian name from reordering an English sentence around it, and vice versa."""
    return f"{FSI}{value}{PDI}"


def render_email(
    kind: str,
    language: str,
    lines: list[Line],
    *,
    recipient_name: str,
    url: str,
    settings_url: str,
    **names: str,
) -> EmailContent:
    """The subject and both bodies of an email of ``kind`` (a section of the phrase
    files: ``messages``, ``direct_messages``, ``support_replies``, ``ticket_created``)
    quoting ``lines``.
    ``names`` are user-given values the phrases mention (``title``, ``customer_name``)."""
    names = {**names, "recipient_name": recipient_name}
    counted = {"count_phrase": count_phrase(language, kind, len(lines))}
    keys = (("common", "greeting"), (kind, "heading"), (kind, "intro"), (kind, "open_label"))
    texts = {
        key: phrase_raw(language, section, key).substitute(
            counted, **{n: _isolated(v) for n, v in names.items()}
        )
        for section, key in keys
    }
    htmls = {
        key: Template(html.escape(phrase_raw(language, section, key).template)).substitute(
            {n: html.escape(v) for n, v in counted.items()},
            **{n: f"<bdi>{html.escape(v)}</bdi>" for n, v in names.items()},
        )
        for section, key in keys
    }
    subject = phrase(language, kind, "subject", **counted, **names)
    footer = phrase(language, "common", "footer", settings_url=settings_url)
    direction = document_direction(language)
    chrome = _file("digest.txt").substitute(texts, items=_ITEMS, url=url)
    chrome = f"{plain_paragraph(chrome, direction)}\n-- \n{plain_paragraph(footer, direction)}\n"
    text = chrome.replace(plain_paragraph(_ITEMS, direction), _items_text(language, lines))
    body = _file("digest.html").substitute(
        htmls, items=_items_html(language, lines), url=html.escape(url, quote=True)
    )
    page = _file("layout.html").substitute(
        lang=language,
        dir=direction,
        align=_align(direction),
        subject=html.escape(subject),
        body=body,
        footer=html.escape(footer),
    )
    return EmailContent(subject=subject, text=text, html=page, language=language)


def render_push(kind: str, language: str, **values: str) -> PushContent:
    """Title and body of a push notification of ``kind`` (``message``,
    ``support_reply``, ``ticket_created``, ``chat_assigned``)."""
    return PushContent(
        title=phrase(language, kind, "push_title", **values),
        body=phrase(language, kind, "push_body", **values),
    )
