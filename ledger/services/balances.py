"""Read-side questions of the ledger: an obligation's balance, money at risk, a division's
totals. All take an optional ``as_known_at`` moment (SPEC rule 12)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache, lru_cache
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, bindparam, func, select
from sqlalchemy.orm import Session

from ledger.db import read_snapshot, written
from ledger.domain import rules
from ledger.domain.dates import Deadline, NoDeadline, add_months
from ledger.domain.entries import LedgerEntry
from ledger.domain.entry_kinds import KIND_RULES, TOTALS, held_from, with_totals
from ledger.domain.errors import NotFound
from ledger.domain.money import ZERO
from ledger.domain.rules import Balances, ReceiptPosition
from ledger.domain.vocab import Band
from ledger.models import (
    Agreement,
    Division,
    Entry,
    KeptDeadlineTotal,
    KeptDivisionPosition,
    KeptReceiptPosition,
    Obligation,
    Project,
    Review,
)
from ledger.services import kept, variations
from ledger.services.entries import history
from ledger.services.ledger_rows import (
    ObligationInfo,
    deadline_rule,
    in_force_condition,
)
from ledger.services.positions import entries_of_obligations, obligation_positions
from ledger.services.registry import Filters, get_one
from ledger.speed.shared import Shared

NO_FILTERS = Filters()


def known_at(entries: Iterable[LedgerEntry], as_known_at: datetime | None) -> list[LedgerEntry]:
    return rules.in_force(entries, as_known_at=as_known_at)


@dataclass(frozen=True, slots=True, kw_only=True)
class ObligationBalance:
    obligation: Obligation
    on: date
    balances: Balances
    receipts: list[ReceiptPosition]


def obligation_balance(
    session: Session, reference: str, *, on: date, as_known_at: datetime | None = None
) -> ObligationBalance:
    """Balances and per-receipt positions of one obligation at the end of ``on``."""
    obligation = get_one(session, Obligation, "reference", reference, what="obligation")
    entries = known_at(history(session, obligation.id), as_known_at)
    # Deadlines follow the terms in force on the date asked about (SPEC 8.2).
    terms = variations.terms_on(session, obligation, on=on, known_at=as_known_at)
    deadline_of = deadline_rule(terms, obligation.agreement.completion_on, rules.last_received_on(entries, on=on))
    positions = rules.receipt_positions(entries, on=on, deadline_of=deadline_of)
    if obligation.commitment_stops_clock:
        positions = rules.stop_clocks(entries, positions, on=on, deadline_of=deadline_of)
    return ObligationBalance(
        obligation=obligation, on=on, balances=rules.balances_at(entries, on), receipts=positions
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class AtRiskRow:
    """One receipt with money remaining (SPEC §6 at-risk columns)."""

    agreement_reference: str
    obligation_reference: str
    authority_code: str
    division_code: str | None
    purpose: str
    service: str
    receipt_reference: str
    received_on: date
    deadline: date | None
    remaining: Decimal
    allocated: Decimal
    band: Band
    #: Money of the receipt committed by its deadline where a commitment stops the clock
    #: (SPEC 8.7): not at risk, so not in remaining or allocated, nor in any band's money.
    committed: Decimal = ZERO

    @property
    def unallocated(self) -> Decimal:
        return self.remaining - self.allocated


def deadline_date(deadline: Deadline) -> date | None:
    return None if isinstance(deadline, NoDeadline) else deadline


def at_risk(
    session: Session,
    *,
    as_of: date,
    filters: Filters = NO_FILTERS,
    as_known_at: datetime | None = None,
    red_months: int = 12,
    amber_months: int = 24,
) -> list[AtRiskRow]:
    """Every receipt with money remaining at ``as_of``, banded by its deadline (rule 9),
    sorted by deadline (none last), then agreement and receipt. From the kept receipt
    positions (services.kept); as known at an earlier moment, or at a date long past, from
    obligation totals and receipts (services.positions), not a replay of every entry."""
    read_snapshot(session)
    conditions = tuple(filters.conditions(Obligation))
    worked_out = kept.unsettled(session, as_of) if as_known_at is None else None
    if worked_out is not None:
        rows = _kept_at_risk(session, _kept_at_risk_statement(conditions, worked_out), as_of=as_of,
                             red_months=red_months, amber_months=amber_months)
        # The few obligations the kept positions do not answer for are worked out below.
        conditions = (*conditions, Obligation.id.in_(worked_out))
    else:
        rows = []
    if worked_out == []:
        return sort_at_risk(rows)
    for position in obligation_positions(session, on=as_of, known_at=as_known_at, where=conditions):
        rows.extend(at_risk_rows(position.info, position.receipts, as_of=as_of, red_months=red_months,
                                 amber_months=amber_months))
    return sort_at_risk(rows)


def _kept_at_risk(session: Session, statement: Select[Any], *, as_of: date, red_months: int,
                  amber_months: int, reviewed: set[str] | None = None) -> list[AtRiskRow]:
    """The at-risk rows of the kept receipt positions (services.kept) a statement of
    _kept_at_risk_statement reads; with ``reviewed``, the statement also says whether each
    row's obligation has a review, and those that have are added to it."""
    shared = Shared()
    found = session.connection().execute(statement).all()
    rows = []
    for (agreement, obligation, authority, division, purpose, service, reference, received, deadline, no_deadline,
         remaining, allocated, *has_review) in found:
        if has_review and has_review[0] and reviewed is not None:
            reviewed.add(obligation)
        rows.append(AtRiskRow(
            agreement_reference=shared(agreement), obligation_reference=obligation, authority_code=shared(authority),
            division_code=shared(division), purpose=shared(purpose), service=shared(service),
            receipt_reference=reference, received_on=shared(received), deadline=shared(deadline),
            remaining=remaining, allocated=allocated,
            band=rules.band_for(deadline or NoDeadline(no_deadline), as_of=as_of, red_months=red_months,
                                amber_months=amber_months)))
    return rows


