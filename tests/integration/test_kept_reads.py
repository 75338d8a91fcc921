"""Issue 17 item 2: every reader switched to the kept positions gives what the replay gives,
on SQLite and PostgreSQL. The replay is the same reader with ``kept.unsettled`` answering
None (as it does at a date long past), so each reader takes its old path through the
entries. Compared: the whole result, on the small demo at three dates, and on the demo
with obligations the kept positions do not answer for today (an allocation dated ahead, a
change of terms in force later, a commitment stopping the clock, a signing ahead) beside
obligations whose deadline is unknown or never comes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from freezegun import freeze_time
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from ledger.db import read_snapshot
from ledger.demo import generate
from ledger.domain.errors import LedgerError
from ledger.domain.money import ZERO
from ledger.domain.reviews import ReviewsNeeded
from ledger.domain.vocab import Band
from ledger.models import Division, Entry, IncomeDue, Instalment, Invoice, InvoicePayment, Obligation
from ledger.services import income, kept, listing, overview, reviews, variations
from ledger.services.balances import at_risk, at_risk_page, division_summary
from ledger.services.division_report import division_report
from ledger.services.income import OVERDUE_AFTER_DAYS, IncomeDueRow
from ledger.services.registry import Filters
from tests.conftest import make_test_app
from tests.factories import OFFICER, make_agreement, make_obligation, make_places, make_project, post

NOW = datetime(2026, 11, 28, 10, tzinfo=UTC)
TODAY = NOW.date()
AUTHORITY = "E07000105"
DIVISION = "ashford-central"
#: A page of money at risk, as the web list shows.
PAGE = 50
SERVICE = "education-primary"


@pytest.fixture
def demo(database_url: str) -> Iterator[Session]:
    """The small demo, generated today (frozen for the whole test)."""
    app = make_test_app(database_url)
    with freeze_time(NOW), app.extensions["ledger.sessions"]() as session:
        generate(session, scale="small", seed=17, today=TODAY)
        yield session
    app.extensions["ledger.engine"].dispose()


def income_due_from_objects(session: Session, *, today: date) -> list[IncomeDueRow]:
    """income.income_due as it read ORM objects before it read columns: its replay."""
    reversed_ids = select(Entry.reverses).where(Entry.reverses.is_not(None))
    paid: dict[int, Decimal] = {}
    for payment in session.scalars(select(InvoicePayment).where(InvoicePayment.entry_id.not_in(reversed_ids))):
        paid[payment.invoice_id] = paid.get(payment.invoice_id, ZERO) + payment.amount
    rows = []
    for invoice in session.scalars(select(Invoice).where(Invoice.due_on <= today)):
        instalment = session.get(Instalment, invoice.instalment_id)
        obligation = session.get(Obligation, instalment.obligation_id)
        agreement = obligation.agreement
        outstanding = invoice.amount - paid.get(invoice.id, ZERO)
        if outstanding <= ZERO:
            continue
        trigger = (f"occupation of {instalment.trigger_dwellings} dwellings"
                   if instalment.trigger_event == "occupation" else instalment.trigger_event)
        days = (today - invoice.due_on).days
        rows.append(IncomeDueRow(
            agreement_reference=agreement.reference, obligation_reference=obligation.reference,
            developer=agreement.developer, authority_code=agreement.authority_code,
            division_code=agreement.division_code, reference=invoice.reference, trigger=trigger,
            due_on=invoice.due_on, amount=invoice.amount, paid=paid.get(invoice.id, ZERO), outstanding=outstanding,
            days_outstanding=days, overdue=days > OVERDUE_AFTER_DAYS, how_worked_out=invoice.explanation))
    for due in session.scalars(select(IncomeDue).where(IncomeDue.due_on <= today)):
        obligation = session.get(Obligation, due.obligation_id)
        agreement = obligation.agreement
        days = (today - due.due_on).days
        rows.append(IncomeDueRow(
            agreement_reference=agreement.reference, obligation_reference=obligation.reference,
            developer=agreement.developer, authority_code=agreement.authority_code,
            division_code=agreement.division_code, reference=due.reference, trigger="secured (imported)",
            due_on=due.due_on, amount=due.amount, paid=ZERO, outstanding=due.amount, days_outstanding=days,
            overdue=days > OVERDUE_AFTER_DAYS, how_worked_out=f"imported from {due.source}"))
    return sorted(rows, key=lambda r: (r.due_on, r.reference))


def needing_as_shown(needed: ReviewsNeeded) -> tuple[Any, ...]:
    """What the dashboard's panel shows of the reviews needed: counts, money and the first ten."""
    return (needed.unreviewed_number, needed.unreviewed_money, needed.due, needed.due_money, needed.unreviewed[:10])


