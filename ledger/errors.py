"""Errors as RFC 9457 problem details (application/problem+json), with an ``errors``
extension listing each bad field. Specific handlers first, the catch-all last."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from typing import Any

from flask import Flask, Response, current_app, json, request
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, StatementError
from werkzeug.exceptions import HTTPException, InternalServerError, ServiceUnavailable

from ledger.domain.errors import LedgerError
from ledger.services.constraints import domain_error

log = logging.getLogger(__name__)

PROBLEM_TYPE_BASE = "/problems/"


#: marshmallow's key for an error about a whole schema rather than one field (a body that is
#: JSON but not an object, ``[]``); named after its place, or "body" at the top.
SCHEMA_KEY = "_schema"
WHOLE_BODY = "body"


def flatten_errors(messages: Mapping[Any, Any] | list[Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """Turn marshmallow's nested messages into (dotted field, message) pairs. A bare list of
    messages (webargs' own, about a whole body) belongs to ``prefix``, or the body."""
    if not isinstance(messages, Mapping):
        for item in messages:
            yield prefix or WHOLE_BODY, str(item)
        return
    for key, value in messages.items():
        name = (prefix or WHOLE_BODY) if key == SCHEMA_KEY else f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping):
            yield from flatten_errors(value, name)
        elif isinstance(value, list | tuple):
            for item in value:
                if isinstance(item, Mapping):
                    yield from flatten_errors(item, name)
                else:
                    yield name, str(item)
        else:
            yield name, str(value)


def wants_html() -> bool:
    """Web pages get HTML errors; the API (and anything asking for JSON) problem details."""
    if request.path.startswith("/api/"):
        return False
    accept = request.accept_mimetypes
    return not accept or accept.best_match(["text/html", "application/json"]) != "application/json"


def html_error(status: int, title: str, detail: str | None) -> Response:
    from flask import render_template

    return Response(render_template("error.html", title=title, detail=detail or ""), status=status,
                    mimetype="text/html")


def problem(
    status: int,
    *,
    title: str,
    detail: str | None = None,
    type_slug: str | None = None,
    errors: list[dict[str, str]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + type_slug if type_slug else "about:blank",
        "title": title,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    body["instance"] = request.path
    if errors:
        body["errors"] = errors
    response = Response(json.dumps(body), status=status, mimetype="application/problem+json")
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def field_errors(messages: Mapping[str, Any] | list[Any], location: str | None = None) -> list[dict[str, str]]:
    rows = []
    for field, message in flatten_errors(messages):
        row = {"field": field, "detail": message}
        if location:
            row["location"] = location
        rows.append(row)
    return rows


def handle_http_exception(error: HTTPException) -> Response:
    if wants_html():
        return html_error(error.code or 500, error.name, error.description)
    data = getattr(error, "data", None) or {}
    errors: list[dict[str, str]] = []
    # webargs puts validation errors under "messages", keyed by location (json, query).
    for location, messages in (data.get("messages") or {}).items():
        errors.extend(field_errors(messages, location))
    detail = data.get("message") or error.description
    if error.code == 413:
        limit = current_app.config.get("MAX_CONTENT_LENGTH")
        if limit and (request.content_length or 0) > limit:
            detail = f"The request body is larger than the {limit:,} bytes this server takes."
        errors = [{"field": WHOLE_BODY, "detail": detail}]
    if errors and error.code == 422:
        detail = "; ".join(f"{e['field']}: {e['detail']}" for e in errors)
    return problem(
        error.code or 500,
        title=error.name,
        detail=detail,
        type_slug="validation-error" if error.code == 422 else None,
        errors=errors,
        headers=data.get("headers"),
    )


def handle_ledger_error(error: LedgerError) -> Response:
    if wants_html():
        return html_error(error.status, error.title, error.detail)
    return problem(
        error.status,
        title=error.title,
        detail=error.detail,
        type_slug=error.type,
        errors=field_errors(error.errors),
    )


def handle_integrity_error(error: IntegrityError) -> Response:
    # A write no service expected to be refused (the services translate their own): the
    # constraint's name still says what happened, so the client gets a 409 or 422, not a 500.
    return handle_ledger_error(domain_error(error))


def handle_unstorable_value(error: StatementError) -> Response:
    """A value the database could not take (too long, out of range, NUL, a lone surrogate)
    that the boundary schemas let through: a 422, since the request carried it, but logged
    as the defect it is (tests/api/test_hostile_input.py shows the schemas refuse each kind).
    SQLAlchemy's DataError on PostgreSQL; on SQLite the driver's OverflowError or
    UnicodeEncodeError, which SQLAlchemy wraps as a StatementError."""
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return handle_lost_connection(error)
    if not isinstance(error, DataError) and not isinstance(error.orig, OverflowError | UnicodeError):
        return handle_unexpected(error)
    log.error("a value reached the database that the schemas should have refused", exc_info=error)
    detail = "A value in the request cannot be stored: too long, out of range or holding characters that cannot be kept."
    if wants_html():
        return html_error(422, "Unprocessable Entity", detail)
    return problem(422, title="Unprocessable Entity", detail=detail, type_slug="validation-error")


#: Sent again after this many seconds, a request lost with its connection is served afresh.
RETRY_AFTER_SECONDS = 1


def handle_lost_connection(error: DBAPIError) -> Response:
    """The request met a database connection the server had ended (it restarted: ledger.db
    says when a request can meet one). SQLAlchemy has replaced the pooled connections, so the
    same request sent again is served: a 503 that says so, not a 500. A write may have been
    lost with it, or have committed just before, so the person is asked to look first."""
    log.warning("a request met a database connection the server had ended", exc_info=error)
    detail = ("The connection to the database was lost and has been opened again. Try again in a moment; "
              "if you were saving something, check first whether it was saved.")
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if wants_html():
        response = html_error(503, ServiceUnavailable().name, detail)
        response.headers.update(headers)
        return response
    return problem(503, title=ServiceUnavailable().name, detail=detail, headers=headers)


def handle_unexpected(error: Exception) -> Response:
    log.exception("unhandled error", exc_info=error)
    detail = repr(error) if current_app.debug else "The server could not complete the request."
    if wants_html():
        return html_error(500, InternalServerError().name, detail)
    return problem(500, title=InternalServerError().name, detail=detail)


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(LedgerError, handle_ledger_error)
    app.register_error_handler(IntegrityError, handle_integrity_error)
    app.register_error_handler(StatementError, handle_unstorable_value)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)
