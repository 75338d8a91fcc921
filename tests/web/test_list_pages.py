"""Lists people can use (issue 15 item 4): the full money-at-risk page filtered, sorted and
downloaded as the officer sees it, the agreements, projects and income-due lists sorted,
filtered and downloaded, and the audit log filtered by user, record and UK day (typed in
day, month and year boxes), in UK local time (BST in summer)."""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections import Counter
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from unittest.mock import patch

import pytest
from flask import Flask
from flask.testing import FlaskClient
from freezegun import freeze_time

from ledger import clock
from ledger.domain.vocab import BAND_LABELS
from ledger.extensions import band_thresholds
from ledger.services import SYSTEM, listing, registry, users
from tests.factories import make_ledger, post
from tests.web.conftest import screenshot, sign_in
from tests.web.test_pages import AXE
from tests.web.test_sessions import PASSWORD
from tests.web.test_sessions import sign_in as client_sign_in


def money(text: str) -> Decimal:
    return Decimal(text.replace("£", "").replace(",", ""))


def column(page, index: int) -> list[str]:  # type: ignore[no-untyped-def]
    return page.locator(f"tbody tr td:nth-child({index})").all_inner_texts()


@pytest.mark.browser
def test_an_officer_filters_sorts_and_downloads_the_money_at_risk(page, live_app: Flask) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, "officer@demo.s106.test")
    page.wait_for_url(re.compile("/dashboard"))
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Money at risk").click()
    page.wait_for_url(re.compile("/at-risk$"))
    everything = int(page.locator("#at-risk-count").inner_text().split()[0])
    assert everything > 10  # all of it, not the dashboard's top ten
    screenshot(page, "at-risk")

    with live_app.app_context(), live_app.extensions["ledger.sessions"]() as session:
        rows = listing.at_risk_list(session, registry.Filters(), as_of=clock.today(), **band_thresholds())
        # The division and band most receipts share, so the filtered list has rows to sort.
        code, band = Counter((r.division_code, r.band) for r in rows if r.division_code).most_common(1)[0][0]
        division = registry.place_names(session)["divisions"][code]
    page.get_by_label("Division").select_option(label=division)
    page.get_by_label("Band").select_option(label=BAND_LABELS[band])
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(f"band={band}"))
    filtered = int(page.locator("#at-risk-count").inner_text().split()[0])
    assert 1 < filtered < everything
    assert set(column(page, 3)) == {division} and set(column(page, 8)) == {BAND_LABELS[band]}

    page.get_by_role("link", name=re.compile("^Remaining")).click()
    page.wait_for_url(re.compile("sort=remaining"))
    assert page.locator("th[aria-sort]").inner_text().startswith("Remaining")
    ascending = [money(v) for v in column(page, 9)]
    assert ascending == sorted(ascending)
    page.get_by_role("link", name=re.compile("^Remaining")).click()
    page.wait_for_url(re.compile("order=desc"))
    descending = [money(v) for v in column(page, 9)]
    assert descending == sorted(ascending, reverse=True) and descending != ascending
    assert f"band={band}" in page.url  # sorting keeps the filters

    with page.expect_download() as download:
        page.get_by_role("link", name="Download these receipts (CSV)").click()
    downloaded = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
    assert len(downloaded) == filtered
    assert {row["band"] for row in downloaded} == {band}
    assert [Decimal(row["remaining"]) for row in downloaded][: len(descending)] == descending


@pytest.mark.browser
@pytest.mark.parametrize("width", [1280, 320])
@pytest.mark.parametrize("path", ["/at-risk?sort=band&order=desc", "/agreements?sort=authority", "/audit"])
def test_the_lists_pass_axe_and_reflow(browser, base_url: str, path: str, width: int) -> None:  # type: ignore[no-untyped-def]
    if not AXE.exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("axe-core is required under CI=true: `make test` installs it with npm")
        pytest.skip("axe-core not installed (needs npm)")
    context = browser.new_context(base_url=base_url, bypass_csp=True, viewport={"width": width, "height": 900})
    page = context.new_page()
    sign_in(page, "admin@demo.s106.test")
    page.wait_for_url(re.compile("/dashboard"))
    page.goto(path)
    # Outside the scrolling tables nothing is wider than the screen.
    wide = page.evaluate("""w => [...document.querySelectorAll('body *')].filter(e => !e.closest('.table-wrap'))
        .filter(e => e.getBoundingClientRect().right > w + 1).map(e => e.tagName + '.' + e.className + '#' + e.id)""", width)
    assert wide == []
    screenshot(page, f"list-{path.split('?')[0].strip('/')}-{width}")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    serious = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
    context.close()
    assert serious == [], json.dumps([(v["id"], v["help"], [n["target"] for n in v["nodes"][:3]]) for v in serious])


