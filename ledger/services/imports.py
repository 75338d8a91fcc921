"""Write an ImportPlan in one transaction (SPEC §5).

Reference data is created where missing (existing records are kept as they are). Entries
go through the same ledger rules as the API, obligation by obligation in date order: an
entry that would break an invariant is refused into the rejects report and the rest are
written. Repeating an import changes nothing: references are idempotency keys.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select, tuple_
from sqlalchemy.orm import Session

from importers.plan import REJECTED, EntryPlan, ImportIssue, ImportPlan, SourceRow, SummaryLine, summarise
from ledger import clock
from ledger.db import refresh_statistics, write_transaction
from ledger.domain import rules
from ledger.domain.entries import UNSAVED_ID, LedgerEntry
from ledger.domain.money import ZERO
from ledger.domain.vocab import PROJECT_KINDS, EntryKind
from ledger.models import Agreement, Authority, Entry, IncomeDue, Obligation, Project
from ledger.services import Actor, audit
from ledger.services.entries import AUTO_ALLOCATION_REASON
from ledger.services.ledger_rows import entries_by_obligation

#: Same-day order when an import replays a history: money arrives before it is used.
KIND_ORDER = {EntryKind.RECEIPT: 0, EntryKind.ALLOCATION: 1, EntryKind.DEALLOCATION: 2, EntryKind.SPEND: 3,
              EntryKind.TRANSFER: 3, EntryKind.REPAYMENT: 4}


@dataclass
class ImportResult:
    label: str
    dry_run: bool
    committed: bool
    summary: list[SummaryLine]
    issues: list[ImportIssue]
    created: dict[str, int] = field(default_factory=dict)

    @property
    def rejected(self) -> list[ImportIssue]:
        return [i for i in self.issues if i.severity == REJECTED]


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
        with write_transaction(session):
            writer.write()
            result = writer.result(dry_run=dry_run, committed=False)
            if dry_run or (strict and result.rejected):
                raise _Abort
            audit.record(session, actor=actor, action="import", target_type="import", target_reference=plan.label,
                         after={"created": result.created, "rejected": len(result.rejected)},
                         reason=f"import of {plan.label}")
            if sum(result.created.values()) > 10_000:
                refresh_statistics(session)
    except _Abort:
        return writer.result(dry_run=dry_run, committed=False)
    return writer.result(dry_run=dry_run, committed=True)


class _Writer:
    def __init__(self, session: Session, plan: ImportPlan, *, actor: Actor,
                 progress: Callable[[int], None] | None) -> None:
        self.session = session
        self.plan = plan
        self.actor = actor
        self.progress = progress or (lambda _: None)
        self.now = clock.now()
        self.issues: list[ImportIssue] = list(plan.issues)
        self.unchanged: set[SourceRow] = set()
        self.created: dict[str, int] = defaultdict(int)

    def result(self, *, dry_run: bool, committed: bool) -> ImportResult:
        rejected = {i.source for i in self.issues if i.severity == REJECTED}
        return ImportResult(label=self.plan.label, dry_run=dry_run, committed=committed,
                            summary=summarise(self.plan.sources, rejected=rejected, unchanged=self.unchanged),
                            issues=self.issues, created=dict(self.created))

    def stamp(self) -> dict[str, Any]:
        return {"created_by": self.actor.email, "created_at": self.now}

    def write(self) -> None:
        s = self.session
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
                         "commuted_sum": o.commuted_sum, "trigger": o.trigger, "repayment_years": o.repayment_years,
                         "repayment_basis": "receipt", "index": "none", "needs_review": o.needs_review} | self.stamp())
        self._bulk(Obligation, rows, "obligations")
        wanted = sorted({e.obligation_reference for e in self.plan.entries} | {d.obligation_reference for d in self.plan.dues})
        obligations = {o.reference: o for chunk in _chunks(wanted) for o in s.scalars(
            select(Obligation).where(Obligation.reference.in_(chunk)))}

        self._dues(obligations)
        self._entries(obligations)

    def _bulk(self, model: type, rows: list[dict[str, Any]], name: str) -> None:
        # Core inserts on the table: column types and defaults apply, without ORM bookkeeping.
        for start in range(0, len(rows), 5000):
            self.session.execute(insert(model.__table__), rows[start:start + 5000])
        if rows:
            self.created[name] = len(rows)

    def _dues(self, obligations: dict[str, Obligation]) -> None:
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

    def _projects(self, obligations: dict[str, Obligation]) -> dict[str, int]:
        """Every project the planned entries need, created in one insert where new. The
        government format names no project, so such entries get one project per obligation.
        Projects an import creates are flagged for review."""
        needed: dict[str, Obligation] = {}
        for e in self.plan.entries:
            if e.kind in PROJECT_KINDS:
                obligation = obligations[e.obligation_reference]
                needed.setdefault(self._project_reference(e, obligation), obligation)
        have = set(self.session.scalars(select(Project.reference)))
        self._bulk(Project, [
            {"reference": reference, "name": reference if reference.rsplit("/", 1)[-1] != "project"
             else f"Not recorded: imported for {obligation.reference}", "service": obligation.service,
             "division_code": None, "repays_borrowing": False, "needs_review": True} | self.stamp()
            for reference, obligation in needed.items() if reference not in have
        ], "projects")
        return dict(self.session.execute(select(Project.reference, Project.id)).all())

    @staticmethod
    def _project_reference(entry: EntryPlan, obligation: Obligation) -> str:
        return entry.project_reference or f"{obligation.reference}/project"

    def _histories(self, obligations: dict[str, Obligation]) -> dict[int, list[LedgerEntry]]:
        """The stored entries of every obligation the import touches, in one query per chunk."""
        found: dict[int, list[LedgerEntry]] = defaultdict(list)
        for chunk in _chunks([o.id for o in obligations.values()]):
            found.update(entries_by_obligation(self.session, obligation_ids=chunk))
        return found

    def _entries(self, obligations: dict[str, Obligation]) -> None:
        s = self.session
        keys = [(e.kind.value, e.reference) for e in self.plan.entries]
        stored: dict[tuple[str, str], Entry] = {}
        for start in range(0, len(keys), 500):
            for entry in s.scalars(select(Entry).where(tuple_(Entry.kind, Entry.reference).in_(keys[start:start + 500]))):
                stored[(entry.kind, entry.reference)] = entry
        projects = self._projects(obligations)
        histories = self._histories(obligations)
        by_obligation: dict[str, list[EntryPlan]] = defaultdict(list)
        for e in self.plan.entries:
            by_obligation[e.obligation_reference].append(e)
        rows: list[dict[str, Any]] = []
        done = 0
        for reference, planned in by_obligation.items():
            obligation = obligations[reference]
            past = histories[obligation.id]
            planned.sort(key=lambda e: (e.occurred_on, KIND_ORDER[e.kind], e.source.line))
            for e in planned:
                done += 1
                if done % 1000 == 0:
                    self.progress(1000)
                twin = stored.get((e.kind.value, e.reference))
                if twin is not None:
                    if twin.obligation_id == obligation.id and twin.amount == e.amount and twin.occurred_on == e.occurred_on:
                        self.unchanged.add(e.source)
                    else:
                        self._reject(e, "reference", f"a {e.kind} with reference {e.reference!r} is already in the "
                                     "ledger with different content")
                    continue
                project = self._project_reference(e, obligation) if e.kind in PROJECT_KINDS else None
                candidate = LedgerEntry(id=UNSAVED_ID - len(rows), kind=e.kind, amount=e.amount,
                                        occurred_on=e.occurred_on, reference=e.reference, project=project)
                candidates = [candidate]
                if e.kind in (EntryKind.SPEND, EntryKind.TRANSFER):
                    assert project is not None
                    shortfall = rules.project_shortfall(rules.in_force([*past, candidate]), project=project,
                                                        from_date=e.occurred_on)
                    if shortfall > ZERO:
                        candidates.insert(0, LedgerEntry(id=UNSAVED_ID - len(rows) - 1, kind=EntryKind.ALLOCATION,
                                                         amount=shortfall, occurred_on=e.occurred_on,
                                                         reference=f"{e.reference}/auto-allocation", project=project))
                violations = rules.invariant_violations(rules.in_force([*past, *candidates]))
                if violations:
                    v = violations[0]
                    self._reject(e, v.field, f"{v.invariant}: {v.message}")
                    continue
                past.extend(candidates)
                for c in candidates:
                    rows.append({
                        "reference": c.reference, "kind": c.kind.value, "obligation_id": obligation.id,
                        "amount": c.amount, "interest": None, "occurred_on": c.occurred_on,
                        "project_id": projects[c.project] if c.project else None,
                        "recipient": e.recipient if c is candidate else None, "reverses": None,
                        "reason": f"imported from {e.source.describe()}" if c is candidate else AUTO_ALLOCATION_REASON,
                    } | self.stamp())
        self.progress(done % 1000)
        self._bulk(Entry, rows, "entries")

    def _reject(self, entry: EntryPlan, field_name: str, reason: str) -> None:
        self.issues.append(ImportIssue(source=entry.source, field=field_name, reason=reason))
