"""Accounts on both engines: refusals counted per client and minute (exactly, with sixteen
threads at once on PostgreSQL), the audit log still append-only otherwise, sign-in counters
that no burst of attempts gets past, tokens' expiry, revocation and last use, migration 0007."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from freezegun import freeze_time
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from ledger.db import ledger_revision, make_engine
from ledger.domain import limits
from ledger.domain.errors import Conflict, InvalidInput
from ledger.migrate import downgrade, upgrade
from ledger.models import ApiToken, AuditEvent, SignInThrottle
from ledger.services import SYSTEM, audit, users
from tests.threads import all_at_once, app_for_threads

THREADS = 16
NOW = "2026-01-05 10:00:30"


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    with app_for_threads(database_url, THREADS) as application:
        yield application


@pytest.fixture
def db(app: Flask) -> Iterator[Session]:
    with app.extensions["ledger.sessions"]() as session:
        yield session


def at_once(app: Flask, work: Callable[[Session, int], object], *, threads: int = THREADS) -> list[object]:
    """Run ``work(session, n)`` in ``threads`` threads released together; what each returned or raised."""
    sessions = [app.extensions["ledger.sessions"]() for _ in range(threads)]
    try:
        return list(all_at_once(threads, lambda n: work(sessions[n], n)))
    finally:
        for session in sessions:
            session.close()


def events(session: Session, *where: object) -> list[AuditEvent]:
    session.rollback()
    return list(session.scalars(select(AuditEvent).where(*where).order_by(AuditEvent.id)))


# -- refusals counted per client and minute --------------------------------------------------
def test_refusals_from_one_client_in_one_minute_share_a_row(db: Session) -> None:
    with freeze_time("2026-01-05 10:00:01") as frozen:
        for _ in range(3):
            audit.record_refusal(db, actor="m@x", action="GET /api/v1/audit", reason="role", client="192.0.2.1")
        audit.record_refusal(db, actor="m@x", action="GET /api/v1/users", reason="role", client="192.0.2.1")
        audit.record_refusal(db, actor="m@x", action="GET /api/v1/audit", reason="role", client="192.0.2.2")
        frozen.tick(60)
        audit.record_refusal(db, actor="m@x", action="GET /api/v1/audit", reason="role", client="192.0.2.1")
    rows = events(db)
    assert [(r.action, r.client, r.count, r.at.minute) for r in rows] == [
        ("GET /api/v1/audit", "192.0.2.1", 3, 0), ("GET /api/v1/users", "192.0.2.1", 1, 0),
        ("GET /api/v1/audit", "192.0.2.2", 1, 0), ("GET /api/v1/audit", "192.0.2.1", 1, 1)]


def test_an_anonymous_clients_refusals_share_a_row_whatever_they_asked(db: Session) -> None:
    with freeze_time(NOW):
        for n in range(50):
            audit.record_refusal(db, actor=audit.ANONYMOUS, action=f"GET /api/v1/x{n}", reason="no token",
                                 client="192.0.2.1", target_reference=f"/api/v1/x{n}")
    [row] = events(db)
    assert (row.count, row.action, row.target_reference) == (50, "GET /api/v1/x0", "/api/v1/x0")


def test_stored_values_are_cut_to_their_columns_with_a_marker(db: Session) -> None:
    with db.begin():
        audit.record(db, actor="a" * 10_000, action="b" * 10_000, target_reference="c" * 10_000,
                     reason="d" * 10_000, client="e" * 1000)
    [row] = events(db)
    assert (len(row.actor), len(row.action), len(row.target_reference or ""), len(row.reason or ""),
            len(row.client or "")) == (255, 64, 255, 2000, 64)
    assert row.actor.endswith("a\u2026") and (row.reason or "").endswith("d\u2026")


@pytest.mark.parametrize("odd", ["\x00", "\ud800", "\x1b"], ids=["nul", "lone-surrogate", "escape"])
def test_a_refusal_holding_what_no_column_keeps_is_stored_written_out(db: Session, odd: str) -> None:
    written = limits.printable(odd)
    with freeze_time(NOW):
        for _ in range(2):
            audit.record_refusal(db, actor=f"m{odd}@x", action=f"GET /{odd}", reason=f"no{odd}\nway", client=f"192.0.2.1{odd}",
                                 target_reference=f"/agreements/{odd}")
    [row] = events(db)
    assert (row.actor, row.action, row.reason, row.client, row.target_reference, row.count) == (
        f"m{written}@x", f"GET /{written}", f"no{written}\nway", f"192.0.2.1{written}", f"/agreements/{written}", 2)


def test_an_event_holding_what_no_column_keeps_is_stored_written_out(db: Session) -> None:
    odd = "\x00\ud800\x9b"
    with db.begin():
        audit.record(db, actor=odd, action=odd, target_type=odd, target_reference=odd, reason=f"{odd}\r\n\t",
                     client=odd, before={odd: [odd, {"note": odd}]}, after={"n": 1, "text": f"a\n{odd}"})
    [row] = events(db)
    written = r"\x00\ud800\x9b"
    assert {row.actor, row.action, row.target_type, row.target_reference, row.client} == {written}
    assert row.reason == f"{written}\r\n\t"
    assert row.before == {written: [written, {"note": written}]} and row.after == {"n": 1, "text": f"a\n{written}"}


def test_the_audit_log_stays_append_only_but_for_a_count_moving_on(db: Session, database_url: str) -> None:
    with freeze_time(NOW):
        audit.record_refusal(db, actor="m@x", action="GET /x", reason="r", client="192.0.2.1")
        with db.begin():
            audit.record(db, actor="m@x", action="create-user")
    aggregated, plain = events(db)
    engine = make_engine(database_url)
    refused = [
        f"UPDATE audit_events SET count = 5 WHERE id = {plain.id}",  # not an aggregated row
        f"UPDATE audit_events SET reason = 'other' WHERE id = {aggregated.id}",
        f"UPDATE audit_events SET count = 0 WHERE id = {aggregated.id}",  # never down
        f"UPDATE audit_events SET count = count + 1, actor = 'x' WHERE id = {aggregated.id}",
        f"DELETE FROM audit_events WHERE id = {aggregated.id}",
    ]
    for statement in refused:
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(text(statement))
    with engine.begin() as connection:
        connection.execute(text(f"UPDATE audit_events SET count = count + 1 WHERE id = {aggregated.id}"))
    engine.dispose()
    assert [r.count for r in events(db)] == [2, 1]


@pytest.mark.postgres
def test_sixteen_threads_refused_five_times_each_in_a_minute_make_one_row_of_80(app: Flask, db: Session) -> None:
    def refuse_five_times(session: Session, n: int) -> None:
        for _ in range(5):
            audit.record_refusal(session, actor="anonymous", action=f"GET /api/v1/{n}", reason="no token",
                                 client="192.0.2.1")

    with freeze_time(NOW):
        results = at_once(app, refuse_five_times)
    assert results == [None] * THREADS
    [row] = events(db)
    assert row.count == THREADS * 5


@pytest.mark.postgres
def test_sixteen_anonymous_api_clients_at_once_add_one_row_a_minute(app: Flask, db: Session) -> None:
    def ask_five_times(_session: Session, n: int) -> list[int]:
        client = app.test_client()
        return [client.get(f"/api/v1/agreements?n={n}").status_code for _ in range(5)]

    with freeze_time(NOW):
        results = at_once(app, ask_five_times)
    assert results == [[401] * 5] * THREADS
    [row] = events(db)
    assert (row.actor, row.count, row.client) == ("anonymous", 80, "127.0.0.1")


# -- sign-in counters ----------------------------------------------------------------------
@pytest.fixture
def officer(db: Session) -> str:
    users.add_user(db, email="officer@kent.gov.uk", role="officer", password="correct horse", actor=SYSTEM)
    return "officer@kent.gov.uk"


def test_sixteen_threads_guessing_at_once_get_exactly_the_free_attempts(app: Flask, db: Session, officer: str) -> None:
    """Every attempt is counted before its password is checked, so a burst at once cannot
    all be checked before any is counted: of 80 guesses from 16 addresses, exactly the
    account's free five are checked and the wait is one second."""

    def guess_five_times(session: Session, n: int) -> list[str]:
        outcomes = []
        for attempt in range(5):
            try:
                users.sign_in(session, officer, f"guess {n}-{attempt}", client=f"198.51.100.{n}")
            except users.SignInThrottled:
                outcomes.append("throttled")
            except users.SignInRefused:
                outcomes.append("refused")
        return outcomes

    with freeze_time(NOW):
        results = at_once(app, guess_five_times)
    outcomes = Counter(outcome for result in results for outcome in result)  # type: ignore[attr-defined]
    assert outcomes == {"refused": users.ACCOUNT.free, "throttled": THREADS * 5 - users.ACCOUNT.free}, results
    db.rollback()
    counter = users.throttle_of(db, users.account_key(officer))
    assert counter is not None and counter.failures == users.ACCOUNT.free
    assert counter.blocked_until == datetime.fromisoformat(NOW).replace(tzinfo=UTC) + timedelta(seconds=1)
    # Attempts the account's wait refused were not counted against their addresses either.
    addresses = db.scalar(select(func.sum(SignInThrottle.failures)).where(SignInThrottle.key.like("address %")))
    assert addresses == users.ACCOUNT.free


