"""The one lookup for what a patient reads: the bot's sentences and the protocol's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot import locales
from bot.core.protocol import Protocol


@dataclass(frozen=True)
class Voice:
    """Everything patient-facing in one language.

    `protocol` is the protocol with this language's question texts, option labels, step
    titles and [texts]; its structure (ids, values, rules) is the same in every language,
    so stored answers never depend on the language they were given in.
    """

    language: str
    protocol: Protocol

    def say(self, key: str, **values: object) -> str:
        """One of the bot's own sentences (bot/locales)."""
        return locales.say(self.language, key, **values)

    def text(self, key: str, **moment: str) -> str:
        """One of the protocol's [texts], contacts filled in."""
        return self.protocol.text(key, **moment)

    def with_footer(self, text: str) -> str:
        """Every patient message ends with the protocol's safety footer."""
        return f"{text}\n\n{self.protocol.text('footer')}"

    def time(self, moment: datetime, tz: ZoneInfo) -> str:
        """A moment on the patient's clock, in their language."""
        return locales.format_time(self.language, moment, tz)


def voice(protocol: Protocol, language: str | None) -> Voice:
    """How to speak to someone whose language is `language` (None: the protocol's default)."""
    spoken = protocol.in_language(language)
    return Voice(spoken.language, spoken)
