"""What developers owe: index series, instalments and their triggers, site milestones,
invoices and the payments matched to them (SPEC rules 10-11)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cache, lru_cache
from typing import Any

from sqlalchemy import (
    CompoundSelect,
    Connection,
    Select,
    bindparam,
    case,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from ledger import clock
from ledger.db import write_transaction
from ledger.domain import indexation, limits
from ledger.domain.agreement_status import AgreementStatus
from ledger.domain.errors import Conflict, InvalidInput
from ledger.domain.indexation import IndexMissing, IndexPoint, Milestones, TriggerEvent
from ledger.domain.money import ZERO
from ledger.domain.vocab import EntryKind, Index
from ledger.models import (
    Agreement,
    Entry,
    IncomeDue,
    IndexValue,
    Instalment,
    Invoice,
    InvoicePayment,
    KeptInvoiceOutstanding,
    Obligation,
    Occupation,
)
from ledger.services import Actor, audit, kept
from ledger.services.agreement_history import keep_details
from ledger.services.constraints import as_domain_errors, constraint_name
from ledger.services.locks import CHUNK, lock_for_money
from ledger.services.registry import get_one

#: Income due for longer than this is overdue income (SPEC rule 11).
OVERDUE_AFTER_DAYS = 30


def invoice_reference(instalment_reference: str) -> str:
    """The reference of the invoice issued for an instalment."""
    return f"{instalment_reference}/invoice"


#: The longest reference an instalment may be given: its invoice's must fit String(255) too.
INSTALMENT_REFERENCE_MAX_LENGTH = limits.LINE - len(invoice_reference(""))


#: The unique key of an index value: one value per series, period and publication date.
INDEX_VALUE_KEY = "uq_index_values_index_period_published_on"


def add_index_values(session: Session, values: Iterable[Mapping[str, Any]], *, actor: Actor) -> list[IndexValue]:
    """Record published index values. A revision is a new value for the same period with a
    later publication date; the same value again is accepted and changes nothing."""
    rows = []
    with as_domain_errors(), write_transaction(session):
        for n, value in enumerate(values, start=1):
            if value["index"] not in set(Index) or value["index"] == Index.NONE:
                raise InvalidInput(f"row {n}: unknown index {value['index']!r}", errors={"index": ["unknown index"]})
            if value["value"] <= 0:
                raise InvalidInput(f"row {n}: an index value must be positive", errors={"value": ["must be positive"]})
            row, new = _add_index_value(session, value, actor=actor)
            if not new and (row.value != value["value"] or row.provisional != value.get("provisional", False)):
                raise Conflict(f"row {n}: {value['index']} {value['period']} published {value['published_on']} "
                               "is already recorded with another value: a revision needs a later publication date",
                               errors={"published_on": ["already recorded with another value"]})
            rows.append(row)
        if rows:
            audit.record(session, actor=actor, action="add-index-values", target_type="index_values",
                         after={"count": len(rows)})
    return rows


def _add_index_value(session: Session, value: Mapping[str, Any], *, actor: Actor) -> tuple[IndexValue, bool]:
    """The stored value of this series, period and publication date, and whether it is new."""
    same_key = select(IndexValue).where(IndexValue.index == value["index"], IndexValue.period == value["period"],
                                        IndexValue.published_on == value["published_on"])
    existing = session.scalar(same_key)
    if existing is not None:
        return existing, False
    row = IndexValue(index=value["index"], period=value["period"], value=value["value"],
                     published_on=value["published_on"], provisional=bool(value.get("provisional", False)),
                     created_by=actor.email, created_at=clock.now())
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError as error:
        if constraint_name(error) != INDEX_VALUE_KEY:
            raise
        # Another transaction recorded it since the read above: compare with that one, as
        # this request would have a moment later (the same value again is no conflict).
        return session.scalars(same_key).one(), False
    return row, True


def _points(session: Session) -> list[IndexPoint]:
    return [IndexPoint(index=v.index, period=v.period, value=v.value, published_on=v.published_on,
                       provisional=v.provisional) for v in session.scalars(select(IndexValue))]


def add_instalment(session: Session, obligation_reference: str, values: Mapping[str, Any], *, actor: Actor) -> Instalment:
    """An instalment of an obligation: a share or a fixed sum, a trigger, optional indexation."""
    with as_domain_errors(), write_transaction(session):
        obligation = get_one(session, Obligation, "reference", obligation_reference, what="obligation")
        if (values.get("share") is None) == (values.get("fixed_sum") is None):
            raise InvalidInput("give either share or fixed_sum", errors={"share": ["give either share or fixed_sum"]})
        if values.get("share") is not None and obligation.amount is None:
            raise InvalidInput("a share needs an obligation with an amount", errors={"share": ["obligation has no amount"]})
        event = TriggerEvent(values["trigger_event"])
        if event is TriggerEvent.OCCUPATION and not values.get("trigger_dwellings"):
            raise InvalidInput("an occupation trigger needs trigger_dwellings", errors={"trigger_dwellings": ["required"]})
        if event is TriggerEvent.DATE and not values.get("trigger_on"):
            raise InvalidInput("a date trigger needs trigger_on", errors={"trigger_on": ["required"]})
        index = values.get("index") or obligation.index
        if index != Index.NONE and not (values.get("base_date") or obligation.index_base_date):
            raise InvalidInput("an indexed instalment needs a base date", errors={"base_date": ["required"]})
        if session.scalar(select(Instalment).where(Instalment.reference == values["reference"])):
            raise Conflict(f"instalment {values['reference']!r} already exists", errors={"reference": ["already exists"]})
        row = Instalment(
            reference=values["reference"], obligation_id=obligation.id, share=values.get("share"),
            fixed_sum=values.get("fixed_sum"), trigger_event=event.value, trigger_dwellings=values.get("trigger_dwellings"),
            trigger_on=values.get("trigger_on"), index=index, base_date=values.get("base_date") or obligation.index_base_date,
            floor=bool(values.get("floor", False)), created_by=actor.email, created_at=clock.now())
        session.add(row)
        session.flush()
        audit.record(session, actor=actor, action="create-instalment", target_type="instalments",
                     target_reference=row.reference, after=audit.snapshot(row))
        return row


MILESTONES = ("commencement", "occupation", "completion")


def record_milestone(session: Session, agreement_reference: str, *, kind: str, on: date, occupied: int | None = None,
                     actor: Actor) -> list[Invoice]:
    """Record a site milestone and issue the invoices it triggers. Completion also fixes the
    repayment deadlines of receipts that count from completion (they are derived from it)."""
    if kind not in MILESTONES:
        raise InvalidInput(f"kind must be one of {', '.join(MILESTONES)}", errors={"kind": ["unknown milestone"]})
    with as_domain_errors(), write_transaction(session):
        agreement = get_one(session, Agreement, "reference", agreement_reference, what="agreement")
        if agreement.status == AgreementStatus.PROPOSED:
            # Nothing is built under a deed not yet signed, and nothing may be invoiced from it.
            raise InvalidInput(f"agreement {agreement_reference} is proposed: sign it before recording milestones",
                               errors={"kind": ["the agreement is proposed: sign it before recording milestones"]})
        # The agreement (so milestones of one site are checked one after another) and the
        # obligations whose instalments it may trigger, before anything is read or written.
        pending = _uninvoiced_obligations(session, agreement_id=agreement.id)
        now = lock_for_money(session, agreement_ids=[agreement.id], obligation_ids=pending)
        before = audit.snapshot(agreement)
        if kind == "occupation":
            if occupied is None or occupied < 1:
                raise InvalidInput("occupied: the number of dwellings occupied so far", errors={"occupied": ["required"]})
            latest = session.scalar(select(func.max(Occupation.occupied)).where(
                Occupation.agreement_id == agreement.id, Occupation.reported_on <= on))
            if latest is not None and occupied < latest:
                raise InvalidInput(f"occupied: {latest} dwellings were already reported occupied",
                                   errors={"occupied": ["occupations are cumulative"]})
            session.add(Occupation(agreement_id=agreement.id, reported_on=on, occupied=occupied,
                                   created_by=actor.email, created_at=now))
        else:
            # A completion date moves deadlines: a statement as known before keeps the old one.
            keep_details(session, agreement, changed_at=now, actor=actor, reason=f"{kind} recorded")
            setattr(agreement, f"{kind}_on", on)
        session.flush()
        if kind == "completion":
            kept.refresh_agreement(session, agreement.id)
        audit.record(session, actor=actor, action=f"record-{kind}", target_type="agreements",
                     target_reference=agreement.reference, before=before,
                     after=audit.snapshot(agreement) | ({"occupied": occupied} if occupied else {}))
        return _issue(session, obligation_ids=pending, today=max(on, clock.today()), actor=actor)


def milestones_of(session: Session, agreement: Agreement) -> Milestones:
    occupations = tuple((row.reported_on, row.occupied) for row in session.execute(
        select(Occupation.reported_on, Occupation.occupied).where(Occupation.agreement_id == agreement.id)
        .order_by(Occupation.reported_on)))
    return Milestones(commencement_on=agreement.commencement_on, occupations=occupations,
                      completion_on=agreement.completion_on)


@dataclass(frozen=True, slots=True, kw_only=True)
class Waiting:
    """An instalment whose trigger is met but whose figure cannot be worked out yet."""

    instalment: str
    reason: str


def issue_invoices(session: Session, *, today: date, actor: Actor) -> tuple[list[Invoice], list[Waiting]]:
    """Issue an invoice for every instalment whose trigger is met by ``today`` and has none;
    returns the new invoices and the instalments still waiting for an index value."""
    waiting: list[Waiting] = []
    with as_domain_errors(), write_transaction(session):
        invoices = issue_due(session, today=today, actor=actor, waiting=waiting)
    return invoices, waiting


def issue_due(session: Session, *, today: date, actor: Actor, waiting: list[Waiting] | None = None) -> list[Invoice]:
    """Issue what is due inside the caller's write transaction (issue_invoices', the demo
    generator's), locking the obligations of instalments not yet invoiced first."""
    pending = _uninvoiced_obligations(session)
    lock_for_money(session, obligation_ids=pending)
    return _issue(session, obligation_ids=pending, today=today, actor=actor, waiting=waiting)


