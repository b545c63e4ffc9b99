"""Engine, sessions and migrations. SQLite gets WAL, foreign keys and a busy timeout.

A relative SQLite path is resolved from the current directory, as a `.env` file is.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, event, update
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlmodel import Session, create_engine

from storage.models import BotSetting

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
URL_EXAMPLES = "sqlite:///data/followup.sqlite or postgresql+psycopg://user:password@host/name"


class DatabaseUnusable(Exception):
    """The database a URL names cannot be used; the message says why, in one line."""


def check_database_url(url: str) -> str:
    """`url` checked without connecting, a relative SQLite path made absolute.

    Raises DatabaseUnusable when the URL cannot be parsed, names an unknown database or a
    driver that is not installed, or a SQLite file that is a folder or cannot have a folder.
    """
    try:
        parsed = make_url(url)
        dialect = parsed.get_dialect()
    except NoSuchModuleError:
        raise DatabaseUnusable(f"names an unknown kind of database (use {URL_EXAMPLES})") from None
    except (ArgumentError, ValueError):
        raise DatabaseUnusable(f"is not a database URL like {URL_EXAMPLES}") from None
    try:
        dialect.import_dbapi()
    except ImportError as exc:
        raise DatabaseUnusable(_missing_driver(parsed, exc.name or str(exc))) from None
    if _is_sqlite_file(parsed):
        return _checked_sqlite_path(parsed).render_as_string(hide_password=False)
    return url


def _missing_driver(parsed: URL, module: str) -> str:
    hint = ""
    if parsed.get_backend_name() == "postgresql":
        hint = "; install the postgres extra: pip install 'infusion-followup-bot[postgres]'"
    return f"{parsed.drivername} needs the Python package {module}, which is not installed{hint}"


def _is_sqlite_file(parsed: URL) -> bool:
    name = parsed.database
    return parsed.get_backend_name() == "sqlite" and bool(name) and name != ":memory:"


def _checked_sqlite_path(parsed: URL) -> URL:
    path = Path(parsed.database).expanduser().absolute()
    if path.is_dir():
        raise DatabaseUnusable(f"{path} is a folder, not a database file")
    folder = path.parent
    while not folder.exists():
        folder = folder.parent
    if not folder.is_dir():
        raise DatabaseUnusable(f"cannot make a folder for {path}: {folder} is a file")
    return parsed.set(database=str(path))


def describe_database(url: str) -> str:
    """Where the data lives, for people: a SQLite file's absolute path, else the URL
    without its password."""
    parsed = make_url(url)
    if _is_sqlite_file(parsed):
        return str(Path(parsed.database).expanduser().absolute())
    return parsed.render_as_string(hide_password=True)


def make_engine(url: str) -> Engine:
    """An engine for `url`; for a SQLite file, its folder is created and pragmas set."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    if _is_sqlite_file(parsed):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def open_database(url: str) -> Engine:
    """A migrated engine for `url`; DatabaseUnusable when it cannot be opened or written."""
    url = check_database_url(url)
    engine = None
    try:
        engine = make_engine(url)
        migrate(engine)
        _prove_writable(engine)
    except (DBAPIError, OSError) as exc:
        if engine is not None:
            engine.dispose()
        raise DatabaseUnusable(f"cannot use {describe_database(url)}: {_reason(exc)}") from None
    return engine


def _prove_writable(engine: Engine) -> None:
    """Raise now, not at the first answer, if the database can be read but not written
    (a read-only SQLite file opens without complaint)."""
    with engine.connect() as connection:
        connection.execute(
            update(BotSetting).where(BotSetting.key == "").values(value=BotSetting.value)
        )
        connection.rollback()


def _reason(exc: Exception) -> str:
    """The driver's own words, first line only (SQLAlchemy adds the statement and a link)."""
    cause = exc.orig if isinstance(exc, DBAPIError) else exc
    text = str(cause).strip() or type(cause).__name__
    return text.splitlines()[0]


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def migrate(engine: Engine) -> None:
    """Bring the database schema up to the newest Alembic revision."""
    config = _alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


class DatabaseMissing(DatabaseUnusable):
    """The SQLite file a URL names does not exist (yet)."""


@contextmanager
def existing_database(url: str) -> Iterator[Engine]:
    """An engine on a database that exists already: a missing SQLite file is not created.

    Raises DatabaseMissing when it is missing, and DatabaseUnusable when a query in the block
    cannot reach it; both in one line.
    """
    url = check_database_url(url)
    parsed = make_url(url)
    if _is_sqlite_file(parsed) and not Path(parsed.database).exists():
        raise DatabaseMissing(f"there is no database file at {parsed.database} yet")
    engine = create_engine(url)
    try:
        yield engine
    except DBAPIError as exc:
        raise DatabaseUnusable(f"cannot read {describe_database(url)}: {_reason(exc)}") from None
    finally:
        engine.dispose()


def schema_state(url: str) -> str:
    """Connect and say which schema revision the database has, against the newest."""
    newest = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    try:
        with existing_database(url) as engine, engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
    except DatabaseMissing:
        return "no database file yet: the bot creates it at start"
    if current is None:
        return f"connected; no tables yet: the bot creates them at start (revision {newest})"
    if current == newest:
        return f"connected; schema up to date (revision {current})"
    return f"connected; schema at revision {current}: the bot migrates it to {newest} at start"


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One short transaction: commit on success, roll back on error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
