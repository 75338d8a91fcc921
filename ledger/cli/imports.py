"""`s106 import ...`: government CSV files and spreadsheet trackers, with a report."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import click

from ledger.cli.group import ledger_cli, note
from ledger.speed.gc_pause import gc_paused


@ledger_cli.group("import")
def import_group() -> None:
    """Import data from files."""


class Progress:
    """Rows done and rows a second on stderr: redrawn in place on a terminal, a line per
    quarter otherwise (logs, CI)."""

    def __init__(self, total: int, label: str) -> None:
        self.total, self.label, self.done = total, label, 0
        self.started = self.last = time.perf_counter()
        self.tty = sys.stderr.isatty()
        self.next_quarter = 0.25

    def __call__(self, rows: int) -> None:
        self.done += rows
        now = time.perf_counter()
        rate = self.done / max(now - self.started, 1e-9)
        line = f"{self.label}: {self.done:,}/{self.total:,} rows, {rate:,.0f} rows/s"
        if self.tty and now - self.last > 0.2:
            click.echo(f"\r{line}", nl=False, err=True)
            self.last = now
        elif not self.tty and self.total and self.done / self.total >= self.next_quarter:
            click.echo(line, err=True)
            self.next_quarter += 0.25

    def close(self) -> float:
        elapsed = time.perf_counter() - self.started
        if self.tty:
            click.echo("", err=True)
        return elapsed


def _report_import(result: Any, rejects: str | None, report: str | None, timing: str) -> None:
    from importers.report import (
        kinds_lines,
        opening_balances_line,
        summary_table,
        write_rejects,
        write_report,
    )

    for line in summary_table(result.summary):
        click.echo(line)
    if result.opening_balances:
        click.echo(opening_balances_line(len(result.opening_balances), result.opening_balance_money))
    warnings = [i for i in result.issues if i.severity == "warning"]
    click.echo(f"{len(result.rejected):,} rows rejected, {len(warnings):,} warnings; {timing}")
    for line in kinds_lines(result.issues):
        click.echo(line)
    if report:
        count = write_report(Path(report), result.issues)
        click.echo(f"report: {report} ({count:,} warnings and rejections)")
    if rejects:
        count = write_rejects(Path(rejects), result.issues)
        click.echo(f"rejects report: {rejects} ({count:,} rows)")
    elif result.issues and not report:
        click.echo("add --report FILE.csv to write every warning and rejected row with its reason")
    created = ", ".join(f"{n:,} {what}" for what, n in result.created.items()) or "nothing new"
    if result.dry_run:
        click.echo(f"dry run: nothing written (would create {created})")
    elif result.committed:
        click.echo(f"written in one transaction: {created}")


@gc_paused()
def _run_import(plan_builder: Any, *, dry_run: bool, strict: bool, rejects: str | None, report: str | None) -> None:
    from importers.read import ImportRefused
    from ledger.extensions import get_session
    from ledger.services import SYSTEM
    from ledger.services.imports import apply_import

    started = time.perf_counter()
    try:
        plan = plan_builder()
    except ImportRefused as error:
        raise click.ClickException(str(error)) from None
    note(f"read {len(plan.sources):,} rows in {time.perf_counter() - started:.1f} s")
    progress = Progress(len(plan.entries), "writing")
    result = apply_import(get_session(), plan, actor=SYSTEM, dry_run=dry_run, strict=strict, progress=progress)
    progress.close()
    seconds = time.perf_counter() - started
    rows = len(plan.entries)
    _report_import(result, rejects, report, f"{rows:,} ledger rows read, checked and written in {seconds:.1f} s "
                                    f"({rows / max(seconds, 1e-9):,.0f} rows/s)")
    if strict and result.rejected:
        raise click.ClickException(f"--strict: {len(result.rejected):,} rows rejected, so nothing was written")


@import_group.command("gov-csv")
@click.argument("directory", type=click.Path(exists=True))
@click.option("--organisation", default=None, help="authority code for every row (overrides the files)")
@click.option("--dry-run", is_flag=True, help="check everything, write nothing, print the report")
@click.option("--strict", is_flag=True, help="write nothing if any row is rejected")
@click.option("--rejects", default=None, type=click.Path(dir_okay=False), help="write rejected rows to FILE.csv")
@click.option("--report", default=None, type=click.Path(dir_okay=False),
              help="write every warning and rejected row, with severity and kind, to FILE.csv")
@click.option("--no-opening-balances", is_flag=True,
              help="reject spend, allocations, transfers and repayments beyond a contribution's recorded receipts "
                   "instead of bringing in an opening balance for them")
def import_gov_csv(directory: str, organisation: str | None, dry_run: bool, strict: bool, rejects: str | None,
                   report: str | None, no_opening_balances: bool) -> None:
    """Import the three government developer-contributions files from DIRECTORY (or a zip archive of them).

    Where a contribution's allocations, spend, transfers or repayments exceed its recorded
    receipts (files that start mid-history), one opening balance of the shortfall is brought
    in, dated the day before the first outflow that needs it, and flagged for review."""
    from importers.gov_csv import plan_gov_csv

    _run_import(lambda: plan_gov_csv(Path(directory), organisation=organisation,
                                     opening_balances=not no_opening_balances),
                dry_run=dry_run, strict=strict, rejects=rejects, report=report)


@import_group.command("tracker")
@click.argument("workbook", type=click.Path(dir_okay=False))
@click.option("--mapping", "mapping", required=True, type=click.Path(dir_okay=False),
              help="TOML mapping: sheet, header row, columns (docs/examples/tracker-mapping.toml)")
@click.option("--dry-run", is_flag=True, help="check everything, write nothing, print the report")
@click.option("--strict", is_flag=True, help="write nothing if any row is rejected")
@click.option("--rejects", default=None, type=click.Path(dir_okay=False), help="write rejected rows to FILE.csv")
@click.option("--report", default=None, type=click.Path(dir_okay=False),
              help="write every warning and rejected row, with severity and kind, to FILE.csv")
def import_tracker(workbook: str, mapping: str, dry_run: bool, strict: bool, rejects: str | None,
                   report: str | None) -> None:
    """Import a spreadsheet tracker (.xlsx) through a mapping file."""
    from importers.tracker import plan_tracker

    _run_import(lambda: plan_tracker(Path(workbook), Path(mapping)), dry_run=dry_run, strict=strict, rejects=rejects,
                report=report)
