"""Admin pages (issue 15 item 6): an admin adds a user with a temporary password, which they
must change at their first sign-in; tokens issued and revoked in the web; users changed,
disabled, re-enabled and unlocked, each with the reason in the audit log; /account for
everyone; others get 403; no serious accessibility violations at 1280 and 320 px."""

from __future__ import annotations

import json
import os
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from ledger.models import AuditEvent, SignInThrottle, User
from ledger.services import SYSTEM, users
from tests.web.conftest import PASSWORD, screenshot, sign_in
from tests.web.test_pages import AXE

ADMIN, OFFICER, MEMBER = "admin@demo.s106.test", "officer@demo.s106.test", "member@demo.s106.test"


def _events(app: Flask, action: str, target: str) -> list[AuditEvent]:
    with app.extensions["ledger.sessions"]() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action,
                                                             AuditEvent.target_reference == target)))


def _user(app: Flask, email: str) -> User:
    with app.extensions["ledger.sessions"]() as session:
        found = session.scalars(select(User).where(User.email == email)).one()
        session.expunge(found)
        return found


def _sign_out(page) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile("/login"))


@pytest.mark.browser
def test_a_member_added_with_a_temporary_password_must_change_it(page, live_app: Flask) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, ADMIN)
    page.wait_for_url(re.compile("/dashboard"))
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Users").click()
    page.wait_for_url(re.compile("/admin/users$"))
    page.get_by_label("Email address").fill("new.councillor@demo.s106.test")
    page.get_by_label("Role").select_option(label="Councillor")
    division = page.get_by_label("Division (optional)")
    division.select_option(index=1)
    division_name = division.locator("option:checked").inner_text()
    page.get_by_label("Temporary password").fill("short")
    page.get_by_role("button", name="Add user").click()
    # Refused with the GOV.UK error summary, focused, naming the field and the limit; nothing added.
    summary = page.locator(".error-summary")
    assert page.title().startswith("Error:")
    assert summary.evaluate("node => node === document.activeElement")
    assert "Temporary password must be 8 to 1,024 characters long" in summary.inner_text()
    assert "Enter why you are making this change" in summary.inner_text()
    summary.get_by_role("link", name="Enter why").click()
    assert page.evaluate("document.activeElement.id") == "reason"
    screenshot(page, "admin-users-error")
    with live_app.extensions["ledger.sessions"]() as session:
        assert "new.councillor@demo.s106.test" not in {u.email for u in users.list_users(session)}

    page.get_by_label("Temporary password").fill("temporary-1")
    page.get_by_label("Why are you adding them?").fill("Elected in May")
    page.get_by_role("button", name="Add user").click()
    page.wait_for_url(re.compile(r"/admin/users/\d+(#reason)?$"))  # a redirect keeps the fragment
    assert "must change the temporary password" in page.locator(".notification-banner--success").inner_text()
    facts = page.locator("dl.summary-list").inner_text()
    assert "Councillor" in facts and division_name in facts and "Temporary: must be changed" in facts
    [added] = _events(live_app, "create-user", "new.councillor@demo.s106.test")
    assert added.actor == ADMIN and added.reason == "Elected in May"
    assert "password_hash" not in (added.after or {})
    _sign_out(page)

    sign_in(page, "new.councillor@demo.s106.test", "temporary-1")
    page.wait_for_url(re.compile("/account$"))
    assert "temporary one an admin set" in page.locator("main").inner_text()
    page.goto("/dashboard")  # nothing else until the password is their own
    page.wait_for_url(re.compile("/account$"))
    page.get_by_label("Current password").fill("temporary-1")
    page.get_by_label("New password", exact=True).fill("my own password")
    page.get_by_label("New password again").fill("my own passwrod")
    page.get_by_role("button", name="Change password").click()
    assert "The new passwords do not match" in page.locator(".error-summary").inner_text()
    page.get_by_label("Current password").fill("temporary-1")
    page.get_by_label("New password", exact=True).fill("my own password")
    page.get_by_label("New password again").fill("my own password")
    page.get_by_role("button", name="Change password").click()
    page.wait_for_url(re.compile("/divisions/"))  # a councillor's home is their division
    assert "Your password has been changed." in page.locator(".notification-banner--success").inner_text()
    page.goto("/dashboard")
    assert page.url.endswith("/dashboard")
    assert page.get_by_role("heading", name="Money at risk of repayment").is_visible()
    nav = page.get_by_role("navigation", name="Main")
    assert nav.get_by_role("link", name="Users").count() == 0 and nav.get_by_role("link", name="Your account").count() == 1
    assert not _user(live_app, "new.councillor@demo.s106.test").must_change_password
    _sign_out(page)
    sign_in(page, "new.councillor@demo.s106.test", "my own password")
    page.wait_for_url(re.compile("/divisions/"))


