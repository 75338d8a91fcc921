"""Entry forms that help (issue 15 item 2), in a real browser on the small demo county: an
amount typed as on a remittance, the obligation's money beside the form, check your answers
before saving, a refusal that says the limit in pounds on the Amount field, a double click
that records once, a date after today refused naming the Date, and a session that ends
while a form is filled in keeping what was typed. Then axe and reflow at 1280 and 320 px."""

from __future__ import annotations

import json
import os
import re
from datetime import date
from decimal import Decimal

import pytest
from flask import Flask
from flask.testing import FlaskClient
from freezegun import freeze_time
from sqlalchemy import func, select

from ledger import clock
from ledger.domain.entry_kinds import KINDS, KindRule
from ledger.domain.money import format_money
from ledger.domain.vocab import EntryKind
from ledger.models import Entry, Obligation
from ledger.services import SYSTEM, balances, users
from ledger.web import long_date
from tests.factories import make_ledger, post
from tests.web.conftest import PASSWORD, screenshot, sign_in
from tests.web.test_pages import AXE, an_obligation_with_money

OFFICER = "officer@demo.s106.test"


def entries_of(app: Flask, reference: str) -> list[Entry]:
    with app.extensions["ledger.sessions"]() as session:
        found = session.scalars(select(Entry).join(Obligation).where(Obligation.reference == reference)
                                .order_by(Entry.id)).all()
        session.expunge_all()
        return list(found)


def an_obligation_holding_money(app: Flask) -> str:
    """An obligation with money held today, some of it not allocated to a project."""
    with app.extensions["ledger.sessions"]() as session:
        for reference in session.scalars(select(Obligation.reference).order_by(Obligation.id)):
            held = balances.obligation_balance(session, reference, on=clock.today()).balances
            if held.unallocated > Decimal("1000.00"):
                return reference
    raise AssertionError("the demo holds no unallocated money")


def words(locator) -> str:  # type: ignore[no-untyped-def]
    """A locator's text as read aloud: hidden words included, white space collapsed."""
    return " ".join(str(locator.text_content()).split())


def open_form(page, reference: str, kind_label: str) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, OFFICER)
    page.wait_for_url(re.compile("/dashboard"))
    page.goto(f"/obligations/{reference}")
    page.get_by_role("link", name=kind_label).click()
    page.wait_for_url(re.compile("/record/"))


def fill_receipt(page, amount: str, reason: str = "remittance advice 4411") -> None:  # type: ignore[no-untyped-def]
    page.get_by_label("Amount in pounds").fill(amount)
    page.get_by_label("Reason or note").fill(reason)


@pytest.mark.browser
def test_an_amount_typed_as_on_a_remittance_is_checked_then_saved(page, live_app: Flask) -> None:  # type: ignore[no-untyped-def]
    reference = an_obligation_with_money(live_app)
    open_form(page, reference, "Record a receipt")
    money = page.get_by_role("region", name=re.compile("Money on this obligation"))
    assert money.locator('[data-money="held"]').inner_text() == "£0.00"
    today = clock.today()
    date = page.get_by_role("group", name="Date")
    assert [date.get_by_label(part).input_value() for part in ("Day", "Month", "Year")] == [
        str(today.day), str(today.month), str(today.year)]
    fill_receipt(page, "£8,540.40")
    page.get_by_role("button", name="Continue").click()

    assert page.get_by_role("heading", level=1).inner_text() == "Check your answers before saving"
    answers = page.locator(".summary-list").first
    assert answers.locator('[data-answer="amount"] dd').first.inner_text() == "£8,540.40"
    assert answers.locator('[data-answer="occurred_on"] dd').first.inner_text() == long_date(today)
    assert answers.locator('[data-answer="reference"] dd').first.inner_text() == "None given"
    # Change goes back to the form with everything as typed.
    page.get_by_role("button", name="Change amount").click()
    assert page.get_by_label("Amount in pounds").input_value() == "£8,540.40"
    assert page.get_by_label("Reason or note").input_value() == "remittance advice 4411"
    assert page.evaluate("document.activeElement.id") == "amount"
    page.get_by_role("button", name="Continue").click()
    assert entries_of(live_app, reference) == []  # nothing is written before Save
    page.get_by_role("button", name="Save").click()

    back_on_the_obligation(page, reference)
    [entry] = entries_of(live_app, reference)
    assert (entry.kind, entry.amount, entry.occurred_on) == ("receipt", Decimal("8540.40"), today)
    assert re.fullmatch(r"web-[0-9a-f]{32}", entry.reference)
    assert f"Receipt {entry.reference} saved." in page.locator(".notification-banner").inner_text()
    assert page.locator('[data-figure="received"]').inner_text() == "£8,540.40"