def test_one_address_spraying_sixteen_accounts_at_once_is_held_to_its_free_attempts(app: Flask, db: Session) -> None:
    def guess(session: Session, n: int) -> str:
        try:
            users.sign_in(session, f"user{n}@kent.gov.uk", "guess", client="203.0.113.9")
        except users.SignInThrottled:
            return "throttled"
        except users.SignInRefused:
            return "refused"
        return "signed in"

    with freeze_time(NOW):
        results = at_once(app, guess)
    assert Counter(results) == {"refused": users.ADDRESS.free, "throttled": THREADS - users.ADDRESS.free}


def test_counters_are_forgotten_after_a_day_and_pruned_on_a_success(db: Session, officer: str) -> None:
    with freeze_time("2026-01-05 10:00:00") as frozen:
        for n in range(3):
            with pytest.raises(users.SignInRefused):
                users.sign_in(db, f"nobody{n}@kent.gov.uk", "x", client=f"203.0.113.{n}")
        with pytest.raises(users.SignInRefused):
            users.sign_in(db, officer, "x", client="203.0.113.50")
        frozen.tick(timedelta(days=1, seconds=1))
        with pytest.raises(users.SignInRefused):
            users.sign_in(db, officer, "x", client="203.0.113.50")
        db.rollback()
        assert users.throttle_of(db, users.account_key(officer)).failures == 1  # type: ignore[union-attr]
        users.sign_in(db, officer, "correct horse", client="203.0.113.51")
    db.rollback()
    assert db.scalars(select(SignInThrottle.key)).all() == [users.address_key("203.0.113.50")]


