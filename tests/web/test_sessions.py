"""Web sessions and signing in, through the test client: cookie settings, the 8-hour lifetime,
ending every copy of a session, no-store, throttled sign-in, hostile `next` and query strings."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient
from freezegun import freeze_time
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from ledger import create_app
from ledger.models import AuditEvent
from ledger.services import SYSTEM, users
from tests.factories import make_ledger, post

PASSWORD = "correct horse"
OFFICER = "officer@kent.gov.uk"


@pytest.fixture
def officer(app: Flask) -> str:
    with app.extensions["ledger.sessions"]() as session:
        users.add_user(session, email=OFFICER, role="officer", password=PASSWORD, actor=SYSTEM)
    return OFFICER


def csrf(client: FlaskClient, path: str = "/login") -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True))
    assert match
    return match.group(1)


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD, *, address: str = "192.0.2.1",
            path: str = "/login") -> object:
    return client.post(path, data={"email": email, "password": password, "csrf_token": csrf(client)},
                       environ_base={"REMOTE_ADDR": address})


def session_cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def with_cookie(app: Flask, value: str) -> FlaskClient:
    """Another browser holding a copy of a session cookie."""
    other = app.test_client()
    other.set_cookie("session", value)
    return other


def audit_rows(app: Flask, *where: object) -> list[AuditEvent]:
    with app.extensions["ledger.sessions"]() as session:
        return list(session.scalars(select(AuditEvent).where(*where).order_by(AuditEvent.id)))


# -- the cookie ----------------------------------------------------------------------------
@pytest.fixture
def production_app(sqlite_url: str) -> Iterator[Flask]:
    application = create_app({"DATABASE_URL": sqlite_url, "SECRET_KEY": "production-secret", "ENV": "production"})
    yield application
    application.extensions["ledger.engine"].dispose()


def test_the_session_cookie_is_secure_in_production_and_lasts_eight_hours(production_app: Flask) -> None:
    with production_app.extensions["ledger.sessions"]() as session:
        users.add_user(session, email=OFFICER, role="officer", password=PASSWORD, actor=SYSTEM)
    client = production_app.test_client()
    with freeze_time("2026-01-05 10:00:00"):
        response = sign_in(client, OFFICER)
    cookies = response.headers.getlist("Set-Cookie")  # type: ignore[attr-defined]
    session_cookie = next(c for c in cookies if c.startswith("session="))
    assert "Secure" in session_cookie and "HttpOnly" in session_cookie and "SameSite=Lax" in session_cookie
    assert "Expires=Mon, 05 Jan 2026 18:00:00 GMT" in session_cookie
    device = next(c for c in cookies if c.startswith("s106_device="))
    assert "Secure" in device and "HttpOnly" in device and "Path=/login" in device


def test_a_page_does_not_set_the_session_cookie_again(production_app: Flask) -> None:
    with production_app.extensions["ledger.sessions"]() as session:
        users.add_user(session, email=OFFICER, role="officer", password=PASSWORD, actor=SYSTEM)
    client = production_app.test_client()
    with freeze_time("2026-01-05 10:00:00") as frozen:
        sign_in(client, OFFICER)
        client.get("/dashboard")  # the first page keeps the session's CSRF token in it
        frozen.tick(3600)
        response = client.get("/dashboard")
    assert response.status_code == 200
    # Nothing in the session changed, and it ends 8 hours after signing in whatever the
    # cookie says: a page leaves the cookie as it is.
    assert not [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]  # type: ignore[attr-defined]


def test_a_setting_can_turn_the_secure_cookie_off_for_plain_http(sqlite_url: str) -> None:
    app = create_app({"DATABASE_URL": sqlite_url, "SECRET_KEY": "s", "ENV": "production",
                      "SESSION_COOKIE_SECURE": False})
    assert app.config["SESSION_COOKIE_SECURE"] is False
    assert app.permanent_session_lifetime.total_seconds() == 8 * 3600
    app.extensions["ledger.engine"].dispose()


def test_off_production_the_cookie_is_not_secure(app: Flask) -> None:
    assert app.config["SESSION_COOKIE_SECURE"] is False


def test_a_session_ends_eight_hours_after_signing_in_however_busy(app: Flask, client: FlaskClient,
                                                                   officer: str) -> None:
    with freeze_time("2026-01-05 10:00:00") as frozen:
        sign_in(client, officer)
        copied = session_cookie(client)
        for _ in range(7):  # a request an hour: each one re-sends the cookie
            frozen.tick(3600)
            assert client.get("/dashboard").status_code == 200
        frozen.tick(59 * 60)  # 17:59
        assert with_cookie(app, copied).get("/dashboard").status_code == 200
        frozen.tick(2 * 60)  # 18:01
        assert client.get("/dashboard").status_code == 302
        # The server refuses it, not only the browser's expiry: a copy sent by hand is refused too.
        assert with_cookie(app, copied).get("/dashboard").status_code == 302


# -- ending every copy of a session ---------------------------------------------------------
def test_signing_out_ends_every_copy_of_the_session(app: Flask, client: FlaskClient, officer: str) -> None:
    sign_in(client, officer)
    other = with_cookie(app, session_cookie(client))
    assert other.get("/dashboard").status_code == 200
    assert client.post("/logout", data={"csrf_token": csrf(client, "/dashboard")}).status_code == 302
    response = other.get("/dashboard")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert [e.actor for e in audit_rows(app, AuditEvent.action == "sign-out")] == [officer]
    # Signing in again works, and the old copy stays dead.
    sign_in(client, officer)
    assert client.get("/dashboard").status_code == 200
    assert other.get("/dashboard").status_code == 302


def test_a_new_password_ends_every_session(app: Flask, client: FlaskClient, officer: str) -> None:
    sign_in(client, officer)
    with app.extensions["ledger.sessions"]() as session:
        users.change_user(session, officer, actor=SYSTEM, password="battery staple")
    assert client.get("/dashboard").status_code == 302
    assert sign_in(client, officer, PASSWORD).status_code == 401
    assert sign_in(client, officer, "battery staple").status_code == 302
    [change] = audit_rows(app, AuditEvent.action == "change-user")
    assert change.after["password"] == "changed" and "password_hash" not in change.after  # type: ignore[index]
    assert change.after["session_version"] == change.before["session_version"] + 1  # type: ignore[index]


def test_a_disabled_user_is_signed_out_at_once_and_cannot_sign_in(app: Flask, client: FlaskClient,
                                                                   officer: str) -> None:
    sign_in(client, officer)
    with app.extensions["ledger.sessions"]() as session:
        users.change_user(session, officer, actor=SYSTEM, disabled=True)
    assert client.get("/dashboard").status_code == 302
    refused = sign_in(client, officer)
    assert refused.status_code == 401 and "not right" in refused.get_data(as_text=True)
    with app.extensions["ledger.sessions"]() as session:
        users.change_user(session, officer, actor=SYSTEM, disabled=False)
    assert sign_in(client, officer).status_code == 302
    assert client.get("/dashboard").status_code == 200


# -- no-store ------------------------------------------------------------------------------
def test_signed_in_pages_and_downloads_are_not_for_caches(app: Flask, client: FlaskClient, officer: str) -> None:
    assert "no-store" not in client.get("/login").headers.get("Cache-Control", "")
    sign_in(client, officer)
    for path in ("/dashboard", "/agreements", "/reports/at-risk.csv", "/reports/income-due.xlsx"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == "no-store", path


# -- signing in: throttled, never locked -----------------------------------------------------
def test_failures_from_one_address_wait_longer_and_longer_then_a_success_resets(client: FlaskClient,
                                                                                officer: str) -> None:
    with freeze_time("2026-01-05 10:00:00") as frozen:
        for _ in range(5):
            assert sign_in(client, officer, "wrong").status_code == 401
        waits = []
        for _ in range(4):
            throttled = sign_in(client, officer, PASSWORD)  # not even checked while waiting
            assert throttled.status_code == 429
            waits.append(int(throttled.headers["Retry-After"]))
            assert f"try again in {waits[-1]} second" in throttled.get_data(as_text=True)
            frozen.tick(waits[-1])
            assert sign_in(client, officer, "wrong").status_code == 401
        assert waits == [1, 2, 4, 8]
        frozen.tick(16)
        assert sign_in(client, officer, PASSWORD).status_code == 302
        assert sign_in(client, officer, "wrong").status_code == 401  # counted from nothing again


def test_the_waits_stop_growing_at_their_caps(app: Flask, client: FlaskClient, officer: str) -> None:
    with freeze_time("2026-01-05 10:00:00") as frozen:
        retry_after = 0
        for _ in range(30):
            response = sign_in(client, officer, "wrong")
            if response.status_code == 429:
                retry_after = int(response.headers["Retry-After"])
                frozen.tick(retry_after)
        assert retry_after == users.ADDRESS.cap.total_seconds() == 300


def test_an_attack_from_elsewhere_never_locks_the_real_user_out(app: Flask, officer: str) -> None:
    """Many addresses guessing the officer's password make the account wait at most a
    minute per attempt; the officer's own browser, which has signed in before, is not kept
    waiting at all."""
    own_browser, new_browser = app.test_client(), app.test_client()
    with freeze_time("2026-01-05 09:00:00"):
        assert sign_in(own_browser, officer, address="198.51.100.7").status_code == 302
        own_browser.post("/logout", data={"csrf_token": csrf(own_browser, "/dashboard")})
    with freeze_time("2026-01-05 10:00:00") as frozen:
        attacker = app.test_client()
        retry_after = 0
        for n in range(200):  # 200 guesses from 50 addresses, 4 each: no address ever waits
            response = sign_in(attacker, officer, f"guess {n}", address=f"203.0.113.{n // 4}")
            if response.status_code == 429:
                retry_after = max(retry_after, int(response.headers["Retry-After"]))
            frozen.tick(0.1)
        assert 0 < retry_after <= users.ACCOUNT.cap.total_seconds() == 60
        waiting = sign_in(new_browser, officer, address="198.51.100.8")
        assert waiting.status_code == 429 and int(waiting.headers["Retry-After"]) <= 60
        assert sign_in(own_browser, officer, address="198.51.100.7").status_code == 302


def test_another_accounts_device_cookie_does_not_skip_the_account_wait(app: Flask, officer: str) -> None:
    with app.extensions["ledger.sessions"]() as session:
        users.add_user(session, email="member@kent.gov.uk", role="member", password=PASSWORD, actor=SYSTEM)
    browser = app.test_client()
    with freeze_time("2026-01-05 10:00:00"):
        assert sign_in(browser, "member@kent.gov.uk").status_code == 302
        for n in range(5):
            sign_in(app.test_client(), officer, "wrong", address=f"203.0.113.{n}")
        assert sign_in(browser, officer).status_code == 429


def test_an_unknown_email_gets_the_same_answer_throttle_and_work(app: Flask, officer: str) -> None:
    with freeze_time("2026-01-05 10:00:00"):
        unknown = sign_in(app.test_client(), "nobody@kent.gov.uk", "whatever")
        wrong = sign_in(app.test_client(), officer, "whatever", address="192.0.2.2")
        assert unknown.status_code == wrong.status_code == 401
        without_token = re.compile(r'name="csrf_token" value="[^"]+"')
        assert (without_token.sub("", unknown.get_data(as_text=True)).replace("nobody@kent.gov.uk", officer)
                == without_token.sub("", wrong.get_data(as_text=True)))
        # The account counter is kept for unknown emails too.
        answers = [sign_in(app.test_client(), "nobody@kent.gov.uk", "x", address=f"203.0.113.{n}").status_code
                   for n in range(7)]
    assert answers == [401] * 4 + [429] * 3  # one failure before, then four: the fifth waits
    # The same scrypt work: the dummy hash is made as real ones are, and costs what they cost.
    assert users.DUMMY_HASH.split("$")[0] == generate_password_hash("x").split("$")[0]

    def fastest(email: str, address: str) -> float:
        took = []
        for _ in range(3):
            started = time.perf_counter()
            with app.app_context():
                from ledger.extensions import get_session

                with pytest.raises(users.SignInRefused):
                    users.sign_in(get_session(), email, "wrong", client=address, known_device=True)
            took.append(time.perf_counter() - started)
        return min(took)

    assert fastest("nobody@kent.gov.uk", "192.0.2.30") > 0.5 * fastest(officer, "192.0.2.31")


def test_an_admin_unlocks_an_account(app: Flask, officer: str) -> None:
    with freeze_time("2026-01-05 10:00:00"):
        for n in range(6):
            sign_in(app.test_client(), officer, "wrong", address=f"203.0.113.{n}")
        assert sign_in(app.test_client(), officer, address="192.0.2.9").status_code == 429
        result = app.test_cli_runner().invoke(args=["ledger", "users", "unlock", officer])
        assert result.exit_code == 0, result.output
        assert sign_in(app.test_client(), officer, address="192.0.2.9").status_code == 302
    [unlock] = audit_rows(app, AuditEvent.action == "unlock-user")
    # Five failures: the sixth attempt came while the account waited, and was not checked.
    assert (unlock.actor, unlock.target_reference, unlock.before["failures"]) == ("system", officer, 5)  # type: ignore[index]


def test_a_flood_of_failed_sign_ins_adds_a_few_audit_rows_not_one_each(app: Flask, officer: str) -> None:
    client = app.test_client()
    with freeze_time("2026-01-05 10:00:00"):
        for n in range(150):  # every one a new email, every other one 5,000 characters long
            sign_in(client, f"nobody{n}@kent.gov.uk" + "x" * 5000 * (n % 2), "wrong")
        for _ in range(50):
            sign_in(client, officer, "wrong")
    rows = audit_rows(app, AuditEvent.action == "sign-in")
    assert [(r.actor, r.reason, r.count) for r in rows] == [
        ("anonymous", "wrong email or password", 5), ("anonymous", "too many attempts: not checked", 195)]
    assert all(r.client == "192.0.2.1" and len(r.target_reference or "") <= 255 for r in rows)


def test_failed_sign_ins_are_audited_per_minute(app: Flask, client: FlaskClient, officer: str) -> None:
    with freeze_time("2026-01-05 10:00:10") as frozen:
        sign_in(client, officer, "wrong")
        sign_in(client, officer, "wrong")
        frozen.tick(60)
        sign_in(client, officer, "wrong")
        assert sign_in(client, officer).status_code == 302
    rows = audit_rows(app, AuditEvent.action == "sign-in")
    assert [(r.actor, r.outcome, r.reason, r.count) for r in rows] == [
        (officer, "refused", "wrong email or password", 2), (officer, "refused", "wrong email or password", 1),
        (officer, "ok", "signed in", 1)]


def multipart(fields: dict[str, bytes]) -> tuple[bytes, str]:
    """A form as raw bytes, so a test can send what no encoder would make."""
    parts = [b"--B\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n" % (name.encode(), value)
             for name, value in fields.items()]
    return b"".join(parts) + b"--B--\r\n", "multipart/form-data; boundary=B"


def test_a_sign_in_with_odd_characters_is_a_401_page_and_audited_printable(app: Flask, officer: str) -> None:
    """A form never brings a lone surrogate (werkzeug keeps undecodable escapes as typed and
    replaces undecodable bytes), but control characters and the bytes of one do arrive;
    and a WSGI server may hand over any client address."""
    surrogate_bytes = "\ud800".encode(errors="surrogatepass")
    client = app.test_client()
    with freeze_time("2026-01-05 10:00:00"):
        assert sign_in(client, officer).status_code == 302  # a known device from now on
        answers = [
            sign_in(client, "\x1b[2J\x85@kent.gov.uk", "wrong\x01\x9b", address="192.0.2.11").status_code,
            client.post("/login", data=f"email=%ED%A0%80@x&password=%ED%A0%80%ED%A0%80&csrf_token={csrf(client)}",
                        content_type="application/x-www-form-urlencoded",
                        environ_base={"REMOTE_ADDR": "192.0.2.12"}).status_code,
            client.post("/login", data=multipart({"email": surrogate_bytes + b"@x", "password": b"\xff" * 8,
                                                  "csrf_token": csrf(client).encode()})[0],
                        content_type=multipart({})[1], environ_base={"REMOTE_ADDR": "192.0.2.13"}).status_code,
            client.post("/login", data={"email": officer, "password": "wrong", "csrf_token": csrf(client)},
                        environ_base={"REMOTE_ADDR": "192.0.2.1\ud800\x00"}).status_code,
        ]
        assert sign_in(client, officer).status_code == 302
    assert answers == [401] * 4
    refused = audit_rows(app, AuditEvent.outcome == "refused")
    assert [(r.target_reference, r.client) for r in refused] == [
        (r"\x1b[2j\x85@kent.gov.uk", "192.0.2.11"), ("%ed%a0%80@x", "192.0.2.12"), ("\ufffd\ufffd\ufffd@x", "192.0.2.13"),
        (officer, r"192.0.2.1\ud800\x00")]


def test_behind_a_proxy_the_forwarded_address_is_the_client(sqlite_url: str) -> None:
    app = create_app({"TESTING": True, "DATABASE_URL": sqlite_url, "SECRET_KEY": "s", "ENV": "testing",
                      "PROXY_FIX": 1})
    with app.extensions["ledger.sessions"]() as session:
        users.add_user(session, email=OFFICER, role="officer", password=PASSWORD, actor=SYSTEM)
    client = app.test_client()
    client.post("/login", data={"email": OFFICER, "password": "wrong", "csrf_token": csrf(client)},
                headers={"X-Forwarded-For": "6.6.6.6, 198.51.100.20"}, environ_base={"REMOTE_ADDR": "10.0.0.1"})
    [row] = audit_rows(app, AuditEvent.action == "sign-in")
    assert row.client == "198.51.100.20"  # the hop our one proxy added, not what the client wrote
    app.extensions["ledger.engine"].dispose()


# -- hostile input -------------------------------------------------------------------------
@pytest.mark.parametrize("target", [
    "/\r\nSet-Cookie: stolen=1", "/%0d%0aSet-Cookie:%20stolen=1", "//evil.example/", "/\\evil.example",
    "\\\\evil.example", "https://evil.example/", "javascript:alert(1)", " //evil.example", "/\x00", "/\x7f",
    "/\t/evil.example", "/" + "a" * 3000,
], ids=lambda t: repr(t)[:30])
def test_a_hostile_next_is_ignored_and_the_user_goes_home(client: FlaskClient, officer: str, target: str) -> None:
    response = client.post("/login", query_string={"next": target},
                           data={"email": officer, "password": PASSWORD, "csrf_token": csrf(client)})
    assert response.status_code == 302
    assert response.headers["Location"] == "/" or target == "/%0d%0aSet-Cookie:%20stolen=1"
    assert "\r" not in response.headers["Location"] and "\n" not in response.headers["Location"]
    assert all("stolen" not in c for c in response.headers.getlist("Set-Cookie"))


def test_a_raw_crlf_in_the_query_string_is_no_header(client: FlaskClient, officer: str) -> None:
    response = client.post("/login?next=/%0D%0ASet-Cookie:%20stolen=1",
                           data={"email": officer, "password": PASSWORD, "csrf_token": csrf(client)})
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_a_next_with_letters_beyond_ascii_is_kept_encoded(client: FlaskClient, officer: str) -> None:
    response = client.post("/login?next=/agreements?q=caf%C3%A9",
                           data={"email": officer, "password": PASSWORD, "csrf_token": csrf(client)})
    assert response.headers["Location"] == "/agreements?q=caf%C3%A9"


HOSTILE_VALUES = ["\u00b2", "-1", "0", "99999999999999999999", "9999-12-31", "0001-01-01", "1899-12-31", "2200-01-01",
                  "garbage", "\x00", "%ED%A0%80", "2024-02-30", "20240101", "\u0662\u0660\u0662\u0664-01-01",
                  "x" * 5000, "99999"]
#: Each page and the query parameters it reads.
PAGES = {
    "/dashboard": [], "/agreements": ["q", "authority", "division", "purpose", "service", "year", "at_risk", "page",
                                    "sort", "order"],
    "/agreements.csv": ["q", "authority", "division", "purpose", "service", "year", "at_risk", "sort", "order"],
    "/at-risk": ["authority", "division", "service", "band", "sort", "order", "page"],
    "/at-risk.csv": ["authority", "division", "service", "band", "sort", "order"],
    "/agreements/20/00001/FUL": [], "/obligations/20/00001/FUL/1": ["on"], "/divisions": [],
    "/divisions/ashford-central": [], "/reports": [], "/reports/ifs.xlsx": ["year", "edition"],
    "/reports/at-risk.csv": ["as_of"], "/reports/at-risk.xlsx": ["as_of"],
    "/audit": ["user", "type", "record", "from", "to", "page"],
    "/income-due": ["as_of"], "/reports/income-due.csv": ["as_of"], "/reports/income-due.xlsx": ["as_of"],
    "/index-values": [], "/projects/PRJ-1": [], "/login": ["next"],
    "/projects": ["q", "division", "service", "sort", "order", "page"],
    "/projects.csv": ["q", "division", "service", "sort", "order"],
    "/income-due.csv": ["as_of", "authority", "division", "overdue", "sort", "order"],
    "/accessibility": [], "/agreements/new": [], "/projects/new": [], "/entries/1": [],
    "/agreements/20/00001/FUL/edit": [], "/obligations/20/00001/FUL/1/edit": [],
    "/obligations/20/00001/FUL/1/instalments/new": [], "/obligations/20/00001/FUL/1/reviews/new": ["back"],
}
# The GOV.UK date inputs' boxes, on the pages that read them.
PAGES["/audit"] += ["from-day", "from-month", "from-year", "to-day", "to-month", "to-year"]
PAGES["/obligations/20/00001/FUL/1"] += ["on-day", "on-month", "on-year"]
PAGES["/reports"] += ["report", "as_of-day", "as_of-month", "as_of-year"]
PAGES["/income-due"] += ["authority", "division", "overdue", "sort", "order", "page"]


@pytest.fixture
def admin_client(app: Flask) -> Iterator[FlaskClient]:
    """An admin signed in, on 31 March 2025 for the whole test."""
    with app.extensions["ledger.sessions"]() as session:
        make_ledger(session)
        post(session, "receipt", "1000.00", date(2020, 6, 1), reference="R-1")
        users.add_user(session, email="admin@kent.gov.uk", role="admin", password=PASSWORD, actor=SYSTEM)
    with freeze_time("2025-03-31 12:00:00"):
        client = app.test_client()
        assert sign_in(client, "admin@kent.gov.uk").status_code == 302
        yield client


def test_hostile_query_strings_get_a_page_or_a_400_never_a_500(admin_client: FlaskClient) -> None:
    outcomes: dict[str, set[int]] = {}
    for path, names in PAGES.items():
        for value in HOSTILE_VALUES:
            raw = value if value.startswith("%") else None
            for name in names or ["page"]:
                if raw:
                    response = admin_client.get(f"{path}?{name}={raw}")
                else:
                    response = admin_client.get(path, query_string={name: value})
                outcomes.setdefault(path, set()).add(response.status_code)
                assert response.status_code in (200, 400), (path, name, value, response.status_code)
                if response.status_code == 400:
                    assert "text/html" in response.content_type
    assert 400 in outcomes["/agreements"] and 400 in outcomes["/obligations/20/00001/FUL/1"]


@pytest.mark.parametrize(("query", "status"), [
    ("as_of=2199-12-31", 200), ("as_of=2200-01-01", 400), ("as_of=1900-01-01", 200), ("as_of=1899-12-31", 400),
    ("as_of=2024-02-30", 400), ("as_of=", 200),
])
def test_dates_in_query_strings_run_from_1900_to_2199(admin_client: FlaskClient, query: str, status: int) -> None:
    response = admin_client.get(f"/income-due?{query}")
    assert response.status_code == status
    if status == 400:
        assert "as_of" in response.get_data(as_text=True)


@pytest.mark.parametrize(("query", "status"), [
    ("page=2", 200), ("page=1000000", 200), ("page=1000001", 400), ("page=%C2%B2", 400), ("page=-1", 400),
    ("year=2024", 200), ("year=1899", 400), ("year=2199", 400), ("year=24", 400),
])
def test_pages_and_years_are_plain_numbers_in_range(admin_client: FlaskClient, query: str, status: int) -> None:
    assert admin_client.get(f"/agreements?{query}").status_code == status


# The milestone form's refusals and recording: tests/web/test_reference_pages.py.


@pytest.mark.parametrize(("path", "status"), [
    ("/entries/1/reverse", 200), ("/entries/%D9%A1/reverse", 404), ("/entries/%EF%BC%91/reverse", 404),
    ("/entries/0/reverse", 404), ("/entries/2147483648/reverse", 404), ("/entries/01/reverse", 200),
])
def test_an_entry_number_is_ascii_digits(admin_client: FlaskClient, path: str, status: int) -> None:
    assert admin_client.get(path).status_code == status


def test_a_control_character_in_a_path_or_a_form_is_a_400(admin_client: FlaskClient) -> None:
    assert admin_client.get("/agreements/AG%00/1").status_code == 400
    assert admin_client.post("/login", data={"email": "a\x00@b", "password": "x"}).status_code == 400
    with admin_client.application.extensions["ledger.sessions"]() as session:
        refused = session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.outcome == "refused"))
    assert refused == 0


def test_the_audit_page_shows_how_many_times_and_from_where(app: Flask, admin_client: FlaskClient) -> None:
    for _ in range(3):
        sign_in(app.test_client(), "nobody@kent.gov.uk", "wrong", address="203.0.113.77")
    page = admin_client.get("/audit").get_data(as_text=True)
    assert "refused &times; 3 in that minute" in page and "<td>203.0.113.77</td>" in page
