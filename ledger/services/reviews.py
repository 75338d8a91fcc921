"""Reviews of money at risk (SPEC 8.7): recorded one at a time (API, web) or in bulk from a
CSV file, each audited; never changed or deleted (the database refuses it, 0012 triggers).
The latest review of an obligation is the one in force."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import Session

from ledger import clock
from ledger.db import read_snapshot, write_transaction, written
from ledger.domain.errors import InvalidInput, NotFound
from ledger.domain.money import ZERO
from ledger.domain.reviews import ReviewFacts, ReviewsNeeded, owner_email, review_errors, reviews_needed
from ledger.models import Agreement, KeptUrgentDivision, KeptUrgentObligation, Obligation, Review
from ledger.services import Actor, audit, kept
from ledger.services.constraints import as_domain_errors
from ledger.services.overview import kept_urgent_for, largest_at_risk, urgent_money, worked_out_rows


def _facts(values: dict[str, object]) -> ReviewFacts:
    return ReviewFacts(status=str(values.get("status") or ""), note=str(values.get("note") or ""),
                       owner_email=str(values.get("owner_email") or ""),
                       next_review_on=values.get("next_review_on"))  # type: ignore[arg-type]


def _obligation_id(session: Session, reference: str) -> int | None:
    return session.scalar(select(Obligation.id).where(Obligation.reference == reference))


def _insert(session: Session, obligation_id: int, obligation_reference: str, facts: ReviewFacts, *,
            actor: Actor, reason: str) -> Review:
    review = Review(obligation_id=obligation_id, status=facts.status, note=facts.note.strip(),
                    owner_email=owner_email(facts.owner_email), next_review_on=facts.next_review_on,
                    created_by=actor.email, created_at=clock.now())
    session.add(review)
    session.flush()
    audit.record(session, actor=actor, action="record-review", target_type="reviews",
                 target_reference=obligation_reference, after=audit.snapshot(review), reason=reason)
    return review


def record_review(session: Session, obligation_reference: str, values: dict[str, object], *, actor: Actor) -> Review:
    """Record a review of one obligation's money at risk: status, note, owner and next review
    date (domain.reviews.review_errors). Raises NotFound for an unknown obligation, and
    InvalidInput naming the field for a bad one; nothing is written then."""
    facts = _facts(values)
    errors = review_errors(facts, today=clock.today())
    if errors:
        field, problems = next(iter(errors.items()))
        raise InvalidInput(f"{field}: {problems[0]}", errors=errors)
    with as_domain_errors(), write_transaction(session):
        obligation_id = _obligation_id(session, obligation_reference)
        if obligation_id is None:
            raise NotFound(f"no obligation {obligation_reference!r}")
        return _insert(session, obligation_id, obligation_reference, facts, actor=actor, reason=facts.note)


def list_reviews(session: Session, obligation_reference: str, *, offset: int = 0,
                 limit: int | None = None) -> tuple[list[Review], int]:
    """An obligation's reviews, newest first, and how many it has (NotFound if there is no
    such obligation)."""
    obligation_id = _obligation_id(session, obligation_reference)
    if obligation_id is None:
        raise NotFound(f"no obligation {obligation_reference!r}")
    total = session.scalar(select(func.count()).select_from(Review).where(Review.obligation_id == obligation_id)) or 0
    rows = session.scalars(select(Review).where(Review.obligation_id == obligation_id)
                           .order_by(Review.id.desc()).offset(offset).limit(limit))
    return list(rows), total


def reviews_of(session: Session, obligation_id: int) -> list[Review]:
    """An obligation's reviews, newest first: all of them, as its page shows (a few a year)."""
    return list(session.scalars(_reviews_of(), {"obligation_id": obligation_id}))


@cache
def _reviews_of() -> Select[Any]:
    return select(Review).where(Review.obligation_id == bindparam("obligation_id")).order_by(Review.id.desc())


def latest_reviews(session: Session, obligation_references: Iterable[str] | None = None) -> dict[str, Review]:
    """The review in force of each obligation that has one (of those named, or all), by
    obligation reference."""
    if obligation_references is not None:
        wanted = sorted(set(obligation_references))
        found: dict[str, Review] = {}
        # In slices: a page of a national at-risk list names thousands of obligations.
        for start in range(0, len(wanted), 1000):
            found |= dict(session.execute(_latest_reviews(named=True),
                                          {"references": wanted[start:start + 1000]}).all())
        return found
    return dict(session.execute(_latest_reviews(named=False)).all())


