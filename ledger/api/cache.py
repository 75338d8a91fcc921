"""Moved to ledger/speed/response_cache.py; kept until ledger/api/__init__.py imports it from there."""

from ledger.speed.response_cache import CACHED_ENDPOINTS, enable_response_cache

__all__ = ["CACHED_ENDPOINTS", "enable_response_cache"]
