"""Reference data in the web (issue 15 item 3), as an officer does it in Chromium: an agreement
added and corrected with its reason in its history, an obligation typed as "£250,000", a
project added and corrected, an instalment, commencement and completion recorded on the
agreement's page, and receipts matched to an invoice from the receipt and from the invoice
until income due clears. Refusals name the field and the limit; a councillor gets 403 on
every write page; each new page has no serious accessibility violation at 1280 and 320 px
and does not scroll sideways on a phone."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import expect
from sqlalchemy import func, select

from ledger import clock
from ledger.domain.vocab import EntryKind
from ledger.models import (
    Agreement,
    AuditEvent,
    Authority,
    Division,
    InvoicePayment,
    Obligation,
    Project,
)
from ledger.services import SYSTEM, balances, income, registry
from ledger.services.entries import EntryRequest, record_entry
from tests.web.conftest import PASSWORD, screenshot, sign_in
from tests.web.test_pages import AXE

OFFICER, MEMBER = "officer@demo.s106.test", "member@demo.s106.test"
D = Decimal


def _sessions(app: Flask):  # type: ignore[no-untyped-def]
    return app.extensions["ledger.sessions"]()


def _places(app: Flask) -> tuple[Authority, Division]:
    with _sessions(app) as session:
        authority = session.scalars(select(Authority).order_by(Authority.name)).first()
        division = session.scalars(select(Division).where(Division.authority_code == authority.code)
                                   .order_by(Division.name)).first()
        session.expunge_all()
    return authority, division


def _receipt(app: Flask, obligation: str, reference: str, amount: str, on: date) -> int:
    with _sessions(app) as session:
        entry, _ = record_entry(session, EntryRequest(kind=EntryKind.RECEIPT, obligation_reference=obligation,
                                                      amount=D(amount), occurred_on=on, reference=reference,
                                                      reason="remittance"), actor=SYSTEM)
        return entry.id


def _count(app: Flask, model: type, *where: object) -> int:
    with _sessions(app) as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def _fill_date(page, name: str, day: date) -> None:  # type: ignore[no-untyped-def]
    page.locator(f"#{name}").fill(str(day.day))
    page.locator(f"#{name}-month").fill(str(day.month))
    page.locator(f"#{name}-year").fill(str(day.year))


def _summary(page) -> str:  # type: ignore[no-untyped-def]
    summary = page.locator(".error-summary")
    assert summary.count() == 1, "no error summary"
    return summary.inner_text()  # type: ignore[no-any-return]


@pytest.mark.browser
def test_an_officer_adds_an_agreement_and_an_obligation_and_corrects_the_agreement(page, live_app: Flask) -> None:  # type: ignore[no-untyped-def]
    authority, division = _places(live_app)
    sign_in(page, OFFICER)
    page.wait_for_url(re.compile("/dashboard"))
    page.goto("/agreements/new")
    page.get_by_role("button", name="Save agreement").click()
    # Refused with the GOV.UK error summary, above the heading, focused, naming each field.
    assert page.title().startswith("Error:")
    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    assert summary.evaluate("node => node.compareDocumentPosition(document.querySelector('h1')) & 4")  # h1 follows
    text = _summary(page)
    assert "Enter the agreement's reference" in text and "Choose the planning authority that sealed it" in text
    assert "Enter the date the agreement was entered into" in text and "Missing data" not in text
    summary.get_by_role("link", name="Enter the agreement's reference").click()
    expect(page.get_by_label("Reference", exact=True)).to_be_focused()
    screenshot(page, "agreement-new-error")

    page.get_by_label("Reference", exact=True).fill("WEB/2024/0001")
    page.get_by_label("Type of agreement").select_option(label="Section 106 agreement")
    page.get_by_label("Planning authority").select_option(label=authority.name)
    _fill_date(page, "signed_on", date(2024, 3, 27))
    page.get_by_label("Site or address (optional)").fill("Old Mill, Ashford")
    page.get_by_label("Developer (optional)").fill("Mill Homes Ltd")
    page.get_by_label("Division (optional)").select_option(label=division.name)
    page.get_by_role("button", name="Save agreement").click()
    page.wait_for_url(re.compile(r"/agreements/WEB/2024/0001(#reference)?$"))  # a redirect keeps the fragment
    main = page.locator("main").inner_text()
    assert "Agreement WEB/2024/0001 added." in main
    assert authority.name in main and division.name in main and "27 March 2024" in main
    assert "Section 106 agreement" in main and "section-106" not in main

    # The same reference again is refused by name, and nothing more is written.
    page.goto("/agreements/new")
    page.get_by_label("Reference", exact=True).fill("WEB/2024/0001")
    page.get_by_label("Planning authority").select_option(label=authority.name)
    _fill_date(page, "signed_on", date(2024, 3, 28))
    page.get_by_role("button", name="Save agreement").click()
    assert "There is already an agreement with this reference" in _summary(page)
    assert page.locator("#reference-error").is_visible()
    assert _count(live_app, Agreement, Agreement.reference == "WEB/2024/0001") == 1

    page.goto("/agreements/WEB/2024/0001")
    page.get_by_role("link", name="Add an obligation").click()
    page.wait_for_url(re.compile("/obligations/new$"))
    assert page.get_by_label("Reference", exact=True).input_value() == "WEB/2024/0001/1"
    page.get_by_label("Purpose").select_option(label="Education")
    page.get_by_label("Service").select_option(label="Primary education")
    page.get_by_label("Amount secured (optional)").fill("£250,000")
    page.get_by_label("Years from completion of the development").check()
    page.get_by_label("Number of years").fill("40")
    page.get_by_role("button", name="Save obligation").click()
    assert "Number of years must be a whole number from 1 to 30" in _summary(page)
    assert page.get_by_label("Amount secured (optional)").input_value() == "£250,000"  # kept as typed
    page.get_by_label("Number of years").fill("10")
    page.get_by_role("button", name="Save obligation").click()
    page.wait_for_url(re.compile(r"/agreements/WEB/2024/0001(#obligations)?$"))
    row = page.locator("#obligations .table-wrap tbody tr").first.inner_text()
    assert "WEB/2024/0001/1" in row and "£250,000.00" in row and "Primary education" in row
    assert "10 years from completion of the development" in row
    with _sessions(live_app) as session:
        made = session.scalars(select(Obligation).where(Obligation.reference == "WEB/2024/0001/1")).one()
        assert (made.amount, made.repayment_basis, made.repayment_years) == (D("250000.00"), "completion", 10)

    page.get_by_role("link", name="Change details").click()
    page.wait_for_url(re.compile("/edit$"))
    assert page.get_by_label("Site or address").input_value() == "Old Mill, Ashford"
    page.get_by_label("Site or address").fill("Old Mill Lane, Ashford TN23 1AA")
    page.get_by_role("button", name="Save changes").click()
    assert "Enter why you are making this change" in _summary(page)
    page.get_by_label("Reason for the change").fill("Site address corrected from the deed")
    page.get_by_role("button", name="Save changes").click()
    page.wait_for_url(re.compile(r"/agreements/WEB/2024/0001(#history)?$"))
    history = page.locator("#history .table-wrap").inner_text()
    assert OFFICER in history and "Site address corrected from the deed" in history
    assert "Site: Old Mill, Ashford" in history and "Old Mill Lane, Ashford TN23 1AA" in history
    assert re.search(r"\d{1,2} \w+ \d{4}, \d\d:\d\d:\d\d (GMT|BST)", history), history
    screenshot(page, "agreement-history")


@pytest.mark.browser
def test_an_officer_adds_an_instalment_records_milestones_and_matches_receipts(page, live_app: Flask) -> None:  # type: ignore[no-untyped-def]
    authority, division = _places(live_app)
    with _sessions(live_app) as session:
        registry.create_agreement(session, {"reference": "WEB/2024/0002", "type": "section-106", "developer": "Weald Homes",
                                            "authority_code": authority.code, "division_code": division.code,
                                            "signed_on": date(2024, 1, 15)}, actor=SYSTEM)
        registry.create_obligation(session, "WEB/2024/0002", {"reference": "WEB/2024/0002/1", "purpose": "education",
                                                              "service": "education-primary", "amount": D("250000.00"),
                                                              "repayment_basis": "completion", "repayment_years": 10},
                                   actor=SYSTEM)
    first = _receipt(live_app, "WEB/2024/0002/1", "REM-0002-A", "100000.00", date(2024, 7, 1))
    second = _receipt(live_app, "WEB/2024/0002/1", "REM-0002-B", "40000.00", date(2024, 8, 1))
    sign_in(page, OFFICER)
    page.wait_for_url(re.compile("/dashboard"))

    page.goto("/agreements/WEB/2024/0002")
    page.get_by_role("link", name="Add an instalment to WEB/2024/0002/1").click()
    page.wait_for_url(re.compile("/instalments/new$"))
    page.get_by_label("Percentage of the obligation").fill("50")
    page.get_by_label("Fixed sum").fill("£125,000")
    page.get_by_label("When the development commences").check()
    page.get_by_role("button", name="Save instalment").click()
    assert "Enter either a percentage of the obligation or a fixed sum, not both" in _summary(page)
    page.get_by_label("Fixed sum").fill("")
    page.get_by_role("button", name="Save instalment").click()
    page.wait_for_url(re.compile(r"/agreements/WEB/2024/0002(#instalments)?$"))
    assert "When the development commences" in page.locator("#instalments .table-wrap").inner_text()

    # A milestone refused on the agreement's own page: the summary, not a flash, names the field.
    page.get_by_label("Commencement").check()
    page.get_by_role("button", name="Record milestone").click()
    assert page.title().startswith("Error:")
    assert "Enter the date it was reached" in _summary(page)
    assert page.locator(".milestone-form #on-error").is_visible()
    assert page.get_by_label("Commencement").is_checked()  # what was chosen is kept
    _fill_date(page, "on", date(2024, 6, 3))
    page.get_by_role("button", name="Record milestone").click()
    page.wait_for_url(re.compile(r"/agreements/WEB/2024/0002(#milestones)?$"))
    assert "Commencement on 3 June 2024 recorded. 1 invoice issued." in page.locator("main").inner_text()
    invoice_link = page.locator("#instalments .table-wrap").get_by_role("link", name="WEB/2024/0002/1/1/invoice")
    assert invoice_link.count() == 1

    # Completion recorded here feeds the completion basis: deadlines count from it.
    def deadlines() -> list[date | None]:
        with _sessions(live_app) as session:
            return [balances.deadline_date(p.deadline)
                    for p in balances.obligation_balance(session, "WEB/2024/0002/1", on=clock.today()).receipts]
    assert deadlines() == [None, None]
    page.get_by_label("Completion").check()
    _fill_date(page, "on", date(2024, 9, 30))
    page.get_by_role("button", name="Record milestone").click()
    assert "Completion on 30 September 2024 recorded." in page.locator("main").inner_text()
    assert deadlines() == [date(2034, 9, 30), date(2034, 9, 30)]
    assert "completion recorded" in page.locator("#history .table-wrap").inner_text()

    page.goto("/income-due")
    assert "WEB/2024/0002/1" in page.locator("main").inner_text()

    # From the receipt: the open invoice listed with what it has outstanding.
    page.goto(f"/entries/{first}")
    assert "REM-0002-A" in page.locator("h1").inner_text()
    option = page.get_by_label(re.compile(r"WEB/2024/0002/1/1/invoice: £125,000\.00 outstanding"))
    option.check()
    page.get_by_label("Amount", exact=True).fill("£100,000")
    page.get_by_role("button", name="Match to the invoice").click()
    page.wait_for_url(re.compile(f"/entries/{first}$"))
    assert "which now has £25,000.00 outstanding" in page.locator("main").inner_text()
    assert "WEB/2024/0002/1/1/invoice" in page.locator("#invoices + .table-wrap").inner_text()
    assert page.locator("[data-figure=unmatched]").inner_text() == "£0.00"
    screenshot(page, "entry-matched")

    # From the invoice: over-matching names the limit, and writes nothing.
    page.goto("/invoices/WEB/2024/0002/1/1/invoice")
    assert page.locator("[data-figure=outstanding]").inner_text() == "£25,000.00"
    page.get_by_label(re.compile(r"REM-0002-B: £40,000\.00 not yet matched")).check()
    page.get_by_label("Amount", exact=True).fill("30,000.00")
    page.get_by_role("button", name="Match the receipt").click()
    assert ("Amount must be £25,000.00 or less: that is what the invoice still has outstanding"
            in _summary(page))
    assert _count(live_app, InvoicePayment, InvoicePayment.entry_id == second) == 0
    screenshot(page, "invoice-error")
    page.get_by_label("Amount", exact=True).fill("£25,000.00")
    page.get_by_role("button", name="Match the receipt").click()
    page.wait_for_url(re.compile("/invoices/WEB/2024/0002/1/1/invoice$"))
    assert page.locator("[data-figure=outstanding]").inner_text() == "£0.00"
    assert page.locator("[data-figure=paid]").inner_text() == "£125,000.00"
    payments = page.locator("#payments + .table-wrap").inner_text()
    assert "REM-0002-A" in payments and "REM-0002-B" in payments

    page.goto("/income-due")
    assert "WEB/2024/0002/1" not in page.locator("main").inner_text()  # income due has cleared
    with _sessions(live_app) as session:
        assert [r for r in income.income_due(session, today=clock.today()) if r.agreement_reference == "WEB/2024/0002"] == []
        matched = session.scalars(select(AuditEvent).where(AuditEvent.action == "match-payment",
                                                           AuditEvent.target_reference == "WEB/2024/0002/1/1/invoice"))
        assert [e.actor for e in matched] == [OFFICER, OFFICER]


@pytest.mark.browser
def test_an_officer_adds_a_project_and_corrects_it(page, live_app: Flask) -> None:  # type: ignore[no-untyped-def]
    _, division = _places(live_app)
    sign_in(page, OFFICER)
    page.wait_for_url(re.compile("/dashboard"))
    page.goto("/projects/new")
    page.get_by_label("Reference", exact=True).fill("CAP-2025-014")
    page.get_by_role("button", name="Save project").click()
    text = _summary(page)
    assert "Enter the project's name" in text and "Choose the council service" in text
    page.get_by_label("Name").fill("Ashford Primary: two classrooms")
    page.get_by_label("Service").select_option(label="Primary education")
    page.get_by_label("Division (optional)").select_option(label=division.name)
    page.get_by_role("button", name="Save project").click()
    page.wait_for_url(re.compile("/projects/CAP-2025-014$"))
    assert "Project CAP-2025-014 added." in page.locator("main").inner_text()
    assert division.name in page.locator("dl").inner_text()

    page.get_by_role("link", name="Change details").click()
    page.get_by_label("Name").fill("Ashford Primary: three classrooms")
    page.get_by_label("It repays money the council borrowed").check()
    page.get_by_label("Reason for the change").fill("Cabinet approved a third classroom")
    page.get_by_role("button", name="Save changes").click()
    page.wait_for_url(re.compile("/projects/CAP-2025-014$"))
    assert page.locator("h1").inner_text() == "Ashford Primary: three classrooms"
    assert "Repays borrowing\nYes" in page.locator("dl").inner_text()
    with _sessions(live_app) as session:
        [event] = session.scalars(select(AuditEvent).where(AuditEvent.action == "update-project",
                                                           AuditEvent.target_reference == "CAP-2025-014"))
        assert (event.actor, event.reason) == (OFFICER, "Cabinet approved a third classroom")
        assert event.before["name"] == "Ashford Primary: two classrooms"  # type: ignore[index]


# -- pages for each role, accessible and reflowing ------------------------------------------
@pytest.fixture(scope="module")
def sample(live_app: Flask) -> dict[str, str]:
    """An agreement with an obligation, an invoice with money outstanding and a receipt not
    yet matched, so every new page shows its form."""
    authority, division = _places(live_app)
    with _sessions(live_app) as session:
        registry.create_agreement(session, {"reference": "AXE/2024/1", "type": "section-106", "site_name": "Axe Farm",
                                            "authority_code": authority.code, "division_code": division.code,
                                            "signed_on": date(2024, 1, 15)}, actor=SYSTEM)
        registry.create_obligation(session, "AXE/2024/1", {"reference": "AXE/2024/1/1", "purpose": "highways",
                                                           "service": "highways", "amount": D("80000.00"),
                                                           "repayment_basis": "receipt", "repayment_years": 10},
                                   actor=SYSTEM)
        registry.create_project(session, {"reference": "AXE-PRJ", "name": "Axe Farm junction", "service": "highways"},
                                actor=SYSTEM)
        income.add_instalment(session, "AXE/2024/1/1", {"reference": "AXE/2024/1/1/1", "fixed_sum": D("80000.00"),
                                                        "trigger_event": "commencement"}, actor=SYSTEM)
        income.record_milestone(session, "AXE/2024/1", kind="commencement", on=date(2024, 4, 1), actor=SYSTEM)
        registry.update_agreement(session, "AXE/2024/1", {"dwellings": 40}, actor=SYSTEM, reason="from the deed")
    receipt = _receipt(live_app, "AXE/2024/1/1", "REM-AXE-1", "30000.00", date(2024, 5, 1))
    return {"agreement": "/agreements/AXE/2024/1", "agreement-edit": "/agreements/AXE/2024/1/edit",
            "agreement-new": "/agreements/new", "obligation-new": "/agreements/AXE/2024/1/obligations/new",
            "obligation-edit": "/obligations/AXE/2024/1/1/edit",
            "instalment-new": "/obligations/AXE/2024/1/1/instalments/new", "project": "/projects/AXE-PRJ",
            "project-new": "/projects/new", "project-edit": "/projects/AXE-PRJ/edit", "entry": f"/entries/{receipt}",
            "invoice": "/invoices/AXE/2024/1/1/1/invoice"}


PAGES = ["agreement", "agreement-edit", "agreement-new", "obligation-new", "obligation-edit", "instalment-new",
         "project", "project-new", "project-edit", "entry", "invoice"]
#: Screenshot names where the lists' crawl (test_every_page) already names the page.
SHOTS = {"agreement": "agreement-milestone", "project": "project-officer"}
#: Each form refused, so its error summary and field errors are checked too.
REFUSED = {"agreement-new": "Save agreement", "obligation-new": "Save obligation", "project-new": "Save project",
           "instalment-new": "Save instalment", "agreement": "Record milestone", "entry": "Match to the invoice",
           "invoice": "Match the receipt", "agreement-edit": "Save changes"}


@pytest.fixture(scope="module")
def contexts(browser, base_url: str) -> Iterator[dict[int, object]]:  # type: ignore[no-untyped-def]
    """One signed-in officer's browser at each width. Axe is injected as a script, which the
    pages' own policy rightly forbids, so these bypass it."""
    made = {}
    for width in (1280, 320):
        context = browser.new_context(base_url=base_url, bypass_csp=True, viewport={"width": width, "height": 900})
        page = context.new_page()
        sign_in(page, OFFICER)
        page.wait_for_url(re.compile("/dashboard"))
        made[width] = page
    yield made
    for page in made.values():
        page.context.close()  # type: ignore[attr-defined]