def _kept_at_risk_statement(conditions: tuple[ColumnElement[bool], ...], leave_out: list[int],
                            order_by: tuple[ColumnElement[Any], ...] = (), limit: int | None = None,
                            *, reviewed: bool = False) -> Select[Any]:
    """_kept_at_risk's statement (and whether each row's obligation has a review, if
    ``reviewed``). The limit is written into it: with a LIMIT parameter PostgreSQL planned a
    page afresh on every request."""
    has_review = (select(Review.id).where(Review.obligation_id == Obligation.id).exists(),) if reviewed else ()
    return (kept_receipts(conditions, leave_out).add_columns(
        Agreement.reference, Obligation.reference, Agreement.authority_code, Agreement.division_code,
        Obligation.purpose, Obligation.service, Entry.reference, Entry.occurred_on, KeptReceiptPosition.deadline,
        KeptReceiptPosition.no_deadline, KeptReceiptPosition.remaining, KeptReceiptPosition.allocated, *has_review)
        .order_by(*order_by).limit(None if limit is None else written(limit)))


#: A page of money at risk in its own order: soonest deadline first, then none (sort_at_risk).
_DATED_ORDER = (KeptReceiptPosition.deadline, Agreement.reference, Entry.reference)
_UNDATED_ORDER = (Agreement.reference, Entry.reference)


def _page_statement(conditions: tuple[ColumnElement[bool], ...], leave_out: list[int], *, dated: bool,
                    limit: int) -> Select[Any]:
    """The first ``limit`` kept at-risk rows with a deadline (or with none) in the list's
    order. Built once a page where nothing narrows the list: that is the list opened most,
    and building its statement cost the worker as much as the database's answer."""
    if not conditions and not leave_out:
        return _unfiltered_page(dated, limit)
    return _built_page(conditions, leave_out, dated, limit)


@lru_cache(maxsize=32)
def _unfiltered_page(dated: bool, limit: int) -> Select[Any]:
    return _built_page((), [], dated, limit)


