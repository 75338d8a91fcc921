"""Rows councils publish are not lost (issue 14 item 3), and every warning can be read
(item 4): end-dates supersede only when a row of the same reference replaces them; units
without money are kept; a repayment of allocated money releases it first; a transaction
dated after the import day is refused; the report lists every issue by kind."""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal
from pathlib import Path

from flask import Flask
from freezegun import freeze_time
from sqlalchemy import select
from sqlalchemy.orm import Session

from importers.gov_csv import CONTRIBUTION_FILE, TRANSACTION_FILE, plan_gov_csv
from importers.plan import REJECTED, WARNING
from importers.report import REPORT_COLUMNS, kinds_lines
from ledger.domain import rules
from ledger.models import Agreement, Entry, Obligation
from ledger.services import SYSTEM
from ledger.services.balances import obligation_balance
from ledger.services.imports import AUTO_DEALLOCATION_REASON, apply_import
from tests.factories import write_gov_files


def write_files(directory: Path, *, agreements: str = "", contributions: str = "", transactions: str = "") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "developer-agreement.csv").write_text(
        "reference,organisation,developer-agreement-type,start-date,end-date\n"
        "DA-1,KEN,section-106,2020-04-01,\n" + agreements)
    (directory / "developer-agreement-contribution.csv").write_text(
        "reference,developer-agreement,contribution-purpose,amount,units,start-date,end-date\n"
        "DA-1/C1,DA-1,education,5000.00,,2020-04-01,\n" + contributions)
    (directory / "developer-agreement-transaction.csv").write_text(
        "reference,developer-agreement-contribution,contribution-funding-status,amount,units,start-date,end-date\n"
        + transactions)
    return directory


def issues(result: object, severity: str) -> list[tuple[str, int, str, str]]:
    return sorted((i.source.file, i.source.line, i.field, i.kind)
                  for i in result.issues if i.severity == severity)  # type: ignore[attr-defined]


def test_an_end_date_supersedes_only_when_a_row_of_the_same_reference_replaces_it(
    session: Session, tmp_path: Path,
) -> None:
    files = write_files(
        tmp_path / "files",
        agreements="DA-2,KEN,section-106,2019-01-01,2020-01-01\nDA-2,KEN,section-106,2020-01-01,\n"
                   "DA-3,KEN,section-106,2019-01-01,2021-01-01\n",
        contributions="DA-1/C2,DA-1,health,100.00,,2020-04-01,2020-06-01\n"  # line 3: replaced by line 4
                      "DA-1/C2,DA-1,health,150.00,,2020-06-01,\n"
                      "DA-1/C3,DA-1,health,70.00,,2020-04-01,2020-06-01\n",  # line 5: no successor
        transactions="T-1,DA-1/C1,received,500.00,,2021-01-01,2021-02-01\n"  # line 2: replaced by line 3
                     "T-1,DA-1/C1,secured,500.00,,2021-01-01,\n"
                     "T-2,DA-1/C1,received,400.00,,2021-01-01,2021-02-01\n"  # line 4: no successor: kept
                     "T-3,DA-1/C1,received,10.00,,2021-03-01,2021-03-01\n")  # one-day event, as before
    result = apply_import(session, plan_gov_csv(files), actor=SYSTEM)
    assert result.committed
    superseded = [(i.source.file, i.source.line) for i in result.rejected if i.kind == "superseded"]
    assert superseded == [("developer-agreement.csv", 3), (CONTRIBUTION_FILE, 3), (TRANSACTION_FILE, 2)]
    assert {i.reason for i in result.rejected} >= {"superseded on 2021-02-01: line 3 replaces it"}
    assert len(result.rejected) == 3
    kept = [(i.source.file, i.source.line) for i in result.issues if i.kind == "end-date-kept"]
    assert kept == [("developer-agreement.csv", 5), (CONTRIBUTION_FILE, 5), (TRANSACTION_FILE, 4)]

    session.rollback()
    amounts = dict(session.execute(select(Obligation.reference, Obligation.amount)).all())
    assert amounts["DA-1/C2"] == Decimal("150.00") and "DA-1/C2#2" not in amounts
    assert amounts["DA-1/C3"] == Decimal("70.00")
    ended = dict(session.execute(select(Agreement.reference, Agreement.superseded_on)).all())
    assert ended == {"DA-1": None, "DA-2": None, "DA-3": date(2021, 1, 1)}
    receipts = set(session.scalars(select(Entry.reference).where(Entry.kind == "receipt")))
    assert receipts == {"T-2", "T-3"}


