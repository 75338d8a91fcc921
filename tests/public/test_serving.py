"""Built for the open internet (issue 20 item 3): off unless switched on; no session cookie,
no form token; cacheable answers with an ETag from the ledger's revision and 304 on a
match, a new ETag after a write; a per-client rate limit with Retry-After that counts the
client behind a trusted proxy; refusals named, as pages or problem details."""

from __future__ import annotations

import re
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from freezegun import freeze_time
from sqlalchemy import select

from ledger import create_app
from ledger.domain.vocab import EntryKind
from ledger.models import Agreement, Obligation
from ledger.public import pages_on
from ledger.services import SYSTEM, users
from ledger.services.entries import EntryRequest, record_entry
from tests.public.conftest import OFFICER, TODAY, public_app

PAGES = ["/public", "/public/agreements?q=land", "/public/divisions", "/public/data", "/public/api/figures",
         "/public/api/agreements", "/public/accessibility"]


def test_public_pages_are_off_unless_switched_on(sqlite_url: str) -> None:
    app = create_app({"TESTING": True, "DATABASE_URL": sqlite_url, "SECRET_KEY": "x", "ENV": "testing"})
    client = app.test_client()
    for path in ("/public", "/public/agreements", "/public/api/figures", "/public/data/developer-agreement.csv"):
        assert client.get(path).status_code == 404, path
    assert not any(path.startswith("/public") for path in client.get("/api/v1/openapi.json").json["paths"])
    app.extensions["ledger.engine"].dispose()


@pytest.mark.parametrize(("value", "on"), [("on", True), ("ON", True), ("off", False), ("", False), (True, True)])
def test_the_setting_reads_on_and_off(value: object, on: bool) -> None:
    assert pages_on({"PUBLIC_PAGES": value}) is on


def test_a_setting_that_is_neither_on_nor_off_stops_the_app(sqlite_url: str) -> None:
    with pytest.raises(RuntimeError, match="LEDGER_PUBLIC_PAGES must be on or off"):
        create_app({"TESTING": True, "DATABASE_URL": sqlite_url, "PUBLIC_PAGES": "onn"})


def test_the_open_data_is_in_the_openapi_document_without_a_token(client: FlaskClient) -> None:
    paths = client.get("/api/v1/openapi.json").json["paths"]
    for path in ("/public/api/figures", "/public/api/agreements", "/public/api/agreements/{reference}",
                 "/public/api/projects/{reference}", "/public/api/divisions", "/public/api/divisions/{code}"):
        assert paths[path]["get"]["security"] == [], path
    assert client.get("/public/api/figures").status_code == 200  # no Authorization header


@pytest.mark.parametrize("path", PAGES)
def test_an_anonymous_reader_gets_no_cookie_and_a_cacheable_answer(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    assert "Cookie" not in response.headers.get("Vary", "")
    assert response.headers["Cache-Control"] == "public, max-age=60"
    etag, weak = response.get_etag()
    assert weak and re.fullmatch(r"[0-9a-f]{32}", etag)
    assert "csrf_token" not in response.get_data(as_text=True)
    again = client.get(path, headers={"If-None-Match": f'W/"{etag}"'})
    assert again.status_code == 304 and again.data == b""
    assert again.get_etag() == (etag, True) and again.headers["Cache-Control"] == "public, max-age=60"


def test_a_signed_in_officer_s_cookie_is_neither_read_nor_refreshed_on_public_pages(app: Flask) -> None:
    with app.extensions["ledger.sessions"]() as session:
        users.add_user(session, email="reader@test.s106", role="officer", password="correct horse", actor=SYSTEM)
    client = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True))
    assert token
    signed_in = client.post("/login", data={"email": "reader@test.s106", "password": "correct horse",
                                            "csrf_token": token[1]})
    assert signed_in.status_code == 302 and "Set-Cookie" in signed_in.headers
    assert "Set-Cookie" in client.get("/dashboard").headers  # the officer pages refresh it
    public = client.get("/public")
    assert public.status_code == 200
    assert "Set-Cookie" not in public.headers
    assert public.headers["Cache-Control"].startswith("public")
    assert "reader@test.s106" not in public.get_data(as_text=True) and "Sign out" not in public.get_data(as_text=True)


