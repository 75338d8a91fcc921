"""`s106 tokens ...`: create, list and revoke API tokens."""

from __future__ import annotations

from datetime import datetime

import click

from ledger import clock
from ledger.cli.group import fail, ledger_cli
from ledger.domain.errors import LedgerError
from ledger.domain.tokens import MAX_TOKEN_LIFETIME_DAYS, TOKEN_LIFETIME_DAYS


@ledger_cli.group("tokens")
def tokens_group() -> None:
    """Manage API tokens."""


@tokens_group.command("create")
@click.argument("email", required=False)
@click.option("--email", "email_option", default=None, help="the same as EMAIL")
@click.option("--expires-in-days", type=click.IntRange(1, MAX_TOKEN_LIFETIME_DAYS),
              default=TOKEN_LIFETIME_DAYS, show_default=True)
def tokens_create(email: str | None, email_option: str | None, expires_in_days: int) -> None:
    """Create an API token for EMAIL; the token is printed alone on the last line, once."""
    from ledger.extensions import get_session
    from ledger.services import SYSTEM, users

    email = email or email_option
    if not email:
        raise click.UsageError("give the user's email")
    try:
        token = users.create_token(get_session(), email=email, actor=SYSTEM, expires_in_days=expires_in_days)
    except LedgerError as error:
        fail(error)
    click.echo(f"token for {email}, expires in {expires_in_days} days (store it now: it is not shown again):")
    click.echo(token)


@tokens_group.command("list")
@click.option("--email", default=None, help="only this user's tokens")
def tokens_list(email: str | None) -> None:
    """List tokens: id, prefix, user, state, created, expires, last used (to the nearest few minutes)."""
    from ledger.extensions import get_session
    from ledger.services import users

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
    from ledger.extensions import get_session
    from ledger.services import SYSTEM, users

    try:
        row = users.revoke_token(get_session(), token, actor=SYSTEM)
    except LedgerError as error:
        fail(error)
    click.echo(f"revoked token {row.id} ({row.prefix}...) of {row.user.email}")
