"""The bot's own patient sentences: every language has every English key, same placeholders."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot import locales
from bot.core.protocol import ProtocolError, load_protocol


@pytest.mark.parametrize("language", sorted(locales.CATALOGS))
def test_every_catalog_has_the_english_keys_with_the_same_placeholders(language):
    assert locales.catalog_problems(language) == []


def test_a_missing_or_misfilled_translation_stops_the_protocol_loading(monkeypatch):
    spanish = dict(locales.CATALOGS["es"])
    del spanish["answer_saved"]
    spanish["text_too_long"] = "La respuesta es demasiado larga."  # {limit} left out
    spanish["only_in_spanish"] = "¡Hola!"
    monkeypatch.setitem(locales.CATALOGS, "es", spanish)
    assert locales.catalog_problems("es") == [
        ("answer_saved", "is missing in es (English has it)"),
        ("text_too_long", "must use the placeholders English uses: {limit}"),
        ("only_in_spanish", "is not in English"),
    ]
    with pytest.raises(ProtocolError) as caught:
        load_protocol()
    assert str(caught.value) == "bot/locales/es.py: answer_saved: is missing in es (English has it)"


def test_times_read_in_the_patients_language():
    moment = datetime(2026, 11, 24, 14, 5, tzinfo=UTC)
    london = ZoneInfo("Europe/London")
    assert locales.format_time("en", moment, london) == "Tuesday 24 Nov at 14:05"
    assert locales.format_time("es", moment, ZoneInfo("Europe/Madrid")) == (
        "martes 24 de noviembre a las 15:05"
    )
