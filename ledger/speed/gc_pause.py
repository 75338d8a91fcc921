"""Pausing Python's cyclic garbage collector while an import or a report builds its rows.

Buys, at county size on SQLite in CPU time: a government CSV import of 100,000 rows 13%
(7.1 s against 8.1 s). The county demo ledger (4.9 s against 5.0 s) and the IFS workbook
(2.77 s against 2.81 s) gain 1-2%, within the noise. (``python -m bench.devices``,
docs/PERFORMANCE.md "Speed devices".)
Costs: the collector is process-wide, so a pause must never be taken while serving requests
(only the CLI commands take it: tests/test_architecture.py); cyclic garbage made during a
pause waits for its end; pauses in threads are counted under a lock.
"""

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
    ends; the collector's repeated passes over them free nothing. Reference counting still
    frees everything that is not part of a cycle. The collector is process-wide, so pauses
    are counted: with several threads it is switched back on (if it was on) when the last
    paused block ends, whatever the order."""
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
