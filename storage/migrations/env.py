"""Alembic environment: runs on the connection the bot hands over, or on alembic.ini's URL."""

from alembic import context
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from storage.db import make_engine

target_metadata = SQLModel.metadata


def run_migrations(connection) -> None:
    """Run the migrations inside one transaction on `connection`."""
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    run_migrations(connection)
else:
    with make_engine(context.config.get_main_option("sqlalchemy.url")).begin() as conn:
        run_migrations(conn)