@pytest.mark.browser
@pytest.mark.parametrize("width", [1280, 320])
@pytest.mark.parametrize(("name", "refused"), [(name, False) for name in PAGES] + [(name, True) for name in REFUSED],
                         ids=[*PAGES, *(f"{name}-refused" for name in REFUSED)])
def test_the_pages_are_accessible_and_reflow(contexts, sample: dict[str, str], name: str, refused: bool,  # type: ignore[no-untyped-def]
                                             width: int) -> None:
    if not AXE.exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("axe-core is required under CI=true: `make test` installs it with npm")
        pytest.skip("axe-core not installed (needs npm)")
    page = contexts[width]
    page.goto(sample[name])
    if refused:
        page.get_by_role("button", name=REFUSED[name]).click()
        assert page.locator(".error-summary").count() == 1 and page.title().startswith("Error:")
    suffix = ("-error" if refused else "") + ("-phone" if width == 320 else "")
    screenshot(page, SHOTS.get(name, name) + suffix)
    if width == 320:
        assert page.evaluate("document.documentElement.scrollWidth") <= 320, "scrolls sideways at 320 px"
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    serious = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
    assert serious == [], json.dumps([(v["id"], v["help"], [n["target"] for n in v["nodes"][:3]]) for v in serious])


# -- without a browser ----------------------------------------------------------------------
def _client(app: Flask, email: str) -> tuple[FlaskClient, str]:
    client = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True))
    assert token
    client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token[1]})
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/account").get_data(as_text=True))
    assert token
    return client, token[1]


