"""Every page, as the person who uses it would see it (issue 15 "Done means"): on the demo
county in Chromium, at 1280 px and at 320 px wide, each page has no serious or critical
axe-core violation, does not scroll sideways at 320 px outside its tables, marks exactly
one link of the main navigation as the current page (aria-current="page") when the page
belongs to a section, and is saved as a screenshot (test-output/screenshots: NAME at
1280 px, NAME-phone at 320 px).

To check a new page, add a Page to PAGES: its path may name the demo's records
({agreement}, {obligation}, {project}, {division}, {other_division}, {user_id},
{token_id}, {run_id}, {entry_id}); ``act`` does something on it first (sends a form
empty, to see its errors)."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from ledger.models import Division, Entry, Invoice, Obligation, Project, User
from ledger.services import SYSTEM, import_runs, users
from ledger.web.layout import nav_section
from tests.web.conftest import screenshot, sign_in
from tests.web.test_pages import AXE

ADMIN, OFFICER, MEMBER = "admin@demo.s106.test", "officer@demo.s106.test", "member@demo.s106.test"
WIDTHS = {1280: "", 320: "-phone"}
TONBRIDGE = Path(__file__).parents[1] / "data" / "gov-csv" / "tonbridge-and-malling"


def send_empty(button: str, status: int = 422) -> Callable[[Any], None]:
    """Press a form's button with nothing filled in: the form is refused with ``status``
    and the page shows its errors."""
    def act(page: Any) -> None:
        with page.expect_response(lambda response: response.request.method == "POST") as answer:
            page.get_by_role("button", name=button, exact=True).click()
        page.wait_for_load_state()
        assert answer.value.status == status
        assert page.locator(".error-summary").count() == 1, "the form was not refused"
        assert page.title().startswith("Error: ")
    return act


@dataclass(frozen=True)
class Page:
    """A page to check: its name (the screenshot's), its path, the navigation link it
    belongs to (None for a page outside the sections), who signs in to see it (None: no
    one), the status it answers, and what to do on it before it is checked."""

    name: str
    path: str
    section: str | None
    role: str | None = ADMIN
    status: int = 200
    act: Callable[[Any], None] | None = None


PAGES = [
    Page("dashboard", "/dashboard", "Dashboard"),
    Page("agreements", "/agreements?sort=authority", "Agreements"),
    Page("agreement", "/agreements/{agreement}", "Agreements"),
    Page("obligation", "/obligations/{obligation}", "Agreements"),
    Page("record-receipt", "/obligations/{obligation}/record/receipt", "Agreements", role=OFFICER),
    Page("reverse", "/entries/{entry_id}/reverse", "Agreements", role=OFFICER),
    Page("agreement-new", "/agreements/new", "Agreements", role=OFFICER),
    Page("agreement-edit", "/agreements/{agreement}/edit", "Agreements", role=OFFICER),
    Page("obligation-new", "/agreements/{agreement}/obligations/new", "Agreements", role=OFFICER),
    Page("obligation-edit", "/obligations/{obligation}/edit", "Agreements", role=OFFICER),
    Page("instalment-new", "/obligations/{obligation}/instalments/new", "Agreements", role=OFFICER),
    Page("review-new", "/obligations/{obligation}/reviews/new", "Agreements", role=OFFICER),
    Page("entry", "/entries/{entry_id}", "Agreements"),
    Page("invoice", "/invoices/{invoice}", "Income due"),
    Page("projects", "/projects", "Projects"),
    Page("project-new", "/projects/new", "Projects", role=OFFICER),
    Page("project-edit", "/projects/{project}/edit", "Projects", role=OFFICER),
    Page("project", "/projects/{project}", "Projects"),
    Page("at-risk", "/at-risk?sort=band&order=desc", "Money at risk"),
    Page("divisions", "/divisions", "Divisions"),
    Page("division", "/divisions/{other_division}", "Divisions"),
    Page("my-division", "/divisions/{division}", "My division", role=MEMBER),
    Page("member-divisions", "/divisions", "Divisions", role=MEMBER),
    Page("income-due", "/income-due", "Income due"),
    Page("index-values", "/index-values", "Indices"),
    Page("index-values-error", "/index-values", "Indices", act=send_empty("Record")),
    Page("reports", "/reports", "Reports"),
    Page("reports-error", "/reports?report=at-risk&as_of-day=31&as_of-month=2&as_of-year=2025", "Reports",
         status=400),
    Page("imports", "/imports", "Imports"),
    Page("import-run", "/imports/{run_id}", "Imports"),
    Page("reconciliation", "/reconciliation", "Reconciliation", role=OFFICER),
    Page("audit", "/audit", "Audit log"),
    Page("audit-error", "/audit?from-day=32&from-month=1&from-year=2025", "Audit log", status=400),
    Page("admin-users", "/admin/users", "Users"),
    Page("admin-users-error", "/admin/users", "Users", act=send_empty("Add user")),
    Page("admin-user", "/admin/users/{user_id}", "Users"),
    Page("admin-tokens", "/admin/tokens", "Tokens"),
    Page("admin-token", "/admin/tokens/{token_id}", "Tokens"),
    Page("account", "/account", "Your account", role=MEMBER),
    Page("accessibility", "/accessibility", None),
    Page("accessibility-signed-out", "/accessibility", None, role=None),
    Page("login", "/login", None, role=None),
    Page("login-error", "/login", None, role=None, act=send_empty("Sign in")),
    Page("not-found", "/agreements/no-such-agreement", "Agreements", status=404),
]


@pytest.fixture(scope="module")
def records(live_app: Flask) -> dict[str, object]:
    """The demo's records the paths name: the busiest obligation and project, a division
    that is not the councillor's, and an import run of real files."""
    result = live_app.test_cli_runner().invoke(args=["ledger", "import", "gov-csv", str(TONBRIDGE)])
    assert result.exit_code == 0, result.output
    with live_app.extensions["ledger.sessions"]() as session:
        busiest = (select(Entry.obligation_id).group_by(Entry.obligation_id)
                   .order_by(func.count().desc(), Entry.obligation_id).limit(1))
        obligation = session.scalars(select(Obligation).where(Obligation.id.in_(busiest))).one()
        project = session.scalars(select(Project).where(Project.id.in_(
            select(Entry.project_id).where(Entry.project_id.is_not(None)).group_by(Entry.project_id)
            .order_by(func.count().desc(), Entry.project_id).limit(1)))).one()
        member = session.scalars(select(User).where(User.email == MEMBER)).one()
        other = session.scalars(select(Division.code).where(Division.code != member.division_code)
                                .order_by(Division.code)).first()
        receipt = session.scalars(select(Entry.id).where(Entry.obligation_id == obligation.id,
                                                         Entry.kind == "receipt", Entry.reverses.is_(None))
                                  .order_by(Entry.id)).first()
        if not users.list_tokens(session, email=OFFICER):
            users.issue_token(session, email=OFFICER, actor=SYSTEM)
        [run], _ = import_runs.list_runs(session, offset=0, limit=1)
        invoice = session.scalars(select(Invoice.reference).order_by(Invoice.id)).first()
        assert invoice, "the demo issues invoices"
        return {"agreement": obligation.agreement.reference, "obligation": obligation.reference,
                "project": project.reference, "division": member.division_code, "other_division": other,
                "user_id": member.id, "token_id": users.list_tokens(session, email=OFFICER)[0].id,
                "run_id": run.id, "entry_id": receipt, "invoice": invoice}


@pytest.fixture(scope="module")
def tabs(browser: Any, base_url: str) -> Iterator[Callable[[str | None, int], Any]]:
    """A browser tab per person and width, signed in once: ``tab(email, width)``."""
    opened: dict[tuple[str | None, int], Any] = {}
    contexts = []

    def tab(email: str | None, width: int) -> Any:
        if (email, width) not in opened:
            # Axe is injected as a script, which the pages' own policy rightly forbids.
            context = browser.new_context(base_url=base_url, bypass_csp=True, viewport={"width": width, "height": 900})
            context.set_default_timeout(20_000)
            contexts.append(context)
            page = context.new_page()
            if email:
                sign_in(page, email)
                page.wait_for_url(re.compile("/(dashboard|divisions/)"))
            opened[email, width] = page
        return opened[email, width]

    yield tab
    for context in contexts:
        context.close()


#: Everything on the page that reaches past the right edge of a screen ``width`` wide,
#: outside the tables that scroll in their own box.
TOO_WIDE = """width => [...document.querySelectorAll('body *')]
    .filter(e => !e.closest('.table-wrap') && e.getBoundingClientRect().right > width + 1)
    .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className ? '.' + e.className : ''))"""


@pytest.mark.browser
@pytest.mark.parametrize("width", list(WIDTHS))
@pytest.mark.parametrize("spec", PAGES, ids=lambda spec: spec.name)
def test_every_page_is_accessible_reflows_and_marks_its_section(tabs, records, spec: Page, width: int) -> None:  # type: ignore[no-untyped-def]
    if not AXE.exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("axe-core is required under CI=true: `make test` installs it with npm")
        pytest.skip("axe-core not installed (needs npm)")
    page = tabs(spec.role, width)
    response = page.goto(spec.path.format(**records))
    assert response.status == spec.status, f"{spec.path}: {response.status}"
    if spec.act:
        spec.act(page)

    marked = page.locator('nav[aria-label="Main"] [aria-current="page"]')
    if spec.section is None:
        assert marked.count() == 0
    else:
        assert marked.all_inner_texts() == [spec.section], "the current section is not marked once"
    assert page.locator("main h1").count() == 1
    if page.locator(".error-summary").count():
        # GOV.UK: the title says so first, and the summary comes before the heading.
        assert page.title().startswith("Error: ")
        assert page.evaluate("""() => Boolean(document.querySelector('.error-summary')
            .compareDocumentPosition(document.querySelector('main h1')) & Node.DOCUMENT_POSITION_FOLLOWING)""")
    screenshot(page, spec.name + WIDTHS[width])
    if width == 320:
        assert page.evaluate(TOO_WIDE, width) == [], "reaches past the edge of a phone's screen"
        assert page.evaluate("document.documentElement.scrollWidth") <= width, "scrolls sideways at 320 px"
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    serious = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
    assert serious == [], json.dumps([(v["id"], v["help"], [n["target"] for n in v["nodes"][:3]]) for v in serious])


@pytest.mark.browser
def test_the_keyboard_alone_skips_to_the_content_signs_in_and_reaches_a_refused_field(page) -> None:  # type: ignore[no-untyped-def]
    page.goto("/login")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to main content"
    page.keyboard.press("Enter")
    # The link's jump is the browser's own, after the key press has returned: waited for.
    page.wait_for_url(re.compile("#main$"), timeout=5000)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "email"
    page.keyboard.type(OFFICER)
    page.keyboard.press("Enter")  # no password: refused, and the summary has the focus
    page.wait_for_function("() => document.activeElement.classList.contains('error-summary')", timeout=5000)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Enter your password"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "password"
    page.keyboard.type("demo-password")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile("/dashboard"))
    assert page.get_by_role("navigation", name="Main").locator("[aria-current=page]").inner_text() == "Dashboard"