def _built_page(conditions: tuple[ColumnElement[bool], ...], leave_out: list[int], dated: bool,
                limit: int) -> Select[Any]:
    has_deadline = KeptReceiptPosition.deadline.is_not(None) if dated else KeptReceiptPosition.deadline.is_(None)
    return _kept_at_risk_statement((*conditions, has_deadline), leave_out, _DATED_ORDER if dated else _UNDATED_ORDER,
                                   limit, reviewed=True)


def kept_receipts(conditions: tuple[ColumnElement[bool], ...], leave_out: list[int]) -> Select[Any]:
    """The kept receipt positions with their receipt, obligation and agreement joined, meeting
    ``conditions`` (on those), but for the obligations ``leave_out``; no columns yet."""
    receipt = KeptReceiptPosition
    return (select().select_from(receipt)
            .join(Entry, Entry.id == receipt.entry_id)
            .join(Obligation, Obligation.id == receipt.obligation_id)
            .join(Agreement, Agreement.id == Obligation.agreement_id)
            .where(*conditions, *((receipt.obligation_id.not_in(leave_out),) if leave_out else ())))


def dated_bands(deadline: Any, *, today: Any, red: Any, amber: Any) -> dict[Band, ColumnElement[bool]]:
    """The deadlines in each dated band of ``today`` (rules.band_for) as ranges: ``red`` and
    ``amber`` are the last days of those bands. Dates or bound parameters alike."""
    return {
        Band.OVERDUE: deadline < today,
        Band.RED: deadline.between(today, red),
        Band.AMBER: (deadline > red) & (deadline <= amber),
        Band.GREEN: deadline > amber,
    }


def band_condition(band: Band, *, as_of: date, red_months: int, amber_months: int) -> ColumnElement[bool]:
    """Kept receipt positions in ``band`` on ``as_of`` (rules.band_for), as ranges of deadlines."""
    deadline = KeptReceiptPosition.deadline
    return {
        **dated_bands(deadline, today=as_of, red=add_months(as_of, red_months), amber=add_months(as_of, amber_months)),
        Band.NO_DEADLINE: KeptReceiptPosition.no_deadline == NoDeadline.NONE.value,
        Band.UNKNOWN_DEADLINE: deadline.is_(None) & (KeptReceiptPosition.no_deadline != NoDeadline.NONE.value),
    }[band]


@cache
def _every_kept_receipt() -> Select[Any]:
    """How many receipts have money remaining, and their money with a deadline, with none and
    with one not yet known: kept per division, so one pass over their rows (counting the
    receipts read every kept receipt at national size, and the money per deadline date was
    8,700 rows). Last, kept.last_settling."""
    division = KeptDivisionPosition
    return select(func.sum(division.receipts), func.sum(division.dated), func.sum(division.no_deadline),
                  func.sum(division.unknown_deadline), kept.last_settling())


