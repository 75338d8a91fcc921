"""A statement as known at a moment is exact: reproduced later it is the statement taken
then, whatever was imported meanwhile or corrected since (issue "Safe to serve", item 6);
and a reversed entry's reference cannot be posted again (item 5)."""

from __future__ import annotations

import threading
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from flask import Flask
from freezegun import freeze_time
from sqlalchemy import select
from sqlalchemy.orm import Session

from bench.synthetic_gov_csv import write_synthetic_gov_csv
from importers.gov_csv import plan_gov_csv
from ledger.domain.errors import Conflict
from ledger.models import AgreementHistory, Entry
from ledger.services import SYSTEM, income, registry
from ledger.services.entries import reverse_entry
from ledger.services.ifs import ifs_report
from ledger.services.imports import apply_import
from tests.factories import OFFICER, make_ledger, make_obligation, post, write_gov_files


def test_a_correction_after_publication_leaves_the_reproduced_statement_as_published(session: Session) -> None:
    with freeze_time("2023-07-10 09:00:00"):  # after the receipts' dates: money cannot move after today
        make_ledger(session)
        registry.create_authority(session, {"code": "E07000106", "name": "Canterbury", "kind": "district"},
                                  actor=OFFICER)
        registry.create_division(session, {"code": "canterbury-north", "name": "Canterbury North",
                                           "authority_code": "E07000106"}, actor=OFFICER)
        make_obligation(session, reference="OB-CMP", repayment_basis="completion", repayment_years=5)
        post(session, "receipt", "1000.00", date(2023, 6, 1), obligation="OB-CMP")
        post(session, "receipt", "500.00", date(2023, 7, 1))
    with freeze_time("2024-05-01 09:00:00"):
        published = ifs_report(session, year=2023)
    with freeze_time("2024-08-01 09:00:00"):
        registry.update_agreement(session, "20/00001/FUL", {"division_code": "canterbury-north"}, actor=OFFICER,
                                  reason="the site is in Canterbury North")
        income.record_milestone(session, "20/00001/FUL", kind="completion", on=date(2024, 3, 1), actor=OFFICER)
        reproduced = ifs_report(session, year=2023, as_known_at=published.as_known_at)
        current = ifs_report(session, year=2023)
    assert reproduced == published
    assert [a.code for a in published.by_division] == ["ashford-central"]
    assert [a.code for a in current.by_division] == ["canterbury-north"]
    # The completion date now gives the completion-based receipt a deadline it did not have.
    [was] = [r for r in published.received if r.obligation_reference == "OB-CMP"]
    [now] = [r for r in current.received if r.obligation_reference == "OB-CMP"]
    assert was.deadline is None and now.deadline == date(2029, 3, 1)
    kept = session.execute(select(AgreementHistory.division_code, AgreementHistory.completion_on,
                                  AgreementHistory.changed_by, AgreementHistory.reason)
                           .order_by(AgreementHistory.id)).all()
    assert kept == [("ashford-central", None, OFFICER.email, "the site is in Canterbury North"),
                    ("canterbury-north", None, OFFICER.email, "completion recorded")]


def test_statements_taken_during_an_import_are_reproduced_exactly(any_app: Flask, tmp_path: Path) -> None:
    files = tmp_path / "files"
    write_synthetic_gov_csv(files, transactions=15_000, seed=3)
    factory = any_app.extensions["ledger.sessions"]
    with factory() as session:
        make_ledger(session)
        post(session, "receipt", "1000.00", date(2019, 6, 1))
    plan = plan_gov_csv(files)
    imported = threading.Event()

    def run_import() -> None:
        with factory() as session:
            assert apply_import(session, plan, actor=SYSTEM).committed
        imported.set()

    taken = []
    writer = threading.Thread(target=run_import)
    with factory() as session:
        writer.start()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            done = imported.is_set()
            taken.append(ifs_report(session, year=2019))
            if done:
                break
        writer.join()
        assert imported.is_set()
        for statement in taken:
            assert ifs_report(session, year=2019, as_known_at=statement.as_known_at) == statement
    received = [s.value("s106_b_money_received") for s in taken]
    assert received[0] == Decimal("1000.00") or received[0] > Decimal("1000.00")
    assert received[-1] > Decimal("1000.00")  # the last one was taken after the import


def test_an_entry_reversed_cannot_be_posted_again_under_its_reference(session: Session) -> None:
    make_ledger(session)
    receipt = post(session, "receipt", "1000.00", date(2020, 6, 1), reference="R-1")
    assert post(session, "receipt", "1000.00", date(2020, 6, 1), reference="R-1").id == receipt.id  # idempotent
    reverse_entry(session, receipt.id, actor=OFFICER, reason="keyed twice")
    with pytest.raises(Conflict) as refused:
        post(session, "receipt", "1000.00", date(2020, 6, 1), reference="R-1")
    assert "reversed" in refused.value.detail and refused.value.errors == {
        "reference": ["recorded and reversed: use a new reference"]}


def test_the_importer_refuses_a_row_whose_entry_was_reversed(session: Session, tmp_path: Path) -> None:
    files = write_gov_files(tmp_path / "files", [("T-1", "received", "1000.00", "2021-01-01"),
                                                 ("T-2", "received", "50.00", "2021-02-01")])
    assert apply_import(session, plan_gov_csv(files), actor=SYSTEM).committed
    entry_id = session.scalar(select(Entry.id).where(Entry.reference == "T-1"))
    reverse_entry(session, entry_id, actor=OFFICER, reason="the developer's cheque bounced")
    again = apply_import(session, plan_gov_csv(files), actor=SYSTEM)
    [refused] = again.rejected
    assert refused.source.line == 2 and refused.field == "reference" and "reversed" in refused.reason
    [line] = [s for s in again.summary if s.file == "developer-agreement-transaction.csv"]
    assert (line.rejected_rows, line.rejected, line.unchanged_rows) == (1, Decimal("1000.00"), 1)
