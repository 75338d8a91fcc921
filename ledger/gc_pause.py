"""Pausing Python's cyclic garbage collector while an import or a report builds its rows."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_pauses = 0
_was_enabled = False


@contextmanager
def gc_paused() -> Iterator[None]:
    """Run the block (or, as a decorator, the function) without cyclic garbage collection.

    An import or a report builds hundreds of thousands of small records that live until it
    ends; the collector's repeated passes over them free nothing and took a fifth of a
    100,000-row import. Reference counting still frees everything that is not part of a
    cycle. The collector is process-wide, so pauses are counted: in a threaded server it is
    switched back on (if it was on) when the last paused block ends, whatever the order."""
    global _pauses, _was_enabled
    with _lock:
        if _pauses == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _lock:
            _pauses -= 1
            if _pauses == 0 and _was_enabled:
                gc.enable()