def back_on_the_obligation(page, reference: str) -> None:  # type: ignore[no-untyped-def]
    # A redirect keeps the fragment of the page posted from (an error summary's link).
    page.wait_for_url(re.compile(f"/obligations/{re.escape(reference)}(#[a-z_]+)?$"))


def chosen_project(page) -> str:  # type: ignore[no-untyped-def]
    select_ = page.get_by_label("Project")
    select_.select_option(index=1)
    return str(select_.input_value())


@pytest.mark.browser
def test_a_refused_spend_says_the_most_it_can_be_on_the_amount_field(page, live_app: Flask) -> None:  # type: ignore[no-untyped-def]
    reference = an_obligation_holding_money(live_app)
    open_form(page, reference, "Record spend")
    project = chosen_project(page)
    today = clock.today()
    with live_app.extensions["ledger.sessions"]() as session:
        held = balances.obligation_balance(session, reference, on=today).balances
    # The demo's entries are all dated today or earlier, so today's money is the limit: what is
    # not allocated to any project, and what is allocated to this one and not spent.
    most = held.unallocated + held.by_project.get(project, Decimal("0.00"))
    says = (f"Spend must be {format_money(most)} or less: that is the money held on {long_date(today)} that is not "
            "allocated to another project")
    before = len(entries_of(live_app, reference))
    page.get_by_label("Amount in pounds").fill(f"{most + Decimal('0.01'):,}")
    page.get_by_label("Reason or note").fill("contractor's invoice 77")
    page.get_by_role("button", name="Continue").click()

    assert words(page.locator("#amount-error")) == f"Error: {says}"
    summary = page.locator(".error-summary")
    assert summary.get_by_role("link", name=says).count() == 1
    assert summary.evaluate("node => node === document.activeElement")
    assert page.title().startswith("Error: ")
    # The summary comes before the page's heading, and its link leads to the field.
    assert summary.evaluate("(node) => !!(node.compareDocumentPosition(document.querySelector('h1')) & 4)")
    assert page.get_by_label("Amount in pounds").input_value() == f"{most + Decimal('0.01'):,}"
    assert page.get_by_label("Project").input_value() == project
    summary.get_by_role("link", name=says).click()
    assert page.evaluate("document.activeElement.id") == "amount"
    assert len(entries_of(live_app, reference)) == before

    page.get_by_label("Amount in pounds").fill(f"{most:,}")
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Save").click()
    back_on_the_obligation(page, reference)
    assert [e.amount for e in entries_of(live_app, reference) if e.kind == "spend"][-1] == most


