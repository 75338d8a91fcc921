"""`s106 users ...`: add, list, change and unlock user accounts."""

from __future__ import annotations

from typing import Any

import click

from ledger.cli.group import fail, ledger_cli
from ledger.domain.errors import LedgerError
from ledger.domain.vocab import Role


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
    from ledger.extensions import get_session
    from ledger.services import SYSTEM, users

    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = users.add_user(
            get_session(), email=email, role=role, password=password, name=name,
            division_code=division_code, actor=SYSTEM,
        )
    except LedgerError as error:
        fail(error)
    click.echo(f"added {user.role} {user.email}")


@users_group.command("list")
def users_list() -> None:
    """List users: email, role, division, whether they are enabled and can sign in."""
    from ledger.extensions import get_session
    from ledger.services import users

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
    from ledger.extensions import get_session
    from ledger.services import SYSTEM, users

    password = click.prompt("New password", hide_input=True, confirmation_prompt=True) if password_prompt else None
    changes: dict[str, Any] = {"role": role, "disabled": disabled, "password": password}
    if division_code is not None:
        changes["division_code"] = division_code or None
    if all(value is None for value in changes.values()) and "division_code" not in changes:
        raise click.UsageError("nothing to change: give --role, --division, --disable, --enable or --password-prompt")
    try:
        user = users.change_user(get_session(), email, actor=SYSTEM, **changes)
    except LedgerError as error:
        fail(error)
    state = "disabled" if user.disabled_at else "enabled"
    click.echo(f"{user.email}: {user.role}, division {user.division_code or '-'}, {state}"
               + (", new password" if password else ""))


@users_group.command("unlock")
@click.argument("email")
def users_unlock(email: str) -> None:
    """Clear an account's failed sign-ins, so it can be signed in to again at once."""
    from ledger.extensions import get_session
    from ledger.services import SYSTEM, users

    try:
        users.unlock(get_session(), email, actor=SYSTEM)
    except LedgerError as error:
        fail(error)
    click.echo(f"{email}: failed sign-ins cleared")
