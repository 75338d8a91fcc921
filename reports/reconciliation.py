"""The reconciliation workbook (issue 19, `s106 report reconciliation`): what matched, what
is in the ledger only or in finance only, differences by cost code and by obligation, and
the balance assertions. A ledger.domain.reconcile.Report in, .xlsx bytes out; no database."""

from __future__ import annotations

from collections.abc import Sequence
from io import BytesIO

from ledger.domain.money import format_money
from ledger.domain.reconcile import AssertionState, Difference, ItemRow, Report
from reports.workbook import (
    DATE,
    MONEY,
    TITLE_FONT,
    TOTAL_FONT,
    Column,
    ReportWorkbook,
    cell,
    set_widths,
    write_notes,
    write_sheet_table,
)

SHEETS = ("Summary", "Matched", "Finance only", "Ledger only", "Reversed in finance", "By cost code",
          "By obligation", "Assertions", "Notes")
STATUS_WORDS = {"matched": "Matched (confirmed)", "proposed": "Matched (proposed)",
                "reversed-in-finance": "Reversed in finance", "finance-only": "Finance only",
                "ledger-only": "Ledger only"}
RULE_WORDS = {"confirmed": "Confirmed by an officer", "matched-by-hand": "Matched by hand",
              "reference": "Same reference", "amount-and-date": "Same amount, near date",
              "remittance": "Remittance: entries adding up"}
STATE_WORDS = {AssertionState.HOLDS: "Holds", AssertionState.FAILS: "FAILS",
               AssertionState.RESOLVED: "Resolved by a note"}
STATE_FILLS = {AssertionState.HOLDS: "A9D08E", AssertionState.FAILS: "FF7C80", AssertionState.RESOLVED: "FFC000"}


def _finance_columns() -> list[Column]:
    return [
        Column("Posted", lambda r: r.posted_on, DATE, 14),
        Column("Finance transaction", lambda r: r.transaction_id, None, 16),
        Column("Cost code", lambda r: r.cost_code, None, 14),
        Column("Reference", lambda r: r.reference, None, 18),
        Column("Description", lambda r: r.description, None, 30),
        Column("Finance amount", lambda r: r.finance, MONEY, 16, True),
    ]


def _ledger_columns() -> list[Column]:
    return [
        Column("Ledger entries", lambda r: r.entry_references, None, 22),
        Column("Obligations", lambda r: r.obligations, None, 20),
        Column("Entry date", lambda r: r.occurred_on, DATE, 14),
        Column("Ledger amount", lambda r: r.ledger, MONEY, 16, True),
    ]


def _difference_columns(heading: str) -> list[Column]:
    return [
        Column(heading, lambda d: d.key, None, 24),
        Column("Finance", lambda d: d.finance, MONEY, 16, True),
        Column("Ledger", lambda d: d.ledger, MONEY, 16, True),
        Column("Difference (finance less ledger)", lambda d: d.difference, MONEY, 18, True),
    ]


def _summary(sheet, report: Report, heading: str) -> None:  # type: ignore[no-untyped-def]
    set_widths(sheet, [52, 10, 18])
    sheet.append([cell(sheet, heading, font=TITLE_FONT)])
    sheet.append([cell(sheet, f"Finance transactions and ledger entries dated {report.since:%d %B %Y} to "
                              f"{report.as_of:%d %B %Y}; dates matched within {report.tolerance_days} days.")])
    sheet.append([cell(sheet, verdict(report), font=TOTAL_FONT)])
    sheet.append([])
    sheet.append([cell(sheet, "", font=TOTAL_FONT), cell(sheet, "Items", font=TOTAL_FONT),
                  cell(sheet, "Money", font=TOTAL_FONT)])
    for label, count, money in report.summary:
        sheet.append([cell(sheet, label), cell(sheet, count),
                      cell(sheet, money, number_format=MONEY)])


def verdict(report: Report) -> str:
    """One line: reconciled, not reconciled (and by how much), or nothing to reconcile."""
    if not report.imported:
        return "No finance transactions on section 106 cost codes have been imported: nothing is reconciled."
    failing = sum(1 for a in report.assertions if a.state is AssertionState.FAILS)
    if not report.differences and not failing:
        return "Reconciled: every finance transaction is matched to the ledger and every assertion holds."
    net = next((money for label, _, money in report.summary if label.startswith("Difference")), None)
    return (f"Not reconciled: {len(report.differences):,} differences to clear (net {format_money(net or 0)}, "
            f"finance less ledger); {failing:,} balance assertions failing.")


