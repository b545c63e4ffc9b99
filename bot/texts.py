"""Staff-facing sentences (English). What patients read is in bot/locales, in their language;
clinical wording is in the protocol."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

NOT_YOUR_ROLE = "Your role does not include that command. /help lists yours."
PRIVATE_ONLY = "Please use this command in a private chat with me."
# Reviewing answers: the summary's words are in bot/locales; this is the same in every language.
SUMMARY_ANSWER_MAX = 80  # characters of a typed answer shown in the summary


def summary_answer(answer: str) -> str:
    """An answer as the summary shows it: long typed words are cut short."""
    if len(answer) <= SUMMARY_ANSWER_MAX:
        return answer
    return answer[: SUMMARY_ANSWER_MAX - 1].rstrip() + "…"


def format_time(moment: datetime, tz: ZoneInfo) -> str:
    """A moment on the reader's clock: "Tue 24 Nov 14:05"."""
    return moment.astimezone(tz).strftime("%a %d %b %H:%M")


# Staff
ENROLL_USAGE = (
    "Usage: /enroll <ref> [display name] [tz=Europe/Madrid] [lang=<code>]\n"
    "<ref> is the clinic reference (letters, digits, . _ -, up to 32).\n"
    "tz= is the patient's time zone when it is not the clinic's (a city works too: tz=Madrid).\n"
    "lang=es writes to the patient in Spanish from the invite on (default: their Telegram"
    " app's language).\n"
    "/reinvite <ref> replaces a link that was lost (the old one stops working)."
)
INFUSION_USAGE = (
    "Usage: /infusion <ref> [start time] [dose] [pain=N ...]\n"
    "Start time: HH:MM today or YYYY-MM-DD HH:MM in the clinic's time zone; default now.\n"
    "pain=N (or another measure): a baseline taken in the clinic before the infusion.\n"
    "Example: /infusion MRN123 09:30 0.5 mg/kg pain=6"
)
UNKNOWN_PATIENT = "No patient with reference {ref}."
PATIENT_NOT_ACTIVE = "{ref} has not joined yet (or is not active), so no check-ins can be sent."
STAFF_CANNOT_ENROL = "You are clinic staff, so you cannot join as a patient with this account."
STALE_BUTTON = "This question is closed or was already answered."
FOREIGN_BUTTON = "This button is not for you."  # a staff button pressed by someone else
ALREADY_ENROLLED = "{ref} is already enrolled and linked to Telegram."
UNKNOWN_COMMAND_STAFF = "I don't know that command. /help lists yours."
ACKNOWLEDGE_BUTTON = "Acknowledge"


def acknowledge_numbered(number: int) -> str:
    """The Acknowledge button of one alert among several in one staff message."""
    return f"{ACKNOWLEDGE_BUTTON} #{number}"


ALERT_SEPARATOR = "\n\n———\n\n"  # between the alerts one staff message carries


ACK_USAGE = "Usage: /ack <alert number>, for example /ack 12 (the number is in the alert's title)."


def no_such_alert(number: int) -> str:
    """/ack with a number no alert has."""
    return f"There is no alert #{number}. {ACK_USAGE}"


def already_acknowledged(who: str, at: datetime, tz: ZoneInfo) -> str:
    """A second acknowledgement: who took the alert on first."""
    return f"Already acknowledged by {who} at {format_time(at, tz)}."


ACKNOWLEDGED = "Acknowledged. Thank you."
STAFF_ONLY_BUTTON = "Only clinic staff can acknowledge alerts."

SEVERITY_HEADINGS = {
    "emergency": "🚨 EMERGENCY",
    "urgent": "⚠️ URGENT",
    "review": "📋 Review",
}


def enrolled(ref: str, link: str, expires: datetime, tz: ZoneInfo, reissued: bool) -> str:
    """The coordinator's answer to /enroll."""
    first = (
        f"New invite for {ref} (earlier links no longer work)."
        if reissued
        else (f"Enrolled {ref}.")
    )
    return (
        f"{first} Send this single-use link to the patient:\n{link}\n"
        f"It expires on {format_time(expires, tz)}. I will tell you when they join."
    )


def patient_joined(ref: str) -> str:
    """Told to the coordinator who enrolled the patient."""
    return f"{ref} has joined and consented to follow-up."


def patient_declined(ref: str) -> str:
    """Told to the coordinator who enrolled the patient."""
    return f"{ref} opened the invite and chose not to take part."