@cache
def _latest_reviews(*, named: bool) -> Select[Any]:
    """The latest review of each obligation with its reference (of the obligations named by
    ``references``): built once, as a list page asks for its rows' on every request."""
    latest = select(func.max(Review.id)).group_by(Review.obligation_id)
    query = (select(Obligation.reference, Review).join(Obligation, Review.obligation_id == Obligation.id)
             .where(Review.id.in_(latest)))
    return query.where(Obligation.reference.in_(bindparam("references", expanding=True))) if named else query


def needing_review(
    session: Session, *, today: date, red_months: int = 12, amber_months: int = 24, first: int = 10,
) -> ReviewsNeeded:
    """Obligations with money past its repayment date or due within 24 months (the
    dashboard's money at risk) that were never reviewed, or whose review is due. From the
    day's urgent money kept per obligation (services.kept_urgent), the never reviewed are
    counted and summed and only the ``first`` with the most money listed."""
    ready = kept_urgent_for(session, today=today, amber_months=amber_months)
    read_snapshot(session)
    worked_out = kept.unsettled(session, today) if ready else None
    connection = session.connection()
    # Every obligation's latest review, as columns (reviews are few beside obligations), with
    # its urgent money kept for the day if it has some.
    statements = _needing_review_statements(first)
    reviewed: dict[int, tuple[str, date | None]] = {}
    kept_named: dict[int, tuple[str, str, Decimal]] = {}
    for obligation_id, reference, next_review_on, agreement, kept_money in connection.execute(
            statements.latest_reviews):
        reviewed[obligation_id] = (reference, next_review_on)
        if kept_money is not None:
            kept_named[obligation_id] = (reference, agreement, kept_money)
    next_reviews = dict(reviewed.values())
    if worked_out is None:
        urgent = urgent_money(session, today=today, red_months=red_months, amber_months=amber_months)
        return reviews_needed(urgent, next_reviews, today=today)
    count, money = connection.execute(statements.urgent_totals).one()
    money = money or ZERO
    # Named: the reviewed and the worked out, each with its urgent money as kept.
    named = sorted(set(reviewed) | set(worked_out))
    others = sorted(set(worked_out) - set(reviewed))
    kept_named |= {row[0]: (row[1], row[2], row[3]) for start in range(0, len(others), 1000)
                   for row in connection.execute(statements.urgent_of, {"ids": others[start:start + 1000]})}
    for _, _, kept_money in kept_named.values():
        count, money = count - 1, money - kept_money
    worked = {o.obligation_reference: (o.agreement_reference, o.remaining) for o in largest_at_risk(
        worked_out_rows(session, worked_out, today=today, red_months=red_months, amber_months=amber_months),
        limit=None)} if worked_out else {}
    settled = set(kept_named) - set(worked_out)
    counted = [kept_named[i] for i in sorted(settled)] + [(reference, agreement, amount)
                                                for reference, (agreement, amount) in worked.items()]
    # The rest are never reviewed: counted and summed, and the ``first`` with the most money
    # listed, by reference where their money is the same (Python's order of text: the
    # database's may differ). So every sum tied with the last listed is read. Twice as many as
    # are listed are read, most money first; they hold every one tied with the last listed
    # unless the last read is tied with it too, and then all with at least that money are read.
    read = connection.execute(statements.most, {"named": named}).all()
    if first >= 1 and len(read) == 2 * first and read[-1][2] == read[first - 1][2]:
        read = connection.execute(statements.tied, {"named": named, "least": read[first - 1][2]}).all()
    most = sorted((tuple(row) for row in read), key=lambda row: (-row[2], row[0]))[:first]
    listed = reviews_needed([*counted, *most], next_reviews, today=today)
    among_most = {reference for reference, _, _ in most}
    named_unreviewed = [n for n in listed.unreviewed if n.obligation_reference not in among_most]
    return ReviewsNeeded(
        unreviewed=listed.unreviewed[:first], due=listed.due,
        unreviewed_count=count + len(named_unreviewed),
        unreviewed_total=money + sum((n.at_risk for n in named_unreviewed), ZERO))


@dataclass(frozen=True, slots=True)
class _NeedingReview:
    """needing_review's statements, built once (services.overview says why)."""

    #: Each obligation's latest review, with its urgent money kept (or none).
    latest_reviews: Select[Any]
    urgent_totals: Select[Any]
    #: The urgent money kept of the obligations ``ids``, with their references.
    urgent_of: Select[Any]
    #: Of the obligations not ``named``, the twice ``first`` with the most money kept (in no
    #: order among sums that are the same): (obligation, agreement, money).
    most: Select[Any]
    #: Those with at least ``least``.
    tied: Select[Any]


