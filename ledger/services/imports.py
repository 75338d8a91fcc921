"""Write an ImportPlan in one transaction (SPEC §5).

Reference data is created where missing (existing records are kept as they are). Entries
go through the same ledger rules as the API, obligation by obligation in date order: an
entry that would break an invariant is refused into the rejects report and the rest are
written (checked by services.import_replay, which replays a history only when it must).
Where the plan allows it (the government CSV files, SPEC 8.3), rows refused only for want of
money held are kept instead, with one opening balance per contribution of what they lack.
Repeating an import changes nothing: references are idempotency keys.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from functools import cached_property
from typing import Any, NamedTuple

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from importers.plan import (
    REJECTED,
    WARNING,
    EntryPlan,
    ImportIssue,
    ImportPlan,
    ObligationPlan,
    SourceRow,
    SummaryLine,
    default_project_name,
    default_project_reference,
    summarise,
)
from ledger import clock
from ledger.db import refresh_statistics, write_transaction
from ledger.domain import rules
from ledger.domain.entries import UNSAVED_ID, LedgerEntry
from ledger.domain.entry_kinds import AUTO_ALLOCATING, KIND_RULES, PROJECT_KINDS
from ledger.domain.money import ZERO, format_money
from ledger.domain.opening_balances import (
    money_shortfall,
    opening_balance_date,
    opening_balance_reference,
    wants_money,
)
from ledger.domain.releases import release_needed, releases
from ledger.domain.vocab import AgreementType, EntryKind, RepaymentBasis
from ledger.models import Agreement, Authority, Entry, IncomeDue, Obligation, Project
from ledger.services import Actor, audit, import_runs, kept
from ledger.services.constraints import as_domain_errors
from ledger.services.entries import (
    AUTO_ALLOCATION_REASON,
    REFERENCE_MAX_LENGTH,
    REVERSED_REFERENCE,
    auto_allocation_reference,
)
from ledger.services.import_replay import History
from ledger.services.ledger_rows import entries_by_obligation
from ledger.services.locks import lock_for_money

OPENING_BALANCE_REASON = "opening balance brought in by an import: outflows exceed the recorded receipts"
AUTO_DEALLOCATION_REASON = "deallocated on repayment: a repayment draws on unallocated money (rule 6)"
#: The most projects one imported repayment releases allocated money from.
MOST_RELEASES = 3
#: Unsaved ids a planned row's check takes: its own, and those of what it needs first.
IDS_A_ROW = 1 + MOST_RELEASES


def auto_deallocation_reference(reference: str, n: int = 1) -> str:
    """The reference of the n-th deallocation an imported repayment needs first. It fits
    where an automatic allocation's does: `deallocation` is shorter than the longest kind by
    more than this is longer than `/auto-allocation` (entries.REFERENCE_MAX_LENGTH)."""
    return f"{reference}/auto-deallocation" + (f"-{n}" if n > 1 else "")


@dataclass(frozen=True, slots=True, kw_only=True)
class OpeningBalance:
    """An opening balance an import brought in (SPEC 8.3)."""

    reference: str
    obligation_reference: str
    amount: Decimal
    occurred_on: date


@dataclass
class ImportResult:
    label: str
    dry_run: bool
    committed: bool
    summary: list[SummaryLine]
    issues: list[ImportIssue]
    created: dict[str, int] = field(default_factory=dict)
    opening_balances: list[OpeningBalance] = field(default_factory=list)

    @property
    def rejected(self) -> list[ImportIssue]:
        return [i for i in self.issues if i.severity == REJECTED]

    @property
    def opening_balance_money(self) -> Decimal:
        return sum((b.amount for b in self.opening_balances), ZERO)


def _chunks(values: list[Any], size: int = 5000) -> list[list[Any]]:
    """Bind parameters in slices: PostgreSQL takes at most 65,535 in one statement."""
    return [values[start:start + size] for start in range(0, len(values), size)]


class _Abort(Exception):
    """Roll back a dry run or a strict import that refused rows."""


def apply_import(
    session: Session, plan: ImportPlan, *, actor: Actor, dry_run: bool = False, strict: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Write the plan; with ``dry_run`` or (``strict`` and any rejected row) write nothing."""
    writer = _Writer(session, plan, actor=actor, progress=progress)
    try:
        with as_domain_errors(), write_transaction(session):
            writer.write()
            result = writer.result(dry_run=dry_run, committed=False)
            if dry_run or (strict and result.rejected):
                raise _Abort
            audit.record(session, actor=actor, action="import", target_type="import", target_reference=plan.label,
                         after={"created": result.created, "rejected": len(result.rejected)},
                         reason=f"import of {plan.label}")
            import_runs.record(session, plan, result, actor=actor)
            if sum(result.created.values()) > 10_000:
                refresh_statistics(session)
    except _Abort:
        return result
    # Committing changes nothing the result reports: it is not summed up a second time.
    return replace(result, committed=True)


