"""Reference data: authorities, divisions, agreements, obligations and projects.

These records are not ledger entries: they can be created and their details corrected,
each change audited with its before and after. Money never moves here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cache
from typing import Any, TypeAlias, TypeVar

from sqlalchemy import ColumnElement, Select, bindparam, func, or_, select
from sqlalchemy.orm import Session

from ledger.db import lock_ledger, write_transaction
from ledger.domain.agreement_status import AgreementStatus, signing_errors, status_errors
from ledger.domain.dates import financial_year_bounds, terms_errors
from ledger.domain.errors import Conflict, InvalidInput, NotFound
from ledger.domain.vocab import AgreementType, RepaymentBasis
from ledger.models import (
    Agreement,
    AgreementHistory,
    Authority,
    Base,
    Division,
    KeptReceiptPosition,
    Obligation,
    Project,
)
from ledger.services import Actor, audit, kept
from ledger.services.agreement_history import keep_details
from ledger.services.constraints import as_domain_errors
from ledger.services.ledger_rows import CORRECTABLE_DETAILS
from ledger.services.locks import lock_for_money

T = TypeVar("T", bound=Base)
#: A query of rows, for ``page`` to cut into pages.
Query: TypeAlias = Select[Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class Filters:
    """Collection filters of SPEC §6, and the agreements page's search and year. The one
    place they become SQL is ``conditions``: the API, the web pages and the reports all
    filter through it, so a filter means the same wherever it is given."""

    authority: str | None = None
    division: str | None = None
    purpose: str | None = None
    service: str | None = None
    #: Text in an agreement's reference, site, planning application or developer.
    search: str | None = None
    #: The financial year (by the calendar year it starts in) an agreement was signed in.
    signed_in_year: int | None = None

    def conditions(self, rows: type[Base]) -> list[ColumnElement[bool]]:
        """These filters as conditions on a query of ``rows``: authorities, divisions,
        agreements, projects, or obligations joined to their agreement (as the entries and
        at-risk queries are). A filter those rows do not have is ignored (a project has no
        purpose, a division no service)."""
        if rows is Authority:
            return [Authority.code == self.authority] if self.authority else []
        if rows is Division:
            return _present((Division.authority_code, self.authority), (Division.code, self.division))
        if rows is Project:
            found = _present((Project.division_code, self.division), (Project.service, self.service))
            if self.authority:
                found.append(Project.division_code.in_(
                    select(Division.code).where(Division.authority_code == self.authority)))
            return found
        of_obligation = _present((Obligation.purpose, self.purpose), (Obligation.service, self.service))
        if rows is Obligation:
            return self._of_agreement() + of_obligation
        if rows is Agreement:
            # One obligation must match both purpose and service, not one each.
            matching = [Agreement.id.in_(select(Obligation.agreement_id).where(*of_obligation))] if of_obligation else []
            return self._of_agreement() + matching
        raise TypeError(f"no filters for {rows.__name__}")

    def kept_receipt_conditions(self) -> list[ColumnElement[bool]] | None:
        """These filters on the kept receipt positions alone, by the division they keep; None
        where a filter needs the receipts' obligations and agreements (conditions(Obligation))."""
        if replace(self, division=None) != Filters():
            return None
        return _present((KeptReceiptPosition.division_code, self.division))

    def _of_agreement(self) -> list[ColumnElement[bool]]:
        found = _present((Agreement.authority_code, self.authority), (Agreement.division_code, self.division))
        if self.search:
            like = f"%{self.search}%"
            found.append(or_(Agreement.reference.ilike(like), Agreement.site_name.ilike(like),
                             Agreement.planning_application.ilike(like), Agreement.developer.ilike(like)))
        if self.signed_in_year is not None:
            found.append(Agreement.signed_on.between(*financial_year_bounds(self.signed_in_year)))
        return found


def _present(*pairs: tuple[Any, object]) -> list[ColumnElement[bool]]:
    """column == value for each pair whose value is given."""
    return [column == value for column, value in pairs if value]


def _exists(session: Session, model: type[Base], column: str, value: object) -> bool:
    return session.scalar(select(func.count()).where(getattr(model, column) == value)) > 0


