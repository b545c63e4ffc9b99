"""The token never reaches a log line, whatever logs it and however."""

import logging

from bot.logs import REDACTED, RedactToken

TOKEN = "123456:AAH-secret-part-of-the-token-xyz"


def record(msg, args=(), exc_text=None):
    made = logging.LogRecord("telegram.ext", logging.DEBUG, __file__, 1, msg, args, None)
    made.exc_text = exc_text
    return made


def test_the_token_is_cut_from_messages_arguments_and_tracebacks():
    redact = RedactToken(TOKEN)
    in_args = record("POST %s/getMe", (f"https://api.telegram.org/bot{TOKEN}",))
    in_text = record(f"The token `{TOKEN.split(':')[1]}` was rejected by the server.")
    in_trace = record("boom", exc_text=f"InvalidToken: {TOKEN}")
    for made in (in_args, in_text, in_trace):
        assert redact.filter(made) is True
        shown = made.getMessage() + (made.exc_text or "")
        assert TOKEN.split(":")[1] not in shown
    assert REDACTED in in_args.getMessage()


def test_records_without_the_token_are_left_alone():
    made = record("update %s handled", (42,))
    RedactToken(TOKEN).filter(made)
    assert made.msg == "update %s handled" and made.args == (42,)
