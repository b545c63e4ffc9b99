"""Inline keyboards and their compact callback data.

Keyboards are plain data (rows of (label, callback data) pairs), so that services can queue
them in the outbox without Telegram; the sender turns them into Telegram's markup.
Callback data is at most 64 bytes, so it carries only an action letter and small numbers or
ids: "a:<check-in>:<question>:<choice index>". Nothing in it is trusted: handlers check the
sender, the check-in's owner and whether the question is still open.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot import texts
from bot.core.checkin import NONE_OF_THESE
from bot.core.parsing import record_number
from bot.core.protocol import Question
from bot.voice import Voice

MAX_CALLBACK_BYTES = 64
Button = tuple[str, str]  # label, callback data
Keyboard = list[list[Button]]
_FIELD = re.compile(r"^[A-Za-z0-9_]{1,32}$")
TICKED, UNTICKED = "☑", "☐"


class Action(StrEnum):
    """What a button does."""

    ANSWER = "a"  # single tap: scale, choice, yes/no
    TOGGLE = "t"  # tick (1) or untick (0) a multi option
    DONE = "d"  # finish a multi question
    SEVERITY = "s"  # severity of a ticked item
    BACK = "b"  # change the last answer
    SKIP = "n"  # skip a free-text question
    SEND = "f"  # send a finished check-in from its summary
    REVISE = "e"  # change one answer from the summary: "e:<check-in>:<question>"
    CONSENT = "c"  # consent yes (1) or no (0) for an invite
    ACKNOWLEDGE = "k"  # acknowledge an alert
    REMOVE_STAFF = "r"  # confirm (1) or cancel (0) removing a staff member
    VIEW = "v"  # a page of a staff view: "v:<page>:<view>:<filter>"
    CHANGE = "p"  # pause/resume/discharge a patient: "p:<patient>:<change>:<yes>:<until>"
    TIME_ZONE = "z"  # a place offered by /timezone: "z:<patient>:<index of the place>"
    MY_DATA = "m"  # a page of a patient's own data: "m:<patient>:<page>"
    STOP = "q"  # a patient's /stop, confirmed (1) or not (0): "q:<patient>:<yes>"
    # /infusion_edit and /infusion_cancel: "i:<infusion>:<m|c><start asked about>:<yes>[:<new>]"
    INFUSION = "i"
    LANGUAGE = "l"  # a patient's language: "l:<patient>:<code>"


class BadCallback(ValueError):
    """Callback data this bot did not make (or no longer understands)."""


@dataclass(frozen=True)
class Callback:
    """Decoded callback data: an action on a record, with a question and indexes."""

    action: Action
    record_id: int
    question_id: str = ""
    index: int = -1
    sub_index: int = -1

    def encode(self) -> str:
        """The compact form put on a button."""
        parts = [self.action.value, str(self.record_id)]
        if self.question_id:
            parts.append(self.question_id)
        parts += [str(n) for n in (self.index, self.sub_index) if n >= 0]
        data = ":".join(parts)
        if len(data.encode()) > MAX_CALLBACK_BYTES:
            raise ValueError(f"callback data over {MAX_CALLBACK_BYTES} bytes")
        return data

    @classmethod
    def decode(cls, data: str | None) -> Callback:
        """Parse callback data; raise BadCallback on anything malformed."""
        if not data or len(data.encode()) > MAX_CALLBACK_BYTES:
            raise BadCallback("empty or too long")
        parts = data.split(":")
        try:
            action = Action(parts[0])
            record_id = record_number(parts[1])
        except (ValueError, IndexError):
            raise BadCallback("unknown action or record") from None
        if record_id is None:
            raise BadCallback("not a record's number")
        rest = parts[2:]
        question_id = ""
        if rest and not rest[0].isdigit():
            question_id = rest.pop(0)
            if not _FIELD.match(question_id):
                raise BadCallback("bad question id")
        if len(rest) > 2:
            raise BadCallback("too many fields")
        numbers = [_number(p) for p in rest] + [-1, -1]
        return cls(action, record_id, question_id, numbers[0], numbers[1])


def _number(text: str) -> int:
    if not text.isdigit() or len(text) > 12:
        raise BadCallback("not a small whole number")
    return int(text)


def _button(label: str, callback: Callback) -> Button:
    return (label, callback.encode())


def single_answer_keyboard(
    voice: Voice, check_in_id: int, question: Question, can_go_back: bool
) -> Keyboard:
    """Buttons for a scale (in rows of up to six), a choice (one a row) or yes/no.

    `question` comes from `voice.protocol`, so that its labels are in the patient's language.
    """
    choices = [
        _button(c.label, Callback(Action.ANSWER, check_in_id, question.id, i))
        for i, c in enumerate(question.choices)
    ]
    short = all(len(c.label) <= 3 for c in question.choices)
    width = 6 if short else 1
    if question.kind == "yes_no":
        width = 2
    rows = [choices[i : i + width] for i in range(0, len(choices), width)]
    if can_go_back:
        rows += back_keyboard(voice, check_in_id, question)
    return rows


def back_keyboard(voice: Voice, check_in_id: int, question: Question) -> Keyboard:
    """Only the "change last answer" button (under a free-text question)."""
    return [[_button(voice.say("back_button"), Callback(Action.BACK, check_in_id, question.id))]]


def text_keyboard(
    voice: Voice, check_in_id: int, question: Question, can_go_back: bool
) -> Keyboard:
    """Under a free-text question: skip it ("nothing to add" when it is optional), go back."""
    skip = voice.say("skip_button" if question.optional else "skip_question_button")
    rows = [[_button(skip, Callback(Action.SKIP, check_in_id, question.id))]]
    if can_go_back:
        rows += back_keyboard(voice, check_in_id, question)
    return rows


def multi_keyboard(
    voice: Voice, check_in_id: int, question: Question, ticked: list[str], can_go_back: bool
) -> Keyboard:
    """A checklist: one option a row with its tick box, the exclusive "None of these" box
    (its index is one past the last option), then Done."""
    boxes = [(o.value, o.label) for o in question.options]
    boxes.append((NONE_OF_THESE, voice.say("none_of_these")))
    rows = [
        [
            _button(
                f"{TICKED if code in ticked else UNTICKED} {label}",
                Callback(Action.TOGGLE, check_in_id, question.id, i, int(code not in ticked)),
            )
        ]
        for i, (code, label) in enumerate(boxes)
    ]
    items = len([code for code in ticked if code != NONE_OF_THESE])
    done = Callback(Action.DONE, check_in_id, question.id)
    label = voice.say("done_ticked", count=items) if items else voice.say("done")
    rows.append([_button(label, done)])
    if can_go_back:
        rows += back_keyboard(voice, check_in_id, question)
    return rows


def summary_keyboard(voice: Voice, check_in_id: int, questions: list[Question]) -> Keyboard:
    """Send, then one button a row to change each answer shown in the summary."""
    rows = [[_button(voice.say("send_button"), Callback(Action.SEND, check_in_id))]]
    rows += [
        [
            _button(
                voice.say("change_button", label=q.label),
                Callback(Action.REVISE, check_in_id, q.id),
            )
        ]
        for q in questions
    ]
    return rows


def severity_keyboard(check_in_id: int, question: Question, item_index: int) -> Keyboard:
    """The severity choices for one ticked item."""
    return [
        [
            _button(s.label, Callback(Action.SEVERITY, check_in_id, question.id, item_index, i))
            for i, s in enumerate(question.severities[j : j + 2], start=j)
        ]
        for j in range(0, len(question.severities), 2)
    ]


def language_keyboard(patient_id: int, names: dict[str, str]) -> Keyboard:
    """One button per language code, each named in its own language (English, Español)."""
    return [
        [_button(name, Callback(Action.LANGUAGE, patient_id, code)) for code, name in names.items()]
    ]


def consent_keyboard(voice: Voice, invite_id: int) -> Keyboard:
    """I agree / No thanks under the consent text."""
    return [
        [
            _button(voice.say("consent_yes"), Callback(Action.CONSENT, invite_id, index=1)),
            _button(voice.say("consent_no"), Callback(Action.CONSENT, invite_id, index=0)),
        ]
    ]


def remove_staff_keyboard(member_id: int) -> Keyboard:
    """Remove / Keep under the /remove_staff question."""
    return [
        [
            _button(texts.REMOVE_BUTTON, Callback(Action.REMOVE_STAFF, member_id, index=1)),
            _button(texts.KEEP_BUTTON, Callback(Action.REMOVE_STAFF, member_id, index=0)),
        ]
    ]


def confirm_change_keyboard(patient_id: int, change: str, until: datetime | None) -> Keyboard:
    """Yes / No under a pause, resume or discharge question (the pause's end rides along)."""
    end = int(until.timestamp()) if until else -1
    return [
        [
            _button(texts.YES_BUTTON, Callback(Action.CHANGE, patient_id, change, 1, end)),
            _button(texts.NO_BUTTON, Callback(Action.CHANGE, patient_id, change, 0, end)),
        ]
    ]


def acknowledge_buttons(alert_ids: list[int]) -> Keyboard:
    """Acknowledge buttons for a list of alerts, five to a row."""
    buttons = [_button(f"✅ #{n}", Callback(Action.ACKNOWLEDGE, n)) for n in alert_ids]
    return [buttons[i : i + 5] for i in range(0, len(buttons), 5)]


def pager(view: str, page: int, pages: int, filter_index: int) -> Keyboard:
    """Previous / Next under a paged staff view (nothing when it fits one page)."""
    previous, following = texts.VIEW_BUTTONS
    row = []
    if page > 0:
        row.append(_button(previous, Callback(Action.VIEW, page - 1, view, filter_index)))
    if page + 1 < pages:
        row.append(_button(following, Callback(Action.VIEW, page + 1, view, filter_index)))
    return [row] if row else []


def acknowledge_keyboard(alert_id: int) -> Keyboard:
    """The Acknowledge button under a staff alert."""
    return [[_button(texts.ACKNOWLEDGE_BUTTON, Callback(Action.ACKNOWLEDGE, alert_id))]]


def acknowledge_each_keyboard(alert_ids: list[int]) -> Keyboard:
    """One numbered Acknowledge button per alert, for a message carrying several alerts that
    are each acknowledged on their own."""
    return [
        [_button(texts.acknowledge_numbered(alert_id), Callback(Action.ACKNOWLEDGE, alert_id))]
        for alert_id in alert_ids
    ]


def time_zone_keyboard(patient_id: int, labels: list[str]) -> Keyboard:
    """The places /timezone offers, two to a row, in the order the service offers them."""
    buttons = [
        _button(label, Callback(Action.TIME_ZONE, patient_id, index=i))
        for i, label in enumerate(labels)
    ]
    return [buttons[i : i + 2] for i in range(0, len(buttons), 2)]


def my_data_pager(patient_id: int, page: int, pages: int) -> Keyboard | None:
    """◀ / ▶ under a page of /mydata; the patient's id rides along to check the tapper."""
    previous, following = texts.MY_DATA_BUTTONS
    row = []
    if page > 0:
        row.append(_button(previous, Callback(Action.MY_DATA, patient_id, index=page - 1)))
    if page + 1 < pages:
        row.append(_button(following, Callback(Action.MY_DATA, patient_id, index=page + 1)))
    return [row] if row else None


def stop_keyboard(voice: Voice, patient_id: int) -> Keyboard:
    """Yes, stop / No, keep going under a patient's /stop question."""
    return [
        [
            _button(voice.say("stop_yes"), Callback(Action.STOP, patient_id, index=1)),
            _button(voice.say("stop_no"), Callback(Action.STOP, patient_id, index=0)),
        ]
    ]


def infusion_change_keyboard(
    infusion_id: int, change: str, asked_start: datetime, new_start: datetime | None
) -> Keyboard:
    """Yes / No under an /infusion_edit or /infusion_cancel question.

    The start the coordinator saw rides along, so that a button pressed after someone else
    moved the infusion changes nothing.
    """
    tag = f"{change}{int(asked_start.timestamp())}"
    new = int(new_start.timestamp()) if new_start else -1
    return [
        [
            _button(texts.YES_BUTTON, Callback(Action.INFUSION, infusion_id, tag, 1, new)),
            _button(texts.NO_BUTTON, Callback(Action.INFUSION, infusion_id, tag, 0, new)),
        ]
    ]
