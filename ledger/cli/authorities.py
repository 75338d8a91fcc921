"""`s106 authorities ...`: the repayment terms an authority's deeds usually set (SPEC 8.2)."""

from __future__ import annotations

import click

from ledger.cli.group import fail, ledger_cli
from ledger.domain.errors import LedgerError
from ledger.domain.vocab import RepaymentBasis


@ledger_cli.group("authorities")
def authorities_group() -> None:
    """Planning authorities."""


@authorities_group.command("set-terms")
@click.argument("code")
@click.option("--basis", required=True, type=click.Choice([str(b) for b in RepaymentBasis]),
              help="what a deadline counts from; none: no time limit; unknown: not yet read from the deeds")
@click.option("--years", type=int, default=None, help="1-30, with receipt, completion and last-payment")
@click.option("--reason", required=True, help="why: kept in the audit log")
def set_terms(code: str, basis: str, years: int | None, reason: str) -> None:
    """Set the terms the authority's obligations take when created or imported without their own.
    Obligations already in the ledger keep theirs."""
    from ledger.extensions import get_session
    from ledger.services import SYSTEM, registry

    try:
        authority = registry.set_authority_terms(get_session(), code, basis=basis, years=years, actor=SYSTEM,
                                                 reason=reason)
    except LedgerError as error:
        fail(error)
    years_text = f", {authority.default_repayment_years} years" if authority.default_repayment_years else ""
    click.echo(f"{authority.code}: default repayment basis {authority.default_repayment_basis}{years_text}")