def _require(session: Session, model: type[Base], column: str, value: object, field: str) -> None:
    """Refuse a reference in a request body that names nothing (422 naming the field)."""
    if value is not None and not _exists(session, model, column, value):
        raise InvalidInput(f"{field} {value!r} does not exist", errors={field: ["does not exist"]})


def get_one(session: Session, model: type[T], column: str, value: object, *, what: str) -> T:
    """One row by a unique column, or NotFound (404 for a resource named in the path)."""
    row = session.scalar(select(model).where(getattr(model, column) == value))
    if row is None:
        raise NotFound(f"no {what} {value!r}")
    return row


_NOUNS: dict[type[Base], str] = {
    Authority: "authority",
    Division: "division",
    Agreement: "agreement",
    Obligation: "obligation",
    Project: "project",
}


def _insert(session: Session, row: T, *, actor: Actor, key: str, reason: str | None) -> T:
    model = type(row)
    noun = _NOUNS[model]
    value = getattr(row, key)
    # The unique key backs this check up when another request creates the same thing at once
    # (as_domain_errors makes that a 409 too).
    if _exists(session, model, key, value):
        raise Conflict(f"{noun} {value!r} already exists", errors={key: ["already exists"]})
    if hasattr(row, "created_by"):
        row.created_by = actor.email  # type: ignore[attr-defined]
        # Under the ledger's commit lock: a statement as known at a moment sees it exactly then.
        row.created_at = lock_ledger(session)  # type: ignore[attr-defined]
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=f"create-{noun}",
        target_type=model.__tablename__,
        target_reference=str(value),
        after=audit.snapshot(row),
        reason=reason,
    )
    return row


def place_names(session: Session) -> dict[str, dict[str, str]]:
    """The name of every authority and division by code, for reports that show names:
    ``{"authorities": {...}, "divisions": {...}}``."""
    connection = session.connection()
    return {"authorities": dict(connection.execute(select(Authority.code, Authority.name)).all()),
            "divisions": dict(connection.execute(select(Division.code, Division.name)).all())}


@cache
def _division_names() -> Select[Any]:
    return select(Division.code, Division.name).where(Division.code.in_(bindparam("codes", expanding=True)))


def division_names(session: Session, codes: Iterable[str | None]) -> dict[str, str]:
    """The names of the divisions ``codes`` (a page's few: place_names has every one)."""
    wanted = sorted({code for code in codes if code})
    return dict(session.connection().execute(_division_names(), {"codes": wanted}).all()) if wanted else {}


@cache
def _authority_names() -> Select[Any]:
    return select(Authority.code, Authority.name).where(Authority.code.in_(bindparam("codes", expanding=True)))


def names_of_places(session: Session, authorities: Iterable[str | None],
                    divisions: Iterable[str | None]) -> dict[str, dict[str, str]]:
    """place_names for a page naming a few places: a national ledger has 1,500 divisions."""
    wanted = sorted({code for code in authorities if code})
    return {"authorities": dict(session.connection().execute(_authority_names(), {"codes": wanted}).all())
            if wanted else {}, "divisions": division_names(session, divisions)}


def create_authority(session: Session, values: Mapping[str, Any], *, actor: Actor) -> Authority:
    with as_domain_errors(), write_transaction(session):
        _check_terms(values.get("default_repayment_basis", RepaymentBasis.UNKNOWN.value),
                     values.get("default_repayment_years"), years_field="default_repayment_years")
        return _insert(session, Authority(**values), actor=actor, key="code", reason=None)


def set_authority_terms(
    session: Session, code: str, *, basis: str, years: int | None, actor: Actor, reason: str,
) -> Authority:
    """Set the repayment terms an obligation of this authority created without its own takes
    (SPEC 8.2); the audit event keeps the old ones and why they changed. Obligations already
    made keep theirs."""
    with as_domain_errors(), write_transaction(session):
        if basis not in set(RepaymentBasis):
            raise InvalidInput(f"default_repayment_basis {basis!r} is not a basis",
                               errors={"default_repayment_basis": [f"must be one of {', '.join(RepaymentBasis)}"]})
        _check_terms(basis, years, years_field="default_repayment_years")
        authority = get_one(session, Authority, "code", code, what="authority")
        before = audit.snapshot(authority)
        authority.default_repayment_basis, authority.default_repayment_years = basis, years
        session.flush()
        audit.record(session, actor=actor, action="set-authority-terms", target_type="authorities",
                     target_reference=code, before=before, after=audit.snapshot(authority), reason=reason)
        return authority