# -- without a browser ----------------------------------------------------------------------
@pytest.mark.parametrize(("path", "section"), [
    ("/dashboard", "dashboard"), ("/agreements", "agreements"), ("/agreements.csv", "agreements"),
    ("/agreements/20/00001/FUL", "agreements"), ("/obligations/20/00001/FUL/1/record/receipt", "agreements"),
    ("/entries/7/reverse", "agreements"), ("/projects", "projects"), ("/projects/PRJ-1", "projects"),
    ("/divisions", "divisions"), ("/divisions/ashford-central", "divisions"), ("/income-due", "income-due"),
    ("/invoices/INV-1", "income-due"), ("/admin/users/3", "users"), ("/admin/tokens", "tokens"),
    ("/reconciliation/transactions/7", "reconciliation"), ("/accessibility", None), ("/login", None), ("/", None), ("/agreementsx", None), ("/audit", "audit"),
])
def test_each_path_belongs_to_one_section(path: str, section: str | None) -> None:
    assert nav_section(path) == section


def test_a_councillors_own_division_is_my_division_and_any_other_is_divisions() -> None:
    assert nav_section("/divisions/ashford-central", my_division="ashford-central") == "my-division"
    assert nav_section("/divisions/ashford-rural", my_division="ashford-central") == "divisions"
    assert nav_section("/divisions", my_division="ashford-central") == "divisions"


def _luminance(colour: str) -> float:
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(text: str, background: str) -> float:
    """The WCAG contrast ratio of two #rrggbb colours."""
    lighter, darker = sorted((_luminance(text), _luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def test_each_band_has_its_own_tag_colour_with_text_at_4_5_to_1() -> None:
    css = (Path(__file__).parents[2] / "ledger" / "static" / "app.css").read_text()
    variables = dict(re.findall(r"--([a-z]+): (#[0-9a-f]{6})", css))
    colours = {}
    for band in ("overdue", "red", "amber", "green", "unknown-deadline", "no-deadline"):
        rule = re.search(rf"\.tag\.band-{band}\b[^{{]*\{{([^}}]*)\}}", css)
        assert rule, f"no tag colour for the {band} band"
        declared = dict(re.findall(r"(background|color): (#[0-9a-f]{6}|var\(--[a-z]+\))", rule.group(1)))
        text, background = (variables[v[6:-1]] if v.startswith("var") else v
                            for v in (declared["color"], declared["background"]))
        assert contrast(text, background) >= 4.5, band
        colours[band] = background
    assert len(set(colours.values())) == len(colours), "two bands share a colour"
    assert contrast("#ffffff", "#000000") == pytest.approx(21)