@pytest.mark.browser
def test_saving_twice_records_once(page, live_app: Flask) -> None:  # type: ignore[no-untyped-def]
    reference = an_obligation_with_money(live_app)
    open_form(page, reference, "Record a receipt")
    fill_receipt(page, "125.00", "double click")
    page.get_by_role("button", name="Continue").click()
    key = page.locator('input[name="key"]').input_value()
    before = len(entries_of(live_app, reference))
    # Two rapid submits of the check page, at the same moment, as the browser sends them.
    statuses = page.evaluate("""async () => {
        const form = document.querySelector('button[name="confirm"]').form;
        const body = new URLSearchParams(new FormData(form));
        body.append('confirm', 'yes');
        const send = () => fetch(form.action, {method: 'POST', body}).then(r => r.status);
        return await Promise.all([send(), send()]);
    }""")
    assert statuses == [200, 200]
    recorded = entries_of(live_app, reference)[before:]
    assert [(e.reference, e.amount) for e in recorded] == [(key, Decimal("125.00"))]
    # Then a double click on Save: the form's key finds the entry recorded.
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" and "/record/" in r.url else None)
    page.get_by_role("button", name="Save").dblclick()
    back_on_the_obligation(page, reference)
    assert posts, "the browser sent the form"
    assert f"This receipt was already recorded: {key}" in page.locator("main").inner_text()
    assert len(entries_of(live_app, reference)) == before + 1


@pytest.mark.browser
def test_a_receipt_dated_after_today_is_refused_naming_the_date(page, live_app: Flask) -> None:  # type: ignore[no-untyped-def]
    reference = an_obligation_with_money(live_app)
    open_form(page, reference, "Record a receipt")
    fill_receipt(page, "£2,000.00", "paid next year")
    date = page.get_by_role("group", name="Date")
    date.get_by_label("Year").fill(str(clock.today().year + 1))
    page.get_by_role("button", name="Continue").click()
    assert words(page.locator("#occurred_on-error")) == "Error: Date must be today or earlier"
    page.locator(".error-summary").get_by_role("link", name="Date must be today or earlier").click()
    assert page.evaluate("document.activeElement.id") == "occurred_on"
    assert entries_of(live_app, reference) == []


@pytest.mark.browser
def test_an_ended_session_keeps_what_was_typed(page, live_app: Flask) -> None:  # type: ignore[no-untyped-def]
    reference = an_obligation_with_money(live_app)
    open_form(page, reference, "Record a receipt")
    fill_receipt(page, "£1,234.56", "typed before lunch")
    page.get_by_label("Finance system reference (optional)").fill("BROWSER-KEPT-1")
    page.context.clear_cookies()  # as if the session had ended
    page.get_by_role("button", name="Continue").click()

    page.wait_for_url(re.compile(r"/login\?next="))
    assert "Your session ended. Sign in again and your answers will be kept." in page.locator("main").inner_text()
    page.get_by_label("Email address").fill(OFFICER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    page.wait_for_url(re.compile(f"/obligations/{re.escape(reference)}/record/receipt$"))
    assert page.get_by_label("Amount in pounds").input_value() == "£1,234.56"
    assert page.get_by_label("Reason or note").input_value() == "typed before lunch"
    assert page.get_by_label("Finance system reference (optional)").input_value() == "BROWSER-KEPT-1"
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Save").click()
    back_on_the_obligation(page, reference)
    assert [(e.reference, e.amount) for e in entries_of(live_app, reference) if e.reference == "BROWSER-KEPT-1"] == [
        ("BROWSER-KEPT-1", Decimal("1234.56"))]
    # Kept once: shown again, the form is empty.
    page.goto(f"/obligations/{reference}/record/receipt")
    assert page.get_by_label("Amount in pounds").input_value() == ""


@pytest.mark.browser
def test_a_reversal_without_a_reason_is_refused_in_words(page, live_app: Flask) -> None:  # type: ignore[no-untyped-def]
    with live_app.extensions["ledger.sessions"]() as session:
        entry_id = session.scalar(select(func.min(Entry.id)).where(Entry.kind == "allocation"))
    sign_in(page, OFFICER)
    page.wait_for_url(re.compile("/dashboard"))
    page.goto(f"/entries/{entry_id}/reverse")
    page.get_by_role("button", name="Reverse the entry").click()
    assert page.title().startswith("Error: ")
    summary = page.locator(".error-summary")
    assert summary.inner_text().endswith("Enter why the entry is being reversed")
    assert summary.evaluate("(node) => !!(node.compareDocumentPosition(document.querySelector('h1')) & 4)")
    assert words(page.locator("#reason-error")) == "Error: Enter why the entry is being reversed"


@pytest.mark.browser
@pytest.mark.parametrize("width", [1280, 320])
@pytest.mark.parametrize("state", ["form", "check", "error"])
def test_the_entry_forms_are_accessible_and_reflow(browser, base_url: str, live_app: Flask, state: str,  # type: ignore[no-untyped-def]
                                                    width: int) -> None:
    if not AXE.exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("axe-core is required under CI=true: `make test` installs it with npm")
        pytest.skip("axe-core not installed (needs npm)")
    reference = an_obligation_holding_money(live_app)
    context = browser.new_context(base_url=base_url, bypass_csp=True, viewport={"width": width, "height": 900})
    page = context.new_page()
    open_form(page, reference, "Record spend")
    chosen_project(page)
    page.get_by_label("Amount in pounds").fill("999,999,999.99" if state == "error" else "£1.00")
    page.get_by_label("Reason or note").fill("accessibility check")
    if state != "form":
        page.get_by_role("button", name="Continue").click()
        assert page.locator(".error-summary").count() == (1 if state == "error" else 0)
    screenshot(page, f"record-{state}" + ("-phone" if width == 320 else ""))
    if width == 320:
        assert page.evaluate("document.documentElement.scrollWidth") <= 320, "scrolls sideways at 320 px"
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    serious = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
    context.close()
    assert serious == [], json.dumps([(v["id"], v["help"], [n["target"] for n in v["nodes"][:3]]) for v in serious])



# -- without a browser: what an ended session keeps, and what it does not -------------------
PATH = "/obligations/20/00001/FUL/1/record/receipt"
HOST = "http://localhost"


@pytest.fixture
def officer_client(app: Flask) -> FlaskClient:
    with app.extensions["ledger.sessions"]() as session:
        make_ledger(session)
        users.add_user(session, email="officer@test.s106", role="officer", password="correct horse", actor=SYSTEM)
    return app.test_client()


def csrf_of(client: FlaskClient, path: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True))
    assert found
    return found[1]