@pytest.mark.browser
def test_a_token_revoked_in_the_web_stops_working_in_the_api(page, live_app: Flask) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, ADMIN)
    page.wait_for_url(re.compile("/dashboard"))
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Tokens").click()
    page.wait_for_url(re.compile("/admin/tokens$"))
    page.get_by_label("User", exact=True).select_option(OFFICER)
    page.get_by_label("Days until it expires").fill("30")
    page.get_by_label("What is it for?").fill("Finance system feed")
    page.get_by_role("button", name="Issue token").click()
    token = page.locator("#new-token").inner_text()
    assert re.fullmatch(users.TOKEN_SHAPE, token)
    screenshot(page, "admin-tokens")
    bearer = {"Authorization": f"Bearer {token}"}
    assert page.request.get("/api/v1/agreements", headers=bearer).status == 200

    page.goto("/admin/tokens")  # shown once: a new look at the page does not show it
    assert page.locator("#new-token").count() == 0 and token not in page.content()
    row = page.locator("tbody tr").filter(has_text=token[:10]).first
    assert OFFICER in row.inner_text() and "Active" in row.inner_text()
    row.get_by_role("link").click()
    page.wait_for_url(re.compile(r"/admin/tokens/\d+$"))
    screenshot(page, "admin-token")
    page.get_by_label("Why are you revoking it?").fill("Feed replaced")
    page.get_by_role("button", name="Revoke token").click()
    page.wait_for_url(re.compile("/admin/tokens$"))
    assert "revoked" in page.locator(".notification-banner--success").inner_text()
    assert page.request.get("/api/v1/agreements", headers=bearer).status == 401
    assert "Revoked" in page.locator("tbody tr").filter(has_text=token[:10]).first.inner_text()
    assert [e.reason for e in _events(live_app, "revoke-token", OFFICER)][-1] == "Feed replaced"


@pytest.mark.browser
def test_an_admin_disables_re_enables_and_unlocks_a_user(page, live_app: Flask) -> None:  # type: ignore[no-untyped-def]
    with live_app.extensions["ledger.sessions"]() as session:
        users.add_user(session, email="locked.out@demo.s106.test", role="officer", password=PASSWORD, actor=SYSTEM)
        for _ in range(users.ACCOUNT.free + 1):  # a wait on the account, from many addresses
            with pytest.raises(users.SignInRefused):
                users.sign_in(session, "locked.out@demo.s106.test", "wrong password", client=f"10.0.0.{_}")
        # The first wait is a second or two, which a busy machine can outlast before the page
        # is read: make it the cap's, as a sustained attack would.
        key = users.account_key("locked.out@demo.s106.test")
        with session.begin():
            session.execute(update(SignInThrottle).where(SignInThrottle.key == key)
                            .values(blocked_until=users.throttle_of(session, key).blocked_until + users.ACCOUNT.cap))
        user_id = users.get_user(session, "locked.out@demo.s106.test").id
    sign_in(page, ADMIN)
    page.wait_for_url(re.compile("/dashboard"))
    page.goto(f"/admin/users/{user_id}")
    assert "each new attempt waits until" in page.locator("dl.summary-list").inner_text()
    screenshot(page, "admin-user")
    page.get_by_label("Why are you unlocking them?").fill("Rang the service desk")
    page.get_by_role("button", name="Unlock sign-in").click()
    assert "can sign in again at once" in page.locator(".notification-banner--success").inner_text()
    with live_app.extensions["ledger.sessions"]() as session:
        assert users.throttle_of(session, users.account_key("locked.out@demo.s106.test")) is None
    assert _events(live_app, "unlock-user", "locked.out@demo.s106.test")[-1].reason == "Rang the service desk"

    page.get_by_label("Role").select_option(label="Councillor")
    page.get_by_label("Why are you changing them?").fill("Moved to the council")
    page.get_by_role("button", name="Save role and division").click()
    assert "Councillor" in page.locator("dl.summary-list").inner_text()
    page.get_by_role("button", name="Disable locked.out@demo.s106.test").click()
    assert "Enter why you are making this change" in page.locator(".error-summary").inner_text()
    assert _user(live_app, "locked.out@demo.s106.test").disabled_at is None  # a refused request writes nothing
    page.get_by_label("Why are you disabling them?").fill("Left the council")
    page.get_by_role("button", name="Disable locked.out@demo.s106.test").click()
    assert "Disabled" in page.locator("dl.summary-list").inner_text()
    assert _user(live_app, "locked.out@demo.s106.test").disabled_at is not None
    page.get_by_label("Why are you re-enabling them?").fill("Came back")
    page.get_by_role("button", name="Re-enable locked.out@demo.s106.test").click()
    assert _user(live_app, "locked.out@demo.s106.test").disabled_at is None
    reasons = [e.reason for e in _events(live_app, "change-user", "locked.out@demo.s106.test")]
    assert reasons == ["Moved to the council", "Left the council", "Came back"]


