"""Keeping SQLite off an index when a test passes nearly every row.

Buys: on SQLite an uncached division summary at county size in 15 ms of CPU instead of
33 ms: without it SQLite finds nearly every entry through the ``reverses`` index (for
``reverses IS NULL``) and reads the table in that order. At county size the at-risk report
gains about 5% (191 ms against 204 ms) and the IFS nothing beyond the noise (2.79 s
against 2.90 s, and the other way round in another run): their tables fit in memory. At
national size, when it was added, SQLite without it walked the ``created_at`` index for the
IFS figures: 12 s for that query alone. ``python -m bench.devices``; PostgreSQL gets the
plain column and is unchanged.
Costs: a custom SQL element (two compile rules, a cache key), and a planner hint that holds
only while nearly every entry passes the tests it wraps (services/ledger_rows.py
in_force_condition: known at the moment, not a reversal).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.visitors import InternalTraversal


class Unindexed(ColumnElement[Any]):
    """A column SQLite must not reach through its index: ``+column`` there (SQLite's
    documented way to say so), the plain column elsewhere. PostgreSQL's statistics see
    that nearly every entry passes such a test; SQLite's do not, and it would walk the
    index and read the table in random order."""

    # The wrapped column is its cache key: statements using it compile once, as any other.
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement)]
    inherit_cache = True

    def __init__(self, column: ColumnElement[Any]) -> None:
        self.column = column
        self.type = column.type


@compiles(Unindexed)
def _plain(element: Unindexed, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.column, **kw))


@compiles(Unindexed, "sqlite")
def _unary_plus(element: Unindexed, compiler: Any, **kw: Any) -> str:
    return f"+{compiler.process(element.column, **kw)}"
