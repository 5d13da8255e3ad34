"""SLA timers (issue 18, item 4): which deadlines run, when a warning or a breach
is due, each once, and deadlines that count only business hours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from goftogu.support.documents import Message, Sender, SenderKind, SlaStatus, SupportChat
from goftogu.support.hours import BusinessHours
from goftogu.support.sla import evaluate, timers_of
from goftogu.support.teams import SlaPolicy
from tests.helpers.chats import new_chat

START = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)  # a Wednesday
POLICY = SlaPolicy(first_response_s=600, next_response_s=300, resolution_s=3600, warn_before_s=120)


def chat_at(start: datetime = START) -> SupportChat:
    return new_chat().model_copy(update={"created_at": start})


def said(chat: SupportChat, kind: SenderKind, at: datetime) -> SupportChat:
    message = Message(
        id=f"m{len(chat.messages)}",
        client_id=f"c{len(chat.messages)}",
        sender=Sender(kind=kind, id="someone"),
        body="…",
        created_at=at,
    )
    update: dict[str, object] = {"messages": [*chat.messages, message]}
    if kind is SenderKind.operator and chat.first_response_at is None:
        update["first_response_at"] = at
    return chat.model_copy(update=update)


def test_a_new_conversation_runs_first_response_and_resolution() -> None:
    timers = {t.kind: t.due for t in timers_of(chat_at(), POLICY, None)}
    assert timers == {
        "first_response": START + timedelta(seconds=600),
        "resolution": START + timedelta(seconds=3600),
    }


def test_a_warning_is_due_ahead_of_the_deadline_and_a_breach_after_it() -> None:
    chat = chat_at()
    status, fired = evaluate(chat, POLICY, None, START + timedelta(seconds=100))
    assert (status.state, fired) == ("ok", [])
    status, fired = evaluate(chat, POLICY, None, START + timedelta(seconds=500))
    assert [f.mark for f in fired] == ["first_response:warning"]
    assert status.state == "warning"
    status, fired = evaluate(chat, POLICY, None, START + timedelta(seconds=601))
    assert [f.mark for f in fired] == ["first_response:breached"]
    assert status.state == "breached"


def test_what_has_fired_does_not_fire_again() -> None:
    chat = chat_at().model_copy(
        update={"sla": SlaStatus(state="warning", marks=["first_response:warning"])}
    )
    _, fired = evaluate(chat, POLICY, None, START + timedelta(seconds=550))
    assert fired == []
    breached = chat.model_copy(
        update={"sla": SlaStatus(state="breached", marks=["first_response:breached"])}
    )
    _, fired = evaluate(breached, POLICY, None, START + timedelta(seconds=700))
    assert fired == []


def test_the_next_response_runs_from_the_customer_message_after_the_answer() -> None:
    chat = said(chat_at(), SenderKind.operator, START + timedelta(seconds=60))
    assert "next_response" not in {t.kind for t in timers_of(chat, POLICY, None)}
    chat = said(chat, SenderKind.customer, START + timedelta(seconds=120))
    chat = said(chat, SenderKind.customer, START + timedelta(seconds=180))  # same wait
    [timer] = [t for t in timers_of(chat, POLICY, None) if t.kind == "next_response"]
    assert (timer.key, timer.due) == ("next_response:3", START + timedelta(seconds=420))
    answered = said(chat, SenderKind.operator, START + timedelta(seconds=200))
    assert "next_response" not in {t.kind for t in timers_of(answered, POLICY, None)}


def test_a_met_target_stops_its_timer_and_a_closed_conversation_is_resolved() -> None:
    chat = said(chat_at(), SenderKind.operator, START + timedelta(seconds=30))
    closed = chat.model_copy(update={"closed_at": START + timedelta(seconds=90)})
    assert timers_of(closed, POLICY, None) == []


def test_business_hours_deadlines_count_only_open_time() -> None:
    hours = BusinessHours.model_validate(
        {
            "timezone": "UTC",
            "weekly": {
                "wed": [{"start": "09:00", "end": "09:05"}],
                "thu": [{"start": "09:00", "end": "17:00"}],
            },
        }
    )
    timers = {t.kind: t.due for t in timers_of(chat_at(), POLICY, hours)}
    # 10 minutes of open time: 5 on Wednesday, 5 on Thursday morning.
    assert timers["first_response"] == datetime(2026, 12, 3, 9, 5, tzinfo=UTC)
    wall_clock = SlaPolicy(first_response_s=600, business_hours=False)
    assert timers_of(chat_at(), wall_clock, hours)[0].due == START + timedelta(seconds=600)
