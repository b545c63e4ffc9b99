"""The records the fake keeps, in the shape tests inspect them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

JSON = dict[str, Any]


class ApiCall(NamedTuple):
    """One Bot API request as received: the method's name and its decoded parameters.

    Uploaded files appear among the parameters as Upload objects.
    """

    method: str
    params: JSON


@dataclass(frozen=True)
class ErrorRecord:
    """An error answer the fake served (429s included, with their retry_after)."""

    method: str
    status: int
    description: str
    retry_after: int | None = None


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart request."""

    filename: str
    data: bytes
    mime_type: str | None


@dataclass(frozen=True)
class StoredFile:
    """A file the fake holds: uploaded by the bot or sent by a simulated user."""

    file_id: str
    file_unique_id: str
    file_path: str
    filename: str | None
    data: bytes
    mime_type: str | None = None

    def to_api(self) -> JSON:
        """The Bot API File object (getFile's answer)."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
            "file_path": self.file_path,
        }

    def document(self) -> JSON:
        """The Bot API Document object for this file."""
        doc: JSON = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
        }
        if self.filename:
            doc["file_name"] = self.filename
        if self.mime_type:
            doc["mime_type"] = self.mime_type
        return doc

    def photo_sizes(self) -> list[JSON]:
        """The PhotoSize list Telegram returns; the fake does not decode images, so one size."""
        size = {"file_id": self.file_id, "file_unique_id": self.file_unique_id}
        return [{**size, "width": 320, "height": 320, "file_size": len(self.data)}]


@dataclass(frozen=True)
class CallbackAnswer:
    """A successful answerCallbackQuery."""

    query_id: str
    text: str | None
    show_alert: bool
    url: str | None


@dataclass(frozen=True)
class Version:
    """What a message said, and its markup, before an edit replaced it."""

    text: str | None
    reply_markup: JSON | None


@dataclass
class BotMessage:
    """A message the bot sent, in its current state; `text` is the caption for media.

    `edits` holds the versions edits replaced, oldest first, so the full history is
    `[*message.edits, current]`.
    """

    chat_id: int
    message_id: int
    date: int
    text: str | None
    reply_markup: JSON | None = None
    parse_mode: str | None = None
    document: StoredFile | None = None
    photo: StoredFile | None = None
    edits: list[Version] = field(default_factory=list)
    edit_date: int | None = None
    deleted: bool = False

    @property
    def inline_keyboard(self) -> JSON | None:
        """The reply markup if it is an inline keyboard (the only kind a message keeps)."""
        return inline_only(self.reply_markup)

    @property
    def buttons(self) -> list[tuple[str, str | None]]:
        """Every inline button as (text, callback_data); callback_data is None for URL buttons."""
        rows = (self.inline_keyboard or {}).get("inline_keyboard", [])
        return [(button["text"], button.get("callback_data")) for row in rows for button in row]

    def replace(
        self, text: str | None, reply_markup: JSON | None, parse_mode: str | None, date: int
    ) -> None:
        """Apply an edit, remembering the replaced version."""
        self.edits.append(Version(self.text, self.reply_markup))
        self.text = text
        self.reply_markup = reply_markup
        self.parse_mode = parse_mode
        self.edit_date = date


def inline_only(markup: JSON | None) -> JSON | None:
    """Keep a reply markup only if it is an inline keyboard; others do not stay on a message."""
    return markup if markup and "inline_keyboard" in markup else None