def _check_terms(basis: str, years: int | None, *, years_field: str) -> None:
    errors = terms_errors(basis, years, years_field=years_field)
    if errors:
        field, [problem] = next(iter(errors.items()))
        raise InvalidInput(f"{field} {problem}", errors=errors)


def obligation_terms(session: Session, agreement: Agreement, values: Mapping[str, Any]) -> dict[str, Any]:
    """The repayment terms of a new obligation (SPEC 8.2): its own, checked, or, given none,
    its authority's default (none for CIL, which is never repaid)."""
    basis, years = values.get("repayment_basis"), values.get("repayment_years")
    if basis is None:
        if years is not None:
            raise InvalidInput("repayment_basis is required with repayment_years",
                               errors={"repayment_basis": ["required with repayment_years"]})
        if agreement.type == AgreementType.COMMUNITY_INFRASTRUCTURE_LEVY:
            return {"repayment_basis": RepaymentBasis.NONE.value, "repayment_years": None}
        authority = get_one(session, Authority, "code", agreement.authority_code, what="authority")
        return {"repayment_basis": authority.default_repayment_basis,
                "repayment_years": authority.default_repayment_years}
    _check_terms(basis, years, years_field="repayment_years")
    return {"repayment_basis": basis, "repayment_years": years}


def create_division(session: Session, values: Mapping[str, Any], *, actor: Actor) -> Division:
    with as_domain_errors(), write_transaction(session):
        _require(session, Authority, "code", values.get("authority_code"), "authority_code")
        return _insert(session, Division(**values), actor=actor, key="code", reason=None)


def create_agreement(session: Session, values: Mapping[str, Any], *, actor: Actor) -> Agreement:
    """Record an agreement: signed (the default) with the date it was entered into, or
    proposed (SPEC 8.7) with none yet."""
    status_problems = status_errors(values.get("status", AgreementStatus.SIGNED), values.get("signed_on"))
    if status_problems:
        field, [problem] = next(iter(status_problems.items()))
        raise InvalidInput(f"{field} {problem}", errors=status_problems)
    with as_domain_errors(), write_transaction(session):
        _require(session, Authority, "code", values.get("authority_code"), "authority_code")
        _require(session, Division, "code", values.get("division_code"), "division_code")
        _require(session, Agreement, "reference", values.get("varies"), "varies")
        return _insert(session, Agreement(**values), actor=actor, key="reference", reason=values.get("notes"))


#: Agreement details an officer may correct or complete later (site milestones, supersession),
#: and the status and date that sign a proposed agreement (SPEC 8.7).
AGREEMENT_UPDATABLE = frozenset(CORRECTABLE_DETAILS) | {"status", "signed_on"}


def update_agreement(
    session: Session, reference: str, changes: Mapping[str, Any], *, actor: Actor, reason: str
) -> Agreement:
    """Correct or complete an agreement's details, or sign a proposed one; the audit event
    keeps the old values."""
    with as_domain_errors(), write_transaction(session):
        agreement = get_one(session, Agreement, "reference", reference, what="agreement")
        # Locked (and read again) first, so "before" is what this change replaces.
        changed_at = lock_for_money(session, agreement_ids=[agreement.id])
        unknown = set(changes) - AGREEMENT_UPDATABLE
        if unknown:
            raise InvalidInput(
                "these fields cannot be changed", errors={f: ["cannot be changed"] for f in sorted(unknown)}
            )
        _require(session, Division, "code", changes.get("division_code"), "division_code")
        signing = signing_errors(agreement.status, changes)
        if signing:
            field, [problem] = next(iter(signing.items()))
            raise InvalidInput(f"{field} {problem}", errors=signing)
        before = audit.snapshot(agreement)
        keep_details(session, agreement, changed_at=changed_at, actor=actor, reason=reason)
        if changes.get("status") == AgreementStatus.SIGNED != agreement.status:
            agreement.signed_recorded_at = changed_at
        for key, value in changes.items():
            setattr(agreement, key, value)
        session.flush()
        kept.refresh_agreement(session, agreement.id)
        audit.record(
            session,
            actor=actor,
            action="update-agreement",
            target_type="agreements",
            target_reference=reference,
            before=before,
            after=audit.snapshot(agreement),
            reason=reason,
        )
        return agreement