def _kept_count(
    session: Session, filters: Filters, band: Band | None, *, as_of: date, worked_out: list[int], red_months: int,
    amber_months: int, every: Row[Any] | None = None,
) -> tuple[int, Decimal]:
    """How many kept receipts meet the filters and band, and their money: where no filter
    narrows the list, from the divisions' kept sums (``every``, _every_kept_receipt's row when
    the caller has read it) or, for a band, the money kept per deadline date; by a division's
    own receipts where one names a division, else by joining them to their obligations."""
    receipt, connection = KeptReceiptPosition, session.connection()
    in_band = (band_condition(band, as_of=as_of, red_months=red_months, amber_months=amber_months),) if band else ()
    if filters == NO_FILTERS:
        # The kept totals count the obligations worked out too: their kept receipts come off.
        count, money = connection.execute(
            kept_receipts(in_band, []).add_columns(func.count(), func.sum(receipt.remaining))
            .where(receipt.obligation_id.in_(worked_out))).one() if worked_out else (0, ZERO)
        if band is None:  # every receipt: counted and summed per division as kept
            total, *remaining, _ = every or connection.execute(_every_kept_receipt()).one()
            return (total or 0) - count, sum((m or ZERO for m in remaining), ZERO) - (money or ZERO)
        if band in (Band.NO_DEADLINE, Band.UNKNOWN_DEADLINE):
            total, remaining = connection.execute(select(func.count(), func.sum(receipt.remaining))
                                                  .where(receipt.deadline.is_(None), *in_band)).one()
        else:
            in_range = dated_bands(KeptDeadlineTotal.deadline, today=as_of, red=add_months(as_of, red_months),
                                   amber=add_months(as_of, amber_months))[band]
            total, remaining = connection.execute(select(
                func.coalesce(func.sum(KeptDeadlineTotal.receipts), 0), func.sum(KeptDeadlineTotal.remaining))
                .where(in_range)).one()
        return total - count, (remaining or ZERO) - (money or ZERO)
    leave_out = (receipt.obligation_id.not_in(worked_out),) if worked_out else ()
    own = filters.kept_receipt_conditions()
    if own is not None:  # a division: its own kept receipts, by their index
        return tuple(connection.execute(  # type: ignore[return-value]
            select(func.count(), func.coalesce(func.sum(receipt.remaining), ZERO))
            .where(*own, *in_band, *leave_out)).one())
    count, money = connection.execute(kept_receipts((*filters.conditions(Obligation), *in_band), worked_out)
                                      .add_columns(func.count(), func.sum(receipt.remaining))).one()
    return count, money or ZERO


@dataclass(frozen=True, slots=True, kw_only=True)
class AtRiskPage:
    rows: list[AtRiskRow]
    #: How many receipts, and how much money, the whole list holds.
    total: int
    remaining: Decimal
    #: The rows' obligations that may have a review, read with the rows (None: any may): the
    #: page asks for the latest reviews of those only, and most pages have none to ask for.
    reviewed: frozenset[str] | None = None


def at_risk_page(
    session: Session, *, as_of: date, filters: Filters = NO_FILTERS, band: Band | None = None, offset: int = 0,
    limit: int, red_months: int = 12, amber_months: int = 24,
) -> AtRiskPage | None:
    """One page of at_risk (its order), with the whole list's count and money, read from the
    kept positions by the database: no row beyond the page is built. None when the kept
    positions do not answer for ``as_of`` (then page at_risk's list)."""
    read_snapshot(session)
    every = None
    if filters == NO_FILTERS and band is None:
        # The whole list's count and money come with whether anything is unsettled (most
        # days nothing is): that question then needs no round trip of its own.
        every = session.connection().execute(_every_kept_receipt()).one()
        kept.note_settling(session, every[-1], as_of)
    worked_out = kept.unsettled(session, as_of)
    if worked_out is None:
        return None
    thresholds = {"red_months": red_months, "amber_months": amber_months}
    conditions = (*filters.conditions(Obligation),
                  *((band_condition(band, as_of=as_of, **thresholds),) if band else ()))
    total, remaining = _kept_count(session, filters, band, as_of=as_of, worked_out=worked_out, every=every,
                                   **thresholds)
    extra = [] if not worked_out else [
        row for position in obligation_positions(
            session, on=as_of, where=(*filters.conditions(Obligation), Obligation.id.in_(worked_out)))
        for row in at_risk_rows(position.info, position.receipts, as_of=as_of, **thresholds)
        if band is None or row.band == band]
    # Soonest deadline first, none last (sort_at_risk): the dated ones by the deadline's index.
    wanted = offset + limit
    # The worked-out rows' obligations may have reviews too: they are asked about.
    reviewed = {row.obligation_reference for row in extra}
    dated = _kept_at_risk(session, _page_statement(conditions, worked_out, dated=True, limit=wanted), as_of=as_of,
                          reviewed=reviewed, **thresholds)
    if len(dated) < wanted:
        dated += _kept_at_risk(session, _page_statement(conditions, worked_out, dated=False, limit=wanted - len(dated)),
                               as_of=as_of, reviewed=reviewed, **thresholds)
    rows = sort_at_risk(dated + extra)[offset:wanted]
    return AtRiskPage(rows=rows, total=total + len(extra),
                      remaining=(remaining or ZERO) + sum((r.remaining for r in extra), ZERO),
                      reviewed=frozenset(reviewed & {row.obligation_reference for row in rows}))


