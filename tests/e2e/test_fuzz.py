"""The front door, fuzzed: thousands of random updates from everyone, through the real bot.

Each Hypothesis example starts a fresh bot (real PTB Application, the fake Bot API over HTTP,
a SQLite file, the bundled protocol) with patients (two in the middle of a check-in), staff of
each role and strangers, and sends a random plan of updates in batches, several chats at once:
text of every kind, every registered command with random arguments, callback data of random
bytes, real buttons pressed and mutated, edits, stickers, photos and files.

Nothing in the bot is replaced. What it writes is observed: every outbox row and every stored
answer is traced to the update being handled when it was written (bot.runtime.HANDLING_UPDATE),
so each message is traced to the person whose update caused it. Then:

- no update reaches the error handler, and nothing is logged at ERROR;
- every answer is stored for a check-in of the person who sent it;
- no patient gets a message caused by someone else, except the staff actions that are meant
  to tell a patient (ALLOWED_STAFF_EFFECTS, each naming the patient);
- a stranger gets nothing but the refusal;
- everything queued is accepted by Telegram (no message too long, no bad buttons).

Commands come from the application's handlers and buttons from what the bot sent, so commands
and buttons added later are fuzzed without editing this file.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import event
from sqlmodel import col, func, select
from telegram.ext import CallbackQueryHandler

from bot import locales
from bot.runtime import HANDLING_UPDATE
from bot.services.messages import Method, Purpose
from storage import repository as repo
from storage.models import (
    RELAYED,
    THROTTLED,
    Alert,
    Answer,
    CheckIn,
    InboxUpdate,
    OutboxMessage,
    OutboxStatus,
    Patient,
)
from tests.fake_bot_api import FakeBotApi
from tests.utils.harness import ADMIN_ID, COORDINATOR_ID, BotUnderTest, start_bot
from tests.utils.patients import add_active_patients

# Two patients half-way through their baseline, one who has not answered yet, one with no
# infusion; staff of each role; two strangers.
PATIENTS = (1001, 1002, 1003, 1004)
CLINICIAN_ID = 9003
STAFF = (ADMIN_ID, COORDINATOR_ID, CLINICIAN_ID)
COORDINATORS = (ADMIN_ID, COORDINATOR_ID)
STRANGERS = (4242, 4343)
PEOPLE = (*PATIENTS, *STAFF, *STRANGERS)

EXAMPLES = 20
MIN_UPDATES = 2000
# Staff actions meant to tell a patient: the command, or a press on the confirmation it asked,
# naming that patient. Those not registered (yet) simply never match.
ALLOWED_STAFF_EFFECTS = frozenset(
    {"infusion", "pause", "resume", "discharge", "infusion_edit", "infusion_cancel"}
)
# The refusals a stranger may read: the stranger's answer, an invite link that is not valid
# (anyone may open one), and the flood guard's "slow down".
STRANGER_TEXTS = tuple(
    locales.say("en", key)
    for key in ("invite_unknown", "invite_used", "invite_expired", "slow_down")
)

SLOW_DOWN = frozenset(locales.say(language, "slow_down") for language in locales.CATALOGS)

LONG_TEXTS = (
    "ache " * 819,  # 4,095 characters
    "🙂" * 2048,  # 4,096 UTF-16 units: Telegram's limit
    "أشعر بألم شديد في ساقي منذ الليلة الماضية",  # RTL
    "הכאב חזק מאוד היום",
    "‮ reversed ‬ text",
    "Z̷̢a̴l̶g̸o̵ ̷t̸e̶x̵t̴",
    "👩‍👩‍👧‍👦🏳️‍🌈 ok",
    "I want to kill myself",
    "chest pain and I cannot breathe",
    "/start",
    "@infusion_test_bot hello",
    "10",
    "Yes",
)
ARGUMENTS = (
    *(f"MRN{p}" for p in PATIENTS),
    "MRN999",
    "mrn1001",
    *(str(p) for p in PEOPLE),
    "0",
    "1",
    "2",
    "3",
    "-1",
    "99999999999999999999",
    "me",
    "off",
    "clinician",
    "coordinator",
    "admin",
    "patient",
    "10:00",
    "25:61",
    "2026-11-25",
    "2026-02-30",
    "35mg",
    "pain=5",
    "pain=11",
    "pain=-1",
    "7d",
    "0d",
    "999999w",
    "pain_worse_twice",
    "safety_high_risk",
    "silent",
    "alerts",
    "@Dana",
    "tz=Europe/Madrid",
    "tz=Mars/Base",
    "Europe/Madrid",
    "es",
    "xx",
)
ACTION_LETTERS = "abcdefghijklmnopqrstuvwxyz"
NUMBERS = ("0", "1", "2", "3", "999999999999", "-1", "")
# Words in shaped callback data: question ids, view and change names, junk.
WORDS = (
    "pain_now",
    "side_effects",
    "urine_liver",
    "report_words",
    "safety_4",
    "alerts",
    "patients",
    "pause",
    "resume",
    "discharge",
    "x" * 33,
)

plain_text = st.text(
    alphabet=st.characters(exclude_categories=("Cs", "Cc")) | st.just("\n"),
    min_size=1,
    max_size=200,
)
some_text = st.one_of(plain_text, st.sampled_from(LONG_TEXTS)).filter(str.strip)
argument = st.one_of(
    st.sampled_from(ARGUMENTS),
    st.text(alphabet=st.characters(exclude_categories=("Cs", "Cc", "Zs")), max_size=20),
)


def _callback_data(raw: bytes) -> str:
    """Bytes as Telegram carries callback data: UTF-8 text of 1 to 64 bytes."""
    data = raw.decode("utf-8", errors="ignore")
    return data if data else "?"


random_data = st.one_of(
    st.binary(min_size=1, max_size=64).map(_callback_data),
    st.text(min_size=1, max_size=16).filter(lambda t: len(t.encode()) <= 64),
)


@dataclass(frozen=True)
class Act:
    """One thing a person does; `pick` chooses among what exists when it is done."""

    who: int
    kind: str
    text: str = ""
    pick: int = 0
    mutations: tuple[int, ...] = ()


def acts() -> st.SearchStrategy[Act]:
    """Any one thing anyone does."""
    who = st.sampled_from(PEOPLE)
    caption = st.one_of(st.just(""), some_text)
    pick = st.integers(0, 10_000)
    fields = st.lists(pick, max_size=4).map(tuple)
    command = st.builds(
        lambda w, p, suffix, args: Act(w, "command", " ".join([suffix, *args]), p),
        who,
        pick,
        st.sampled_from(("", "@infusion_test_bot", "@other_bot")),
        st.lists(argument, max_size=4),
    )
    return st.one_of(
        st.builds(Act, who, st.just("text"), some_text),
        command,
        command,
        st.builds(Act, who, st.just("press"), pick=pick),
        st.builds(Act, who, st.just("press"), pick=pick),
        st.builds(Act, who, st.just("forged"), random_data, pick),
        st.builds(Act, who, st.just("mutated"), pick=pick, mutations=fields),
        st.builds(Act, who, st.just("shaped"), pick=pick, mutations=fields),
        st.builds(Act, who, st.just("shaped"), pick=pick, mutations=fields),
        st.builds(Act, who, st.just("edit"), some_text, pick),
        st.builds(Act, who, st.just("sticker"), st.sampled_from(("👍", "😭", "🔥"))),
        st.builds(Act, who, st.sampled_from(("document", "photo")), caption),
    )


plans = st.lists(st.lists(acts(), min_size=6, max_size=10), min_size=14, max_size=18)


@dataclass
class Sent:
    """An update the fuzzer sent: who, what, and the text of the message a press was on."""

    who: int
    act: Act
    text: str
    pressed_on: str = ""


@dataclass(frozen=True)
class Queued:
    """An outbox row as it was written."""

    chat_id: int
    method: str
    text: str | None
    check_in_id: int | None
    purpose: str
    alert_id: int | None


@dataclass
class Observed:
    """What the bot did, each write traced to the update being handled (None: background)."""

    updates: dict[int, Sent] = field(default_factory=dict)
    outbox: list[tuple[int | None, Queued]] = field(default_factory=list)
    answers: list[tuple[int | None, int, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)  # registered, so new ones are fuzzed
    patterns: list[re.Pattern] = field(default_factory=list)  # of the app's button handlers


class ErrorLog(logging.Handler):
    """Collects every ERROR (or worse) log line."""

    def __init__(self, into: list[str]) -> None:
        super().__init__(logging.ERROR)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append(f"log {record.name}: {record.getMessage()}")


def _current_update() -> int | None:
    handling = HANDLING_UPDATE.get()
    return handling.update_id if handling else None


class Tracer:
    """SQLAlchemy write events on the outbox and answers, and the app's errors, observed."""

    def __init__(self, seen: Observed) -> None:
        self.seen = seen
        self.log = ErrorLog(seen.errors)

    def on_outbox(self, _mapper, _connection, row: OutboxMessage) -> None:
        queued = Queued(
            row.chat_id, row.method, row.text, row.check_in_id, row.purpose, row.alert_id
        )
        self.seen.outbox.append((_current_update(), queued))

    def on_answer(self, _mapper, _connection, row: Answer) -> None:
        self.seen.answers.append((_current_update(), row.check_in_id, row.question_id))

    async def on_error(self, update, context) -> None:
        self.seen.errors.append(f"error handler: {type(context.error).__name__}")

    def __enter__(self) -> Tracer:
        event.listen(OutboxMessage, "after_insert", self.on_outbox)
        event.listen(Answer, "after_insert", self.on_answer)
        event.listen(Answer, "after_update", self.on_answer)
        logging.getLogger().addHandler(self.log)
        return self

    def __exit__(self, *exc) -> None:
        event.remove(OutboxMessage, "after_insert", self.on_outbox)
        event.remove(Answer, "after_insert", self.on_answer)
        event.remove(Answer, "after_update", self.on_answer)
        logging.getLogger().removeHandler(self.log)


