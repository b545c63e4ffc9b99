"""/mydata: what the clinic holds about a patient, shown to that patient in plain words."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot import keyboards, texts
from bot.core.checkin import describe_answer
from bot.core.protocol import QuestionKind
from bot.keyboards import Callback
from bot.runtime import Runtime
from bot.services import messages
from bot.services.checkins import patient_zone
from bot.services.messages import Purpose
from storage import repository as repo
from storage import views
from storage.models import CheckIn, Patient

AUDIT_ACTION = "mydata:viewed own data"


@dataclass(frozen=True)
class Page:
    """One page of the patient's data: its text, its ◀ / ▶ buttons, and how many there are."""

    text: str
    keyboard: keyboards.Keyboard | None
    pages: int


def send_first_page(rt: Runtime, session: Session, now: datetime, patient: Patient) -> None:
    """Queue the first page of /mydata; the request is audited (who, what; never content)."""
    repo.audit(
        session, actor=patient.telegram_user_id, action=AUDIT_ACTION, now=now, patient_id=patient.id
    )
    first = _page(rt, session, patient, 0)
    messages.send(session, now, patient.chat_id, first.text, Purpose.REPLY, first.keyboard)


def turn_page(
    rt: Runtime,
    session: Session,
    now: datetime,
    tapper: Patient | None,
    message: tuple[int, int],
    callback: Callback,
) -> str | None:
    """◀ / ▶ on a page in chat and message `message`: the page replaced, or why not."""
    chat_id, message_id = message
    if tapper is None or tapper.id != callback.record_id or tapper.chat_id != chat_id:
        return texts.MY_DATA_FOREIGN_PAGE
    page = _page(rt, session, tapper, callback.index)
    if page is None:
        return texts.MY_DATA_STALE_PAGE
    messages.edit(session, now, chat_id, message_id, page.text, page.keyboard)
    return None


def _page(rt: Runtime, session: Session, patient: Patient, page: int) -> Page | None:
    """Page `page` (from 0) of the patient's data, or None when there is no such page now."""
    pages = _paginate(_lines(rt, session, patient))
    if not 0 <= page < len(pages):
        return None
    text = texts.my_data_page(page, len(pages), pages[page])
    return Page(text, keyboards.my_data_pager(patient.id, page, len(pages)), len(pages))


def _lines(rt: Runtime, session: Session, patient: Patient) -> list[str]:
    tz = patient_zone(rt, patient)
    lines = texts.my_data_identity(patient.clinic_ref, patient.display_name, tz.key)
    if patient.consent_at:
        lines.append(texts.my_data_consent(patient.consent_at, patient.consent_version, tz))
    else:
        lines.append(texts.MY_DATA_CONSENT_MISSING)
    infusions = views.infusions_of(session, patient.id)
    lines += ["", texts.my_data_infusions(len(infusions))]
    lines += [
        texts.my_data_infusion(number, i.started_at, i.dose, tz)
        for number, i in enumerate(infusions, start=1)
    ]
    lines += ["", *_answer_lines(rt, session, patient, infusions, tz)]
    alerts = views.alerts_raised_about(session, patient.id)
    lines += ["", texts.MY_DATA_ALERTS_HEADING if alerts else texts.MY_DATA_NO_ALERTS]
    lines += [texts.my_data_alert(a.created_at, a.severity, tz) for a in alerts]
    return lines


def _answer_lines(
    rt: Runtime, session: Session, patient: Patient, infusions: list, tz: ZoneInfo
) -> list[str]:
    check_ins = views.check_ins_of_patient(session, patient.id)
    answers = views.answers_by_check_in(session, [c.id for c in check_ins])
    numbers = {infusion.id: number for number, infusion in enumerate(infusions, start=1)}
    lines = []
    for check_in in check_ins:
        given = answers.get(check_in.id)
        if not given:
            continue
        lines.append(texts.my_data_check_in(_title(rt, check_in, numbers), _when(check_in), tz))
        lines += [_answer(rt, question_id, value) for question_id, value in given.items()]
    return lines or [texts.MY_DATA_NO_ANSWERS]


def _title(rt: Runtime, check_in: CheckIn, numbers: dict[int, int]) -> str:
    try:
        title = rt.protocol.step(check_in.step_id).title
    except StopIteration:  # a step of an older protocol
        title = check_in.step_id
    if check_in.infusion_id is None:  # a report
        return title
    return texts.my_data_infusion_step(numbers.get(check_in.infusion_id, 0), title)


def _when(check_in: CheckIn) -> datetime:
    return check_in.sent_at or check_in.due_at


def _answer(rt: Runtime, question_id: str, stored: str) -> str:
    """One answer as the patient gave it: the button's label, or their words quoted."""
    value = json.loads(stored)
    question = rt.protocol.questions.get(question_id)
    if question is None:  # a question of an older protocol
        return texts.my_data_answer(question_id, str(value))
    if question.kind is QuestionKind.TEXT:
        words = value if isinstance(value, str) else ""  # None: skipped
        return texts.my_data_answer(question.label, texts.my_data_words(words))
    return texts.my_data_answer(question.label, describe_answer(question, value))


def _paginate(lines: list[str]) -> list[list[str]]:
    """Lines packed into pages that each fit one message (a line too long is cut)."""
    budget = texts.MY_DATA_PAGE_LIMIT
    pages: list[list[str]] = [[]]
    used = 0
    for line in lines:
        line = line if len(line) < budget else line[: budget - 2] + "…"
        if used + len(line) + 1 > budget and pages[-1]:
            pages.append([])
            used = 0
        if line or pages[-1]:  # no page starts with a blank line
            pages[-1].append(line)
            used += len(line) + 1
    return pages
