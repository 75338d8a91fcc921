"""One copy of each repeated value in a report's rows.

Buys: the IFS report's rows at county size hold 8.7 MB instead of 12.4 MB (30% less), the
at-risk report's 3.5 MB instead of 4.7 MB, at no measurable cost in time (IFS 2.81 s of
CPU against 2.80 s on SQLite): ``python -m bench.devices``. Rows grow with the ledger
(33 times from county to national), so at national size that is of the order of 120 MB
against the 500 MB target (by proportion; the national IFS peaked at 321 MB).
Costs: a dictionary of every distinct value until the report is built, and a call on each
value where rows are made (services/ifs.py, services/positions.py).
"""

from __future__ import annotations

from typing import TypeVar

T = TypeVar("T")


class Shared:
    """Call it on a value to get the first equal value it was given. A national report holds
    hundreds of thousands of rows whose codes, vocabulary words, names and dates repeat,
    and the database driver makes a new object for every one of them."""

    def __init__(self) -> None:
        self._seen: dict[object, object] = {}

    def __call__(self, value: T) -> T:
        return self._seen.setdefault(value, value)  # type: ignore[return-value]