@pytest.mark.timeout(240)
def test_random_updates_from_everyone(tmp_path):
    totals = {"updates": 0, "examples": 0}
    started = time.monotonic()

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,  # the same plans on every run
        database=None,
        deadline=None,  # an example runs a whole bot for a few seconds
        # Generation is cheap; running each example through the real bot is what is slow.
        suppress_health_check=[HealthCheck.too_slow],
        # Shrinking would replay whole bots for minutes; the first failing plan is reported.
        phases=[Phase.explicit, Phase.generate],
    )
    @given(plan=plans, data=st.data())
    def run(plan: list[list[Act]], data: st.DataObject) -> None:
        folder = tmp_path / f"example{totals['examples']}"
        folder.mkdir()
        totals["examples"] += 1
        totals["updates"] += asyncio.run(play(plan, data.draw, folder))

    run()
    elapsed = time.monotonic() - started
    print(f"fuzz: {totals['updates']} updates in {totals['examples']} examples, {elapsed:.1f} s")
    assert totals["updates"] >= MIN_UPDATES


async def play(plan: list[list[Act]], draw: Callable, folder: Path) -> int:
    """Run one plan against a fresh bot; check what it did; the number of updates sent."""
    seen = Observed()
    async with FakeBotApi() as server:
        with Tracer(seen) as tracer:
            bot = await start_bot(server, folder)
            bot.application.add_error_handler(tracer.on_error)
            seen.commands = sorted(bot.commands())
            seen.patterns = button_patterns(bot)
            try:
                await set_up(bot, server, seen)
                for batch in plan:
                    for act in batch:
                        do(server, act, seen, draw)
                    await settle(bot, server)
            finally:
                await bot.stop()
        check(bot, seen)
    return len(seen.updates)


