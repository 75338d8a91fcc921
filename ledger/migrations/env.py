"""Alembic environment. The connection comes from ledger.migrate (tests, `s106 init-db`);
run as plain `alembic` it falls back to LEDGER_DATABASE_URL."""

from __future__ import annotations

import os

from alembic import context

from ledger.db import make_engine
from ledger.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run_migrations(connection)
else:
    engine = make_engine(os.environ["LEDGER_DATABASE_URL"])
    with engine.connect() as fresh:
        run_migrations(fresh)
