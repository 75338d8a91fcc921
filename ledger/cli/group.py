"""The `ledger` command group every command module adds to, and what they share."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from ledger.domain.errors import LedgerError

ledger_cli = AppGroup("ledger", help="s106-ledger commands.")


def fail(error: LedgerError) -> None:
    raise click.ClickException(error.detail)


def note(message: str) -> None:
    """A progress line, on stderr: the command's output stays its result alone."""
    click.echo(message, err=True)
