"""The waits between attempts when Telegram cannot be reached: doubling, then capped."""

from bot.core.durations import MAX_BACKOFF_SECONDS, backoff_seconds


def test_the_wait_doubles_from_one_second_after_each_failure():
    assert [backoff_seconds(n) for n in range(1, 7)] == [1, 2, 4, 8, 16, 32]


def test_the_wait_stops_growing_at_the_cap_however_long_it_fails():
    assert MAX_BACKOFF_SECONDS == 60
    assert [backoff_seconds(n) for n in (7, 8, 100, 10**6)] == [60, 60, 60, 60]


def test_a_smaller_cap_is_kept():
    assert [backoff_seconds(n, cap=5) for n in range(1, 6)] == [1, 2, 4, 5, 5]
