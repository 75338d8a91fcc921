"""How the public pages meet the open internet: no session, validators and caching from
the ledger's revision, and a per-client rate limit.

- No session: the public pages never open one, so an anonymous reader gets no cookie and
  a signed-in officer's cookie is neither read nor refreshed there (a refreshed cookie on a
  response a proxy may keep could be handed to the next reader). A template that asked for
  a CSRF token would fail: the null session refuses to store one.
- Validators: every public answer (page, JSON, download) is the same until the ledger's
  next write (the revision triggers, migration 0006) or the next day (this year's figures
  end today), so its ETag is a digest of the revision, the day, the version and the
  council's name; ``If-None-Match`` with it gets 304 after one read of the revision.
  ``Cache-Control: public, max-age=LEDGER_PUBLIC_MAX_AGE`` lets the council's proxy serve
  the rest.
- Kept answers: each worker keeps answers it has computed, by ETag and address, up to
  LEDGER_PUBLIC_CACHE_MB. Buys: the start page's figures and the downloads are whole-ledger
  reads computed once per revision, not once per reader (docs/PUBLIC.md has the measures).
  Costs: that memory per worker; a read of the revision per request.
- Rate limit: LEDGER_PUBLIC_RATE_LIMIT requests a minute per client address (an IPv6
  client by its /64, as sign-in counts them; behind a proxy the address LEDGER_PROXY_FIX
  trusts), counted per worker in fixed one-minute windows; beyond it, 429 with Retry-After.
"""

from __future__ import annotations

import hashlib
import math
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from threading import Lock
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, request
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from werkzeug.exceptions import TooManyRequests

from ledger import __version__, clock
from ledger.db import ledger_revision
from ledger.extensions import get_session
from ledger.public import PREFIX
from ledger.services.users import address_key

WINDOW_SECONDS = 60
#: Clients counted in one window at most: beyond, new clients pass uncounted (a flood from
#: many addresses is the proxy's or firewall's to stop: docs/SECURITY.md).
MAX_CLIENTS = 100_000
#: Answers kept: at most this share of LEDGER_PUBLIC_CACHE_MB each.
LARGEST_SHARE = 4
#: Headers a view sets that belong to its answer.
KEPT_HEADERS = ("Content-Type", "Content-Disposition", "X-Pagination")


def is_public(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


class PublicSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, except that a public path has none (a null session:
    nothing read, nothing written, no cookie set)."""

    def open_session(self, app: Flask, request: Any) -> SessionMixin | None:
        if is_public(request.path):
            return None
        return super().open_session(app, request)


class RateLimit:
    """Requests per client in fixed windows, for one worker, safe for threads."""

    def __init__(self, per_window: int, seconds: int = WINDOW_SECONDS) -> None:
        self.per_window = per_window
        self.seconds = seconds
        self._window = -1
        self._counts: dict[str, int] = {}
        self._lock = Lock()

    def retry_after(self, client: str, now: float) -> int | None:
        """Count a request; the seconds to wait if it is one too many, else None."""
        window = int(now // self.seconds)
        with self._lock:
            if window != self._window:
                self._window, self._counts = window, {}
            count = self._counts.get(client, 0) + 1
            if count > self.per_window:
                return max(1, math.ceil((window + 1) * self.seconds - now))
            if client in self._counts or len(self._counts) < MAX_CLIENTS:
                self._counts[client] = count
            return None


@dataclass(frozen=True, slots=True)
class Kept:
    body: bytes
    headers: tuple[tuple[str, str], ...]


class AnswerCache:
    """Least recently used answers up to a number of bytes, safe for threads."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.used = 0
        self._entries: OrderedDict[Hashable, Kept] = OrderedDict()
        self._lock = Lock()

    def get(self, key: Hashable) -> Kept | None:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def put(self, key: Hashable, kept: Kept) -> None:
        if len(kept.body) * LARGEST_SHARE > self.budget:
            return
        with self._lock:
            previous = self._entries.pop(key, None)
            self.used -= len(previous.body) if previous else 0
            self._entries[key] = kept
            self.used += len(kept.body)
            while self.used > self.budget:
                _, dropped = self._entries.popitem(last=False)
                self.used -= len(dropped.body)


def init_serving(app: Flask) -> None:
    """No sessions on public paths; the rate limit and the kept answers of this app (the
    public blueprints attach the hooks that use them, once, when they are declared)."""
    app.session_interface = PublicSessionInterface()
    limit = int(app.config["PUBLIC_RATE_LIMIT"] or 0)
    app.extensions["ledger.public.rate_limit"] = RateLimit(limit) if limit > 0 else None
    app.extensions["ledger.public.cache"] = AnswerCache(int(float(app.config["PUBLIC_CACHE_MB"]) * 1024 * 1024))


def attach(blueprint: Blueprint) -> None:
    """Validators, kept answers and the rate limit on every request to ``blueprint``."""
    blueprint.before_request(before_public_request)
    blueprint.after_request(after_public_request)


def validator() -> str:
    """The ETag of every public answer now: it changes when the ledger, the day, the
    software or the council's name does. A digest, so it tells nobody when the last write was."""
    revision = ledger_revision(get_session())
    seed = f"{revision}|{clock.today().isoformat()}|{__version__}|{current_app.config.get('COUNCIL_NAME') or ''}"
    return hashlib.sha256(seed.encode()).hexdigest()[:32]


def before_public_request() -> Response | None:
    limiter: RateLimit | None = current_app.extensions.get("ledger.public.rate_limit")
    if limiter is not None:
        wait = limiter.retry_after(address_key(request.remote_addr), clock.now().timestamp())
        if wait is not None:
            refused = TooManyRequests(f"Too many requests from your address: try again in {wait} seconds.")
            refused.data = {"headers": {"Retry-After": str(wait)}}  # type: ignore[attr-defined]
            raise refused
    if request.method not in ("GET", "HEAD"):
        return None
    etag = validator()
    g.public_etag = etag
    if request.if_none_match.contains_weak(etag):
        return Response(status=304)
    kept = current_app.extensions["ledger.public.cache"].get((etag, request.full_path))
    if kept is not None:
        g.public_kept = True
        return Response(kept.body, status=200, headers=list(kept.headers))
    return None


def after_public_request(response: Response) -> Response:
    etag = g.pop("public_etag", None)
    kept = g.pop("public_kept", False)
    if etag is None or response.status_code not in (200, 304):
        # Refusals and errors are for this reader now, not for a cache.
        response.headers["Cache-Control"] = "no-store"
        return response
    if request.method == "GET" and response.status_code == 200 and not kept and not response.is_streamed:
        headers = tuple((name, response.headers[name]) for name in KEPT_HEADERS if name in response.headers)
        current_app.extensions["ledger.public.cache"].put((etag, request.full_path),
                                                          Kept(response.get_data(), headers))
    response.set_etag(etag, weak=True)
    response.headers["Cache-Control"] = f"public, max-age={int(current_app.config['PUBLIC_MAX_AGE'])}"
    return response
