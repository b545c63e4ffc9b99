"""/mydata: what the clinic holds about a patient, shown to that patient in plain words."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot import keyboards, texts
from bot.core.protocol import QuestionKind
from bot.keyboards import Callback
from bot.runtime import Runtime
from bot.services import messages
from bot.services.checkins import answer_in_words, patient_zone
from bot.services.messages import Purpose
from bot.voice import Voice
from storage import repository as repo
from storage import views
from storage.models import CheckIn, Patient

AUDIT_ACTION = "mydata:viewed own data"


@dataclass(frozen=True)
class Page:
    """One page of the patient's data: its text and its ◀ / ▶ buttons."""

    text: str
    keyboard: keyboards.Keyboard | None


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
    voice = rt.voice(tapper.language if tapper else None)
    if tapper is None or tapper.id != callback.record_id or tapper.chat_id != chat_id:
        return voice.say("mydata_foreign_page")
    page = _page(rt, session, tapper, callback.index)
    if page is None:
        return voice.say("mydata_stale_page")
    messages.edit(session, now, chat_id, message_id, page.text, page.keyboard)
    return None


def _page(rt: Runtime, session: Session, patient: Patient, page: int) -> Page | None:
    """Page `page` (from 0) of the patient's data, in their language, or None when there is
    no such page now."""
    voice = rt.voice(patient.language)
    pages = _paginate(_lines(rt, voice, session, patient))
    if not 0 <= page < len(pages):
        return None
    numbered = voice.say("mydata_page", page=page + 1, pages=len(pages)) if len(pages) > 1 else ""
    text = "\n".join([voice.say("mydata_heading") + numbered, "", *pages[page]])
    return Page(text, keyboards.my_data_pager(patient.id, page, len(pages)))


def _lines(rt: Runtime, voice: Voice, session: Session, patient: Patient) -> list[str]:
    tz = patient_zone(rt, patient)
    lines = [voice.say("mydata_reference", ref=patient.clinic_ref)]
    if patient.display_name:
        lines.append(voice.say("mydata_name", name=patient.display_name))
    lines.append(voice.say("mydata_zone", zone=tz.key))
    if patient.consent_at:
        version = patient.consent_version
        which = voice.say("mydata_consent_version", version=version) if version else ""
        lines.append(
            voice.say("mydata_consent", when=voice.time(patient.consent_at, tz), version=which)
        )
    else:
        lines.append(voice.say("mydata_consent_missing"))
    infusions = views.infusions_of(session, patient.id)
    count = len(infusions)
    heading = voice.say("mydata_infusions", count=count) if count else None
    lines += ["", heading or voice.say("mydata_no_infusions")]
    lines += [
        voice.say(
            "mydata_infusion",
            number=i.number,
            when=voice.time(i.started_at, tz),
            dose=voice.say("mydata_dose", dose=i.dose) if i.dose else "",
        )
        for i in infusions
    ]
    lines += ["", *_answer_lines(voice, session, patient, infusions, tz)]
    alerts = views.alerts_raised_about(session, patient.id)
    lines += ["", voice.say("mydata_alerts_heading" if alerts else "mydata_no_alerts")]
    lines += [
        f"  {voice.time(a.created_at, tz)} · {voice.say(f'severity_{a.severity}')}" for a in alerts
    ]
    return lines


def _answer_lines(
    voice: Voice, session: Session, patient: Patient, infusions: list, tz: ZoneInfo
) -> list[str]:
    check_ins = views.check_ins_of_patient(session, patient.id)
    answers = views.answers_by_check_in(session, [c.id for c in check_ins])
    numbers = {infusion.id: infusion.number for infusion in infusions}
    lines = []
    for check_in in check_ins:
        given = answers.get(check_in.id)
        if not given:
            continue
        title, when = _title(voice, check_in, numbers), voice.time(_when(check_in), tz)
        lines.append(voice.say("mydata_check_in", title=title, when=when))
        lines += [_answer(voice, question_id, value) for question_id, value in given.items()]
    return lines or [voice.say("mydata_no_answers")]


def _title(voice: Voice, check_in: CheckIn, numbers: dict[int, int]) -> str:
    try:
        title = voice.protocol.step(check_in.step_id).title
    except StopIteration:  # a step of an older protocol
        title = check_in.step_id
    if check_in.infusion_id is None:  # a report
        return title
    number = numbers.get(check_in.infusion_id, 0)
    return voice.say("mydata_infusion_step", number=number, title=title)


def _when(check_in: CheckIn) -> datetime:
    return check_in.sent_at or check_in.due_at


def _answer(voice: Voice, question_id: str, stored: str) -> str:
    """One answer as the patient gave it: the button's label, or their words quoted."""
    value = json.loads(stored)
    question = voice.protocol.questions.get(question_id)
    if question is None:  # a question of an older protocol
        return f"  {question_id}: {value}"
    if question.kind is QuestionKind.TEXT and value:
        return f"  {question.label}: “{value}”"
    return f"  {question.label}: {answer_in_words(voice, question, value)}"


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