def infusion_recorded(
    ref: str,
    number: int,
    started: datetime,
    tz: ZoneInfo,
    planned: list[tuple[str, datetime]],
    cancelled: int,
) -> str:
    """The coordinator's answer to /infusion, listing the check-ins scheduled."""
    lines = [
        f"Infusion recorded for {ref} (infusion #{number}), started {format_time(started, tz)}"
        f" ({tz.key})."
    ]
    if cancelled:
        lines.append(f"{cancelled} unsent check-ins of the previous infusion were cancelled.")
    lines.append(f"{len(planned)} check-ins scheduled:")
    lines += [f"• {title}: {format_time(due, tz)}" for title, due in planned]
    return "\n".join(lines)


def staff_alert(
    number: int,
    severity: str,
    ref: str,
    name: str | None,
    description: str,
    summary: str,
    step_title: str | None,
    created: datetime,
    tz: ZoneInfo,
    interrupted: bool = False,
    label: str = "Answered",
) -> str:
    """A staff alert: who, what was answered (or written), which rule, when."""
    patient = f"{ref} ({name})" if name else ref
    lines = [
        f"{SEVERITY_HEADINGS.get(severity, severity)} alert #{number}",
        f"Patient: {patient}",
        f"Rule: {description}",
        f"{label}: {summary}",
    ]
    if step_title:
        lines.append(f"Check-in: {step_title}")
    if interrupted:
        lines.append(CHECK_IN_INTERRUPTED)
    lines.append(f"Time: {format_time(created, tz)} ({tz.key})")
    return "\n".join(lines)


CHECK_IN_INTERRUPTED = "The check-in stopped at this answer: nothing more was asked."
FOLLOW_UP_REDUCED = (
    "Follow-up changed: the rest of this infusion's check-ins, up to week 8, ask only the"
    " safety questions (screener, side effects, urine and liver)."
)


def baseline_missing(minutes_late: int, borrowed: bool) -> str:
    """Told to the coordinator when an infusion is recorded too late for a baseline."""
    fallback = (
        "Pain and mood will be compared with the previous infusion's baseline, marked as such."
        if borrowed
        else "There is no earlier baseline, so nothing will be compared with baseline."
    )
    return (
        f"No baseline check-in: the infusion was recorded {minutes_late} min after its start,"
        f" so the patient's answer would not be from before it. {fallback} Next time, record"
        " the infusion before it starts, or add the clinic's reading, e.g. pain=6."
    )


def clinic_baseline_recorded(values: dict[str, int]) -> str:
    """Confirms the baseline typed by the coordinator."""
    listed = ", ".join(f"{name} {value}" for name, value in values.items())
    return f"Baseline taken in the clinic recorded ({listed}); no baseline check-in is sent."


def setup_warnings(warnings: list[str]) -> str:
    """Sent privately to the admins at start while something needs fixing."""
    lines = ["⚠️ Before patients rely on this bot, please fix:"]
    lines += [f"• {warning}" for warning in warnings]
    lines.append("`python -m bot check` lists these too.")
    return "\n".join(lines)


def digest_line(number: int, ref: str, rule: str, summary: str) -> str:
    """One alert in the out-of-hours digest."""
    return f"#{number} · {ref} · {rule}: {summary}"


def review_digest(lines: list[str]) -> str:
    """Review alerts raised while the clinic was closed, sent when it opens."""
    heading = f"{SEVERITY_HEADINGS['review']} alerts from outside office hours ({len(lines)}):"
    return "\n".join(
        [
            heading,
            *lines,
            "Acknowledging this message (or /ack any number in it) acknowledges them all.",
        ]
    )


def also_alert(number: int, severity: str, rule: str, summary: str) -> str:
    """A further rule the same answer set off, under the most severe one."""
    return f"Also #{number} ({severity}): {rule}: {summary}"


def acknowledged_line(who: str, at: datetime, tz: ZoneInfo) -> str:
    """Appended to every copy of an alert once someone acknowledges it."""
    return f"✅ Acknowledged by {who} at {format_time(at, tz)}"


def escalation(minutes: int, alert_text: str) -> str:
    """The re-send of an alert nobody acknowledged in time."""
    return f"⏰ Not acknowledged within {minutes} min — escalated.\n\n{alert_text}"