@pytest.mark.browser
def test_others_get_403_and_no_links(page, live_app: Flask) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, OFFICER)
    page.wait_for_url(re.compile("/dashboard"))
    nav = page.get_by_role("navigation", name="Main")
    assert nav.get_by_role("link", name="Users").count() == 0 and nav.get_by_role("link", name="Tokens").count() == 0
    assert nav.get_by_role("link", name="Your account").count() == 1
    user_id = _user(live_app, ADMIN).id
    for path in ("/admin/users", f"/admin/users/{user_id}", "/admin/tokens", "/admin/tokens/1"):
        assert page.request.get(path).status == 403, path
    assert page.request.get("/account").status == 200


ADMIN_PAGES = ["/admin/users", "user", "/admin/tokens", "token", "/account", "error"]


@pytest.mark.browser
@pytest.mark.parametrize("width", [1280, 320])
@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_admin_pages_are_accessible_and_reflow(browser, base_url: str, live_app: Flask, path: str, width: int) -> None:  # type: ignore[no-untyped-def]
    if not AXE.exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("axe-core is required under CI=true: `make test` installs it with npm")
        pytest.skip("axe-core not installed (needs npm)")
    with live_app.extensions["ledger.sessions"]() as session:
        if not users.list_tokens(session, email=OFFICER):
            users.issue_token(session, email=OFFICER, actor=SYSTEM)
        token_id = users.list_tokens(session, email=OFFICER)[0].id
        user_id = users.get_user(session, MEMBER).id
    context = browser.new_context(base_url=base_url, bypass_csp=True, viewport={"width": width, "height": 900})
    page = context.new_page()
    sign_in(page, ADMIN)
    page.wait_for_url(re.compile("/dashboard"))
    page.goto({"user": f"/admin/users/{user_id}", "token": f"/admin/tokens/{token_id}",
               "error": "/admin/users"}.get(path, path))
    if path == "error":
        page.get_by_role("button", name="Add user").click()
        assert page.locator(".error-summary").count() == 1
    name = "admin-" + path.strip("/").replace("/", "-").removeprefix("admin-")
    screenshot(page, f"{name}-{'desktop' if width == 1280 else 'phone'}")
    if width == 320:
        assert page.evaluate("document.documentElement.scrollWidth") <= 320, "scrolls sideways at 320 px"
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    serious = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
    context.close()
    assert serious == [], json.dumps([(v["id"], v["help"], [n["target"] for n in v["nodes"][:3]]) for v in serious])


# -- without a browser ----------------------------------------------------------------------
def _client(app: Flask, email: str, password: str = "correct horse") -> tuple[FlaskClient, str]:
    client = app.test_client()
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True))
    assert csrf
    client.post("/login", data={"email": email, "password": password, "csrf_token": csrf[1]})
    # Signing in starts a fresh session, with a CSRF token of its own.
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/account").get_data(as_text=True))
    assert csrf
    return client, csrf[1]


