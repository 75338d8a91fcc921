"""`s106 reconcile ...` and `s106 report reconciliation`: the finance ledger beside ours (issue 19)."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click
from flask import current_app

from ledger import clock
from ledger.cli.group import fail, ledger_cli
from ledger.cli.reports import report_group
from ledger.domain.errors import LedgerError
from ledger.domain.money import MoneyError, format_money, parse_money

if TYPE_CHECKING:
    from ledger.domain.reconcile import Report

DAY = click.DateTime(formats=["%Y-%m-%d"])


@ledger_cli.group("reconcile")
def reconcile_group() -> None:
    """Reconcile the ledger with the council's finance ledger."""


@reconcile_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--mapping", required=True, type=click.Path(dir_okay=False),
              help="TOML mapping: columns, sign convention, cost codes (docs/examples/finance-mapping.toml)")
@click.option("--dry-run", is_flag=True, help="read and check everything, write nothing")
@click.option("--report", default=None, type=click.Path(dir_okay=False),
              help="write every rejected row, with its line and reason, to FILE.csv")
def import_finance(file: str, mapping: str, dry_run: bool, report: str | None) -> None:
    """Import a finance-system export (CSV, xlsx, or a zip of one) through a mapping.

    Every row is kept: rows on cost codes the mapping does not name are kept out of scope.
    Importing the same rows again adds nothing."""
    from importers.finance import plan_finance
    from importers.read import ImportRefused
    from importers.report import write_report
    from ledger.extensions import get_session
    from ledger.services import SYSTEM
    from ledger.services.reconcile import import_finance as store

    try:
        plan = plan_finance(Path(file), Path(mapping))
    except ImportRefused as error:
        raise click.ClickException(str(error)) from None
    for line in plan.notes:
        click.echo(line)
    result = store(get_session(), plan, actor=SYSTEM, source=file, dry_run=dry_run)
    click.echo(f"{result.rows:,} rows read: {result.added:,} new ({result.out_of_scope:,} of them on cost codes "
               f"outside section 106), {result.unchanged:,} already imported, {result.balances:,} closing balances, "
               f"{len(result.rejected):,} rejected; {format_money(result.added_money)} new on section 106 codes")
    if report:
        click.echo(f"rejects report: {report} ({write_report(Path(report), result.issues):,} rows)")
    elif result.rejected:
        click.echo("add --report FILE.csv to write every rejected row with its line and reason")
    click.echo("dry run: nothing written" if dry_run else "written in one transaction")


@reconcile_group.command("status")
@click.option("--as-of", "as_of", default=None, type=DAY, help="default today")
@click.option("--since", default=None, type=DAY, help="default the first finance transaction")
def status(as_of: datetime | None, since: datetime | None) -> None:
    """Print the reconciliation's summary."""
    from ledger.extensions import get_session
    from ledger.services.reconcile import reconciliation_report
    from reports.reconciliation import verdict

    report = reconciliation_report(get_session(), as_of=as_of.date() if as_of else clock.today(),
                                   since=since.date() if since else None)
    for line in summary_lines(report):
        click.echo(line)
    click.echo(verdict(report))


def summary_lines(report: Report) -> list[str]:
    """The summary as the command prints it: a line, its count and its money."""
    return [f"{label:<48} {'' if count is None else f'{count:,}':>7} {'' if money is None else format_money(money):>16}"
            for label, count, money in report.summary]


@reconcile_group.command("assert")
@click.option("--scope", required=True, type=click.Choice(["cost-code", "obligation", "service"]))
@click.option("--code", required=True, help="the cost code, obligation reference or service")
@click.option("--on", "held_on", required=True, type=DAY, help="the balance at the end of this day")
@click.option("--amount", required=True, help="the balance the finance system shows, in pounds")
@click.option("--reason", required=True, help="where the figure comes from")
def assert_balance(scope: str, code: str, held_on: datetime, amount: str, reason: str) -> None:
    """Record a balance the finance system shows, and check it against the ledger."""
    from ledger.domain.reconcile import AssertionScope
    from ledger.extensions import get_session
    from ledger.services import SYSTEM
    from ledger.services.reconcile import ledger_figure, record_assertion

    try:
        money = parse_money(amount)
    except MoneyError as error:
        raise click.BadParameter(str(error), param_hint="--amount") from None
    try:
        recorded = record_assertion(get_session(), scope=scope, code=code, held_on=held_on.date(), amount=money,
                                    actor=SYSTEM, reason=reason)
    except LedgerError as error:
        fail(error)
    figure = ledger_figure(get_session(), AssertionScope(scope), code, held_on.date())
    verdict = "holds" if figure == recorded.amount else f"FAILS by {format_money(recorded.amount - figure)}"
    click.echo(f"assertion {recorded.id}: finance {format_money(recorded.amount)}, ledger {format_money(figure)}: "
               f"{verdict}")


@reconcile_group.command("demo-export")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False), help="a directory to write to")
@click.option("--seed", default=19, show_default=True, type=int)
def demo_export(out: str, seed: int) -> None:
    """Write a finance export of the demo ledger with planted differences, and its mapping."""
    from ledger.demo_finance import finance_export
    from ledger.extensions import get_session

    export = finance_export(get_session(), seed=seed)
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "finance-export.csv").write_text(export.csv, encoding="utf-8")
    (folder / "finance-mapping.toml").write_text(export.mapping, encoding="utf-8")
    click.echo(f"wrote {folder / 'finance-export.csv'} ({export.rows:,} rows) and {folder / 'finance-mapping.toml'}; "
               f"planted: {', '.join(f'{k} {len(v)}' for k, v in export.planted.items())}")


@report_group.command("reconciliation")
@click.option("--as-of", "as_of", default=None, type=DAY, help="default today")
@click.option("--since", default=None, type=DAY, help="default the first finance transaction")
@click.option("--out", required=True, type=click.Path(dir_okay=False, writable=True), help="FILE.xlsx")
def report_reconciliation(as_of: datetime | None, since: datetime | None, out: str) -> None:
    """Write the reconciliation with the finance ledger as a workbook."""
    from ledger.extensions import get_session
    from ledger.services.reconcile import reconciliation_report
    from reports.reconciliation import reconciliation_workbook, verdict

    if Path(out).suffix.lower() != ".xlsx":
        raise click.BadParameter("must end in .xlsx", param_hint="--out")
    report = reconciliation_report(get_session(), as_of=as_of.date() if as_of else clock.today(),
                                   since=since.date() if since else None)
    partial = Path(out).with_name(f".{Path(out).name}.partial")
    try:
        partial.write_bytes(reconciliation_workbook(report, council=current_app.config["COUNCIL_NAME"]))
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
    for line in summary_lines(report):
        click.echo(line)
    click.echo(f"wrote {out}: {verdict(report)}")