def test_units_without_money_are_kept_and_a_zero_amount_is_a_warning(session: Session, tmp_path: Path) -> None:
    files = write_files(
        tmp_path / "files",
        contributions="DA-1/AH,DA-1,affordable-housing,0,37,2020-04-01,\n"  # line 3: homes, no money
                      "DA-1/AH2,DA-1,affordable-housing,,,2020-04-01,\n",
        transactions="T-1,DA-1/AH,received,,12,2021-01-01,\n"  # units delivered: AH keeps its 37
                     "T-2,DA-1/AH2,received,£0.00,20,2021-01-01,\n"  # AH2 gives none: takes these 20
                     "T-3,DA-1/C1,received,0.00,,2021-01-01,\n"  # nothing to record
                     "T-4,DA-1/C1,received,,,2021-01-01,\n")  # money missing: refused
    result = apply_import(session, plan_gov_csv(files), actor=SYSTEM)
    assert issues(result, REJECTED) == [(TRANSACTION_FILE, 5, "amount", "no-amount")]
    assert [k for k in issues(result, WARNING) if k[0] == TRANSACTION_FILE] == [
        (TRANSACTION_FILE, 2, "units", "units-only"), (TRANSACTION_FILE, 3, "units", "units-only"),
        (TRANSACTION_FILE, 4, "amount", "zero-amount")]
    session.rollback()
    units = {r: (u, k, a) for r, u, k, a in session.execute(
        select(Obligation.reference, Obligation.units, Obligation.unit_kind, Obligation.amount)).all()}
    assert units["DA-1/AH"] == (37, "affordable-housing-units", Decimal("0.00"))
    assert units["DA-1/AH2"] == (20, "affordable-housing-units", None)
    assert session.scalars(select(Entry.reference)).all() == []

    again = apply_import(session, plan_gov_csv(files), actor=SYSTEM)
    transactions = [line for line in again.summary if line.file == TRANSACTION_FILE]
    assert sum(line.imported_rows for line in transactions) == 0 and all(line.adds_up for line in again.summary)


def test_a_repayment_of_allocated_money_releases_it_first(session: Session, tmp_path: Path) -> None:
    rows = [("T-1", "received", "1000.00", "2021-01-01"), ("T-2", "allocated", "800.00", "2021-02-01"),
            ("T-3", "returned", "500.00", "2021-03-01")]  # only 200 unallocated: 300 handed back first
    for opening_balances in (True, False):
        files = write_gov_files(tmp_path / f"files-{opening_balances}", rows)
        result = apply_import(session, plan_gov_csv(files, opening_balances=opening_balances), actor=SYSTEM,
                              dry_run=opening_balances)
        assert result.rejected == [] and result.opening_balances == []
    [warning] = [i for i in result.issues if i.kind == "automatic-deallocation"]
    assert (warning.source.line, warning.field, warning.severity) == (4, "amount", WARNING)
    assert "£300.00 allocated to project DA-1/C1/project handed back first" in warning.reason
    session.rollback()
    deallocation = session.execute(select(Entry.kind, Entry.amount, Entry.occurred_on, Entry.reason)
                                   .where(Entry.reference == "T-3/auto-deallocation")).one()
    assert deallocation == ("deallocation", Decimal("300.00"), date(2021, 3, 1), AUTO_DEALLOCATION_REASON)
    balance = obligation_balance(session, "DA-1/C1", on=date(2021, 3, 1)).balances
    assert (balance.held, balance.allocated_unspent, balance.repaid) == (
        Decimal("500.00"), Decimal("500.00"), Decimal("500.00"))
    entries = list(session.scalars(select(Entry)))
    again = apply_import(session, plan_gov_csv(tmp_path / "files-False"), actor=SYSTEM)
    assert again.created == {} and len(list(session.scalars(select(Entry)))) == len(entries)


