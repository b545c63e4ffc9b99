"""At start: tell the operator what still needs fixing before patients rely on the bot."""

from __future__ import annotations

import logging

from bot import texts
from bot.checkup import configuration_warnings
from bot.runtime import Runtime
from bot.services import alerts, messages
from bot.services.messages import Purpose
from storage import repository as repo

log = logging.getLogger(__name__)


def announce_warnings(rt: Runtime) -> list[str]:
    """Log each configuration warning and queue them, in one message, to every admin."""
    with rt.session() as session:
        now = rt.clock.now()
        staff = len(repo.active_staff(session))
        warnings = configuration_warnings(rt.settings, rt.protocol, staff)
        for warning in warnings:
            log.warning("setup: %s", warning)
        if warnings:
            for admin in alerts.escalation_chats(rt, session):
                messages.send(session, now, admin, texts.setup_warnings(warnings), Purpose.NOTICE)
    return warnings
