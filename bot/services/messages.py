"""Messages as outbox rows: what to send, to whom, how urgently; the sender does the rest."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from enum import StrEnum

from sqlmodel import Session

from bot.keyboards import Keyboard
from storage import repository as repo
from storage.models import OutboxMessage


class Purpose(StrEnum):
    """Why a message is sent; it sets its priority and what its delivery records."""

    SAFETY = "safety"  # the patient's scripted emergency, crisis or urgent text
    ALERT = "alert"  # a staff alert
    ESCALATION = "escalation"  # an alert nobody acknowledged, to the escalation list
    REPLY = "reply"  # the answer to what someone just did
    NOTICE = "notice"  # a note to staff (a patient joined, a chat was lost)
    QUESTION = "question"  # a scheduled check-in or its reminder


PRIORITY = {
    Purpose.SAFETY: 0,
    Purpose.ALERT: 1,
    Purpose.ESCALATION: 1,
    Purpose.REPLY: 2,
    Purpose.NOTICE: 3,
    Purpose.QUESTION: 4,
}
STAFF_PURPOSES = frozenset({Purpose.ALERT, Purpose.ESCALATION, Purpose.NOTICE})


class Method(StrEnum):
    """What the sender does with a row."""

    SEND = "send"
    EDIT = "edit"  # replace text (and buttons: none unless given)
    BUTTONS = "buttons"  # redraw only the buttons
    CLEAR = "clear"  # take the buttons off


def send(
    session: Session,
    now: datetime,
    chat_id: int,
    text: str,
    purpose: Purpose,
    keyboard: Keyboard | None = None,
    *,
    silent: bool = False,
    check_in_id: int | None = None,
    alert_id: int | None = None,
    carries: list[int] | None = None,
) -> OutboxMessage:
    """Queue a new message; `carries` lists every alert it shows when it shows several."""
    row = _queue(
        session,
        now,
        chat_id,
        Method.SEND,
        purpose,
        text=text,
        keyboard=keyboard,
        silent=silent,
        check_in_id=check_in_id,
        alert_id=alert_id,
    )
    if carries and len(carries) > 1:
        row.grouped_alert_ids = json.dumps(carries)
    return row


def send_grouped(
    session: Session,
    now: datetime,
    chat_id: int,
    group_key: str,
    alert_id: int,
    render: Callable[[list[int]], tuple[str, Keyboard]],
    wait: timedelta,
) -> OutboxMessage:
    """Queue a notice that waits `wait` for others of its kind to the same chat, and joins
    the one already waiting if there is one; `render` writes the text for all of them."""
    row = repo.pending_group_message(session, chat_id, group_key)
    alert_ids = [*grouped_alert_ids(row), alert_id] if row else [alert_id]
    if row is None:
        row = _queue(
            session, now, chat_id, Method.SEND, Purpose.ALERT, silent=True, alert_id=alert_id
        )
        # It waits, so it must not stand in front of the chat's urgent alerts meanwhile.
        row.group_key, row.next_attempt_at = group_key, now + wait
        row.priority = PRIORITY[Purpose.NOTICE]
    text, keyboard = render(alert_ids)
    rewrite(row, text, keyboard, alert_ids)
    return row


def rewrite(row: OutboxMessage, text: str, keyboard: Keyboard, alert_ids: list[int]) -> None:
    """Make a queued message carry these alerts, with this text and these buttons."""
    row.grouped_alert_ids = json.dumps(alert_ids)
    row.text, row.markup = text, json.dumps(keyboard) if keyboard else None


def grouped_alert_ids(row: OutboxMessage) -> list[int]:
    """The alerts a message carries: several for a grouped notice, else its one alert."""
    if row.grouped_alert_ids:
        return json.loads(row.grouped_alert_ids)
    return [row.alert_id] if row.alert_id is not None else []


def edit(
    session: Session,
    now: datetime,
    chat_id: int,
    message_id: int,
    text: str,
    keyboard: Keyboard | None = None,
) -> OutboxMessage:
    """Queue a change of a sent message's text (its buttons go unless `keyboard` is given)."""
    return _queue(
        session,
        now,
        chat_id,
        Method.EDIT,
        Purpose.REPLY,
        text=text,
        keyboard=keyboard,
        edit_message_id=message_id,
    )


def redraw(
    session: Session, now: datetime, chat_id: int, message_id: int, keyboard: Keyboard
) -> OutboxMessage:
    """Queue new buttons for a sent message (a checklist's ticks)."""
    return _queue(
        session,
        now,
        chat_id,
        Method.BUTTONS,
        Purpose.REPLY,
        keyboard=keyboard,
        edit_message_id=message_id,
    )


def clear(session: Session, now: datetime, chat_id: int, message_id: int) -> OutboxMessage:
    """Queue taking the buttons off an old message, so that it cannot be tapped again."""
    return _queue(session, now, chat_id, Method.CLEAR, Purpose.REPLY, edit_message_id=message_id)


def _queue(
    session: Session,
    now: datetime,
    chat_id: int,
    method: Method,
    purpose: Purpose,
    *,
    text: str | None = None,
    keyboard: Keyboard | None = None,
    silent: bool = False,
    edit_message_id: int | None = None,
    check_in_id: int | None = None,
    alert_id: int | None = None,
) -> OutboxMessage:
    return repo.enqueue(
        session,
        OutboxMessage(
            chat_id=chat_id,
            method=method,
            purpose=purpose,
            priority=PRIORITY[purpose],
            text=text,
            markup=json.dumps(keyboard) if keyboard else None,
            silent=silent,
            edit_message_id=edit_message_id,
            check_in_id=check_in_id,
            alert_id=alert_id,
            created_at=now,
            next_attempt_at=now,
        ),
    )
