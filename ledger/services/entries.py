"""Recording ledger entries and reversals (SPEC §3 rules 2-6).

Each write locks the obligation, loads its whole history, asks the domain rules whether
the history with the new entries still keeps every invariant at every date, and only
then inserts. So a backdated entry or a reversal that would break an earlier date is
refused, and two officers writing to one obligation at once are serialised.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger import clock
from ledger.db import write_transaction
from ledger.domain import headroom, limits, rules
from ledger.domain.agreement_status import refuse_entries_while_proposed
from ledger.domain.entries import UNSAVED_ID, LedgerEntry
from ledger.domain.entry_kinds import (
    AUTO_ALLOCATING,
    INTEREST_KINDS,
    KIND_RULES,
    PROJECT_KINDS,
    RECIPIENT_KINDS,
    join_kinds,
)
from ledger.domain.errors import Conflict, InvalidInput, NotFound, RuleViolated
from ledger.domain.money import ZERO
from ledger.domain.vocab import EntryKind
from ledger.models import Entry, Obligation, Project
from ledger.services import Actor, audit, kept
from ledger.services.constraints import as_domain_errors
from ledger.services.locks import lock_for_money

AUTO_ALLOCATION_REASON = "auto-allocated on spend"
#: Why an entry cannot be posted again under the reference of one that was reversed.
REVERSED_REFERENCE = ("a {kind} with reference {reference!r} was recorded and then reversed: "
                      "record the corrected entry under a new reference")


def auto_allocation_reference(reference: str) -> str:
    """The reference of the allocation recorded with a spend or transfer that needs one."""
    return f"{reference}/auto-allocation"


def audit_key(kind: str, reference: str) -> str:
    """How the audit log names an entry (its target_reference)."""
    return f"{kind}:{reference}"


#: The longest reference an entry may be given (API and imports). What is built from it must
#: still fit the String(255) columns: its auto-allocation's reversal, and the audit key of that.
REFERENCE_MAX_LENGTH = limits.LINE - max(
    len(audit_key(kind, rules.reversal_reference(auto_allocation_reference("")))) for kind in EntryKind
)


@dataclass(frozen=True, slots=True, kw_only=True)
class EntryRequest:
    """A new entry as a client asks for it."""

    kind: EntryKind
    obligation_reference: str
    amount: Decimal
    occurred_on: date
    reason: str
    reference: str | None = None
    project_reference: str | None = None
    recipient: str | None = None
    interest: Decimal | None = None
    #: An opening balance's original date of receipt, where known (SPEC 8.3).
    original_received_on: date | None = None


def _shape_errors(request: EntryRequest) -> dict[str, list[str]]:
    """Field errors that need no database: which kinds take a project, recipient, interest."""
    errors: dict[str, list[str]] = {}
    if request.amount <= ZERO:
        errors["amount"] = ["must be greater than zero"]
    if request.kind in PROJECT_KINDS and not request.project_reference:
        errors["project_reference"] = [f"a {request.kind} must name a project"]
    if request.kind not in PROJECT_KINDS and request.project_reference:
        errors["project_reference"] = [f"a {request.kind} does not name a project"]
    if request.kind in RECIPIENT_KINDS and not request.recipient:
        errors["recipient"] = [f"a {request.kind} must name its recipient"]
    if request.kind not in RECIPIENT_KINDS and request.recipient:
        errors["recipient"] = [f"only a {join_kinds(RECIPIENT_KINDS)} has a recipient"]
    if request.interest is not None:
        if request.kind not in INTEREST_KINDS:
            errors["interest"] = [f"only a {join_kinds(INTEREST_KINDS)} includes interest"]
        elif request.interest > request.amount:
            errors["interest"] = ["cannot exceed the amount"]
    if request.original_received_on is not None:
        if request.kind is not EntryKind.OPENING_BALANCE:
            errors["original_received_on"] = [f"only an {EntryKind.OPENING_BALANCE} has an original date of receipt"]
        elif request.original_received_on > request.occurred_on:
            # Money held at the cut-over date was received by then.
            errors["original_received_on"] = ["must not be after the opening balance's date"]
    if not request.reason.strip():
        errors["reason"] = ["must not be empty"]
    return errors


def history(session: Session, obligation_id: int) -> list[LedgerEntry]:
    """Every entry of one obligation, reversals included, as domain records."""
    # Plain columns on the session's own connection: it sees this transaction's writes, and
    # skips building ORM objects on every write and every balance read.
    rows = session.connection().execute(
        select(Entry.id, Entry.kind, Entry.amount, Entry.occurred_on, Entry.reference, Project.reference,
               Entry.reverses, Entry.created_at, Entry.original_received_on)
        .outerjoin(Project, Entry.project_id == Project.id)
        .where(Entry.obligation_id == obligation_id)
        .order_by(Entry.id)
    )
    return [
        LedgerEntry(id=r[0], kind=EntryKind(r[1]), amount=r[2], occurred_on=r[3], reference=r[4], project=r[5],
                    reverses=r[6], created_at=r[7], original_received_on=r[8])
        for r in rows
    ]


def _obligation(session: Session, reference: str, *, field: str) -> Obligation:
    obligation = session.scalar(select(Obligation).where(Obligation.reference == reference))
    if obligation is None:
        raise InvalidInput(f"{field} {reference!r} does not exist", errors={field: ["does not exist"]})
    return obligation


def _is_reversed(session: Session, entry_id: int) -> bool:
    return session.scalar(select(Entry.id).where(Entry.reverses == entry_id)) is not None


def _same_content(existing: Entry, request: EntryRequest, obligation_id: int, project_id: int | None) -> bool:
    return (
        existing.obligation_id == obligation_id
        and existing.amount == request.amount
        and existing.occurred_on == request.occurred_on
        and existing.project_id == project_id
        and (existing.recipient or None) == (request.recipient or None)
        and (existing.interest or ZERO) == (request.interest or ZERO)
        and existing.original_received_on == request.original_received_on
    )


def _refuse_if_broken(candidate_history: list[LedgerEntry]) -> None:
    violations = rules.invariant_violations(rules.in_force(candidate_history))
    if violations:
        raise RuleViolated(violations=violations)


def _insert(session: Session, entry: Entry, *, actor: Actor, action: str) -> Entry:
    session.add(entry)
    # A constraint refusal (the same reference recorded at once on another obligation) is
    # read by its name (services.constraints, around the transaction).
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=action,
        target_type="entries",
        target_reference=audit_key(entry.kind, entry.reference),
        after=audit.snapshot(entry),
        reason=entry.reason,
    )
    return entry


@dataclass(frozen=True, slots=True, kw_only=True)
class EntryPlan:
    """What recording a request writes, found by the same checks without writing."""

    obligation: Obligation
    project: Project | None
    reference: str
    #: The entry already recorded under the request's kind and reference with the same
    #: content (rule 3): recording the request again writes nothing and returns it.
    existing: Entry | None
    #: Allocated to the project first, from unallocated money (rule 5).
    auto_allocation: Decimal


def _refusals(request: EntryRequest) -> None:
    """Raise what is wrong with the request before the database is asked."""
    errors = _shape_errors(request)
    if request.occurred_on > clock.today() and not KIND_RULES[request.kind].dated_ahead:
        # Money cannot have moved yet, and a balance of today would not show it.
        errors["occurred_on"] = ["must be today or earlier"]
    if errors:
        field = next(iter(errors))
        raise InvalidInput(f"{field}: {errors[field][0]}", errors=errors)


def _plan(session: Session, request: EntryRequest, obligation: Obligation) -> EntryPlan:
    """The checks of record_entry past the request's own shape: raises what refuses it."""
    project = None
    if request.project_reference:
        project = session.scalar(select(Project).where(Project.reference == request.project_reference))
        if project is None:
            raise InvalidInput(
                f"project_reference {request.project_reference!r} does not exist",
                errors={"project_reference": ["does not exist"]},
            )
    project_id = project.id if project else None
    reference = request.reference or f"{request.kind}-{uuid.uuid4().hex[:16]}"
    existing = session.scalar(
        select(Entry).where(Entry.kind == request.kind.value, Entry.reference == reference)
    )
    if existing is not None:
        if not _same_content(existing, request, obligation.id, project_id):
            raise Conflict(
                f"a {request.kind} with reference {reference!r} already exists with different content",
                errors={"reference": ["already used for a different entry"]},
            )
        if _is_reversed(session, existing.id):
            raise Conflict(REVERSED_REFERENCE.format(kind=request.kind, reference=reference),
                           errors={"reference": ["recorded and reversed: use a new reference"]})
        return EntryPlan(obligation=obligation, project=project, reference=reference, existing=existing,
                         auto_allocation=ZERO)

    past = history(session, obligation.id)
    new = LedgerEntry(
        id=UNSAVED_ID,
        kind=request.kind,
        amount=request.amount,
        occurred_on=request.occurred_on,
        reference=reference,
        project=request.project_reference,
        original_received_on=request.original_received_on,
    )
    candidates = [new]
    shortfall = ZERO
    if request.kind in AUTO_ALLOCATING:
        assert request.project_reference is not None
        shortfall = rules.project_shortfall(
            rules.in_force([*past, new]), project=request.project_reference, from_date=request.occurred_on
        )
        if shortfall > ZERO:
            candidates.insert(
                0,
                LedgerEntry(
                    id=UNSAVED_ID - 1,
                    kind=EntryKind.ALLOCATION,
                    amount=shortfall,
                    occurred_on=request.occurred_on,
                    project=request.project_reference,
                ),
            )
    violations = rules.invariant_violations(rules.in_force([*past, *candidates]))
    if violations:
        limit = headroom.amount_limit(rules.in_force(past), kind=request.kind, on=request.occurred_on,
                                      project=request.project_reference)
        # A limit the amount is within would not be why it was refused.
        raise RuleViolated(violations=violations,
                           limit=limit if limit is not None and request.amount > limit.most else None)
    return EntryPlan(obligation=obligation, project=project, reference=reference, existing=None,
                     auto_allocation=shortfall)


