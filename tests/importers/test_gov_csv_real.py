"""Every real council's files in tests/data import, account for every pound, re-import
to no change, and give IFS figures that match the money in the files."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bench.real_files import measure
from importers.gov_csv import plan_gov_csv
from importers.report import REJECT_COLUMNS, REPORT_COLUMNS, write_rejects
from ledger.domain.dates import financial_year_of
from ledger.models import Agreement, AuditEvent, Entry, IncomeDue, Obligation, Project
from ledger.services import SYSTEM
from ledger.services.ifs import ifs_report
from ledger.services.imports import apply_import

# Copies of the councils' published files (tests/data/gov-csv/SOURCES.md): a fresh clone needs nothing beside it.
DATA = Path(__file__).parents[1] / "data" / "gov-csv"
COUNCILS = ["isle-of-wight", "north-tyneside", "tonbridge-and-malling", "wiltshire"]
TABLES = (Agreement, Obligation, Project, Entry, IncomeDue)


def counts(session: Session) -> dict[str, int]:
    session.rollback()
    return {t.__tablename__: session.scalar(select(func.count()).select_from(t)) or 0 for t in TABLES}


def source_rows(council: str) -> list[dict[str, str]]:
    """The transaction file read independently of the importer: stdlib csv, BOM stripped."""
    text = (DATA / council / "developer-agreement-transaction.csv").read_bytes().decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    for line, row in enumerate(rows, start=2):
        row["_line"] = str(line)
    return rows


def money(text: str) -> Decimal:
    return abs(Decimal(text.replace("£", "").replace(",", "").strip() or "0"))


def day(text: str) -> date:
    text = text.strip()
    return (datetime.strptime(text, "%d/%m/%Y") if "/" in text else datetime.strptime(text, "%Y-%m-%d")).date()


@pytest.fixture(params=COUNCILS)
def council(request: pytest.FixtureRequest) -> str:
    return request.param


def test_real_files_import_and_every_pound_is_accounted_for(council: str, session: Session, tmp_path: Path) -> None:
    assert DATA.exists(), DATA
    result = apply_import(session, plan_gov_csv(DATA / council), actor=SYSTEM)
    assert result.committed
    assert all(line.adds_up for line in result.summary)
    transactions = [line for line in result.summary if line.file == "developer-agreement-transaction.csv"]
    source = source_rows(council)
    assert sum(line.rows for line in transactions) == len(source)
    assert sum((line.source for line in transactions), Decimal(0)) == sum(
        (money(r["amount"]) for r in source if r["amount"].strip()), Decimal(0))

    rejects_path = tmp_path / "rejects.csv"
    written = write_rejects(rejects_path, result.issues)
    rejects = list(csv.DictReader(io.StringIO(rejects_path.read_text(encoding="utf-8"))))
    assert tuple(rejects[0].keys() if rejects else REJECT_COLUMNS) == REJECT_COLUMNS
    assert written == len(rejects) == len(result.rejected) == sum(line.rejected_rows for line in result.summary)
    for row in rejects:
        assert row["file"] and int(row["line"]) >= 2 and row["field"] and row["reason"]

    audit = session.scalars(select(AuditEvent).where(AuditEvent.action == "import")).one()
    assert audit.after is not None and audit.after["rejected"] == len(result.rejected)


def test_reimporting_the_same_files_changes_nothing(council: str, session: Session) -> None:
    first = apply_import(session, plan_gov_csv(DATA / council), actor=SYSTEM)
    before = counts(session)
    second = apply_import(session, plan_gov_csv(DATA / council), actor=SYSTEM)
    assert counts(session) == before
    assert second.created == {}
    assert sum(line.imported_rows for line in second.summary if line.status != "agreement") == 0
    assert len(second.rejected) == len(first.rejected)


def test_ifs_for_each_year_matches_the_money_in_the_files(council: str, session: Session, tmp_path: Path) -> None:
    result = apply_import(session, plan_gov_csv(DATA / council), actor=SYSTEM)
    refused = {(i.source.file, i.source.line) for i in result.rejected}
    received: dict[int, Decimal] = defaultdict(Decimal)
    spent: dict[int, Decimal] = defaultdict(Decimal)
    for row in source_rows(council):
        if ("developer-agreement-transaction.csv", int(row["_line"])) in refused or row["start-date"].startswith("1900"):
            continue  # refused, or received on a day not known: an opening balance, in no year's receipts
        status = row["contribution-funding-status"].strip().lower()
        if status == "received":
            received[financial_year_of(day(row["start-date"]))] += money(row["amount"])
        elif status in ("spent", "transferred"):
            spent[financial_year_of(day(row["start-date"]))] += money(row["amount"])
    assert received, "every council's files hold receipts"
    # The files mix planning obligations, CIL and section 278 money: each class has its own
    # figures (SPEC 8.1), and together they hold all of the files' money.
    for year in sorted(set(received) | set(spent)):
        report = ifs_report(session, year=year)
        assert sum((report.value(n) for n in ("s106_b_money_received", "cil_b_receipts", "s278_b_money_received")),
                   Decimal(0)) == received[year], year
        assert sum((report.value(n) for n in ("s106_f_money_spent", "cil_e_expenditure", "cil_i_passed_to_others",
                                              "s278_f_money_spent")), Decimal(0)) == spent[year], year


def test_import_through_the_command_line_with_dry_run_strict_and_rejects(app: Flask, tmp_path: Path) -> None:
    runner = app.test_cli_runner()
    with app.extensions["ledger.sessions"]() as session:
        empty = counts(session)
    dry = runner.invoke(args=["ledger", "import", "gov-csv", str(DATA / "north-tyneside"), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "dry run: nothing written" in dry.output
    # Tonbridge and Malling's files hold superseded rows, which are always refused.
    strict = runner.invoke(args=["ledger", "import", "gov-csv", str(DATA / "tonbridge-and-malling"), "--strict"])
    assert strict.exit_code != 0
    assert "--strict" in strict.output
    with app.extensions["ledger.sessions"]() as session:
        assert counts(session) == empty
    rejects, report = tmp_path / "rejects.csv", tmp_path / "report.csv"
    real = runner.invoke(args=["ledger", "import", "gov-csv", str(DATA / "north-tyneside"), "--organisation",
                               "E08000022", "--rejects", str(rejects), "--report", str(report)])
    assert real.exit_code == 0, real.output
    assert "written in one transaction" in real.output
    assert "warnings by kind: unknown-terms 465, opening-balance 139," in real.output
    listed = list(csv.DictReader(report.read_text(encoding="utf-8").splitlines()))
    assert tuple(listed[0]) == REPORT_COLUMNS and {r["severity"] for r in listed} == {"warning"}
    assert f"report: {report} ({len(listed):,} warnings and rejections)" in real.output
    assert "NO" not in [line.split()[-1] for line in real.output.splitlines() if line.startswith("developer-")]
    assert next(csv.reader(rejects.read_text(encoding="utf-8").splitlines())) == list(REJECT_COLUMNS)
    with app.extensions["ledger.sessions"]() as session:
        assert set(session.scalars(select(Agreement.authority_code))) == {"E08000022"}


def test_north_tynesides_cil_is_reported_as_cil_not_as_section_106(session: Session) -> None:
    """North Tyneside's CIL contributions name the planning application, not their agreement
    (contribution and agreement `19/00425/FUL/0001` name `19/00425/FUL`): the import finds the
    CIL agreement, so the money is on the CIL sheet and in no s106 figure (SPEC 8.1)."""
    result = apply_import(session, plan_gov_csv(DATA / "north-tyneside"), actor=SYSTEM)
    refused = {(i.source.file, i.source.line) for i in result.rejected}
    contributions = csv.DictReader(io.StringIO(
        (DATA / "north-tyneside" / "developer-agreement-contribution.csv").read_bytes().decode("utf-8-sig")))
    cil = {row["developer-agreement-contribution"] for row in contributions
           if row["contribution-purpose"].strip().upper() == "CIL"}
    assert cil, "the files hold CIL contributions"
    received: dict[str, dict[int, Decimal]] = {"cil": defaultdict(Decimal), "s106": defaultdict(Decimal)}
    for row in source_rows("north-tyneside"):
        if row["contribution-funding-status"].strip().lower() != "received" or (
                "developer-agreement-transaction.csv", int(row["_line"])) in refused:
            continue
        received["cil" if row["developer-agreement-contribution"] in cil else "s106"][
            financial_year_of(day(row["start-date"]))] += money(row["amount"])
    assert sum(received["cil"].values(), Decimal(0)) > 0
    for year in sorted(set(received["cil"]) | set(received["s106"])):
        report = ifs_report(session, year=year)
        assert report.value("cil_b_receipts") == received["cil"][year], year
        assert report.value("s106_b_money_received") == received["s106"][year], year
    taken = [i.reason for i in result.issues if i.field == "developer-agreement" and "taken as" in i.reason]
    assert any("'19/00425/FUL/0001', which has the contribution's own reference" in reason for reason in taken)


@pytest.mark.parametrize("name", COUNCILS)
def test_under_five_percent_of_each_councils_money_is_rejected_and_nothing_refused_whole(
    name: str, session: Session,
) -> None:
    result = apply_import(session, plan_gov_csv(DATA / name), actor=SYSTEM)
    assert result.committed and result.created.get("entries", 0) > 0
    found = measure(name, result)
    assert found.source > 0 and found.imported + found.rejected == found.source
    assert found.rejected_share < Decimal("0.05"), (found.rejected, found.superseded, found.reasons)


def test_receipts_dated_1900_are_held_as_opening_balances_with_no_date_of_receipt(session: Session) -> None:
    """Isle of Wight publishes 28 receipts dated 1900-01-01, its placeholder for "not known":
    the money is held, so it comes in as opening balances dated when their agreements were
    entered into, with no date of receipt (SPEC 8.3), each with a warning, not refused."""
    undated = [r for r in source_rows("isle-of-wight")
               if r["contribution-funding-status"].strip().lower() == "received" and r["start-date"].startswith("1900")]
    assert len(undated) == 28
    result = apply_import(session, plan_gov_csv(DATA / "isle-of-wight"), actor=SYSTEM)
    # (Shortfalls bring in opening balances too, named {contribution}/opening-balance.)
    balances = {e.reference: e for e in session.scalars(select(Entry).where(Entry.kind == "opening-balance"))
                if not e.reference.endswith("/opening-balance")}
    assert set(balances) == {r["developer-agreement-transaction"] for r in undated}
    assert sum((e.amount for e in balances.values()), Decimal(0)) == sum((money(r["amount"]) for r in undated), Decimal(0))
    for entry in balances.values():
        assert entry.original_received_on is None
        assert entry.occurred_on == entry.obligation.agreement.signed_on
    warned = {i.source.line for i in result.issues if i.kind == "undated-receipt"}
    assert warned == {int(r["_line"]) for r in undated}
    for year in {financial_year_of(e.occurred_on) for e in balances.values()}:
        assert ifs_report(session, year=year).value("s106_b_money_received") >= 0  # the year's statement holds


def test_without_opening_balances_undated_receipts_are_refused() -> None:
    plan = plan_gov_csv(DATA / "isle-of-wight", opening_balances=False)
    assert not [e for e in plan.entries if e.kind == "opening-balance"]
    refused = [i for i in plan.rejected if i.field == "start-date"]
    assert len(refused) == 28 and all("placeholder" in i.reason for i in refused)
