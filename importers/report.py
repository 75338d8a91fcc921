"""The rejects report and the import summary, as users read them."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

from importers.plan import REJECTED, ImportIssue, SummaryLine
from ledger.domain.money import format_money
from reports.workbook import spreadsheet_value

REJECT_COLUMNS = ("file", "line", "reference", "status", "amount", "field", "reason")


def write_rejects(path: Path, issues: Sequence[ImportIssue]) -> int:
    """Every refused row with file, line, reference, status, amount, field and reason."""
    rejected = sorted((i for i in issues if i.severity == REJECTED), key=lambda i: (i.source.file, i.source.line))
    with path.open("w", newline="", encoding="utf-8") as handle:
        # People open it in a spreadsheet program, and it holds whatever the refused files
        # held: text is quoted and a formula is shown, never run (as the at-risk CSV).
        writer = csv.writer(handle, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC)
        writer.writerow(REJECT_COLUMNS)
        for issue in rejected:
            source = issue.source
            writer.writerow([spreadsheet_value(value) for value in (
                source.file, source.line, source.reference, source.status, source.amount, issue.field, issue.reason)])
    return len(rejected)


def summary_table(lines: Sequence[SummaryLine]) -> list[str]:
    """One line per file and status: rows and money in the source, imported, already in
    the ledger, and rejected; the last column says whether they add up."""
    header = (f"{'file':<38} {'status':<10} {'rows':>6} {'in source':>16} {'imported':>16} "
              f"{'already in ledger':>18} {'rejected':>16}  adds up")
    out = [header, "-" * len(header)]
    for line in lines:
        out.append(
            f"{line.file:<38} {line.status:<10} {line.rows:>6} {format_money(line.source):>16} "
            f"{format_money(line.imported):>16} {format_money(line.unchanged):>18} "
            f"{format_money(line.rejected):>16}  {'yes' if line.adds_up else 'NO'}"
        )
    return out


def opening_balances_line(count: int, money: Decimal) -> str:
    """The summary's line for the opening balances an import brought in (SPEC 8.3)."""
    return f"opening balances created: {count:,}, {format_money(money)} (each flagged needs-review)"
