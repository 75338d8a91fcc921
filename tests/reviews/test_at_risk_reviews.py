"""The at-risk CSV and workbook carry each obligation's latest review (status, note, owner,
next review date), and the dashboard's count of money at risk needing a review."""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal
from io import BytesIO, StringIO

from flask import Flask
from freezegun import freeze_time
from openpyxl import load_workbook

from ledger.services import balances, reviews
from ledger.services.registry import Filters
from reports.at_risk import FIELDS, REVIEW_FIELDS, at_risk_csv, at_risk_workbook
from tests.factories import OFFICER, make_obligation, post
from tests.reviews.conftest import OBLIGATION

AS_OF = date(2025, 3, 31)


def _review(app: Flask, moment: str, status: str, note: str, next_review_on: date) -> None:
    with freeze_time(moment), app.extensions["ledger.sessions"]() as session:
        reviews.record_review(session, OBLIGATION, {"status": status, "note": note, "owner_email": "jo@kent.gov.uk",
                                                    "next_review_on": next_review_on}, actor=OFFICER)


def test_the_at_risk_csv_and_workbook_carry_the_latest_review(world: Flask) -> None:
    with world.extensions["ledger.sessions"]() as session:
        make_obligation(session, reference="20/00001/FUL/2", purpose="highways", service="highways")
        post(session, "receipt", "500.00", date(2016, 1, 4), obligation="20/00001/FUL/2", reference="R-2")
    _review(world, "2025-01-10 10:00:00", "spend-planned", "Cabinet in March", date(2025, 3, 1))
    _review(world, "2025-03-03 10:00:00", "variation-sought", "Asked for two more years", date(2025, 6, 30))
    with world.extensions["ledger.sessions"]() as session:
        rows = balances.at_risk(session, as_of=AS_OF)
        latest = reviews.latest_reviews(session, [r.obligation_reference for r in rows])
    assert set(latest) == {OBLIGATION}

    read = list(csv.DictReader(StringIO(at_risk_csv(rows, latest))))
    assert list(read[0]) == [*FIELDS, *REVIEW_FIELDS]
    by_obligation = {r["obligation_reference"]: r for r in read}
    assert {k: by_obligation[OBLIGATION][k] for k in REVIEW_FIELDS} == {
        "review_status": "variation-sought", "review_note": "Asked for two more years",
        "review_owner": "jo@kent.gov.uk", "next_review_on": "2025-06-30"}
    assert {by_obligation["20/00001/FUL/2"][k] for k in REVIEW_FIELDS} == {""}
    assert next(csv.DictReader(StringIO(at_risk_csv(rows)))).keys() == set(FIELDS)  # without reviews, as before

    sheet = load_workbook(BytesIO(at_risk_workbook(rows, as_of=AS_OF, version="test", reviews=latest)))["At risk"]
    table = [[c.value for c in row] for row in sheet.iter_rows()]
    headings = table[0]
    assert headings[-4:] == ["Latest review", "Review note", "Review owner", "Next review"]
    [mine] = [r for r in table[1:] if OBLIGATION in r]
    assert mine[-4:-1] == ["Deed of variation sought", "Asked for two more years", "jo@kent.gov.uk"]
    assert mine[-1].date() == date(2025, 6, 30)


def test_money_at_risk_needing_a_review(world: Flask) -> None:
    with world.extensions["ledger.sessions"]() as session:
        needed = reviews.needing_review(session, today=AS_OF)
    # £1,000 received 1 June 2015 falls due 1 June 2025: red on 31 March 2025, never reviewed.
    assert [(n.obligation_reference, n.at_risk) for n in needed.unreviewed] == [(OBLIGATION, Decimal("1000.00"))]
    _review(world, "2025-03-31 09:00:00", "spend-planned", "Cabinet in June", date(2025, 3, 31))
    with world.extensions["ledger.sessions"]() as session:
        needed = reviews.needing_review(session, today=AS_OF)
        assert (needed.unreviewed, [n.obligation_reference for n in needed.due]) == ([], [OBLIGATION])
        assert reviews.needing_review(session, today=AS_OF).due_money == Decimal("1000.00")
    _review(world, "2025-03-31 09:30:00", "spend-planned", "Cabinet in June", date(2025, 4, 30))
    with world.extensions["ledger.sessions"]() as session:
        needed = reviews.needing_review(session, today=AS_OF)
        assert (needed.unreviewed, needed.due) == ([], [])


