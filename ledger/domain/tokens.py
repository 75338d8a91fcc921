"""How long an API token lives, apart from the service that makes them (services.users imports
the ORM): `s106 tokens create` states these limits, and `s106 --help` must not pay for the ORM."""

TOKEN_LIFETIME_DAYS = 365
MAX_TOKEN_LIFETIME_DAYS = 3650
