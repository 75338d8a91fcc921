"""Reconciling with the finance ledger (issue 19): importing finance exports, officers'
decisions on matches, balance assertions, and the reconciliation as of a date. The rules
are ledger.domain.reconcile's; this module reads and writes the tables they work on."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from importers.finance import FinancePlan
from importers.plan import ImportIssue
from ledger import clock
from ledger.db import read_snapshot, write_transaction
from ledger.domain import reconcile as rules
from ledger.domain.entry_kinds import KIND_RULES, NONE, IfsRole
from ledger.domain.errors import Conflict, InvalidInput, NotFound
from ledger.domain.money import ZERO, format_money
from ledger.domain.reconcile import (
    Action,
    AssertionScope,
    AssertionState,
    Decision,
    FinanceItem,
    LedgerItem,
    Matching,
    Target,
    TargetKind,
)
from ledger.models import (
    AssertionResolution,
    BalanceAssertion,
    Entry,
    FinanceCostCode,
    FinanceImport,
    FinanceTransaction,
    Obligation,
    Project,
    ReconciliationDecision,
)
from ledger.services import Actor, audit
from ledger.services.ledger_rows import in_force_condition

#: Kinds that move money between the council's accounts and others: receipts in; spend,
#: transfers and repayments out. Opening balances are money already held, not a movement.
MONEY_KINDS = frozenset(rule.kind for rule in KIND_RULES.values() if rule.held != NONE and IfsRole.OPENING not in rule.ifs)
#: Serialises decisions on PostgreSQL (SQLite's write transactions are serialised whole), so
#: two officers matching the same transaction or entry at once cannot both succeed.
DECISION_LOCK = 106_019
DEFAULT_TOLERANCE_DAYS, DEFAULT_REMITTANCE_PARTS = 7, 4
REASON_LIMIT = 2000
INSERT_CHUNK = 5000
#: One transaction is shown as it stands in the reconciliation of the year before it: the
#: ledger entries of that year are the ones it may be matched to by hand.
TRANSACTION_WINDOW = timedelta(days=366)


# -- import ------------------------------------------------------------------------------------
@dataclass(kw_only=True)
class FinanceImportResult:
    rows: int
    added: int
    unchanged: int
    out_of_scope: int
    balances: int
    issues: list[ImportIssue]
    dry_run: bool
    run: FinanceImport | None = None
    added_money: Decimal = ZERO

    @property
    def rejected(self) -> list[ImportIssue]:
        return [i for i in self.issues if i.severity == "rejected"]


def import_finance(session: Session, plan: FinancePlan, *, actor: Actor, source: str,
                   dry_run: bool = False) -> FinanceImportResult:
    """Store a finance export's rows in one transaction. Rows whose key is stored already
    add nothing (a re-import is idempotent); a row whose transaction id was imported with a
    different date, amount or cost code is rejected. The mapping's cost codes are recorded
    where they change, and its closing balances become balance assertions."""
    mapping = plan.mapping
    issues = list(plan.issues)
    read = len(plan.rows) + len(plan.balances) + len(plan.issues)
    with write_transaction(session):
        _lock_decisions(session)
        keys = [row.key for row in plan.rows]
        stored: dict[str, FinanceTransaction] = {}
        for start in range(0, len(keys), 1000):
            stored.update((t.key, t) for t in session.scalars(
                select(FinanceTransaction).where(FinanceTransaction.key.in_(keys[start:start + 1000]))))
        new, unchanged = [], 0
        for row in plan.rows:
            old = stored.get(row.key)
            if old is None:
                new.append(row)
                stored[row.key] = FinanceTransaction(key=row.key, posted_on=row.posted_on, amount=row.amount,
                                                     cost_code=row.cost_code)
            elif (old.posted_on, old.amount, old.cost_code) == (row.posted_on, row.amount, row.cost_code):
                unchanged += 1
            else:
                plan.reject(row.line, row.reference or "", row.amount, "transaction_id",
                            f"transaction {row.transaction_id!r} was imported before with another date, amount or "
                            f"cost code ({old.posted_on}, {format_money(old.amount)}, {old.cost_code})")
                issues.append(plan.issues[-1])
        result = FinanceImportResult(
            rows=read, added=len(new), unchanged=unchanged,
            out_of_scope=sum(1 for row in new if not row.in_scope), balances=len(plan.balances), issues=issues,
            dry_run=dry_run, added_money=sum((row.amount for row in new if row.in_scope), ZERO))
        if dry_run:
            session.rollback()
            return result
        now = clock.now()
        run = FinanceImport(at=now, actor=actor.email, source=source, mapping=mapping.name, rows=result.rows,
                            added=result.added, unchanged=unchanged, out_of_scope=result.out_of_scope,
                            rejected=len(result.rejected), balances=len(plan.balances),
                            tolerance_days=mapping.tolerance_days, remittance_parts=mapping.remittance_parts)
        session.add(run)
        session.flush()
        in_force = cost_codes(session)
        session.add_all(FinanceCostCode(code=code, target_kind=target.kind, target=target.code, import_id=run.id,
                                        created_at=now)
                        for code, target in sorted(mapping.cost_codes.items()) if in_force.get(code) != target)
        # Core inserts in chunks: a year's export is tens of thousands of rows.
        values = [{"key": row.key, "import_id": run.id, "line": row.line, "posted_on": row.posted_on,
                   "amount": row.amount, "cost_code": row.cost_code, "reference": row.reference,
                   "description": row.description, "transaction_id": row.transaction_id, "in_scope": row.in_scope,
                   "created_at": now} for row in new]
        for start in range(0, len(values), INSERT_CHUNK):
            session.execute(insert(FinanceTransaction), values[start:start + INSERT_CHUNK])
        for balance in plan.balances:
            _add_assertion(session, scope=AssertionScope.COST_CODE, code=balance.cost_code, held_on=balance.held_on,
                           amount=balance.amount, actor=actor, at=now, import_id=run.id,
                           reason=f"closing balance in {plan.source} line {balance.line}")
        audit.record(session, actor=actor, action="import-finance", target_type="finance-import",
                     target_reference=source, after={"rows": result.rows, "added": result.added,
                                                     "unchanged": unchanged, "rejected": len(result.rejected),
                                                     "balances": len(plan.balances)})
        result.run = run
    return result


def cost_codes(session: Session) -> dict[str, Target]:
    """Each cost code's target as the latest mapping imported says."""
    latest = select(func.max(FinanceCostCode.id)).group_by(FinanceCostCode.code)
    return {row.code: Target(TargetKind(row.target_kind), row.target)
            for row in session.scalars(select(FinanceCostCode).where(FinanceCostCode.id.in_(latest)))}


