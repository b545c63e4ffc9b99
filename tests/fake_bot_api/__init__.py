"""A fake Telegram Bot API server for end-to-end tests with a real PTB bot (see server.py)."""

from .errors import ApiError
from .limits import RateLimits, Window
from .model import ApiCall, BotMessage, CallbackAnswer, ErrorRecord, StoredFile, Upload, Version
from .people import GROUP_ADMIN, FakeGroup, FakeUser
from .server import TEST_TOKEN, FakeBotApi, ServerThread

__all__ = [
    "GROUP_ADMIN",
    "TEST_TOKEN",
    "ApiCall",
    "ApiError",
    "BotMessage",
    "CallbackAnswer",
    "ErrorRecord",
    "FakeBotApi",
    "FakeGroup",
    "FakeUser",
    "RateLimits",
    "ServerThread",
    "StoredFile",
    "Upload",
    "Version",
    "Window",
]
