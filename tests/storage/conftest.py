"""A migrated database per test: a SQLite file, or its own PostgreSQL database when
TEST_DATABASE_URL is set (tests/utils/databases.py)."""

import pytest

from storage.db import make_engine, migrate
from tests.utils.databases import database_url


@pytest.fixture
def engine(tmp_path):
    engine = make_engine(database_url(tmp_path / "test.sqlite"))
    migrate(engine)
    yield engine
    engine.dispose()
