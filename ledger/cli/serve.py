"""`s106 serve`: the app under gunicorn."""

from __future__ import annotations

from typing import Any

import click
from flask import current_app

from ledger.cli.group import ledger_cli

#: gunicorn's largest request line (its default is 4094).
MAX_REQUEST_LINE = 8190


@ledger_cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8106, type=int, show_default=True)
@click.option("--workers", default=2, type=int, show_default=True)
def serve(host: str, port: int, workers: int) -> None:
    """Serve the app with gunicorn."""
    from gunicorn.app.base import BaseApplication

    from ledger import create_app, require_secret_key
    from ledger.extensions import get_engine

    # Checked here, so a missing key is one clear error rather than every worker failing to boot.
    try:
        require_secret_key(current_app)
    except RuntimeError as error:
        raise click.ClickException(str(error)) from None
    # One key for every worker: a throwaway key made per worker would refuse the others' cookies.
    secret_key = current_app.config["SECRET_KEY"]
    # This command's app and the app context it runs in stay behind in the master. Handed to
    # gunicorn, that context's `g` would be shared by every request a worker serves, and so
    # would one session and its open transaction. Nothing here connected, but no pool may
    # cross the fork.
    get_engine().dispose()

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("preload_app", False)  # load() runs in each worker, after the fork
            # gunicorn's most: a longer request line gets gunicorn's own HTML 414, before the
            # app; up to it, the app answers (a problem+json for the API).
            self.cfg.set("limit_request_line", MAX_REQUEST_LINE)
            self.cfg.set("accesslog", "-")
            # The worker's pid first: which worker answered is the first question about a fault.
            self.cfg.set("access_log_format", '%(p)s %(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"')
            if "control_socket_disable" in self.cfg.settings:  # gunicorn 25.1 and later
                # Its default path is one per user: two ledgers served side by side would fight over it.
                self.cfg.set("control_socket_disable", True)

        def load(self) -> Any:
            return create_app({"SECRET_KEY": secret_key}, serving=True)

    click.echo(f"s106-ledger on http://{host}:{port}/", err=True)
    Server().run()
