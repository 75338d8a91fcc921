"""Web sign-in: signed session cookies, roles, CSRF on every form, security headers.

A session cookie holds the user's email, their session version and when they signed in.
Each request checks all three against the database and the clock: signing out, a new
password or disabling the user moves the version on and so ends every copy of the cookie,
and a session lasts PERMANENT_SESSION_LIFETIME (8 hours) from signing in however busy it is.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, Response, abort, current_app, flash, g, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError, CSRFProtect
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.middleware.proxy_fix import ProxyFix

from ledger import clock
from ledger.domain.vocab import Role
from ledger.extensions import get_session, request_action
from ledger.services import Actor, users

csrf = CSRFProtect()
F = TypeVar("F", bound=Callable[..., Any])

#: No inline script or style anywhere, nothing from another host, no framing.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
#: Set on signing in: this browser has signed in to this account (services.users, sign-in).
DEVICE_COOKIE = "s106_device"
DEVICE_LIFETIME = timedelta(days=365)
#: Where a user whose password is temporary is sent, and the only page they may see.
ACCOUNT_ENDPOINT = "web.account"
#: What a form posted after its session ended waits in, until its page is shown again.
KEPT_FORM = "kept_form"
#: The most a kept form may hold, as JSON: the session is a cookie, and browsers keep 4 KB.
KEPT_FORM_LIMIT = 2000
SESSION_ENDED = "Your session ended. Sign in again and your answers will be kept."
SESSION_ENDED_NOT_KEPT = "Your session ended. Sign in again: what you typed was too long to keep, so enter it again."


def init_web_security(app: Flask) -> None:
    production = app.config["ENV"] == "production" and not app.testing
    if app.config.get("SESSION_COOKIE_SECURE") is None:
        app.config["SESSION_COOKIE_SECURE"] = production
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    # The JSON API authenticates with bearer tokens, not cookies, so it needs no CSRF token;
    # every web form is checked in the web blueprint's before_request.
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    csrf.init_app(app)
    app.register_error_handler(CSRFError, _csrf_refused)
    proxies = int(app.config.get("PROXY_FIX") or 0)
    if proxies:
        # Only as many X-Forwarded-For hops as there are proxies of ours: the rest a client wrote.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]

    @app.after_request
    def _security_headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if production:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if g.get("actor") is not None:
            # A signed-in page or download is the user's alone: no browser or proxy may keep it.
            response.headers["Cache-Control"] = "no-store"
        return response


def start_session(actor: Actor) -> None:
    """Sign ``actor`` in on this browser: a fresh session of the user's current version,
    carrying only a form kept while they were signed out (keep_form_and_sign_in)."""
    kept = session.get(KEPT_FORM)
    session.clear()
    if kept:
        session[KEPT_FORM] = kept
    session.permanent = True
    session["email"] = actor.email
    session["version"] = users.session_version(get_session(), actor.email)
    session["signed_in_at"] = int(clock.now().timestamp())


def current_actor() -> Actor | None:
    """The signed-in user, or None if the session has ended (signed out elsewhere, new
    password, user disabled, or older than the session lifetime)."""
    if "actor" not in g:
        g.actor = None
        email = session.get("email")
        if email:
            signed_in = datetime.fromtimestamp(int(session.get("signed_in_at", 0)), UTC)
            if timedelta(0) <= clock.now() - signed_in <= current_app.permanent_session_lifetime:
                user = users.actor_for_session(get_session(), email, session.get("version"))
                if user is not None:
                    g.actor, g.must_change_password = user.actor, user.must_change_password
            if g.actor is None:
                session.clear()
    return g.actor  # type: ignore[no-any-return]


def _from_this_site() -> bool:
    """Whether the request came from one of this site's own pages. A browser says where a
    form was posted from (Origin; else Referer, which these pages send to their own site):
    a form another site posts is never kept, so it cannot fill in a page for someone."""
    origin = request.headers.get("Origin")
    if origin:
        return bool(origin == request.host_url.rstrip("/"))
    return (request.referrer or "").startswith(request.host_url)


def keep_form_and_sign_in() -> Response:
    """A form posted after its session ended: keep what was typed (not the CSRF token, not a
    password) for the page it was posted to, and ask the person to sign in again. The page
    shows it once, filled in (kept_form); nothing is saved until they press its button."""
    fields = {name: value for name, value in request.form.items()
              if name != "csrf_token" and "password" not in name}
    kept = len(json.dumps(fields)) <= KEPT_FORM_LIMIT
    session.pop(KEPT_FORM, None)
    if kept:
        session[KEPT_FORM] = {"path": request.path, "fields": fields}
    flash(SESSION_ENDED if kept else SESSION_ENDED_NOT_KEPT)
    return redirect(url_for("web.login", next=request.path))


def kept_form(path: str) -> Mapping[str, str] | None:
    """What was typed into the form of ``path`` before the session ended, once: the first
    time the page is shown after signing in again."""
    kept = session.get(KEPT_FORM)
    if not isinstance(kept, dict) or kept.get("path") != path:
        return None
    session.pop(KEPT_FORM)
    fields = kept.get("fields")
    return {str(k): str(v) for k, v in fields.items()} if isinstance(fields, dict) else None


def _ended_session_may_keep_form() -> bool:
    return (request.method == "POST" and request.blueprint == "web" and request.endpoint != "web.login"
            and current_actor() is None and _from_this_site())


def _csrf_refused(error: CSRFError) -> ResponseReturnValue:
    # A signed-out browser has no session, so no CSRF token to match: that is an ended session,
    # not a forgery, when the form came from this site. Anything else stays a 400.
    if _ended_session_may_keep_form():
        return keep_form_and_sign_in()
    from ledger.errors import handle_http_exception

    return handle_http_exception(error)


def _device_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="s106-known-device")  # type: ignore[arg-type]


def _email_digest(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def known_device(email: str) -> bool:
    """Whether this browser has signed in to the account ``email`` before."""
    cookie = request.cookies.get(DEVICE_COOKIE)
    if not cookie:
        return False
    try:
        signed = _device_serializer().loads(cookie, max_age=int(DEVICE_LIFETIME.total_seconds()))
    except BadSignature:
        return False
    return bool(signed == _email_digest(email))


def remember_device(response: Response, email: str) -> None:
    response.set_cookie(
        DEVICE_COOKIE, _device_serializer().dumps(_email_digest(email)), max_age=DEVICE_LIFETIME,
        path=url_for("web.login"), secure=bool(current_app.config["SESSION_COOKIE_SECURE"]), httponly=True,
        samesite="Lax",
    )


def requires(*roles: str) -> Callable[[F], F]:
    """Signed-in users of these roles (all roles when none are named); others get 403."""
    allowed = set(roles) or set(Role)

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> ResponseReturnValue:
            actor = current_actor()
            if actor is None and _ended_session_may_keep_form():
                return keep_form_and_sign_in()
            if actor is None:
                return redirect(url_for("web.login", next=request.full_path.rstrip("?")))
            # A temporary password an admin set is the admin's as much as the user's: nothing
            # else until the user has chosen their own.
            if request.endpoint != ACCOUNT_ENDPOINT and g.get("must_change_password"):
                return redirect(url_for(ACCOUNT_ENDPOINT))
            if actor.role not in allowed:
                from ledger.services.audit import record_refusal

                record_refusal(get_session(), actor=actor.email, action=request_action(),
                               reason=f"the {actor.role} role cannot use this page", client=request.remote_addr,
                               target_reference=request.path)
                abort(403)
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def officer_or_admin(view: F) -> F:
    return requires(Role.OFFICER, Role.ADMIN)(view)
