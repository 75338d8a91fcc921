"""Issue 17: one page of money at risk read from the kept positions (balances.at_risk_page) is
the same page of the whole list (balances.at_risk), with the same count and money, on SQLite
and PostgreSQL: every band, filters, pages across the dated and undated receipts, and with an
obligation the kept positions do not answer for (an allocation dated ahead) merged in."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from freezegun import freeze_time
from sqlalchemy.orm import Session

from ledger.domain.vocab import Band
from ledger.services import kept
from ledger.services.balances import NO_FILTERS, at_risk, at_risk_page
from ledger.services.registry import Filters
from tests.factories import make_agreement, make_ledger, make_obligation, post

TODAY = date(2026, 3, 2)


def ledger_with_every_band(session: Session) -> None:
    """Receipts whose deadlines fall in every band, one with no time limit, one with a deadline
    not yet known, across two agreements; and an allocation dated ahead of today."""
    make_ledger(session)
    make_agreement(session, reference="21/00002/OUT", signed_on=date(2021, 1, 4))
    make_obligation(session, agreement="21/00002/OUT", reference="21/00002/OUT/1", repayment_basis="none",
                    repayment_years=None)
    make_obligation(session, agreement="21/00002/OUT", reference="21/00002/OUT/2", repayment_basis="completion")
    for n, received in enumerate((date(2015, 1, 5), date(2016, 6, 1), date(2017, 1, 9), date(2017, 9, 1),
                                  date(2018, 2, 1), date(2019, 5, 5), date(2021, 7, 1), date(2024, 4, 2))):
        post(session, "receipt", f"{1000 + n}.00", received, reference=f"R-{n}")
    post(session, "receipt", "500.00", date(2022, 2, 2), obligation="21/00002/OUT/1", reference="R-NONE")
    post(session, "receipt", "700.00", date(2022, 3, 3), obligation="21/00002/OUT/2", reference="R-UNKNOWN")
    post(session, "spend", "500.00", date(2020, 1, 1), project="PRJ-1", reference="S-1")


def same_as_the_list(session: Session, filters: Filters = NO_FILTERS) -> None:
    whole = at_risk(session, as_of=TODAY, filters=filters)
    for band in (None, *Band):
        wanted = [row for row in whole if band is None or row.band == band]
        for offset in range(0, len(wanted) + 3, 3):
            page = at_risk_page(session, as_of=TODAY, filters=filters, band=band, offset=offset, limit=3)
            assert page is not None
            assert page.rows == wanted[offset:offset + 3], (band, offset)
            assert page.total == len(wanted), band
            assert page.remaining == sum((row.remaining for row in wanted), Decimal(0)), band


@pytest.mark.parametrize("narrowed", [Filters(), Filters(division="ashford-central"), Filters(service="highways"),
                                      Filters(authority="E07000105")])
def test_a_page_of_the_kept_positions_is_that_page_of_the_list(session: Session, narrowed: Filters) -> None:
    with freeze_time(TODAY):
        ledger_with_every_band(session)
        assert kept.unsettled(session, TODAY) == []
        assert {row.band for row in at_risk(session, as_of=TODAY)} == set(Band)
        same_as_the_list(session, narrowed)


def test_an_obligation_the_kept_positions_do_not_answer_for_is_merged_in(session: Session) -> None:
    with freeze_time(TODAY):
        ledger_with_every_band(session)
        # Dated ahead: the kept positions are those after it, so today's are worked out.
        post(session, "allocation", "300.00", date(2026, 6, 1), obligation="21/00002/OUT/1", project="PRJ-1",
             reference="A-AHEAD")
        session.rollback()
        assert len(kept.unsettled(session, TODAY)) == 1
        same_as_the_list(session)
        same_as_the_list(session, Filters(division="ashford-central"))


def test_a_date_long_past_pages_the_list_instead(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    with freeze_time(TODAY):
        ledger_with_every_band(session)
        monkeypatch.setattr(kept, "MOST_WORKED_OUT", 0)
        assert at_risk_page(session, as_of=date(2019, 1, 1), offset=0, limit=3) is None
