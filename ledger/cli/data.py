"""The database and what fills it: `s106 init-db`, `demo`, `index import`, `invoices issue`,
`export gov-csv` and `backup`."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from ledger import clock
from ledger.cli.group import fail, ledger_cli, note
from ledger.demo_scales import SCALES
from ledger.domain.errors import LedgerError
from ledger.speed.gc_pause import gc_paused


@ledger_cli.command("init-db")
def init_db() -> None:
    """Create or upgrade the database schema (Alembic migrations)."""
    from ledger.extensions import get_engine
    from ledger.migrate import upgrade

    upgrade(get_engine())
    click.echo(f"database ready: {get_engine().url.render_as_string(hide_password=True)}")


@ledger_cli.command("demo")
@click.option("--scale", type=click.Choice(list(SCALES)), default="small", show_default=True,
              help="; ".join(f"{s.name}: {s.agreements:,} agreements" for s in SCALES.values()))
@click.option("--seed", type=int, default=106, show_default=True)
@click.option("--if-empty", is_flag=True, help="do nothing, successfully, when the ledger already has data")
@gc_paused()
def demo(scale: str, seed: int, if_empty: bool) -> None:
    """Fill an empty ledger with a synthetic Kent-like county (same seed, same data)."""
    from ledger.demo import generate, ledger_is_empty
    from ledger.extensions import get_session

    if if_empty and not ledger_is_empty(get_session()):
        click.echo("the ledger already has data: demo not generated")
        return
    try:
        counts = generate(get_session(), scale=scale, seed=seed, today=clock.today(), progress=note)
    except LedgerError as error:
        fail(error)
    click.echo(", ".join(f"{n:,} {what}" for what, n in counts.items()))


@ledger_cli.command("check")
@click.option("--repair", is_flag=True, help="after reporting, work every kept position out again from the entries")
@gc_paused()
def check(repair: bool) -> None:
    """Compare the positions kept as the ledger is written with what the ledger's rules give
    from its entries, for the whole ledger; exit 1 if any differ."""
    from ledger.db import lock_ledger, read_snapshot, write_transaction
    from ledger.extensions import get_session
    from ledger.services import SYSTEM, audit, kept

    session = get_session()
    read_snapshot(session)
    found = kept.differences(session)
    session.rollback()
    for difference in found:
        click.echo(difference)
    if not found:
        click.echo("kept positions agree with the entries: every obligation, receipt, project and division")
        return
    click.echo(f"{len(found):,} differences between the kept positions and the entries", err=True)
    if repair:
        with write_transaction(session):
            lock_ledger(session)
            kept.rebuild(session)
            audit.record(session, actor=SYSTEM, action="rebuild-kept-positions", after={"differences": len(found)},
                         reason="s106 check --repair")
        click.echo("kept positions worked out again from the entries", err=True)
    raise SystemExit(1)


@ledger_cli.group("index")
def index_group() -> None:
    """Index series (BCIS, ROADCON, RPI, CPI, PUBSEC): entered by users, never shipped."""


@index_group.command("import")
@click.argument("csv_file", type=click.Path(dir_okay=False, exists=True))
def index_import(csv_file: str) -> None:
    """Import index values from a CSV with columns index, period, value, published_on[, provisional]."""
    import csv as csv_module
    from decimal import Decimal, InvalidOperation

    from importers.read import header_key, parse_date
    from ledger.extensions import get_session
    from ledger.services import SYSTEM, income

    values = []
    with open(csv_file, encoding="utf-8-sig", newline="") as handle:
        for line, row in enumerate(csv_module.DictReader(handle), start=2):
            row = {header_key(k): (v or "").strip() for k, v in row.items() if k}
            try:
                values.append({
                    "index": row["index"], "period": parse_date(row["period"]), "value": Decimal(row["value"]),
                    "published_on": parse_date(row["publishedon"]),
                    "provisional": row.get("provisional", "").lower() in ("yes", "true", "1", "y"),
                })
            except (KeyError, ValueError, InvalidOperation) as error:
                raise click.ClickException(f"{csv_file} line {line}: {error}") from None
    try:
        rows = income.add_index_values(get_session(), values, actor=SYSTEM)
    except LedgerError as error:
        fail(error)
    click.echo(f"{len(rows):,} index values recorded")


@ledger_cli.group("invoices")
def invoices_group() -> None:
    """Invoices for instalments whose triggers are met."""


@invoices_group.command("issue")
@click.option("--on", "on", default=None, type=click.DateTime(formats=["%Y-%m-%d"]), help="default today")
def invoices_issue(on: datetime | None) -> None:
    """Issue an invoice for every instalment whose trigger is met (safe to repeat)."""
    from ledger.extensions import get_session
    from ledger.services import SYSTEM, income

    issued, waiting = income.issue_invoices(get_session(), today=on.date() if on else clock.today(), actor=SYSTEM)
    for invoice in issued:
        click.echo(f"issued {invoice.reference}: £{invoice.amount:,.2f} due {invoice.due_on.isoformat()}")
    for item in waiting:
        click.echo(f"waiting: {item.instalment}: {item.reason}")
    click.echo(f"{len(issued):,} invoices issued, {len(waiting):,} waiting for index values")


@ledger_cli.group("export")
def export_group() -> None:
    """Export data."""


@export_group.command("gov-csv")
@click.option("--out", required=True, type=click.Path(file_okay=False))
@gc_paused()
def export_gov_csv(out: str) -> None:
    """Write the three government developer-contributions CSV files into a directory."""
    from ledger.extensions import get_session
    from ledger.services.exports import gov_csv_rows
    from reports.gov_csv import write_gov_csv

    rows = gov_csv_rows(get_session())
    write_gov_csv(Path(out), agreements=rows.agreements, contributions=rows.contributions,
                  transactions=rows.transactions)
    click.echo(f"wrote {out}: {len(rows.agreements):,} agreements, {len(rows.contributions):,} contributions, "
               f"{len(rows.transactions):,} transactions")


@ledger_cli.command("backup")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="where to write the backup")
def backup(out: str) -> None:
    """Back up the database: a consistent copy of a SQLite file (taken while the service runs),
    or a pg_dump archive of a PostgreSQL database (restore with pg_restore)."""
    import shutil
    import sqlite3
    import subprocess

    from ledger.extensions import get_engine

    engine = get_engine()
    target = Path(out)
    if target.exists():
        raise click.ClickException(f"{out} already exists: choose a new file")
    if engine.dialect.name == "sqlite":
        source = sqlite3.connect(engine.url.database or "")
        copy = sqlite3.connect(target)
        with copy:
            source.backup(copy)  # SQLite's online backup: consistent even while others write
        copy.close()
        source.close()
    elif engine.dialect.name == "postgresql":
        if shutil.which("pg_dump") is None:
            raise click.ClickException("pg_dump not found: install the PostgreSQL client")
        url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        result = subprocess.run(["pg_dump", "--format=custom", f"--file={target}", url], capture_output=True, text=True)
        if result.returncode != 0:
            raise click.ClickException(f"pg_dump failed: {result.stderr.strip().splitlines()[-1:]}")
    else:
        raise click.ClickException(f"no backup method for {engine.dialect.name}")
    click.echo(f"backed up {engine.url.render_as_string(hide_password=True)} to {out} "
               f"({target.stat().st_size:,} bytes)")
