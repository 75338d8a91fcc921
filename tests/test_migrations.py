"""Migrations build the schema the models describe, on SQLite and PostgreSQL."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from ledger.db import make_engine
from ledger.migrate import alembic_config, downgrade, upgrade
from ledger.models import Base


def test_there_is_a_single_head() -> None:
    script = ScriptDirectory.from_config(alembic_config(make_engine("sqlite://")))
    assert len(script.get_heads()) == 1


def test_models_and_migrations_agree(database_url: str) -> None:
    engine = make_engine(database_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    engine.dispose()


def test_downgrade_and_upgrade_round_trip(database_url: str) -> None:
    engine = make_engine(database_url)
    downgrade(engine, "base")
    assert "entries" not in inspect(engine).get_table_names()
    upgrade(engine)
    assert {"entries", "audit_events", "agreements"} <= set(inspect(engine).get_table_names())
    engine.dispose()