def patient_unreachable(ref: str) -> str:
    """Staff notice when a patient has blocked the bot or deleted their account."""
    return f"Messages to {ref} cannot be delivered (bot blocked or account deleted)."


# Staff management
INVITE_STAFF_USAGE = "Usage: /invite_staff <coordinator|clinician|admin>"
REMOVE_STAFF_USAGE = "Usage: /remove_staff <Telegram id or @name> (see /staff)"
PATIENT_CANNOT_BE_STAFF = (
    "This account is enrolled as a patient, so it cannot also be clinic staff. "
    "Please use another Telegram account."
)
ADMIN_FROM_ENVIRONMENT = (
    "That admin is set in ADMIN_TELEGRAM_IDS; remove them there and restart the bot."
)
CANNOT_REMOVE_SELF = "You cannot remove yourself; ask another admin."
REMOVAL_CANCELLED = "Nothing was changed."
YOU_WERE_REMOVED = "You are no longer clinic staff in this bot. Ask an admin if this is a mistake."
REMOVE_BUTTON, KEEP_BUTTON = "Remove", "Keep"


def staff_invited(role: str, link: str, expires: datetime, tz: ZoneInfo) -> str:
    """The admin's answer to /invite_staff."""
    return (
        f"Send this single-use link to the new {role}:\n{link}\n"
        f"It expires on {format_time(expires, tz)}. I will tell you when they join."
    )


def staff_welcome(role: str) -> str:
    """Told to someone who joined with a staff link."""
    return f"Welcome: you are now clinic staff, as {role}.\n\n{help_for(role)}"


def staff_joined(name: str, role: str) -> str:
    """Told to the admin whose link was used."""
    return f"{name} joined as {role}."


def staff_list(rows: list[tuple[str | None, int, str, bool]], on_call: str | None) -> str:
    """/staff: (name, Telegram id, role, set in the environment) for each person."""
    lines = [f"Clinic staff ({len(rows)}):"]
    for name, user_id, role, from_env in rows:
        where = " (ADMIN_TELEGRAM_IDS)" if from_env else ""
        lines.append(f"• {name or 'id'} · {user_id} · {role}{where}")
    lines.append(on_call_now(on_call))
    return "\n".join(lines)


SNOOZE_USAGE = (
    "Usage: /snooze <ref> <rule id> <duration>, for example /snooze MRN1 pain_worse_twice 7d"
    " (at most 30 days; rule ids are in `python -m bot check`)"
)
NO_EMERGENCY_SNOOZE = "Emergency rules cannot be snoozed."


def unknown_rule(rule_id: str) -> str:
    """/snooze with a rule the protocol does not have."""
    return f"The protocol has no rule {rule_id[:32]!r}. {SNOOZE_USAGE}"


def snoozed(ref: str, rule: str, until: datetime, tz: ZoneInfo) -> str:
    """/snooze done."""
    return (
        f"“{rule}” will not alert for {ref} until {format_time(until, tz)}. Its alerts are still"
        " recorded, acknowledged as snoozed, and shown in /patient."
    )


def snooze_line(rule: str, until: datetime, tz: ZoneInfo) -> str:
    """A running snooze in /patient."""
    return f"Snoozed: {rule} until {format_time(until, tz)}"


ONCALL_USAGE = "Usage: /oncall (who is on call), /oncall me, /oncall off, or /oncall <id> (admins)"
ONCALL_ONLY_SELF = "Only an admin can put someone else on call; /oncall me takes it yourself."
ONCALL_NOT_CLINICIAN = "Only a clinician or an admin can be on call."


def on_call_now(name: str | None) -> str:
    """Who gets emergency and urgent alerts privately out of office hours."""
    if name is None:
        return "On call out of hours: nobody (alerts go to the staff group or the admins only)."
    return f"On call out of hours: {name} (emergency and urgent alerts also go to them)."


def confirm_removal(name: str, user_id: int, role: str) -> str:
    """The question before /remove_staff takes effect."""
    return f"Remove {name} ({user_id}, {role}) from clinic staff? They lose every staff command."


def staff_removed(name: str) -> str:
    """/remove_staff confirmed."""
    return f"{name} is no longer clinic staff."


def no_such_staff(who: str) -> str:
    """/remove_staff for someone who is not staff."""
    return f"No staff member {who[:40]!r}. {REMOVE_STAFF_USAGE}"


