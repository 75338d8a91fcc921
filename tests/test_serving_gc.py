"""An app built to serve (wsgi.py, `s106 serve`'s workers) moves what it built out of the
cyclic collector's sight (gc.freeze), so a full collection walks only what requests left
behind; an app built for a command or a test does not. Each in a fresh interpreter, as
the freeze is the process's."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROGRAM = """
import gc, sys
from ledger import create_app
before = gc.get_freeze_count()
create_app({"SECRET_KEY": "test", "DATABASE_URL": sys.argv[1]}, serving=sys.argv[2] == "serving")
print(before, gc.get_freeze_count())
"""


@pytest.mark.parametrize("serving", [True, False], ids=["serving", "a command"])
def test_only_a_serving_app_freezes_what_it_built(tmp_path: Path, serving: bool) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    done = subprocess.run([sys.executable, "-c", PROGRAM, url, "serving" if serving else "command"], cwd=ROOT,
                          env=os.environ | {"LEDGER_ENV": "development"}, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    before, after = map(int, done.stdout.split())
    assert before == 0
    if serving:
        assert after > 10_000  # the app's modules, functions and classes: tens of thousands
    else:
        assert after == 0
