"""The rejects report and the import summary, as users read them."""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

from importers.plan import REJECTED, WARNING, ImportIssue, SummaryLine
from ledger.domain.money import format_money
from reports.workbook import spreadsheet_value

REJECT_COLUMNS = ("file", "line", "reference", "status", "amount", "field", "reason")
#: The full report: every warning and rejection (``--report``).
REPORT_COLUMNS = ("severity", "kind", *REJECT_COLUMNS)


def _write(path: Path, issues: Sequence[ImportIssue], columns: tuple[str, ...]) -> int:
    """``issues`` in file and line order, one row each with ``columns``."""
    ordered = sorted(issues, key=lambda i: (i.source.file, i.source.line))
    with path.open("w", newline="", encoding="utf-8") as handle:
        # People open it in a spreadsheet program, and it holds whatever the refused files
        # held: text is quoted and a formula is shown, never run (as the at-risk CSV).
        writer = csv.writer(handle, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC)
        writer.writerow(columns)
        for issue in ordered:
            source = issue.source
            cells = {"severity": issue.severity, "kind": issue.kind, "file": source.file, "line": source.line,
                     "reference": source.reference, "status": source.status, "amount": source.amount,
                     "field": issue.field, "reason": issue.reason}
            writer.writerow([spreadsheet_value(cells[column]) for column in columns])
    return len(ordered)


def write_rejects(path: Path, issues: Sequence[ImportIssue]) -> int:
    """Every refused row with file, line, reference, status, amount, field and reason."""
    return _write(path, [i for i in issues if i.severity == REJECTED], REJECT_COLUMNS)


def write_report(path: Path, issues: Sequence[ImportIssue]) -> int:
    """Every warning and every refused row, each with its severity and kind."""
    return _write(path, issues, REPORT_COLUMNS)


def kinds_lines(issues: Sequence[ImportIssue]) -> list[str]:
    """The summary's count of rejections and of warnings by kind, most first."""
    out = []
    for severity, label in ((REJECTED, "rejected"), (WARNING, "warnings")):
        counted = Counter(i.kind for i in issues if i.severity == severity)
        if counted:
            ordered = sorted(counted.items(), key=lambda kv: (-kv[1], kv[0]))
            out.append(f"{label} by kind: " + ", ".join(f"{kind} {n:,}" for kind, n in ordered))
    return out


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
