"""Command line: `s106 ...`, also `flask --app wsgi ledger ...`. Thin over the services."""

from __future__ import annotations

import os
import sys
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup, FlaskGroup

from ledger import clock
from ledger.domain.errors import LedgerError
from ledger.domain.vocab import Role
from ledger.extensions import get_engine, get_session
from ledger.services import SYSTEM, users

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


@ledger_cli.group("tokens")
def tokens_group() -> None:
    """Manage API tokens."""


@tokens_group.command("create")
@click.option("--email", required=True)
def tokens_create(email: str) -> None:
    """Create an API token; the token is printed alone on the last line, once."""
    try:
        token = users.create_token(get_session(), email=email, actor=SYSTEM)
    except LedgerError as error:
        _fail(error)
    click.echo(f"token for {email} (store it now: it is not shown again):")
    click.echo(token)


@ledger_cli.command("demo")
@click.option("--scale", type=click.Choice(["small", "county"]), default="small", show_default=True)
@click.option("--seed", type=int, default=106, show_default=True)
@click.option("--if-empty", is_flag=True, help="do nothing, successfully, when the ledger already has data")
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


@ledger_cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8106, type=int, show_default=True)
@click.option("--workers", default=2, type=int, show_default=True)
def serve(host: str, port: int, workers: int) -> None:
    """Serve the app with gunicorn."""
    from gunicorn.app.base import BaseApplication

    app = current_app._get_current_object()  # type: ignore[attr-defined]

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("accesslog", "-")

        def load(self) -> Any:
            return app

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
        cli.main(args=sys.argv[1:], prog_name="s106", standalone_mode=True)
    except Exception as error:  # a failure the command did not foresee: one line, non-zero
        if os.environ.get("LEDGER_DEBUG"):
            raise
        first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
        click.echo(f"Error: {type(error).__name__}: {first_line} (set LEDGER_DEBUG=1 for details)", err=True)
        sys.exit(1)
