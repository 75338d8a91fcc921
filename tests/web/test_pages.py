"""The web pages in a real headless browser: signing in, recording money through the
forms, refusals, a councillor's division, CSRF, accessibility, screenshots."""

from __future__ import annotations

import json
import os
import re
from decimal import Decimal
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from ledger import clock
from ledger.domain.money import format_money
from ledger.models import Division, Obligation, User
from ledger.services import balances
from tests.web.conftest import screenshot, sign_in

pytestmark = pytest.mark.browser
AXE = Path(__file__).parents[2] / "node_modules" / "axe-core" / "axe.min.js"


def member_division(app: Flask) -> Division:
    with app.extensions["ledger.sessions"]() as session:
        code = session.scalars(select(User.division_code).where(User.role == "member")).one()
        return session.scalars(select(Division).where(Division.code == code)).one()


def an_obligation_with_money(app: Flask) -> str:
    with app.extensions["ledger.sessions"]() as session:
        for obligation in session.scalars(select(Obligation).where(Obligation.amount.is_not(None)).order_by(Obligation.id)):
            held = balances.obligation_balance(session, obligation.reference, on=clock.today()).balances
            if held.received == 0 and obligation.purpose != "monitoring-fees":
                return obligation.reference
    raise AssertionError("the demo has no obligation without receipts")


@pytest.mark.parametrize(("email", "lands_on"), [
    ("officer@demo.s106.test", "/dashboard"), ("admin@demo.s106.test", "/dashboard"),
    ("member@demo.s106.test", "/divisions/"),
])
def test_each_role_signs_in_and_lands_on_its_page(page, email: str, lands_on: str) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, email)
    page.wait_for_url(re.compile(re.escape(lands_on)))
    assert email in page.locator(".who").inner_text()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile("/login"))
    assert "You have signed out." in page.content()


def test_a_wrong_password_is_refused(page) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, "officer@demo.s106.test", "not-the-password")
    assert page.get_by_role("alert").inner_text().count("not right") == 1
    assert page.url.endswith("/login")


def test_officer_records_a_receipt_and_a_spend_and_sees_the_balance_change(page, live_app: Flask) -> None:  # type: ignore[no-untyped-def]
    reference = an_obligation_with_money(live_app)
    sign_in(page, "officer@demo.s106.test")
    page.wait_for_url(re.compile("/dashboard"))
    page.goto(f"/obligations/{reference}")
    assert page.locator('[data-figure="held"]').inner_text() == "£0.00"

    page.get_by_role("link", name="Record a receipt").click()
    page.get_by_label("Amount in pounds").fill("1250.50")
    page.get_by_label("Finance system reference (optional)").fill("BROWSER-RCT-1")
    page.get_by_label("Reason or note").fill("remittance advice 4411")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(f"/obligations/{re.escape(reference)}$"))
    assert "BROWSER-RCT-1 saved" in page.get_by_role("status").inner_text()
    assert page.locator('[data-figure="received"]').inner_text() == "£1,250.50"

    page.get_by_role("link", name="Record spend").click()
    page.get_by_label("Amount in pounds").fill("250.50")
    page.get_by_label("Project").select_option(index=1)
    page.get_by_label("Reason or note").fill("invoice 77 from the contractor")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(f"/obligations/{re.escape(reference)}$"))
    assert page.locator('[data-figure="spent"]').inner_text() == "£250.50"
    assert page.locator('[data-figure="held"]').inner_text() == "£1,000.00"
    with live_app.extensions["ledger.sessions"]() as session:
        assert balances.obligation_balance(session, reference, on=clock.today()).balances.held == Decimal("1000.00")


def test_a_refused_spend_shows_its_reason_beside_the_field_and_keeps_what_was_typed(page, live_app: Flask) -> None:  # type: ignore[no-untyped-def]
    reference = an_obligation_with_money(live_app)
    sign_in(page, "officer@demo.s106.test")
    page.wait_for_url(re.compile("/dashboard"))
    page.goto(f"/obligations/{reference}/record/spend")
    page.get_by_label("Amount in pounds").fill("999999.99")
    page.get_by_label("Project").select_option(index=2)
    page.get_by_label("Reason or note").fill("far too much")
    page.get_by_role("button", name="Save").click()
    error = page.locator("#amount-error")
    assert "held-not-negative" in error.inner_text()
    assert page.get_by_label("Amount in pounds").input_value() == "999999.99"
    assert page.get_by_label("Reason or note").input_value() == "far too much"
    assert page.get_by_role("alert").is_visible()


