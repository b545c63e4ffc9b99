"""Simulated people: what they do reaches the bot as updates through getUpdates.

The methods are plain synchronous calls that must run on the fake's event loop: directly in an
async test, through ServerThread.call in thread mode.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from .model import JSON, BotMessage

if TYPE_CHECKING:
    from .world import BotWorld

# Telegram marks "/command" and "/command@botname" as bot_command wherever a word starts.
_COMMAND = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![A-Za-z0-9_@/])")


# Who acts in a group (kicks or restricts the bot, upgrades the group) unless a test names someone.
GROUP_ADMIN: JSON = {"id": 90_000_001, "is_bot": False, "first_name": "Group admin"}


class HasMessageId(Protocol):
    """Anything with a message_id: a BotMessage or a telegram.Message."""

    @property
    def message_id(self) -> int: ...


MessageRef = int | Mapping[str, Any] | HasMessageId


def message_id_of(message: MessageRef) -> int:
    """The message id of an id, a Bot API message dict, a BotMessage or a telegram.Message."""
    if isinstance(message, int):
        return message
    if isinstance(message, Mapping):
        return int(message["message_id"])
    return message.message_id


def text_content(text: str) -> JSON:
    """A text message's fields, with the bot_command entities Telegram would add."""
    content: JSON = {"text": text}
    entities = [
        {"type": "bot_command", "offset": _utf16_len(text[: m.start()]), "length": _utf16_len(m[0])}
        for m in _COMMAND.finditer(text)
    ]
    if entities:
        content["entities"] = entities
    return content


def _utf16_len(text: str) -> int:
    # Entity offsets and lengths count UTF-16 code units, not code points.
    return len(text.encode("utf-16-le")) // 2


class _ChatHandle:
    def __init__(self, world: BotWorld, chat_id: int) -> None:
        self._world = world
        self.chat_id = chat_id

    def messages(self, *, include_deleted: bool = False) -> list[BotMessage]:
        """The bot's messages in this chat, oldest first."""
        return self._world.messages(self.chat_id, include_deleted=include_deleted)

    async def next_message(
        self,
        contains: str | None = None,
        *,
        where: Callable[[BotMessage], bool] | None = None,
        timeout: float = 5.0,
    ) -> BotMessage:
        """See BotWorld.next_message."""
        return await self._world.next_message(self.chat_id, contains, where=where, timeout=timeout)


class FakeUser(_ChatHandle):
    """A Telegram user talking to the bot in their private chat (see BotWorld.add_user)."""

    def __init__(
        self,
        world: BotWorld,
        user_id: int,
        first_name: str,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
    ) -> None:
        super().__init__(world, user_id)
        self.user_id = user_id
        self.first_name = first_name
        self.last_name = last_name
        self.username = username
        self.language_code = language_code

    def to_api(self) -> JSON:
        """The Bot API User object."""
        user: JSON = {"id": self.user_id, "is_bot": False, "first_name": self.first_name}
        optional = {
            "last_name": self.last_name,
            "username": self.username,
            "language_code": self.language_code,
        }
        user.update({key: value for key, value in optional.items() if value is not None})
        return user

    def private_chat(self) -> JSON:
        """The Bot API Chat object of this user's private chat with the bot."""
        chat: JSON = {"id": self.user_id, "type": "private", "first_name": self.first_name}
        optional = {"last_name": self.last_name, "username": self.username}
        chat.update({key: value for key, value in optional.items() if value is not None})
        return chat

    def send_text(self, text: str) -> JSON:
        """Send a text (a command like "/start abc" gets its bot_command entity); returns it."""
        return self._world.user_message(self.chat_id, self, text_content(text))

    def send_sticker(self, emoji: str = "👍") -> JSON:
        """Send a sticker; returns the message."""
        return self._world.user_message(self.chat_id, self, self._world.sticker_content(emoji))

    def send_document(
        self,
        filename: str,
        data: bytes,
        *,
        mime_type: str | None = None,
        caption: str | None = None,
    ) -> JSON:
        """Send a file the bot can fetch with getFile; returns the message."""
        content = self._world.document_content(filename, data, mime_type, caption)
        return self._world.user_message(self.chat_id, self, content)

    def send_photo(self, data: bytes, *, caption: str | None = None) -> JSON:
        """Send a photo; returns the message."""
        content = self._world.photo_content(data, caption)
        return self._world.user_message(self.chat_id, self, content)

    def edit_message(self, message: MessageRef, new_text: str) -> JSON:
        """Edit one of this user's texts, causing an edited_message update; returns it."""
        return self._world.user_edit(
            self.chat_id, self, message_id_of(message), text_content(new_text)
        )

    def press(
        self,
        message: MessageRef,
        button_text: str | None = None,
        callback_data: str | None = None,
    ) -> str:
        """Press an inline button now on a bot message here; returns the callback query id.

        Raises AssertionError, listing the buttons there are, if no such button is on it.
        """
        return self._world.press(
            self.chat_id, self, message_id_of(message), button_text, callback_data
        )

    def press_forged(self, message: MessageRef, callback_data: str) -> str:
        """Send callback data no button on the message carries (a modified client); returns
        the callback query id."""
        return self._world.press_data(self.chat_id, self, message_id_of(message), callback_data)


class FakeGroup(_ChatHandle):
    """A group the bot is a member of (see BotWorld.add_group); registered users act in it."""

    def __init__(self, world: BotWorld, chat_id: int, title: str, chat_type: str) -> None:
        super().__init__(world, chat_id)
        self.title = title
        self.chat_type = chat_type

    def to_api(self) -> JSON:
        """The Bot API Chat object."""
        return {"id": self.chat_id, "type": self.chat_type, "title": self.title}

    def send_text(self, sender: FakeUser, text: str) -> JSON:
        """`sender` posts a text in the group; returns the message."""
        return self._world.user_message(self.chat_id, sender, text_content(text))

    def press(
        self,
        sender: FakeUser,
        message: MessageRef,
        button_text: str | None = None,
        callback_data: str | None = None,
    ) -> str:
        """`sender` presses an inline button on a bot message in the group; see FakeUser.press."""
        return self._world.press(
            self.chat_id, sender, message_id_of(message), button_text, callback_data
        )