def readers(session: Session, on: date) -> dict[str, Callable[[], Any]]:
    """Each switched reader at the end of ``on``, by name."""
    divisions = list(session.scalars(select(Division.code).order_by(Division.code)))
    return {
        "balances.at_risk": lambda: at_risk(session, as_of=on),
        "balances.division_summary": lambda: [division_summary(session, code, on=on) for code in divisions],
        "division_report.division_report": lambda: [division_report(session, code, on=on) for code in divisions],
        "overview.dashboard": lambda: overview.dashboard(session, today=on),
        # In no promised order (needing_review sorts it): the same obligations and money.
        "overview.urgent_money": lambda: sorted(overview.urgent_money(session, today=on)),
        "overview.urgent_obligations": lambda: overview.urgent_obligations(session, today=on),
        "overview.division_totals": lambda: overview.division_totals(session, on=on),
        "overview.division_totals, a page": lambda: overview.division_totals(session, on=on, offset=2, limit=3),
        # From the day's kept urgent money the never reviewed are counted, and the first few listed.
        "reviews.needing_review": lambda: needing_as_shown(reviews.needing_review(session, today=on)),
        "listing.agreement_list": lambda: [a.reference for a in listing.agreement_list(
            session, Filters(), urgent_on=on, sort="reference")[0]],
        # Pages, with how many in all: newest first (the kept agreements' own order), and by reference.
        "listing.agreement_list, pages": lambda: [
            ([a.reference for a in found], total) for sort, descending in (("signed", True), ("reference", False))
            for offset in (0, 5, 10)
            for found, total in [listing.agreement_list(session, Filters(), urgent_on=on, sort=sort,
                                                        descending=descending, offset=offset, limit=5)]],
    }


def replayed(monkeypatch: pytest.MonkeyPatch, read: Callable[[], Any]) -> Any:
    """What ``read`` gives when the kept positions answer for no date: the replay."""
    with monkeypatch.context() as patched:
        patched.setattr(kept, "unsettled", lambda session, on: None)
        return read()


def assert_readers_equal_the_replay(session: Session, monkeypatch: pytest.MonkeyPatch, on: date) -> None:
    for name, read in readers(session, on).items():
        kept_result, replay_result = read(), replayed(monkeypatch, read)
        assert kept_result == replay_result, f"{name} on {on}"
    due = income_due_from_objects(session, today=on)
    assert income.income_due(session, today=on) == due
    # The dashboard's summary: the oldest eight, and how many and how much of all.
    assert income.income_due_summary(session, today=on) == income.IncomeDueSummary(
        first=due[:8], count=len(due), outstanding=sum((r.outstanding for r in due), ZERO),
        overdue=sum((r.outstanding for r in due if r.overdue), ZERO))
    # A page of the list (web and API): the sums up to its last row, in the list's order.
    for first in (1, 7, 9, 50, len(due), len(due) + 3):
        assert income.income_due_summary(session, today=on, first=first).first == due[:first], first


@pytest.mark.parametrize("on", [TODAY, TODAY - timedelta(days=31), date(2024, 11, 28)],
                         ids=["today", "a month ago", "two years ago"])
def test_the_demo_reads_as_the_replay(demo: Session, monkeypatch: pytest.MonkeyPatch, on: date) -> None:
    worked_out = kept.unsettled(demo, on)
    # Today the kept positions answer for every obligation; earlier, a few are worked out.
    if on == TODAY:
        assert worked_out == []
    else:
        assert worked_out and len(worked_out) <= kept.MOST_WORKED_OUT
    assert_readers_equal_the_replay(demo, monkeypatch, on)


