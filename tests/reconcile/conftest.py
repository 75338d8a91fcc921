"""The API tests' bearer headers for these tests too. (The browser tests of the reconciliation
pages live in tests/web, beside the one Chromium the session shares.)"""

from tests.api.conftest import headers

__all__ = ["headers"]