def staff_name_ambiguous(who: str) -> str:
    """/remove_staff by a name several staff share."""
    return f"Several staff members are called {who[:40]!r}; use their Telegram id from /staff."


HELP_CLINICIAN = (
    "Alerts arrive here or in the staff group; tap Acknowledge when you take one on.\n"
    "/alerts - open alerts · /patients - everyone · /patient <ref> - one patient\n"
    "/oncall [me|off] - who gets emergency and urgent alerts out of office hours\n"
    "/snooze <ref> <rule> <time> - a rule stops alerting for a patient for a while\n"
    "/ack <number> - acknowledge an alert by its number (also in the staff group)\n"
    "/help - this message"
)
HELP_COORDINATOR = (
    "/enroll <ref> [display name] [tz=Europe/Madrid] [lang=es] - enrol a patient and get"
    " their invite link (tz=: their time zone, when not the clinic's; lang=: their language)\n"
    "/reinvite <ref> - a new link for a patient who has not joined (the old one stops)\n"
    "/infusion <ref> [start time] [dose] [pain=N] - record an infusion and schedule its"
    " check-ins (record it before the start, or give the clinic's baseline pain=N)\n"
    "/infusion_edit <ref> <start time> - move the latest infusion's start and its check-ins\n"
    "/infusion_cancel <ref> - cancel the latest infusion's check-ins still to come\n"
    "/pause <ref> [date], /resume <ref>, /discharge <ref> - a patient's follow-up\n"
    "/alerts - open alerts · /patients [silent|alerts] - everyone · /patient <ref> - one\n"
    "/ack <number> - acknowledge an alert by its number (also in the staff group)\n"
    "/help - this message\n"
    "Alerts arrive here or in the staff group; tap Acknowledge when you take one on."
)
HELP_ADMIN_EXTRA = (
    "\nAdmins also:\n"
    "/invite_staff <coordinator|clinician|admin> - a single-use link for a new staff member\n"
    "/staff - who is staff, with their roles\n"
    "/remove_staff <id|@name> - take someone's staff role away (asks first)\n"
    "/audit [ref] - the last 50 audited actions\n"
    "/oncall [me|off|<id>] - who gets emergency and urgent alerts out of office hours"
)


def help_for(role: str) -> str:
    """The /help text for a staff role."""
    if role == "clinician":
        return HELP_CLINICIAN
    return HELP_COORDINATOR + (HELP_ADMIN_EXTRA if role == "admin" else "")


def group_unreachable(why: str) -> str:
    """First line of a staff message re-sent privately because the staff group failed."""
    return f"⚠️ Sent to you privately: the staff group could not take it ({why})."


def group_lost(why: str) -> str:
    """Admins' notice that the bot can no longer post in the staff group."""
    return (
        f"⚠️ I can no longer post alerts in the staff group ({why}). Until it is fixed, "
        "alerts come to admins privately. Add me back (with the right to post) or change "
        "STAFF_ALERT_CHAT_ID."
    )


def invite_still_open(ref: str, expires: datetime, tz: ZoneInfo) -> str:
    """/enroll for a patient whose invite link is still open: nothing is replaced."""
    return (
        f"{ref} already has an open invite link, valid until {format_time(expires, tz)}. "
        f"Nothing was changed. If that link was lost, send /reinvite {ref} to replace it "
        "(the old link then stops working)."
    )


def infusion_already_recorded(ref: str, started: datetime, tz: ZoneInfo) -> str:
    """A repeated /infusion for the same start: the first one stands."""
    return (
        f"An infusion for {ref} starting {format_time(started, tz)} was recorded a moment ago; "
        "nothing was changed."
    )


def unreachable_patients(description: str, refs: list[str]) -> str:
    """Several "patient unreachable" notices in one staff message."""
    lines = [f"{SEVERITY_HEADINGS['review']}: {description} — {len(refs)} patients"]
    lines += [f"• {ref}" for ref in refs]
    lines.append("Messages to them cannot be delivered (bot blocked or account deleted).")
    return "\n".join(lines)


