"""Invite links as the bot writes them, and the staff command that asks for one."""

from __future__ import annotations

import re

from tests.fake_bot_api import FakeBotApi
from tests.utils.harness import ADMIN_ID

INVITE_LINK = re.compile(r"https://t\.me/(\w+)\?start=([A-Za-z0-9_-]+)")


def invite_link(text: str) -> tuple[str, str]:
    """The bot's name and the token of the first invite link in `text`."""
    found = INVITE_LINK.search(text)
    assert found, f"no invite link in {text!r}"
    bot_name, token = found.groups()
    return bot_name, token


async def invite_token(server: FakeBotApi, command: str, contains: str = "t.me/") -> str:
    """The admin sends `command` (an /enroll or /invite_staff); returns its link's token."""
    server.user(ADMIN_ID).send_text(command)
    answer = await server.next_message(ADMIN_ID, contains=contains)
    return invite_link(answer.text)[1]