_NOT_INVOICED = ~select(Invoice.id).where(Invoice.instalment_id == Instalment.id).exists()


def _uninvoiced_obligations(session: Session, *, agreement_id: int | None = None) -> set[int]:
    """Obligations with an instalment not yet invoiced: the ones an issue run must lock."""
    query = select(Instalment.obligation_id).distinct().where(_NOT_INVOICED)
    if agreement_id is not None:
        query = query.join(Obligation, Instalment.obligation_id == Obligation.id).where(
            Obligation.agreement_id == agreement_id)
    return set(session.scalars(query))


def _issue(session: Session, *, obligation_ids: set[int], today: date, actor: Actor,
           waiting: list[Waiting] | None = None) -> list[Invoice]:
    """Invoice the due instalments of these obligations, which the caller has locked: whether
    an instalment has an invoice yet is read only now, so two runs never both issue one. An
    instalment added to another obligation since the caller looked waits for the next run."""
    query = (select(Instalment, Obligation, Agreement)
             .join(Obligation, Instalment.obligation_id == Obligation.id)
             .join(Agreement, Obligation.agreement_id == Agreement.id)
             .where(_NOT_INVOICED).order_by(Instalment.id)
             .execution_options(populate_existing=True))
    points = _points(session)
    issued = []
    ids = sorted(obligation_ids)
    for start in range(0, len(ids), CHUNK):
        for instalment, obligation, agreement in session.execute(
                query.where(Instalment.obligation_id.in_(ids[start:start + CHUNK]))).all():
            invoice = _invoice(session, instalment, obligation, agreement, points, today=today, actor=actor,
                               waiting=waiting)
            if invoice is not None:
                issued.append(invoice)
    return issued