def test_refused_forms_are_4xx_and_write_nothing(app: Flask) -> None:
    with app.extensions["ledger.sessions"]() as session:
        users.add_user(session, email="admin@test.s106", role="admin", password="correct horse", actor=SYSTEM)
        users.add_user(session, email="member@test.s106", role="member", password="correct horse", actor=SYSTEM)
    client, csrf = _client(app, "admin@test.s106")
    form = {"csrf_token": csrf, "email": "someone@test.s106", "role": "officer", "password": "long enough",
            "reason": "needed"}
    for forged, field in ({"role": "root"}, "role"), ({"division": "no-such-division"}, "division"), \
            ({"name": "a\x1bb"}, "name"), ({"email": "not an email"}, "email"), ({"email": "MEMBER@test.s106"}, "email"), \
            ({"reason": "  "}, "reason"), ({"password": "x" * 1025}, "password"):
        response = client.post("/admin/users", data=form | forged)
        assert response.status_code == 422, forged
        assert f'href="#{field}"' in response.get_data(as_text=True), forged
    member_id = _user(app, "member@test.s106").id
    assert client.post(f"/admin/users/{member_id}", data={"csrf_token": csrf, "action": "drop"}).status_code == 400
    assert client.post(f"/admin/users/{member_id}",
                       data={"csrf_token": csrf, "action": "password", "password": "pw"}).status_code == 422
    assert client.post("/admin/tokens", data={"csrf_token": csrf, "email": "nobody@test.s106", "days": "30",
                                              "reason": "x"}).status_code == 422
    assert client.post("/admin/tokens", data={"csrf_token": csrf, "email": "member@test.s106", "days": "0",
                                              "reason": "x"}).status_code == 422
    assert client.get("/admin/users/99999999999").status_code == 404
    assert client.get("/admin/tokens/5").status_code == 404
    assert client.post("/admin/users", data=form | {"csrf_token": "forged"}).status_code == 400
    with app.extensions["ledger.sessions"]() as session:
        assert [u.email for u in users.list_users(session)] == ["admin@test.s106", "member@test.s106"]
        assert users.list_tokens(session) == []
        assert not users.get_user(session, "member@test.s106").must_change_password
    member, member_csrf = _client(app, "member@test.s106")
    assert member.post("/admin/users", data=form | {"csrf_token": member_csrf}).status_code == 403
    wrong = member.post("/account", data={"csrf_token": member_csrf, "current_password": "wrong", "password": "new one!",
                                          "confirm": "new one!"})
    assert wrong.status_code == 422 and "Your current password is not right" in wrong.get_data(as_text=True)
    assert _client(app, "member@test.s106")[0].get("/dashboard").status_code == 200  # the old password still works


def test_a_temporary_password_set_by_an_admin_ends_sessions_and_must_be_changed(app: Flask) -> None:
    with app.extensions["ledger.sessions"]() as session:
        users.add_user(session, email="admin@test.s106", role="admin", password="correct horse", actor=SYSTEM)
        users.add_user(session, email="officer@test.s106", role="officer", password="correct horse", actor=SYSTEM)
    officer, _ = _client(app, "officer@test.s106")
    assert officer.get("/dashboard").status_code == 200
    admin, csrf = _client(app, "admin@test.s106")
    officer_id = _user(app, "officer@test.s106").id
    done = admin.post(f"/admin/users/{officer_id}", data={"csrf_token": csrf, "action": "password",
                                                           "password": "temporary-2", "password_reason": "Forgot it"})
    assert done.status_code == 302
    assert officer.get("/dashboard").status_code == 302  # their session ended
    officer, officer_csrf = _client(app, "officer@test.s106", "temporary-2")
    sent = officer.get("/agreements")
    assert sent.status_code == 302 and sent.headers["Location"].endswith("/account")
    same = officer.post("/account", data={"csrf_token": officer_csrf, "current_password": "temporary-2",
                                          "password": "temporary-2", "confirm": "temporary-2"})
    assert same.status_code == 422 and "must differ from the current password" in same.get_data(as_text=True)
    changed = officer.post("/account", data={"csrf_token": officer_csrf, "current_password": "temporary-2",
                                             "password": "chosen by me", "confirm": "chosen by me"})
    assert changed.status_code == 302
    assert officer.get("/agreements").status_code == 200  # signed in still, and free to go anywhere
    [event] = _events(app, "change-password", "officer@test.s106")
    assert event.actor == "officer@test.s106" and event.after == {"password": "changed"}


def test_the_only_admin_cannot_demote_or_disable_themselves_on_their_page(app: Flask) -> None:
    with app.extensions["ledger.sessions"]() as session:
        users.add_user(session, email="admin@test.s106", role="admin", password="correct horse", actor=SYSTEM)
    client, csrf = _client(app, "admin@test.s106")
    admin_id = _user(app, "admin@test.s106").id
    page = client.get(f"/admin/users/{admin_id}").get_data(as_text=True)
    assert "You cannot disable your own account" in page and "Disable admin@test.s106" not in page
    demoted = client.post(f"/admin/users/{admin_id}", data={"csrf_token": csrf, "action": "change", "role": "officer",
                                                            "reason": "stepping down"})
    text = demoted.get_data(as_text=True)
    assert demoted.status_code == 422 and f'<a href="#role">{users.LAST_ADMIN_ROLE}</a>' in text
    assert "<title>Error: admin@test.s106" in text
    disabled = client.post(f"/admin/users/{admin_id}", data={"csrf_token": csrf, "action": "disable",
                                                             "access_reason": "leaving"})
    assert disabled.status_code == 422 and users.OWN_ACCOUNT_DISABLED in disabled.get_data(as_text=True)
    admin = _user(app, "admin@test.s106")
    assert admin.role == "admin" and admin.disabled_at is None
    assert _events(app, "change-user", "admin@test.s106") == []