def matching_settings(session: Session) -> tuple[int, int]:
    """Tolerance in days and largest remittance, as the latest import's mapping set them."""
    latest = session.scalars(select(FinanceImport).order_by(FinanceImport.id.desc()).limit(1)).first()
    if latest is None:
        return DEFAULT_TOLERANCE_DAYS, DEFAULT_REMITTANCE_PARTS
    return latest.tolerance_days, latest.remittance_parts


def list_imports(session: Session) -> list[FinanceImport]:
    return list(session.scalars(select(FinanceImport).order_by(FinanceImport.id.desc())))


# -- decisions ---------------------------------------------------------------------------------
def _lock_decisions(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": DECISION_LOCK})


def decisions_in_force(session: Session) -> dict[int, ReconciliationDecision]:
    """The latest decision of every transaction that has one."""
    latest = select(func.max(ReconciliationDecision.id)).group_by(ReconciliationDecision.transaction_id)
    return {d.transaction_id: d for d in session.scalars(
        select(ReconciliationDecision).where(ReconciliationDecision.id.in_(latest)))}


def _reason(reason: str | None) -> str:
    text_ = (reason or "").strip()
    if not text_:
        raise InvalidInput("a reason is required", errors={"reason": ["say why: it is kept with the decision"]})
    if len(text_) > REASON_LIMIT:
        raise InvalidInput("the reason is too long", errors={"reason": [f"at most {REASON_LIMIT} characters"]})
    return text_


def decide(session: Session, transaction_id: int, *, action: Action | str, actor: Actor, reason: str | None,
           entry_ids: Iterable[int] = ()) -> ReconciliationDecision:
    """Record an officer's decision on a finance transaction.

    ``confirm`` (the match proposed) and ``match`` (entries chosen by hand) need entries that
    move money in the transaction's direction, are neither reversed nor reversals, add up to
    its amount exactly, and are not matched to another transaction by a decision in force.
    A transaction matched by a decision must be rejected before it is matched again;
    ``reject`` leaves it finance-only. Checked and written under one lock, so of two officers
    deciding on the same transaction or entry at once, one wins and the other is refused."""
    try:
        action = Action(action)
    except ValueError:
        raise InvalidInput(f"{action!r} is not a decision", errors={"action": ["confirm, reject or match"]}) from None
    reason = _reason(reason)
    ids = sorted(set(entry_ids))
    if action is Action.REJECT and ids:
        raise InvalidInput("a rejection names no entries", errors={"entry_ids": ["leave empty to reject"]})
    if action is not Action.REJECT and not ids:
        raise InvalidInput("name the ledger entries it matches", errors={"entry_ids": ["at least one entry"]})
    with write_transaction(session):
        _lock_decisions(session)
        transaction = session.get(FinanceTransaction, transaction_id)
        if transaction is None:
            raise NotFound(f"no finance transaction {transaction_id}")
        if not transaction.in_scope:
            raise InvalidInput(f"finance transaction {transaction_id} is on cost code {transaction.cost_code}, which "
                               "holds no section 106 money", errors={"transaction": ["out of scope"]})
        in_force = decisions_in_force(session)
        current = in_force.get(transaction_id)
        if action is Action.REJECT:
            if current is not None and current.action == Action.REJECT:
                raise Conflict(f"finance transaction {transaction_id} was rejected already by {current.created_by}")
        else:
            if current is not None and current.action != Action.REJECT:
                raise Conflict(f"finance transaction {transaction_id} is matched already ({current.action} by "
                               f"{current.created_by}): reject it first to match it otherwise")
            _check_entries(session, transaction, ids, in_force)
        decision = ReconciliationDecision(transaction_id=transaction_id, action=action, entry_ids=ids,
                                          created_by=actor.email, created_at=clock.now(), reason=reason)
        session.add(decision)
        audit.record(session, actor=actor, action=f"reconcile-{action}", target_type="finance-transaction",
                     target_reference=str(transaction_id), reason=reason,
                     before={"action": current.action, "entry_ids": current.entry_ids} if current else None,
                     after={"action": action.value, "entry_ids": ids})
    return decision


def _check_entries(session: Session, transaction: FinanceTransaction, ids: list[int],
                   in_force: dict[int, ReconciliationDecision]) -> None:
    found = {e.id: e for e in session.scalars(select(Entry).where(Entry.id.in_(ids)))}
    missing = [i for i in ids if i not in found]
    if missing:
        raise InvalidInput(f"no ledger entry {', '.join(map(str, missing))}",
                           errors={"entry_ids": [f"no entry {i}" for i in missing]})
    reversed_ids = set(session.scalars(select(Entry.reverses).where(Entry.reverses.in_(ids))))
    for other, decision in in_force.items():
        if other != transaction.id and decision.action != Action.REJECT:
            taken = sorted(set(decision.entry_ids) & set(ids))
            if taken:
                raise Conflict(f"entry {taken[0]} is matched already to finance transaction {other} "
                               f"({decision.action} by {decision.created_by})")
    problems = []
    for entry_id in ids:
        entry = found[entry_id]
        if entry.kind not in MONEY_KINDS:
            problems.append(f"entry {entry_id} is {entry.kind}: it moves no money")
        elif entry.reverses is not None or entry_id in reversed_ids:
            problems.append(f"entry {entry_id} is reversed or a reversal")
        elif (KIND_RULES[entry.kind].held > 0) != (transaction.amount > 0):
            problems.append(f"entry {entry_id} moves money the other way")
    if problems:
        raise InvalidInput(problems[0], errors={"entry_ids": problems})
    total = sum((found[i].amount * KIND_RULES[found[i].kind].held for i in ids), ZERO)
    if total != transaction.amount:
        raise InvalidInput(f"the entries make {format_money(total)}, the transaction {format_money(transaction.amount)}",
                           errors={"entry_ids": ["must add up to the transaction's amount exactly"]})


def get_transaction(session: Session, transaction_id: int) -> FinanceTransaction:
    found = session.get(FinanceTransaction, transaction_id)
    if found is None:
        raise NotFound(f"no finance transaction {transaction_id}")
    return found


def decisions_of(session: Session, transaction_id: int) -> list[ReconciliationDecision]:
    """Every decision on a transaction, oldest first."""
    return list(session.scalars(select(ReconciliationDecision).where(
        ReconciliationDecision.transaction_id == transaction_id).order_by(ReconciliationDecision.id)))


# -- balance assertions ------------------------------------------------------------------------
def _add_assertion(session: Session, *, scope: AssertionScope, code: str, held_on: date, amount: Decimal,
                   actor: Actor, at: datetime, reason: str, import_id: int | None = None) -> BalanceAssertion:
    existing = session.scalars(select(BalanceAssertion).where(
        BalanceAssertion.scope == scope, BalanceAssertion.code == code, BalanceAssertion.held_on == held_on,
        BalanceAssertion.amount == amount)).first()
    if existing is not None:
        return existing
    assertion = BalanceAssertion(scope=scope, code=code, held_on=held_on, amount=amount, import_id=import_id,
                                 created_by=actor.email, created_at=at, reason=reason)
    session.add(assertion)
    session.flush()
    audit.record(session, actor=actor, action="assert-balance", target_type="balance-assertion",
                 target_reference=str(assertion.id), reason=reason,
                 after={"scope": scope, "code": code, "held_on": held_on, "amount": amount})
    return assertion


def record_assertion(session: Session, *, scope: AssertionScope | str, code: str, held_on: date, amount: Decimal,
                     actor: Actor, reason: str | None) -> BalanceAssertion:
    """Record that a cost code, obligation or service held ``amount`` at the end of
    ``held_on`` as the finance system shows it. The same assertion again returns the first."""
    try:
        scope = AssertionScope(scope)
    except ValueError:
        raise InvalidInput(f"{scope!r} is not a scope",
                           errors={"scope": ["cost-code, obligation or service"]}) from None
    reason = _reason(reason)
    with write_transaction(session):
        _known_code(session, scope, code)
        return _add_assertion(session, scope=scope, code=code, held_on=held_on, amount=amount, actor=actor,
                              at=clock.now(), reason=reason)


def _known_code(session: Session, scope: AssertionScope, code: str) -> None:
    if scope is AssertionScope.COST_CODE:
        known = code in cost_codes(session)
    elif scope is AssertionScope.OBLIGATION:
        known = session.scalar(select(Obligation.id).where(Obligation.reference == code)) is not None
    else:
        known = session.scalar(select(Obligation.id).where(Obligation.service == code).limit(1)) is not None
    if not known:
        raise InvalidInput(f"no {scope.value.replace('-', ' ')} {code!r}",
                           errors={"code": [f"no {scope.value.replace('-', ' ')} of this code in the ledger"
                                            + (" or any finance mapping imported" if scope is AssertionScope.COST_CODE
                                               else "")]})


def resolve_assertion(session: Session, assertion_id: int, *, note: str | None, actor: Actor) -> AssertionResolution:
    """Settle a failing assertion with a note saying why the figures differ."""
    note = _reason(note)
    with write_transaction(session):
        assertion = session.get(BalanceAssertion, assertion_id)
        if assertion is None:
            raise NotFound(f"no balance assertion {assertion_id}")
        resolution = AssertionResolution(assertion_id=assertion_id, note=note, created_by=actor.email,
                                         created_at=clock.now())
        session.add(resolution)
        audit.record(session, actor=actor, action="resolve-assertion", target_type="balance-assertion",
                     target_reference=str(assertion_id), reason=note)
    return resolution


def ledger_figure(session: Session, scope: AssertionScope, code: str, on: date,
                  codes: dict[str, Target] | None = None) -> Decimal:
    """The ledger's own figure for an assertion: money held (H) at the end of ``on`` by an
    obligation, a service's obligations, or the obligation or service a cost code holds; for a
    cost code holding a project's money, the project's allocated-unspent money (U_p)."""
    if scope is AssertionScope.COST_CODE:
        target = (codes if codes is not None else cost_codes(session)).get(code)
        if target is None:
            return ZERO
        scope, code = {TargetKind.OBLIGATION: AssertionScope.OBLIGATION, TargetKind.SERVICE: AssertionScope.SERVICE,
                       TargetKind.PROJECT: None}[target.kind], target.code  # type: ignore[assignment]
        if scope is None:
            condition = Entry.project_id.in_(select(Project.id).where(Project.reference == code))
            return _sum_effects(session, condition, on, lambda kind: KIND_RULES[kind].allocated)
    column = Obligation.reference if scope is AssertionScope.OBLIGATION else Obligation.service
    condition = Entry.obligation_id.in_(select(Obligation.id).where(column == code))
    return _sum_effects(session, condition, on, lambda kind: KIND_RULES[kind].held)


def _sum_effects(session: Session, condition: Any, on: date, effect: Any) -> Decimal:
    total = ZERO
    for kind, amount in session.execute(
            select(Entry.kind, func.sum(Entry.amount)).where(condition, Entry.occurred_on <= on,
                                                              in_force_condition(None)).group_by(Entry.kind)):
        total += amount * effect(kind)
    return total


@dataclass(frozen=True, slots=True, kw_only=True)
class AssertionCheck:
    assertion: BalanceAssertion
    ledger: Decimal
    state: AssertionState
    resolutions: list[AssertionResolution]

    @property
    def difference(self) -> Decimal:
        return self.assertion.amount - self.ledger


def assertion_checks(session: Session, *, as_of: date | None = None, failing_only: bool = False) -> list[AssertionCheck]:
    """Every assertion (dated on or before ``as_of``, if given) checked against the ledger,
    newest date first."""
    query = select(BalanceAssertion).order_by(BalanceAssertion.held_on.desc(), BalanceAssertion.id.desc())
    if as_of is not None:
        query = query.where(BalanceAssertion.held_on <= as_of)
    resolutions: dict[int, list[AssertionResolution]] = defaultdict(list)
    for resolution in session.scalars(select(AssertionResolution).order_by(AssertionResolution.id)):
        resolutions[resolution.assertion_id].append(resolution)
    codes = cost_codes(session)
    checks = []
    for assertion in session.scalars(query):
        figure = ledger_figure(session, AssertionScope(assertion.scope), assertion.code, assertion.held_on, codes)
        state = rules.assertion_state(assertion.amount, figure, resolved=bool(resolutions[assertion.id]))
        if not failing_only or state is AssertionState.FAILS:
            checks.append(AssertionCheck(assertion=assertion, ledger=figure, state=state,
                                         resolutions=resolutions[assertion.id]))
    return checks


# -- the reconciliation ------------------------------------------------------------------------
@dataclass(kw_only=True)
class Reconciliation:
    """Finance against the ledger over ``since`` to ``as_of``: every in-scope transaction
    and money-moving entry of that period, matched or not, and the differences."""

    as_of: date
    since: date
    tolerance_days: int
    codes: dict[str, Target]
    #: Rows of TRANSACTION_COLUMNS, by id.
    transactions: dict[int, Any]
    entries: dict[int, LedgerItem]
    matching: Matching
    by_cost_code: list[rules.Difference]
    by_obligation: list[rules.Difference]
    assertions: list[AssertionCheck]
    out_of_scope: int
    decisions: dict[int, ReconciliationDecision] = field(default_factory=dict)

    @property
    def imported(self) -> bool:
        return bool(self.transactions)

    def money_of(self, ids: Iterable[int]) -> Decimal:
        return sum((self.transactions[i].amount for i in ids), ZERO)

    @property
    def ledger_only_money(self) -> Decimal:
        return sum((self.entries[i].amount for i in self.matching.ledger_only), ZERO)

    @property
    def misposted(self) -> list[rules.Match]:
        return [m for m in self.matching.matches if m.misposted]

    @property
    def finance_total(self) -> Decimal:
        return self.money_of(self.transactions)

    @property
    def ledger_total(self) -> Decimal:
        return sum((e.amount for e in self.entries.values()), ZERO)

    def summary(self) -> list[tuple[str, int | None, Decimal | None]]:
        """(line, count, money) as the report's Summary and the web page show them."""
        matches = self.matching.matches
        states = Counter(a.state for a in self.assertions)
        return [
            ("Finance transactions on section 106 cost codes", len(self.transactions), self.finance_total),
            ("Ledger entries that move money", len(self.entries), self.ledger_total),
            ("Matched", len(matches), self.money_of(m.transaction_id for m in matches)),
            ("  of which proposed and not yet confirmed", sum(1 for m in matches if m.proposed),
             self.money_of(m.transaction_id for m in matches if m.proposed)),
            ("  of which on another cost code (misposted)", len(self.misposted),
             self.money_of(m.transaction_id for m in self.misposted)),
            ("Reversed within finance (pairs)", len(self.matching.reversals), None),
            ("In finance only", len(self.matching.finance_only), self.money_of(self.matching.finance_only)),
            ("In the ledger only", len(self.matching.ledger_only), self.ledger_only_money),
            ("Difference, finance less ledger", None, self.finance_total - self.ledger_total),
            ("Balance assertions holding", states[AssertionState.HOLDS], None),
            ("Balance assertions failing", states[AssertionState.FAILS], None),
            ("Balance assertions resolved by a note", states[AssertionState.RESOLVED], None),
            ("Rows on other cost codes (out of scope)", self.out_of_scope, None),
        ]


TRANSACTION_COLUMNS = (FinanceTransaction.id, FinanceTransaction.transaction_id, FinanceTransaction.posted_on,
                       FinanceTransaction.amount, FinanceTransaction.cost_code, FinanceTransaction.reference,
                       FinanceTransaction.description)


def _ledger_items(session: Session, *, since: date, as_of: date, also: Iterable[int]) -> dict[int, LedgerItem]:
    reversal_ids = select(Entry.reverses).where(Entry.reverses.is_not(None), Entry.occurred_on <= as_of)
    money = Entry.kind.in_([str(k) for k in MONEY_KINDS]) & Entry.reverses.is_(None) & Entry.id.not_in(reversal_ids)
    in_period = (Entry.occurred_on >= since) & (Entry.occurred_on <= as_of)
    extra = sorted(set(also))
    where = money & (in_period | Entry.id.in_(extra)) if extra else money & in_period
    # Columns, not ORM objects: a county's year is tens of thousands of entries.
    rows = session.execute(
        select(Entry.id, Entry.kind, Entry.reference, Entry.occurred_on, Entry.amount, Obligation.reference,
               Obligation.service, Project.reference)
        .join(Obligation, Entry.obligation_id == Obligation.id)
        .outerjoin(Project, Entry.project_id == Project.id).where(where))
    return {id_: LedgerItem(id=id_, kind=kind, reference=reference, occurred_on=occurred_on,
                            amount=amount * KIND_RULES[kind].held, obligation=obligation, service=service,
                            project=project)
            for id_, kind, reference, occurred_on, amount, obligation, service, project in rows}


def reconciliation(session: Session, *, as_of: date, since: date | None = None) -> Reconciliation:
    """Match the in-scope finance transactions dated up to ``as_of`` (from ``since``, by
    default the first of them) with the ledger's money entries of the same period, and
    work out the differences and the balance assertions."""
    read_snapshot(session)
    codes = cost_codes(session)
    tolerance, parts = matching_settings(session)
    in_scope = FinanceTransaction.in_scope.is_(True) & (FinanceTransaction.posted_on <= as_of)
    if since is None:
        since = session.scalar(select(func.min(FinanceTransaction.posted_on)).where(in_scope)) or as_of
    # Columns, not ORM objects, as for the entries (_ledger_items).
    transactions = {t.id: t for t in session.execute(select(*TRANSACTION_COLUMNS).where(
        in_scope, FinanceTransaction.posted_on >= since))}
    out_of_scope = session.scalar(select(func.count()).select_from(FinanceTransaction).where(
        FinanceTransaction.in_scope.is_(False), FinanceTransaction.posted_on >= since,
        FinanceTransaction.posted_on <= as_of)) or 0
    in_force = {i: d for i, d in decisions_in_force(session).items() if i in transactions}
    # Entries a little before the period may be what its first transactions record (money
    # received on the 31st, posted on the 2nd): they count only if matched.
    early = since - timedelta(days=tolerance)
    entries = _ledger_items(session, since=early, as_of=as_of,
                            also=(i for d in in_force.values() for i in d.entry_ids))
    finance_items = [FinanceItem(id=t.id, posted_on=t.posted_on, amount=t.amount, cost_code=t.cost_code,
                                 reference=t.reference, description=t.description) for t in transactions.values()]
    decisions = [Decision(transaction_id=i, action=Action(d.action),
                          entry_ids=tuple(e for e in d.entry_ids if e in entries)) for i, d in in_force.items()]
    matching = rules.match(finance_items, list(entries.values()), codes=codes, decisions=decisions,
                           tolerance_days=tolerance, max_parts=parts)
    unmatched_early = {i for i in matching.ledger_only if entries[i].occurred_on < since}
    if unmatched_early:
        entries = {i: e for i, e in entries.items() if i not in unmatched_early}
        matching = replace(matching, ledger_only=[i for i in matching.ledger_only if i not in unmatched_early])
    ledger_items = list(entries.values())
    return Reconciliation(
        as_of=as_of, since=since, tolerance_days=tolerance, codes=codes, transactions=transactions, entries=entries,
        matching=matching, by_cost_code=rules.differences_by_cost_code(finance_items, ledger_items, codes),
        by_obligation=rules.differences_by_obligation(finance_items, ledger_items, codes, matching),
        assertions=assertion_checks(session, as_of=as_of), out_of_scope=out_of_scope, decisions=in_force)


def year_end(session: Session, *, start: date, end: date) -> rules.YearEnd:
    """Whether the ledger agrees with the finance ledger over a financial year (for the IFS
    Checks sheet): the year's transactions, what is unmatched and misposted, and failing
    assertions dated in the year."""
    failing = sum(1 for a in assertion_checks(session, as_of=end, failing_only=True) if a.assertion.held_on >= start)
    transactions = session.scalar(select(func.count()).select_from(FinanceTransaction).where(
        FinanceTransaction.in_scope.is_(True), FinanceTransaction.posted_on.between(start, end))) or 0
    if not transactions:  # nothing to match: no need to read the year's entries
        return rules.YearEnd(start=start, end=end, transactions=0, finance=ZERO, ledger=ZERO, finance_only=ZERO,
                             ledger_only=ZERO, unmatched=0, misposted=0, failing_assertions=failing)
    found = reconciliation(session, as_of=end, since=start)
    matching = found.matching
    return rules.YearEnd(
        start=start, end=end, transactions=len(found.transactions), finance=found.finance_total,
        ledger=found.ledger_total, finance_only=found.money_of(matching.finance_only),
        ledger_only=found.ledger_only_money, unmatched=len(matching.finance_only) + len(matching.ledger_only),
        misposted=len(found.misposted), failing_assertions=failing)


def reconciliation_report(session: Session, *, as_of: date, since: date | None = None) -> rules.Report:
    """The reconciliation as plain rows for the workbook and the web page."""
    found = reconciliation(session, as_of=as_of, since=since)
    matching = found.matching

    def finance_part(transaction_id: int) -> dict[str, Any]:
        t = found.transactions[transaction_id]
        decision = found.decisions.get(transaction_id)
        return {"transaction": t.id, "transaction_id": t.transaction_id, "posted_on": t.posted_on,
                "cost_code": t.cost_code, "reference": t.reference, "description": t.description,
                "finance": t.amount, "decided_by": decision.created_by if decision else None,
                "decision_reason": decision.reason if decision else None}

    def ledger_part(entry_ids: Iterable[int]) -> dict[str, Any]:
        items = [found.entries[i] for i in entry_ids if i in found.entries]
        return {"entries": tuple(i.id for i in items), "entry_references": ", ".join(i.reference for i in items),
                "obligations": ", ".join(sorted({i.obligation for i in items})),
                "occurred_on": min((i.occurred_on for i in items), default=None),
                "ledger": sum((i.amount for i in items), ZERO) if items else None}

    matched = [rules.ItemRow(status=rules.Status.PROPOSED if m.proposed else rules.Status.MATCHED, rule=m.rule,
                             misposted=m.misposted, **finance_part(m.transaction_id), **ledger_part(m.entry_ids))
               for m in matching.matches]
    reversed_rows = [rules.ItemRow(status=rules.Status.REVERSED, **finance_part(i))
                     for pair in matching.reversals for i in pair]
    finance_only = [rules.ItemRow(status=rules.Status.FINANCE_ONLY, **finance_part(i)) for i in matching.finance_only]
    ledger_only = [rules.ItemRow(status=rules.Status.LEDGER_ONLY, **ledger_part([i])) for i in matching.ledger_only]
    assertions = [_assertion_row(a) for a in found.assertions]
    by_date = lambda row: (row.posted_on or row.occurred_on or date.min, row.transaction or 0)  # noqa: E731
    return rules.Report(
        as_of=as_of, since=found.since, tolerance_days=found.tolerance_days, imported=found.imported,
        summary=found.summary(), matched=sorted(matched, key=by_date), reversed=reversed_rows,
        finance_only=sorted(finance_only, key=by_date), ledger_only=sorted(ledger_only, key=by_date),
        by_cost_code=found.by_cost_code, by_obligation=found.by_obligation, assertions=assertions, codes=found.codes)


def _assertion_row(check: AssertionCheck) -> rules.AssertionRow:
    a = check.assertion
    return rules.AssertionRow(id=a.id, scope=a.scope, code=a.code, held_on=a.held_on, asserted=a.amount,
                              ledger=check.ledger, state=check.state, recorded_by=a.created_by, reason=a.reason,
                              notes=tuple(r.note for r in check.resolutions))


def assertion_rows(session: Session, *, as_of: date | None = None, failing_only: bool = False) -> list[rules.AssertionRow]:
    """Balance assertions checked against the ledger, as plain rows (newest date first)."""
    return [_assertion_row(c) for c in assertion_checks(session, as_of=as_of, failing_only=failing_only)]
