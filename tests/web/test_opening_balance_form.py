"""An officer records an opening balance in a real browser (SPEC 8.3): the record form asks
for its original date of receipt with a GOV.UK date input, refuses a date that is none or
is after the balance's own beside the field, and the obligation page shows the money held
and the original date."""

from __future__ import annotations

import os
import re
from datetime import date
from decimal import Decimal

import pytest
from flask import Flask
from sqlalchemy import select

from ledger import clock
from ledger.models import Entry
from ledger.services import balances
from tests.web.conftest import screenshot, sign_in
from tests.web.test_pages import AXE, an_obligation_with_money

pytestmark = pytest.mark.browser


def open_the_form(page, reference: str) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, "officer@demo.s106.test")
    page.wait_for_url(re.compile("/dashboard"))
    page.goto(f"/obligations/{reference}")
    page.get_by_role("link", name="Record an opening balance").click()
    page.wait_for_url(re.compile("/record/opening-balance$"))


def fill(page, *, day: str, month: str, year: str, reference: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_label("Amount in pounds").fill("3000.00")
    balance_date = page.get_by_role("group", name="Date", exact=True)
    for part, value in (("Day", "1"), ("Month", "4"), ("Year", "2024")):
        balance_date.get_by_label(part).fill(value)
    group = page.get_by_role("group", name="Original date of receipt (optional)")
    group.get_by_label("Day").fill(day)
    group.get_by_label("Month").fill(month)
    group.get_by_label("Year").fill(year)
    page.get_by_label("Finance system reference (optional)").fill(reference)
    page.get_by_label("Reason or note").fill("held at the cut-over from the old spreadsheet")
    page.get_by_role("button", name="Continue").click()


def test_officer_records_an_opening_balance_with_its_original_date(page, live_app: Flask) -> None:  # type: ignore[no-untyped-def]
    reference = an_obligation_with_money(live_app)
    open_the_form(page, reference)
    fill(page, day="30", month="6", year="2015", reference="BROWSER-OB-1")
    assert "30 June 2015" in page.locator('[data-answer="original_received_on"]').inner_text()
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(f"/obligations/{re.escape(reference)}$"))
    assert "BROWSER-OB-1 saved" in page.locator(".notification-banner").inner_text()
    assert page.locator('[data-figure="held"]').inner_text() == "£3,000.00"
    row = page.get_by_role("row").filter(has_text="BROWSER-OB-1").last
    assert "Opening balance" in row.inner_text() and "originally received 30 June 2015" in row.inner_text()
    screenshot(page, "opening-balance-recorded")
    with live_app.extensions["ledger.sessions"]() as session:
        entry = session.scalars(select(Entry).where(Entry.reference == "BROWSER-OB-1")).one()
        assert (entry.kind, entry.amount, entry.occurred_on, entry.original_received_on) == (
            "opening-balance", Decimal("3000.00"), date(2024, 4, 1), date(2015, 6, 30))
        assert balances.obligation_balance(session, reference, on=clock.today()).balances.held >= Decimal("3000.00")


@pytest.mark.parametrize(("day", "month", "year", "says"), [
    ("31", "2", "2015", "Original date of receipt must be a real date"),
    ("2", "4", "2024", "Original date of receipt must not be after the opening balance's date"),
    ("1", "13", "2015", "Original date of receipt must be a real date"),
    ("x", "6", "2015", "Original date of receipt must be a real date"),
])
def test_a_bad_original_date_is_refused_beside_the_field_keeping_what_was_typed(  # type: ignore[no-untyped-def]
    page, live_app: Flask, day: str, month: str, year: str, says: str,
) -> None:
    reference = an_obligation_with_money(live_app)
    open_the_form(page, reference)
    fill(page, day=day, month=month, year=year, reference="BROWSER-OB-BAD")
    assert says in page.locator("#original_received_on-error").inner_text()
    assert page.get_by_role("alert").is_visible()
    screenshot(page, "opening-balance-refused")
    group = page.get_by_role("group", name="Original date of receipt (optional)")
    assert [group.get_by_label(part).input_value() for part in ("Day", "Month", "Year")] == [day, month, year]
    with live_app.extensions["ledger.sessions"]() as session:
        assert session.scalars(select(Entry).where(Entry.reference == "BROWSER-OB-BAD")).first() is None


def test_the_form_has_no_serious_accessibility_violations(browser, base_url: str, live_app: Flask) -> None:  # type: ignore[no-untyped-def]
    if not AXE.exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("axe-core is required under CI=true: `make test` installs it with npm")
        pytest.skip("axe-core not installed (needs npm)")
    context = browser.new_context(base_url=base_url, bypass_csp=True)  # axe is injected as a script
    page = context.new_page()
    open_the_form(page, an_obligation_with_money(live_app))
    fill(page, day="31", month="2", year="2015", reference="BROWSER-OB-AXE")  # with its error shown
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    context.close()
    serious = [(v["id"], v["help"]) for v in result["violations"] if v["impact"] in ("serious", "critical")]
    assert serious == []