def _invoice(session: Session, instalment: Instalment, obligation: Obligation, agreement: Agreement,
             points: list[IndexPoint], *, today: date, actor: Actor, waiting: list[Waiting] | None) -> Invoice | None:
    due = indexation.trigger_date(TriggerEvent(instalment.trigger_event), milestones_of(session, agreement),
                                  dwellings=instalment.trigger_dwellings, fixed_on=instalment.trigger_on)
    if due is None or due > today:
        return None
    base = indexation.instalment_base(obligation_amount=obligation.amount, share=instalment.share,
                                      fixed_sum=instalment.fixed_sum)
    base_point = trigger_point = None
    if instalment.index != Index.NONE:
        try:
            assert instalment.base_date is not None
            base_point = indexation.value_for(points, index=instalment.index, on=instalment.base_date, known_on=today)
            trigger_point = indexation.value_for(points, index=instalment.index, on=due, known_on=today)
        except IndexMissing as missing:
            if waiting is not None:
                waiting.append(Waiting(instalment=instalment.reference, reason=str(missing)))
            return None
    worked = indexation.indexed_amount(base, base=base_point, trigger=trigger_point, floor=instalment.floor)
    invoice = Invoice(
        reference=invoice_reference(instalment.reference), instalment_id=instalment.id, due_on=due, issued_on=today,
        base_amount=base, amount=worked.amount, index=instalment.index,
        base_period=base_point.period if base_point else None, base_value=base_point.value if base_point else None,
        base_published_on=base_point.published_on if base_point else None,
        trigger_period=trigger_point.period if trigger_point else None,
        trigger_value=trigger_point.value if trigger_point else None,
        trigger_published_on=trigger_point.published_on if trigger_point else None,
        floored=worked.floored, explanation=worked.explain(), created_by=actor.email, created_at=clock.now())
    session.add(invoice)
    session.flush()
    kept.refresh_invoices(session, [invoice.id])
    audit.record(session, actor=actor, action="issue-invoice", target_type="invoices",
                 target_reference=invoice.reference, after=audit.snapshot(invoice))
    return invoice


