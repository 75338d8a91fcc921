"""`s106 --help`, `--version` and each command's --help start as fast as Flask itself (issue 17):
they import the command modules and nothing heavier. Checked by what a fresh interpreter has
imported after each, not by a stopwatch (`python -m bench.cli` times them)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

from ledger import __version__

#: What only running a command may import: the ORM, the services and the app built on them,
#: the reports and importers, the API's schemas and the mail client.
HEAVY = ("sqlalchemy", "alembic", "psycopg", "openpyxl", "marshmallow", "flask_smorest", "gunicorn", "smtplib",
         "reports", "importers", "ledger.models", "ledger.db", "ledger.extensions", "ledger.services",
         "ledger.api", "ledger.web", "ledger.public", "ledger.demo", "ledger.migrate", "ledger.mail")

#: Runs each invocation in turn in one interpreter and prints, after each, what it printed
#: and every module imported so far.
PROBE = """
import contextlib, io, json, sys
from ledger.cli import s106
for args in json.loads(sys.argv[1]):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = s106.main(args=args, prog_name="s106", standalone_mode=False)
    print(json.dumps({"args": args, "code": code, "output": out.getvalue(), "modules": sorted(sys.modules)}))
"""


def heavy_modules(modules: list[str]) -> list[str]:
    return [m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY)]


def probe(invocations: list[list[str]]) -> list[dict[str, object]]:
    done = subprocess.run([sys.executable, "-c", PROBE, json.dumps(invocations)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_the_heavy_names_are_real_modules() -> None:
    # A misspelt name would match nothing and so pass forever.
    for name in HEAVY:
        assert importlib.util.find_spec(name) is not None, name


def test_help_and_version_import_no_ledger_machinery_and_build_no_app() -> None:
    help_run, version_run = probe([["--help"], ["--version"]])
    assert "Commands:" in help_run["output"] and "tokens" in help_run["output"]
    assert version_run["output"] == f"s106, version {__version__}\n"
    assert heavy_modules(version_run["modules"]) == []  # (modules so far: --help's as well)


def test_every_commands_help_imports_no_ledger_machinery() -> None:
    from ledger.cli import s106

    groups = [[name, "--help"] for name in sorted(s106.commands)]
    commands = [[name, sub, "--help"] for name, group in sorted(s106.commands.items())
                for sub in sorted(getattr(group, "commands", {}))]
    runs = probe(groups + commands)
    assert len(runs) == len(groups) + len(commands) > 20
    for run in runs:
        assert "Usage: s106" in run["output"], run["args"]
        assert heavy_modules(run["modules"]) == [], run["args"]
