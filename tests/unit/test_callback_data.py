"""Callback data: compact, within Telegram's 64 bytes, and never trusted when malformed."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.parsing import LARGEST_RECORD_NUMBER
from bot.keyboards import Action, BadCallback, Callback

question_ids = st.from_regex(r"[a-z][a-z0-9_]{0,31}", fullmatch=True)


@given(
    st.sampled_from(list(Action)),
    st.integers(min_value=0, max_value=LARGEST_RECORD_NUMBER),
    st.one_of(st.just(""), question_ids),
    st.integers(min_value=-1, max_value=999),
    st.integers(min_value=-1, max_value=99),
)
def test_round_trip_within_64_bytes(action, record_id, question_id, index, sub_index):
    if index < 0:
        sub_index = -1
    callback = Callback(action, record_id, question_id, index, sub_index)
    data = callback.encode()
    assert len(data.encode()) <= 64
    assert Callback.decode(data) == callback


@pytest.mark.parametrize(
    "data",
    [
        None,
        "",
        "x:1",
        "a",
        "a:",
        "a:-1",
        "a:1:Q!:1",
        "a:1:q:1:2:3",
        "a:1:q:x",
        "k:99999999999999",
        "c:999999999999:1",  # beyond the database's integer keys (PostgreSQL refuses it)
        f"a:{LARGEST_RECORD_NUMBER + 1}",
        "a:1:" + "q" * 40,
        "é" * 40,
        "a:1:q:1" + "0" * 60,
    ],
)
def test_malformed_data_is_refused(data):
    with pytest.raises(BadCallback):
        Callback.decode(data)


@given(st.text(max_size=80))
def test_any_text_either_decodes_or_is_refused_cleanly(data):
    try:
        decoded = Callback.decode(data)
    except BadCallback:
        return
    assert isinstance(decoded.action, Action) and 0 <= decoded.record_id <= LARGEST_RECORD_NUMBER
