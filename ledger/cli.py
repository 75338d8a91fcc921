"""Command line: `s106 ...`, also `flask --app wsgi ledger ...`. Thin over the services."""

from __future__ import annotations

import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup, FlaskGroup

from ledger import __version__, clock
from ledger.domain.dates import financial_year_label
from ledger.domain.errors import LedgerError
from ledger.domain.vocab import Role
from ledger.extensions import band_thresholds, get_engine, get_session
from ledger.gc_pause import gc_paused
from ledger.services import SYSTEM, income, users

ledger_cli = AppGroup("ledger", help="s106-ledger commands.")


def _fail(error: LedgerError) -> None:
    raise click.ClickException(error.detail)


@ledger_cli.command("init-db")
def init_db() -> None:
    """Create or upgrade the database schema (Alembic migrations)."""
    from ledger.migrate import upgrade

    upgrade(get_engine())
    click.echo(f"database ready: {get_engine().url.render_as_string(hide_password=True)}")


@ledger_cli.group("users")
def users_group() -> None:
    """Manage users."""


@users_group.command("add")
@click.option("--email", required=True)
@click.option("--role", required=True, type=click.Choice([str(r) for r in Role]))
@click.option("--password", default=None, help="prompted for when omitted")
@click.option("--name", default=None)
@click.option("--division", "division_code", default=None, help="a member's home division code")
def users_add(email: str, role: str, password: str | None, name: str | None, division_code: str | None) -> None:
    """Add a user."""
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = users.add_user(
            get_session(), email=email, role=role, password=password, name=name,
            division_code=division_code, actor=SYSTEM,
        )
    except LedgerError as error:
        _fail(error)
    click.echo(f"added {user.role} {user.email}")


@users_group.command("list")
def users_list() -> None:
    """List users: email, role, division, whether they are enabled and can sign in."""
    for user in users.list_users(get_session()):
        state = "disabled" if user.disabled_at else "enabled"
        password = "password set" if user.password_hash else "no password"
        click.echo(f"{user.email}\t{user.role}\t{user.division_code or '-'}\t{state}\t{password}")


@users_group.command("set")
@click.argument("email")
@click.option("--role", default=None, type=click.Choice([str(r) for r in Role]))
@click.option("--division", "division_code", default=None, help="home division code; '' for none")
@click.option("--disable/--enable", "disabled", default=None, help="refuse or allow their sign-in and tokens")
@click.option("--password-prompt", is_flag=True, help="set a new password, asked for twice")
def users_set(email: str, role: str | None, division_code: str | None, disabled: bool | None,
              password_prompt: bool) -> None:
    """Change a user's role or division, disable or enable them, or set a new password.
    Disabling or a new password ends every web session the user has."""
    password = click.prompt("New password", hide_input=True, confirmation_prompt=True) if password_prompt else None
    changes: dict[str, Any] = {"role": role, "disabled": disabled, "password": password}
    if division_code is not None:
        changes["division_code"] = division_code or None
    if all(value is None for value in changes.values()) and "division_code" not in changes:
        raise click.UsageError("nothing to change: give --role, --division, --disable, --enable or --password-prompt")
    try:
        user = users.change_user(get_session(), email, actor=SYSTEM, **changes)
    except LedgerError as error:
        _fail(error)
    state = "disabled" if user.disabled_at else "enabled"
    click.echo(f"{user.email}: {user.role}, division {user.division_code or '-'}, {state}"
               + (", new password" if password else ""))


@users_group.command("unlock")
@click.argument("email")
def users_unlock(email: str) -> None:
    """Clear an account's failed sign-ins, so it can be signed in to again at once."""
    try:
        users.unlock(get_session(), email, actor=SYSTEM)
    except LedgerError as error:
        _fail(error)
    click.echo(f"{email}: failed sign-ins cleared")


@ledger_cli.group("tokens")
def tokens_group() -> None:
    """Manage API tokens."""


@tokens_group.command("create")
@click.argument("email", required=False)
@click.option("--email", "email_option", default=None, help="the same as EMAIL")
@click.option("--expires-in-days", type=click.IntRange(1, users.MAX_TOKEN_LIFETIME_DAYS),
              default=users.TOKEN_LIFETIME_DAYS, show_default=True)
