"""Protocol files for tests, made from the real bundled protocol."""

import re
from pathlib import Path

from bot.core.durations import Duration
from bot.core.protocol import DEFAULT_PROTOCOL_PATH

_DURATION_LINE = re.compile(
    r'^(\s*(?:offset|window|reminder|emergency|urgent)\s*=\s*)"([^"]+)"', re.M
)
_QUIET = re.compile(r'^(\s*(?:start|end)\s*=\s*)"\d{2}:\d{2}"', re.M)


ON_CALL, CRISIS_LINE = "+34 600 000 111", "024"
WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def signed(text: str) -> str:
    """Protocol text as a clinic runs it: approved, with its on-call and crisis numbers."""
    text = text.replace('approved_by = ""', 'approved_by = "Test clinician"', 1)
    text = text.replace('on_call_number = ""', f'on_call_number = "{ON_CALL}"', 1)
    return text.replace('crisis_line = ""', f'crisis_line = "{CRISIS_LINE}"', 1)


def approved_protocol(directory: Path) -> Path:
    """The bundled protocol, unchanged but for its approval and contacts (see `signed`)."""
    path = directory / "approved_protocol.toml"
    path.write_text(signed(DEFAULT_PROTOCOL_PATH.read_text(encoding="utf-8")), encoding="utf-8")
    return path


def fast_protocol(
    directory: Path,
    window_seconds: int = 120,
    reminder_seconds: int | None = None,
    approved: bool = True,
) -> Path:
    """The default protocol with every hour turned into a second (4h -> 4s, 3d -> 72s).

    Windows are widened to `window_seconds` so that a test has time to answer, reminders
    come after `reminder_seconds` when given, and quiet hours are switched off. With
    `approved`, it is signed and its contacts set (as a clinic would before use), so that
    the bot raises no setup warnings. Questions, rules and texts stay exactly as bundled.
    """
    text = DEFAULT_PROTOCOL_PATH.read_text(encoding="utf-8")
    if approved:
        text = signed(text)

    def shrink(match: re.Match) -> str:
        key = match.group(1).split("=")[0].strip()
        duration = Duration.parse(match.group(2))
        seconds = max(1, round(duration.approx.total_seconds() / 3600))
        if key == "window":
            seconds = window_seconds
        if key == "reminder" and reminder_seconds is not None:
            seconds = reminder_seconds
        return f'{match.group(1)}"{seconds}s"'

    text = _DURATION_LINE.sub(shrink, text)
    # No quiet hours, and office hours around the clock: tests in real time do not depend
    # on the hour they run at.
    text = _QUIET.sub(lambda m: f'{m.group(1)}"00:00"', text)
    text = text.replace('days = ["mon", "tue", "wed", "thu", "fri"]', f"days = {list(WEEK)}", 1)
    path = directory / "fast_protocol.toml"
    path.write_text(text, encoding="utf-8")
    return path
