"""Migrations build the schema the models describe, on SQLite and PostgreSQL."""

from datetime import date
from decimal import Decimal

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.orm import Session

from ledger.db import make_engine
from ledger.domain.dates import NoDeadline
from ledger.domain.vocab import EntryKind
from ledger.migrate import alembic_config, downgrade, upgrade
from ledger.models import Base
from ledger.services import Actor, kept
from ledger.services.balances import obligation_balance
from ledger.services.entries import EntryRequest, record_entry
from tests.factories import make_agreement, make_ledger, make_obligation, post


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


def test_a_ledger_with_data_upgrades_from_the_first_revision(database_url: str) -> None:
    engine = make_engine(database_url)
    downgrade(engine, "0001_initial")
    with engine.begin() as connection:  # the first schema's tables, filled by hand
        connection.execute(text("INSERT INTO authorities (code, name, kind) VALUES ('A', 'A', 'district')"))
        connection.execute(text(
            "INSERT INTO agreements (reference, type, authority_code, signed_on, created_by, created_at) "
            "VALUES ('AG', 'section-106', 'A', '2020-01-01', 'x', '2020-01-01 00:00:00')"))
        connection.execute(text(
            "INSERT INTO obligations (reference, agreement_id, purpose, service, commuted_sum, index, "
            "repayment_basis, needs_review, created_by, created_at) SELECT 'OB', id, 'education', 'send', false, "
            "'none', 'receipt', false, 'x', '2020-01-01 00:00:00' FROM agreements".replace(" index,", ' "index",')))
        # Ten years from receipt, as stored before SPEC 8.2 (OB's null years meant no time limit).
        connection.execute(text(
            "INSERT INTO obligations (reference, agreement_id, purpose, service, commuted_sum, index, "
            "repayment_years, repayment_basis, needs_review, created_by, created_at) SELECT 'OB10', id, 'education', "
            "'send', false, 'none', 10, 'receipt', false, 'x', '2020-01-01 00:00:00' FROM agreements"
            .replace(" index,", ' "index",')))
        connection.execute(text(
            "INSERT INTO entries (reference, kind, obligation_id, amount, occurred_on, created_by, created_at, reason) "
            "SELECT 'R' || reference, 'receipt', id, 12345, '2020-02-01', 'x', '2020-02-01 00:00:00', 'r' "
            "FROM obligations"))
    upgrade(engine)
    with Session(engine) as session:
        _entry, created = record_entry(session, EntryRequest(
            kind=EntryKind.REPAYMENT, obligation_reference="OB", amount=Decimal("23.45"), occurred_on=date(2021, 1, 1),
            reason="after the upgrade"), actor=Actor(email="x", role="officer"))
        assert created
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM entries")).scalar() == 3
        assert connection.execute(text("SELECT needs_review FROM agreements")).scalar() in (0, False)
    with Session(engine) as session:  # every deadline as it was: none for OB, ten years for OB10
        terms = dict(session.execute(text(
            "SELECT reference, repayment_basis || '/' || coalesce(cast(repayment_years AS varchar), '-') "
            "FROM obligations")).all())
        assert terms == {"OB": "none/-", "OB10": "receipt/10"}
        deadlines = {reference: [p.deadline for p in obligation_balance(session, reference, on=date(2021, 6, 1)).receipts]
                     for reference in terms}
        assert deadlines == {"OB": [NoDeadline.NONE], "OB10": [date(2030, 2, 1)]}
    engine.dispose()


def test_the_money_with_a_deadline_kept_per_division_is_worked_out_by_its_migration(database_url: str) -> None:
    """0019 adds each division's kept money with a deadline to a ledger kept without it, and
    works every kept position out again: what the writes would have kept, by s106 check's
    measure."""
    engine = make_engine(database_url)
    with Session(engine) as session:
        make_ledger(session)
        make_agreement(session, reference="NO-DIVISION", division_code=None)
        make_obligation(session, agreement="NO-DIVISION", reference="NO-DIVISION/1", repayment_years=None)
        post(session, "receipt", "1000.00", date(2020, 7, 1))
        post(session, "receipt", "250.00", date(2021, 7, 1))
        post(session, "spend", "300.00", date(2022, 1, 1), project="PRJ-1")
        post(session, "receipt", "40.00", date(2021, 1, 1), obligation="NO-DIVISION/1")  # no deadline
    downgrade(engine, "0018_kept_urgent_agreement_count")
    upgrade(engine)
    with Session(engine) as session:
        dated = dict(session.execute(text("SELECT division_code, dated FROM kept_division_positions")).all())
        assert dated == {"ashford-central": 95000, "": 0}  # pence: 700.00 + 250.00 remaining
        assert kept.differences(session) == []
    engine.dispose()


def test_the_kept_rows_carry_what_a_divisions_page_reads_them_by_after_their_migration(database_url: str) -> None:
    """0020 copies each obligation's agreement, signing and service into its kept row, and its
    division into its kept project rows, working every kept position out again."""
    engine = make_engine(database_url)
    with Session(engine) as session:
        make_ledger(session)
        make_agreement(session, reference="NO-DIVISION", division_code=None, signed_on=date(2021, 3, 4))
        make_obligation(session, agreement="NO-DIVISION", reference="NO-DIVISION/1", service="highways")
        post(session, "receipt", "1000.00", date(2021, 7, 1))
        post(session, "spend", "300.00", date(2022, 1, 1), project="PRJ-1")
    downgrade(engine, "0019_kept_division_dated_money")
    schema = inspect(engine)
    assert "service" not in {c["name"] for c in schema.get_columns("kept_obligation_positions")}
    # The downgrade gives back the indexes by division alone.
    assert "ix_agreements_division_code" in {i["name"] for i in schema.get_indexes("agreements")}
    assert {i["name"] for i in schema.get_indexes("kept_obligation_positions")} >= {
        "ix_kept_obligation_positions_division_code"}
    upgrade(engine)
    with Session(engine) as session:
        copied = session.execute(text(
            "SELECT o.reference, k.division_code, a.reference, k.signed_on, k.service FROM kept_obligation_positions k "
            "JOIN obligations o ON o.id = k.obligation_id JOIN agreements a ON a.id = k.agreement_id "
            "ORDER BY o.reference")).all()
        assert [tuple(str(v) if isinstance(v, date) else v for v in row) for row in copied] == [
            ("20/00001/FUL/1", "ashford-central", "20/00001/FUL", "2020-06-01", "education-primary"),
            ("NO-DIVISION/1", None, "NO-DIVISION", "2021-03-04", "highways")]
        projects = session.execute(text("SELECT division_code, spent FROM kept_project_positions")).all()
        assert [tuple(row) for row in projects] == [("ashford-central", 30000)]  # pence
        assert kept.differences(session) == []
    engine.dispose()