# Pause, resume, discharge
YES_BUTTON, NO_BUTTON = "Yes", "No"
PAUSE_USAGE = "Usage: /pause <ref> [YYYY-MM-DD [HH:MM]] (until then; without a date, until /resume)"
RESUME_USAGE = "Usage: /resume <ref>"
DISCHARGE_USAGE = "Usage: /discharge <ref>"
CHANGE_QUESTIONS = {
    "pause": "Pause {ref}'s check-ins{until}? Nothing is sent meanwhile; check-ins whose time"
    " passes are skipped. The patient is told, and can still write to the clinic here.",
    "resume": "Resume {ref}'s check-ins? Those whose window is still open are sent.",
    "discharge": "Discharge {ref}? Every check-in still to come is cancelled and the patient is"
    " told their follow-up has ended. This cannot be undone here.",
}
CHANGED = {
    "pause": "{ref} is paused.",
    "resume": "{ref} is active again.",
    "discharge": "{ref} is discharged.",
}


def confirm_change(change: str, ref: str, until: datetime | None, tz: ZoneInfo) -> str:
    """The question before /pause, /resume or /discharge takes effect."""
    end = f" until {format_time(until, tz)}" if until else ""
    return CHANGE_QUESTIONS[change].format(ref=ref, until=end)


def cannot_change(change: str, ref: str, status: str) -> str:
    """A change that does not fit the patient's status."""
    return f"{ref} is {status}, so they cannot be {change}d now. Nothing was changed."


def changed(change: str, ref: str) -> str:
    """The answer once a change is made."""
    return CHANGED[change].format(ref=ref)


# Staff views
STATUS_MARKS = {
    "answered": "✓",
    "partial": "◐",
    "interrupted": "⛔",
    "missed": "✗",
    "cancelled": "–",
    "stopped": "⏹",
}
NO_INFUSION_YET = "No infusion recorded yet."
PATIENTS_USAGE = "Usage: /patients [silent|alerts]"
PATIENT_USAGE = "Usage: /patient <ref>"
AUDIT_USAGE = "Usage: /audit [ref]"
VIEW_BUTTONS = ("‹ Previous", "Next ›")


MESSAGE_LIMIT = 4000  # Telegram takes 4096 characters


def fit(text: str) -> str:
    """A text cut to what one Telegram message holds."""
    return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 2] + "\n…"


