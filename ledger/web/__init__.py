"""Server-rendered pages for officers and councillors, on the same services as the API."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Flask, g, url_for
from markupsafe import Markup, escape

from ledger.domain.dates import financial_year_label
from ledger.domain.money import format_money
from ledger.domain.vocab import BAND_LABELS, service_label
from ledger.domain.wording import written_date
from ledger.web import layout

bp = Blueprint("web", __name__)


def long_date(value: date | None) -> str:
    """Dates as council papers write them: 31 March 2024."""
    return "" if value is None else written_date(value)


def money(value: Decimal | None) -> str:
    """Money as council papers show it (empty for None)."""
    return "" if value is None else format_money(Decimal(value))


def money_cell(value: Decimal | None) -> Markup:
    """A table cell of money, right-aligned (empty for None)."""
    # Nothing to escape: money is written with digits, "£", ",", "." and "-" only.
    return Markup(f'<td class="num">{money(value)}</td>')


def money_cells(row: object, *names: str) -> Markup:
    """A row's money ``names`` as table cells, in one call: a division's page has 95 rows of six
    sums at national size, and a filter call a cell cost more than the money's formatting."""
    return Markup("".join(f'<td class="num">{money(getattr(row, name))}</td>' for name in names))


#: Stands for the value in a route built once (letters and hyphens: no converter quotes them).
ROUTE_VALUE = "route-value-mark"
#: The characters werkzeug's string and path converters leave unquoted in a URL's path.
PATH_SAFE = "!$&'()*+,/:;=@"


def url_with(value: str, endpoint: str, name: str = "reference", **fixed: str) -> str:
    """``url_for(endpoint, **{name: value}, **fixed)`` for a table's rows, each a link: the
    route is built once a request per endpoint (and fixed values), and each value quoted as
    werkzeug's converters quote it (url_for costs 8 microseconds, and a list page has a
    hundred links)."""
    routes: dict[tuple[Any, ...], list[str]] = g.setdefault("ledger_routes", {})
    key = (endpoint, name, *sorted(fixed.items()))
    route = routes.get(key)
    if route is None:
        route = routes[key] = url_for(endpoint, **{name: ROUTE_VALUE}, **fixed).split(ROUTE_VALUE)
    before, after = route
    return f"{before}{quote(str(value), safe=PATH_SAFE)}{after}"


def named_options(items: Iterable[Any], chosen: str | None) -> Markup:
    """A select's options for ``items`` (each with a code and a name), ``chosen`` selected:
    written here, as a national list has 300 planning authorities on every list page and a
    Jinja loop costs several times more an option."""
    options = _options(tuple((item.code, item.name) for item in items))
    if chosen is None:
        return options
    # Codes are unique in a list: the chosen one's option, if any, is marked.
    unmarked = f'<option value="{escape(chosen)}">'
    return Markup(str(options).replace(unmarked, f'{unmarked[:-1]} selected>', 1))


@lru_cache(maxsize=16)
def _options(items: tuple[tuple[str, str], ...]) -> Markup:
    """named_options' HTML with none selected, kept by the options' own text: escaping 300
    planning authorities' codes and names was a millisecond of every list page, and the list
    is the same on most. A renamed authority is another key, written afresh."""
    return Markup("".join(f'<option value="{escape(code)}">{escape(name)}</option>' for code, name in items))


def name_of(code: str | None, names: dict[str, str]) -> str | None:
    """A place's name from ``names`` by its code, or the code if it has none (a filter: a
    list has one a row, and a call from a template costs several times a filter)."""
    return names.get(code, code) if code is not None else code


def band_tag(band: str) -> Markup:
    """An at-risk band as a GOV.UK tag, in words (a filter: a list has one a row)."""
    return Markup(f'<span class="tag band-{escape(band)}">{escape(BAND_LABELS.get(band, band))}</span>')


def init_web(app: Flask) -> None:
    from ledger.web import auth, views  # noqa: F401 - registers the routes

    auth.init_web_security(app)
    app.jinja_env.filters["money"] = money
    # A filter, not a macro: a page of figures has hundreds, and a Jinja macro call costs many times more.
    app.jinja_env.filters["money_cell"] = money_cell
    app.jinja_env.filters["money_cells"] = money_cells
    app.jinja_env.filters["band_tag"] = band_tag
    app.jinja_env.filters["name_of"] = name_of
    app.jinja_env.filters["url_with"] = url_with
    app.jinja_env.filters["named_options"] = named_options
    app.jinja_env.filters["long_date"] = long_date
    app.jinja_env.filters["fy"] = financial_year_label
    # Codes as people read them (issue 15 item 7): no page shows a slug.
    app.jinja_env.filters["service_label"] = service_label
    app.jinja_env.filters["purpose_label"] = layout.purpose_label
    app.jinja_env.filters["agreement_type_label"] = layout.agreement_type_label
    app.jinja_env.filters["index_label"] = layout.index_label
    app.jinja_env.filters["kind_name"] = layout.kind_name
    app.jinja_env.filters["trigger_name"] = layout.trigger_name
    app.jinja_env.globals["current_actor"] = auth.current_actor
    app.register_blueprint(bp)
