"""Outcome arithmetic: change from baseline and IMMPACT response bands."""

from __future__ import annotations

MODERATE_PERCENT = 30.0
SUBSTANTIAL_PERCENT = 50.0


def percent_improvement(baseline: float, now: float, higher_is_worse: bool = True) -> float | None:
    """Improvement from baseline in percent of baseline; None when the baseline is 0.

    For pain (higher is worse) this is (baseline - now) / baseline * 100, as IMMPACT defines it.
    """
    if baseline == 0:
        return None
    change = baseline - now if higher_is_worse else now - baseline
    return change / baseline * 100.0


def points_worse(baseline: float, now: float, higher_is_worse: bool = True) -> float:
    """How many points worse than baseline (negative when better)."""
    return now - baseline if higher_is_worse else baseline - now


def response_band(percent: float | None) -> str:
    """IMMPACT band of a pain reduction: substantial, moderate, or none."""
    if percent is None:
        return "not computable"
    if percent >= SUBSTANTIAL_PERCENT:
        return "substantial"
    if percent >= MODERATE_PERCENT:
        return "moderate"
    return "none"


BARS = "▁▂▃▄▅▆▇█"


def sparkline(values: list[float], top: float = 10.0) -> str:
    """Values on a 0-`top` scale as a line of block characters, one a value."""
    steps = len(BARS) - 1
    return "".join(BARS[max(0, min(steps, round(v / top * steps)))] for v in values)


def trend(baseline: float | None, values: list[float]) -> str:
    """A compact text chart: the baseline, a bar for each later value, the latest value.

    For example `6 ▇▅▃▂▃▅ 5`; "?" stands for a missing baseline.
    """
    start = f"{baseline:g}" if baseline is not None else "?"
    if not values:
        return f"{start} (no answer since)"
    return f"{start} {sparkline(values)} {values[-1]:g}"