def test_the_workbooks_and_the_officers_csv_carry_the_latest_review(world: Flask, tokens: dict, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The API's and `s106 report at-risk`'s workbooks carry the reviews; their CSV keeps SPEC
    section 6's columns exactly; the officers' CSV downloads in the web add the reviews."""
    from ledger.services import SYSTEM, users
    from tests.web.test_sessions import sign_in

    with world.extensions["ledger.sessions"]() as session:
        users.add_user(session, email="web@test.s106", role="officer", password="correct horse battery", actor=SYSTEM)
    _review(world, "2025-03-03 10:00:00", "variation-sought", "Asked for two more years", date(2025, 6, 30))
    client = world.test_client()
    with freeze_time("2025-03-31 12:00:00"):
        api_csv = client.get("/api/v1/reports/at-risk?as_of=2025-03-31&format=csv", headers=tokens["officer"])
        api_workbook = client.get("/api/v1/reports/at-risk?as_of=2025-03-31", headers=tokens["officer"])
        out = tmp_path / "at-risk.xlsx"
        result = world.test_cli_runner().invoke(args=["ledger", "report", "at-risk", "--as-of", "2025-03-31",
                                                      "--out", str(out)])
        web = world.test_client()
        assert sign_in(web, "web@test.s106", "correct horse battery").status_code == 302  # type: ignore[attr-defined]
        web_csvs = [web.get(path) for path in ("/reports/at-risk.csv?as_of=2025-03-31", "/at-risk.csv")]
    assert api_csv.status_code == 200 and api_workbook.status_code == 200 and result.exit_code == 0, result.output
    assert list(csv.DictReader(StringIO(api_csv.get_data(as_text=True))).fieldnames or []) == list(FIELDS)
    for answer in web_csvs:
        assert answer.status_code == 200, answer.status_code
        [row] = [r for r in csv.DictReader(StringIO(answer.get_data(as_text=True)))
                 if r["obligation_reference"] == OBLIGATION][:1]
        assert (row["review_status"], row["review_note"]) == ("variation-sought", "Asked for two more years")
    for data in (api_workbook.data, out.read_bytes()):
        cells = [c.value for sheet in load_workbook(BytesIO(data)) for r in sheet.iter_rows() for c in r]
        assert "Asked for two more years" in cells


def test_a_page_of_money_at_risk_says_which_of_its_obligations_have_a_review(world: Flask) -> None:
    """The page asks for the latest reviews of those only: most pages have none to ask for."""
    with world.extensions["ledger.sessions"]() as session:
        make_obligation(session, reference="20/00001/FUL/2", purpose="highways", service="highways")
        post(session, "receipt", "500.00", date(2016, 1, 4), obligation="20/00001/FUL/2", reference="R-2")
        page = balances.at_risk_page(session, as_of=AS_OF, limit=50)
        assert page is not None and {r.obligation_reference for r in page.rows} == {OBLIGATION, "20/00001/FUL/2"}
        assert page.reviewed == frozenset()
    _review(world, "2025-01-10 10:00:00", "spend-planned", "Cabinet in March", date(2025, 3, 1))
    with world.extensions["ledger.sessions"]() as session:
        page = balances.at_risk_page(session, as_of=AS_OF, limit=50)
        assert page is not None and page.reviewed == frozenset({OBLIGATION})
        # A page of the list without the reviewed obligation's receipts does not name it.
        narrowed = balances.at_risk_page(session, as_of=AS_OF, limit=50, filters=Filters(service="highways"))
        assert narrowed is not None and [r.obligation_reference for r in narrowed.rows] == ["20/00001/FUL/2"]
        assert narrowed.reviewed == frozenset()