def at_risk_rows(
    info: ObligationInfo,
    positions: Iterable[ReceiptPosition],
    *,
    as_of: date,
    red_months: int,
    amber_months: int,
) -> list[AtRiskRow]:
    """One at-risk row per receipt of the obligation with money at risk: remaining money
    less what a commitment has stopped the clock of (SPEC 8.7)."""
    return [
        AtRiskRow(
            agreement_reference=info.agreement_reference,
            obligation_reference=info.reference,
            authority_code=info.authority_code,
            division_code=info.division_code,
            purpose=info.purpose,
            service=info.service,
            receipt_reference=position.receipt.reference,
            received_on=position.receipt.occurred_on,
            deadline=deadline_date(position.deadline),
            remaining=position.remaining - position.clock_stopped,
            allocated=position.allocated - position.clock_stopped,
            band=rules.band_for(position.deadline, as_of=as_of, red_months=red_months, amber_months=amber_months),
            committed=position.clock_stopped,
        )
        for position in positions
        if position.remaining != position.clock_stopped
    ]


def sort_at_risk(rows: list[AtRiskRow]) -> list[AtRiskRow]:
    """Soonest deadline first, no deadline last."""
    return sorted(rows, key=lambda r: (r.deadline or date.max, r.agreement_reference, r.receipt_reference))


@with_totals
@dataclass(frozen=True, slots=True, kw_only=True)
class DivisionSummary:
    division: Division
    on: date
    agreements: int
    secured: Decimal
    received: Decimal
    spent: Decimal
    transferred: Decimal
    repaid: Decimal
    at_risk: dict[Band, Decimal]
    projects: list[Project]
    #: How many proposed agreements the division has (its page lists them only if any).
    proposed: int

    @property
    def held(self) -> Decimal:
        return held_from(lambda name: getattr(self, name))


@cache
def _agreements_signed() -> Select[Any]:
    """How many agreements of the division ``code`` were signed by ``on``."""
    return (select(func.count()).select_from(Agreement)
            .where(Agreement.division_code == bindparam("code"), Agreement.signed_on <= bindparam("on")))


@cache
def _agreements_proposed() -> Select[Any]:
    """How many agreements of the division ``code`` are proposed: not signed (the
    status_signed_on constraint), so counted from the index on division and signing."""
    return select(func.count()).select_from(Agreement).where(Agreement.division_code == bindparam("code"),
                                                            Agreement.signed_on.is_(None))


#: The kept money a division's summary shows, in _division_kept's order.
_KEPT_MONEY = ("secured", *TOTALS)


@lru_cache(maxsize=8)
def _division_kept(as_of: date, red_months: int, amber_months: int) -> Select[Any]:
    """The division ``code`` and, in the same round trip (they had been four), its kept
    money (_KEPT_MONEY, None where it has none), how many of its agreements were signed by
    ``on``, the money of its kept receipts in each band (in Band's order, each band a range
    of the index on division and deadline), how many of its agreements are proposed (its
    page lists them only if any is) and the last date a kept obligation is settled from
    (kept.last_settling): the kept figures answer for ``on`` unless that is after it."""
    receipt, totals = KeptReceiptPosition, KeptDivisionPosition
    bands = (select(func.sum(receipt.remaining)).where(
        receipt.division_code == bindparam("code"),
        band_condition(band, as_of=as_of, red_months=red_months, amber_months=amber_months)).scalar_subquery()
        for band in Band)
    return (select(Division, *(getattr(totals, name) for name in _KEPT_MONEY), _agreements_signed().scalar_subquery(),
                   *bands, _agreements_proposed().scalar_subquery(), kept.last_settling())
            .outerjoin(totals, totals.division_code == Division.code).where(Division.code == bindparam("code")))