def reconciliation_workbook(report: Report, *, council: str | None = None) -> bytes:
    """The workbook: Summary, the items by status, differences by cost code and obligation,
    the assertions and Notes. Each sheet prints one page wide (ReportWorkbook)."""
    heading = f"Reconciliation with the finance ledger at {report.as_of:%d %B %Y}"
    workbook = ReportWorkbook(f"{council}: {heading}" if council else heading)
    _summary(workbook.create_sheet("Summary", one_page=True), report, workbook.heading)
    status = Column("Status", lambda r: STATUS_WORDS[r.status], None, 18)
    matched_columns = [status, Column("Rule", lambda r: RULE_WORDS.get(r.rule or "", r.rule), None, 24),
                       Column("Misposted", lambda r: "Yes: on another cost code" if r.misposted else "", None, 14),
                       *_finance_columns(), *_ledger_columns(),
                       Column("Decided by", lambda r: r.decided_by, None, 20)]
    sheets: Sequence[tuple[str, list[Column], list[ItemRow]]] = (
        ("Matched", matched_columns, report.matched),
        ("Finance only", [status, *_finance_columns(), Column("Decided by", lambda r: r.decided_by, None, 20),
                          Column("Why", lambda r: r.decision_reason, None, 30)], report.finance_only),
        ("Ledger only", [status, *_ledger_columns()], report.ledger_only),
        ("Reversed in finance", [status, *_finance_columns()], report.reversed),
    )
    for title, columns, rows in sheets:
        write_sheet_table(workbook.create_sheet(title), columns, rows)
    differences: Sequence[tuple[str, str, list[Difference]]] = (
        ("By cost code", "Cost code", report.by_cost_code), ("By obligation", "Obligation", report.by_obligation))
    for title, key_heading, found in differences:
        write_sheet_table(workbook.create_sheet(title), _difference_columns(key_heading), found)
    write_sheet_table(workbook.create_sheet("Assertions"), [
        Column("Held at the end of", lambda a: a.held_on, DATE, 16),
        Column("Scope", lambda a: a.scope, None, 12), Column("Code", lambda a: a.code, None, 20),
        Column("Finance says", lambda a: a.asserted, MONEY, 16), Column("Ledger says", lambda a: a.ledger, MONEY, 16),
        Column("Difference", lambda a: a.difference, MONEY, 16),
        Column("State", lambda a: STATE_WORDS[a.state], None, 18, fill=lambda a: STATE_FILLS[a.state]),
        Column("Recorded by", lambda a: a.recorded_by, None, 20), Column("Why", lambda a: a.reason, None, 30),
        Column("Resolved by", lambda a: "; ".join(a.notes), None, 30),
    ], report.assertions, total_label=None)
    codes = "; ".join(f"{code}: {target.kind} {target.code}" for code, target in sorted(report.codes.items()))
    write_notes(workbook.create_sheet("Notes"), heading, [
        ("Period", f"{report.since:%d %B %Y} to {report.as_of:%d %B %Y}"),
        ("Amounts", "Money into the section 106 pot is positive (a receipt), money out negative (spend, a "
                    "transfer, a repayment, a charge), whatever sign the finance system writes."),
        ("Matching", "By reference first (also across cost codes: then misposted), then a finance reversal "
                     "cancels the posting it names, then the same amount on the cost code's obligation, service "
                     f"or project within {report.tolerance_days} days, then a remittance: several entries adding "
                     "up to one transaction. Proposed matches count as matched until an officer rejects them."),
        ("Differences", "Finance less ledger. By cost code: the transactions on the code against the entries "
                        "whose money belongs on it. By obligation: matched money counts where the entries are."),
        ("Assertions", "A balance the finance system shows, checked against the ledger's money held at the end "
                       "of the day; a failing one stays failing until an entry makes it hold or a note resolves it."),
        ("Cost codes", codes or "none imported"),
    ], width=100)
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
