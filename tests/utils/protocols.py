"""Protocol files for tests, made from the real bundled protocol."""

import re
from pathlib import Path

from bot.core.durations import Duration
from bot.core.protocol import DEFAULT_PROTOCOL_PATH

_DURATION_LINE = re.compile(
    r'^(\s*(?:offset|window|reminder|escalate_after)\s*=\s*)"([^"]+)"', re.M
)
_QUIET = re.compile(r'^(\s*(?:start|end)\s*=\s*)"\d{2}:\d{2}"', re.M)


def fast_protocol(
    directory: Path, window_seconds: int = 120, reminder_seconds: int | None = None
) -> Path:
    """The default protocol with every hour turned into a second (4h -> 4s, 3d -> 72s).

    Windows are widened to `window_seconds` so that a test has time to answer, reminders
    come after `reminder_seconds` when given, and quiet hours are switched off. Questions,
    rules and texts stay exactly as bundled.
    """
    text = DEFAULT_PROTOCOL_PATH.read_text(encoding="utf-8")

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
    text = _QUIET.sub(lambda m: f'{m.group(1)}"00:00"', text)
    path = directory / "fast_protocol.toml"
    path.write_text(text, encoding="utf-8")
    return path
