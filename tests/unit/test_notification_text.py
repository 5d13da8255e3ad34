"""Rendering notifications: plural phrases, direction of Persian text, escaping."""

from datetime import UTC, datetime

import pytest

from goftogu.notifications.bidi import LRM, RLM, direction_of, plain_paragraph
from goftogu.notifications.templates import Line, count_phrase, preview, render_email, render_push

AT = datetime(2026, 3, 1, 9, 5, tzinfo=UTC)


def email(language: str, *lines: Line, **names: str):  # type: ignore[no-untyped-def]
    return render_email(
        "messages",
        language,
        list(lines),
        recipient_name=names.pop("recipient_name", "Ali"),
        url="https://chat.example/conversations/single:1",
        settings_url="https://chat.example/settings/notifications",
        title=names.pop("title", "Sara"),
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("سلام", "rtl"),
        ("hello", "ltr"),
        ("OK باشه، فردا می‌بینمت", "rtl"),
        ("مرسی, see you tomorrow then", "ltr"),
        ("12345 !!!", "ltr"),
        ("שלום", "rtl"),
        ("مرحبا بالعالم", "rtl"),
    ],
)
def test_direction_follows_the_majority_of_strong_letters(text: str, expected: str) -> None:
    assert direction_of(text) == expected


def test_right_to_left_plain_paragraphs_start_each_line_with_a_mark() -> None:
    assert plain_paragraph("OK باشه\nسلام", "rtl") == f"{RLM}OK باشه\n{RLM}سلام"
    assert plain_paragraph("hello", "ltr", "rtl") == f"{LRM}hello"
    assert plain_paragraph("hello", "ltr") == "hello"


def test_counts_are_pluralised_and_persian_digits_used_in_persian() -> None:
    assert count_phrase("en", "messages", 1) == "1 new message"
    assert count_phrase("en", "messages", 12) == "12 new messages"
    assert count_phrase("fa", "messages", 1) == "یک پیام تازه"
    assert count_phrase("fa", "messages", 12) == "۱۲ پیام تازه"


def test_previews_are_cut_at_a_word() -> None:
    text = "word " * 100
    cut = preview(text, 50)
    assert len(cut) <= 51
    assert cut.endswith("word…")
    assert preview("  short  ") == "short"


def test_user_content_is_escaped_in_html() -> None:
    content = email(
        "en",
        Line("<script>x</script>", "<img src=x onerror=alert(1)>", AT),
        recipient_name="A & B",
        title='"Team" <b>',
    )
    assert "<script>" not in content.html
    assert "<img" not in content.html
    assert "&lt;img src=x onerror=alert(1)&gt;" in content.html
    assert "<bdi>A &amp; B</bdi>" in content.html
    assert content.subject == '1 new message in "Team" <b>'


def test_a_persian_message_in_an_english_email_gets_its_own_direction() -> None:
    content = email("en", Line("سارا", "سلام", AT), Line("bob", "hi", AT))
    assert '<html lang="en" dir="ltr">' in content.html
    assert (
        '<div dir="rtl" style="white-space:pre-wrap;text-align:right;">سلام</div>' in content.html
    )
    assert f"\n{RLM}سلام\n" in content.text
    assert "\nhi\n" in content.text


def test_a_persian_email_reads_right_to_left_with_persian_dates() -> None:
    content = email("fa", Line("سارا", "سلام", AT), recipient_name="علی", title="سارا")
    assert content.subject == "یک پیام تازه در سارا"
    assert '<html lang="fa" dir="rtl">' in content.html
    assert "۲۰۲۶-۰۳-۰۱ ۰۹:۰۵" in content.text
    assert all(line.startswith(RLM) for line in content.text.splitlines() if line and line != "-- ")


def test_push_texts_come_from_the_phrase_files() -> None:
    push = render_push("chat_assigned", "fa", customer_name="مینا", preview="سفارشم نرسیده")
    assert push.title == "گفتگوی تازه به شما سپرده شد"
    assert push.body == "مینا: سفارشم نرسیده"
