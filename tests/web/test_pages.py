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
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(f"/obligations/{re.escape(reference)}$"))
    assert "BROWSER-RCT-1 saved" in page.locator(".notification-banner").inner_text()
    assert page.locator('[data-figure="received"]').inner_text() == "£1,250.50"

    page.get_by_role("link", name="Record spend").click()
    page.get_by_label("Amount in pounds").fill("250.50")
    page.get_by_label("Project").select_option(index=1)
    page.get_by_label("Reason or note").fill("invoice 77 from the contractor")
    page.get_by_role("button", name="Continue").click()
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
    page.get_by_role("button", name="Continue").click()
    error = page.locator("#amount-error")
    assert "Spend cannot be recorded: there is no money held on" in error.inner_text()
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


def test_an_officer_finds_a_project_filters_sorts_and_downloads_the_list(page, live_app: Flask) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, "officer@demo.s106.test")
    page.wait_for_url(re.compile("/dashboard"))
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Projects").click()
    page.wait_for_url(re.compile("/projects$"))
    assert page.get_by_role("navigation", name="Main").locator("[aria-current=page]").inner_text() == "Projects"
    everything = int(page.locator("#projects-count").inner_text().split()[0])
    service = page.get_by_label("Service").locator("option").nth(1)
    service_name = service.inner_text()
    page.get_by_label("Service").select_option(label=service_name)
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile("service="))
    filtered = int(page.locator("#projects-count").inner_text().split()[0])
    assert 0 < filtered < everything
    assert set(page.locator("tbody tr td:nth-child(3)").all_inner_texts()) == {service_name}
    page.get_by_role("link", name=re.compile("^Spent")).click()
    page.get_by_role("link", name=re.compile("^Spent")).click()
    page.wait_for_url(re.compile("order=desc"))
    spent = [Decimal(v.replace("£", "").replace(",", "")) for v in page.locator("tbody tr td:nth-child(5)").all_inner_texts()]
    assert spent == sorted(spent, reverse=True)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download these projects (CSV)").click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert text.count("\n") == filtered + 1 and f'"{service_name}"' in text


# -- through the test client ---------------------------------------------------------------
@pytest.fixture
def officer_client(app: Flask):  # type: ignore[no-untyped-def]
    from freezegun import freeze_time

    from ledger.services import SYSTEM, users
    from tests.factories import make_ledger
    from tests.web.test_sessions import PASSWORD
    from tests.web.test_sessions import sign_in as client_sign_in

    with app.extensions["ledger.sessions"]() as session:
        make_ledger(session)
        users.add_user(session, email="officer@kent.gov.uk", role="officer", password=PASSWORD, actor=SYSTEM)
    with freeze_time("2025-06-02 12:00:00"):
        client = app.test_client()
        assert client_sign_in(client, "officer@kent.gov.uk").status_code == 302
        yield client


def _csrf(client) -> str:  # type: ignore[no-untyped-def]
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/index-values").get_data(as_text=True))[1]


def test_an_obligation_page_names_its_authority_and_division(officer_client) -> None:  # type: ignore[no-untyped-def]
    shown = officer_client.get("/obligations/20/00001/FUL/1").get_data(as_text=True)
    assert "<dd class=\"summary-list__value\">Ashford Borough Council</dd>" in shown
    assert '<a href="/divisions/ashford-central">Ashford Central</a>' in shown
    assert "E07000105" not in shown


def test_dates_are_typed_in_day_month_and_year_boxes_and_refused_in_words(officer_client) -> None:  # type: ignore[no-untyped-def]
    obligation = "/obligations/20/00001/FUL/1"
    shown = officer_client.get(f"{obligation}?on-day=31&on-month=3&on-year=2025").get_data(as_text=True)
    assert "Balance at 31 March 2025" in shown
    assert "Balance at 31 March 2025" in officer_client.get(f"{obligation}?on=2025-03-31").get_data(as_text=True)
    refused = officer_client.get(f"{obligation}?on-day=31&on-month=2&on-year=2025")
    text = refused.get_data(as_text=True)
    assert refused.status_code == 400 and 'href="#on">The date of the balance must be a real date' in text
    assert "Balance at 2 June 2025" in text  # today's, while the date is put right

    asked = officer_client.get("/reports?report=at-risk&as_of-day=31&as_of-month=3&as_of-year=2025")
    assert asked.status_code == 302 and asked.headers["Location"] == "/reports/at-risk.xlsx?as_of=2025-03-31"
    wrong = officer_client.get("/reports?report=at-risk&as_of-day=31&as_of-month=13&as_of-year=2025")
    assert wrong.status_code == 400 and "The date of the money at risk must be a real date" in wrong.get_data(as_text=True)


def test_an_index_value_is_refused_in_words_naming_each_field_and_recorded_with_a_success_banner(
        app: Flask, officer_client) -> None:  # type: ignore[no-untyped-def]
    from ledger.services import listing

    csrf = _csrf(officer_client)
    refused = officer_client.post("/index-values", data={"csrf_token": csrf, "index": "rpi", "value": "",
                                                          "period-day": "1", "period-month": "4"})
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "<title>Error: Index values" in text
    for field, words in (("period", "Enter the first day of the period"), ("value", "Enter the value as published"),
                         ("published_on", "Enter the date the value was published")):
        assert f'<a href="#{field}">{words}' in text
    assert "Missing data" not in text and "Not a valid" not in text
    with app.extensions["ledger.sessions"]() as session:
        assert listing.index_values(session) == []

    done = officer_client.post("/index-values", follow_redirects=True, data={
        "csrf_token": csrf, "index": "rpi", "value": "412.5", "period-day": "1", "period-month": "4",
        "period-year": "2025", "published_on-day": "21", "published_on-month": "5", "published_on-year": "2025"})
    banner = done.get_data(as_text=True)
    assert 'class="notification-banner notification-banner--success" role="alert"' in banner
    assert "Retail Prices Index (RPI) for April 2025 recorded." in banner
    assert "<td>Retail Prices Index (RPI)</td><td>April 2025</td>" in banner


def test_signing_in_with_a_blank_field_names_it_and_counts_no_attempt(app: Flask, client) -> None:  # type: ignore[no-untyped-def]
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True))[1]
    refused = client.post("/login", data={"csrf_token": token, "email": " ", "password": ""})
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "<title>Error: Sign in" in text
    assert '<a href="#email">Enter your email address</a>' in text and '<a href="#password">Enter your password</a>' in text
    with app.extensions["ledger.sessions"]() as session:
        from ledger.models import SignInThrottle

        assert session.scalars(select(SignInThrottle)).all() == []


def test_a_division_page_lists_its_proposed_agreements_or_says_there_are_none(  # type: ignore[no-untyped-def]
        officer_client, app: Flask) -> None:
    """The division's summary counts its proposed agreements; the list is read only if any is."""
    from tests.factories import make_agreement

    none = officer_client.get("/divisions/ashford-central").get_data(as_text=True)
    assert "No agreement is being negotiated in this division." in none
    with app.extensions["ledger.sessions"]() as session:
        make_agreement(session, reference="24/00777/OUT", signed_on=None, status="proposed", site_name="Orchard Farm")
    shown = officer_client.get("/divisions/ashford-central").get_data(as_text=True)
    section = shown[shown.index('id="proposed-agreements"'):]
    assert '<a href="/agreements/24/00777/OUT">24/00777/OUT</a>' in section and "Orchard Farm" in section
    assert "No agreement is being negotiated" not in section
