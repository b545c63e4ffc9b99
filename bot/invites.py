"""Invite tokens: 256 random bits, URL-safe, stored only as a SHA-256 hash."""

from __future__ import annotations

import hashlib
import re
import secrets

TOKEN_BYTES = 32  # 43 URL-safe characters, within Telegram's 64-character deep-link limit
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def new_token() -> str:
    """A fresh unguessable token for a deep link."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    """What the database keeps instead of the token."""
    return hashlib.sha256(token.encode()).hexdigest()


def looks_like_token(text: str) -> bool:
    """Whether a /start payload has the shape of one of our tokens."""
    return bool(_TOKEN.match(text))


def invite_link(bot_username: str, token: str) -> str:
    """The t.me deep link that opens the bot with the token."""
    return f"https://t.me/{bot_username}?start={token}"
