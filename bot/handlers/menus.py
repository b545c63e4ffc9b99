"""Publishing the command menus to Telegram: everyone's at start, one person's on a change."""

from __future__ import annotations

import logging

from telegram import Bot, BotCommand, BotCommandScopeChat
from telegram.error import TelegramError
from telegram.ext import Application

from bot.menus import STAFF_MENUS, Menu, patient_menu
from bot.roles import role_of
from bot.runtime import RUNTIME_KEY, Runtime
from storage import repository as repo

log = logging.getLogger(__name__)


def _commands(menu: Menu) -> list[BotCommand]:
    return [BotCommand(name, description) for name, description in menu]


async def publish_all(application: Application) -> None:
    """The patients' menu as the default (in each protocol language, for Telegram apps set to
    it), and each staff member's role menu in their chat."""
    rt: Runtime = application.bot_data[RUNTIME_KEY]
    bot = application.bot
    default, *others = rt.protocol.languages
    try:
        await bot.set_my_commands(_commands(patient_menu(rt.voice(default))))
        for language in others:
            menu = _commands(patient_menu(rt.voice(language)))
            await bot.set_my_commands(menu, language_code=language)
    except TelegramError as exc:
        log.warning("command menu not set: %s", type(exc).__name__)
    with rt.session() as session:
        staff = set(rt.settings.admin_ids) | {
            m.telegram_user_id for m in repo.active_staff(session)
        }
    for user_id in sorted(staff):
        await publish_for(bot, rt, user_id)


async def publish_for(bot: Bot, rt: Runtime, user_id: int) -> None:
    """This person's menu, as their role is now; a patient's in the language they chose
    (none: the patients' default again)."""
    with rt.session() as session:
        role = role_of(rt, session, user_id)
        patient = repo.patient_by_telegram_id(session, user_id)
    scope = BotCommandScopeChat(user_id)
    try:
        if role is not None:
            await bot.set_my_commands(_commands(STAFF_MENUS[role]), scope=scope)
        elif patient is not None and patient.language is not None:
            menu = patient_menu(rt.voice(patient.language))
            await bot.set_my_commands(_commands(menu), scope=scope)
        else:
            await bot.delete_my_commands(scope=scope)
    except TelegramError as exc:  # a staff member who never opened the chat, for one
        log.info("command menu for a staff chat not set: %s", type(exc).__name__)