@pytest.fixture
def unsettled_today(demo: Session) -> dict[str, int | None]:
    """The demo, and an agreement whose obligations the kept positions cannot all answer for
    today, each holding money: obligation id by what it shows (None: the service refused it)."""
    for agreement in ("KEPT/1", "KEPT/3"):
        make_agreement(demo, reference=agreement, authority_code=AUTHORITY, division_code=DIVISION,
                       signed_on=date(2016, 1, 4), developer="Kept Homes Ltd")
    make_project(demo, reference="KEPT-PRJ", service=SERVICE, division_code=DIVISION)
    made: dict[str, int | None] = {}

    def obligation(name: str, agreement: str = "KEPT/1", **terms: Any) -> str:
        reference = f"{agreement}/{name}"
        made[name] = make_obligation(demo, agreement=agreement, reference=reference, service=SERVICE, **terms).id
        return reference

    # Ten years from receipt: due 2027-02-01 (red); £3,000 allocated from a month ahead.
    ahead = obligation("allocated ahead")
    post(demo, "receipt", "10000.00", date(2017, 2, 1), obligation=ahead)
    post(demo, "allocation", "3000.00", TODAY + timedelta(days=30), obligation=ahead, project="KEPT-PRJ")
    # Due 2029-05-01 (green) until eight years from receipt (red) come into force in two months:
    # its agreement is not urgent today, though the terms kept say it is.
    later_terms = obligation("terms change later", agreement="KEPT/3")
    post(demo, "receipt", "8000.00", date(2019, 5, 1), obligation=later_terms)
    variations.change_terms(demo, later_terms, basis="receipt", years=8, in_force_from=TODAY + timedelta(days=60),
                            reason="deed of variation agreed", actor=OFFICER)
    # Due 2026-12-01 (red); £2,500 committed stops its clock (SPEC 8.7).
    stopped = obligation("clock stopped", commitment_stops_clock=True)
    post(demo, "receipt", "6000.00", date(2016, 12, 1), obligation=stopped)
    post(demo, "allocation", "4000.00", date(2020, 1, 6), obligation=stopped, project="KEPT-PRJ")
    post(demo, "commitment", "2500.00", date(2021, 3, 1), obligation=stopped, project="KEPT-PRJ")
    # Five years from completion, and no completion yet: a deadline not yet known.
    unknown = obligation("completion", repayment_basis="completion", repayment_years=5)
    post(demo, "receipt", "1234.56", date(2022, 7, 1), obligation=unknown)
    no_limit = obligation("no time limit", repayment_basis="none", repayment_years=None)
    post(demo, "receipt", "777.77", date(2023, 3, 3), obligation=no_limit)
    try:
        make_agreement(demo, reference="KEPT/2", authority_code=AUTHORITY, division_code=DIVISION,
                       signed_on=TODAY + timedelta(days=14))
    except LedgerError:
        made["signed ahead"] = None
    else:
        made["signed ahead"] = make_obligation(demo, agreement="KEPT/2", reference="KEPT/2/1", service=SERVICE,
                                               amount=Decimal("50000.00")).id
    demo.rollback()
    return made


def test_what_the_kept_positions_do_not_answer_for_reads_as_the_replay(
        demo: Session, unsettled_today: dict[str, int | None], monkeypatch: pytest.MonkeyPatch) -> None:
    expected = {unsettled_today[name] for name in ("allocated ahead", "terms change later", "clock stopped",
                                                  "signed ahead") if unsettled_today[name] is not None}
    assert set(kept.unsettled(demo, TODAY) or ()) == expected
    assert_readers_equal_the_replay(demo, monkeypatch, TODAY)


def test_how_many_are_worked_out_at_most_is_read_each_time(
        demo: Session, unsettled_today: dict[str, int | None]) -> None:
    """The statement finding them is built once; the limit it reads to is not fixed with it."""
    kept._unsettled.cache_clear()
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(kept, "MOST_WORKED_OUT", 1)
        assert kept.unsettled(demo, TODAY) is None  # more than one: the reader replays
    demo.rollback()
    expected = {unsettled_today[name] for name in ("allocated ahead", "terms change later", "clock stopped",
                                                  "signed ahead") if unsettled_today[name] is not None}
    assert len(expected) > 1
    assert set(kept.unsettled(demo, TODAY) or ()) == expected


