"""Reading finance exports (issue 19): CSV with title rows, workbooks with debit and credit
columns, zip archives; the mapping checked with one-line refusals; the command's rejects
report and dry run."""

from __future__ import annotations

import csv
import re
import zipfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from flask import Flask
from openpyxl import Workbook
from sqlalchemy import func, select

from importers.finance import load_mapping, plan_finance
from importers.read import ImportRefused
from ledger.domain.reconcile import Target, TargetKind
from ledger.models import FinanceImport, FinanceTransaction
from tests.reconcile.ledger import EXPORT, MAPPING

EXAMPLE = Path(__file__).parents[2] / "docs" / "examples" / "finance-mapping.toml"
D = Decimal


def test_the_example_mapping_reads_the_test_export() -> None:
    mapping = load_mapping(EXAMPLE)
    assert (mapping.income_negative, mapping.tolerance_days, mapping.remittance_parts) == (True, 7, 4)
    assert mapping.cost_codes == {"S106-EDU-A": Target(TargetKind.OBLIGATION, "20/00001/FUL/1"),
                                  "S106-HWY": Target(TargetKind.SERVICE, "highways")}
    plan = plan_finance(EXPORT, EXAMPLE)
    assert [(r.line, r.transaction_id, r.amount, r.in_scope) for r in plan.rows][:2] == [
        (4, "GL-0001", D("10000.00"), True), (5, "GL-0002", D("2500.00"), True)]
    assert len(plan.rows) == 8 and [(b.cost_code, b.held_on, b.amount) for b in plan.balances] == [
        ("S106-EDU-A", date(2024, 8, 31), D("6987.50"))]
    assert [(i.source.line, i.field) for i in plan.issues] == [(12, "date"), (13, "amount")]


def test_a_workbook_with_debit_and_credit_columns(tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "GL"
    sheet.append(["Finance system extract"])
    sheet.append(["Date", "Code", "Debit", "Credit", "Ref"])
    sheet.append([datetime(2024, 4, 11), "S106-HWY", None, 10000.1, "R-1"])  # a float cell: 10000.1 exactly
    sheet.append([45420, "S106-HWY", 0.3, None, "CHG"])  # an Excel serial date
    workbook.save(tmp_path / "gl.xlsx")
    mapping = tmp_path / "m.toml"
    mapping.write_text('[finance]\nincome_sign = "negative"\nsheet = "GL"\n[columns]\ndate = "Date"\n'
                       'cost_code = "Code"\ndebit = "Debit"\ncredit = "Credit"\nreference = "Ref"\n'
                       '[cost_codes]\n"S106-HWY" = { service = "highways" }\n')
    plan = plan_finance(tmp_path / "gl.xlsx", mapping)
    assert [(r.posted_on, r.amount, r.reference) for r in plan.rows] == [
        (date(2024, 4, 11), D("10000.10"), "R-1"), (date(2024, 5, 8), D("-0.30"), "CHG")]
    with zipfile.ZipFile(tmp_path / "gl.zip", "w") as archive:
        archive.write(tmp_path / "gl.xlsx", "gl.xlsx")
    assert len(plan_finance(tmp_path / "gl.zip", mapping).rows) == 2


@pytest.mark.parametrize(("text", "says"), [
    ('[columns]\ndate="D"\ncost_code="C"\namount="A"\n[cost_codes]\n"X"={service="s"}\n', "income_sign"),
    ('[finance]\nincome_sign="negative"\n[columns]\ndate="D"\ncost_code="C"\n[cost_codes]\n"X"={service="s"}\n',
     "amount (or debit and credit)"),
    ('[finance]\nincome_sign="negative"\n[columns]\ndate="D"\ncost_code="C"\namount="A"\ncolour="K"\n', "colour"),
    ('[finance]\nincome_sign="negative"\n[columns]\ndate="D"\ncost_code="C"\namount="A"\n'
     '[cost_codes]\n"X"={service="s", project="p"}\n', "must name one of obligation, service or project"),
    ('[finance]\nincome_sign="negative"\ntolerance_days=400\n[columns]\ndate="D"\ncost_code="C"\namount="A"\n'
     '[cost_codes]\n"X"={service="s"}\n', "tolerance_days"),
    ('[finance]\nincome_sign="negative"\n[columns]\ndate="D"\ncost_code="C"\namount="A"\n', "at least one cost code"),
    ("[finance\n", "not a readable TOML mapping"),
], ids=["sign", "amount", "unknown-field", "two-targets", "tolerance", "no-codes", "not-toml"])
def test_a_bad_mapping_is_refused_in_one_line(tmp_path: Path, text: str, says: str) -> None:
    mapping = tmp_path / "m.toml"
    mapping.write_text(text)
    with pytest.raises(ImportRefused, match=re.escape(says)):
        load_mapping(mapping)


def test_a_file_without_the_mapped_headings_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "other.csv"
    other.write_text("a,b,c\n1,2,3\n")
    with pytest.raises(ImportRefused, match="no header row holding the mapped columns"):
        plan_finance(other, MAPPING)


def test_the_command_writes_the_rejects_report_and_a_dry_run_writes_nothing(app: Flask, tmp_path: Path) -> None:
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["ledger", "reconcile", "import", str(EXPORT), "--mapping", str(MAPPING), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "11 rows read: 8 new (1 of them on cost codes outside section 106)" in dry.output
    assert "dry run: nothing written" in dry.output
    with app.extensions["ledger.sessions"]() as session:
        assert session.scalar(select(func.count()).select_from(FinanceImport)) == 0
    report = tmp_path / "rejects.csv"
    done = runner.invoke(args=["ledger", "reconcile", "import", str(EXPORT), "--mapping", str(MAPPING),
                               "--report", str(report)])
    assert done.exit_code == 0 and "rejects report" in done.output
    rows = list(csv.DictReader(report.read_text(encoding="utf-8").splitlines()))
    assert [(r["line"], r["reference"], r["field"]) for r in rows] == [
        ("12", "RCPT-1099", "date"), ("13", "RCPT-1100", "amount")]
    assert "'31/02/2024' is not a real date" in rows[0]["reason"]
    with app.extensions["ledger.sessions"]() as session:
        assert session.scalar(select(func.count()).select_from(FinanceTransaction)) == 8
    refused = runner.invoke(args=["ledger", "reconcile", "import", str(EXPORT), "--mapping", str(tmp_path / "no.toml")])
    assert refused.exit_code != 0 and "not a readable TOML mapping" in refused.output
