"""Reviews of money at risk in Chromium (issue 16): an officer records a review from an
obligation's page (refused first with the GOV.UK error summary) and from the at-risk list;
the dashboard counts money needing one; a councillor sees the proposed agreement of their
division and turns their digest off on their account page; axe finds nothing serious or
critical, and nothing scrolls sideways, at 1280 and 320 px."""

from __future__ import annotations

import json
import os
import re
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from ledger import clock
from ledger.domain.money import format_money
from ledger.models import Agreement
from ledger.services import notify, reviews
from tests.web.conftest import screenshot, sign_in
from tests.web.test_pages import AXE, member_division

pytestmark = pytest.mark.browser
OFFICER, MEMBER = "officer@demo.s106.test", "member@demo.s106.test"


def unreviewed(app: Flask, skip: int = 0) -> str:
    """An obligation with money at risk that nobody has reviewed."""
    with app.extensions["ledger.sessions"]() as session:
        needed = reviews.needing_review(session, today=clock.today())
    assert len(needed.unreviewed) > skip, "the demo has no unreviewed money at risk: the test proves nothing"
    return needed.unreviewed[skip].obligation_reference


def fill_date(page, name: str, day) -> None:  # type: ignore[no-untyped-def]
    for part, value in (("", day.day), ("-month", day.month), ("-year", day.year)):
        page.locator(f"#{name}{part}").fill(str(value))


def test_an_officer_records_a_review_from_the_obligation_page(page, live_app: Flask) -> None:  # type: ignore[no-untyped-def]
    reference = unreviewed(live_app)
    sign_in(page, OFFICER)
    page.wait_for_url(re.compile("/dashboard"))
    page.goto(f"/obligations/{reference}")
    assert "No review recorded yet." in page.locator("#reviews").inner_text()
    page.locator("#reviews").get_by_role("link", name="Record a review").click()
    page.wait_for_url(re.compile("/reviews/new$"))
    assert page.get_by_label("Owner's email address").input_value() == OFFICER
    page.get_by_label("Owner's email address").fill("")
    page.get_by_role("button", name="Save review").click()
    summary = page.locator(".error-summary")
    assert page.title().startswith("Error:")
    assert summary.evaluate("node => node === document.activeElement")
    for words in ("Select what is being done about the money", "Enter a note saying what is being done",
                  "Enter the email address of the person who owns this", "Enter the date of the next review"):
        assert words in summary.inner_text()
    summary.get_by_role("link", name="Enter the date of the next review").click()
    assert page.evaluate("document.activeElement.id") == "next_review_on"
    screenshot(page, "review-form-error")

    page.get_by_label("Deed of variation sought").check()
    page.get_by_label("Note").fill("Asked the developer for two more years")
    page.get_by_label("Owner's email address").fill("jo.bloggs@kent.gov.uk")
    fill_date(page, "next_review_on", clock.today() - timedelta(days=1))
    page.get_by_role("button", name="Save review").click()
    assert "Date of the next review must be today" in page.locator(".error-summary").inner_text()
    fill_date(page, "next_review_on", clock.today() + timedelta(days=30))
    page.get_by_role("button", name="Save review").click()
    # A redirect keeps the fragment the error summary's link added.
    page.wait_for_url(re.compile(f"/obligations/{re.escape(reference)}(#next_review_on)?$"))
    assert f"Review of obligation {reference} saved." in page.locator("main").inner_text()
    history = page.locator("#reviews tbody tr")
    assert history.count() == 1
    cells = history.first.locator("td").all_inner_texts()
    assert cells[1:4] == ["Deed of variation sought (latest)", "Asked the developer for two more years",
                          "jo.bloggs@kent.gov.uk"]
    screenshot(page, "obligation-reviews")
    with live_app.extensions["ledger.sessions"]() as session:
        [kept] = reviews.list_reviews(session, reference)[0]
        assert (kept.status, kept.created_by, kept.next_review_on) == (
            "variation-sought", OFFICER, clock.today() + timedelta(days=30))


