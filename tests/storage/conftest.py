"""A migrated SQLite file per test (or TEST_DATABASE_URL's database when set)."""

import os

import pytest
from sqlmodel import SQLModel

from storage.db import make_engine, migrate


@pytest.fixture
def engine(tmp_path):
    url = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_path / 'test.sqlite'}"
    engine = make_engine(url)
    migrate(engine)
    yield engine
    if os.environ.get("TEST_DATABASE_URL"):
        SQLModel.metadata.drop_all(engine)
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    engine.dispose()
