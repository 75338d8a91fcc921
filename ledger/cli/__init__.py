"""Command line: `s106 ...`, also `flask --app wsgi ledger ...`. Thin over the services.

One module per command group; each adds its commands to ``ledger_cli`` (cli/group.py)
when imported here. Importing them must stay cheap: `s106 --help` and `--version` import
these modules and nothing else of the ledger (issue 17), so a command imports the services,
the database and the reports it uses inside its own function, and builds the app only when
it runs (tests/test_cli_startup.py)."""

from __future__ import annotations

import os
import sys

import click
from flask.cli import FlaskGroup

from ledger import __version__, create_app

# Imported for what importing them does: each adds its commands to ledger_cli.
from ledger.cli import authorities, data, imports, notify, reconcile, reports, reviews, serve, tokens, users  # noqa: F401
from ledger.cli.group import ledger_cli
from ledger.cli.serve import MAX_REQUEST_LINE

__all__ = ["MAX_REQUEST_LINE", "ledger_cli", "main", "s106"]


class OwnCommandsGroup(FlaskGroup):
    """FlaskGroup lists the app's commands and installed plugins' too, so it builds the app
    (importing all of it) and scans every package's entry points just to print --help. s106
    has only its own commands; each builds the app when it runs (AppGroup's with_appcontext)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return click.Group.list_commands(self, ctx)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        return click.Group.get_command(self, ctx, name)


@click.group("s106", cls=OwnCommandsGroup, create_app=lambda: create_app(), add_default_commands=False,
             add_version_option=False, load_dotenv=False)
@click.version_option(__version__, prog_name="s106")
def s106() -> None:
    """s106-ledger: Section 106 ledger."""


for name, command in ledger_cli.commands.items():
    s106.add_command(command, name)


def main() -> None:
    """Console script `s106`: the ledger commands at the top level."""
    try:
        result = s106.main(args=sys.argv[1:], prog_name="s106", standalone_mode=False)
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
