"""Server-rendered pages for officers and councillors, on the same services as the API."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask import Blueprint, Flask

from ledger.domain.dates import financial_year_label
from ledger.domain.money import format_money

bp = Blueprint("web", __name__)


def long_date(value: date | None) -> str:
    """Dates as council papers write them: 31 March 2024."""
    return "" if value is None else f"{value.day} {value:%B %Y}"


def init_web(app: Flask) -> None:
    from ledger.web import auth, views  # noqa: F401 - registers the routes

    auth.init_web_security(app)
    app.jinja_env.filters["money"] = lambda v: "" if v is None else format_money(Decimal(v))
    app.jinja_env.filters["long_date"] = long_date
    app.jinja_env.filters["fy"] = financial_year_label
    app.jinja_env.globals["current_actor"] = auth.current_actor
    app.register_blueprint(bp)