def sign_in_client(client: FlaskClient) -> FlaskClient:
    response = client.post("/login", data={"email": "officer@test.s106", "password": "correct horse",
                                           "csrf_token": csrf_of(client, "/login")})
    assert response.status_code == 302
    return client


def typed(token: str, **extra: str) -> dict[str, str]:
    return {"csrf_token": token, "key": "web-" + "a" * 32, "amount": "£1,234.56", "occurred_on-day": "2",
            "occurred_on-month": "3", "occurred_on-year": "2026", "reason": "typed before lunch"} | extra


def test_a_session_that_ran_out_keeps_the_form_for_its_page_once(officer_client: FlaskClient) -> None:
    with freeze_time("2026-03-02 09:00:00") as frozen:
        token = csrf_of(sign_in_client(officer_client), PATH)
        frozen.tick(9 * 3600)  # past the eight hours a session lasts
        response = officer_client.post(PATH, data=typed(token), headers={"Origin": HOST})
        assert response.status_code == 302
        assert response.headers["Location"] == "/login?next=" + PATH
        assert "Your session ended. Sign in again and your answers will be kept." in officer_client.get(
            response.headers["Location"]).get_data(as_text=True)
        page = officer_client.get(PATH)  # signed out: the form waits for the signing in
        assert page.status_code == 302
        sign_in_client(officer_client)
        form = officer_client.get(PATH).get_data(as_text=True)
        assert 'value="£1,234.56"' in form and "typed before lunch" in form and 'value="web-' + "a" * 32 in form
        again = officer_client.get(PATH).get_data(as_text=True)
        assert "£1,234.56" not in again and "typed before lunch" not in again