def match_payment(session: Session, invoice_reference: str, *, entry_id: int, amount: Decimal, actor: Actor) -> InvoicePayment:
    """Match part or all of a receipt to the invoice it pays; the rest stays due."""
    with as_domain_errors(), write_transaction(session):
        invoice = get_one(session, Invoice, "reference", invoice_reference, what="invoice")
        receipt = session.get(Entry, entry_id)
        if receipt is None or receipt.kind != EntryKind.RECEIPT or receipt.reverses is not None:
            raise InvalidInput("entry_id must be a receipt", errors={"entry_id": ["not a receipt"]})
        if receipt.obligation_id != invoice.instalment.obligation_id:
            raise InvalidInput("the receipt is for another obligation", errors={"entry_id": ["another obligation"]})
        # Before reading what is matched and paid already: two matches of this receipt, or to
        # this invoice, or a reversal of the receipt, then wait for each other.
        now = lock_for_money(session, obligation_ids=[receipt.obligation_id], invoice_ids=[invoice.id],
                             entry_ids=[receipt.id])
        if session.scalar(select(Entry.id).where(Entry.reverses == receipt.id)):
            raise InvalidInput("the receipt has been reversed", errors={"entry_id": ["reversed"]})
        if amount <= ZERO:
            raise InvalidInput("amount must be greater than zero", errors={"amount": ["must be greater than zero"]})
        used = session.scalar(select(func.sum(InvoicePayment.amount)).where(InvoicePayment.entry_id == receipt.id)) or ZERO
        # A reversed receipt paid nothing: income due reads it so, and so must the limit here.
        reversed_receipts = select(Entry.reverses).where(Entry.reverses.is_not(None))
        paid = session.scalar(select(func.sum(InvoicePayment.amount)).where(
            InvoicePayment.invoice_id == invoice.id, InvoicePayment.entry_id.not_in(reversed_receipts))) or ZERO
        if amount > receipt.amount - used:
            raise InvalidInput(f"only {receipt.amount - used} of the receipt is not yet matched",
                               errors={"amount": ["more than the receipt has left"]})
        if amount > invoice.amount - paid:
            raise InvalidInput(f"only {invoice.amount - paid} of the invoice is outstanding",
                               errors={"amount": ["more than is outstanding"]})
        if session.scalar(select(InvoicePayment).where(InvoicePayment.invoice_id == invoice.id,
                                                       InvoicePayment.entry_id == receipt.id)):
            raise Conflict("this receipt is already matched to this invoice", errors={"entry_id": ["already matched"]})
        payment = InvoicePayment(invoice_id=invoice.id, entry_id=receipt.id, amount=amount, created_by=actor.email,
                                 created_at=now)
        session.add(payment)
        session.flush()
        kept.refresh_invoices(session, [invoice.id])
        audit.record(session, actor=actor, action="match-payment", target_type="invoices",
                     target_reference=invoice.reference, after=audit.snapshot(payment))
        return payment