WRITE_PAGES = ["agreement-new", "agreement-edit", "obligation-new", "obligation-edit", "instalment-new",
               "project-new", "project-edit"]


def test_a_councillor_gets_403_on_every_write_page_and_reads_the_others(live_app: Flask, sample: dict[str, str]) -> None:
    client, token = _client(live_app, MEMBER)
    before = _count(live_app, AuditEvent, AuditEvent.outcome == "ok")
    for name in WRITE_PAGES:
        assert client.get(sample[name]).status_code == 403, name
        assert client.post(sample[name], data={"csrf_token": token, "reference": "X", "reason": "x"}).status_code == 403
    milestone = sample["agreement"] + "/milestones"
    assert client.post(milestone, data={"csrf_token": token, "kind": "completion", "on": "2024-01-01"}).status_code == 403
    for name in ("agreement", "project", "entry", "invoice"):
        page = client.get(sample[name])
        assert page.status_code == 200, name
        assert not re.search(r'<form method="post"[^>]*class="form', page.get_data(as_text=True)), name  # no form
    for name in ("entry", "invoice"):  # read by anyone, matched by officers and admins
        assert client.post(sample[name], data={"csrf_token": token, "amount": "1.00"}).status_code == 403, name
    assert _count(live_app, AuditEvent, AuditEvent.outcome == "ok") == before  # nothing written
    assert _count(live_app, AuditEvent, AuditEvent.outcome == "refused", AuditEvent.actor == MEMBER) > 0