async def set_up(bot: BotUnderTest, server: FakeBotApi, seen: Observed) -> None:
    """Patients with their baselines sent (two half answered), staff, strangers; each has a
    message from the bot to press buttons on."""
    for user_id in (*STAFF, *STRANGERS):
        server.add_user(user_id, f"U{user_id}", started=True)
    with bot.session() as session:
        for user_id, role in ((COORDINATOR_ID, "coordinator"), (CLINICIAN_ID, "clinician")):
            repo.add_staff_member(
                session, user_id=user_id, role=role, name=None, now=bot.clock.now()
            )
        session.commit()
    add_active_patients(bot, list(PATIENTS[:3]))
    add_active_patients(bot, list(PATIENTS[3:]), infusion=False)
    await bot.dispatch()
    for user_id in PATIENTS[:2]:
        question = await server.next_message(user_id, contains="How bad is your pain")
        server.user(user_id).press(question, button_text="6")
        press = Act(user_id, "press")
        seen.updates[server.pending_updates[-1]["update_id"]] = Sent(
            user_id, press, "", question.text
        )
    for user_id in PEOPLE:
        do(server, Act(user_id, "text", "/help"), seen)
    await settle(bot, server)


def do(server: FakeBotApi, act: Act, seen: Observed, draw: Callable | None = None) -> None:
    """Send what `act` says as `act.who`, and remember which update it became."""
    user = server.user(act.who)
    own = [m for m in user.messages() if not m.deleted]
    pressed_on, text = "", act.text
    if act.kind in ("press", "forged", "mutated", "shaped"):
        message = own[act.pick % len(own)]
        pressed_on = message.text or ""
        data = press_data(server, act, message, seen.patterns, draw)
        if data is None:
            return
        user.press_forged(message, data)
    elif act.kind == "command":
        name = seen.commands[act.pick % len(seen.commands)]
        text = f"/{name}{act.text}".strip()
        user.send_text(text)
    elif act.kind == "edit":
        mine = editable_texts(server, act.who)
        if not mine:
            return
        user.edit_message(mine[act.pick % len(mine)], act.text)
    elif act.kind == "text":
        user.send_text(act.text)
    elif act.kind == "sticker":
        user.send_sticker(act.text)
    elif act.kind == "document":
        user.send_document("notes.txt", b"my notes", caption=act.text or None)
    elif act.kind == "photo":
        user.send_photo(b"\xff\xd8\xff", caption=act.text or None)
    update = server.pending_updates[-1]
    seen.updates[update["update_id"]] = Sent(act.who, act, text, pressed_on)


