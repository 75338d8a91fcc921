"""Rows of the government developer-contributions format (DOMAIN.md §2) from the ledger."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger import clock
from ledger.db import read_snapshot
from ledger.domain.agreement_status import AgreementStatus
from ledger.domain.entry_kinds import KIND_RULES, PUBLISHED
from ledger.models import Agreement, Entry, Obligation
from ledger.services.balances import in_force_condition
from ledger.services.kind_sql import kind_is


@dataclass(frozen=True, slots=True)
class GovRows:
    agreements: list[dict[str, str]]
    contributions: list[dict[str, str]]
    transactions: list[dict[str, str]]


def _money(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.2f}"


def gov_csv_rows(session: Session, *, as_known_at: datetime | None = None) -> GovRows:
    """Agreements, contributions and one transaction per entry in force (reversed entries
    and reversals left out), as known at the moment."""
    read_snapshot(session)
    known = as_known_at or clock.now()
    agreements = []
    contributions = []
    organisation: dict[int, str] = {}
    # Proposed agreements are not published, nor one signed after the moment (SPEC 8.7).
    signed = (Agreement.created_at <= known, Agreement.status == AgreementStatus.SIGNED.value,
              func.coalesce(Agreement.signed_recorded_at, Agreement.created_at) <= known)
    for agreement in session.scalars(select(Agreement).where(*signed).order_by(Agreement.id)):
        organisation[agreement.id] = agreement.authority_code
        agreements.append({
            "reference": agreement.reference,
            "name": agreement.site_name or "",
            "developer-agreement-type": agreement.type,
            "planning-application": agreement.planning_application or "",
            "document-url": agreement.document_url or "",
            "notes": agreement.notes or "",
            "organisation": agreement.authority_code,
            "entry-date": agreement.created_at.date().isoformat(),
            "start-date": agreement.signed_on.isoformat(),
            "end-date": agreement.superseded_on.isoformat() if agreement.superseded_on else "",
        })
    for obligation, agreement in session.execute(
        select(Obligation, Agreement).join(Obligation.agreement)
        .where(Obligation.created_at <= known, *signed).order_by(Obligation.id)
    ):
        contributions.append({
            "reference": obligation.reference,
            "name": obligation.service,
            "developer-agreement": agreement.reference,
            "contribution-purpose": obligation.purpose,
            "amount": _money(obligation.amount),
            "units": "" if obligation.units is None else str(obligation.units),
            "notes": obligation.trigger or "",
            "organisation": agreement.authority_code,
            "entry-date": obligation.created_at.date().isoformat(),
            "start-date": agreement.signed_on.isoformat(),
            "end-date": agreement.superseded_on.isoformat() if agreement.superseded_on else "",
        })
    transactions = []
    used: set[str] = set()
    for entry, obligation_reference, authority_code in session.execute(
        select(Entry, Obligation.reference, Agreement.authority_code)
        .join(Obligation, Entry.obligation_id == Obligation.id)
        .join(Agreement, Obligation.agreement_id == Agreement.id)
        # Kinds the format has no status for (commitments) are not published (entry_kinds.PUBLISHED).
        .where(in_force_condition(known), kind_is(PUBLISHED)).order_by(Entry.id)
    ):
        # Its funding status, and whether it is published as a negative amount of it (entry_kinds).
        rule = KIND_RULES[entry.kind]
        # References are unique per kind in the ledger but must be unique per file here.
        reference = entry.reference if entry.reference not in used else f"{entry.reference}-{rule.kind}"
        used.add(reference)
        amount = -entry.amount if rule.negated else entry.amount
        transactions.append({
            "reference": reference,
            "name": rule.kind.value,
            "developer-agreement-contribution": obligation_reference,
            "contribution-funding-status": rule.status,
            "amount": _money(amount),
            "units": "",
            "notes": entry.recipient or "",
            "organisation": authority_code,
            "entry-date": entry.created_at.date().isoformat(),
            "start-date": entry.occurred_on.isoformat(),
            "end-date": "",
        })
    return GovRows(agreements=agreements, contributions=contributions, transactions=transactions)