class _TermsSource:
    """What an obligation's terms are taken from when its file gives none: its agreement's
    type and authority, and each authority's default terms (read once, when first asked)."""

    def __init__(self, *, session: Session) -> None:
        self.session = session

    @cached_property
    def agreements(self) -> dict[str, tuple[str, str]]:
        return {r: (t, a) for r, t, a in self.session.execute(
            select(Agreement.reference, Agreement.type, Agreement.authority_code))}

    @cached_property
    def defaults(self) -> dict[str, tuple[str, int | None]]:
        return {c: (b, y) for c, b, y in self.session.execute(
            select(Authority.code, Authority.default_repayment_basis, Authority.default_repayment_years))}


class _Obligation(NamedTuple):
    """What the writer needs of a stored obligation."""

    id: int
    reference: str
    service: str


@dataclass
class _Checked:
    """One obligation's planned entries once checked: kept (each with the automatic
    allocation it needs first), refused, or already in the ledger."""

    #: Allocations recorded earlier in this import, by other obligations' rows (not copied:
    #: an import of many obligations would copy a growing set for each).
    allocated_before: set[str]
    #: Allocations this obligation's kept rows record.
    allocated: set[str] = field(default_factory=set)
    kept: list[tuple[EntryPlan, list[LedgerEntry]]] = field(default_factory=list)
    #: (entry, field, reason, kind) of each refused one.
    refused: list[tuple[EntryPlan, str, str, str]] = field(default_factory=list)
    #: (entry, field, reason, kind) of each warning about a kept one.
    warned: list[tuple[EntryPlan, str, str, str]] = field(default_factory=list)
    unchanged: list[SourceRow] = field(default_factory=list)
    #: What each row refused for want of money lacked, while the opening balance is sized.
    top_ups: list[LedgerEntry] = field(default_factory=list)
    first_needing: EntryPlan | None = None

    def refuse(self, entry: EntryPlan, field_name: str, reason: str, kind: str) -> None:
        self.refused.append((entry, field_name, reason, kind))

    def allocates(self, reference: str) -> bool:
        """Whether this import already records an allocation under ``reference``."""
        return reference in self.allocated or reference in self.allocated_before

    @property
    def opening(self) -> LedgerEntry | None:
        """The one opening balance the rows need: all they lacked, from the first that lacked it."""
        if not self.top_ups:
            return None
        first = self.top_ups[0]
        return replace(first, id=UNSAVED_ID, amount=sum((t.amount for t in self.top_ups), ZERO))