# -- through the test client ---------------------------------------------------------------
@pytest.fixture
def admin_client(app: Flask) -> Iterator[FlaskClient]:
    """A small ledger whose events happened in winter and in summer, and an admin signed in."""
    with app.extensions["ledger.sessions"]() as session:
        with freeze_time("2025-01-15 13:00:00"):
            make_ledger(session)
        with freeze_time("2025-07-15 13:00:00"):
            post(session, "receipt", "1000.00", date(2025, 7, 1), reference="R-SUMMER")
        with freeze_time("2025-07-15 23:30:00"):  # 00:30 on 16 July in the UK
            post(session, "receipt", "20.00", date(2025, 7, 1), reference="R-LATE")
        users.add_user(session, email="admin@kent.gov.uk", role="admin", password=PASSWORD, actor=SYSTEM)
    with freeze_time("2025-08-01 12:00:00"):
        client = app.test_client()
        assert client_sign_in(client, "admin@kent.gov.uk").status_code == 302
        yield client


def rows_of(client: FlaskClient, query: str) -> list[str]:
    response = client.get(f"/audit?{query}")
    assert response.status_code == 200
    return re.findall(r"<tr><td>(.*?)</tr>", response.get_data(as_text=True), re.S)


def test_the_audit_log_shows_uk_time_bst_in_summer_gmt_in_winter(admin_client: FlaskClient) -> None:
    text = "\n".join(rows_of(admin_client, ""))
    assert "15 July 2025, 14:00:00 BST" in text
    assert "16 July 2025, 00:30:00 BST" in text
    assert "15 January 2025, 13:00:00 GMT" in text
    assert "2025-07-15 13:00" not in text


def test_the_audit_log_filters_by_user_record_and_uk_day(admin_client: FlaskClient) -> None:
    everything = rows_of(admin_client, "")
    officer = rows_of(admin_client, "user=OFFICER@test")
    assert officer and len(officer) < len(everything) and all("officer@test.s106" in row for row in officer)
    assert rows_of(admin_client, "user=%25") == []  # a wildcard is a character, not "anything"

    [summer_receipt] = rows_of(admin_client, "type=entries&record=R-SUMMER")
    assert "R-SUMMER" in summer_receipt and "1000.00" in summer_receipt

    # The event at 23:30 UTC on 15 July happened on 16 July in the UK.
    [late] = rows_of(admin_client, "type=entries&from=2025-07-16&to=2025-07-16")
    assert "R-LATE" in late
    [summer] = rows_of(admin_client, "type=entries&from=2025-07-15&to=2025-07-15")
    assert "R-SUMMER" in summer
    winter = rows_of(admin_client, "to=2025-01-31")
    assert winter and all("January 2025" in row for row in winter)
    assert admin_client.get("/audit?from=2025-13-01").status_code == 400


def test_the_audit_log_links_records_and_shows_before_and_after(admin_client: FlaskClient) -> None:
    [created] = rows_of(admin_client, "type=agreements&record=20/00001/FUL")
    assert '<a href="/agreements/20/00001/FUL">20/00001/FUL</a>' in created
    assert "<details>" in created and "<dt>reference</dt><dd>from nothing to 20/00001/FUL</dd>" in created
    [obligation] = rows_of(admin_client, "type=obligations")
    assert 'href="/obligations/20/00001/FUL/1"' in obligation


