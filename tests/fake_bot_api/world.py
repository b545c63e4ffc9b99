"""What the fake Telegram knows: people, chats, the bot's messages, pending updates, files.

Also the helpers tests use to inspect that state and to wait on it. Everything here runs on the
fake's event loop; nothing is locked because nothing else touches it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any, TypeVar

from .errors import (
    BLOCKED,
    CHAT_NOT_FOUND,
    DEACTIVATED,
    QUERY_TOO_OLD,
    bad_request,
    chat_migrated,
    forbidden,
    not_enough_rights,
)
from .limits import FloodControl, RateLimits
from .model import JSON, ApiCall, BotMessage, CallbackAnswer, ErrorRecord, StoredFile, Upload
from .people import GROUP_ADMIN, FakeGroup, FakeUser

T = TypeVar("T")
MessageMatch = Callable[[BotMessage], bool]

# Conditions may depend on state outside the fake (a database), so waiters also poll.
_POLL_SECONDS = 0.02
_COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")
# Supergroup ids are -100 followed by at least ten digits.
_MAX_SUPERGROUP_ID = -1_000_000_000_000

# The bot's Bot API ChatMember in a chat, without its "user" field.
_MEMBER: JSON = {"status": "member"}
_KICKED: JSON = {"status": "kicked", "until_date": 0}
_RESTRICTED: JSON = {
    "status": "restricted",
    "is_member": True,
    **dict.fromkeys(
        (
            "can_send_messages",
            "can_send_audios",
            "can_send_documents",
            "can_send_photos",
            "can_send_videos",
            "can_send_video_notes",
            "can_send_voice_notes",
            "can_send_polls",
            "can_send_other_messages",
            "can_add_web_page_previews",
            "can_react_to_messages",
            "can_change_info",
            "can_invite_users",
            "can_pin_messages",
            "can_manage_topics",
            "can_edit_tag",
        ),
        False,
    ),
    "until_date": 0,
}


class _Signal:
    """Wakes every waiter whenever the fake's state changes."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def fire(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, timeout: float) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._event.wait()


@dataclass
class Chat:
    """A chat as the fake tracks it (package internal)."""

    api: JSON
    started: bool
    messages: list[BotMessage] = field(default_factory=list)
    incoming: dict[int, JSON] = field(default_factory=dict)
    forbidden: str | None = None
    migrated_to: int | None = None
    bot_member: JSON = field(default_factory=lambda: _MEMBER)
    last_message_id: int = 0

    @property
    def id(self) -> int:
        """The chat id."""
        return self.api["id"]

    @property
    def is_group(self) -> bool:
        """Whether this is a group or supergroup."""
        return self.api["type"] != "private"

    @property
    def can_send(self) -> bool:
        """Whether the bot's rights here let it send messages."""
        return self.bot_member.get("can_send_messages", True)

    def next_message_id(self) -> int:
        """Allocate the next message id; bot and user messages share one sequence per chat."""
        self.last_message_id += 1
        return self.last_message_id


