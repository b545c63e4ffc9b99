"""The bot's own patient-facing sentences, one catalog per language, and the one lookup.

A catalog is a plain dict of `str.format` templates (bot/locales/<code>.py). English is the
reference: every other catalog must have exactly its keys, with the same placeholders.
Staff-facing sentences stay in English in bot/texts.py.
"""

from __future__ import annotations

import string
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.locales import en, es

DEFAULT_LANGUAGE = "en"
CATALOGS: dict[str, dict[str, str]] = {"en": en.TEXTS, "es": es.TEXTS}


def say(language: str, key: str, **values: object) -> str:
    """The sentence `key` in `language` (English when the language has no catalog)."""
    catalog = CATALOGS.get(language, CATALOGS[DEFAULT_LANGUAGE])
    return catalog[key].format(**values)


def format_time(language: str, moment: datetime, tz: ZoneInfo) -> str:
    """A moment on the patient's clock in their language: "Thursday 26 Nov at 14:00".

    In the hour that comes twice when the clocks go back, the zone's abbreviation says which.
    """
    local = moment.astimezone(tz)
    other = local.replace(fold=1 - local.fold)
    repeated = f" {local:%Z}" if other.utcoffset() != local.utcoffset() else ""
    return say(
        language,
        "date_time",
        weekday=say(language, "weekdays").split()[local.weekday()],
        day=local.day,
        month=say(language, "months").split()[local.month - 1],
        time=f"{local:%H:%M}{repeated}",
    )


def ordinal(language: str, number: int) -> str:
    """An infusion's rank in words: "2nd" ("your 2nd infusion"), "2.ª" ("su 2.ª infusión")."""
    if language == "es":
        return f"{number}.ª"
    if 10 <= number % 100 <= 20:
        return f"{number}th"
    return f"{number}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(number % 10, 'th') }"


def placeholders(template: str) -> set[str]:
    """The names a template fills in: {"limit"} for "under {limit} characters"."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def catalog_file(language: str) -> str:
    """Where a language's catalog lives, for error messages."""
    return f"bot/locales/{language}.py"


def catalog_problems(language: str) -> list[tuple[str, str]]:
    """(key, problem) for each text of `language` missing, unknown to English, or with other
    placeholders than English's. Empty when the catalog is complete."""
    reference, catalog = CATALOGS[DEFAULT_LANGUAGE], CATALOGS[language]
    problems = []
    for key, template in reference.items():
        if key not in catalog:
            problems.append((key, f"is missing in {language} (English has it)"))
        elif placeholders(catalog[key]) != placeholders(template):
            wanted = ", ".join(f"{{{name}}}" for name in sorted(placeholders(template))) or "none"
            problems.append((key, f"must use the placeholders English uses: {wanted}"))
    problems += [(key, "is not in English") for key in sorted(catalog.keys() - reference.keys())]
    return problems
