"""The domain rules stay pure: no Flask, no SQLAlchemy, no clock."""

import ast
from pathlib import Path

import ledger.domain

DOMAIN = Path(ledger.domain.__file__).parent
FORBIDDEN = ("flask", "sqlalchemy", "marshmallow", "alembic", "psycopg", "werkzeug", "ledger.models",
             "ledger.services", "ledger.db")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_domain_imports_only_the_standard_library_and_itself() -> None:
    files = sorted(DOMAIN.glob("*.py"))
    assert len(files) >= 6
    for path in files:
        for name in imported_modules(path):
            assert not name.startswith(FORBIDDEN), f"{path.name} imports {name}"


def test_domain_never_reads_the_clock() -> None:
    for path in DOMAIN.glob("*.py"):
        source = path.read_text()
        for call in ("date.today(", "datetime.now(", "datetime.utcnow(", "time.time("):
            assert call not in source, f"{path.name} calls {call}"


def test_only_command_line_commands_pause_the_collector() -> None:
    """The cyclic collector is process-wide: paused on a request path, one slow report would
    leave a threaded server without it. Only the CLI (ledger/cli.py) pauses it."""
    root = DOMAIN.parents[1]
    users = {path.relative_to(root).as_posix()
             for folder in ("ledger", "importers", "reports")
             for path in (root / folder).rglob("*.py") if "ledger.gc_pause" in imported_modules(path)}
    assert users == {"ledger/cli.py"}