def check_entry(session: Session, request: EntryRequest) -> EntryPlan:
    """What record_entry would do with ``request``, refused as it would be, writing nothing:
    for a person to check before they save. Only the write's own checks, under its locks,
    count: another officer may record an entry in between."""
    _refusals(request)
    return _plan(session, request, _obligation(session, request.obligation_reference, field="obligation_reference"))


def record_entry(session: Session, request: EntryRequest, *, actor: Actor) -> tuple[Entry, bool]:
    """Record one entry; returns it and whether it was created.

    Repeating an entry with the same kind, reference and content returns the stored one
    and writes nothing; the same reference with other content is a conflict (rule 3).
    A spend or transfer beyond the project's allocated-unspent money first allocates the
    shortfall from unallocated money, in the same transaction (rule 5). Money cannot move
    after today: only a kind whose rule says ``dated_ahead`` (an allocation, a
    deallocation) may be dated later. A refusal by the invariants says the most the amount
    could have been (RuleViolated.limit).
    """
    _refusals(request)
    with as_domain_errors(), write_transaction(session):
        obligation = _obligation(session, request.obligation_reference, field="obligation_reference")
        refuse_entries_while_proposed(obligation.agreement.status, agreement_reference=obligation.agreement.reference,
                                      obligation_reference=obligation.reference)
        now = lock_for_money(session, obligation_ids=[obligation.id])
        plan = _plan(session, request, obligation)
        if plan.existing is not None:
            return plan.existing, False
        project_id = plan.project.id if plan.project else None
        if plan.auto_allocation > ZERO:
            _insert(
                session,
                Entry(
                    reference=auto_allocation_reference(plan.reference),
                    kind=EntryKind.ALLOCATION.value,
                    obligation_id=obligation.id,
                    amount=plan.auto_allocation,
                    occurred_on=request.occurred_on,
                    project_id=project_id,
                    created_by=actor.email,
                    created_at=now,
                    reason=AUTO_ALLOCATION_REASON,
                ),
                actor=actor,
                action="record-allocation",
            )
        entry = _insert(
            session,
            Entry(
                reference=plan.reference,
                kind=request.kind.value,
                obligation_id=obligation.id,
                amount=request.amount,
                interest=request.interest,
                occurred_on=request.occurred_on,
                project_id=project_id,
                recipient=request.recipient,
                original_received_on=request.original_received_on,
                created_by=actor.email,
                created_at=now,
                reason=request.reason,
            ),
            actor=actor,
            action=f"record-{request.kind}",
        )
        # Once for the entry and any allocation it made first, in this transaction.
        kept.refresh(session, [obligation.id])
        return entry, True


