"""The database a test works on: a SQLite file in its folder, or, when TEST_DATABASE_URL names
a PostgreSQL server, a database of its own there, created empty and dropped after the test.

A test names its database by a path; the same path always gives the same database, so a test
and the `python -m bot` processes it starts can open it again and again.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

SERVER_URL = os.environ.get("TEST_DATABASE_URL", "").strip()
_created: list[str] = []
_server: list[Engine] = []


def on_postgres() -> bool:
    """Whether the tests run on a PostgreSQL server rather than SQLite files."""
    return bool(SERVER_URL)


def database_url(path: Path) -> str:
    """The URL of the database a test keeps at `path` (created on first use)."""
    if not SERVER_URL:
        return f"sqlite:///{path}"
    name = "test_" + hashlib.sha256(str(path).encode()).hexdigest()[:24]
    if name not in _created:
        _execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
        _created.append(name)
    return make_url(SERVER_URL).set(database=name).render_as_string(hide_password=False)


def drop_created() -> None:
    """Drop the databases made since the last call (connections still open are ended)."""
    while _created:
        _execute(f'DROP DATABASE IF EXISTS "{_created.pop()}" WITH (FORCE)')


def _execute(statement: str) -> None:
    if not _server:
        _server.append(create_engine(SERVER_URL, isolation_level="AUTOCOMMIT"))
    with _server[0].connect() as connection:
        connection.execute(text(statement))
