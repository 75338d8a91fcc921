"""The database session for a request or CLI command, built from the app's settings."""

from __future__ import annotations

from flask import Flask, Response, current_app, g
from sqlalchemy import Engine
from sqlalchemy.orm import Session, configure_mappers, sessionmaker

from ledger.db import make_engine, make_session_factory


def init_database(app: Flask) -> None:
    engine = make_engine(app.config["DATABASE_URL"])
    # Resolve the mappings now: a mistake fails at start, and no first request pays for it.
    configure_mappers()
    app.extensions["ledger.engine"] = engine
    app.extensions["ledger.sessions"] = make_session_factory(engine)

    @app.teardown_appcontext
    def _close_session(_error: BaseException | None) -> None:
        session: Session | None = g.pop("ledger_session", None)
        if session is not None:
            session.close()


def get_engine() -> Engine:
    return current_app.extensions["ledger.engine"]  # type: ignore[no-any-return]


def get_session() -> Session:
    """The session of the current app context, created on first use."""
    if "ledger_session" not in g:
        factory: sessionmaker[Session] = current_app.extensions["ledger.sessions"]
        g.ledger_session = factory()
    return g.ledger_session  # type: ignore[no-any-return]


def band_thresholds() -> dict[str, int]:
    """The at-risk band settings (SPEC rule 9), as keyword arguments for the services."""
    return {"red_months": int(current_app.config["AT_RISK_RED_MONTHS"]),
            "amber_months": int(current_app.config["AT_RISK_AMBER_MONTHS"])}


def download(body: bytes | str, *, mimetype: str, filename: str) -> Response:
    """A file to save rather than show: reports from the API and the web pages alike."""
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{filename}"'})