def button_patterns(bot: BotUnderTest) -> list[re.Pattern]:
    """The patterns of the application's button handlers (data that gets past them)."""
    return [
        handler.pattern
        for handlers in bot.application.handlers.values()
        for handler in handlers
        if isinstance(handler, CallbackQueryHandler) and isinstance(handler.pattern, re.Pattern)
    ]


def editable_texts(server: FakeBotApi, user_id: int) -> list[int]:
    """The ids of the texts this person sent in their chat, oldest first."""
    incoming = server._chat(user_id).incoming  # noqa: SLF001 - the fake's record of it
    return sorted(mid for mid, m in incoming.items() if "text" in m)


def press_data(
    server: FakeBotApi, act: Act, message, patterns: list[re.Pattern], draw: Callable
) -> str | None:
    """The callback data a press sends: a button of the message itself, random bytes, data
    that gets past one of the app's button patterns, or some button the bot sent, mutated."""
    if act.kind == "forged":
        return act.text
    if act.kind == "shaped":
        pattern = patterns[act.pick % len(patterns)]
        head = draw(st.from_regex(pattern))
        # Shaped as the bot's own data is: a record number, a word, then small numbers.
        shape = (NUMBERS, WORDS, NUMBERS, NUMBERS)
        fields = [kind[m % len(kind)] for kind, m in zip(shape, act.mutations, strict=False)]
        return fit(":".join([head[: pattern.match(head).end()].rstrip(":"), *fields]))
    if act.kind == "press":
        buttons = [data for _, data in message.buttons if data]
        return buttons[act.pick % len(buttons)] if buttons else None
    everywhere = [
        data
        for user_id in PEOPLE
        for sent in server.messages(user_id, include_deleted=True)
        for _, data in sent.buttons
        if data
    ]
    if not everywhere:
        return None
    return mutate(everywhere[act.pick % len(everywhere)], act.mutations)


