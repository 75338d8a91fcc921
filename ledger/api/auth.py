"""Bearer-token authentication and role checks for the API (SPEC §6).

Anonymous requests get 401, except /health and the OpenAPI description (it holds no data
and clients need it to find their way). Members read; officers also write ledger data;
admins also manage users and tokens and read the audit log. Every refusal is audited,
counted per client and minute (services.audit.count_refusal), so a flood of refusals adds a
row a minute, not a row each. Answers to a caller with a token are not for any cache.
"""

from __future__ import annotations

from flask import Flask, Response, g, request
from flask.typing import ResponseReturnValue

from ledger.domain.vocab import Role
from ledger.errors import problem
from ledger.extensions import get_session, request_action
from ledger.services import users
from ledger.services.audit import ANONYMOUS, record_refusal

API_PREFIX = "/api/v1/"
PUBLIC_PATHS = frozenset({"/api/v1/openapi.json"})
ADMIN_PREFIXES = ("/api/v1/audit", "/api/v1/users", "/api/v1/tokens")
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def required_roles(method: str, path: str) -> frozenset[str]:
    """Which roles may make this request."""
    if path.startswith(ADMIN_PREFIXES):
        return frozenset({Role.ADMIN})
    if method in READ_METHODS:
        return frozenset(Role)
    return frozenset({Role.ADMIN, Role.OFFICER})


def _refuse(status: int, actor: str, reason: str) -> ResponseReturnValue:
    record_refusal(get_session(), actor=actor, action=request_action(), reason=reason, client=request.remote_addr,
                   target_reference=request.path)
    headers = {"WWW-Authenticate": 'Bearer realm="s106-ledger"'} if status == 401 else None
    title = "Unauthorized" if status == 401 else "Forbidden"
    return problem(status, title=title, detail=reason, type_slug=title.lower(), headers=headers)


def protect(app: Flask) -> None:
    @app.before_request
    def _authenticate() -> ResponseReturnValue | None:
        if not request.path.startswith(API_PREFIX) or request.path in PUBLIC_PATHS:
            return None
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return _refuse(401, ANONYMOUS, "a bearer token is required")
        actor = users.actor_for_token(get_session(), token.strip())
        if actor is None:
            return _refuse(401, ANONYMOUS, "the bearer token is unknown, expired or revoked, or its user disabled")
        if actor.role not in required_roles(request.method, request.path):
            return _refuse(403, actor.email, f"the {actor.role} role cannot {request_action()}")
        g.actor = actor
        return None

    @app.after_request
    def _not_for_caches(response: Response) -> Response:
        if g.get("actor") is not None and request.path.startswith(API_PREFIX):
            response.headers["Cache-Control"] = "no-store"
        return response
