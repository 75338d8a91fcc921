"""JSON API under /api/v1 (flask-smorest), described by OpenAPI at /api/v1/openapi.json."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, request
from flask_smorest import Api, Blueprint, abort
from werkzeug.exceptions import HTTPException

from ledger import errors
from ledger.api import schemas
from ledger.domain import limits

API_PREFIX = "/api/"


class LedgerApi(Api):
    """flask-smorest's Api answering errors as RFC 9457 problem details."""

    ERROR_SCHEMA = schemas.Problem

    def handle_http_exception(self, error: HTTPException) -> Any:
        return errors.handle_http_exception(error)


def register_api(app: Flask) -> LedgerApi:
    from ledger.api import (
        account_views,
        auth,
        import_views,
        income_views,
        ledger_views,
        reconcile_views,
        reference_views,
        report_views,
        review_views,
    )
    from ledger.public import pages_on
    from ledger.speed.response_cache import enable_response_cache

    api = LedgerApi(app)
    blueprints = (*reference_views.BLUEPRINTS, *ledger_views.BLUEPRINTS, *income_views.BLUEPRINTS,
                  report_views.reports, *account_views.BLUEPRINTS, *import_views.BLUEPRINTS,
                  *reconcile_views.BLUEPRINTS)
    blueprints = (*blueprints, *review_views.BLUEPRINTS)
    if pages_on(app.config):
        from ledger.public.api import blp as public_api

        blueprints = (*blueprints, public_api)
    for blp in blueprints:
        api.register_blueprint(blp)
    # Before authentication: a refusal is audited, and the audit log cannot keep such text.
    refuse_unprintable_path_and_query(app)
    auth.protect(app)
    # Before the cache: a parameter nothing reads would otherwise make a new cache key.
    refuse_unknown_query_parameters(app, blueprints)
    if app.config["RESPONSE_CACHE_SIZE"]:
        enable_response_cache(app, size=int(app.config["RESPONSE_CACHE_SIZE"]))
    return api


def refuse_unprintable_path_and_query(app: Flask) -> None:
    """Answer 422 naming the path parameter or query parameter that holds a control
    character or a lone surrogate (``/agreements/%00``): no record holds one, and PostgreSQL
    refuses NUL with an error rather than finding nothing."""

    @app.before_request
    def _refuse_unprintable() -> None:
        if not request.path.startswith(API_PREFIX):
            return
        messages: dict[str, dict[str, list[str]]] = {}
        for name, value in (request.view_args or {}).items():
            problem = limits.unprintable(value) if isinstance(value, str) else None
            if problem:
                messages.setdefault("path", {})[name] = [problem]
        if not messages and limits.unprintable(request.path):
            messages["path"] = {"path": [limits.unprintable(request.path) or ""]}
        for name, value in request.args.items(multi=True):
            problem = limits.unprintable(name) or limits.unprintable(value)
            if problem:
                messages.setdefault("query", {})[name] = [problem]
        if messages:
            abort(422, messages=messages)


def declared_query_parameters(view: Callable[..., Any]) -> frozenset[str]:
    """The query parameters a flask-smorest view reads: its query schema's and pagination's."""
    doc = getattr(view, "_apidoc", {})
    parameters = [*doc.get("arguments", {}).get("parameters", []), doc.get("pagination", {}).get("parameters")]
    names: set[str] = set()
    for parameter in parameters:
        if parameter and parameter["in"] == "query":
            schema = parameter["schema"]
            schema = schema() if isinstance(schema, type) else schema
            names.update(field.data_key or name for name, field in schema.load_fields.items())
    return frozenset(names)


def refuse_unknown_query_parameters(app: Flask, blueprints: Iterable[Blueprint]) -> None:
    """Answer 422 naming any query parameter the endpoint does not declare. webargs leaves
    unknown query parameters out (pagination shares the query string with the view's own
    schema, so neither schema can refuse what it does not know), which would let a misspelt
    filter pass as no filter at all."""
    names = {blp.name for blp in blueprints}
    declared: dict[tuple[str, str], frozenset[str]] = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint.partition(".")[0] in names:
            view_class = app.view_functions[rule.endpoint].view_class  # type: ignore[attr-defined]
            for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
                declared[rule.endpoint, method] = declared_query_parameters(getattr(view_class, method.lower()))

    @app.before_request
    def _refuse_unknown_query_parameters() -> None:
        method = "GET" if request.method == "HEAD" else request.method
        known = declared.get((request.endpoint or "", method))
        if known is None:
            return
        unknown = sorted(set(request.args) - known)
        if unknown:
            # The words marshmallow uses for an unknown field in a body.
            abort(422, messages={"query": {name: ["Unknown field."] for name in unknown}})
