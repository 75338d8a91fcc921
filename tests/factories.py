"""Keyword-only builders with sensible defaults, going through the service layer."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from ledger.domain.vocab import EntryKind
from ledger.models import Agreement, Entry, Obligation, Project
from ledger.services import Actor, registry
from ledger.services.entries import EntryRequest, record_entry

OFFICER = Actor(email="officer@test.s106", role="officer")


def make_places(session: Session, *, authority: str = "E07000105", division: str = "ashford-central") -> None:
    registry.create_authority(session, {"code": authority, "name": "Ashford Borough Council", "kind": "district"}, actor=OFFICER)
    registry.create_division(
        session, {"code": division, "name": "Ashford Central", "authority_code": authority, "members": ["Jo Bloggs"]},
        actor=OFFICER,
    )


def make_agreement(session: Session, *, reference: str = "20/00001/FUL", signed_on: date = date(2020, 6, 1),
                   authority_code: str = "E07000105", division_code: str | None = "ashford-central",
                   **extra: Any) -> Agreement:
    values = {"reference": reference, "type": "section-106", "authority_code": authority_code,
              "division_code": division_code, "signed_on": signed_on} | extra
    return registry.create_agreement(session, values, actor=OFFICER)


def make_obligation(session: Session, *, agreement: str = "20/00001/FUL", reference: str = "20/00001/FUL/1",
                    purpose: str = "education", service: str = "education-primary",
                    amount: Decimal | None = Decimal("100000.00"), **extra: Any) -> Obligation:
    values = {"reference": reference, "purpose": purpose, "service": service, "amount": amount,
              "repayment_years": 10, "repayment_basis": "receipt"} | extra
    if values["repayment_years"] is None and "repayment_basis" not in extra:
        values["repayment_basis"] = "none"  # no period given: the deed sets no time limit
    return registry.create_obligation(session, agreement, values, actor=OFFICER)


def make_project(session: Session, *, reference: str = "PRJ-1", service: str = "education-primary",
                 **extra: Any) -> Project:
    values = {"reference": reference, "name": f"Project {reference}", "service": service} | extra
    return registry.create_project(session, values, actor=OFFICER)


def post(session: Session, kind: str, amount: str, on: date, *, obligation: str = "20/00001/FUL/1",
         project: str | None = None, reference: str | None = None, actor: Actor = OFFICER,
         **extra: Any) -> Entry:
    """Record an entry and return it (created or the existing identical one)."""
    request = EntryRequest(kind=EntryKind(kind), obligation_reference=obligation, amount=Decimal(amount),
                           occurred_on=on, project_reference=project, reference=reference,
                           reason=extra.pop("reason", f"test {kind}"), **extra)
    entry, _created = record_entry(session, request, actor=actor)
    return entry


def make_ledger(session: Session) -> None:
    """Places, one agreement with one obligation, and two projects."""
    make_places(session)
    make_agreement(session)
    make_obligation(session)
    make_project(session, reference="PRJ-1")
    make_project(session, reference="PRJ-2")


def write_gov_files(directory: Path, transactions: list[tuple[str, str, str, str]]) -> Path:
    """One agreement with one contribution and these (reference, status, amount, date) rows."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "developer-agreement.csv").write_text(
        "reference,organisation,developer-agreement-type,planning-application,start-date\n"
        "DA-1,local-authority:KEN,section-106,20/00001/FUL,01/04/2020\n")
    (directory / "developer-agreement-contribution.csv").write_text(
        "reference,developer-agreement,contribution-purpose,amount,start-date\n"
        "DA-1/C1,DA-1,education,5000.00,01/04/2020\n")
    (directory / "developer-agreement-transaction.csv").write_text(
        "reference,developer-agreement-contribution,contribution-funding-status,amount,start-date\n"
        + "".join(f"{ref},DA-1/C1,{status},{amount},{day}\n" for ref, status, amount, day in transactions))
    return directory