@dataclass(frozen=True, slots=True, kw_only=True)
class IncomeDueRow:
    """Money due from a developer and not yet received (SPEC rule 11)."""

    agreement_reference: str
    obligation_reference: str
    developer: str | None
    authority_code: str
    division_code: str | None
    reference: str
    trigger: str
    due_on: date
    amount: Decimal | None
    paid: Decimal
    outstanding: Decimal | None
    days_outstanding: int
    overdue: bool
    how_worked_out: str


FIELDS = ("agreement_reference", "obligation_reference", "developer", "authority_code", "division_code", "reference",
          "trigger", "due_on", "amount", "paid", "outstanding", "days_outstanding", "overdue", "how_worked_out")


@dataclass(frozen=True, slots=True, kw_only=True)
class IncomeDueSummary:
    """What the dashboard shows of income due: the first sums due, and how many and how much."""

    first: list[IncomeDueRow]
    count: int
    outstanding: Decimal
    overdue: Decimal


def income_due_summary(session: Session, *, today: date, first: int = 8) -> IncomeDueSummary:
    """The oldest ``first`` sums due, and the count and money of all, summed by the database
    over the invoices kept as outstanding and the imported sums due."""
    count, money, overdue = 0, ZERO, ZERO
    # Only the kinds with a sum due are listed (most ledgers have no imported sums due), each
    # up to the date its ``first`` fall due by, found with its totals. (For a ``first`` below
    # one none are listed, and the date of the first is asked instead.)
    until: dict[bool, date] = {}
    for imported, n, total, late, last in session.connection().execute(_due_totals(max(first, 1)), {
            "today": today, "overdue_before": today - timedelta(days=OVERDUE_AFTER_DAYS)}):
        count, money, overdue = count + n, money + (total or ZERO), overdue + (late or ZERO)
        if n:
            until[bool(imported)] = last or today
    rows = _due_rows(session, today=today, first=first, invoices=False in until, imported=True in until,
                     until=until)
    return IncomeDueSummary(first=rows[:first], count=count, outstanding=money, overdue=overdue)


def _due_columns(*, imported: bool) -> tuple[Any, Any, Any]:
    """The table, date due and money due of invoices kept as outstanding, or of imported sums due."""
    if imported:
        return IncomeDue, IncomeDue.due_on, IncomeDue.amount
    return KeptInvoiceOutstanding, KeptInvoiceOutstanding.due_on, KeptInvoiceOutstanding.outstanding


@lru_cache(maxsize=64)  # ``first`` is a page's last row: a few values
def _due_totals(first: int) -> CompoundSelect:
    """Whether imported, how many sums are due by ``today``, their money, the money of those
    due before ``overdue_before``, and the date the oldest ``first`` fall due by (_due_until):
    a row for invoices and a row for imported sums. Built once a ``first``."""
    def totals(imported: bool) -> Select[Any]:
        table, due_on, amount = _due_columns(imported=imported)
        return (select(literal(imported), func.count(), func.sum(amount),
                       func.sum(case((due_on < bindparam("overdue_before"), amount))),
                       _last_due_on(imported=imported, first=first).correlate(None).scalar_subquery())
                .select_from(table).where(due_on <= bindparam("today")))

    return union_all(totals(False), totals(True))


@lru_cache(maxsize=64)  # ``first`` is a page's last row: a few values
def _last_due_on(*, imported: bool, first: int) -> Select[Any]:
    """The date due by which the oldest ``first`` sums (of one kind) fall due by ``today``."""
    _, due_on, _ = _due_columns(imported=imported)
    return select(due_on).where(due_on <= bindparam("today")).order_by(due_on).offset(first - 1).limit(1)


def _due_until(connection: Connection, *, imported: bool, today: date, first: int | None) -> date:
    """The date due by which the oldest ``first`` sums fall due (all of that date's too: the
    list orders a date's sums by reference, in Python), or ``today`` for them all. Its own
    statement: as a subquery of the list's, PostgreSQL planned for a third of the invoices."""
    if first is None:
        return today
    found = connection.execute(_last_due_on(imported=imported, first=first), {"today": today}).scalar()
    return today if found is None else found