def tokens_create(email: str | None, email_option: str | None, expires_in_days: int) -> None:
    """Create an API token for EMAIL; the token is printed alone on the last line, once."""
    email = email or email_option
    if not email:
        raise click.UsageError("give the user's email")
    try:
        token = users.create_token(get_session(), email=email, actor=SYSTEM, expires_in_days=expires_in_days)
    except LedgerError as error:
        _fail(error)
    click.echo(f"token for {email}, expires in {expires_in_days} days (store it now: it is not shown again):")
    click.echo(token)


@tokens_group.command("list")
@click.option("--email", default=None, help="only this user's tokens")
def tokens_list(email: str | None) -> None:
    """List tokens: id, prefix, user, state, created, expires, last used (to the nearest few minutes)."""
    now = clock.now()

    def when(moment: datetime | None) -> str:
        return moment.strftime("%Y-%m-%d %H:%M") if moment else "never"

    for token in users.list_tokens(get_session(), email=email):
        click.echo(f"{token.id}\t{token.prefix}\t{token.user.email}\t{users.token_state(token, now=now)}\t"
                   f"created {when(token.created_at)}\texpires {when(token.expires_at)}\t"
                   f"last used {when(token.last_used_at)}")


@tokens_group.command("revoke")
@click.argument("token")
def tokens_revoke(token: str) -> None:
    """Revoke a token by its id or prefix (as `tokens list` shows them); refused at once."""
    try:
        row = users.revoke_token(get_session(), token, actor=SYSTEM)
    except LedgerError as error:
        _fail(error)
    click.echo(f"revoked token {row.id} ({row.prefix}...) of {row.user.email}")


@ledger_cli.command("demo")
@click.option("--scale", type=click.Choice(["small", "county", "national"]), default="small", show_default=True)
@click.option("--seed", type=int, default=106, show_default=True)
@click.option("--if-empty", is_flag=True, help="do nothing, successfully, when the ledger already has data")
@gc_paused()
def demo(scale: str, seed: int, if_empty: bool) -> None:
    """Fill an empty ledger with a synthetic Kent-like county (same seed, same data)."""
    from ledger.demo import generate, ledger_is_empty

    if if_empty and not ledger_is_empty(get_session()):
        click.echo("the ledger already has data: demo not generated")
        return
    try:
        counts = generate(get_session(), scale=scale, seed=seed, today=clock.today(), progress=_progress)
    except LedgerError as error:
        _fail(error)
    click.echo(", ".join(f"{n:,} {what}" for what, n in counts.items()))


def _progress(message: str) -> None:
    click.echo(message, err=True)


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
@click.option("--out", required=True, type=click.Path(dir_okay=False, writable=True))
@gc_paused()
def report_ifs(year: int, as_known_at: str | None, out: str) -> None:
    """Write the Infrastructure Funding Statement workbook for a reported year."""
    from ledger.services.ifs import ifs_report
    from reports.ifs_workbook import write_ifs_workbook

    started = time.perf_counter()
    _progress(f"computing the IFS {financial_year_label(year)} figures...")
    try:
        report = ifs_report(get_session(), year=year, as_known_at=_moment(as_known_at), **band_thresholds())
    except LedgerError as error:
        _fail(error)
    _progress(f"writing {out}...")
    # Written beside the target and moved into place: a failure leaves no half workbook.
    partial = Path(out).with_name(f".{Path(out).name}.partial")
    try:
        write_ifs_workbook(report, partial)
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
    click.echo(f"wrote {out}: IFS {financial_year_label(year)}, {len(report.checks)} checks hold, "
               f"{time.perf_counter() - started:.1f} s")


@report_group.command("at-risk")
@click.option("--as-of", "as_of", default=None, type=click.DateTime(formats=["%Y-%m-%d"]), help="default today")
@click.option("--out", required=True, type=click.Path(dir_okay=False, writable=True), help="FILE.xlsx or FILE.csv")
@gc_paused()
def report_at_risk(as_of: datetime | None, out: str) -> None:
    """Write the at-risk report (one row per receipt with money remaining) as xlsx or csv."""
    from ledger.services.balances import at_risk
    from reports.at_risk import at_risk_csv, at_risk_workbook

    suffix = Path(out).suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise click.BadParameter("must end in .xlsx or .csv", param_hint="--out")
    day = as_of.date() if as_of else clock.today()
    rows = at_risk(get_session(), as_of=day, **band_thresholds())
    if suffix == ".csv":
        Path(out).write_text(at_risk_csv(rows), encoding="utf-8")
    else:
        Path(out).write_bytes(at_risk_workbook(rows, as_of=day, version=__version__))
    click.echo(f"wrote {out}: {len(rows):,} receipts with money remaining at {day.isoformat()}")


