"""Import history (issue 14): each committed import's run, summary and every issue, kept so
that officers can read them after the command has printed them and gone.

``record`` runs inside the import's own transaction (services.imports.apply_import): an
import that fails or is killed part way leaves no run, and a dry run or a refused strict
import, which write nothing, leave none either.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from importers.plan import ImportPlan, SummaryLine
from ledger import clock
from ledger.domain import limits
from ledger.domain.errors import NotFound
from ledger.domain.money import ZERO
from ledger.models import ImportIssueRecord, ImportRun
from ledger.services import Actor
from ledger.services.audit import ACTOR_SIZE, bounded

if TYPE_CHECKING:
    from ledger.services.imports import ImportResult

GOV_CSV, TRACKER = "gov-csv", "tracker"
FORMATS = (GOV_CSV, TRACKER)
#: Rows that promise money or name an agreement rather than move money: left out of a
#: run's money totals, which would otherwise add a contribution to the receipts paying it.
NOT_MONEY_MOVED = frozenset({"agreement", "secured"})
#: Columns of the downloadable report, in the order of the rejects report (importers.report).
REPORT_FIELDS = ("severity", "kind", "file", "line", "reference", "status", "amount", "field", "reason")
_BATCH = 5000


def format_of(plan: ImportPlan) -> str:
    """gov-csv or tracker: the importer that made the plan says."""
    if plan.format not in FORMATS:
        raise ValueError(f"unknown import format {plan.format!r}")
    return plan.format


def _text(value: str | None) -> str:
    """Text as either engine stores it: what a refused row held (a NUL, a lone surrogate)
    is kept visible as an escape instead of failing the import."""
    return limits.printable(value or "", multiline=True)


def _summary_json(line: SummaryLine) -> dict[str, Any]:
    return {"file": _text(line.file), "status": _text(line.status),
            "rows": line.rows, "source": str(line.source),
            "imported_rows": line.imported_rows, "imported": str(line.imported),
            "unchanged_rows": line.unchanged_rows, "unchanged": str(line.unchanged),
            "rejected_rows": line.rejected_rows, "rejected": str(line.rejected)}


def _moved(lines: Sequence[SummaryLine], attribute: str) -> Decimal:
    return sum((getattr(line, attribute) for line in lines if line.status not in NOT_MONEY_MOVED), ZERO)


def record(session: Session, plan: ImportPlan, result: ImportResult, *, actor: Actor) -> int:
    """Add the run and its issues to the caller's transaction; returns the run's id."""
    warnings = sum(1 for issue in result.issues if issue.severity != "rejected")
    run = ImportRun(
        at=clock.now(), actor=bounded(actor.email, ACTOR_SIZE), format=format_of(plan), source=_text(plan.label),
        committed=True, summary=[_summary_json(line) for line in result.summary], created=dict(result.created),
        warnings=warnings, rejections=len(result.issues) - warnings,
        opening_balances=len(result.opening_balances), opening_balance_money=result.opening_balance_money,
        source_money=_moved(result.summary, "source"), imported_money=_moved(result.summary, "imported"),
        unchanged_money=_moved(result.summary, "unchanged"), rejected_money=_moved(result.summary, "rejected"))
    session.add(run)
    session.flush()
    rows = [{"run_id": run.id, "severity": issue.severity, "kind": _text(getattr(issue, "kind", None))[:64] or None,
             "file": _text(issue.source.file), "line": issue.source.line, "reference": _text(issue.source.reference),
             "status": _text(issue.source.status), "amount": issue.source.amount,
             "field": _text(issue.field), "reason": _text(issue.reason)}
            for issue in sorted(result.issues, key=lambda i: (i.source.file, i.source.line))]
    # One statement per batch, executemany under it: a county's file has many thousands.
    for start in range(0, len(rows), _BATCH):
        session.execute(insert(ImportIssueRecord.__table__), rows[start:start + _BATCH])
    return run.id


def list_runs(session: Session, *, offset: int, limit: int) -> tuple[list[ImportRun], int]:
    """Past imports, newest first, and how many there are."""
    total = session.scalar(select(func.count()).select_from(ImportRun)) or 0
    rows = session.scalars(select(ImportRun).order_by(ImportRun.id.desc()).offset(offset).limit(limit)).all()
    return list(rows), total


def get_run(session: Session, run_id: int) -> ImportRun:
    run = session.get(ImportRun, run_id)
    if run is None:
        raise NotFound(f"no import {run_id}")
    return run


def issues_of(session: Session, run_id: int, *, severity: str | None = None, offset: int = 0,
              limit: int | None = None) -> tuple[list[ImportIssueRecord], int]:
    """One run's issues in file and line order (of one severity, when named), and how many."""
    condition = [ImportIssueRecord.run_id == run_id]
    if severity:
        condition.append(ImportIssueRecord.severity == severity)
    total = session.scalar(select(func.count()).select_from(ImportIssueRecord).where(*condition)) or 0
    query = select(ImportIssueRecord).where(*condition).order_by(ImportIssueRecord.id).offset(offset).limit(limit)
    return list(session.scalars(query)), total
