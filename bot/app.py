"""Wiring: build the Application with its handlers, update processor and error handler."""

from __future__ import annotations

import logging

from sqlalchemy import Engine
from telegram import Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.core.protocol import Protocol
from bot.delivery.processor import ChatOrderedProcessor
from bot.delivery.transport import AiohttpRequest
from bot.handlers import coordinator, menus, patient, staff, views
from bot.runtime import RUNTIME_KEY, Runtime
from bot.services.readiness import announce_warnings

log = logging.getLogger(__name__)

CONNECTIONS = 48  # the sender's MAX_IN_FLIGHT plus button answers
CHECK_IN_BUTTONS = r"^[atdsbnfe]:"
CONSENT_BUTTONS = r"^c:"
ACKNOWLEDGE_BUTTONS = r"^k:"
REMOVE_STAFF_BUTTONS = r"^r:"
VIEW_BUTTONS = r"^v:"
CHANGE_BUTTONS = r"^p:"
TIME_ZONE_BUTTONS = r"^z:"
MY_DATA_BUTTONS = r"^m:"
STOP_BUTTONS = r"^q:"
INFUSION_BUTTONS = r"^i:"
LANGUAGE_BUTTONS = r"^l:"


def build_application(
    settings: Settings,
    protocol: Protocol,
    engine: Engine,
    clock: Clock | None = None,
) -> Application:
    """The bot's Application: handlers, per-chat ordered concurrency, error handler.

    It has no Updater and no JobQueue: bot.delivery fetches updates into the inbox, sends
    the outbox and runs the dispatcher (see bot.delivery.lifecycle.RunningBot).
    """
    runtime = Runtime(settings, protocol, engine, clock or SystemClock())
    application = (
        ApplicationBuilder()
        .token(settings.bot_token)
        .base_url(settings.base_url)
        .base_file_url(settings.base_file_url)
        .updater(None)
        .job_queue(None)
        .concurrent_updates(ChatOrderedProcessor(runtime))
        .request(AiohttpRequest(CONNECTIONS))
        .get_updates_request(AiohttpRequest(1))
        .post_init(on_start)
        .build()
    )
    application.bot_data[RUNTIME_KEY] = runtime
    add_handlers(application)
    return application


async def on_start(application: Application) -> None:
    """Once connected: warn the operator of what needs fixing, and publish the menus."""
    announce_warnings(application.bot_data[RUNTIME_KEY])
    await menus.publish_all(application)


def add_handlers(application: Application) -> None:
    """Register every handler; within the group, the first match wins, so order matters."""
    messages_only = filters.UpdateType.MESSAGE
    private = filters.ChatType.PRIVATE
    # Edited messages first: without this, an edited "/infusion ..." would run again.
    application.add_handler(MessageHandler(filters.UpdateType.EDITED, patient.on_edited))
    commands = {
        "start": patient.start,
        "report": patient.report,
        "next": patient.next_check_in,
        "timezone": patient.timezone,
        "mydata": patient.my_data,
        "stop": patient.stop,
        "language": patient.language,
        "help": staff.help_command,
        "enroll": coordinator.enroll,
        "reinvite": coordinator.reinvite,
        "infusion": coordinator.infusion,
        "infusion_edit": coordinator.infusion_edit,
        "infusion_cancel": coordinator.infusion_cancel,
        "ack": staff.ack,
        "invite_staff": staff.invite_staff,
        "staff": staff.staff_list,
        "remove_staff": staff.remove_staff,
        "oncall": staff.oncall,
        "snooze": staff.snooze,
        "pause": coordinator.pause,
        "resume": coordinator.resume,
        "discharge": coordinator.discharge,
        "alerts": views.alerts,
        "patients": views.patients,
        "patient": views.patient,
        "audit": views.audit,
    }
    for name, callback in commands.items():
        application.add_handler(CommandHandler(name, callback, filters=messages_only))
    application.add_handler(MessageHandler(filters.COMMAND & messages_only, staff.unknown_command))
    application.add_handler(
        CallbackQueryHandler(patient.on_check_in_button, pattern=CHECK_IN_BUTTONS)
    )
    application.add_handler(CallbackQueryHandler(patient.on_consent, pattern=CONSENT_BUTTONS))
    application.add_handler(CallbackQueryHandler(staff.on_acknowledge, pattern=ACKNOWLEDGE_BUTTONS))
    application.add_handler(
        CallbackQueryHandler(staff.on_remove_staff, pattern=REMOVE_STAFF_BUTTONS)
    )
    application.add_handler(CallbackQueryHandler(views.on_page, pattern=VIEW_BUTTONS))
    application.add_handler(CallbackQueryHandler(coordinator.on_change, pattern=CHANGE_BUTTONS))
    application.add_handler(
        CallbackQueryHandler(patient.on_time_zone_button, pattern=TIME_ZONE_BUTTONS)
    )
    application.add_handler(CallbackQueryHandler(patient.on_my_data_page, pattern=MY_DATA_BUTTONS))
    application.add_handler(CallbackQueryHandler(patient.on_stop_button, pattern=STOP_BUTTONS))
    application.add_handler(
        CallbackQueryHandler(coordinator.on_infusion_change, pattern=INFUSION_BUTTONS)
    )
    application.add_handler(
        CallbackQueryHandler(patient.on_language_button, pattern=LANGUAGE_BUTTONS)
    )
    application.add_handler(CallbackQueryHandler(staff.on_stale_button))
    application.add_handler(
        ChatMemberHandler(staff.on_my_membership, ChatMemberHandler.MY_CHAT_MEMBER)
    )
    application.add_handler(MessageHandler(private & messages_only & filters.TEXT, patient.on_text))
    application.add_handler(MessageHandler(private & messages_only, patient.on_other_content))
    application.add_error_handler(on_error)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log an error once, by type and place only: no tokens, names or answers."""
    error = context.error
    where = f"update {update.update_id}" if isinstance(update, Update) else "a task"
    frame = error.__traceback__
    while frame is not None and frame.tb_next is not None:
        frame = frame.tb_next
    location = (
        f"{frame.tb_frame.f_code.co_filename}:{frame.tb_lineno}" if frame is not None else "?"
    )
    log.error("error handling %s: %s at %s", where, type(error).__name__, location)