@pytest.mark.parametrize(("form", "field", "message"), [
    ({"kind": "completion", "on-day": "31", "on-month": "12", "on-year": "9999"}, "on",
     "Date must be between 1 January 1900 and 31 December 2199"),
    ({"kind": "completion", "on": "1899-12-31"}, "on", "Date must be between 1 January 1900 and 31 December 2199"),
    ({"kind": "completion", "on-day": "30", "on-month": "2", "on-year": "2024"}, "on", "Date must be a real date"),
    ({"kind": "completion", "on": "2024-02-30"}, "on", "Date must be a real date"),
    ({"kind": "completion"}, "on", "Enter the date it was reached"),
    ({"kind": "topping-out", "on": "2024-01-01"}, "kind", "Choose which milestone was reached from the list"),
    ({"on": "2024-01-01"}, "kind", "Choose which milestone was reached"),
    ({"kind": "occupation", "on": "2024-01-01", "occupied": str(2**31)}, "occupied",
     "Dwellings occupied so far must be a whole number from 1 to 2,147,483,647"),
    ({"kind": "occupation", "on": "2024-01-01", "occupied": "0"}, "occupied",
     "Dwellings occupied so far must be a whole number from 1 to 2,147,483,647"),
    ({"kind": "occupation", "on": "2024-01-01", "occupied": "\u00b2"}, "occupied",
     "Dwellings occupied so far must be a whole number, like 12"),
    ({"kind": "occupation", "on": "2024-01-01", "occupied": "\u0661\u0662"}, "occupied",
     "Dwellings occupied so far must be a whole number, like 12"),
    ({"kind": "occupation", "on": "2024-01-01", "occupied": " 12"}, "occupied",
     "Dwellings occupied so far must be a whole number, like 12"),
    ({"kind": "occupation", "on": "2024-01-01"}, "occupied", "Enter how many dwellings are occupied so far"),
], ids=["year-9999", "before-1900", "no-such-day", "iso-no-such-day", "no-date", "unknown-kind", "no-kind",
        "past-32-bits", "none-occupied", "superscript-two", "arabic-indic-digits", "spaced",
        "occupation-without-a-count"])
