"""Every registered command, from everyone, with and without arguments: who may do what.

ALLOWED is the table; a command the bot registers but the table does not list fails the
test, so new commands are covered as they come. Everyone else is refused with the polite
line and nothing changes. The command menus Telegram shows match the table.
"""

from __future__ import annotations

from bot.menus import PATIENT_COMMANDS, STAFF_MENUS
from bot.roles import Role
from storage import repository as repo
from storage.models import Alert, CheckIn, Infusion, Invite, Patient, StaffMember
from tests.utils.harness import ADMIN_ID, start_bot
from tests.utils.patients import add_active_patients

PATIENT, CLINICIAN = 1001, 3001  # the targets of commands with arguments
# Each command is sent by fresh accounts (the flood guard counts per person): one person of
# each kind per command, their ids FIRST_ID[kind] + the command's index.
FIRST_ID = {
    "stranger": 40_000,
    "patient": 41_000,
    "clinician": 42_000,
    "coordinator": 43_000,
    "admin": 44_000,
}
STAFF = {"clinician", "coordinator", "admin"}
COORDINATORS = {"coordinator", "admin"}
ADMINS = {"admin"}
ALLOWED = {
    "start": {"patient", *STAFF},
    "help": {"patient", *STAFF},
    "report": {"patient", *STAFF},  # staff get their help
    "next": {"patient", *STAFF},  # staff get their help
    "timezone": {"patient", *STAFF},  # staff get their help
    "mydata": {"patient"},
    "stop": {"patient", *STAFF},  # staff get their help
    "language": {"patient"},
    "ack": STAFF,
    "alerts": STAFF,
    "patients": STAFF,
    "patient": STAFF,
    "enroll": COORDINATORS,
    "reinvite": COORDINATORS,
    "infusion": COORDINATORS,
    "infusion_edit": COORDINATORS,
    "infusion_cancel": COORDINATORS,
    "pause": COORDINATORS,
    "resume": COORDINATORS,
    "discharge": COORDINATORS,
    "invite_staff": ADMINS,
    "staff": ADMINS,
    "remove_staff": ADMINS,
    "audit": ADMINS,
    "oncall": {"clinician", "admin"},
    "snooze": {"clinician", "admin"},
}
# Anyone may open an invite link: a stranger's is answered (valid or not), not refused.
ALLOWED_WITH_ARGUMENTS = {"start": set(FIRST_ID)}
ARGUMENTS = {
    "start": "not-a-real-token",
    "ack": "1",
    "timezone": "Madrid",
    "patient": f"MRN{PATIENT}",
    "patients": "silent",
    "enroll": "MRN900 Ann",
    "reinvite": "MRN900",
    "infusion": "MRN999",
    "infusion_edit": f"MRN{PATIENT} 11:00",
    "infusion_cancel": f"MRN{PATIENT}",
    "pause": f"MRN{PATIENT}",
    "resume": f"MRN{PATIENT}",
    "discharge": f"MRN{PATIENT}",
    "invite_staff": "clinician",
    "remove_staff": str(CLINICIAN),
    "audit": f"MRN{PATIENT}",
    "oncall": "me",
    "snooze": f"MRN{PATIENT} pain_worse_twice 7d",
}
REFUSALS = ("ask your clinic for an invite link", "That command is for clinic staff")
WRONG_ROLE = "Your role does not include that command"


def state(bot) -> dict[str, object]:
    """What a refused command must not change: the rows, and what /pause, /resume,
    /discharge, /stop, /timezone and /language change in place."""
    models = (Patient, StaffMember, Invite, Infusion, CheckIn, Alert)
    counts: dict[str, object] = {m.__name__: len(bot.all(m)) for m in models}
    counts["patients"] = [
        (p.status, p.timezone, p.language, p.paused_until) for p in bot.all(Patient)
    ]
    counts["check-ins"] = [c.status for c in bot.all(CheckIn)]
    return counts


async def test_each_command_from_each_person(fake_bot_api, tmp_path):
    server = fake_bot_api
    commands = sorted(ALLOWED)
    admins = [FIRST_ID["admin"] + i for i in range(len(commands))]
    env = {"ADMIN_TELEGRAM_IDS": ",".join(str(a) for a in admins)}
    bot = await start_bot(server, tmp_path, env=env)
    try:
        assert bot.commands() == set(ALLOWED), "a command is missing from ALLOWED"
        people = [FIRST_ID["patient"] + i for i in range(len(commands))]
        add_active_patients(bot, [PATIENT, *people], infusion=False)
        with bot.session() as session:
            now = bot.clock.now()
            for kind in ("clinician", "coordinator"):
                for i in range(len(commands)):
                    user_id = FIRST_ID[kind] + i
                    repo.add_staff_member(session, user_id=user_id, role=kind, name=None, now=now)
            repo.add_staff_member(session, user_id=CLINICIAN, role="clinician", name="C", now=now)
            session.commit()
        for kind in ("stranger", "clinician", "coordinator", "admin"):
            for i in range(len(commands)):
                server.add_user(FIRST_ID[kind] + i, kind.title(), started=True)
        for index, command in enumerate(commands):
            for arguments in ("", ARGUMENTS.get(command, "")):
                for who, first in FIRST_ID.items():
                    await check(bot, server, command, arguments, who, first + index)
    finally:
        await bot.stop()


async def check(bot, server, command: str, arguments: str, who: str, user_id: int) -> None:
    """Send the command; a refusal for those not allowed, and then nothing changed."""
    before = state(bot)
    server.user(user_id).send_text(f"/{command} {arguments}".strip())
    answer = await server.next_message(user_id)
    refused = any(r in answer.text for r in REFUSALS) or WRONG_ROLE in answer.text
    where = f"/{command} {arguments!r} from the {who}: {answer.text[:80]!r}"
    allowed = ALLOWED_WITH_ARGUMENTS.get(command, ALLOWED[command]) if arguments else None
    assert refused == (who not in (allowed or ALLOWED[command])), where
    if refused:
        assert state(bot) == before, where
        if who == "stranger":
            assert f"this id to be added as staff: {user_id}" in answer.text


def test_the_menus_show_what_each_role_may_do():
    for role, menu in STAFF_MENUS.items():
        for command, _ in menu:
            assert role.value in ALLOWED[command], (role, command)
    for command in PATIENT_COMMANDS:
        assert "patient" in ALLOWED[command], command


async def test_each_person_is_shown_their_menu(bot, fake_bot_api):
    server = fake_bot_api
    listed = [c["command"] for c in server.commands()]
    assert listed == list(PATIENT_COMMANDS)
    admin_menu = [c["command"] for c in server.commands({"type": "chat", "chat_id": ADMIN_ID})]
    assert admin_menu == [name for name, _ in STAFF_MENUS[Role.ADMIN]]