def test_a_member_sees_their_division_and_cannot_reach_a_form(page, live_app: Flask) -> None:  # type: ignore[no-untyped-def]
    division = member_division(live_app)
    with live_app.extensions["ledger.sessions"]() as session:
        summary = balances.division_summary(session, division.code, on=clock.today())
    sign_in(page, "member@demo.s106.test")
    page.wait_for_url(re.compile(f"/divisions/{division.code}$"))
    assert page.get_by_role("heading", level=1).inner_text() == division.name
    for figure, value in (("secured", summary.secured), ("received", summary.received), ("spent", summary.spent),
                          ("held", summary.held)):
        assert page.locator(f'[data-figure="{figure}"]').inner_text() == format_money(value), figure
    assert page.locator("svg.chart").count() == 2
    screenshot(page, "division")
    some_obligation = an_obligation_with_money(live_app)
    response = page.goto(f"/obligations/{some_obligation}/record/receipt")
    assert response.status == 403
    page.goto(f"/obligations/{some_obligation}")
    assert page.get_by_role("link", name="Record a receipt").count() == 0
    page.goto("/divisions")
    assert page.get_by_role("link", name=division.name).count() == 1


def test_posts_without_a_csrf_token_are_refused(page, live_app: Flask) -> None:  # type: ignore[no-untyped-def]
    reference = an_obligation_with_money(live_app)
    sign_in(page, "officer@demo.s106.test")
    page.wait_for_url(re.compile("/dashboard"))
    response = page.request.post(f"/obligations/{reference}/record/receipt",
                                 form={"amount": "10.00", "occurred_on": "2024-01-01", "reason": "forged"})
    assert response.status == 400
    login = page.request.post("/login", form={"email": "officer@demo.s106.test", "password": "demo-password"})
    assert login.status == 400


def test_dashboard_shows_money_at_risk_and_deadlines(page) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, "officer@demo.s106.test")
    page.wait_for_url(re.compile("/dashboard"))
    assert page.get_by_role("heading", name="Money at risk of repayment").is_visible()
    assert page.locator("svg.chart").count() == 2
    assert page.locator("table").first.locator("tbody tr").count() >= 1
    screenshot(page, "dashboard")
    page.set_viewport_size({"width": 390, "height": 844})
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 400, "the dashboard scrolls sideways at phone width"
    screenshot(page, "dashboard-phone")


MAIN_PAGES = ["/dashboard", "/agreements", "/divisions", "/reports", "/audit", "/login", "/income-due", "/index-values"]


@pytest.mark.parametrize("path", [*MAIN_PAGES, "agreement", "obligation", "record", "division"])
def test_main_pages_have_no_serious_accessibility_violations(browser, base_url: str, live_app: Flask, path: str) -> None:  # type: ignore[no-untyped-def]
    if not AXE.exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("axe-core is required under CI=true: `make test` installs it with npm")
        pytest.skip("axe-core not installed (needs npm)")
    # Axe is injected as a script, which the pages' own policy rightly forbids.
    context = browser.new_context(base_url=base_url, bypass_csp=True)
    page = context.new_page()
    if path != "/login":
        sign_in(page, "admin@demo.s106.test")
        page.wait_for_url(re.compile("/dashboard"))
    reference = an_obligation_with_money(live_app)
    with live_app.extensions["ledger.sessions"]() as session:
        agreement = session.scalars(select(Obligation).where(Obligation.reference == reference)).one().agreement.reference
    target = {"agreement": f"/agreements/{agreement}", "obligation": f"/obligations/{reference}",
              "record": f"/obligations/{reference}/record/transfer",
              "division": f"/divisions/{member_division(live_app).code}"}.get(path, path)
    page.goto(target)
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    serious = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
    context.close()
    assert serious == [], json.dumps([(v["id"], v["help"], [n["target"] for n in v["nodes"][:3]]) for v in serious])
