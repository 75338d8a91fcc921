"""Pure domain rules of the ledger: standard library only (tests/test_architecture.py)."""