def mutate(data: str, mutations: tuple[int, ...]) -> str:
    """Real callback data changed as an attacker would: other numbers, another action, a
    field dropped or added; no mutation at all presses someone else's button as it is."""
    fields = data.split(":")
    for m in mutations:
        kind, where = m % 4, (m // 4) % len(fields)
        if kind == 0:
            fields[where] = NUMBERS[m % len(NUMBERS)]
        elif kind == 1:
            fields[0] = ACTION_LETTERS[m % len(ACTION_LETTERS)]
        elif kind == 2 and len(fields) > 1:
            fields.pop()
        else:
            fields.append(NUMBERS[m % len(NUMBERS)])
    return fit(":".join(fields))


def fit(data: str) -> str:
    """Callback data cut to Telegram's 64 bytes (never empty)."""
    while len(data.encode()) > 64:
        data = data[:-1]
    return data or "?"


async def settle(bot: BotUnderTest, server: FakeBotApi) -> None:
    """Wait until every update sent is handled and every message due is sent."""

    def quiet() -> bool:
        if server.pending_updates or bot.running._busy():  # noqa: SLF001
            return False
        with bot.session() as session:
            unhandled = session.exec(
                select(func.count())
                .select_from(InboxUpdate)
                .where(InboxUpdate.handled_at.is_(None))
            ).one()
            due = session.exec(
                select(func.count())
                .select_from(OutboxMessage)
                .where(
                    OutboxMessage.status == OutboxStatus.PENDING,
                    OutboxMessage.next_attempt_at <= bot.clock.now(),
                )
            ).one()
        return not unhandled and not due

    await server.wait_for(quiet, timeout=30, describe=lambda: "the bot is still busy")


def check(bot: BotUnderTest, seen: Observed) -> None:
    """Everything the module docstring promises, over everything observed."""
    assert not seen.errors, seen.errors
    patients = {p.id: p for p in bot.all(Patient)}
    by_chat = {p.chat_id: p for p in patients.values() if p.chat_id}
    check_ins = {c.id: c for c in bot.all(CheckIn)}
    held_back = bot.all(InboxUpdate, col(InboxUpdate.outcome).in_((THROTTLED, RELAYED)))
    flooded = {u.chat_id for u in held_back}
    alert_patients = {a.id: a.patient_id for a in bot.all(Alert)}
    for update_id, check_in_id, question_id in seen.answers:
        sent = seen.updates.get(update_id)
        owner = patients[check_ins[check_in_id].patient_id]
        where = f"answer to {question_id} of check-in {check_in_id} by update {update_id}: {sent}"
        assert sent is not None, where
        assert sent.who == owner.telegram_user_id or staff_may(sent, owner, "pain="), where
    for update_id, row in seen.outbox:
        sent = seen.updates.get(update_id) if update_id is not None else None
        where = f"{row.method} {row.text!r:.80} to {row.chat_id}, caused by {sent}"
        if row.chat_id in STRANGERS:
            assert sent is None or sent.who == row.chat_id, where
            assert row.text in (
                locales.say("en", "stranger", user_id=row.chat_id),
                *STRANGER_TEXTS,
            ), where
        patient = by_chat.get(row.chat_id)
        if patient is None:
            continue
        if sent is None:  # the bot's own work: check-ins, old buttons, a flood's words relayed
            owned = row.check_in_id and check_ins[row.check_in_id].patient_id == patient.id
            retired = row.method == Method.CLEAR  # the buttons of a message there go
            # A flood's own: its "slow down", and what its relayed words tell the patient.
            slowed = row.text in SLOW_DOWN
            relayed = (
                row.purpose == Purpose.SAFETY and alert_patients.get(row.alert_id) == patient.id
            )
            assert owned or retired or (patient.chat_id in flooded and (slowed or relayed)), where
        else:
            assert sent.who == row.chat_id or staff_may(sent, patient), where
    failed = bot.all(OutboxMessage, OutboxMessage.status == OutboxStatus.FAILED)
    assert not [(r.chat_id, r.method, r.last_error) for r in failed if r.last_error != "flood"]


def staff_may(sent: Sent, patient: Patient, needs: str = "") -> bool:
    """A coordinator's action meant to reach this patient: a command of ALLOWED_STAFF_EFFECTS
    naming them, or a press on the confirmation that names them."""
    if sent.who not in COORDINATORS or needs not in sent.text:
        return False
    names = re.compile(rf"(?<![\w]){re.escape(patient.clinic_ref)}(?![\w])")
    if sent.act.kind == "command":
        command = sent.text.split()[0].lstrip("/").split("@")[0]
        return command in ALLOWED_STAFF_EFFECTS and bool(names.search(sent.text))
    return sent.act.kind in ("press", "mutated") and bool(names.search(sent.pressed_on))
