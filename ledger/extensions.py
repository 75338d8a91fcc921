"""The database session for a request or CLI command, built from the app's settings."""

from __future__ import annotations

from flask import Flask, Response, current_app, g, has_request_context, request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, configure_mappers, sessionmaker

from ledger.db import end_session, make_engine, make_session_factory, read_snapshot

#: Requests that read, and write only through write_transaction.
READING_METHODS = frozenset({"GET", "HEAD"})
#: What a request leaves on ``g``: who is calling (and whether they must change their
#: password first), the response-cache key, flask-wtf's
#: verdict and flask-smorest's working data. A request under an outer app context (a CLI
#: command's, a test's) shares that context's ``g``, so these would reach the next request.
REQUEST_VALUES = ("actor", "must_change_password", "response_cache_key", "csrf_valid", "_flask_smorest", "ledger_routes")


def init_database(app: Flask) -> None:
    engine = make_engine(app.config["DATABASE_URL"])
    # Resolve the mappings now: a mistake fails at start, and no first request pays for it.
    configure_mappers()
    app.extensions["ledger.engine"] = engine
    app.extensions["ledger.sessions"] = make_session_factory(engine)

    @app.teardown_appcontext
    def _close_session(_error: BaseException | None) -> None:
        close_session()

    @app.teardown_request
    def _end_request(_error: BaseException | None) -> None:
        # The session (and its transaction) belongs to the request, not to whatever context
        # the request ran in: a later request must neither reuse nor see through it.
        close_session()
        # flask-wtf keeps the signed CSRF token under the field's name; another visitor
        # handed it would fail the check.
        for name in (*REQUEST_VALUES, app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")):
            g.pop(name, None)


def get_engine() -> Engine:
    return current_app.extensions["ledger.engine"]  # type: ignore[no-any-return]


def close_session() -> None:
    session: Session | None = g.pop("ledger_session", None)
    if session is not None:
        end_session(session)


def get_session() -> Session:
    """The session of the current request (or, outside one, of the app context), created on
    first use and closed when the request (or the context) ends."""
    if "ledger_session" not in g:
        factory: sessionmaker[Session] = current_app.extensions["ledger.sessions"]
        g.ledger_session = factory()
        if has_request_context() and request.method in READING_METHODS:
            # A page or answer reads one snapshot from its first statement (who is asking)
            # to its last, and ends it with COMMIT (ledger.db.end_session); a write within
            # it starts its own transaction (write_transaction).
            read_snapshot(g.ledger_session)
    return g.ledger_session  # type: ignore[no-any-return]


def band_thresholds() -> dict[str, int]:
    """The at-risk band settings (SPEC rule 9), as keyword arguments for the services."""
    return {"red_months": int(current_app.config["AT_RISK_RED_MONTHS"]),
            "amber_months": int(current_app.config["AT_RISK_AMBER_MONTHS"])}


def download(body: bytes | str, *, mimetype: str, filename: str) -> Response:
    """A file to save rather than show: reports from the API and the web pages alike."""
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


#: Methods a route can have; any other is audited as OTHER.
KNOWN_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"})


def request_action() -> str:
    """What a request asked, for the audit log, in words the caller cannot vary without end:
    the method (an unusual one as OTHER) and the route it matched, not the path itself."""
    method = request.method if request.method in KNOWN_METHODS else "OTHER"
    return f"{method} {request.url_rule.rule if request.url_rule else '(no such path)'}"