class _Writer:
    def __init__(self, session: Session, plan: ImportPlan, *, actor: Actor,
                 progress: Callable[[int], None] | None) -> None:
        self.session = session
        self.plan = plan
        self.actor = actor
        self.progress = progress or (lambda _: None)
        self.now = clock.now()  # until write() takes the ledger's commit lock
        self.today = clock.today()
        #: (kind, reference) of every planned entry: an automatic deallocation takes none of them.
        self.planned_keys = {(e.kind, e.reference) for e in plan.entries}
        self.issues: list[ImportIssue] = list(plan.issues)
        self.unchanged: set[SourceRow] = set()
        self.created: dict[str, int] = defaultdict(int)
        self.created_obligations: set[str] = set()
        self.reversed: set[tuple[EntryKind, str]] = set()
        self.opening_balances: list[OpeningBalance] = []

    def result(self, *, dry_run: bool, committed: bool) -> ImportResult:
        rejected = {i.source for i in self.issues if i.severity == REJECTED}
        return ImportResult(label=self.plan.label, dry_run=dry_run, committed=committed,
                            summary=summarise(self.plan.sources, rejected=rejected, unchanged=self.unchanged),
                            issues=self.issues, created=dict(self.created),
                            opening_balances=list(self.opening_balances))

    def stamp(self) -> dict[str, Any]:
        return {"created_by": self.actor.email, "created_at": self.now}

    def write(self) -> None:
        s = self.session
        # Every read below, the idempotency and history reads included, comes after the locks.
        self.now = self._lock_obligations()
        existing = set(s.scalars(select(Authority.code)))
        new = [{"code": code, "name": name, "kind": "district"}
               for code, name in self.plan.authorities.items() if code not in existing]
        if new:
            s.execute(insert(Authority), new)
            self.created["authorities"] = len(new)

        have = set(s.scalars(select(Agreement.reference)))
        rows = []
        for a in self.plan.agreements:
            if a.reference in have:
                if a.source:
                    self.unchanged.add(a.source)
                continue
            have.add(a.reference)
            rows.append({"reference": a.reference, "type": a.type, "authority_code": a.authority_code,
                         "signed_on": a.signed_on, "planning_application": a.planning_application,
                         "site_name": a.site_name, "document_url": a.document_url, "notes": a.notes,
                         "superseded_on": a.superseded_on, "needs_review": a.needs_review} | self.stamp())
        self._bulk(Agreement, rows, "agreements")
        agreement_ids = dict(s.execute(select(Agreement.reference, Agreement.id)).all())

        have = set(s.scalars(select(Obligation.reference)))
        terms = _TermsSource(session=s)
        rows = []
        for o in self.plan.obligations:
            if o.reference in have:
                if o.source:
                    self.unchanged.add(o.source)
                continue
            have.add(o.reference)
            rows.append({"reference": o.reference, "agreement_id": agreement_ids[o.agreement_reference],
                         "purpose": o.purpose, "service": o.service, "amount": o.amount, "units": o.units,
                         "unit_kind": o.unit_kind, "school_category": o.school_category,
                         "commuted_sum": o.commuted_sum, "trigger": o.trigger, "index": "none",
                         "needs_review": o.needs_review} | self._terms(o, terms) | self.stamp())
        self._bulk(Obligation, rows, "obligations")
        # An obligation created just now has no entries yet: no history to read for it.
        self.created_obligations = {row["reference"] for row in rows}
        self.unchanged.update(source for source, obligation in self.plan.noted
                              if obligation not in self.created_obligations)
        wanted = sorted({e.obligation_reference for e in self.plan.entries} | {d.obligation_reference for d in self.plan.dues})
        obligations = {row.reference: _Obligation(*row) for chunk in _chunks(wanted) for row in s.execute(
            select(Obligation.id, Obligation.reference, Obligation.service).where(Obligation.reference.in_(chunk)))}

        self._dues(obligations)
        self._entries(obligations)
        created = [i for chunk in _chunks(sorted(self.created_obligations)) for i in s.scalars(
            select(Obligation.id).where(Obligation.reference.in_(chunk)))]
        kept.refresh(s, [*(o.id for o in obligations.values()), *created])

    def _terms(self, obligation: ObligationPlan, source: _TermsSource) -> dict[str, Any]:
        """A new obligation's repayment terms, never invented (SPEC 8.2): CIL has no time
        limit; otherwise the file's terms, or its authority's default, or unknown (flagged for
        review, with a warning)."""
        agreement_type, authority = source.agreements[obligation.agreement_reference]
        basis, years = obligation.repayment_basis, obligation.repayment_years
        if agreement_type == AgreementType.COMMUNITY_INFRASTRUCTURE_LEVY:
            if basis not in (None, RepaymentBasis.NONE) and obligation.source:
                self.issues.append(ImportIssue(source=obligation.source, field="repayment_years", severity=WARNING,
                                               reason="CIL is not repaid: its terms are taken as none",
                                               kind="cil-terms"))
            return {"repayment_basis": RepaymentBasis.NONE.value, "repayment_years": None}
        if basis is None:
            basis, years = source.defaults.get(authority, (RepaymentBasis.UNKNOWN.value, None))
            if basis == RepaymentBasis.UNKNOWN:
                if obligation.source:
                    self.issues.append(ImportIssue(
                        source=obligation.source, field="repayment_years", severity=WARNING, kind="unknown-terms",
                        reason=f"no repayment terms in the file and no default set for authority {authority}: "
                               "unknown until read from the deed (flagged for review)"))
                return {"repayment_basis": basis, "repayment_years": None, "needs_review": True}
        return {"repayment_basis": basis, "repayment_years": years}

    def _bulk(self, model: type, rows: list[dict[str, Any]], name: str) -> None:
        # Core inserts on the table: column types and defaults apply, without ORM bookkeeping.
        for start in range(0, len(rows), 5000):
            self.session.execute(insert(model.__table__), rows[start:start + 5000])
        if rows:
            self.created[name] = len(rows)

    def _dues(self, obligations: dict[str, _Obligation]) -> None:
        have = {reference for chunk in _chunks([d.reference for d in self.plan.dues])
                for reference in self.session.scalars(select(IncomeDue.reference).where(IncomeDue.reference.in_(chunk)))}
        rows = []
        for due in self.plan.dues:
            if due.reference in have:
                self.unchanged.add(due.source)
                continue
            have.add(due.reference)
            rows.append({"reference": due.reference, "obligation_id": obligations[due.obligation_reference].id,
                         "amount": due.amount, "due_on": due.due_on, "source": due.source.describe()} | self.stamp())
        self._bulk(IncomeDue, rows, "income_due")

    def _projects(self, obligations: dict[str, _Obligation]) -> dict[str, int]:
        """Every project the planned entries need, created in one insert where new. The
        government format names no project, so such entries get one project per obligation.
        Projects an import creates are flagged for review."""
        needed: dict[str, _Obligation] = {}
        for e in self.plan.entries:
            if e.kind in PROJECT_KINDS:
                obligation = obligations[e.obligation_reference]
                needed.setdefault(self._project_reference(e, obligation), obligation)
        have = set(self.session.scalars(select(Project.reference)))
        self._bulk(Project, [
            {"reference": reference, "name": default_project_name(obligation.reference)
             if reference == default_project_reference(obligation.reference) else reference, "service": obligation.service,
             "division_code": None, "repays_borrowing": False, "needs_review": True} | self.stamp()
            for reference, obligation in needed.items() if reference not in have
        ], "projects")
        return dict(self.session.execute(select(Project.reference, Project.id)).all())

    @staticmethod
    def _project_reference(entry: EntryPlan, obligation: _Obligation) -> str:
        return entry.project_reference or default_project_reference(obligation.reference)

    def _lock_obligations(self) -> datetime:
        """Row-lock every stored obligation the import writes to, in id order, as an API write
        locks its obligation (SQLite is write-locked whole already): a write to one of them
        waits for the import, then checks against its entries. Then the ledger's commit lock:
        returns the moment the import's rows are stamped with."""
        wanted = sorted({e.obligation_reference for e in self.plan.entries})
        ids = [i for chunk in _chunks(wanted) for i in self.session.scalars(
            select(Obligation.id).where(Obligation.reference.in_(chunk)))]
        return lock_for_money(self.session, obligation_ids=ids)

    def _histories(self, obligations: dict[str, _Obligation]) -> dict[int, list[LedgerEntry]]:
        """The stored entries of every obligation the import touches, in one query per chunk."""
        found: dict[int, list[LedgerEntry]] = defaultdict(list)
        stored = sorted(o.id for o in obligations.values() if o.reference not in self.created_obligations)
        for chunk in _chunks(stored):
            found.update(entries_by_obligation(self.session, obligation_ids=chunk))
        return found

    def _stored_entries(self) -> dict[tuple[EntryKind, str], tuple[int, Decimal, date]]:
        """(obligation id, amount, date) of each stored entry under a planned kind and reference:
        references are the idempotency keys. One query per kind and chunk, on the unique index.
        Also notes which of them were reversed (self.reversed)."""
        references: dict[EntryKind, list[str]] = defaultdict(list)
        if self.plan.opening_balances:
            # One opening balance a contribution: an import that finds it stored adds no other.
            references[EntryKind.OPENING_BALANCE] = sorted(
                {opening_balance_reference(e.obligation_reference) for e in self.plan.entries})
        for e in self.plan.entries:
            references[e.kind].append(e.reference)
            if e.kind in AUTO_ALLOCATING:
                # The automatic allocation it may need takes a reference of its own.
                references[EntryKind.ALLOCATION].append(auto_allocation_reference(e.reference))
            if e.kind is EntryKind.REPAYMENT:  # and the deallocations a repayment may need
                references[EntryKind.DEALLOCATION].extend(
                    auto_deallocation_reference(e.reference, n) for n in range(1, MOST_RELEASES + 1))
        stored: dict[tuple[EntryKind, str], tuple[int, Decimal, date]] = {}
        ids: dict[int, tuple[EntryKind, str]] = {}
        for kind, wanted in references.items():
            for chunk in _chunks(wanted):
                for entry_id, reference, obligation_id, amount, occurred_on in self.session.execute(
                        select(Entry.id, Entry.reference, Entry.obligation_id, Entry.amount, Entry.occurred_on)
                        .where(Entry.kind == kind.value, Entry.reference.in_(chunk))):
                    stored[(kind, reference)] = (obligation_id, amount, occurred_on)
                    ids[entry_id] = (kind, reference)
        self.reversed = {ids[i] for chunk in _chunks(list(ids)) for i in self.session.scalars(
            select(Entry.reverses).where(Entry.reverses.in_(chunk)))}
        return stored

    def _entries(self, obligations: dict[str, _Obligation]) -> None:
        stored = self._stored_entries()
        projects = self._projects(obligations)
        histories = self._histories(obligations)
        by_obligation: dict[str, list[EntryPlan]] = defaultdict(list)
        for e in self.plan.entries:
            by_obligation[e.obligation_reference].append(e)
        stamp = self.stamp()
        rows: list[dict[str, Any]] = []
        allocated_here: set[str] = set()
        pending = 0
        for reference, planned in by_obligation.items():
            obligation = obligations[reference]
            # Same-day order: money arrives before it is used (each kind's import_order).
            planned.sort(key=lambda e: (e.occurred_on, KIND_RULES[e.kind].import_order, e.source.line))
            opening_reference = opening_balance_reference(obligation.reference)
            may_open = (self.plan.opening_balances and (EntryKind.OPENING_BALANCE, opening_reference) not in stored
                        and len(opening_reference) <= REFERENCE_MAX_LENGTH)
            checked = self._check(obligation, planned, histories[obligation.id], stored, allocated_here,
                                  opening_reference=opening_reference if may_open else None)
            if checked.opening is not None:
                # Checked again with the one balance in place from the start, so every row is
                # refused or kept as it will be stored (its size was found by adding to it).
                opening = checked.opening
                checked = self._check(obligation, planned, [*histories[obligation.id], opening], stored,
                                      allocated_here, opening_reference=None)
                rows.append(self._opening_row(obligation, opening, checked.first_needing or planned[0]) | stamp)
            allocated_here |= checked.allocated
            self.unchanged.update(checked.unchanged)
            for e, field_name, reason, kind in checked.refused:
                self._reject(e, field_name, reason, kind)
            for e, field_name, reason, kind in checked.warned:
                self.issues.append(ImportIssue(source=e.source, field=field_name, reason=reason, severity=WARNING,
                                               kind=kind))
            for e, candidates in checked.kept:
                for c in candidates:
                    # Interest and reverses are left out, so NULL: an import records neither
                    # (fewer columns also make the 100,000-row insert cheaper).
                    rows.append({
                        "reference": c.reference, "kind": c.kind.value, "obligation_id": obligation.id,
                        "amount": c.amount, "occurred_on": c.occurred_on,
                        "project_id": projects[c.project] if c.project else None,
                        "recipient": e.recipient if c is candidates[-1] else None,
                        "reason": f"imported from {e.source.describe()}" if c is candidates[-1]
                        else AUTO_DEALLOCATION_REASON if c.kind is EntryKind.DEALLOCATION else AUTO_ALLOCATION_REASON,
                        **stamp,
                    })
            pending += len(planned)
            if pending >= 1000:
                self.progress(pending)
                pending = 0
        self.progress(pending)
        self._bulk(Entry, rows, "entries")

    def _check(
        self, obligation: _Obligation, planned: list[EntryPlan], stored_history: list[LedgerEntry],
        stored: dict[tuple[EntryKind, str], tuple[int, Decimal, date]], allocated_before: set[str], *,
        opening_reference: str | None,
    ) -> _Checked:
        """Check one obligation's planned entries, in date order, against its history. With
        ``opening_reference``, a row refused for want of money held is taken with the money
        it lacks added to one opening balance (the result's ``opening``): the sum of what each
        such row lacked, so the deepest shortfall of the history, dated the day before the
        first of them. Writes nothing: the caller keeps the result."""
        checked = _Checked(allocated_before=allocated_before)
        history = History(list(stored_history))
        for e in planned:
            twin = stored.get((e.kind, e.reference))
            if twin is not None:
                if (e.kind, e.reference) in self.reversed:
                    checked.refuse(e, "reference", REVERSED_REFERENCE.format(kind=e.kind, reference=e.reference),
                                   "reversed-reference")
                elif twin == (obligation.id, e.amount, e.occurred_on):
                    checked.unchanged.append(e.source)
                else:
                    checked.refuse(e, "reference", f"a {e.kind} with reference {e.reference!r} is already in the "
                                   "ledger with different content", "reference-taken")
                continue
            if e.occurred_on > self.today:
                checked.refuse(e, "occurred_on", f"dated {e.occurred_on.isoformat()}, after the day of the import "
                               f"({self.today.isoformat()}): money cannot have moved yet", "future-date")
                continue
            if e.kind is EntryKind.ALLOCATION and checked.allocates(e.reference):
                checked.refuse(e, "reference", f"an allocation with reference {e.reference!r} was recorded "
                               "earlier in this import (for a spend or transfer that needed one)", "reference-taken")
                continue
            project = self._project_reference(e, obligation) if e.kind in PROJECT_KINDS else None
            # Room below each candidate's id for what it needs first (an allocation, deallocations).
            candidate = LedgerEntry(id=UNSAVED_ID - 1 - IDS_A_ROW * len(checked.kept), kind=e.kind, amount=e.amount,
                                    occurred_on=e.occurred_on, reference=e.reference, project=project)
            candidates = [candidate]
            if e.kind in AUTO_ALLOCATING:
                assert project is not None
                shortfall = history.project_shortfall(candidate)
                if shortfall > ZERO:
                    automatic = auto_allocation_reference(e.reference)
                    if (EntryKind.ALLOCATION, automatic) in stored or checked.allocates(automatic):
                        checked.refuse(e, "reference", f"the allocation this {e.kind} needs would be recorded as "
                                       f"{automatic!r}, which is already taken; give the {e.kind} another reference",
                                       "reference-taken")
                        continue
                    candidates.insert(0, LedgerEntry(id=candidate.id - 1, kind=EntryKind.ALLOCATION,
                                                     amount=shortfall, occurred_on=e.occurred_on,
                                                     reference=automatic, project=project))
            violation = history.add(candidates)
            if violation and violation.invariant == rules.ALLOCATED_WITHIN_HELD and e.kind is EntryKind.REPAYMENT:
                released = self._releases(candidate, history, stored)
                if released and history.add([*released, candidate]) is None:
                    violation, candidates = None, [*released, candidate]
                    for d in released:
                        checked.warned.append((e, "amount", (
                            f"the repayment draws on unallocated money only (rule 6): {format_money(d.amount)} "
                            f"allocated to project {d.project} handed back first, as deallocation {d.reference}"),
                            "automatic-deallocation"))
            if violation and opening_reference is not None and wants_money(violation):
                # Only money that would otherwise be refused, and only if it is all the row lacks.
                lacking = money_shortfall(rules.in_force([*history.entries, *candidates]), from_date=e.occurred_on)
                top_up = LedgerEntry(id=UNSAVED_ID - IDS_A_ROW * len(planned) - 2 - len(checked.top_ups),
                                     kind=EntryKind.OPENING_BALANCE, amount=lacking,
                                     occurred_on=opening_balance_date(e.occurred_on), reference=opening_reference)
                if lacking > ZERO and history.add([*candidates, top_up]) is None:
                    violation = None
                    checked.top_ups.append(top_up)
                    checked.first_needing = checked.first_needing or e
            if violation:
                checked.refuse(e, violation.field, f"{violation.invariant}: {violation.message}", violation.invariant)
                continue
            checked.allocated.update(c.reference for c in candidates if c.kind is EntryKind.ALLOCATION)
            checked.kept.append((e, candidates))
        return checked

    def _releases(self, repayment: LedgerEntry, history: History,
                  stored: dict[tuple[EntryKind, str], tuple[int, Decimal, date]]) -> list[LedgerEntry]:
        """The deallocations that let ``repayment`` draw on unallocated money (rule 6): the
        allocated money it lacks, handed back on its date, from the projects holding most;
        none when the projects hold too little or a reference they would take is taken."""
        entries = rules.in_force([*history.entries, repayment])
        needed = release_needed(entries, from_date=repayment.occurred_on)
        found = releases(entries, on=repayment.occurred_on, needed=needed) if needed > ZERO else []
        if len(found) > MOST_RELEASES:
            return []
        made = []
        for n, (project, amount) in enumerate(found, start=1):
            key = (EntryKind.DEALLOCATION, auto_deallocation_reference(repayment.reference, n))
            if key in stored or key in self.planned_keys:
                return []
            made.append(LedgerEntry(id=repayment.id - n, kind=EntryKind.DEALLOCATION, amount=amount,
                                    occurred_on=repayment.occurred_on, reference=key[1], project=project))
        return made

    def _opening_row(self, obligation: _Obligation, opening: LedgerEntry, first_needing: EntryPlan) -> dict[str, Any]:
        """The opening balance's row, noted in the result and flagged on the row that first needs it."""
        self.opening_balances.append(OpeningBalance(reference=opening.reference, obligation_reference=obligation.reference,
                                                    amount=opening.amount, occurred_on=opening.occurred_on))
        self.issues.append(ImportIssue(
            source=first_needing.source, field="amount", severity=WARNING, kind="opening-balance",
            reason=(f"the contribution's allocations, spend, transfers and repayments exceed its recorded receipts: "
                    f"opening balance {opening.reference} of {format_money(opening.amount)} brought in on "
                    f"{opening.occurred_on.isoformat()}, needs review (--no-opening-balances refuses such rows)")))
        return {"reference": opening.reference, "kind": opening.kind.value, "obligation_id": obligation.id,
                "amount": opening.amount, "occurred_on": opening.occurred_on, "project_id": None, "recipient": None,
                "reason": f"{OPENING_BALANCE_REASON}: first needed by {first_needing.source.describe()}"}

    def _reject(self, entry: EntryPlan, field_name: str, reason: str, kind: str) -> None:
        self.issues.append(ImportIssue(source=entry.source, field=field_name, reason=reason, kind=kind))