def test_the_agreements_list_sorts_and_downloads_what_it_shows(app: Flask, admin_client: FlaskClient) -> None:
    with app.extensions["ledger.sessions"]() as session:
        from tests.factories import make_agreement

        make_agreement(session, reference="19/00002/OUT", signed_on=date(2019, 1, 1), site_name="Zed Fields")
        make_agreement(session, reference="21/00003/FUL", signed_on=date(2021, 1, 1), division_code=None)
    shown = re.findall(r'<a href="/agreements/([^"]+)">', admin_client.get("/agreements").get_data(as_text=True))
    assert shown == ["21/00003/FUL", "20/00001/FUL", "19/00002/OUT"]  # newest first
    by_reference = admin_client.get("/agreements?sort=reference").get_data(as_text=True)
    assert re.findall(r'<a href="/agreements/([^"]+)">', by_reference) == sorted(shown)
    by_division = admin_client.get("/agreements?sort=division&order=desc").get_data(as_text=True)
    assert re.findall(r'<a href="/agreements/([^"]+)">', by_division)[-1] == "21/00003/FUL"  # blanks last
    assert admin_client.get("/agreements?sort=secret").status_code == 400

    response = admin_client.get("/agreements.csv?sort=reference&division=ashford-central")
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [row["reference"] for row in rows] == ["19/00002/OUT", "20/00001/FUL"]
    assert rows[0]["site_name"] == "Zed Fields" and rows[0]["division"] != "ashford-central"


def test_the_dashboard_leads_to_all_money_at_risk(admin_client: FlaskClient) -> None:
    dashboard = admin_client.get("/dashboard").get_data(as_text=True)
    assert 'href="/at-risk">All money at risk</a>' in dashboard
    assert admin_client.get("/at-risk").status_code == 200


def test_the_audit_log_reads_its_dates_from_day_month_and_year_boxes(admin_client: FlaskClient) -> None:
    boxes = "from-day=16&from-month=7&from-year=2025&to-day=16&to-month=7&to-year=2025"
    [late] = rows_of(admin_client, f"type=entries&{boxes}")
    assert "R-LATE" in late
    page = admin_client.get(f"/audit?{boxes}").get_data(as_text=True)
    assert re.search(r'name="from-month"[^>]*value="7"', page)
    # The ISO form a link gives fills the boxes.
    assert re.search(r'name="to-year"[^>]*value="2025"', admin_client.get("/audit?to=2025-01-31").get_data(as_text=True))
    for query, message in (("from-day=30&from-month=2&from-year=2025", "Date from must be a real date"),
                           ("to-day=1&to-year=2025", "Date to must include a month"),
                           (boxes.replace("from-day=16", "from-day=17"), "Date to must be the same as or after date from")):
        refused = admin_client.get(f"/audit?{query}")
        text = refused.get_data(as_text=True)
        assert refused.status_code == 400 and message in text and "<title>Error: Audit log" in text
        assert text.index('class="error-summary"') < text.index("<h1>")


@pytest.fixture
def lists_client(app: Flask) -> Iterator[FlaskClient]:
    """Two divisions of one authority; three projects, two with money; two sums due from
    developers, one of them overdue on 1 August 2025; an admin signed in."""
    from ledger.services import income
    from tests.factories import OFFICER, make_agreement, make_obligation, make_project

    with app.extensions["ledger.sessions"]() as session, freeze_time("2025-07-25 12:00:00"):
        make_ledger(session)
        registry.create_division(session, {"code": "ashford-rural", "name": "Ashford Rural",
                                           "authority_code": "E07000105"}, actor=OFFICER)
        make_agreement(session, reference="21/00002/OUT", division_code="ashford-rural", developer="Rural Homes Ltd")
        make_obligation(session, agreement="21/00002/OUT", reference="21/00002/OUT/1")
        make_project(session, reference="PRJ-3", name="Zebra crossing", service="highways",
                     division_code="ashford-rural")
        post(session, "receipt", "1000.00", date(2025, 7, 1), reference="R-1")
        post(session, "allocation", "300.00", date(2025, 7, 2), project="PRJ-1")
        post(session, "spend", "100.00", date(2025, 7, 3), project="PRJ-1")
        post(session, "allocation", "50.00", date(2025, 7, 2), project="PRJ-2")
        for obligation, fixed_sum, commenced in (("20/00001/FUL/1", "5000.00", date(2025, 5, 1)),
                                                 ("21/00002/OUT/1", "700.00", date(2025, 7, 20))):
            income.add_instalment(session, obligation, {"reference": f"{obligation}/A", "fixed_sum": Decimal(fixed_sum),
                                                        "trigger_event": "commencement"}, actor=OFFICER)
            income.record_milestone(session, obligation.rsplit("/", 1)[0], kind="commencement", on=commenced,
                                    actor=OFFICER)
        users.add_user(session, email="admin@kent.gov.uk", role="admin", password=PASSWORD, actor=SYSTEM)
    with freeze_time("2025-08-01 12:00:00"):
        client = app.test_client()
        assert client_sign_in(client, "admin@kent.gov.uk").status_code == 302
        yield client


