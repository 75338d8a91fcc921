"""The demo's sizes, apart from the generator (ledger/demo.py), which imports the ORM:
`s106 demo --help` offers them, and `s106 --help` must not pay for the ORM (issue 17)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Scale:
    """How big a demo ledger is."""

    name: str
    agreements: int
    #: Planning authorities: Kent's twelve districts, then invented towns.
    authorities: int = 12


SCALES = {scale.name: scale for scale in (
    Scale("small", 150), Scale("county", 3000),
    # A whole country's councils: what `make bench` measures; minutes to build.
    Scale("national", 100_000, authorities=300),
)}
