"""Import history pages (issue 14 item 4): an import run through the command line is listed
on /imports, its page shows the summary and its issues page by page and by severity, and
its report downloads every issue; members get 403 and no link."""

from __future__ import annotations

import csv
import io
import json
import os
import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from ledger.models import ImportRun
from ledger.services import SYSTEM, import_runs, users
from tests.factories import write_gov_files
from tests.web.conftest import screenshot, sign_in
from tests.web.test_pages import AXE

DATA = Path(__file__).parents[1] / "data" / "gov-csv"
COUNCIL = DATA / "tonbridge-and-malling"


@pytest.fixture(scope="module")
def run(live_app: Flask) -> ImportRun:
    """Tonbridge and Malling's real files, imported through the command line."""
    result = live_app.test_cli_runner().invoke(args=["ledger", "import", "gov-csv", str(COUNCIL)])
    assert result.exit_code == 0, result.output
    with live_app.extensions["ledger.sessions"]() as session:
        [latest], _ = import_runs.list_runs(session, offset=0, limit=1)
        session.expunge(latest)
    assert latest.source == str(COUNCIL) and latest.rejections and latest.warnings
    return latest


@pytest.mark.browser
def test_an_import_from_the_command_line_is_on_the_history_pages(page, run) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, "officer@demo.s106.test")
    page.wait_for_url(re.compile("/dashboard"))
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Imports").click()
    page.wait_for_url(re.compile("/imports$"))
    listed = page.locator("tbody tr").filter(has_text=COUNCIL.name)
    assert "Government CSV files" in listed.inner_text()
    assert f"{run.rejections:,} rejected" in listed.inner_text()
    screenshot(page, "imports")

    listed.get_by_role("link").click()
    page.wait_for_url(re.compile(f"/imports/{run.id}$"))
    assert str(COUNCIL) in page.locator("dl.facts").inner_text()
    summary = page.locator("table").first.inner_text()
    assert "developer-agreement-transaction.csv" in summary and "Already in the ledger" in summary
    issues = run.warnings + run.rejections
    assert f"{issues:,} issues." in page.locator("main").inner_text()
    assert f"Page 1 of {(issues - 1) // 50 + 1}" in page.locator("nav.pagination").inner_text()
    screenshot(page, "import-run")

    page.get_by_label("Show").select_option("rejected")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile("severity=rejected"))
    assert f"{run.rejections:,} issues." in page.locator("main").inner_text()
    tags = page.locator("tbody span.tag").all_inner_texts()
    assert tags and set(tags) == {"Rejected"}

    with page.expect_download() as download:
        page.get_by_role("link", name="Download every issue (CSV)").click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
    assert len(rows) == issues
    assert tuple(rows[0]) == import_runs.REPORT_FIELDS
    assert sum(1 for row in rows if row["severity"] == "rejected") == run.rejections


@pytest.mark.browser
def test_members_get_no_link_and_403(page, run) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, "member@demo.s106.test")
    page.wait_for_url(re.compile("/divisions/"))  # a member's home is their division
    assert page.get_by_role("navigation", name="Main").get_by_role("link", name="Imports").count() == 0
    for path in ("/imports", f"/imports/{run.id}", f"/imports/{run.id}/report.csv"):
        assert page.request.get(path).status == 403


@pytest.mark.browser
@pytest.mark.parametrize("path", ["/imports", "run"])
def test_the_history_pages_have_no_serious_accessibility_violations(browser, base_url: str, run, path: str) -> None:  # type: ignore[no-untyped-def]
    if not AXE.exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("axe-core is required under CI=true: `make test` installs it with npm")
        pytest.skip("axe-core not installed (needs npm)")
    context = browser.new_context(base_url=base_url, bypass_csp=True)  # axe is injected as a script
    page = context.new_page()
    sign_in(page, "officer@demo.s106.test")
    page.wait_for_url(re.compile("/dashboard"))
    page.goto(f"/imports/{run.id}" if path == "run" else path)
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    serious = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
    context.close()
    assert serious == [], json.dumps([(v["id"], v["help"], [n["target"] for n in v["nodes"][:3]]) for v in serious])


def signed_in(app: Flask, role: str) -> FlaskClient:
    with app.extensions["ledger.sessions"]() as session:
        users.add_user(session, email=f"{role}@test.s106", role=role, password="correct horse", actor=SYSTEM)
    client = app.test_client()
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True))
    assert csrf
    client.post("/login", data={"email": f"{role}@test.s106", "password": "correct horse", "csrf_token": csrf[1]})
    return client


def test_the_report_shows_a_formula_never_runs_it(app: Flask, tmp_path: Path) -> None:
    files = write_gov_files(tmp_path / "files", [("=HYPERLINK(\"http://x\")", "allocated", "-50.00", "2021-04-15"),
                                                 ("T-2", "received", "300.00", "2021-03-01")])
    assert app.test_cli_runner().invoke(args=["ledger", "import", "gov-csv", str(files)]).exit_code == 0
    client = signed_in(app, "officer")
    response = client.get("/imports/1/report.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    [refused] = [row for row in rows if row["severity"] == "rejected"]
    assert refused["reference"] == "'=HYPERLINK(\"http://x\")"
    assert refused["amount"] == "-50.00"
    assert client.get("/imports/1?severity=fatal").status_code == 400


def test_bad_addresses_are_4xx_never_500(app: Flask) -> None:
    client = signed_in(app, "officer")
    assert client.get("/imports").status_code == 200
    assert client.get("/imports/1").status_code == 404
    assert client.get("/imports/99999999999").status_code == 404
    assert client.get("/imports?page=0").status_code == 400
    member = signed_in(app, "member")
    assert member.get("/imports").status_code == 403