@cache
def _invoices_due() -> Select[Any]:
    """The invoices not yet fully paid due by ``until``, with what has been paid (kept) and
    their instalments, obligations and agreements. The date is written into the statement:
    PostgreSQL plans this five-table join once a date, where as a parameter it planned it
    afresh on every request (0.6 ms)."""
    outstanding = KeptInvoiceOutstanding
    return (select(Invoice.reference, Invoice.due_on, Invoice.amount, outstanding.paid, Invoice.explanation,
                   Instalment.trigger_event, Instalment.trigger_dwellings, Obligation.reference, Agreement.reference,
                   Agreement.developer, Agreement.authority_code, Agreement.division_code)
            .select_from(outstanding)
            .join(Invoice, Invoice.id == outstanding.invoice_id)
            .join(Instalment, Invoice.instalment_id == Instalment.id)
            .join(Obligation, Instalment.obligation_id == Obligation.id)
            .join(Agreement, Obligation.agreement_id == Agreement.id)
            .where(outstanding.due_on <= bindparam("until", literal_execute=True)))


@cache
def _imported_due() -> tuple[Select[Any], Select[Any]]:
    """The ids of the imported sums due by ``until``; and those sums of ``ids`` with their
    obligations and agreements. Ids first: joined the other way round, SQLite (without
    statistics of a table that is usually empty) walks every agreement."""
    return (select(IncomeDue.id).where(IncomeDue.due_on <= bindparam("until")),
            select(IncomeDue.reference, IncomeDue.due_on, IncomeDue.amount, IncomeDue.source, Obligation.reference,
                   Agreement.reference, Agreement.developer, Agreement.authority_code, Agreement.division_code)
            .join(Obligation, IncomeDue.obligation_id == Obligation.id)
            .join(Agreement, Obligation.agreement_id == Agreement.id)
            .where(IncomeDue.id.in_(bindparam("ids", expanding=True))))


def income_due(session: Session, *, today: date, first: int | None = None) -> list[IncomeDueRow]:
    """Invoices not fully paid, and imported `secured` amounts, oldest due first. A payment
    whose receipt was later reversed no longer counts."""
    return _due_rows(session, today=today, first=first, invoices=True, imported=True)


def _due_rows(session: Session, *, today: date, first: int | None, invoices: bool,
              imported: bool, until: Mapping[bool, date] | None = None) -> list[IncomeDueRow]:
    """income_due, of invoices, imported sums due or both: of each kind (imported or not)
    the sums due by ``until`` it, if known, else by the date its ``first`` fall due by."""
    if first is not None and first < 1:
        return []
    rows = []
    connection = session.connection()

    def _until(kind: bool) -> date:
        return until[kind] if until else _due_until(connection, imported=kind, today=today, first=first)

    # The invoices not yet fully paid, kept with what has been paid (services.kept).
    for (reference, due_on, amount, paid, explanation, event, dwellings, obligation, agreement, developer,
         authority, division) in connection.execute(_invoices_due(), {
            "until": _until(False)}).all() if invoices else ():
        outstanding = amount - paid
        trigger = {"occupation": f"occupation of {dwellings} dwellings"}.get(event, event)
        days = (today - due_on).days
        rows.append(IncomeDueRow(
            agreement_reference=agreement, obligation_reference=obligation, developer=developer,
            authority_code=authority, division_code=division, reference=reference, trigger=trigger,
            due_on=due_on, amount=amount, paid=paid, outstanding=outstanding,
            days_outstanding=days, overdue=days > OVERDUE_AFTER_DAYS, how_worked_out=explanation))
    imported_ids, imported_rows = _imported_due()
    ids = list(connection.execute(imported_ids, {
        "until": _until(True)}).scalars()) if imported else []
    for reference, due_on, amount, source, obligation, agreement, developer, authority, division in (
        row for start in range(0, len(ids), 1000)
        for row in connection.execute(imported_rows, {"ids": ids[start:start + 1000]})
    ):
        days = (today - due_on).days
        rows.append(IncomeDueRow(
            agreement_reference=agreement, obligation_reference=obligation, developer=developer,
            authority_code=authority, division_code=division, reference=reference, trigger="secured (imported)",
            due_on=due_on, amount=amount, paid=ZERO, outstanding=amount, days_outstanding=days,
            overdue=days > OVERDUE_AFTER_DAYS, how_worked_out=f"imported from {source}"))
    return sorted(rows, key=lambda r: (r.due_on, r.reference))[:first]


