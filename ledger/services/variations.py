"""Deeds of variation that change repayment terms from a date (SPEC 8.1, 8.2).

An obligation's own columns keep its deed's terms; each change is a row of
``repayment_terms`` in force from a date, never updated. The terms in force at a date are
the latest change in force by then (dates.terms_in_force), and every deadline asked about at
that date follows them: an extension agreed in a variation applies to money already held.
A statement as known at a moment ignores changes recorded after it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select, true
from sqlalchemy.orm import Session

from ledger.db import write_transaction
from ledger.domain.dates import Terms, terms_errors, terms_in_force
from ledger.domain.errors import InvalidInput
from ledger.domain.vocab import AgreementType, RepaymentBasis
from ledger.models import Agreement, Obligation, RepaymentTerms
from ledger.services import Actor, audit, kept
from ledger.services.constraints import as_domain_errors
from ledger.services.locks import lock_for_money
from ledger.services.registry import get_one


def own_terms(obligation: Obligation) -> Terms:
    """The terms the obligation's deed set, in force until its first change."""
    return Terms(repayment_basis=obligation.repayment_basis, repayment_years=obligation.repayment_years)


def terms_history(session: Session, obligation: Obligation, *, known_at: datetime | None = None) -> list[Terms]:
    """The deed's own terms, then each change in the order it was recorded (as known at the moment)."""
    known = RepaymentTerms.created_at <= known_at if known_at else true()
    changes = session.execute(
        select(RepaymentTerms.repayment_basis, RepaymentTerms.repayment_years, RepaymentTerms.in_force_from)
        .where(RepaymentTerms.obligation_id == obligation.id, known).order_by(RepaymentTerms.id))
    return [own_terms(obligation), *(Terms(repayment_basis=b, repayment_years=y, in_force_from=f)
                                     for b, y, f in changes)]


def terms_on(session: Session, obligation: Obligation, *, on: date, known_at: datetime | None = None) -> Terms:
    """The obligation's terms in force at the end of ``on``."""
    return terms_in_force(terms_history(session, obligation, known_at=known_at), on=on)


def changed_terms(session: Session, *, on: date, known_at: datetime | None = None) -> dict[int, Terms]:
    """The terms in force at the end of ``on`` of every obligation whose deed's terms a change
    has replaced by then, by obligation id. Changes are few beside obligations: read at once."""
    known = RepaymentTerms.created_at <= known_at if known_at else true()
    history: dict[int, list[Terms]] = defaultdict(list)
    for obligation_id, basis, years, starts in session.connection().execute(
        select(RepaymentTerms.obligation_id, RepaymentTerms.repayment_basis, RepaymentTerms.repayment_years,
               RepaymentTerms.in_force_from)
        .where(RepaymentTerms.in_force_from <= on, known).order_by(RepaymentTerms.id)
    ):
        history[obligation_id].append(Terms(repayment_basis=basis, repayment_years=years, in_force_from=starts))
    return {obligation_id: terms_in_force(changes, on=on) for obligation_id, changes in history.items()}


def _check(obligation: Obligation, basis: str, years: int | None) -> None:
    if basis not in set(RepaymentBasis):
        raise InvalidInput(f"repayment_basis {basis!r} is not a basis",
                           errors={"repayment_basis": [f"must be one of {', '.join(RepaymentBasis)}"]})
    errors = terms_errors(basis, years)
    if obligation.agreement.type == AgreementType.COMMUNITY_INFRASTRUCTURE_LEVY and basis != RepaymentBasis.NONE:
        errors = {"repayment_basis": [f"{obligation.reference} is CIL, which is never repaid: its terms stay none"]}
    if errors:
        field, [problem] = next(iter(errors.items()))
        raise InvalidInput(f"{field} {problem}", errors=errors)


def _variation(session: Session, reference: str) -> Agreement:
    variation = session.scalar(select(Agreement).where(Agreement.reference == reference))
    if variation is None:
        raise InvalidInput(f"variation {reference!r} does not exist", errors={"variation": ["does not exist"]})
    return _deed_of_variation(variation, field="variation")


def _deed_of_variation(variation: Agreement, *, field: str) -> Agreement:
    reference = variation.reference
    if variation.type != AgreementType.DEED_OF_VARIATION or not variation.varies:
        raise InvalidInput(f"{field} {reference!r} is not a deed of variation naming the agreement it varies",
                           errors={field: ["not a deed of variation naming the agreement it varies"]})
    return variation


def _insert(session: Session, obligation: Obligation, *, basis: str, years: int | None, in_force_from: date,
            variation: Agreement | None, reason: str, actor: Actor, now: datetime) -> RepaymentTerms:
    before = terms_on(session, obligation, on=in_force_from)
    row = RepaymentTerms(obligation_id=obligation.id, in_force_from=in_force_from, repayment_basis=basis,
                         repayment_years=years, variation_id=variation.id if variation else None,
                         created_by=actor.email, created_at=now, reason=reason)
    session.add(row)
    session.flush()
    kept.refresh(session, [obligation.id])
    audit.record(session, actor=actor, action="change-repayment-terms", target_type="obligations",
                 target_reference=obligation.reference,
                 before={"repayment_basis": before.repayment_basis, "repayment_years": before.repayment_years,
                         "in_force_from": before.in_force_from},
                 after=audit.snapshot(row) | {"variation": variation.reference if variation else None},
                 reason=reason)
    return row


