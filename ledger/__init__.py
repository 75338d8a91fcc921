"""s106-ledger: a Section 106 and developer-contribution ledger for English councils."""

from __future__ import annotations

import gc
import os
import secrets
from collections.abc import Mapping
from typing import Any

from flask import Flask

__version__ = "0.1.0"


def create_app(config: Mapping[str, Any] | None = None, *, serving: bool = False) -> Flask:
    """Build the app: defaults, then LEDGER_* environment variables, then ``config``.

    ``serving`` (wsgi.py, `s106 serve`) refuses to build a production app without a secret
    key; the other commands never use sessions, so they do not need one.
    """
    from ledger import config as defaults
    from ledger.api import register_api
    from ledger.cli import ledger_cli
    from ledger.errors import register_error_handlers
    from ledger.extensions import init_database
    from ledger.public import init_public, pages_on
    from ledger.web import init_web

    app = Flask(__name__, instance_path=os.environ.get("LEDGER_INSTANCE_PATH") or None)
    app.config.from_mapping(defaults.DEFAULTS)
    app.config.from_prefixed_env("LEDGER")
    if config:
        app.config.from_mapping(config)
    os.makedirs(app.instance_path, exist_ok=True)
    if not app.config["DATABASE_URL"]:
        app.config["DATABASE_URL"] = f"sqlite:///{os.path.join(app.instance_path, 'ledger.sqlite')}"
    require_secret_key(app, serving=serving)

    app.json.sort_keys = False  # type: ignore[attr-defined]  # keep schema field order
    init_database(app)
    register_error_handlers(app)
    register_api(app)
    init_web(app)
    if pages_on(app.config):
        init_public(app)
    app.cli.add_command(ledger_cli)

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    if serving:
        # Everything built so far lives as long as the worker: out of the collector's sight,
        # a full collection walks only what requests left behind. Walking the app's 150,000
        # objects stopped a worker for about 100 ms every 50 or so page requests, which a
        # queue of requests behind it feels as its p95 (docs/PERFORMANCE.md).
        gc.freeze()
    return app


def require_secret_key(app: Flask, *, serving: bool = True) -> None:
    if app.config["SECRET_KEY"]:
        return
    if not serving:
        return
    if app.config["ENV"] == "development" or app.testing or app.debug:
        # A throwaway key: sessions do not survive a restart, which is fine off production.
        app.config["SECRET_KEY"] = secrets.token_hex(32)
        return
    raise RuntimeError(
        "LEDGER_SECRET_KEY is not set: refusing to start in production without a secret key "
        "(set LEDGER_ENV=development to run locally)"
    )
