"""The ``url_with`` filter builds a route once a request and quotes each value itself: it
must give exactly what url_for gives (with fixed values too), for references with slashes, spaces, symbols, a
percent sign, letters beyond ASCII and the route's own marker, under an application root."""

from __future__ import annotations

import pytest
from flask import Flask, url_for

from ledger.web import ROUTE_VALUE, url_with

VALUES = ["20/00001/FUL/1", "S106 no. 4 (a)", "A&B'C;D=E@F:G+H,I!J$K*L", "50%/?#x", "Tŷ Newydd/ø/€",
          "trailing/", "//double", ROUTE_VALUE, f"x{ROUTE_VALUE}y", "<script>", "~._-"]
ROUTES = [("web.agreement", "reference"), ("web.obligation", "reference"), ("web.invoice", "reference"),
          ("web.project", "reference"), ("web.division", "code")]


@pytest.mark.parametrize("root", ["", "/ledger"])
def test_url_with_gives_what_url_for_gives(app: Flask, root: str) -> None:
    with app.test_request_context("/dashboard", base_url=f"http://council.example{root}"):
        for endpoint, name in ROUTES:
            for value in VALUES:
                assert url_with(value, endpoint, name) == url_for(endpoint, **{name: value}), (endpoint, value)
                assert url_with(value, endpoint, name).startswith(f"{root}/")
            # With fixed values too: the route's query string follows the value.
            assert (url_with(value, "web.record_review", **{"from": "at-risk"})
                    == url_for("web.record_review", reference=value, **{"from": "at-risk"})), value
