"""The API tests' bearer headers, and the browser tests' server and Chromium, for these tests too."""

from tests.api.conftest import headers
from tests.web.conftest import base_url, live_app, page

__all__ = ["base_url", "headers", "live_app", "page"]
