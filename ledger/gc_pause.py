"""Moved to ledger/speed/gc_pause.py; kept until the CLI commands (ledger/cli/) import it from there."""

from ledger.speed.gc_pause import gc_paused

__all__ = ["gc_paused"]
