"""Small helpers shared by the API views."""

from __future__ import annotations

from typing import Any

from flask import g
from flask_smorest.pagination import PaginationParameters
from sqlalchemy import Select

from ledger.extensions import get_session
from ledger.services import Actor
from ledger.services.registry import Filters, page


def actor() -> Actor:
    return g.actor  # type: ignore[no-any-return]


def filters(args: dict[str, Any]) -> Filters:
    return Filters(**{k: args.get(k) for k in ("authority", "division", "purpose", "service")})


def paged(query: Select[Any], pagination: PaginationParameters) -> list[Any]:
    rows, total = page(get_session(), query, offset=pagination.first_item, limit=pagination.page_size)
    pagination.item_count = total
    return rows
