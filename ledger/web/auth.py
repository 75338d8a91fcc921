"""Web sign-in: signed session cookies, roles, CSRF on every form, security headers."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, abort, g, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFProtect

from ledger.domain.vocab import Role
from ledger.extensions import get_session
from ledger.services import Actor, users

csrf = CSRFProtect()
F = TypeVar("F", bound=Callable[..., Any])

#: No inline script or style anywhere, nothing from another host, no framing.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


def init_web_security(app: Flask) -> None:
    production = app.config["ENV"] == "production" and not app.testing
    app.config.setdefault("SESSION_COOKIE_SECURE", production)
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config.setdefault("PERMANENT_SESSION_LIFETIME", 8 * 3600)
    # The JSON API authenticates with bearer tokens, not cookies, so it needs no CSRF token;
    # every web form is checked in the web blueprint's before_request.
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    csrf.init_app(app)

    @app.after_request
    def _security_headers(response: Any) -> Any:
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if production:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response


def current_actor() -> Actor | None:
    if "actor" not in g:
        email = session.get("email")
        g.actor = users.actor_for_email(get_session(), email) if email else None
    return g.actor  # type: ignore[no-any-return]


def requires(*roles: str) -> Callable[[F], F]:
    """Signed-in users of these roles (all roles when none are named); others get 403."""
    allowed = set(roles) or set(Role)

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> ResponseReturnValue:
            actor = current_actor()
            if actor is None:
                return redirect(url_for("web.login", next=request.full_path.rstrip("?")))
            if actor.role not in allowed:
                from ledger.services.audit import record_refusal

                record_refusal(get_session(), actor=actor.email, action=f"{request.method} {request.path}",
                               reason=f"the {actor.role} role cannot use this page")
                abort(403)
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def officer_or_admin(view: F) -> F:
    return requires(Role.OFFICER, Role.ADMIN)(view)
