"""`s106 report ...`: the IFS workbook, the at-risk report and income due, as files."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from pathlib import Path

import click
from flask import current_app

from ledger import __version__, clock
from ledger.cli.group import fail, ledger_cli, note
from ledger.domain.dates import financial_year_label
from ledger.domain.errors import LedgerError
from ledger.speed.gc_pause import gc_paused


def _moment(text: str | None) -> datetime | None:
    """An ISO timestamp; without a zone it is taken as UTC, a date alone as its midnight."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not an ISO date or timestamp", param_hint="--as-known-at") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@ledger_cli.group("report")
def report_group() -> None:
    """Produce report workbooks."""


@report_group.command("ifs")
@click.option("--year", required=True, type=int, help="reported year: 2023 means 1 April 2023 to 31 March 2024")
@click.option("--as-known-at", "as_known_at", default=None, help="ISO moment; default now")
@click.option("--edition", type=click.Choice(["public", "internal"]), default="internal", show_default=True,
              help="public: what the council publishes (no money at risk, no repayment deadlines); "
                   "internal: everything")
@click.option("--out", required=True, type=click.Path(dir_okay=False, writable=True))
@gc_paused()
def report_ifs(year: int, as_known_at: str | None, edition: str, out: str) -> None:
    """Write the Infrastructure Funding Statement workbook for a reported year."""
    from ledger.extensions import band_thresholds, get_session
    from ledger.services.ifs import ifs_report
    from reports.ifs_workbook import write_ifs_workbook

    started = time.perf_counter()
    note(f"computing the IFS {financial_year_label(year)} figures...")
    try:
        report = ifs_report(get_session(), year=year, as_known_at=_moment(as_known_at), **band_thresholds())
    except LedgerError as error:
        fail(error)
    note(f"writing {out}...")
    # Written beside the target and moved into place: a failure leaves no half workbook.
    partial = Path(out).with_name(f".{Path(out).name}.partial")
    try:
        write_ifs_workbook(report, partial, edition=edition, council=current_app.config["COUNCIL_NAME"])
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
    click.echo(f"wrote {out}: IFS {financial_year_label(year)} {edition} edition, {len(report.checks)} checks hold, "
               f"{time.perf_counter() - started:.1f} s")


@report_group.command("at-risk")
@click.option("--as-of", "as_of", default=None, type=click.DateTime(formats=["%Y-%m-%d"]), help="default today")
@click.option("--out", required=True, type=click.Path(dir_okay=False, writable=True), help="FILE.xlsx or FILE.csv")
@gc_paused()
def report_at_risk(as_of: datetime | None, out: str) -> None:
    """Write the at-risk report (one row per receipt with money remaining) as xlsx or csv."""
    from ledger.extensions import band_thresholds, get_session
    from ledger.services.balances import at_risk
    from ledger.services.registry import place_names
    from ledger.services.reviews import latest_reviews
    from reports.at_risk import at_risk_csv, at_risk_workbook

    suffix = Path(out).suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise click.BadParameter("must end in .xlsx or .csv", param_hint="--out")
    day = as_of.date() if as_of else clock.today()
    rows = at_risk(get_session(), as_of=day, **band_thresholds())
    reviewed = latest_reviews(get_session(), {r.obligation_reference for r in rows})
    if suffix == ".csv":
        # The CSV's columns are SPEC section 6's exactly; the workbook adds the reviews.
        Path(out).write_text(at_risk_csv(rows), encoding="utf-8")
    else:
        Path(out).write_bytes(at_risk_workbook(rows, as_of=day, version=__version__,
                                               council=current_app.config["COUNCIL_NAME"],
                                               reviews=reviewed, **place_names(get_session())))
    click.echo(f"wrote {out}: {len(rows):,} receipts with money remaining at {day.isoformat()}")


@report_group.command("income-due")
@click.option("--as-of", "as_of", default=None, type=click.DateTime(formats=["%Y-%m-%d"]), help="default today")
@click.option("--out", required=True, type=click.Path(dir_okay=False, writable=True), help="FILE.xlsx or FILE.csv")
def report_income_due(as_of: datetime | None, out: str) -> None:
    """Write what developers owe now: instalments due and not received, with days outstanding."""
    from ledger.extensions import get_session
    from ledger.services.income import income_due
    from reports.income_due import income_due_csv, income_due_workbook

    suffix = Path(out).suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise click.BadParameter("must end in .xlsx or .csv", param_hint="--out")
    day = as_of.date() if as_of else clock.today()
    rows = income_due(get_session(), today=day)
    if suffix == ".csv":
        Path(out).write_text(income_due_csv(rows), encoding="utf-8")
    else:
        Path(out).write_bytes(income_due_workbook(rows, as_of=day, version=__version__))
    overdue = sum(1 for r in rows if r.overdue)
    click.echo(f"wrote {out}: {len(rows):,} sums due at {day.isoformat()}, {overdue:,} overdue")