def test_an_officer_records_a_review_from_the_at_risk_list(page, live_app: Flask) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, OFFICER)
    page.wait_for_url(re.compile("/dashboard"))
    panel = page.locator("#reviews-needed")
    with live_app.extensions["ledger.sessions"]() as session:
        needed = reviews.needing_review(session, today=clock.today())
    assert format_money(needed.unreviewed_money) in panel.inner_text()
    assert format_money(needed.due_money) in panel.inner_text()
    page.goto("/at-risk?band=red")
    link = page.get_by_role("link", name=re.compile("^Record a review of ")).first
    reference = " ".join(link.text_content().split()).removeprefix("Record a review of ").split(",")[0]
    link.click()
    page.wait_for_url(re.compile(r"/reviews/new\?from=at-risk$"))
    page.get_by_label("Spend planned").check()
    page.get_by_label("Note").fill("Goes to cabinet next month")
    fill_date(page, "next_review_on", clock.today() + timedelta(days=60))
    page.get_by_role("button", name="Save review").click()
    page.wait_for_url(re.compile("/at-risk$"))
    assert f"Review of obligation {reference} saved." in page.locator("main").inner_text()
    page.goto("/at-risk?band=red")
    row = page.locator("tbody tr", has=page.get_by_role("link", name=reference, exact=True)).first
    next_review = clock.today() + timedelta(days=60)
    assert f"Spend planned, next {next_review.day} {next_review:%B %Y}" in row.inner_text()


def test_a_councillor_sees_proposals_and_chooses_their_emails(page, live_app: Flask) -> None:  # type: ignore[no-untyped-def]
    division = member_division(live_app)
    with live_app.extensions["ledger.sessions"]() as session:
        proposed = session.scalars(select(Agreement.reference).where(
            Agreement.division_code == division.code, Agreement.status == "proposed")).all()
    assert proposed, "the demo has no proposed agreement in the councillor's division"
    sign_in(page, MEMBER)
    page.wait_for_url(re.compile("/divisions/"))
    section = page.locator("#proposed-agreements")
    assert section.get_by_role("link", name=proposed[0]).count() == 1
    page.goto("/account")
    digest = page.get_by_label(re.compile("A digest of your division"))
    assert digest.is_checked()
    digest.uncheck()
    page.get_by_role("button", name="Save email choices").click()
    page.wait_for_url(re.compile("/account#notifications$"))
    assert "you will receive no emails" in page.locator("main").inner_text()
    assert not page.get_by_label(re.compile("A digest of your division")).is_checked()
    with live_app.extensions["ledger.sessions"]() as session:
        assert [on for _, _, on in notify.choices(session, MEMBER)] == [False]
    page.get_by_label(re.compile("A digest of your division")).check()
    page.get_by_role("button", name="Save email choices").click()
    page.wait_for_url(re.compile("/account#notifications$"))
    with live_app.extensions["ledger.sessions"]() as session:
        assert [on for _, _, on in notify.choices(session, MEMBER)] == [True]


PAGES = ["review-form", "review-form-error", "obligation", "at-risk", "dashboard", "account", "division"]
#: What this feature adds to other pages: those parts are checked (the rest is the page's own test's).
PARTS = {"obligation": "#reviews", "at-risk": "main .table-wrap", "dashboard": "#reviews-needed",
         "account": "#notifications", "division": "#proposed-agreements"}


@pytest.mark.parametrize("width", [1280, 320])
@pytest.mark.parametrize("path", PAGES)
def test_review_pages_are_accessible_and_reflow(browser, base_url: str, live_app: Flask, path: str,  # type: ignore[no-untyped-def]
                                                width: int) -> None:
    if not AXE.exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("axe-core is required under CI=true: `make test` installs it with npm")
        pytest.skip("axe-core not installed (needs npm)")
    reference = unreviewed(live_app)
    context = browser.new_context(base_url=base_url, bypass_csp=True, viewport={"width": width, "height": 900})
    page = context.new_page()
    sign_in(page, MEMBER if path in ("account", "division") else OFFICER)
    page.wait_for_url(re.compile("/dashboard|/divisions/"))
    page.goto({"review-form": f"/obligations/{reference}/reviews/new", "obligation": f"/obligations/{reference}",
               "review-form-error": f"/obligations/{reference}/reviews/new", "at-risk": "/at-risk",
               "dashboard": "/dashboard", "account": "/account",
               "division": f"/divisions/{member_division(live_app).code}"}[path])
    if path == "review-form-error":
        page.get_by_role("button", name="Save review").click()
        assert page.locator(".error-summary").count() == 1
    screenshot(page, f"reviews-{path}-{'desktop' if width == 1280 else 'phone'}")
    part = PARTS.get(path)
    if width == 320:
        widest = (page.evaluate("document.documentElement.scrollWidth") if part is None else page.evaluate(
            "selector => Math.max(...[...document.querySelectorAll(selector)].map(e => e.getBoundingClientRect().right))",
            part))
        assert widest <= 320, "scrolls sideways at 320 px"
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async part => await axe.run(part ? {include: [part]} : document, "
                           "{resultTypes: ['violations']})", part)
    serious = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
    context.close()
    assert serious == [], json.dumps([(v["id"], v["help"], [n["target"] for n in v["nodes"][:3]]) for v in serious])
