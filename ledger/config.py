"""Settings: defaults here, overlaid by LEDGER_* environment variables, then by the mapping
given to create_app (tests). See docs/CONFIGURATION.md."""

from __future__ import annotations

DEFAULTS: dict[str, object] = {
    # "development" allows a throwaway secret key; anything else refuses to start without one.
    "ENV": "production",
    "SECRET_KEY": None,
    # None: a SQLite file in the instance folder (SPEC §7).
    "DATABASE_URL": None,
    # At-risk band thresholds in months (SPEC rule 9).
    "AT_RISK_RED_MONTHS": 12,
    "AT_RISK_AMBER_MONTHS": 24,
    # The council publishing the statement (SPEC 8.6), e.g. "Kent County Council": in report
    # titles, page headers and the web header. None: reports name the ledger's authorities.
    "COUNCIL_NAME": None,
    "PAGE_SIZE": 50,
    # Responses of the heavier reads kept per worker until the next write (0: none kept).
    "RESPONSE_CACHE_SIZE": 512,
    "MAX_PAGE_SIZE": 500,
    # Largest request body, in bytes (API and web forms): a bigger one is refused with 413.
    # No endpoint takes file uploads (imports run from the command line).
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    # Web sessions: signed-in for 8 hours from signing in; the cookie is Secure in production
    # (None) unless set. Flask's own defaults (31 days, not Secure) would otherwise apply.
    "PERMANENT_SESSION_LIFETIME": 8 * 3600,
    # The cookie is set when signing in and not again on every page: a session ends 8 hours
    # after signing in whatever its cookie says (ledger.web.auth), so re-signing it each
    # request (Flask's default) would be work for nothing.
    "SESSION_REFRESH_EACH_REQUEST": False,
    "SESSION_COOKIE_SECURE": None,
    # Proxies in front that append to X-Forwarded-For (0: none; the peer is the client).
    "PROXY_FIX": 0,
    # Public pages for residents under /public (issue 20; docs/PUBLIC.md): "on" or "off".
    "PUBLIC_PAGES": "off",
    # Requests a minute per client address to the public pages, per worker (0: no limit).
    "PUBLIC_RATE_LIMIT": 120,
    # Seconds a browser or proxy may keep a public page before asking again (with its ETag).
    "PUBLIC_MAX_AGE": 60,
    # Public answers each worker keeps until the next write, in megabytes (0: none kept).
    "PUBLIC_CACHE_MB": 64,
    # flask-smorest / OpenAPI
    "API_TITLE": "s106-ledger",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/api/v1",
    "OPENAPI_JSON_PATH": "openapi.json",
    "API_SPEC_OPTIONS": {
        "info": {
            "description": "Section 106 and developer-contribution ledger. Money is a string "
            "of pounds with at most two decimals; errors are RFC 9457 problem details."
        },
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}
        },
        "security": [{"bearerAuth": []}],
    },
}