@report_group.command("income-due")
@click.option("--as-of", "as_of", default=None, type=click.DateTime(formats=["%Y-%m-%d"]), help="default today")
@click.option("--out", required=True, type=click.Path(dir_okay=False, writable=True), help="FILE.xlsx or FILE.csv")
def report_income_due(as_of: datetime | None, out: str) -> None:
    """Write what developers owe now: instalments due and not received, with days outstanding."""
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
        _fail(error)
    click.echo(f"{len(rows):,} index values recorded")


@ledger_cli.group("invoices")
def invoices_group() -> None:
    """Invoices for instalments whose triggers are met."""


@invoices_group.command("issue")
@click.option("--on", "on", default=None, type=click.DateTime(formats=["%Y-%m-%d"]), help="default today")
def invoices_issue(on: datetime | None) -> None:
    """Issue an invoice for every instalment whose trigger is met (safe to repeat)."""
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
    from ledger.services.exports import gov_csv_rows
    from reports.gov_csv import write_gov_csv

    rows = gov_csv_rows(get_session())
    write_gov_csv(Path(out), agreements=rows.agreements, contributions=rows.contributions,
                  transactions=rows.transactions)
    click.echo(f"wrote {out}: {len(rows.agreements):,} agreements, {len(rows.contributions):,} contributions, "
               f"{len(rows.transactions):,} transactions")


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


def _report_import(result: Any, rejects: str | None, timing: str) -> None:
    from importers.report import summary_table, write_rejects

    for line in summary_table(result.summary):
        click.echo(line)
    warnings = [i for i in result.issues if i.severity == "warning"]
    click.echo(f"{len(result.rejected):,} rows rejected, {len(warnings):,} warnings; {timing}")
    if rejects:
        count = write_rejects(Path(rejects), result.issues)
        click.echo(f"rejects report: {rejects} ({count:,} rows)")
    elif result.rejected:
        click.echo("add --rejects FILE.csv to write the rejected rows with their reasons")
    created = ", ".join(f"{n:,} {what}" for what, n in result.created.items()) or "nothing new"
    if result.dry_run:
        click.echo(f"dry run: nothing written (would create {created})")
    elif result.committed:
        click.echo(f"written in one transaction: {created}")


@gc_paused()
def _run_import(plan_builder: Any, *, dry_run: bool, strict: bool, rejects: str | None) -> None:
    from importers.read import ImportRefused
    from ledger.services.imports import apply_import

    started = time.perf_counter()
    try:
        plan = plan_builder()
    except ImportRefused as error:
        raise click.ClickException(str(error)) from None
    _progress(f"read {len(plan.sources):,} rows in {time.perf_counter() - started:.1f} s")
    progress = Progress(len(plan.entries), "writing")
    result = apply_import(get_session(), plan, actor=SYSTEM, dry_run=dry_run, strict=strict, progress=progress)
    progress.close()
    seconds = time.perf_counter() - started
    rows = len(plan.entries)
    _report_import(result, rejects, f"{rows:,} ledger rows read, checked and written in {seconds:.1f} s "
                                    f"({rows / max(seconds, 1e-9):,.0f} rows/s)")
    if strict and result.rejected:
        raise click.ClickException(f"--strict: {len(result.rejected):,} rows rejected, so nothing was written")


@import_group.command("gov-csv")
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--organisation", default=None, help="authority code for every row (overrides the files)")
@click.option("--dry-run", is_flag=True, help="check everything, write nothing, print the report")
@click.option("--strict", is_flag=True, help="write nothing if any row is rejected")
@click.option("--rejects", default=None, type=click.Path(dir_okay=False), help="write rejected rows to FILE.csv")
def import_gov_csv(directory: str, organisation: str | None, dry_run: bool, strict: bool, rejects: str | None) -> None:
    """Import the three government developer-contributions CSV files from DIRECTORY."""
    from importers.gov_csv import plan_gov_csv

    _run_import(lambda: plan_gov_csv(Path(directory), organisation=organisation), dry_run=dry_run, strict=strict,
                rejects=rejects)