def create_obligation(
    session: Session, agreement_reference: str, values: Mapping[str, Any], *, actor: Actor
) -> Obligation:
    with as_domain_errors(), write_transaction(session):
        agreement = get_one(session, Agreement, "reference", agreement_reference, what="agreement")
        values = dict(values) | obligation_terms(session, agreement, values)
        replaces = values.pop("replaces", None)
        if replaces is not None:
            values["replaces_id"] = _replaced_obligation(session, agreement, replaces)
        row = _insert(session, Obligation(agreement_id=agreement.id, **values), actor=actor, key="reference",
                      reason=None)
        kept.refresh(session, [row.id])
        return row


def _replaced_obligation(session: Session, agreement: Agreement, reference: str) -> int:
    """The id of the obligation a deed of variation's obligation replaces (SPEC 8.1): it must
    be an obligation of the agreement the deed varies (422 naming ``replaces`` otherwise)."""
    if agreement.type != AgreementType.DEED_OF_VARIATION or not agreement.varies:
        raise InvalidInput(f"replaces: agreement {agreement.reference!r} is not a deed of variation naming the "
                           "agreement it varies", errors={"replaces": ["only a deed of variation's obligation "
                                                                       "replaces one, of the agreement it varies"]})
    found = session.scalar(select(Obligation.id).join(Agreement, Obligation.agreement_id == Agreement.id)
                           .where(Obligation.reference == reference, Agreement.reference == agreement.varies))
    if found is None:
        raise InvalidInput(f"replaces {reference!r} is not an obligation of {agreement.varies!r}, the agreement "
                           f"{agreement.reference!r} varies", errors={"replaces": ["not an obligation of the varied "
                                                                                   "agreement"]})
    return found


def create_project(session: Session, values: Mapping[str, Any], *, actor: Actor) -> Project:
    with as_domain_errors(), write_transaction(session):
        _require(session, Division, "code", values.get("division_code"), "division_code")
        return _insert(session, Project(**values), actor=actor, key="reference", reason=None)


def page(session: Session, query: Query, *, offset: int, limit: int) -> tuple[list[Any], int]:
    """One page of a query and the total count."""
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    rows = session.scalars(query.offset(offset).limit(limit)).all()
    return list(rows), total


def authorities_query(filters: Filters) -> Select[tuple[Authority]]:
    return select(Authority).where(*filters.conditions(Authority)).order_by(Authority.code)


def divisions_query(filters: Filters) -> Select[tuple[Division]]:
    return select(Division).where(*filters.conditions(Division)).order_by(Division.code)


def agreements_query(filters: Filters) -> Select[tuple[Agreement]]:
    return (select(Agreement).where(*filters.conditions(Agreement))
            .order_by(Agreement.signed_on.desc(), Agreement.id.desc()))


def obligations_query(filters: Filters, *, agreement_reference: str | None = None) -> Select[tuple[Obligation]]:
    query = select(Obligation).join(Obligation.agreement).where(*filters.conditions(Obligation)).order_by(Obligation.id)
    if agreement_reference:
        query = query.where(Agreement.reference == agreement_reference)
    return query


def projects_query(filters: Filters) -> Select[tuple[Project]]:
    return select(Project).where(*filters.conditions(Project)).order_by(Project.reference)


# -- corrections made in the web (issue 15 item 3) -----------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class DetailChange:
    """One correction of an agreement's details: who made it, when, why, and each detail
    it changed with its value before and after."""

    changed_at: datetime
    changed_by: str
    reason: str
    changes: list[tuple[str, Any, Any]]