def reverse_entry(session: Session, entry_id: int, *, actor: Actor, reason: str) -> Entry:
    """Cancel an entry with a reversal: same kind, date, amount and project, its own
    timestamp and reason (rule 2). Refused if already reversed, or if the ledger without
    the entry would break an invariant at any date."""
    if not reason.strip():
        raise InvalidInput("reason: must not be empty", errors={"reason": ["must not be empty"]})
    with as_domain_errors(), write_transaction(session):
        original = session.get(Entry, entry_id)
        if original is None:
            raise NotFound(f"no entry {entry_id}")
        now = lock_for_money(session, obligation_ids=[original.obligation_id], entry_ids=[original.id])
        past = history(session, original.obligation_id)
        already = any(e.reverses == original.id for e in past)
        as_domain = next(e for e in past if e.id == original.id)
        refusal = rules.check_reversal(as_domain, already)
        if refusal:
            raise Conflict(refusal, errors={"id": [refusal]})
        reversal = rules.reversal_of(as_domain, id=UNSAVED_ID)
        _refuse_if_broken([*past, reversal])
        paid_invoices = kept.invoices_paid_by(session, original.id)
        inserted = _insert(
            session,
            Entry(
                reference=reversal.reference,
                kind=original.kind,
                obligation_id=original.obligation_id,
                amount=original.amount,
                interest=original.interest,
                occurred_on=original.occurred_on,
                project_id=original.project_id,
                recipient=original.recipient,
                original_received_on=original.original_received_on,
                reverses=original.id,
                created_by=actor.email,
                created_at=now,
                reason=reason,
            ),
            actor=actor,
            action=f"reverse-{original.kind}",
        )
        kept.refresh(session, [original.obligation_id])
        # A reversed receipt pays nothing: the invoices it paid are due again.
        kept.refresh_invoices(session, paid_invoices)
        return inserted


@dataclass(frozen=True, slots=True, kw_only=True)
class ObligationMoney:
    """An obligation's money at the end of a date, as an entry form shows it."""

    on: date
    balances: rules.Balances
    #: Each project the obligation's entries name, by reference.
    projects: list[headroom.ProjectMoney]
    project_names: dict[str, str]


def obligation_money(session: Session, obligation: Obligation, *, on: date) -> ObligationMoney:
    """Money held, allocated and unallocated, and each project's allocated, spent and
    unspent money, of one obligation at the end of ``on`` (SPEC rule 4)."""
    entries = rules.in_force(history(session, obligation.id))
    projects = headroom.project_money(entries, on=on)
    names = dict(session.execute(
        select(Project.reference, Project.name).where(Project.reference.in_([p.project for p in projects]))).all())
    return ObligationMoney(on=on, balances=rules.balances_at(entries, on), projects=projects, project_names=names)


def get_entry(session: Session, entry_id: int) -> Entry:
    entry = session.get(Entry, entry_id)
    if entry is None:
        raise NotFound(f"no entry {entry_id}")
    return entry
