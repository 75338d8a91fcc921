"""The domain rules stay pure: no Flask, no SQLAlchemy, no clock, no speed devices; and each
speed device (ledger/speed) is used only where listed."""

import ast
from pathlib import Path

import ledger.domain

DOMAIN = Path(ledger.domain.__file__).parent
FORBIDDEN = ("flask", "sqlalchemy", "marshmallow", "alembic", "psycopg", "werkzeug", "ledger.models",
             "ledger.services", "ledger.db", "ledger.speed", "ledger.api")
ROOT = DOMAIN.parents[1]
#: Each speed device and the only places (files, or folders ending "/") that may import it.
#: A device is a trade (its module says what it buys and what it costs), so each use is
#: chosen here, not picked up by habit.
DEVICE_USERS = {
    # The collector is process-wide: paused on a request path, one slow report would leave
    # a threaded server without it. Only the CLI commands pause it.
    "ledger.speed.gc_pause": {"ledger/cli/"},
    "ledger.speed.response_cache": {"ledger/api/__init__.py"},
    "ledger.speed.shared": {"ledger/services/ifs.py", "ledger/services/positions.py", "ledger/services/balances.py"},
    "ledger.speed.unindexed": {"ledger/services/ledger_rows.py", "ledger/services/kept.py"},
    "ledger.speed.reused_cells": {"reports/workbook.py"},
}
#: The old names of moved devices, to catch a use by habit.
OLD_NAMES = {
    "ledger.api.cache": "ledger.speed.response_cache",
    "ledger.services.ledger_rows.Shared": "ledger.speed.shared",
    "ledger.services.ledger_rows.Unindexed": "ledger.speed.unindexed",
}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
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


def devices_imported(path: Path) -> set[str]:
    """The speed devices a module imports, under their own names or their old ones."""
    names = {OLD_NAMES.get(name, name) for name in imported_modules(path)}
    return {device for device in DEVICE_USERS for name in names if name == device or name.startswith(device + ".")}


def test_speed_devices_are_used_only_where_listed() -> None:
    users: dict[str, set[str]] = {device: set() for device in DEVICE_USERS}
    for folder in ("ledger", "importers", "reports"):
        for path in (ROOT / folder).rglob("*.py"):
            if path.parent.name != "speed":
                for device in devices_imported(path):
                    users[device].add(path.relative_to(ROOT).as_posix())
    for device, found in users.items():
        places = DEVICE_USERS[device]
        assert found, f"{device} is used nowhere: remove it"
        stray = {user for user in found
                 if not any(user == place or (place.endswith("/") and user.startswith(place)) for place in places)}
        assert not stray, f"{device} is imported by {sorted(stray)}, not a place DEVICE_USERS lists"


def test_every_speed_device_is_listed() -> None:
    modules = {f"ledger.speed.{path.stem}" for path in (ROOT / "ledger" / "speed").glob("*.py")} - {"ledger.speed.__init__"}
    assert modules == DEVICE_USERS.keys()
