"""Decoding a Bot API request into typed parameters, whatever encoding the client chose.

PTB 22 sends every parameter as a string: plain strings as they are and everything else
JSON-encoded ("123", "true", '{"inline_keyboard": ...}'), form-urlencoded without files and
multipart/form-data with them. Other clients send a JSON body with native values. Like
Telegram, the fake types each parameter by its name.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from .errors import bad_request
from .model import JSON, Upload

_INTEGERS = frozenset(
    {
        "cache_time",
        "chat_id",
        "from_chat_id",
        "limit",
        "message_id",
        "message_thread_id",
        "offset",
        "reply_to_message_id",
        "timeout",
        "user_id",
    }
)
_BOOLEANS = frozenset(
    {
        "allow_sending_without_reply",
        "disable_notification",
        "disable_web_page_preview",
        "drop_pending_updates",
        "protect_content",
        "show_alert",
    }
)
_JSON_VALUES = frozenset(
    {
        "allowed_updates",
        "caption_entities",
        "commands",
        "entities",
        "link_preview_options",
        "media",
        "reply_markup",
        "reply_parameters",
        "scope",
    }
)


async def read_params(request: web.Request) -> tuple[JSON, dict[str, Upload]]:
    """The request's parameters (query string and body) and its uploaded files, by name."""
    raw: dict[str, Any] = dict(request.query)
    files: dict[str, Upload] = {}
    if request.body_exists and request.content_type == "application/json":
        raw.update(await _json_body(request))
    elif request.body_exists:
        for name, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                files[name] = Upload(value.filename, value.file.read(), value.content_type)
            else:
                raw[name] = value
    return {name: _typed(name, value) for name, value in raw.items()}, files


async def _json_body(request: web.Request) -> JSON:
    try:
        body = await request.json()
    except ValueError as exc:
        raise bad_request("can't parse JSON request body") from exc
    if not isinstance(body, dict):
        raise bad_request("JSON request body must be an object")
    return body


def _typed(name: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if name in _JSON_VALUES:
        try:
            return json.loads(value)
        except ValueError as exc:
            raise bad_request(f"can't parse {name} JSON object") from exc
    if name in _BOOLEANS:
        return value.lower() in ("true", "1")
    if name in _INTEGERS:
        try:
            return int(value)
        except ValueError:
            return value  # e.g. "@channelname": left for the chat lookup to reject
    return value
