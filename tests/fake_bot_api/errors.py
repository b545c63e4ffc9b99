"""Bot API error responses, worded exactly as Telegram words them.

PTB maps the HTTP status to an exception (400 BadRequest, 401/404 InvalidToken, 403 Forbidden,
409 Conflict, 429 with parameters.retry_after RetryAfter, anything else NetworkError) and keeps
the description as the message, minus a leading "Bad Request: " and capitalised.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

CHAT_NOT_FOUND = "chat not found"
BLOCKED = "bot was blocked by the user"
DEACTIVATED = "user is deactivated"
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"


class ApiError(Exception):
    """An error answer: HTTP status, Telegram's description and optional response parameters."""

    def __init__(
        self, status: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    @property
    def retry_after(self) -> int | None:
        """The retry_after parameter of a 429, else None."""
        return (self.parameters or {}).get("retry_after")

    def payload(self) -> dict[str, Any]:
        """The JSON body Telegram sends with this error."""
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(problem: str) -> ApiError:
    """A 400 "Bad Request: <problem>"."""
    return ApiError(400, f"Bad Request: {problem}")


def forbidden(problem: str) -> ApiError:
    """A 403 "Forbidden: <problem>"."""
    return ApiError(403, f"Forbidden: {problem}")


def chat_migrated(new_chat_id: int) -> ApiError:
    """The 400 for writes to a group that became a supergroup, naming the supergroup's id."""
    return ApiError(
        400,
        "Bad Request: group chat was upgraded to a supergroup chat",
        {"migrate_to_chat_id": new_chat_id},
    )


def not_enough_rights(content: str) -> ApiError:
    """The 400 for a send the bot's rights in the group do not allow ("text messages", ...)."""
    return bad_request(f"not enough rights to send {content} to the chat")


def too_many_requests(retry_after: int) -> ApiError:
    """A 429 flood-control answer telling the bot how many seconds to wait."""
    return ApiError(
        429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
    )


def unauthorized() -> ApiError:
    """The 401 Telegram gives for a well-formed but wrong token."""
    return ApiError(401, "Unauthorized")


def not_found() -> ApiError:
    """The 404 Telegram gives for an unknown method."""
    return ApiError(404, "Not Found")


def injected(status: int, retry_after: int | None, description: str | None) -> ApiError:
    """An error a test asked for; the description defaults to Telegram's for the status."""
    if status == 429:
        retry_after = 1 if retry_after is None else retry_after
        description = description or f"Too Many Requests: retry after {retry_after}"
    params = {"retry_after": retry_after} if retry_after is not None else None
    return ApiError(status, description or _phrase(status), params)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