def age(elapsed: timedelta) -> str:
    """How long ago, briefly: "5 min", "2 h 5 min", "3 d 4 h"."""
    minutes = max(0, int(elapsed.total_seconds() // 60))
    if minutes < 1:
        return "just now"
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h ago" if hours else f"{days} d ago"
    if hours:
        return f"{hours} h {minutes} min ago" if minutes else f"{hours} h ago"
    return f"{minutes} min ago"


def open_alert_line(number: int, severity: str, who: str, rule: str, elapsed: timedelta) -> str:
    """One open alert in /alerts."""
    mark = SEVERITY_HEADINGS.get(severity, severity).split()[0]
    return f"#{number} {mark} {severity} · {who} · {rule} · {age(elapsed)}"


def open_alerts(total: int, page: int, pages: int, lines: list[str]) -> str:
    """/alerts."""
    if not total:
        return "No open alerts."
    heading = f"Open alerts: {total}, oldest first" + (
        f" · page {page + 1} of {pages}" if pages > 1 else ""
    )
    return "\n".join([heading, *lines, "Tap a number to acknowledge it, or send /ack <number>."])


def patient_line(
    who: str, status: str, since: timedelta | None, answered: int, sent: int, alerts: int
) -> str:
    """One patient in /patients."""
    last = f"last answer {age(since)}" if since is not None else "no answer yet"
    adherence = f"{answered}/{sent} answered" if sent else "nothing sent yet"
    flags = f" · {alerts} open alert{'s' if alerts != 1 else ''}" if alerts else ""
    return f"{who} · {status} · {last} · {adherence}{flags}"


def patient_list(total: int, show: str, page: int, pages: int, lines: list[str]) -> str:
    """/patients [silent|alerts]."""
    kind = {"all": "Patients", "silent": "Silent patients", "alerts": "Patients with open alerts"}
    heading = f"{kind[show]}: {total}" + (f" · page {page + 1} of {pages}" if pages > 1 else "")
    if not total:
        return f"{heading}\nNobody here."
    return "\n".join([heading, *lines, "/patient <ref> shows one in full."])


def patient_heading(who: str, status: str, consent_at: datetime | None, tz: ZoneInfo) -> str:
    """First line of /patient."""
    joined = f" · consented {format_time(consent_at, tz)}" if consent_at else ""
    return f"{who} · {status}{joined}"


def infusion_heading(
    number: int,
    count: int,
    started: datetime,
    dose: str | None,
    tz: ZoneInfo,
    cancelled: datetime | None = None,
) -> str:
    """An infusion in /patient, by its number for the patient (cancelled ones say so)."""
    given = f", {dose}" if dose else ""
    gone = f" · cancelled {format_time(cancelled, tz)}" if cancelled else ""
    return f"\nInfusion #{number} of {count}: {format_time(started, tz)}{given}{gone}"


def pain_trend(chart: str, band: str | None) -> str:
    """Pain against baseline as a compact chart, with the best response band."""
    best = f" (best: {band} response)" if band and band != "none" else ""
    return f"Pain against baseline: {chart}{best}"


def check_in_states(rows: list[tuple[str, str, datetime]], tz: ZoneInfo) -> str:
    """Each check-in of an infusion with its state; pending ones with their due time."""
    parts = []
    for title, status, due in rows:
        mark = STATUS_MARKS.get(status)
        parts.append(f"{title} {mark}" if mark else f"{title} ({status}, {format_time(due, tz)})")
    return "Check-ins: " + " · ".join(parts)


def follow_up_state(reduced: bool, missed: int, sent: int) -> str:
    """The follow-up's state and adherence."""
    kind = "safety questions only (relief wore off)" if reduced else "full"
    adherence = f"{sent - missed}/{sent} answered, {missed} missed" if sent else "nothing sent yet"
    return f"Follow-up: {kind} · {adherence}"


def summary_alert_line(
    number: int, severity: str, rule: str, elapsed: timedelta, acknowledged: bool
) -> str:
    """An alert in /patient."""
    state = "acknowledged" if acknowledged else "OPEN"
    return f"#{number} {severity} · {rule} · {age(elapsed)} · {state}"


def audit_line(
    at: datetime,
    actor: int | None,
    action: str,
    ref: str | None,
    detail: str | None,
    tz: ZoneInfo,
) -> str:
    """One audit entry."""
    parts = [format_time(at, tz), f"by {actor}" if actor is not None else "by the bot", action]
    parts += [p for p in (ref, detail) if p]
    return " · ".join(parts)


def audit_trail(ref: str | None, lines: list[str]) -> str:
    """/audit [ref]."""
    heading = f"Audit of {ref}" if ref else "Audit"
    if not lines:
        return f"{heading}: nothing recorded."
    return "\n".join([f"{heading}, newest first ({len(lines)}):", *lines])


# Time zones (issue 9)


def zone_button(place: str, now: datetime, tz: ZoneInfo, current: bool) -> str:
    """One place under /timezone, with its time now (no words: the same in every language)."""
    return f"{'✓ ' if current else ''}{place} · {now.astimezone(tz):%H:%M}"


def patient_zone_set(zone: str) -> str:
    """Told to the coordinator who gave tz= with /enroll."""
    return f"Their time zone: {zone}."


def start_repeated(started: datetime, tz: ZoneInfo) -> str:
    """Told to the coordinator when the typed start came twice (the clocks went back)."""
    local = started.astimezone(tz)
    return (
        f"Note: {local:%H:%M} came twice on {local:%a %d %b} in {tz.key} (the clocks went back). "
        f"I took the first, {local:%H:%M %Z} ({started:%H:%M} UTC)."
    )


# My data (/mydata): the words are in bot/locales; these are the same in every language.
MY_DATA_BUTTONS = ("◀", "▶")
MY_DATA_PAGE_LIMIT = 3500  # well under Telegram's 4,096 characters, heading and footer included

# -- Stop and rejoin, blocking, enrolment edges, infusion changes (issue 9) --------------


def patient_stopped(ref: str, cancelled: int) -> str:
    """Staff notice: a patient sent /stop."""
    return (
        f"{ref} sent /stop: no more check-ins go to them ({cancelled} cancelled). "
        "Their messages still reach you; they can come back with /start."
    )


def patient_rejoined(ref: str, resumed: int, paused: bool) -> str:
    """Staff notice: a stopped patient came back with /start (to a clinic pause, if any)."""
    if paused:
        return f"{ref} came back with /start; the clinic's pause still holds their check-ins."
    return (
        f"{ref} came back with /start: their check-ins are on again "
        f"({resumed} whose window is still open resume)."
    )


def patient_reachable_again(ref: str, status: str) -> str:
    """Staff notice: a patient who had blocked the bot can be reached again."""
    return f"{ref} can be reached again (they unblocked the bot); their follow-up is {status}."


def patient_came_back_to_consent(ref: str) -> str:
    """Told to the coordinator: a patient who said no thanks opened the invite again."""
    return f"{ref} opened the invite again after saying no thanks; they see the consent again."


def patient_joined_after_declining(ref: str) -> str:
    """Told to the coordinator: a patient who said no thanks came back and agreed."""
    return f"{ref} came back and has joined and consented (they had said no thanks first)."


def invite_opened_by_enrolled(invite_ref: str, enrolled_ref: str) -> str:
    """Told to the coordinator: someone already enrolled opened another patient's invite."""
    return (
        f"The invite for {invite_ref} was opened by {enrolled_ref}, who is already enrolled. "
        f"Nothing changed, and the link for {invite_ref} still works."
    )


INFUSION_EDIT_USAGE = (
    "Usage: /infusion_edit <ref> <HH:MM | YYYY-MM-DD HH:MM>\n"
    "Moves the start of the patient's latest infusion (clinic time zone) and its check-ins"
    " that are still to come."
)
INFUSION_CANCEL_USAGE = (
    "Usage: /infusion_cancel <ref>\n"
    "Cancels the check-ins still to come of the patient's latest infusion."
)
INFUSION_CHANGED_MEANWHILE = (
    "This infusion changed since you asked (moved, cancelled, or a newer one was recorded). "
    "Nothing was changed; send the command again to see it as it is now."
)


def infusion_label(ref: str, number: int) -> str:
    """An infusion as staff read it: "MRN5's infusion #2"."""
    return f"{ref}'s infusion #{number}"


def no_infusion(ref: str) -> str:
    """/infusion_edit or /infusion_cancel for a patient with no infusion."""
    return f"{ref} has no infusion recorded. Nothing was changed."


def infusion_is_cancelled(ref: str, number: int) -> str:
    """The latest infusion was cancelled already."""
    return f"{infusion_label(ref, number)} is cancelled. Nothing was changed."


def same_start(ref: str, number: int) -> str:
    """/infusion_edit to the start the infusion already has."""
    return f"{infusion_label(ref, number)} already starts then. Nothing was changed."


def infusion_not_movable(ref: str, number: int) -> str:
    """/infusion_edit once check-ins were answered or missed at the old times."""
    return (
        f"{infusion_label(ref, number)} cannot be moved: check-ins after its start were "
        "already answered or missed, and that record belongs to the old time. Nothing was "
        "changed. To correct it, /infusion_cancel it and record it again with /infusion."
    )


def confirm_infusion_move(
    ref: str, number: int, old: datetime, new: datetime, tz: ZoneInfo, moving: int
) -> str:
    """The question before /infusion_edit takes effect."""
    return (
        f"Move {infusion_label(ref, number)} from {format_time(old, tz)} to "
        f"{format_time(new, tz)} ({tz.key})? Its {moving} check-ins still to come move with "
        "it (one already sent and unanswered is withdrawn and asked again at its new time); "
        "the patient is told."
    )


def confirm_infusion_cancel(ref: str, number: int, started: datetime, tz: ZoneInfo, left: int):
    """The question before /infusion_cancel takes effect."""
    return (
        f"Cancel {infusion_label(ref, number)}, started {format_time(started, tz)}? Its {left}"
        " check-ins still to come are cancelled (no missed-check-in alerts); the patient is told."
    )


def infusion_moved(
    ref: str, number: int, started: datetime, tz: ZoneInfo, planned: list[tuple[str, datetime]]
) -> str:
    """/infusion_edit confirmed."""
    lines = [f"{infusion_label(ref, number)} now starts {format_time(started, tz)} ({tz.key})."]
    lines.append(f"{len(planned)} check-ins to come:")
    lines += [f"• {title}: {format_time(due, tz)}" for title, due in planned]
    return "\n".join(lines)


def infusion_cancelled(ref: str, number: int, cancelled: int) -> str:
    """/infusion_cancel confirmed."""
    return f"{infusion_label(ref, number)} is cancelled; {cancelled} check-ins will not be sent."


def step_in_infusion(title: str, number: int) -> str:
    """A check-in's name in a staff alert, with its infusion's number."""
    return f"{title} (infusion #{number})"
