"""Small helpers shared by the API views, and the Blueprint they are declared on."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import flask_smorest
import marshmallow as ma
from flask import Request, current_app, g
from flask_smorest.pagination import PaginationParameters
from marshmallow import validate
from webargs import core
from webargs.flaskparser import FlaskParser, abort, is_json_request

from ledger.api import schemas
from ledger.extensions import get_session
from ledger.services import Actor
from ledger.services.registry import Filters, Query, page

#: Page numbers stop here: the offset they make (page x page size) must fit the database's
#: 64-bit integers on both engines.
MAX_PAGE = 1_000_000
#: No configuration makes a page bigger than this.
LARGEST_PAGE_SIZE = 10_000


def read_json(body: bytes) -> Any:
    """A request body as JSON: UTF-8, nested no deeper than the interpreter can parse.
    Raises JSONDecodeError saying why not. (NaN and Infinity are read, as Python does: no
    field takes them, so they are refused naming the field.)"""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise json.JSONDecodeError(f"not UTF-8 ({error.reason} at byte {error.start})", "-", error.start) from None
    try:
        return json.loads(text)
    except RecursionError:
        raise json.JSONDecodeError("nested too deeply", text, 0) from None


class JsonBodyParser(FlaskParser):
    """webargs' Flask parser, answering a body it cannot read as JSON with a 400 that says
    why (webargs' own message says only "Invalid JSON body.", and it lets a RecursionError
    from 10,000 nested brackets through as a 500)."""

    def _raw_load_json(self, req: Request) -> Any:
        if not is_json_request(req):
            return core.missing
        return read_json(req.get_data(cache=True))

    def _handle_invalid_json_error(self, error: Exception, req: Request, *args: Any, **kwargs: Any) -> Any:
        reason = error.msg if isinstance(error, json.JSONDecodeError) else str(error)
        abort(400, exc=error, message=f"The body is not valid JSON: {reason}.",
              messages={"json": {"body": [f"not valid JSON: {reason}"]}})


class PageSize(validate.Validator):
    """At most the configured MAX_PAGE_SIZE (read per request: settings come with the app)."""

    def __call__(self, value: int) -> int:
        largest = int(current_app.config["MAX_PAGE_SIZE"])
        if value > largest:
            raise ma.ValidationError(f"must be at most {largest}")
        return value


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's Blueprint with the parser above, the configured page sizes
    (PAGE_SIZE, MAX_PAGE_SIZE) and a page number that cannot overflow the database's OFFSET."""

    ARGUMENTS_PARSER = JsonBodyParser()
    PAGINATION_ARGUMENTS_PARSER = JsonBodyParser()

    def paginate(self, pager: Any = None, **kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        decorate = super().paginate(pager, **kwargs)

        def decorator(func: Callable[..., Any]) -> Callable[..., Any]:
            wrapper = decorate(func)
            # flask-smorest makes a pagination schema class per view and fixes its sizes when
            # the view is declared: give it the app's, a bounded page, and ASCII digits only.
            schema = wrapper._apidoc["pagination"]["parameters"]["schema"]  # type: ignore[attr-defined]
            schema._declared_fields["page"] = schemas.Whole(load_default=1, minimum=1, maximum=MAX_PAGE)
            schema._declared_fields["page_size"] = schemas.Whole(
                load_default=lambda: int(current_app.config["PAGE_SIZE"]), minimum=1, maximum=LARGEST_PAGE_SIZE,
                validate=PageSize(),
                metadata={"description": "default LEDGER_PAGE_SIZE, at most LEDGER_MAX_PAGE_SIZE (50 and 500 "
                                         "unless configured)"})
            return wrapper

        return decorator


def actor() -> Actor:
    return g.actor  # type: ignore[no-any-return]


def filters(args: dict[str, Any]) -> Filters:
    """A collection's filter parameters (schemas.Filters) as the services take them."""
    return Filters(**{k: args.get(k) for k in ("authority", "division", "purpose", "service")})


def paged(query: Query, pagination: PaginationParameters) -> list[Any]:
    rows, total = page(get_session(), query, offset=pagination.first_item, limit=pagination.page_size)
    pagination.item_count = total
    return rows
