"""`s106 notify send`: the day's digests and alerts by email (docs/NOTIFICATIONS.md), run
daily by cron or a systemd timer."""

from __future__ import annotations

from datetime import date

import click
from flask import current_app

from ledger import clock
from ledger.cli.group import ledger_cli, note

DEFAULT_BASE_URL = "http://localhost:8106"


@ledger_cli.group("notify")
def notify_group() -> None:
    """Email councillors and officers."""


@notify_group.command("send")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="the run's date, YYYY-MM-DD (default today, UK)")
@click.option("--dry-run", is_flag=True, help="print what would be sent; send and record nothing")
def notify_send(as_of: object, dry_run: bool) -> None:
    """Send each councillor the digest of their division since their last one, and each
    officer the receipts newly due within 12 months or past their repayment date, the
    reviews that came due and the invoices that became overdue. Re-running the same day
    sends nothing again; a failed send is reported (exit status 1) and retried next run."""
    from ledger import mail
    from ledger.extensions import band_thresholds, get_session
    from ledger.services import notify

    day: date = as_of.date() if as_of is not None else clock.today()  # type: ignore[attr-defined]
    config = current_app.config
    base_url = config.get("BASE_URL") or DEFAULT_BASE_URL
    if not config.get("BASE_URL"):
        note(f"LEDGER_BASE_URL is not set: links point at {DEFAULT_BASE_URL}")
    session = get_session()
    outgoing, held = notify.compose(session, as_of=day, base_url=base_url, **band_thresholds())
    if dry_run:
        for out in outgoing:
            click.echo(f"To: {out.name} <{out.email}>\nSubject: {out.subject}\nKind: {out.kind}\n\n{out.text}")
            click.echo("-" * 72)
        click.echo(f"dry run for {day.isoformat()}: {len(outgoing)} message(s) would be sent, "
                   f"{held} already sent or being sent; nothing sent or recorded")
        return
    sender = config.get("MAIL_FROM")
    if not config.get("SMTP_URL") or not sender:
        raise click.ClickException("set LEDGER_SMTP_URL and LEDGER_MAIL_FROM to send (or use --dry-run)")
    try:
        settings = mail.parse_smtp_url(str(config["SMTP_URL"]))
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    mailer = mail.SmtpMailer(settings)
    try:
        summary = notify.send(session, outgoing, mailer=mailer, sender=str(sender), as_of=day, already=held)
    finally:
        mailer.close()
    for out in summary.sent:
        click.echo(f"sent {out.kind} to {out.email}: {out.subject}")
    for out, error in summary.failed:
        click.echo(f"FAILED {out.kind} to {out.email}: {error}", err=True)
    click.echo(f"{day.isoformat()}: {len(summary.sent)} sent ({summary.retried} after failing before), "
               f"{len(summary.failed)} failed, {summary.skipped} already sent or being sent")
    if summary.failed:
        raise click.exceptions.Exit(1)