def test_a_refused_milestone_is_shown_on_the_form_and_records_nothing(live_app: Flask, sample: dict[str, str],
                                                                       form: dict[str, str], field: str,
                                                                       message: str) -> None:
    client, token = _client(live_app, OFFICER)
    before = _count(live_app, AuditEvent, AuditEvent.action.like("record-%"))
    response = client.post(sample["agreement"] + "/milestones", data=form | {"csrf_token": token})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'<a href="#{field}">{message}' in page and f'id="{field}-error"' in page
    assert _count(live_app, AuditEvent, AuditEvent.action.like("record-%")) == before


def test_a_milestone_from_the_form_is_recorded(live_app: Flask, sample: dict[str, str]) -> None:
    client, token = _client(live_app, OFFICER)
    response = client.post(sample["agreement"] + "/milestones", data={
        "kind": "occupation", "on-day": "31", "on-month": "12", "on-year": "2199", "occupied": "12",
        "csrf_token": token}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Occupations on 31 December 2199 recorded." in page and "12 dwellings occupied by 31 December 2199" in page
    with _sessions(live_app) as session:
        [recorded] = session.scalars(select(AuditEvent).where(AuditEvent.action == "record-occupation",
                                                              AuditEvent.target_reference == "AXE/2024/1"))
        assert recorded.after["occupied"] == 12  # type: ignore[index]


def test_a_forged_form_is_a_400_and_an_unknown_record_a_404(live_app: Flask, sample: dict[str, str]) -> None:
    client, token = _client(live_app, OFFICER)
    forged = client.post(sample["agreement"] + "/milestones",
                         data={"csrf_token": token, "kind": "completion", "on": "2024-01-01", "when": "now"})
    assert forged.status_code == 400
    assert client.post("/projects/new", data={"csrf_token": token, "reference": "P", "name": "P", "service": "highways",
                                              "needs_review": "yes"}).status_code == 400
    for path in ("/agreements/NO-SUCH/edit", "/obligations/NO-SUCH/instalments/new", "/projects/NO-SUCH/edit",
                 "/invoices/NO-SUCH", "/entries/99999999", "/entries/%D9%A1", "/entries/2147483648"):
        assert client.get(path).status_code == 404, path
    # A reference with a slash and a space, percent-encoded, still finds its record.
    assert client.get("/agreements/" + quote("AXE/2024/1") + "/edit").status_code == 200
    assert _count(live_app, Project, Project.reference == "P") == 0


def test_pressing_save_twice_saves_once_and_shows_what_was_saved(live_app: Flask, sample: dict[str, str]) -> None:
    authority, _ = _places(live_app)
    client, token = _client(live_app, OFFICER)
    form = {"csrf_token": token, "reference": "TWICE/1", "type": "section-106", "authority_code": authority.code,
            "signed_on-day": "2", "signed_on-month": "5", "signed_on-year": "2024", "site_name": "Twice Farm"}
    first, second = client.post("/agreements/new", data=form), client.post("/agreements/new", data=form)
    assert (first.status_code, second.status_code) == (302, 302)
    assert first.headers["Location"] == second.headers["Location"]
    assert _count(live_app, AuditEvent, AuditEvent.action == "create-agreement", AuditEvent.target_reference == "TWICE/1") == 1
    # The same reference with other details, or from someone else, is a refusal naming the field.
    other = client.post("/agreements/new", data=form | {"site_name": "Another Farm"})
    assert other.status_code == 422 and "There is already an agreement with this reference" in other.get_data(as_text=True)
    admin, admin_token = _client(live_app, "admin@demo.s106.test")
    assert admin.post("/agreements/new", data=form | {"csrf_token": admin_token}).status_code == 422

    with _sessions(live_app) as session:
        obligation = session.scalars(select(Obligation).where(Obligation.reference == "AXE/2024/1/1")).one()
        invoice = income.open_invoices(session, obligation.id)[0].invoice.reference
    receipt = _receipt(live_app, "AXE/2024/1/1", "REM-AXE-TWICE", "500.00", date(2024, 6, 1))
    match = {"csrf_token": token, "invoice": invoice, "amount": "£500.00"}
    first, second = client.post(f"/entries/{receipt}", data=match), client.post(f"/entries/{receipt}", data=match)
    assert (first.status_code, second.status_code) == (302, 302)
    assert _count(live_app, InvoicePayment, InvoicePayment.entry_id == receipt) == 1
    again = client.post(f"/entries/{receipt}", data=match | {"amount": "400.00"})  # not a repeat: refused
    assert again.status_code == 422 and "already matched to this invoice" in again.get_data(as_text=True)


@pytest.mark.browser
def test_an_ended_session_keeps_what_was_typed_into_a_form(page, live_app: Flask, sample: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, OFFICER)
    page.wait_for_url(re.compile("/dashboard"))
    page.goto(sample["project-edit"])
    page.get_by_label("Name").fill("Axe Farm junction and crossing")
    page.get_by_label("Reason for the change").fill("Crossing added by the cabinet")
    page.context.clear_cookies()  # as if the session had ended
    page.get_by_role("button", name="Save changes").click()
    page.wait_for_url(re.compile(r"/login\?next="))
    sign_in_again(page)
    page.wait_for_url(re.compile(r"/projects/AXE-PRJ/edit$"))
    assert page.get_by_label("Name").input_value() == "Axe Farm junction and crossing"
    assert page.get_by_label("Reason for the change").input_value() == "Crossing added by the cabinet"
    page.get_by_role("button", name="Save changes").click()
    page.wait_for_url(re.compile("/projects/AXE-PRJ$"))
    assert page.locator("h1").inner_text() == "Axe Farm junction and crossing"

    # The milestone form is on the agreement's page: signing in again lands there, filled in.
    page.goto(sample["agreement"])
    page.get_by_label("Occupations", exact=True).check()
    _fill_date(page, "on", date(2024, 9, 1))
    page.get_by_label("Dwellings occupied so far (for occupations)").fill("7")
    page.context.clear_cookies()
    page.get_by_role("button", name="Record milestone").click()
    page.wait_for_url(re.compile(r"/login\?next="))
    sign_in_again(page)
    page.wait_for_url(re.compile(r"/agreements/AXE/2024/1/milestones$"))
    assert page.get_by_label("Occupations", exact=True).is_checked()
    assert page.locator("#on-year").input_value() == "2024"
    assert page.get_by_label("Dwellings occupied so far (for occupations)").input_value() == "7"
    page.get_by_role("button", name="Record milestone").click()
    assert "7 dwellings occupied by 1 September 2024" in page.locator("main").inner_text()


def sign_in_again(page) -> None:  # type: ignore[no-untyped-def]
    assert "Sign in again and your answers will be kept" in page.locator("main").inner_text()
    page.get_by_label("Email address").fill(OFFICER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_a_proposed_agreement_is_added_without_a_date_and_signed_later(live_app: Flask) -> None:
    authority, _ = _places(live_app)
    client, token = _client(live_app, OFFICER)
    form = {"csrf_token": token, "reference": "PROPOSED/1", "type": "section-106", "status": "proposed",
            "authority_code": authority.code}
    dated = client.post("/agreements/new", data=form | {"signed_on-day": "1", "signed_on-month": "2",
                                                        "signed_on-year": "2025"})
    assert dated.status_code == 422
    assert "Leave date entered into blank for a proposed agreement" in dated.get_data(as_text=True)
    assert client.post("/agreements/new", data=form).status_code == 302
    page = client.get("/agreements/PROPOSED/1").get_data(as_text=True)
    assert "Under negotiation: not signed yet" in page

    edit = client.get("/agreements/PROPOSED/1/edit").get_data(as_text=True)
    assert "Date it was signed (optional)" in edit
    signed = client.post("/agreements/PROPOSED/1/edit", data={
        "csrf_token": token, "signed_on-day": "3", "signed_on-month": "3", "signed_on-year": "2025",
        "reason": "Sealed at committee"})
    assert signed.status_code == 302, signed.get_data(as_text=True)
    with _sessions(live_app) as session:
        agreement = session.scalars(select(Agreement).where(Agreement.reference == "PROPOSED/1")).one()
        assert (agreement.status, agreement.signed_on) == ("signed", date(2025, 3, 3))
    page = client.get("/agreements/PROPOSED/1").get_data(as_text=True)
    text = re.sub(r"<[^>]+>", "", page)
    assert "Sealed at committee" in text and "Entered into: not recorded → changed to 3 March 2025" in text
    assert "Date it was signed" not in client.get("/agreements/PROPOSED/1/edit").get_data(as_text=True)