def unsettled_asked(session: Session, read: Callable[[], Any]) -> int:
    """How many statements ``read`` runs asking which obligations are unsettled (kept._unsettled)."""
    asked: list[str] = []

    def heard(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "settled_from >" in statement:
            asked.append(statement)

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", heard)
    try:
        read()
    finally:
        event.remove(engine, "before_cursor_execute", heard)
    return len(asked)


def test_the_pages_learn_that_none_is_unsettled_with_the_day_or_the_division(demo: Session) -> None:
    """The kept day's statement, and a division's, say when the kept positions answer for
    every obligation: the dashboard and the division's page do not ask again."""
    overview.dashboard(demo, today=TODAY)  # the day's first read writes the day's sums
    demo.rollback()
    read_snapshot(demo)  # as a GET's session begins (ledger.extensions)
    assert unsettled_asked(demo, lambda: overview.dashboard(demo, today=TODAY)) == 0
    demo.rollback()
    assert unsettled_asked(demo, lambda: (division_summary(demo, DIVISION, on=TODAY),
                                          division_report(demo, DIVISION, on=TODAY))) == 0
    demo.rollback()
    # The whole list of money at risk learns it with its count.
    assert unsettled_asked(demo, lambda: at_risk_page(demo, as_of=TODAY, limit=PAGE)) == 0
    demo.rollback()
    # Without them, the question is a statement of its own, once a transaction.
    assert unsettled_asked(demo, lambda: (kept.unsettled(demo, TODAY), kept.unsettled(demo, TODAY))) == 1


def test_obligations_settled_after_the_day_are_still_asked_for(
        demo: Session, unsettled_today: dict[str, int | None]) -> None:
    """With an obligation kept as settled only after today, the day's statement and the
    division's tell nothing: which are unsettled is read, and they are worked out."""
    expected = {unsettled_today[name] for name in ("allocated ahead", "terms change later", "clock stopped",
                                                  "signed ahead") if unsettled_today[name] is not None}
    for read in (lambda: overview.dashboard(demo, today=TODAY), lambda: division_summary(demo, DIVISION, on=TODAY),
                 lambda: at_risk_page(demo, as_of=TODAY, limit=PAGE)):
        demo.rollback()
        assert unsettled_asked(demo, read) == 1
        assert set(kept.unsettled(demo, TODAY) or ()) == expected


@pytest.mark.parametrize("filters", [Filters(division=DIVISION), Filters(authority=AUTHORITY),
                                     Filters(service=SERVICE)], ids=["division", "authority", "service"])
def test_money_at_risk_filtered_reads_as_the_replay(
        demo: Session, unsettled_today: dict[str, int | None], monkeypatch: pytest.MonkeyPatch,
        filters: Filters) -> None:
    read = lambda: at_risk(demo, as_of=TODAY, filters=filters)  # noqa: E731
    rows = read()
    assert {r.obligation_reference for r in rows} >= {"KEPT/1/allocated ahead", "KEPT/1/completion"}
    assert rows == replayed(monkeypatch, read)


@pytest.mark.parametrize("count", [12, 25], ids=["within those read first", "more than those read first"])
def test_the_first_of_sums_tied_at_the_last_listed_go_by_reference(
        demo: Session, monkeypatch: pytest.MonkeyPatch, count: int) -> None:
    """Obligations never reviewed, each holding the largest sum at risk: the dashboard's panel
    lists ten, chosen by reference among the tied, however many are tied."""
    make_agreement(demo, reference="TIES", authority_code=AUTHORITY, division_code=DIVISION,
                   signed_on=date(2016, 1, 4))
    tied = [f"TIES/{n}" for n in range(count)]  # TIES/10 and TIES/11 come before TIES/2
    for reference in tied:
        make_obligation(demo, agreement="TIES", reference=reference, service=SERVICE,
                        amount=Decimal("90000000.00"))
        post(demo, "receipt", "90000000.00", date(2016, 12, 1), obligation=reference)
    demo.rollback()
    read = lambda: reviews.needing_review(demo, today=TODAY)  # noqa: E731
    needed = read()
    assert [n.obligation_reference for n in needed.unreviewed] == sorted(tied)[:10]
    assert {n.at_risk for n in needed.unreviewed} == {Decimal("90000000.00")}
    assert needing_as_shown(needed) == needing_as_shown(replayed(monkeypatch, read))


def test_the_dashboard_with_no_money_due_in_its_months_still_has_its_bands(database_url: str) -> None:
    """The money by band comes with the months' rows; with none (all the money overdue, or due
    beyond two years), the bands are read alone."""
    app = make_test_app(database_url)
    with freeze_time(NOW), app.extensions["ledger.sessions"]() as session:
        make_places(session, authority=AUTHORITY, division=DIVISION)
        make_agreement(session, reference="LATE", authority_code=AUTHORITY, division_code=DIVISION,
                       signed_on=date(2012, 1, 4))
        make_obligation(session, agreement="LATE", reference="LATE/1", service=SERVICE)
        post(session, "receipt", "1234.56", date(2013, 5, 1), obligation="LATE/1")  # due 2023-05-01
        session.rollback()
        shown = overview.dashboard(session, today=TODAY)
        assert shown.bands == {Band.OVERDUE: Decimal("1234.56"), Band.RED: ZERO, Band.AMBER: ZERO}
        assert [money for _, money in shown.months] == [ZERO] * 24
        assert [o.obligation_reference for o in shown.largest] == ["LATE/1"]
    app.extensions["ledger.engine"].dispose()
