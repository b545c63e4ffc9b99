"""What an operator must fix before patients rely on the bot: warnings, not errors.

`python -m bot check` prints them (and `--strict` fails on them); at start the bot logs them
and sends them privately to the admins.
"""

from __future__ import annotations

from bot.config import Settings
from bot.core.protocol import Protocol

CONTACT_NAMES = {
    "on_call_number": "the on-call number",
    "crisis_line": "the crisis line",
}


def configuration_warnings(
    settings: Settings, protocol: Protocol, staff_members: int | None = None
) -> list[str]:
    """Every warning for this configuration, one sentence each.

    `staff_members` is the number of active staff in the database, when known: alerts can
    reach them even without a staff group or admins in the environment.
    """
    warnings = []
    if not protocol.approved_by.strip():
        warnings.append(
            f"the protocol ({protocol.source}) is not approved: a clinician must check every"
            " question, threshold and message, then sign it in protocol.approved_by"
        )
    for name in protocol.unset_contacts:
        warnings.append(
            f"{CONTACT_NAMES.get(name, name)} is not set (contacts.{name} in the protocol):"
            f" patients are given the emergency number"
            f" {protocol.contacts['emergency_number']} instead"
        )
    nobody = settings.staff_alert_chat_id is None and not settings.admin_ids
    if nobody and not staff_members:
        warnings.append(
            "nobody receives alerts: set STAFF_ALERT_CHAT_ID (a staff group) or ADMIN_TELEGRAM_IDS"
        )
    return warnings