def _require_reason(reason: str) -> None:
    if not reason.strip():
        raise InvalidInput("reason: must not be empty", errors={"reason": ["must not be empty"]})


def change_terms(
    session: Session, obligation_reference: str, *, basis: str, years: int | None, in_force_from: date | None,
    reason: str, actor: Actor, variation: str | None = None,
) -> RepaymentTerms:
    """Change an obligation's repayment terms from a date (SPEC 8.2), with a reason. Given
    the deed of variation that agreed it (which must vary the obligation's agreement), the
    date defaults to the day that deed was entered into."""
    _require_reason(reason)
    with as_domain_errors(), write_transaction(session):
        obligation = get_one(session, Obligation, "reference", obligation_reference, what="obligation")
        # Its deadlines move: money checks and reports of this obligation wait for this.
        now = lock_for_money(session, obligation_ids=[obligation.id])
        deed = None
        if variation is not None:
            deed = _variation(session, variation)
            if deed.varies != obligation.agreement.reference:
                raise InvalidInput(
                    f"variation {variation!r} varies {deed.varies!r}, not {obligation.agreement.reference!r}",
                    errors={"variation": [f"does not vary agreement {obligation.agreement.reference}"]})
        starts = in_force_from or (deed.signed_on if deed else None)
        if starts is None:
            raise InvalidInput("in_force_from is required", errors={"in_force_from": ["required without a "
                                                                                      "signed deed of variation"]})
        _check(obligation, basis, years)
        return _insert(session, obligation, basis=basis, years=years, in_force_from=starts, variation=deed,
                       reason=reason, actor=actor, now=now)


def vary_terms(
    session: Session, variation_reference: str, *, basis: str, years: int | None, reason: str, actor: Actor,
    obligations: Sequence[str] | None = None,
) -> list[RepaymentTerms]:
    """Record what a deed of variation does to repayment terms: the obligations of the
    agreement it varies (all of them, or those named) take these terms from the day it was
    entered into. All or nothing."""
    _require_reason(reason)
    with as_domain_errors(), write_transaction(session):
        deed = _deed_of_variation(get_one(session, Agreement, "reference", variation_reference, what="agreement"),
                                  field="reference")
        if deed.signed_on is None:
            raise InvalidInput(f"{variation_reference} is not signed yet: its terms are in force from no date",
                               errors={"reference": ["not signed"]})
        varied = get_one(session, Agreement, "reference", deed.varies, what="agreement")
        chosen = [o for o in varied.obligations if obligations is None or o.reference in obligations]
        unknown = sorted(set(obligations or ()) - {o.reference for o in chosen})
        if unknown:
            raise InvalidInput(f"obligations {', '.join(unknown)} are not obligations of {varied.reference}",
                               errors={"obligations": [f"not an obligation of {varied.reference}: {u}"
                                                       for u in unknown]})
        if not chosen:
            raise InvalidInput(f"{varied.reference} has no obligations", errors={"obligations": ["none to vary"]})
        now = lock_for_money(session, obligation_ids=[o.id for o in chosen])
        for obligation in chosen:
            _check(obligation, basis, years)
        return [_insert(session, obligation, basis=basis, years=years, in_force_from=deed.signed_on,
                        variation=deed, reason=reason, actor=actor, now=now) for obligation in chosen]


@dataclass(frozen=True, slots=True, kw_only=True)
class TermsRecord:
    """One line of an obligation's terms history, as people and the API read it."""

    #: None for the deed's own terms, in force from the start.
    in_force_from: date | None
    repayment_basis: str
    repayment_years: int | None
    #: The deed of variation that agreed the change, where one did.
    variation: str | None
    created_by: str
    created_at: datetime
    reason: str | None


def record_of(row: RepaymentTerms) -> TermsRecord:
    return TermsRecord(in_force_from=row.in_force_from, repayment_basis=row.repayment_basis,
                       repayment_years=row.repayment_years, variation=row.variation.reference if row.variation else None,
                       created_by=row.created_by, created_at=row.created_at, reason=row.reason)


def terms_records(session: Session, obligation_reference: str) -> list[TermsRecord]:
    """An obligation's terms history: its deed's own terms, then each change in the order recorded."""
    obligation = get_one(session, Obligation, "reference", obligation_reference, what="obligation")
    own = TermsRecord(in_force_from=None, repayment_basis=obligation.repayment_basis,
                      repayment_years=obligation.repayment_years, variation=None, created_by=obligation.created_by,
                      created_at=obligation.created_at, reason=None)
    changes = session.scalars(select(RepaymentTerms).where(RepaymentTerms.obligation_id == obligation.id)
                              .order_by(RepaymentTerms.id))
    return [own, *map(record_of, changes)]
