"""Speed devices: code that is here only to make something faster or smaller.

Each lives in one module of this package, whose docstring says what it buys (a figure
from ``python -m bench.devices``, docs/PERFORMANCE.md "Speed devices") and what it costs.
No rule depends on one: ledger/domain never imports them (tests/test_architecture.py,
which also lists the few places each is used), and taking one out leaves every answer the
same, only slower or bigger. To change a rule, you need not read anything here.
"""