@cache
def _division_projects() -> Select[Any]:
    return select(Project).where(Project.division_code == bindparam("code"))


def division_summary(
    session: Session, code: str, *, on: date, as_known_at: datetime | None = None,
    red_months: int = 12, amber_months: int = 24, with_projects: bool = True,
) -> DivisionSummary:
    """Money secured, received, spent, transferred, repaid, held and at risk in a division,
    and the projects in it unless ``with_projects`` is false (the division's page lists the
    projects its money paid for instead)."""
    read_snapshot(session)
    connection = session.connection()
    if as_known_at is None:
        found = session.execute(_division_kept(on, red_months, amber_months), {"code": code, "on": on}).first()
        if found is None:
            raise NotFound(f"no division {code!r}")
        division, money = found[0], found[1:len(_KEPT_MONEY) + 1]
        agreement_count, *bands, proposed, last_settling = found[len(_KEPT_MONEY) + 1:]
        kept.note_settling(session, last_settling, on)
        if kept.unsettled(session, on) == []:
            # Every obligation kept answers for ``on``: the division's kept totals, and its kept
            # receipts summed by band.
            return _division_summary(
                session, division, on=on, agreements=agreement_count,
                money=dict(zip(_KEPT_MONEY, (amount or ZERO for amount in money), strict=True)),
                risk=dict(zip(Band, (amount or ZERO for amount in bands), strict=True)), with_projects=with_projects,
                proposed=proposed)
    else:
        division = get_one(session, Division, "code", code, what="division")
    in_division = Agreement.division_code == code
    kept_totals = kept.division_totals(session, on=on, codes=[code]) if as_known_at is None else None
    if kept_totals is not None:
        found_totals = kept_totals.get(code) or kept.Totals()
        money = {name: getattr(found_totals, name) for name in _KEPT_MONEY}
    else:
        money = {"secured": session.scalar(
            select(func.sum(Obligation.amount)).join(Obligation.agreement).where(in_division, Agreement.signed_on <= on)
        ) or ZERO, **dict.fromkeys(TOTALS, ZERO)}
        for kind, total in session.execute(
            select(Entry.kind, func.sum(Entry.amount))
            .where(entries_of_obligations(session, in_division), Entry.occurred_on <= on,
                   in_force_condition(as_known_at))
            .group_by(Entry.kind)
        ):
            counted_in = KIND_RULES[kind].total
            if counted_in:
                money[counted_in] += total
    risk: dict[Band, Decimal] = dict.fromkeys(Band, ZERO)
    if as_known_at is not None:  # else read with the division
        agreement_count = connection.execute(_agreements_signed(), {"code": code, "on": on}).scalar()
        proposed = connection.execute(_agreements_proposed(), {"code": code}).scalar()
    for row in at_risk(
        session, as_of=on, filters=Filters(division=code), as_known_at=as_known_at,
        red_months=red_months, amber_months=amber_months,
    ):
        risk[row.band] += row.remaining
    return _division_summary(session, division, on=on, agreements=agreement_count, money=money, risk=risk,
                             with_projects=with_projects, proposed=proposed)


def _division_summary(session: Session, division: Division, *, on: date, agreements: int | None,
                      money: dict[str, Decimal], risk: dict[Band, Decimal], with_projects: bool,
                      proposed: int | None) -> DivisionSummary:
    # Sorted here: ordered by the database, SQLite walks every project by reference rather than
    # look up the division's few by their index.
    projects = sorted(session.scalars(_division_projects(), {"code": division.code}),
                      key=lambda project: project.reference) if with_projects else []
    return DivisionSummary(division=division, on=on, agreements=agreements or 0, secured=money["secured"],
                           **{name: money[name] for name in TOTALS}, at_risk=risk, projects=projects,
                           proposed=proposed or 0)
