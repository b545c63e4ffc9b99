"""The Bot API methods the fake implements, each answering as Telegram does.

To add one, write `async def _name(world, call)` returning the method's result and decorate it
with `@_method("camelCaseName")`; raise errors.ApiError for Telegram's error answers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from .errors import NOT_MODIFIED, bad_request
from .model import JSON, StoredFile, Upload, inline_only
from .world import BotWorld


@dataclass(frozen=True)
class Call:
    """A decoded request: typed parameters and uploaded files by field name."""

    params: JSON
    files: dict[str, Upload]


Handler = Callable[[BotWorld, Call], Awaitable[Any]]
_REGISTRY: dict[str, tuple[str, Handler]] = {}

_TEXT_LIMIT = 4096
_CAPTION_LIMIT = 1024
_CALLBACK_DATA_LIMIT = 64


def lookup(name: str) -> tuple[str, Handler] | None:
    """The canonical name and handler of a method; Telegram ignores the case of names."""
    return _REGISTRY.get(name.lower())


def _method(name: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        _REGISTRY[name.lower()] = (name, handler)
        return handler

    return register


# Bot and updates


@_method("getMe")
async def _get_me(world: BotWorld, call: Call) -> JSON:
    return {
        **world.bot_user(),
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


@_method("getUpdates")
async def _get_updates(world: BotWorld, call: Call) -> list[JSON]:
    params = call.params
    return await world.take_updates(
        offset=params.get("offset"),
        limit=params.get("limit", 100),
        timeout=params.get("timeout", 0),
        allowed=params.get("allowed_updates"),
    )


@_method("deleteWebhook")
async def _delete_webhook(world: BotWorld, call: Call) -> bool:
    if call.params.get("drop_pending_updates"):
        world.drop_pending_updates()
    return True


@_method("getWebhookInfo")
async def _get_webhook_info(world: BotWorld, call: Call) -> JSON:
    pending = len(world.pending_updates)
    return {"url": "", "has_custom_certificate": False, "pending_update_count": pending}


@_method("setMyCommands")
async def _set_my_commands(world: BotWorld, call: Call) -> bool:
    params = call.params
    world.set_commands(
        params.get("commands", []), params.get("scope"), params.get("language_code", "")
    )
    return True


@_method("deleteMyCommands")
async def _delete_my_commands(world: BotWorld, call: Call) -> bool:
    world.delete_commands(call.params.get("scope"), call.params.get("language_code", ""))
    return True


@_method("getMyCommands")
async def _get_my_commands(world: BotWorld, call: Call) -> list[JSON]:
    return world.commands(call.params.get("scope"), call.params.get("language_code", ""))


# Chats and messages


@_method("getChat")
async def _get_chat(world: BotWorld, call: Call) -> JSON:
    return world.chat_info(world.chat_for(call.params, writing=False))


@_method("sendChatAction")
async def _send_chat_action(world: BotWorld, call: Call) -> bool:
    world.chat_for(call.params)
    if not call.params.get("action"):
        raise bad_request("action is empty")
    return True


@_method("sendMessage")
async def _send_message(world: BotWorld, call: Call) -> JSON:
    params = call.params
    chat = world.chat_for(params)
    text = _checked_text(params.get("text"))
    markup = _checked_markup(params)
    world.admit_send(chat, "text messages")
    message = world.add_bot_message(
        chat, text, reply_markup=markup, parse_mode=params.get("parse_mode")
    )
    return world.message_api(message)


@_method("sendDocument")
async def _send_document(world: BotWorld, call: Call) -> JSON:
    return _send_file(world, call, "document")


@_method("sendPhoto")
async def _send_photo(world: BotWorld, call: Call) -> JSON:
    return _send_file(world, call, "photo")


@_method("editMessageText")
async def _edit_message_text(world: BotWorld, call: Call) -> JSON:
    params = call.params
    chat = world.chat_for(params)
    message = world.message_to_edit(chat, params.get("message_id"))
    if message.document or message.photo:
        raise bad_request("there is no text in the message to edit")
    text = _checked_text(params.get("text"))
    markup = _checked_markup(params)
    # An edit without reply_markup removes the inline keyboard.
    if text == message.text and inline_only(markup) == message.inline_keyboard:
        raise bad_request(NOT_MODIFIED)
    world.edit_bot_message(message, text, markup, params.get("parse_mode"))
    return world.message_api(message)


@_method("editMessageReplyMarkup")
async def _edit_message_reply_markup(world: BotWorld, call: Call) -> JSON:
    chat = world.chat_for(call.params)
    message = world.message_to_edit(chat, call.params.get("message_id"))
    markup = _checked_markup(call.params)
    if inline_only(markup) == message.inline_keyboard:
        raise bad_request(NOT_MODIFIED)
    world.edit_bot_message(message, message.text, markup, message.parse_mode)
    return world.message_api(message)


@_method("deleteMessage")
async def _delete_message(world: BotWorld, call: Call) -> bool:
    world.delete_message(world.chat_for(call.params), call.params.get("message_id"))
    return True


@_method("answerCallbackQuery")
async def _answer_callback_query(world: BotWorld, call: Call) -> bool:
    params = call.params
    world.answer_query(
        params.get("callback_query_id"),
        params.get("text"),
        bool(params.get("show_alert", False)),
        params.get("url"),
    )
    return True


@_method("getFile")
async def _get_file(world: BotWorld, call: Call) -> JSON:
    stored = world.file(call.params.get("file_id"))
    if stored is None:
        raise bad_request("invalid file_id")
    return stored.to_api()


# Helpers


def _send_file(world: BotWorld, call: Call, field: str) -> JSON:
    params = call.params
    chat = world.chat_for(params)
    stored = _input_file(world, call, field)
    caption = params.get("caption")
    if caption and len(caption) > _CAPTION_LIMIT:
        raise bad_request("message caption is too long")
    markup = _checked_markup(params)
    world.admit_send(chat, f"{field}s")
    message = world.add_bot_message(
        chat, caption, reply_markup=markup, parse_mode=params.get("parse_mode"), **{field: stored}
    )
    return world.message_api(message)


def _input_file(world: BotWorld, call: Call, field: str) -> StoredFile:
    upload = call.files.get(field)
    if upload is not None:
        return world.store_file(upload, f"{field}s")
    reference = call.params.get(field)
    if not reference:
        raise bad_request(f"there is no {field} in the request")
    if str(reference).startswith(("http://", "https://")):
        name = str(reference).rsplit("/", 1)[-1]
        return world.store_file(Upload(name, b"", None), f"{field}s")
    stored = world.file(reference)
    if stored is None:
        raise bad_request("wrong file identifier/HTTP URL specified")
    return stored


def _checked_text(text: Any) -> str:
    if not isinstance(text, str) or not text.strip():
        raise bad_request("message text is empty")
    if len(text) > _TEXT_LIMIT:
        raise bad_request("message is too long")
    return text


def _checked_markup(params: JSON) -> JSON | None:
    markup = params.get("reply_markup")
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    for row in markup.get("inline_keyboard", []):
        for button in row:
            data = button.get("callback_data")
            if data is not None and not 1 <= len(data.encode()) <= _CALLBACK_DATA_LIMIT:
                raise bad_request("BUTTON_DATA_INVALID")
    return markup