def agreement_changes(session: Session, agreement: Agreement) -> list[DetailChange]:
    """The corrections of ``agreement``, oldest first. Each history row keeps the details as
    they stood before one correction, so what that correction made of them is the next
    row's details, or, for the latest, the agreement's own."""
    kept = list(session.scalars(select(AgreementHistory).where(AgreementHistory.agreement_id == agreement.id)
                                .order_by(AgreementHistory.id)))
    states = [{name: getattr(row, name) for name in CORRECTABLE_DETAILS} for row in kept]
    states.append({name: getattr(agreement, name) for name in CORRECTABLE_DETAILS})
    # Signing a proposed agreement (SPEC 8.7) is the correction made at the moment it records.
    signed = {agreement.signed_recorded_at: [("signed_on", None, agreement.signed_on)]}
    return [DetailChange(changed_at=row.changed_at, changed_by=row.changed_by, reason=row.reason,
                         changes=[(name, before[name], after[name]) for name in CORRECTABLE_DETAILS
                                  if before[name] != after[name]] + signed.get(row.changed_at, []))
            for row, before, after in zip(kept, states, states[1:], strict=False)]


#: What an officer may correct on an obligation: what it is for and its repayment terms as
#: read from the deed. Its money (amount, units) is what the deed secured and stays.
OBLIGATION_UPDATABLE = frozenset({"purpose", "service", "trigger", "repayment_basis", "repayment_years"})
#: What an officer may correct on a project.
PROJECT_UPDATABLE = frozenset({"name", "service", "division_code", "repays_borrowing"})


def _refuse_unknown(changes: Mapping[str, Any], allowed: frozenset[str]) -> None:
    unknown = set(changes) - allowed
    if unknown:
        raise InvalidInput("these fields cannot be changed", errors={f: ["cannot be changed"] for f in sorted(unknown)})


def _require_reason(reason: str) -> None:
    if not reason.strip():
        raise InvalidInput("reason: must not be empty", errors={"reason": ["must not be empty"]})


def update_obligation(
    session: Session, reference: str, changes: Mapping[str, Any], *, actor: Actor, reason: str
) -> Obligation:
    """Correct an obligation's purpose, service, trigger or repayment terms (SPEC 8.2: terms
    misread from the deed); the audit event keeps the old values and why they changed. Terms
    are checked as a pair, the half not given as it stands."""
    _require_reason(reason)
    with as_domain_errors(), write_transaction(session):
        obligation = get_one(session, Obligation, "reference", reference, what="obligation")
        _refuse_unknown(changes, OBLIGATION_UPDATABLE)
        # Its deadlines move with its terms: money checks of this obligation wait for this.
        lock_for_money(session, obligation_ids=[obligation.id])
        basis = changes.get("repayment_basis", obligation.repayment_basis)
        if basis not in set(RepaymentBasis):
            raise InvalidInput(f"repayment_basis {basis!r} is not a basis",
                               errors={"repayment_basis": [f"must be one of {', '.join(RepaymentBasis)}"]})
        _check_terms(basis, changes.get("repayment_years", obligation.repayment_years), years_field="repayment_years")
        before = audit.snapshot(obligation)
        for key, value in changes.items():
            setattr(obligation, key, value)
        session.flush()
        kept.refresh(session, [obligation.id])
        audit.record(session, actor=actor, action="update-obligation", target_type="obligations",
                     target_reference=reference, before=before, after=audit.snapshot(obligation), reason=reason)
        return obligation


def update_project(
    session: Session, reference: str, changes: Mapping[str, Any], *, actor: Actor, reason: str
) -> Project:
    """Correct a project's name, service, division or whether it repays borrowing (item
    (h)(ii) of the statement); the audit event keeps the old values and why they changed."""
    _require_reason(reason)
    with as_domain_errors(), write_transaction(session):
        project = get_one(session, Project, "reference", reference, what="project")
        _refuse_unknown(changes, PROJECT_UPDATABLE)
        _require(session, Division, "code", changes.get("division_code"), "division_code")
        before = audit.snapshot(project)
        for key, value in changes.items():
            setattr(project, key, value)
        session.flush()
        audit.record(session, actor=actor, action="update-project", target_type="projects",
                     target_reference=reference, before=before, after=audit.snapshot(project), reason=reason)
        return project


def places_by_name(session: Session) -> tuple[list[Authority], list[Division]]:
    """Every planning authority and electoral division, each by name, for a form's lists."""
    return (list(session.scalars(select(Authority).order_by(Authority.name))),
            list(session.scalars(select(Division).order_by(Division.name))))