@cache
def _needing_review_statements(first: int) -> _NeedingReview:
    table = KeptUrgentObligation
    latest = select(func.max(Review.id)).group_by(Review.obligation_id)
    # The names of the few rows, each looked up by its key: joined, PostgreSQL hashed every
    # obligation and agreement for them.
    obligation = select(Obligation.reference).where(Obligation.id == table.obligation_id).scalar_subquery()
    agreement = (select(Agreement.reference).join(Obligation, Obligation.agreement_id == Agreement.id)
                 .where(Obligation.id == table.obligation_id).scalar_subquery())
    not_named = table.obligation_id.not_in(bindparam("named", expanding=True))
    return _NeedingReview(
        latest_reviews=select(Review.obligation_id, Obligation.reference, Review.next_review_on, Agreement.reference,
                              table.money)
        .join(Obligation, Review.obligation_id == Obligation.id)
        .join(Agreement, Agreement.id == Obligation.agreement_id)
        .outerjoin(table, table.obligation_id == Review.obligation_id).where(Review.id.in_(latest)),
        urgent_totals=select(func.coalesce(func.sum(KeptUrgentDivision.obligations), 0),
                             func.sum(KeptUrgentDivision.money)),
        urgent_of=select(table.obligation_id, Obligation.reference, Agreement.reference, table.money)
        .join(Obligation, Obligation.id == table.obligation_id)
        .join(Agreement, Agreement.id == Obligation.agreement_id)
        .where(table.obligation_id.in_(bindparam("ids", expanding=True))),
        # Read backwards by the index on money, no further than the LIMIT.
        most=select(obligation, agreement, table.money).where(not_named)
        .order_by(table.money.desc()).limit(written(2 * first)),
        tied=select(obligation, agreement, table.money).where(not_named, table.money >= bindparam("least")))


@dataclass(frozen=True, slots=True, kw_only=True)
class ReviewRow:
    """One review read from a file, with the line it came from."""

    line: int
    obligation_reference: str
    status: str
    note: str
    owner_email: str
    next_review_on: date | None


@dataclass(frozen=True, slots=True, kw_only=True)
class RowProblem:
    line: int
    field: str
    value: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class BulkResult:
    recorded: int
    #: Rows the same as their obligation's latest review: already recorded, so not again.
    unchanged: int


def _same(review: Review | None, row: ReviewRow) -> bool:
    return review is not None and (review.status, review.note, review.owner_email, review.next_review_on) == (
        row.status, row.note.strip(), owner_email(row.owner_email), row.next_review_on)


def import_reviews(session: Session, rows: Sequence[ReviewRow], *, actor: Actor, source: str,
                   problems: Sequence[RowProblem] = ()) -> BulkResult:
    """Record reviews read from a file, all or none: each row is checked as ``record_review``
    checks one, and any problem (those the reader found, ``problems``, included) refuses the
    whole file, raising BulkRejected with every problem by line and field. A row the same as
    its obligation's latest review is not recorded again, so a file can be imported twice."""
    found = list(problems)
    # A date the reader could not read is one problem, not also a missing date.
    already = {(p.line, p.field) for p in problems}
    today = clock.today()
    with as_domain_errors(), write_transaction(session):
        ids = dict(session.execute(select(Obligation.reference, Obligation.id).where(
            Obligation.reference.in_({r.obligation_reference for r in rows}))).all())
        for row in rows:
            if row.obligation_reference not in ids:
                found.append(RowProblem(line=row.line, field="obligation_reference", value=row.obligation_reference,
                                        reason="no such obligation"))
            facts = ReviewFacts(status=row.status, note=row.note, owner_email=row.owner_email,
                                next_review_on=row.next_review_on)
            found.extend(RowProblem(line=row.line, field=field, value=str(getattr(row, field) or ""), reason=reason)
                         for field, reasons in review_errors(facts, today=today).items() for reason in reasons
                         if (row.line, field) not in already)
        if found:
            raise BulkRejected(sorted(found, key=lambda p: (p.line, p.field)))
        latest = latest_reviews(session, ids)
        recorded = 0
        for row in rows:
            if _same(latest.get(row.obligation_reference), row):
                continue
            facts = ReviewFacts(status=row.status, note=row.note, owner_email=row.owner_email,
                                next_review_on=row.next_review_on)
            latest[row.obligation_reference] = _insert(
                session, ids[row.obligation_reference], row.obligation_reference, facts, actor=actor,
                reason=f"{row.note.strip()} (from {source}, line {row.line})")
            recorded += 1
        return BulkResult(recorded=recorded, unchanged=len(rows) - recorded)


class BulkRejected(InvalidInput):
    """A file of reviews refused whole: every problem, by line and field."""

    def __init__(self, problems: list[RowProblem]) -> None:
        super().__init__(f"{len(problems)} problem(s): nothing recorded",
                         errors={f"line {p.line} {p.field}": [p.reason] for p in problems})
        self.problems = problems
