"""The bot's configuration variables, as `.env.example` lists them, and a clean environment."""

from __future__ import annotations

import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENV_EXAMPLE = ROOT / ".env.example"
_ASSIGNMENT = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=", re.MULTILINE)


def configuration_variables() -> frozenset[str]:
    """Every variable `.env.example` lists, commented out or not."""
    return frozenset(_ASSIGNMENT.findall(ENV_EXAMPLE.read_text(encoding="utf-8")))


CONFIGURATION_VARIABLES = configuration_variables()


def clean_environment(**settings: str) -> dict[str, str]:
    """This process's environment without any bot setting, plus `settings`."""
    env = {k: v for k, v in os.environ.items() if k not in CONFIGURATION_VARIABLES}
    env.update(settings)
    return env
