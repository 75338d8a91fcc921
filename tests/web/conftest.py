"""A live server on loopback with the small demo county, and headless Debian Chromium
driven by Playwright. Under CI=true the browser must be there: the tests fail, not skip."""

from __future__ import annotations

import shutil
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from ledger import clock, create_app
from ledger.demo import generate

SCREENSHOTS = Path(__file__).parents[2] / "test-output" / "screenshots"
PASSWORD = "demo-password"


@pytest.fixture(scope="module")
def live_app(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Flask:
    path = tmp_path_factory.mktemp("web") / "ledger.sqlite"
    shutil.copy(sqlite_template, path)
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{path}", "SECRET_KEY": "browser-tests",
                      "ENV": "testing"})
    with app.extensions["ledger.sessions"]() as session:
        generate(session, scale="small", seed=106, today=clock.today())
    return app


@pytest.fixture(scope="module")
def base_url(live_app: Flask) -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = make_server("127.0.0.1", port, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()


@pytest.fixture
def page(browser: object, base_url: str) -> Iterator[object]:
    context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    context.set_default_timeout(20_000)
    yield context.new_page()
    context.close()


def sign_in(page: object, email: str, password: str = PASSWORD) -> None:
    page.goto("/login")  # type: ignore[attr-defined]
    page.get_by_label("Email address").fill(email)  # type: ignore[attr-defined]
    page.get_by_label("Password").fill(password)  # type: ignore[attr-defined]
    page.get_by_role("button", name="Sign in").click()  # type: ignore[attr-defined]


def screenshot(page: object, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
    return path


def now() -> datetime:
    return datetime.now(UTC)