class BotWorld:
    """The fake Telegram's state, with the inspection and waiting helpers for tests."""

    def __init__(
        self,
        token: str,
        bot_username: str,
        *,
        enforce_limits: bool,
        limits: RateLimits,
        callback_query_ttl: float,
        long_poll_cap: float,
        clock: Callable[[], float],
    ) -> None:
        self.token = token
        self.bot_username = bot_username
        self.requests: list[ApiCall] = []
        self.errors: list[ErrorRecord] = []
        self.callback_answers: list[CallbackAnswer] = []
        self._flood = FloodControl(limits) if enforce_limits else None
        self._query_ttl = callback_query_ttl
        self._long_poll_cap = long_poll_cap
        self._clock = clock
        self._chats: dict[int, Chat] = {}
        self._users: dict[int, FakeUser] = {}
        self._updates: list[JSON] = []
        self._update_ids = itertools.count(1)
        self._allowed_updates: frozenset[str] | None = None
        self._files: dict[str, StoredFile] = {}
        self._file_numbers = itertools.count(1)
        self._queries: dict[str, float] = {}
        self._query_numbers = itertools.count(4_000_000_000_000_000_001)
        self._commands: dict[str, list[JSON]] = {}
        self._cursors: dict[int, int] = {}
        self._changed = _Signal()
        self._closing = False

    # People and chats

    def add_user(
        self,
        user_id: int,
        first_name: str = "Ann",
        username: str | None = None,
        language_code: str | None = "en",
        *,
        last_name: str | None = None,
        started: bool = False,
    ) -> FakeUser:
        """Register a person; the bot can write to them once they wrote first (or `started`)."""
        if user_id <= 0 or user_id in self._chats:
            raise ValueError(f"user id {user_id} must be positive and new")
        user = FakeUser(
            self,
            user_id,
            first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
        )
        self._users[user_id] = user
        self._chats[user_id] = Chat(api=user.private_chat(), started=started)
        return user

    def add_group(self, chat_id: int, title: str, *, supergroup: bool = False) -> FakeGroup:
        """Register a group (negative id) the bot is a member of."""
        if chat_id >= 0 or chat_id in self._chats:
            raise ValueError(f"group id {chat_id} must be negative and new")
        group = FakeGroup(self, chat_id, title, "supergroup" if supergroup else "group")
        self._chats[chat_id] = Chat(api=group.to_api(), started=True)
        return group

    def user(self, user_id: int) -> FakeUser:
        """The registered user with this id."""
        return self._users[user_id]

    def block(self, user_id: int) -> None:
        """The user blocks the bot: sends answer 403 and the bot gets a my_chat_member update."""
        user = self._users[user_id]
        chat = self._chat(user.chat_id)
        chat.forbidden = BLOCKED
        self._change_bot_member(chat, user.to_api(), _KICKED)

    def unblock(self, user_id: int) -> None:
        """The user restarts the bot after blocking it."""
        user = self._users[user_id]
        chat = self._chat(user.chat_id)
        chat.forbidden = None
        self._change_bot_member(chat, user.to_api(), _MEMBER)

    def deactivate(self, user_id: int) -> None:
        """The user deletes their account: sends answer 403 "user is deactivated"."""
        self._chat(self._users[user_id].chat_id).forbidden = DEACTIVATED

    def kick_bot(self, chat_id: int, *, by: FakeUser | None = None) -> None:
        """`by` (default GROUP_ADMIN) removes the bot from a group.

        Writes there answer 403 and the bot gets a my_chat_member update (status "kicked").
        """
        chat = self._group(chat_id)
        chat.forbidden = f"bot was kicked from the {chat.api['type']} chat"
        self._change_bot_member(chat, _actor(by), _KICKED)

    def restrict_bot(self, chat_id: int, *, by: FakeUser | None = None) -> None:
        """`by` (default GROUP_ADMIN) takes the bot's right to post in a group.

        Sends there answer 400 "not enough rights to send ... to the chat" and the bot gets a
        my_chat_member update (status "restricted"). Edits and deletions keep working.
        """
        self._change_bot_member(self._group(chat_id), _actor(by), _RESTRICTED)

    def unrestrict_bot(self, chat_id: int, *, by: FakeUser | None = None) -> None:
        """`by` (default GROUP_ADMIN) gives the bot its rights back; a my_chat_member update too."""
        self._change_bot_member(self._group(chat_id), _actor(by), _MEMBER)

    def migrate_group(
        self, chat_id: int, new_chat_id: int, *, by: FakeUser | None = None
    ) -> FakeGroup:
        """`by` (default GROUP_ADMIN) upgrades a group to a supergroup with id `new_chat_id`.

        Writes to the old id then answer 400 with parameters.migrate_to_chat_id; the bot gets
        Telegram's two service messages (migrate_to_chat_id in the old chat,
        migrate_from_chat_id in the new one). Returns the new supergroup.
        """
        old = self._group(chat_id)
        if old.api["type"] != "group" or old.migrated_to is not None:
            raise ValueError(f"chat {chat_id} is not a group that can still be upgraded")
        if new_chat_id > _MAX_SUPERGROUP_ID:
            raise ValueError(f"supergroup id {new_chat_id} must look like -100XXXXXXXXXX")
        supergroup = self.add_group(new_chat_id, old.api["title"], supergroup=True)
        old.migrated_to = new_chat_id
        actor = _actor(by)
        self._post(old, actor, {"migrate_to_chat_id": new_chat_id})
        self._post(self._chat(new_chat_id), actor, {"migrate_from_chat_id": chat_id})
        return supergroup

    def _group(self, chat_id: int) -> Chat:
        chat = self._chat(chat_id)
        if not chat.is_group:
            raise ValueError(f"chat {chat_id} is not a group")
        return chat

    def _change_bot_member(self, chat: Chat, actor: JSON, new: JSON) -> None:
        old, chat.bot_member = chat.bot_member, new
        bot = self.bot_user()
        update = {
            "chat": chat.api,
            "from": actor,
            "date": self.now(),
            "old_chat_member": {"user": bot, **old},
            "new_chat_member": {"user": bot, **new},
        }
        self._push_update("my_chat_member", update)

    # Inspection

    @property
    def rate_limited(self) -> list[ErrorRecord]:
        """Every 429 served, injected or from enforced limits."""
        return [error for error in self.errors if error.status == 429]

    @property
    def pending_updates(self) -> list[JSON]:
        """Updates not yet confirmed by a getUpdates offset."""
        return list(self._updates)

    def calls(self, method: str) -> list[JSON]:
        """The parameters of every request to `method`, in order."""
        return [call.params for call in self.requests if call.method == method]

    def messages(self, chat_id: int, *, include_deleted: bool = False) -> list[BotMessage]:
        """The bot's messages in the chat, oldest first (deleted ones only if asked)."""
        return [m for m in self._chat(chat_id).messages if include_deleted or not m.deleted]

    def message(self, chat_id: int, message_id: int) -> BotMessage:
        """One bot message, deleted or not."""
        found = [m for m in self._chat(chat_id).messages if m.message_id == message_id]
        if not found:
            raise AssertionError(f"the bot sent no message {message_id} to chat {chat_id}")
        return found[0]

    def count_sends(self, chat_id: int) -> int:
        """How many sendMessage calls took effect in the chat, later deletions included.

        A call whose answer drop_next(after_delivery=True) lost counts: Telegram delivered it.
        """
        return sum(1 for m in self._chat(chat_id).messages if not (m.document or m.photo))

    def sent_to(self, chat_id: int) -> list[str]:
        """The texts (captions for media) of the bot's messages in the chat."""
        return [m.text or "" for m in self.messages(chat_id)]

    def documents(self, chat_id: int) -> list[StoredFile]:
        """The files the bot sent to the chat as documents."""
        return [m.document for m in self.messages(chat_id) if m.document]

    def commands(self, scope: JSON | None = None, language_code: str = "") -> list[JSON]:
        """The bot's command list for a scope and language, as setMyCommands left it."""
        return list(self._commands.get(_scope_key(scope, language_code), []))

    def make_stale(self, query_id: str | None = None) -> None:
        """Make one callback query (or all) too old to answer."""
        if query_id is None:
            self._queries.clear()
        else:
            self._queries.pop(query_id, None)

    # Waiting

    async def wait_for(
        self,
        condition: Callable[[], T],
        timeout: float = 5.0,
        describe: Callable[[], str] | None = None,
    ) -> T:
        """Wait until `condition()` is truthy and return its value; AssertionError on timeout."""
        deadline = time.monotonic() + timeout
        while not (value := condition()):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                detail = describe() if describe else "condition still false"
                raise AssertionError(f"after {timeout}s: {detail}")
            await self._changed.wait(min(remaining, _POLL_SECONDS))
        return value

    async def wait_for_message(
        self,
        chat_id: int,
        contains: str | None = None,
        *,
        where: MessageMatch | None = None,
        timeout: float = 5.0,
    ) -> BotMessage:
        """The first bot message in the chat, sent already or later, that matches."""
        return await self._wait_for_message(chat_id, 0, _matcher(contains, where), timeout)

    async def next_message(
        self,
        chat_id: int,
        contains: str | None = None,
        *,
        where: MessageMatch | None = None,
        timeout: float = 5.0,
    ) -> BotMessage:
        """The first matching bot message newer than the one next_message last returned there.

        Messages in between that do not match are passed over.
        """
        after = self._cursors.get(chat_id, 0)
        found = await self._wait_for_message(chat_id, after, _matcher(contains, where), timeout)
        self._cursors[chat_id] = found.message_id
        return found

    async def _wait_for_message(
        self, chat_id: int, after: int, matches: MessageMatch, timeout: float
    ) -> BotMessage:
        chat = self._chat(chat_id)

        def found() -> BotMessage | None:
            return next((m for m in chat.messages if m.message_id > after and matches(m)), None)

        def describe() -> str:
            texts = [(m.message_id, m.text) for m in chat.messages if m.message_id > after]
            return f"no matching bot message in chat {chat_id} after #{after}; got {texts}"

        return await self.wait_for(found, timeout, describe)

    # Simulated people's actions (called by FakeUser and FakeGroup)

    def user_message(self, chat_id: int, sender: FakeUser, content: JSON) -> JSON:
        """Post a message from `sender` and queue its update."""
        chat = self._chat(chat_id)
        _require_reachable(chat)
        chat.started = True
        return self._post(chat, sender.to_api(), content)

    def user_edit(self, chat_id: int, sender: FakeUser, message_id: int, content: JSON) -> JSON:
        """Replace the text of one of `sender`'s messages and queue an edited_message update."""
        chat = self._chat(chat_id)
        original = chat.incoming.get(message_id)
        if original is None or original["from"]["id"] != sender.user_id:
            raise AssertionError(f"user {sender.user_id} sent no message {message_id} here")
        kept = {k: v for k, v in original.items() if k not in ("text", "entities")}
        edited = {**kept, **content, "edit_date": self.now()}
        chat.incoming[message_id] = edited
        self._push_update("edited_message", edited)
        return edited

    def press(
        self,
        chat_id: int,
        sender: FakeUser,
        message_id: int,
        button_text: str | None,
        callback_data: str | None,
    ) -> str:
        """Press a callback button on a bot message; queue the callback_query update."""
        message = self.message(chat_id, message_id)
        if message.deleted:
            raise AssertionError(f"message {message_id} in chat {chat_id} was deleted")
        data = _pick_button(message, button_text, callback_data)
        return self.press_data(chat_id, sender, message_id, data)

    def press_data(self, chat_id: int, sender: FakeUser, message_id: int, data: str) -> str:
        """A callback query carrying `data` from a bot message, whatever its buttons say (as a
        modified client can send); queue it and return its id."""
        chat = self._chat(chat_id)
        _require_reachable(chat)
        message = self.message(chat_id, message_id)
        query_id = str(next(self._query_numbers))
        self._queries[query_id] = time.monotonic()
        query = {
            "id": query_id,
            "from": sender.to_api(),
            "message": self.message_api(message),
            "chat_instance": str(abs(chat_id) * 7919),
            "data": data,
        }
        self._push_update("callback_query", query)
        return query_id

    def sticker_content(self, emoji: str) -> JSON:
        """The fields of a sticker message."""
        number = next(self._file_numbers)
        sticker = {
            "file_id": f"CAACAgFakeSticker{number}",
            "file_unique_id": f"AgADSticker{number}",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
        }
        return {"sticker": sticker}

    def document_content(
        self, filename: str, data: bytes, mime_type: str | None, caption: str | None
    ) -> JSON:
        """The fields of a document message, its file stored for getFile."""
        stored = self.store_file(Upload(filename, data, mime_type), "documents")
        content: JSON = {"document": stored.document()}
        if caption:
            content["caption"] = caption
        return content

    def photo_content(self, data: bytes, caption: str | None) -> JSON:
        """The fields of a photo message, its file stored for getFile."""
        stored = self.store_file(Upload("photo.jpg", data, "image/jpeg"), "photos")
        content: JSON = {"photo": stored.photo_sizes()}
        if caption:
            content["caption"] = caption
        return content

    # Used by the Bot API methods (methods.py)

    def now(self) -> int:
        """Unix time as message dates carry it."""
        return int(self._clock())

    def bot_user(self) -> JSON:
        """The bot as a Bot API User."""
        prefix = self.token.partition(":")[0]
        return {
            "id": int(prefix) if prefix.isdigit() else 1,
            "is_bot": True,
            "first_name": "Infusion Test Bot",
            "username": self.bot_username,
        }

    def chat_for(self, params: JSON, *, writing: bool = True) -> Chat:
        """The chat `chat_id` names, or the error Telegram gives for it."""
        if "chat_id" not in params:
            raise bad_request("chat_id is empty")
        chat_id = params["chat_id"]
        chat = self._chats.get(chat_id) if isinstance(chat_id, int) else None
        if chat is None:
            raise bad_request(CHAT_NOT_FOUND)
        if writing and chat.migrated_to is not None:
            raise chat_migrated(chat.migrated_to)
        if writing and chat.forbidden:
            raise forbidden(chat.forbidden)
        if not chat.started:
            raise bad_request(CHAT_NOT_FOUND)
        return chat

    def admit_send(self, chat: Chat, content: str) -> None:
        """Refuse a send the bot's rights do not allow, else count it against enforced limits.

        `content` names what is sent as Telegram's refusal does: "text messages", "documents".
        """
        if not chat.can_send:
            raise not_enough_rights(content)
        if self._flood:
            self._flood.admit(chat.id, chat.is_group)

    def add_bot_message(self, chat: Chat, text: str | None, **extra: Any) -> BotMessage:
        """Store a message the bot sent."""
        message = BotMessage(chat.id, chat.next_message_id(), self.now(), text, **extra)
        chat.messages.append(message)
        self._changed.fire()
        return message

    def message_to_edit(self, chat: Chat, message_id: Any) -> BotMessage:
        """The live bot message an edit names, or Telegram's error."""
        if message_id is None:
            raise bad_request("message identifier is not specified")
        live = [m for m in chat.messages if m.message_id == message_id and not m.deleted]
        if live:
            return live[0]
        if message_id in chat.incoming:
            raise bad_request("message can't be edited")
        raise bad_request("message to edit not found")

    def edit_bot_message(
        self,
        message: BotMessage,
        text: str | None,
        reply_markup: JSON | None,
        parse_mode: str | None,
    ) -> None:
        """Apply an edit to a bot message."""
        message.replace(text, reply_markup, parse_mode, self.now())
        self._changed.fire()

    def delete_message(self, chat: Chat, message_id: Any) -> None:
        """Delete a bot message, or a user's message (bots may, in private chats)."""
        live = [m for m in chat.messages if m.message_id == message_id and not m.deleted]
        if live:
            live[0].deleted = True
        elif chat.incoming.pop(message_id, None) is None:
            raise bad_request("message to delete not found")
        self._changed.fire()

    def message_api(self, message: BotMessage) -> JSON:
        """The Bot API Message object of a bot message."""
        api: JSON = {
            "message_id": message.message_id,
            "from": self.bot_user(),
            "chat": self._chat(message.chat_id).api,
            "date": message.date,
        }
        if message.edit_date is not None:
            api["edit_date"] = message.edit_date
        if message.document or message.photo:
            if message.document:
                api["document"] = message.document.document()
            if message.photo:
                api["photo"] = message.photo.photo_sizes()
            if message.text:
                api["caption"] = message.text
        else:
            api["text"] = message.text
        if message.inline_keyboard:
            api["reply_markup"] = message.inline_keyboard
        return api

    def chat_info(self, chat: Chat) -> JSON:
        """The Bot API ChatFullInfo object (getChat's answer)."""
        gift_types = dict.fromkeys(
            (
                "unlimited_gifts",
                "limited_gifts",
                "unique_gifts",
                "premium_subscription",
                "gifts_from_channels",
            ),
            False,
        )
        return {
            **chat.api,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": gift_types,
        }

    async def take_updates(
        self, offset: int | None, limit: int, timeout: float, allowed: list[str] | None
    ) -> list[JSON]:
        """getUpdates: confirm below `offset`, then long-poll up to `timeout` (capped)."""
        self._confirm(offset)
        if allowed is not None:
            # Telegram remembers allowed_updates until a later call changes it; [] means default.
            self._allowed_updates = frozenset(allowed) or None
        limit = min(max(limit, 1), 100)
        deadline = time.monotonic() + min(max(timeout, 0), self._long_poll_cap)
        while not self._closing:
            ready = self._deliverable()
            remaining = deadline - time.monotonic()
            if ready or remaining <= 0:
                return ready[:limit]
            await self._changed.wait(remaining)
        return []

    def drop_pending_updates(self) -> None:
        """Forget every unconfirmed update (deleteWebhook with drop_pending_updates)."""
        self._updates.clear()

    def answer_query(
        self, query_id: Any, text: str | None, show_alert: bool, url: str | None
    ) -> None:
        """Record an answer to a callback query, or refuse an unknown, stale or answered one."""
        issued = self._queries.pop(str(query_id), None)
        if issued is None or time.monotonic() - issued > self._query_ttl:
            raise bad_request(QUERY_TOO_OLD)
        self.callback_answers.append(CallbackAnswer(str(query_id), text, show_alert, url))
        self._changed.fire()

    def store_file(self, upload: Upload, folder: str) -> StoredFile:
        """Keep a file so getFile and the file URL can serve it."""
        number = next(self._file_numbers)
        suffix = PurePosixPath(upload.filename).suffix
        stored = StoredFile(
            file_id=f"BQACAgFakeFile{number}",
            file_unique_id=f"AgADFile{number}",
            file_path=f"{folder}/file_{number}{suffix}",
            filename=upload.filename,
            data=upload.data,
            mime_type=upload.mime_type,
        )
        self._files[stored.file_id] = stored
        return stored

    def file(self, file_id: Any) -> StoredFile | None:
        """A stored file by id."""
        return self._files.get(str(file_id))

    def file_at(self, file_path: str) -> StoredFile | None:
        """A stored file by the path getFile gave for it."""
        return next((f for f in self._files.values() if f.file_path == file_path), None)

    def set_commands(self, commands: list[JSON], scope: JSON | None, language_code: str) -> None:
        """setMyCommands, refusing names Telegram refuses."""
        for command in commands:
            if not _COMMAND_NAME.fullmatch(str(command.get("command", ""))):
                raise bad_request("BOT_COMMAND_INVALID")
        self._commands[_scope_key(scope, language_code)] = list(commands)

    def delete_commands(self, scope: JSON | None, language_code: str) -> None:
        """deleteMyCommands."""
        self._commands.pop(_scope_key(scope, language_code), None)

    # Internals

    def _chat(self, chat_id: int) -> Chat:
        chat = self._chats.get(chat_id)
        if chat is None:
            raise AssertionError(f"chat {chat_id} was never registered with the fake")
        return chat

    def _post(self, chat: Chat, sender: JSON, content: JSON) -> JSON:
        message = {
            "message_id": chat.next_message_id(),
            "from": sender,
            "chat": chat.api,
            "date": self.now(),
            **content,
        }
        chat.incoming[message["message_id"]] = message
        self._push_update("message", message)
        return message

    def _push_update(self, kind: str, payload: JSON) -> None:
        self._updates.append({"update_id": next(self._update_ids), kind: payload})
        self._changed.fire()

    def _confirm(self, offset: int | None) -> None:
        if offset is None or offset == 0:
            return
        if offset < 0:
            self._updates = self._updates[offset:]
        else:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]

    def _deliverable(self) -> list[JSON]:
        if self._allowed_updates is not None:
            # Telegram discards updates of types the bot did not ask for.
            allowed = self._allowed_updates
            self._updates = [u for u in self._updates if _update_kind(u) in allowed]
        return list(self._updates)


