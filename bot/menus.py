"""The command menu Telegram shows each person: patients', and each staff role's.

Who may run a command is checked by its handler on every call; the menu only shows it.
"""

from __future__ import annotations

from bot.roles import Role
from bot.voice import Voice

Menu = tuple[tuple[str, str], ...]

# Described in the patient's language by bot/locales "menu_<name>".
PATIENT_COMMANDS = ("next", "report", "timezone", "mydata", "stop", "language", "help")


def patient_menu(voice: Voice) -> Menu:
    """The patients' menu in one language."""
    return tuple((name, voice.say(f"menu_{name}")) for name in PATIENT_COMMANDS)


CLINICIAN_MENU: Menu = (
    ("alerts", "Open alerts, oldest first"),
    ("patients", "Every patient: status, last answer, adherence"),
    ("patient", "One patient's summary: /patient <ref>"),
    ("ack", "Acknowledge an alert: /ack <number>"),
    ("help", "Your commands"),
)
COORDINATOR_MENU: Menu = (
    ("enroll", "Enrol a patient: /enroll <ref> [name] [lang=es]"),
    ("reinvite", "A new invite link: /reinvite <ref>"),
    ("infusion", "Record an infusion: /infusion <ref> [time] [dose]"),
    ("infusion_edit", "Move the latest infusion: /infusion_edit <ref> <time>"),
    ("infusion_cancel", "Cancel the latest infusion: /infusion_cancel <ref>"),
    ("pause", "Pause a patient's check-ins: /pause <ref> [date]"),
    ("resume", "Resume a patient's check-ins: /resume <ref>"),
    ("discharge", "End a patient's follow-up: /discharge <ref>"),
    *CLINICIAN_MENU,
)
ADMIN_MENU: Menu = (
    ("invite_staff", "A link for new staff: /invite_staff <role>"),
    ("staff", "Who is staff"),
    ("remove_staff", "Remove a staff member: /remove_staff <id>"),
    ("audit", "The audit trail: /audit [ref]"),
    *COORDINATOR_MENU,
)
ON_CALL: Menu = (
    ("oncall", "Who is on call out of hours: /oncall [me|off]"),
    ("snooze", "Quiet a rule for a patient: /snooze <ref> <rule> <time>"),
)
STAFF_MENUS: dict[Role, Menu] = {
    Role.CLINICIAN: (*ON_CALL, *CLINICIAN_MENU),
    Role.COORDINATOR: COORDINATOR_MENU,
    Role.ADMIN: (*ADMIN_MENU, *ON_CALL),
}
