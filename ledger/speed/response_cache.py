"""The heavier read endpoints' responses, kept per process until the ledger changes.

Buys: a repeated division summary at county size answered in 0.5 ms instead of 17.2 ms, an
obligation balance in 0.5 ms instead of 2.1 ms (CPU time through the app, SQLite:
``python -m bench.devices``); under load, 16 clients on 2 workers, a summary's p95 4.4 ms
instead of 101 ms (`make bench`, rows "API ..." and "API ..., uncached";
docs/PERFORMANCE.md "Speed devices").
Costs: up to LEDGER_RESPONSE_CACHE_SIZE (512) responses in each worker's memory; a read of
the ledger revision on every request to these endpoints; and a key that must name
everything a response depends on: a view that starts reading another input (a header, a
setting) must add it to the key here, or one caller would be given another's answer.

The database's triggers move the ledger revision on every change to a ledger table
(migration 0006; ledger.db.ledger_revision), whoever writes, so a response computed at one
revision is the same, byte for byte, until the next write. The key holds everything else a
response depends on: the path and query, the day (dates default to today, and bands count
from it) and the caller's role and division. Requests are authenticated and authorised
before the cache is consulted, and audited as ever.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from threading import Lock

from flask import Flask, Response, g, request

from ledger import clock
from ledger.db import ledger_revision
from ledger.extensions import get_session

#: Endpoints whose answers take real work: money at risk needs every receipt's position.
CACHED_ENDPOINTS = frozenset({"balances.ObligationBalance", "division-summaries.DivisionSummary", "at-risk.AtRisk"})
#: Headers a view sets that belong to its answer (the rest are added on the way out).
KEPT_HEADERS = ("Content-Type", "X-Pagination")


@dataclass(frozen=True, slots=True)
class StoredResponse:
    body: bytes
    headers: tuple[tuple[str, str], ...]


class ResponseCache:
    """A bounded least-recently-used map, safe for a threaded worker."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[Hashable, StoredResponse] = OrderedDict()
        self._lock = Lock()

    def get(self, key: Hashable) -> StoredResponse | None:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def stored_keys(self) -> list[Hashable]:
        with self._lock:
            return list(self._entries)

    def put(self, key: Hashable, value: StoredResponse) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)


def enable_response_cache(app: Flask, size: int = 512) -> ResponseCache:
    """Serve repeated reads from the cache. Register after authentication, which must run first."""
    cache = ResponseCache(size)
    app.extensions["ledger.response_cache"] = cache

    @app.before_request
    def _serve_from_cache() -> Response | None:
        actor = g.get("actor")
        if request.method != "GET" or request.endpoint not in CACHED_ENDPOINTS or actor is None:
            return None
        revision = ledger_revision(get_session())
        if revision is None:
            return None
        key = (revision, clock.today(), actor.role, actor.division_code, request.full_path)
        stored = cache.get(key)
        if stored is not None:
            return Response(stored.body, status=200, headers=list(stored.headers))
        g.response_cache_key = key
        return None

    @app.after_request
    def _keep(response: Response) -> Response:
        key = g.pop("response_cache_key", None)
        # Kept only if the day did not turn while it was computed: the view read "today" too.
        if key is not None and response.status_code == 200 and not response.is_streamed and clock.today() == key[1]:
            headers = tuple((name, response.headers[name]) for name in KEPT_HEADERS if name in response.headers)
            cache.put(key, StoredResponse(response.get_data(), headers))
        return response

    return cache