def test_a_form_posted_from_another_site_is_refused_and_not_kept(officer_client: FlaskClient) -> None:
    forged = officer_client.post(PATH, data=typed("forged"), headers={"Origin": "https://evil.example"})
    assert forged.status_code == 400
    unnamed = officer_client.post(PATH, data=typed("forged"))  # neither Origin nor Referer
    assert unnamed.status_code == 400
    # With this browser's own token but from another site: sent to sign in, nothing kept.
    token = csrf_of(officer_client, "/login")
    elsewhere = officer_client.post(PATH, data=typed(token), headers={"Origin": "https://evil.example"})
    assert elsewhere.status_code == 302 and elsewhere.headers["Location"].startswith("/login")
    sign_in_client(officer_client)
    assert "typed before lunch" not in officer_client.get(PATH).get_data(as_text=True)


def test_a_kept_form_holds_no_password_and_nothing_too_big_for_a_cookie(officer_client: FlaskClient) -> None:
    officer_client.post(PATH, data=typed("stale", password="hunter22"), headers={"Referer": HOST + PATH})
    cookie = officer_client.get_cookie("session")
    assert cookie is not None
    with officer_client.application.test_request_context():
        kept = officer_client.application.session_interface.get_signing_serializer(  # type: ignore[attr-defined]
            officer_client.application).loads(cookie.value)
    assert kept["kept_form"]["path"] == PATH
    assert "password" not in kept["kept_form"]["fields"] and "csrf_token" not in kept["kept_form"]["fields"]
    huge = officer_client.post(PATH, data=typed("stale", reason="x" * 5000), headers={"Origin": HOST})
    assert huge.status_code == 302
    message = officer_client.get(huge.headers["Location"]).get_data(as_text=True)
    assert "what you typed was too long to keep" in message
    sign_in_client(officer_client)
    assert "x" * 100 not in officer_client.get(PATH).get_data(as_text=True)


@pytest.mark.parametrize("rule", KINDS, ids=[rule.kind.value for rule in KINDS])
@freeze_time("2026-03-02 12:00:00")
def test_every_kinds_form_checks_then_saves(officer_client: FlaskClient, rule: KindRule) -> None:
    with officer_client.application.extensions["ledger.sessions"]() as session:
        post(session, "receipt", "1000.00", date(2024, 1, 10), reference="R-1")
        post(session, "allocation", "300.00", date(2024, 1, 11), project="PRJ-1", reference="A-1")
        if rule.kind.value == "decommitment":  # releases money committed first (SPEC 8.7)
            post(session, "commitment", "100.00", date(2024, 1, 12), project="PRJ-1", reference="C-1")
    sign_in_client(officer_client)
    path = f"/obligations/20/00001/FUL/1/record/{rule.kind.value}"
    token = csrf_of(officer_client, path)
    form = typed(token, amount="£10.00", reference=f"WEB-{rule.kind.value}") | (
        {"project_reference": "PRJ-1"} if rule.project else {}) | (
        {"recipient": "Kent Academies Trust"} if rule.recipient else {}) | (
        {"interest": "£1.00"} if rule.interest else {}) | (
        {"original_received_on-day": "30", "original_received_on-month": "6", "original_received_on-year": "2015"}
        if rule.kind is EntryKind.OPENING_BALANCE else {})
    check = officer_client.post(path, data=form)
    page = check.get_data(as_text=True)
    assert check.status_code == 200 and "Check your answers before saving" in page, page
    assert 'data-answer="amount"' in page and "£10.00" in page
    assert ("Kent Academies Trust" in page) == rule.recipient
    assert ("30 June 2015" in page) == (rule.kind is EntryKind.OPENING_BALANCE)
    saved = officer_client.post(path, data=form | {"confirm": "yes"})
    assert saved.status_code == 302
    with officer_client.application.extensions["ledger.sessions"]() as session:
        entry = session.scalars(select(Entry).where(Entry.reference == f"WEB-{rule.kind.value}")).one()
        assert (entry.kind, entry.amount, entry.occurred_on) == (rule.kind.value, Decimal("10.00"), date(2026, 3, 2))