def test_a_write_to_the_ledger_changes_the_etag_and_the_page(demo: tuple[str, dict[str, str]], tmp_path: Path) -> None:
    shutil.copy(demo[0].removeprefix("sqlite:///"), tmp_path / "ledger.sqlite")
    app = public_app(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    with freeze_time("2025-06-01 12:00:00"):
        client = app.test_client()
        with app.extensions["ledger.sessions"]() as session:
            reference, obligation = session.execute(
                select(Agreement.reference, Obligation.reference).join(Obligation.agreement)
                .where(Obligation.amount.is_not(None), Agreement.status == "signed")  # proposed ones are not public
                .order_by(Agreement.id.desc())).first()
        path = f"/public/api/agreements/{reference}"
        before = client.get(path)
        etag = before.get_etag()[0]
        assert client.get(path, headers={"If-None-Match": f'W/"{etag}"'}).status_code == 304
        with app.extensions["ledger.sessions"]() as session:
            record_entry(session, EntryRequest(kind=EntryKind.RECEIPT, obligation_reference=obligation,
                                               amount=Decimal("1000.00"), occurred_on=TODAY, reason="test receipt"),
                         actor=OFFICER)
        after = client.get(path, headers={"If-None-Match": f'W/"{etag}"'})
    assert after.status_code == 200 and after.get_etag()[0] != etag
    received = {o["reference"]: Decimal(o["money"]["received"]) for o in after.json["obligations"]}
    was = {o["reference"]: Decimal(o["money"]["received"]) for o in before.json["obligations"]}
    assert received[obligation] == was[obligation] + Decimal("1000.00")
    app.extensions["ledger.engine"].dispose()


def test_the_etag_changes_with_the_day(client: FlaskClient) -> None:
    first = client.get("/public").get_etag()[0]
    with freeze_time("2025-06-02 12:00:00"):
        assert client.get("/public", headers={"If-None-Match": f'W/"{first}"'}).status_code == 200


def test_a_client_over_the_rate_limit_waits_and_others_do_not(demo: tuple[str, dict[str, str]]) -> None:
    app = public_app(demo[0], PUBLIC_RATE_LIMIT=3)
    client = app.test_client()
    with freeze_time("2025-06-01 12:00:10") as frozen:
        for _ in range(3):
            assert client.get("/public/accessibility").status_code == 200
        refused = client.get("/public/accessibility")
        assert refused.status_code == 429
        assert refused.headers["Retry-After"] == "50"
        assert refused.headers["Cache-Control"] == "no-store"
        assert "try again in 50 seconds" in refused.get_data(as_text=True)
        api = client.get("/public/api/figures")
        assert api.status_code == 429 and api.mimetype == "application/problem+json"
        assert api.headers["Retry-After"] == "50"
        # Another address is not held back; an IPv6 client is counted by its /64.
        assert client.get("/public", environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code == 200
        for n in range(3):
            assert client.get("/public", environ_base={"REMOTE_ADDR": f"2001:db8::{n + 1}"}).status_code == 200
        assert client.get("/public", environ_base={"REMOTE_ADDR": "2001:db8::ffff"}).status_code == 429
        frozen.tick(50)
        assert client.get("/public/accessibility").status_code == 200
    app.extensions["ledger.engine"].dispose()


def test_behind_a_proxy_the_limit_counts_the_client_the_proxy_names(demo: tuple[str, dict[str, str]]) -> None:
    app = public_app(demo[0], PUBLIC_RATE_LIMIT=2, PROXY_FIX=1)
    client = app.test_client()
    with freeze_time("2025-06-01 12:00:00"):
        for reader in ("198.51.100.1", "198.51.100.2"):
            for _ in range(2):
                assert client.get("/public", headers={"X-Forwarded-For": reader}).status_code == 200
        assert client.get("/public", headers={"X-Forwarded-For": "198.51.100.1"}).status_code == 429
        # A client cannot choose its own address: only the last hop, the proxy's, is trusted.
        assert client.get("/public", headers={"X-Forwarded-For": "192.0.2.7, 198.51.100.2"}).status_code == 429
    app.extensions["ledger.engine"].dispose()


@pytest.mark.parametrize(("path", "field"), [
    ("/public/agreements?q=" + "x" * 201, "q"), ("/public/agreements?page=0", "page"),
    ("/public/agreements?authority=%07", "authority"), ("/public/agreements?page=abc", "page"),
])
def test_bad_search_input_is_a_400_page_naming_the_field(client: FlaskClient, path: str, field: str) -> None:
    response = client.get(path)
    assert response.status_code == 400 and response.mimetype == "text/html"
    assert f"{field}:" in response.get_data(as_text=True)
    assert "Set-Cookie" not in response.headers


@pytest.mark.parametrize(("path", "field"), [
    ("/public/api/agreements?colour=red", "colour"), ("/public/api/agreements?page=0", "page"),
    ("/public/api/agreements?q=" + "x" * 201, "q"), ("/public/api/agreements?page_size=100000", "page_size"),
])
def test_bad_api_input_is_a_422_problem_naming_the_field(client: FlaskClient, path: str, field: str) -> None:
    response = client.get(path, headers={"Accept": "text/html"})
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert {e["field"] for e in response.json["errors"]} == {field}


@pytest.mark.parametrize("path", ["/public/agreements/NO/SUCH/DEED", "/public/projects/NOPE", "/public/divisions/nope",
                                  "/public/data/ifs-1990.xlsx", "/public/data/passwords.csv", "/public/anything"])
def test_what_is_not_there_is_the_public_not_found_page(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "Page not found" in page and "Developer contributions" in page and "Sign in" not in page


def test_what_is_not_there_in_the_api_is_a_404_problem(client: FlaskClient) -> None:
    response = client.get("/public/api/agreements/NO/SUCH/DEED", headers={"Accept": "text/html"})
    assert response.status_code == 404 and response.mimetype == "application/problem+json"


def test_a_proposed_agreement_has_no_public_page(client: FlaskClient) -> None:
    if not hasattr(Agreement, "status"):
        pytest.skip("the schema has no proposed agreements yet")
    from tests.public.conftest import PROPOSED

    assert client.get(f"/public/agreements/{PROPOSED}").status_code == 404
    assert client.get(f"/public/api/agreements/{PROPOSED}").status_code == 404
    assert client.get("/public/api/agreements?q=PROPOSED").json == []