# -- matching receipts and invoices in the web (issue 15 item 3) ---------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class Payment:
    """Part of a receipt matched to an invoice. A payment whose receipt was reversed since
    no longer counts (as income_due reads it)."""

    invoice_reference: str
    entry_id: int
    receipt_reference: str
    received_on: date
    amount: Decimal
    receipt_reversed: bool
    created_by: str
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class InvoiceStanding:
    """An invoice with what has been paid against it and what is still outstanding."""

    invoice: Invoice
    paid: Decimal
    outstanding: Decimal
    payments: list[Payment]


@dataclass(frozen=True, slots=True, kw_only=True)
class ReceiptStanding:
    """A receipt with the invoices it pays and the money of it not yet matched to one."""

    entry: Entry
    reversed_by: int | None
    matched: Decimal
    unmatched: Decimal
    payments: list[Payment]


def _payments(session: Session, *, invoice_ids: Iterable[int] = (), entry_ids: Iterable[int] = ()) -> list[Payment]:
    reversal = aliased(Entry)
    query = (select(InvoicePayment, Invoice.reference, Entry.reference, Entry.occurred_on, reversal.id)
             .join(Invoice, InvoicePayment.invoice_id == Invoice.id)
             .join(Entry, InvoicePayment.entry_id == Entry.id)
             .outerjoin(reversal, reversal.reverses == Entry.id)
             .where(or_(InvoicePayment.invoice_id.in_(list(invoice_ids)), InvoicePayment.entry_id.in_(list(entry_ids))))
             .order_by(InvoicePayment.id))
    return [Payment(invoice_reference=invoice, entry_id=payment.entry_id, receipt_reference=receipt,
                    received_on=received_on, amount=payment.amount, receipt_reversed=reversed_by is not None,
                    created_by=payment.created_by, created_at=payment.created_at)
            for payment, invoice, receipt, received_on, reversed_by in session.execute(query)]


def _invoice_standing(session: Session, invoice: Invoice) -> InvoiceStanding:
    payments = _payments(session, invoice_ids=[invoice.id])
    paid = sum((p.amount for p in payments if not p.receipt_reversed), ZERO)
    return InvoiceStanding(invoice=invoice, paid=paid, outstanding=invoice.amount - paid, payments=payments)


def invoice_standing(session: Session, reference: str) -> InvoiceStanding:
    """An invoice by its reference, with its payments; NotFound if there is none."""
    return _invoice_standing(session, get_one(session, Invoice, "reference", reference, what="invoice"))


def receipt_standing(session: Session, entry: Entry) -> ReceiptStanding:
    """A ledger entry with the invoices it pays. Only a receipt pays invoices: any other
    entry has nothing matched and nothing to match."""
    payments = _payments(session, entry_ids=[entry.id])
    reversed_by = session.scalar(select(Entry.id).where(Entry.reverses == entry.id))
    matched = sum((p.amount for p in payments), ZERO)
    can_pay = entry.kind == EntryKind.RECEIPT and entry.reverses is None and reversed_by is None
    return ReceiptStanding(entry=entry, reversed_by=reversed_by, matched=matched,
                           unmatched=entry.amount - matched if can_pay else ZERO, payments=payments)


def open_invoices(session: Session, obligation_id: int) -> list[InvoiceStanding]:
    """The obligation's invoices with money outstanding, oldest due first."""
    invoices = session.scalars(select(Invoice).join(Instalment, Invoice.instalment_id == Instalment.id)
                               .where(Instalment.obligation_id == obligation_id).order_by(Invoice.due_on, Invoice.id))
    return [s for s in (_invoice_standing(session, i) for i in invoices) if s.outstanding > ZERO]


def unmatched_receipts(session: Session, obligation_id: int) -> list[ReceiptStanding]:
    """The obligation's receipts (not reversed) with money not yet matched to an invoice,
    oldest first."""
    receipts = session.scalars(select(Entry).where(Entry.obligation_id == obligation_id,
                                                   Entry.kind == EntryKind.RECEIPT, Entry.reverses.is_(None))
                               .order_by(Entry.occurred_on, Entry.id))
    return [s for s in (receipt_standing(session, r) for r in receipts) if s.unmatched > ZERO]


def imported_due_obligation(session: Session, reference: str) -> str | None:
    """The obligation of income due imported as ``secured`` (no invoice) under this
    reference, or None."""
    return session.scalar(select(Obligation.reference).join(IncomeDue, IncomeDue.obligation_id == Obligation.id)
                          .where(IncomeDue.reference == reference))
