"""Words a lawyer accepts (issue 13 item 8) and repayment terms on the pages: money past its
repayment date is never called "overdue", and an obligation says what its deadline counts
from, or that its terms are not yet read from the deed."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from flask import Flask
from sqlalchemy import select

from ledger.models import Obligation
from tests.web.conftest import screenshot, sign_in

pytestmark = pytest.mark.browser


def test_the_dashboard_says_past_repayment_date_not_overdue(page) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, "officer@demo.s106.test")
    page.wait_for_url(re.compile("/dashboard"))
    at_risk = page.locator("main").inner_text()
    assert "Past repayment date" in at_risk
    # "Overdue" is left only for invoices unpaid after 30 days (income due), not for deadlines.
    assert re.findall(r"Overdue(?! \(over 30 days\))", at_risk) == []


@pytest.mark.parametrize(("basis", "words"), [
    ("unknown", "terms not yet read from the deed"), ("last-payment", "years from the last payment received"),
    ("none", "no time limit"),
])
def test_an_obligation_page_says_what_its_deadline_counts_from(  # type: ignore[no-untyped-def]
    page, live_app: Flask, basis: str, words: str,
) -> None:
    with live_app.extensions["ledger.sessions"]() as session:
        reference = session.scalars(select(Obligation.reference).where(Obligation.repayment_basis == basis)
                                    .order_by(Obligation.id)).first()
    assert reference, f"the demo has no {basis} obligation"
    sign_in(page, "officer@demo.s106.test")
    page.wait_for_url(re.compile("/dashboard"))
    page.goto(f"/obligations/{quote(reference, safe='')}")
    assert words in page.locator("[data-terms]").inner_text()
    if basis == "unknown":
        # The band in words, as on every page (the macro reads the labels from the page's context).
        assert page.locator("span.tag.band-unknown-deadline").first.inner_text() == "Repayment date not yet known"
        screenshot(page, "obligation-unknown-terms")