@import_group.command("tracker")
@click.argument("workbook", type=click.Path(dir_okay=False))
@click.option("--mapping", "mapping", required=True, type=click.Path(dir_okay=False),
              help="TOML mapping: sheet, header row, columns (docs/examples/tracker-mapping.toml)")
@click.option("--dry-run", is_flag=True, help="check everything, write nothing, print the report")
@click.option("--strict", is_flag=True, help="write nothing if any row is rejected")
@click.option("--rejects", default=None, type=click.Path(dir_okay=False), help="write rejected rows to FILE.csv")
def import_tracker(workbook: str, mapping: str, dry_run: bool, strict: bool, rejects: str | None) -> None:
    """Import a spreadsheet tracker (.xlsx) through a mapping file."""
    from importers.tracker import plan_tracker

    _run_import(lambda: plan_tracker(Path(workbook), Path(mapping)), dry_run=dry_run, strict=strict, rejects=rejects)


@ledger_cli.command("backup")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="where to write the backup")
def backup(out: str) -> None:
    """Back up the database: a consistent copy of a SQLite file (taken while the service runs),
    or a pg_dump archive of a PostgreSQL database (restore with pg_restore)."""
    import shutil
    import sqlite3
    import subprocess

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


#: gunicorn's largest request line (its default is 4094).
MAX_REQUEST_LINE = 8190


@ledger_cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8106, type=int, show_default=True)
@click.option("--workers", default=2, type=int, show_default=True)
def serve(host: str, port: int, workers: int) -> None:
    """Serve the app with gunicorn."""
    from gunicorn.app.base import BaseApplication

    from ledger import create_app, require_secret_key

    # Checked here, so a missing key is one clear error rather than every worker failing to boot.
    try:
        require_secret_key(current_app)
    except RuntimeError as error:
        raise click.ClickException(str(error)) from None
    # One key for every worker: a throwaway key made per worker would refuse the others' cookies.
    secret_key = current_app.config["SECRET_KEY"]
    # This command's app and the app context it runs in stay behind in the master. Handed to
    # gunicorn, that context's `g` would be shared by every request a worker serves, and so
    # would one session and its open transaction. Nothing here connected, but no pool may
    # cross the fork.
    get_engine().dispose()

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("preload_app", False)  # load() runs in each worker, after the fork
            # gunicorn's most: a longer request line gets gunicorn's own HTML 414, before the
            # app; up to it, the app answers (a problem+json for the API).
            self.cfg.set("limit_request_line", MAX_REQUEST_LINE)
            self.cfg.set("accesslog", "-")
            # The worker's pid first: which worker answered is the first question about a fault.
            self.cfg.set("access_log_format", '%(p)s %(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"')
            if "control_socket_disable" in self.cfg.settings:  # gunicorn 25.1 and later
                # Its default path is one per user: two ledgers served side by side would fight over it.
                self.cfg.set("control_socket_disable", True)

        def load(self) -> Any:
            return create_app({"SECRET_KEY": secret_key}, serving=True)

    click.echo(f"s106-ledger on http://{host}:{port}/", err=True)
    Server().run()


def main() -> None:
    """Console script `s106`: the ledger commands at the top level."""
    from ledger import create_app

    cli = FlaskGroup(
        name="s106", create_app=lambda: create_app(), add_default_commands=False,
        add_version_option=False, load_dotenv=False, help="s106-ledger: Section 106 ledger.",
    )
    for name, command in ledger_cli.commands.items():
        cli.add_command(command, name)
    try:
        result = cli.main(args=sys.argv[1:], prog_name="s106", standalone_mode=False)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except click.ClickException as error:  # usage errors included: one line, not the usage text
        click.echo(f"Error: {error.format_message()}", err=True)
        sys.exit(error.exit_code)
    except click.Abort:
        click.echo("Error: aborted", err=True)
        sys.exit(1)
    except Exception as error:  # a failure the command did not foresee: one line, non-zero
        if os.environ.get("LEDGER_DEBUG"):
            raise
        first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
        click.echo(f"Error: {type(error).__name__}: {first_line} (set LEDGER_DEBUG=1 for details)", err=True)
        sys.exit(1)
    sys.exit(result if isinstance(result, int) else 0)
