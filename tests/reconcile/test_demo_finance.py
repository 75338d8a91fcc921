"""Done means (issue 19): on the demo county with a finance export that differs from the
ledger in planted ways, the reconciliation finds every planted difference and nothing else."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from flask import Flask
from openpyxl import load_workbook

from ledger.demo import generate
from ledger.demo_finance import finance_export
from ledger.domain.reconcile import Rule, Status
from ledger.services import reconcile

TODAY = date(2025, 6, 30)


def test_the_report_finds_every_planted_difference_and_nothing_else(app: Flask, tmp_path: Path) -> None:
    with app.extensions["ledger.sessions"]() as session:
        generate(session, scale="small", seed=106, today=TODAY)
        export = finance_export(session, seed=19)
    (tmp_path / "export.csv").write_text(export.csv)
    (tmp_path / "mapping.toml").write_text(export.mapping)
    runner = app.test_cli_runner()
    imported = runner.invoke(args=["ledger", "reconcile", "import", str(tmp_path / "export.csv"),
                                   "--mapping", str(tmp_path / "mapping.toml")])
    assert imported.exit_code == 0, imported.output
    assert f"{export.rows:,} rows read: {export.rows:,} new (5 of them" in imported.output
    out = tmp_path / "reconciliation.xlsx"
    written = runner.invoke(args=["ledger", "report", "reconciliation", "--as-of", TODAY.isoformat(),
                                  "--out", str(out)])
    assert written.exit_code == 0, written.output
    print(written.output)  # the summary the closing note quotes (pytest -s)

    planted = export.planted
    with app.extensions["ledger.sessions"]() as session:
        report = reconcile.reconciliation_report(session, as_of=TODAY)
    assert {r.entry_references for r in report.ledger_only} == {*planted["missing"], *planted["wrong_amount"][:1]}
    assert {r.transaction_id for r in report.finance_only} == {
        *planted["bank_charges"], *planted["unrecorded"], planted["wrong_amount"][1]}
    assert {r.entry_references for r in report.matched if r.misposted} == set(planted["misposted"])
    assert {frozenset(r.entry_references.split(", ")) for r in report.matched if r.rule is Rule.REMITTANCE} == {
        frozenset(pair.split("+")) for pair in planted["remittances"]} and len(planted["remittances"]) == 2
    assert len(report.reversed) == 2 * len(planted["reversed"]) > 0
    assert len(report.differences) == sum(len(planted[k]) for k in (
        "missing", "wrong_amount", "misposted", "bank_charges", "unrecorded"))
    assert all(r.status is Status.PROPOSED for r in report.matched)
    summary = {label: (count, money) for label, count, money in report.summary}
    assert summary["Rows on other cost codes (out of scope)"][0] == len(planted["out_of_scope"]) == 5

    workbook = load_workbook(out)
    assert workbook.sheetnames == ["Summary", "Matched", "Finance only", "Ledger only", "Reversed in finance",
                                   "By cost code", "By obligation", "Assertions", "Notes"]
    assert workbook["Ledger only"].max_row == 1 + len(report.ledger_only) + 1  # header, rows, total
    assert str(workbook["Summary"]["A3"].value).startswith("Not reconciled: 12 differences to clear")
