"""Import history (issue 14 item 4): a committed import leaves one run with its summary and
every issue, written in the import's own transaction; a dry run, a refused strict import and
an import that fails part way leave none. Runs are append-only."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from importers.gov_csv import plan_gov_csv
from importers.plan import ImportPlan, SourceRow
from ledger.models import Entry, ImportIssueRecord, ImportRun
from ledger.services import Actor
from ledger.services.import_runs import format_of, issues_of, list_runs
from ledger.services.imports import apply_import
from tests.factories import write_gov_files
from tests.importers.test_opening_balances import MID_HISTORY

OFFICER = Actor(email="officer@test.s106", role="officer")


def count(session: Session, model: type) -> int:
    session.rollback()
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_a_committed_import_records_its_run_summary_and_every_issue(session: Session, tmp_path: Path) -> None:
    files = write_gov_files(tmp_path / "files", MID_HISTORY)
    result = apply_import(session, plan_gov_csv(files), actor=OFFICER)
    assert result.committed and result.rejected and len(result.issues) > len(result.rejected)

    [run], total = list_runs(session, offset=0, limit=10)
    assert total == 1
    assert (run.actor, run.format, run.source, run.committed) == (OFFICER.email, "gov-csv", str(files), True)
    assert (run.warnings, run.rejections) == (len(result.issues) - len(result.rejected), len(result.rejected))
    assert (run.opening_balances, run.opening_balance_money) == (1, Decimal("900.00"))
    assert run.created == result.created
    # The summary as the command prints it, money as decimal strings.
    assert run.summary == [{"file": line.file, "status": line.status, "rows": line.rows, "source": str(line.source),
                            "imported_rows": line.imported_rows, "imported": str(line.imported),
                            "unchanged_rows": line.unchanged_rows, "unchanged": str(line.unchanged),
                            "rejected_rows": line.rejected_rows, "rejected": str(line.rejected)}
                           for line in result.summary]
    # Money moved: the transactions, not the contribution's promised 5,000.00.
    assert run.source_money == Decimal("3550.00")
    assert run.rejected_money == Decimal("50.00")
    assert run.imported_money + run.unchanged_money + run.rejected_money == run.source_money

    issues, total = issues_of(session, run.id)
    assert total == len(result.issues) == len(issues)
    assert sorted((i.severity, i.file, i.line, i.field, i.reason) for i in issues) == sorted(
        (i.severity, i.source.file, i.source.line, i.field, i.reason) for i in result.issues)
    [refused] = [i for i in issues if i.severity == "rejected"]
    assert (refused.reference, refused.status, refused.amount, refused.line) == ("T-4", "allocated", Decimal("-50.00"), 5)
    assert issues_of(session, run.id, severity="rejected")[1] == 1


def test_a_dry_run_or_a_refused_strict_import_records_no_run(session: Session, tmp_path: Path) -> None:
    files = write_gov_files(tmp_path / "files", MID_HISTORY)
    assert not apply_import(session, plan_gov_csv(files), actor=OFFICER, dry_run=True).committed
    assert not apply_import(session, plan_gov_csv(files), actor=OFFICER, strict=True).committed
    assert count(session, ImportRun) == 0 and count(session, ImportIssueRecord) == 0


def test_an_import_that_fails_part_way_leaves_no_run(session: Session, tmp_path: Path) -> None:
    """The database refuses the issues after the run and the entries are written: nothing stays."""
    files = write_gov_files(tmp_path / "files", MID_HISTORY)
    engine = session.get_bind()

    def refuse_issues(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if statement.startswith("INSERT INTO import_issues"):
            raise RuntimeError("the database went away part way")

    event.listen(engine, "before_cursor_execute", refuse_issues)
    try:
        with pytest.raises(RuntimeError, match="part way"):
            apply_import(session, plan_gov_csv(files), actor=OFFICER)
    finally:
        event.remove(engine, "before_cursor_execute", refuse_issues)
    assert count(session, ImportRun) == 0 and count(session, Entry) == 0
    # And the same files import whole afterwards.
    assert apply_import(session, plan_gov_csv(files), actor=OFFICER).committed
    assert count(session, ImportRun) == 1


def test_text_no_column_can_hold_is_kept_visible_not_fatal(session: Session) -> None:
    """A refused row may hold a NUL or a lone surrogate: PostgreSQL would refuse it whole."""
    row = SourceRow(file="hand\x00made.csv", line=2, reference="bad\x00ref\ud800", status="received",
                    amount=Decimal("1.00"))
    plan = ImportPlan(label="hand.csv", sources=[row])
    plan.reject(row, "reference", "reference must not contain a NUL character")
    assert apply_import(session, plan, actor=OFFICER).committed
    [run], _ = list_runs(session, offset=0, limit=1)
    [issue], _ = issues_of(session, run.id)
    assert (issue.file, issue.reference, issue.amount) == ("hand\\x00made.csv", "bad\\x00ref\\ud800", Decimal("1.00"))
    assert run.summary[0]["file"] == "hand\\x00made.csv"


def test_runs_and_issues_are_append_only(session: Session, tmp_path: Path) -> None:
    apply_import(session, plan_gov_csv(write_gov_files(tmp_path / "files", MID_HISTORY)), actor=OFFICER)
    session.rollback()
    for statement in ("UPDATE import_runs SET actor = 'someone else'", "DELETE FROM import_runs",
                      "UPDATE import_issues SET reason = 'nothing'", "DELETE FROM import_issues"):
        with pytest.raises(DBAPIError, match="append-only"):
            session.execute(text(statement))
        session.rollback()


def test_the_format_is_the_importers_not_the_files_name(tmp_path: Path) -> None:
    # A gov-csv import may be a workbook or a zip: its name does not say which importer it was.
    assert format_of(ImportPlan(label="/data/council.xlsx")) == "gov-csv"
    assert format_of(ImportPlan(label="/data/council", format="tracker")) == "tracker"
    with pytest.raises(ValueError, match="unknown import format"):
        format_of(ImportPlan(label="x", format="spreadsheet"))


def test_a_tracker_import_is_recorded_as_one(session: Session, tmp_path: Path) -> None:
    from importers.tracker import plan_tracker
    from tests.importers.test_tracker import MAPPING, build_tracker

    workbook = build_tracker(tmp_path / "tracker.xlsx")
    result = apply_import(session, plan_tracker(workbook, MAPPING), actor=OFFICER)
    [run], _ = list_runs(session, offset=0, limit=1)
    assert (run.format, run.source, run.rejections) == ("tracker", str(workbook), len(result.rejected))
    assert run.imported_money > 0