def listed(client: FlaskClient, path: str) -> list[str]:
    response = client.get(path)
    assert response.status_code == 200, path
    body = response.get_data(as_text=True).split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r'<a href="/(?:projects|obligations)/([^"]+)">', body)


def test_a_proposed_agreement_not_yet_signed_is_listed_last_and_offers_no_year(app: Flask,
                                                                               lists_client: FlaskClient) -> None:
    from tests.factories import make_agreement

    with app.extensions["ledger.sessions"]() as session:
        make_agreement(session, reference="26/00009/OUT", status="proposed", signed_on=None)
    page = lists_client.get("/agreements").get_data(as_text=True)
    assert re.findall(r'<a href="/agreements/([^"]+)">', page)[-1] == "26/00009/OUT"  # no date: last
    assert lists_client.get("/projects").status_code == 200 and lists_client.get("/at-risk").status_code == 200


def test_the_projects_list_filters_sorts_and_downloads_what_it_shows(lists_client: FlaskClient) -> None:
    assert listed(lists_client, "/projects") == ["PRJ-1", "PRJ-2", "PRJ-3"]
    page = lists_client.get("/projects").get_data(as_text=True)
    assert "Zebra crossing" in page and "Ashford Rural" in page and "Highways" in page and "highways<" not in page
    assert listed(lists_client, "/projects?sort=allocated&order=desc") == ["PRJ-1", "PRJ-2", "PRJ-3"]
    assert listed(lists_client, "/projects?sort=name&order=desc") == ["PRJ-3", "PRJ-2", "PRJ-1"]
    assert listed(lists_client, "/projects?sort=division") == ["PRJ-3", "PRJ-1", "PRJ-2"]  # none recorded last
    assert listed(lists_client, "/projects?division=ashford-rural") == ["PRJ-3"]
    assert listed(lists_client, "/projects?service=education-primary&q=prj") == ["PRJ-1", "PRJ-2"]
    assert listed(lists_client, "/projects?q=ZEBRA") == ["PRJ-3"]
    assert lists_client.get("/projects?sort=secret").status_code == 400

    response = lists_client.get("/projects.csv?sort=spent&order=desc&service=education-primary")
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [(r["reference"], r["spent"], r["allocated_unspent"], r["service"]) for r in rows] == [
        ("PRJ-1", "100.00", "200.00", "Primary education"), ("PRJ-2", "0.00", "50.00", "Primary education")]


def test_income_due_filters_sorts_pages_and_downloads_what_it_shows(lists_client: FlaskClient) -> None:
    assert listed(lists_client, "/income-due") == ["20/00001/FUL/1", "21/00002/OUT/1"]  # oldest due first
    assert listed(lists_client, "/income-due?sort=outstanding") == ["21/00002/OUT/1", "20/00001/FUL/1"]
    assert listed(lists_client, "/income-due?sort=developer&order=desc") == ["21/00002/OUT/1", "20/00001/FUL/1"]
    assert listed(lists_client, "/income-due?overdue=1") == ["20/00001/FUL/1"]
    assert listed(lists_client, "/income-due?division=ashford-rural") == ["21/00002/OUT/1"]
    assert listed(lists_client, "/income-due?authority=E07000105&division=ashford-central") == ["20/00001/FUL/1"]
    assert listed(lists_client, "/income-due?authority=nowhere") == []
    page = lists_client.get("/income-due").get_data(as_text=True)
    assert "Ashford Borough Council" in page and "Commencement" in page and "£5,700.00" in page
    assert lists_client.get("/income-due?sort=secret").status_code == 400

    rows = list(csv.DictReader(io.StringIO(lists_client.get("/income-due.csv?overdue=1").get_data(as_text=True))))
    assert [(r["obligation_reference"], r["outstanding"], r["authority"], r["division"], r["overdue"])
            for r in rows] == [("20/00001/FUL/1", "5000.00", "Ashford Borough Council", "Ashford Central", "yes")]
    assert len(list(csv.DictReader(io.StringIO(lists_client.get("/income-due.csv").get_data(as_text=True))))) == 2