def _actor(by: FakeUser | None) -> JSON:
    return by.to_api() if by else dict(GROUP_ADMIN)


def _require_reachable(chat: Chat) -> None:
    if chat.migrated_to is not None:
        raise AssertionError(f"chat {chat.id} became supergroup {chat.migrated_to}; act there")
    if chat.forbidden:
        raise AssertionError(f"chat {chat.id} cannot act: {chat.forbidden}; unblock first")


def _pick_button(message: BotMessage, text: str | None, data: str | None) -> str:
    if text is None and data is None:
        raise ValueError("press needs button_text or callback_data")
    for label, payload in message.buttons:
        if payload is None:
            continue
        if (text is None or label == text) and (data is None or payload == data):
            return payload
    wanted = {"text": text, "callback_data": data}
    raise AssertionError(
        f"no button {wanted} on message {message.message_id} in chat {message.chat_id}; "
        f"its buttons now: {message.buttons}"
    )


def _matcher(contains: str | None, where: MessageMatch | None) -> MessageMatch:
    def matches(message: BotMessage) -> bool:
        text_ok = contains is None or contains in (message.text or "")
        return text_ok and (where is None or where(message))

    return matches


def _scope_key(scope: JSON | None, language_code: str) -> str:
    return json.dumps(scope or {"type": "default"}, sort_keys=True) + "|" + language_code


def _update_kind(update: JSON) -> str:
    return next(key for key in update if key != "update_id")
