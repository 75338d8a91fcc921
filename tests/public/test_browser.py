"""The public pages in headless Chromium (issue 20 item 4): a resident browses the demo
county without signing in and is given no cookie; every kind of page has no serious or
critical axe-core violation at 1280 and 320 px and nothing but a table is wider than a
phone; pages print on A4. Screenshots: test-output/screenshots/public-*."""

from __future__ import annotations

import json
import os
import re
import socket
import threading
from collections.abc import Iterator

import pytest
from flask import Flask
from werkzeug.serving import make_server

from ledger import clock
from ledger.public import queries
from tests.public.conftest import public_app
from tests.web.conftest import screenshot
from tests.web.test_pages import AXE

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def live(demo: tuple[str, dict[str, str]]) -> Iterator[tuple[str, Flask]]:
    app = public_app(demo[0])
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}", app
    server.shutdown()
    app.extensions["ledger.engine"].dispose()


@pytest.fixture(scope="module")
def targets(live: tuple[str, Flask], demo: tuple[str, dict[str, str]]) -> dict[str, str]:
    """An address of each kind of page: the agreement with the deed, a project it paid for, its division."""
    _, app = live
    with app.extensions["ledger.sessions"]() as session:
        agreement = queries.agreement_page(session, demo[1]["deed"], today=clock.today())
        projects = list(queries.search_agreements(session, queries.Filters(), page=1).rows)
        assert agreement is not None and agreement.division is not None and projects
        project = agreement.projects[0].reference if agreement.projects else None
        if project is None:
            funded = (queries.agreement_page(session, row.reference, today=clock.today()) for row in projects)
            project = next(p.projects[0].reference for p in funded if p and p.projects)
    return {"start": "/public", "agreements": "/public/agreements?q=land&page=2",
            "agreement": f"/public/agreements/{agreement.reference}", "project": f"/public/projects/{project}",
            "divisions": "/public/divisions", "division": f"/public/divisions/{agreement.division.code}",
            "data": "/public/data", "accessibility": "/public/accessibility", "not-found": "/public/no-such-page"}


def new_page(browser, base_url: str, width: int, **options):  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=base_url, viewport={"width": width, "height": 900}, **options)
    context.set_default_timeout(20_000)
    return context, context.new_page()


def test_a_resident_browses_the_county_without_signing_in(browser, live: tuple[str, Flask]) -> None:  # type: ignore[no-untyped-def]
    context, page = new_page(browser, live[0], 1280)
    page.goto("/public")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Developer contributions")
    assert page.locator("table").count() == 2  # this year so far and last year, by class
    page.get_by_label("Site, developer, planning application or agreement reference").fill("Land at")
    page.get_by_label("Service").select_option(label="Primary education")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url(re.compile(r"/public/agreements\?"))
    assert "match your search" in page.locator(".result-count").inner_text()
    page.locator("table tbody tr").first.get_by_role("link").first.click()
    page.wait_for_url(re.compile(r"/public/agreements/.+"))
    assert page.get_by_role("heading", name="What the agreement secured").is_visible()
    assert "Primary education" in page.locator("table").first.inner_text()
    page.get_by_role("navigation", name="Breadcrumb").get_by_role("link", name="Agreements").click()
    page.wait_for_url(re.compile(r"/public/agreements$"))
    page.get_by_role("link", name="Divisions").first.click()
    page.locator("main ul.columns a").first.click()
    page.wait_for_url(re.compile(r"/public/divisions/.+"))
    assert page.get_by_role("heading", name="Money by service").is_visible()
    project = page.locator("main table").nth(1).get_by_role("link").first
    name = project.inner_text()
    project.click()
    page.wait_for_url(re.compile(r"/public/projects/.+"))
    assert page.get_by_role("heading", level=1).inner_text() == name
    page.get_by_role("link", name="Download the data").first.click()
    with page.expect_download() as csv_file:
        page.get_by_role("link", name="developer-agreement.csv").click()
    assert csv_file.value.suggested_filename == "developer-agreement.csv"
    with page.expect_download() as statement:
        page.get_by_role("link", name=re.compile("Infrastructure Funding Statement")).first.click()
    assert statement.value.suggested_filename.startswith("infrastructure-funding-statement-")
    assert context.cookies() == []
    context.close()


PAGES = ["start", "agreements", "agreement", "project", "divisions", "division", "data", "accessibility", "not-found"]


@pytest.mark.parametrize("width", [1280, 320])
@pytest.mark.parametrize("name", PAGES)
def test_public_pages_are_accessible_and_reflow(browser, live: tuple[str, Flask], targets: dict[str, str],  # type: ignore[no-untyped-def]
                                               name: str, width: int) -> None:
    if not AXE.exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("axe-core is required under CI=true: `make test` installs it with npm")
        pytest.skip("axe-core not installed (needs npm)")
    # Axe is injected as a script, which the pages' own policy rightly forbids.
    context, page = new_page(browser, live[0], width, bypass_csp=True)
    response = page.goto(targets[name])
    assert response is not None and response.status == (404 if name == "not-found" else 200)
    screenshot(page, f"public-{name}-{'desktop' if width == 1280 else 'phone'}")
    wider = page.evaluate("""() => [...document.querySelectorAll('body *')]
        .filter(e => !e.closest('.table-wrap') && e.getBoundingClientRect().right > window.innerWidth + 1)
        .map(e => e.tagName + '.' + e.className)""")
    assert wider == [], "wider than the screen outside a table"
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    context.close()
    serious = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
    assert serious == [], json.dumps([(v["id"], v["help"], [n["target"] for n in v["nodes"][:3]]) for v in serious])


def test_an_agreement_prints_on_a4_without_the_site_s_navigation(browser, live: tuple[str, Flask],  # type: ignore[no-untyped-def]
                                                                 targets: dict[str, str]) -> None:
    context, page = new_page(browser, live[0], 1280)
    page.goto(targets["agreement"])
    page.emulate_media(media="print")
    for hidden in (".nav", ".breadcrumbs", ".footer__links", ".skip-link"):
        assert page.locator(hidden).first.is_hidden(), hidden
    assert page.get_by_role("heading", name="What the agreement secured").is_visible()
    pdf = page.pdf(prefer_css_page_size=True)  # the page size the print sheet asks for
    context.close()
    assert pdf.startswith(b"%PDF")
    assert re.search(rb"/MediaBox \[0 0 59[45][.0-9]* 84[12]", pdf), "A4 is 595 x 842 points"
