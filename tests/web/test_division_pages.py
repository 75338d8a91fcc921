"""A councillor's division page in Chromium (issue 15 item 5): "My division" in the
navigation, the projects the division's money paid for, money per agreement and per
service, the workbook and CSV downloads, A4 printing, axe and reflow at 1280 and 320 px."""

from __future__ import annotations

import csv
import json
import re
from decimal import Decimal
from io import BytesIO, StringIO
from pathlib import Path

import pytest
from flask import Flask
from openpyxl import load_workbook

from ledger import clock
from ledger.domain.money import format_money
from ledger.services.division_report import DivisionReport, division_report
from tests.web.conftest import screenshot, sign_in
from tests.web.test_pages import AXE, member_division

pytestmark = pytest.mark.browser
MEMBER = "member@demo.s106.test"


def report_of(app: Flask) -> DivisionReport:
    with app.extensions["ledger.sessions"]() as session:
        return division_report(session, member_division(app).code, on=clock.today())


def test_a_councillor_follows_my_division_and_downloads_what_it_paid_for(page, live_app: Flask) -> None:  # type: ignore[no-untyped-def]
    report = report_of(live_app)
    assert report.projects, "the demo's member division has paid for no project: the test proves nothing"
    sign_in(page, MEMBER)
    page.wait_for_url(re.compile("/divisions/"))
    page.goto("/dashboard")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My division").click()
    page.wait_for_url(re.compile(f"/divisions/{report.division.code}$"))
    rows = page.locator("#division-projects tbody tr")
    assert rows.count() == len(report.projects)
    first = report.projects[0]
    cells = rows.first.locator("td").all_inner_texts()
    assert cells[0] == first.name
    assert cells[2] == (first.division_name if first.division_code else "Not recorded")  # by name, not code
    assert cells[3:] == [format_money(first.spent), format_money(first.transferred),
                         format_money(first.allocated_unspent)]
    assert page.locator("#division-agreements tbody tr").count() == len(report.agreements)
    assert page.locator("#division-services tbody th").all_inner_texts()[0] not in ("", report.services[0].service)
    screenshot(page, "division-projects")

    with page.expect_download() as workbook_download:
        page.get_by_role("link", name="Download as a workbook (.xlsx)").click()
    book = load_workbook(BytesIO(Path(workbook_download.value.path()).read_bytes()))
    assert book.sheetnames == ["Projects", "Agreements", "By service", "Notes"]
    names = [r[1] for r in book["Projects"].iter_rows(min_row=2, values_only=True)][:-1]
    assert names == [p.name for p in report.projects]
    total = list(book["Agreements"].iter_rows(values_only=True))[-1]
    assert Decimal(str(total[-1])).quantize(Decimal("0.01")) == report.total("held")

    with page.expect_download() as csv_download:
        page.get_by_role("link", name="Download as CSV").click()
    assert csv_download.value.suggested_filename.endswith(".csv")
    rows_read = list(csv.DictReader(StringIO(Path(csv_download.value.path()).read_text(encoding="utf-8"))))
    assert [r["reference"] for r in rows_read if r["table"] == "project"] == [p.reference for p in report.projects]
    held = sum((Decimal(r["held"]) for r in rows_read if r["table"] == "agreement"), Decimal(0))
    assert held == report.total("held")


def test_the_division_page_prints_on_a4(page, live_app: Flask) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, MEMBER)
    page.wait_for_url(re.compile("/divisions/"))
    page.emulate_media(media="print")
    assert page.locator(".site-header").is_hidden()
    assert page.locator("#division-projects").is_visible()
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF")
    assert b"/MediaBox [0 0 595" in pdf  # A4 is 595 x 842 points


@pytest.mark.parametrize("width", [1280, 320])
def test_the_division_page_is_accessible_and_reflows(browser, base_url: str, live_app: Flask, width: int) -> None:  # type: ignore[no-untyped-def]
    if not AXE.exists():
        pytest.fail("axe-core is required: `make test` installs it with npm")
    # Axe is injected as a script, which the page's own policy rightly forbids.
    context = browser.new_context(base_url=base_url, bypass_csp=True, viewport={"width": width, "height": 900})
    page = context.new_page()
    sign_in(page, MEMBER)
    page.wait_for_url(re.compile(f"/divisions/{member_division(live_app).code}$"))
    outside_tables = page.evaluate("""() => [...document.querySelectorAll('main *')]
        .filter(e => !e.closest('.table-wrap') && e.getBoundingClientRect().right > window.innerWidth + 1)
        .map(e => e.tagName + '.' + e.className)""")
    assert outside_tables == [], "wider than the screen outside a table"
    screenshot(page, f"division-{width}")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    context.close()
    serious = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
    assert serious == [], json.dumps([(v["id"], v["help"], [n["target"] for n in v["nodes"][:3]]) for v in serious])