@pytest.mark.parametrize(("email", "password", "client"), [
    ("officer@kent.gov.uk", "correct horse\ud800", "192.0.2.1"),
    ("\ud800officer@kent.gov.uk", "correct horse", "192.0.2.1"),
    ("officer@kent.gov.uk\x00", "correct horse", "192.0.2.1"),
    ("\x1b[2J@kent.gov.uk", "\udcff" * 8, "192.0.2.1\ud800"),
], ids=["surrogate-in-password", "surrogate-in-email", "nul-in-email", "everything-odd"])
def test_a_sign_in_with_what_no_column_keeps_is_refused_and_audited(db: Session, officer: str, email: str,
                                                                    password: str, client: str) -> None:
    with freeze_time(NOW):
        with pytest.raises(users.SignInRefused) as refused:
            users.sign_in(db, email, password, client=client)
        assert not isinstance(refused.value, users.SignInThrottled)
        users.sign_in(db, officer, "correct horse", client="192.0.2.1")  # the address was counted, not stuck
    [refusal] = events(db, AuditEvent.outcome == "refused")
    assert refusal.target_reference == limits.printable(email.strip().lower())
    assert refusal.client == limits.printable(client) and refusal.reason == "wrong email or password"


@pytest.mark.parametrize(("email", "password", "field"), [
    ("a\x00@x", "correct horse", "email"), ("\ud800@x", "correct horse", "email"), ("a\t@x", "correct horse", "email"),
    ("a@x", "correct horse\ud800", "password"),
])
def test_no_account_is_made_with_what_no_column_keeps(db: Session, email: str, password: str, field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        users.add_user(db, email=email, role="officer", password=password, actor=SYSTEM)
    assert set(refused.value.errors or {}) == {field}
    assert events(db) == []


@pytest.mark.parametrize(("client", "key"), [
    ("192.0.2.1", "address 192.0.2.1"), ("2001:db8:1:2:3:4:5:6", "address 2001:db8:1:2::/64"),
    ("2001:db8:1:2:ffff::1", "address 2001:db8:1:2::/64"), ("::ffff:192.0.2.1", "address 192.0.2.1"),
    (None, "address unknown"), ("not an address", "address not an address"),
])
def test_an_ipv6_client_is_counted_by_its_64(client: str | None, key: str) -> None:
    assert users.address_key(client) == key


# -- tokens --------------------------------------------------------------------------------
@pytest.fixture
def token(db: Session, officer: str) -> str:
    with freeze_time("2026-01-05 09:00:00"):
        return users.create_token(db, email=officer, actor=SYSTEM, expires_in_days=30)


def test_a_tokens_last_use_is_written_at_most_every_ten_minutes_and_moves_no_revision(
    db: Session, token: str,
) -> None:
    def last_used() -> datetime | None:
        db.rollback()
        return db.scalar(select(ApiToken.last_used_at))

    with freeze_time("2026-01-05 10:00:00") as frozen:
        revision = ledger_revision(db)
        assert users.actor_for_token(db, token) is not None
        first = last_used()
        assert first == datetime(2026, 1, 5, 10, tzinfo=UTC)
        frozen.tick(9 * 60)
        users.actor_for_token(db, token)
        assert last_used() == first
        frozen.tick(60)
        users.actor_for_token(db, token)
        assert last_used() == datetime(2026, 1, 5, 10, 10, tzinfo=UTC)
        assert ledger_revision(db) == revision


def test_a_busy_database_skips_the_note_rather_than_wait(db: Session, token: str, database_url: str) -> None:
    engine = make_engine(database_url)
    with engine.connect() as writer:
        # A writer holding the lock the note needs: SQLite's write lock, PostgreSQL's row lock.
        writer.execute(text("UPDATE api_tokens SET prefix = prefix"))
        with freeze_time("2026-01-05 10:00:00"):
            assert users.actor_for_token(db, token) is not None
        writer.rollback()
    engine.dispose()
    db.rollback()
    assert db.scalar(select(ApiToken.last_used_at)) is None


def test_an_expired_token_a_revoked_one_and_a_disabled_users_are_refused(db: Session, officer: str,
                                                                        token: str) -> None:
    with freeze_time("2026-02-04 08:59:59"):
        assert users.actor_for_token(db, token) is not None
    with freeze_time("2026-02-04 09:00:00"):
        assert users.actor_for_token(db, token) is None
    with freeze_time("2026-01-10"):
        users.change_user(db, officer, actor=SYSTEM, disabled=True)
        assert users.actor_for_token(db, token) is None
        users.change_user(db, officer, actor=SYSTEM, disabled=False)
        assert users.actor_for_token(db, token) is not None
        revoked = users.revoke_token(db, token[:10], actor=SYSTEM)
        assert users.actor_for_token(db, token) is None
        assert users.token_state(revoked, now=datetime.now(UTC)) == "revoked"
    actions = [e.action for e in events(db, AuditEvent.target_type.in_(["users", "api_tokens"]))]
    assert actions == ["create-user", "create-token", "change-user", "change-user", "revoke-token"]
    assert all("token_hash" not in (e.after or {}) and "password_hash" not in (e.after or {}) for e in events(db))


def test_a_prefix_two_tokens_share_is_refused_for_its_id(db: Session, officer: str) -> None:
    first = users.create_token(db, email=officer, actor=SYSTEM)
    users.create_token(db, email=officer, actor=SYSTEM)
    with db.begin():
        db.execute(update(ApiToken).values(prefix=first[:10]))
    with pytest.raises(Conflict, match="by its id"):
        users.revoke_token(db, first[:10], actor=SYSTEM)


@pytest.mark.parametrize("days", [0, -1, users.MAX_TOKEN_LIFETIME_DAYS + 1])
def test_a_token_lives_one_day_to_ten_years(db: Session, officer: str, days: int) -> None:
    from ledger.domain.errors import InvalidInput

    with pytest.raises(InvalidInput):
        users.create_token(db, email=officer, actor=SYSTEM, expires_in_days=days)


# -- migration 0007 ------------------------------------------------------------------------
def test_tokens_made_before_expiry_existed_get_a_year_but_at_least_a_months_grace(database_url: str) -> None:
    engine = make_engine(database_url)
    downgrade(engine, "0006_revision_triggers")
    now = datetime.now(UTC).replace(tzinfo=None)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO users (email, name, role, password_hash, failed_sign_ins, created_at) "
                                "VALUES ('o@x', 'o', 'officer', NULL, 3, :now)"), {"now": now})
        for n, made in enumerate((now - timedelta(days=2000), now - timedelta(days=10))):
            connection.execute(text("INSERT INTO api_tokens (user_id, token_hash, prefix, created_at) "
                                    "SELECT id, :hash, 's106_x', :made FROM users"), {"hash": f"{n:064}", "made": made})
    upgrade(engine)
    with engine.connect() as connection:
        old, recent = connection.execute(text("SELECT expires_at FROM api_tokens ORDER BY id")).scalars().all()
        assert connection.execute(text("SELECT session_version FROM users")).scalar() == 0
    engine.dispose()
    old, recent = (datetime.fromisoformat(str(v)) for v in (old, recent))
    assert timedelta(days=29) < old - now < timedelta(days=31)  # the month's grace
    assert recent - now == timedelta(days=355)


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/api/v1/tokens/99999999999999999999999"), ("DELETE", "/api/v1/tokens/2147483648"),
    ("POST", "/api/v1/tokens/9223372036854775808/revocation"), ("GET", "/api/v1/users/" + "x" * 5000 + "@x"),
    ("PATCH", "/api/v1/users/nobody@x"), ("POST", "/api/v1/users/%C3%A9@x/unlock"),
])
def test_account_paths_out_of_any_range_are_404s_on_both_engines(app: Flask, db: Session, method: str,
                                                                  path: str) -> None:
    users.add_user(db, email="admin@x", role="admin", password=None, actor=SYSTEM)
    headers = {"Authorization": f"Bearer {users.create_token(db, email='admin@x', actor=SYSTEM)}"}
    response = app.test_client().open(path, method=method, headers=headers, json={} if method == "PATCH" else None)
    assert response.status_code == 404, response.get_data(as_text=True)


def test_a_web_entry_number_beyond_any_id_is_a_404_on_both_engines(app: Flask, db: Session) -> None:
    users.add_user(db, email="officer@x", role="officer", password="correct horse", actor=SYSTEM)
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    client.post("/login", data={"email": "officer@x", "password": "correct horse", "csrf_token": token})
    assert client.get("/entries/99999999999999999999/reverse").status_code == 404
    assert client.get("/entries/2147483648/reverse").status_code == 404
