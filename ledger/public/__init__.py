"""Public pages for residents (issue 20), served without sign-in under /public when
LEDGER_PUBLIC_PAGES is on: the pages (views), the same figures as JSON (api), and how they
are served to the open internet (serving). What they show comes from their own reads
(queries), never from the officers' services' records. docs/PUBLIC.md."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

PREFIX = "/public"
ON, OFF = frozenset({"on", "true", "1", "yes"}), frozenset({"off", "false", "0", "no", ""})


def pages_on(config: Mapping[str, Any]) -> bool:
    """Whether LEDGER_PUBLIC_PAGES is on. A value that is neither on nor off stops the app
    from starting: a misspelt "onn" must not leave a council believing its pages are up."""
    value = config.get("PUBLIC_PAGES", "off")
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ON | OFF:
        return text in ON
    raise RuntimeError(f"LEDGER_PUBLIC_PAGES must be on or off, not {value!r}")


def init_public(app: Flask) -> None:
    """Serve the public pages (the JSON API's blueprint is registered with the API)."""
    from ledger.public import serving, views

    serving.init_serving(app)
    app.register_blueprint(views.bp)