def test_a_repayment_beyond_the_money_held_is_still_refused_without_opening_balances(
    session: Session, tmp_path: Path,
) -> None:
    files = write_gov_files(tmp_path / "files", [("T-1", "received", "100.00", "2021-01-01"),
                                                 ("T-2", "allocated", "100.00", "2021-02-01"),
                                                 ("T-3", "returned", "150.00", "2021-03-01")])
    result = apply_import(session, plan_gov_csv(files, opening_balances=False), actor=SYSTEM)
    [refused] = result.rejected
    assert (refused.source.line, refused.kind) == (4, rules.HELD_NOT_NEGATIVE)
    assert not [i for i in result.issues if i.kind == "automatic-deallocation"]


@freeze_time("2024-06-30 23:30:00")  # 1 July in London: the import day is the UK's
def test_a_transaction_dated_after_the_import_day_is_refused(session: Session, tmp_path: Path) -> None:
    files = write_gov_files(tmp_path / "files", [("T-1", "received", "100.00", "2024-07-01"),
                                                 ("T-2", "received", "100.00", "2024-07-02"),
                                                 ("T-3", "secured", "100.00", "2025-01-01")])  # income due later
    result = apply_import(session, plan_gov_csv(files), actor=SYSTEM)
    [refused] = result.rejected
    assert (refused.source.line, refused.field, refused.kind) == (3, "occurred_on", "future-date")
    assert refused.reason == ("dated 2024-07-02, after the day of the import (2024-07-01): money cannot have "
                              "moved yet")
    session.rollback()
    assert set(session.scalars(select(Entry.reference))) == {"T-1"}


def test_the_report_lists_every_issue_by_kind_and_shows_formulas_as_text(app: Flask, tmp_path: Path) -> None:
    files = write_files(tmp_path / "files", transactions=(
        "=HYPERLINK(1),DA-1/C1,received,-100.00,,2021-01-01,\n"  # line 2: negative: warning
        "T-2,DA-1/C1,spent,50.00,,1900-01-01,\n"))  # line 3: placeholder date: refused
    report, rejects = tmp_path / "report.csv", tmp_path / "rejects.csv"
    result = app.test_cli_runner().invoke(args=["ledger", "import", "gov-csv", str(files), "--report", str(report),
                                                "--rejects", str(rejects)])
    assert result.exit_code == 0, result.output
    assert "rejected by kind: start-date 1" in result.output
    assert "warnings by kind: negative-amount 1, unknown-terms 1" in result.output
    rows = list(csv.reader(report.read_text(encoding="utf-8").splitlines()))
    assert tuple(rows[0]) == REPORT_COLUMNS
    by_line = {(r[2], r[3]): r for r in rows[1:]}
    assert by_line[TRANSACTION_FILE, "2"][:2] == ["warning", "negative-amount"]
    assert by_line[TRANSACTION_FILE, "2"][4] == "'=HYPERLINK(1)"
    assert by_line[TRANSACTION_FILE, "3"][:2] == ["rejected", "start-date"]
    assert [r[0] for r in csv.reader(rejects.read_text(encoding="utf-8").splitlines())][1:] == [TRANSACTION_FILE]


def test_kinds_are_counted_most_first_and_default_to_the_field(tmp_path: Path) -> None:
    files = write_gov_files(tmp_path / "files", [("T-1", "received", "-1.00", "2021-01-01"),
                                                 ("T-2", "received", "-2.00", "2021-01-01"),
                                                 ("T-3", "spent", "1.00", "n/a")])
    plan = plan_gov_csv(files)
    assert kinds_lines(plan.issues) == ["rejected by kind: start-date 1", "warnings by kind: negative-amount 2"]
