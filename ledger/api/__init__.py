"""JSON API under /api/v1 (flask-smorest), described by OpenAPI at /api/v1/openapi.json."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_smorest import Api
from werkzeug.exceptions import HTTPException

from ledger import errors
from ledger.api import schemas


class LedgerApi(Api):
    """flask-smorest's Api answering errors as RFC 9457 problem details."""

    ERROR_SCHEMA = schemas.Problem

    def handle_http_exception(self, error: HTTPException) -> Any:
        return errors.handle_http_exception(error)


def register_api(app: Flask) -> LedgerApi:
    from ledger.api import auth, income_views, ledger_views, reference_views, report_views
    from ledger.api.cache import enable_response_cache

    api = LedgerApi(app)
    for blp in (*reference_views.BLUEPRINTS, *ledger_views.BLUEPRINTS, *income_views.BLUEPRINTS,
                report_views.reports):
        api.register_blueprint(blp)
    auth.protect(app)
    if app.config["RESPONSE_CACHE_SIZE"]:
        enable_response_cache(app, size=int(app.config["RESPONSE_CACHE_SIZE"]))
    return api