def test_every_long_list_pages_with_the_pagination_component(lists_client: FlaskClient) -> None:
    from ledger.web import views

    with patch.object(views, "PAGE_SIZE", 1), patch("ledger.web.list_pages.PAGE_SIZE", 1):
        first = lists_client.get("/projects?sort=reference").get_data(as_text=True)
        assert '<nav class="pagination" aria-label="Pages">' in first and "Page 1 of 3" in first
        assert 'href="/projects?sort=reference&amp;page=2" rel="next"' in first
        assert 'aria-label="Page 1" aria-current="page"' in first
        last = lists_client.get("/projects?sort=reference&page=3")
        assert listed(lists_client, "/projects?sort=reference&page=3") == ["PRJ-3"]
        assert 'rel="prev"' in last.get_data(as_text=True) and 'rel="next"' not in last.get_data(as_text=True)
        assert listed(lists_client, "/income-due?page=2") == ["21/00002/OUT/1"]


def division_options(page: str) -> list[str]:
    select = page.split('<select id="division"', 1)[1].split("</select>", 1)[0]
    return re.findall(r'<option value="([^"]*)"', select)


def test_too_many_divisions_to_list_are_those_of_the_authority_chosen(lists_client: FlaskClient) -> None:
    """A national ledger has 1,500 divisions: past listing.LONG_LIST the division filter
    offers the chosen planning authority's (and the division chosen), and says so; the rows
    still name their divisions."""
    from ledger.services import listing

    with patch.object(listing, "LONG_LIST", 1):
        for path in ("/income-due", "/at-risk", "/agreements"):
            page = lists_client.get(path).get_data(as_text=True)
            assert division_options(page) == [""], path
            assert 'aria-describedby="division-hint"' in page and "Choose a planning authority" in page, path
            # The rows' divisions by name, read with the choices: never their codes.
            rows = page.split("<tbody>", 1)[1]
            assert "Ashford Rural" in rows or "Ashford Central" in rows, path
            assert not re.search(r">\s*ashford-", rows), path
        page = lists_client.get("/income-due").get_data(as_text=True)
        assert "Ashford Rural" in page.split("<tbody>", 1)[1]
        chosen = lists_client.get("/income-due?authority=E07000105").get_data(as_text=True)
        assert sorted(division_options(chosen)) == ["", "ashford-central", "ashford-rural"]
        assert "division-hint" not in chosen
        assert division_options(lists_client.get("/at-risk?division=ashford-rural").get_data(as_text=True)) == [
            "", "ashford-rural"]
        # The projects list has no authority to choose first: every division, as before.
        assert len(division_options(lists_client.get("/projects").get_data(as_text=True))) == 3
    page = lists_client.get("/income-due").get_data(as_text=True)
    assert sorted(division_options(page)) == ["", "ashford-central", "ashford-rural"] and "division-hint" not in page


def test_the_division_filter_is_narrowed_only_past_the_long_list(lists_client: FlaskClient) -> None:
    """Two divisions: a long list of two offers both; of one, only the chosen authority's."""
    from ledger.services import listing

    with patch.object(listing, "LONG_LIST", 2):
        page = lists_client.get("/at-risk").get_data(as_text=True)
        assert sorted(division_options(page)) == ["", "ashford-central", "ashford-rural"]
        assert "division-hint" not in page
    with patch.object(listing, "LONG_LIST", 1):
        page = lists_client.get("/at-risk").get_data(as_text=True)
        assert division_options(page) == [""] and "division-hint" in page
