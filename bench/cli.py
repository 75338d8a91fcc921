"""How long `s106 --help` and `s106 --version` take to print, against `python -c "import flask"`
timed in the same run (issue 17: within 2x). Each is a fresh process, timed by the wall clock
from start to exit; the three take turns, so a busy moment on the machine hits each alike.

    python -m bench.cli [--runs 15]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).parents[1]
#: The console script pip installed beside this interpreter, as an officer runs it.
S106 = Path(sys.executable).parent / "s106"
FLOOR = "import flask"
TARGET_RATIO = 2.0


def commands() -> dict[str, list[str]]:
    s106 = [str(S106)] if S106.exists() else [sys.executable, "-c", "from ledger.cli import main; main()"]
    return {FLOOR: [sys.executable, "-c", FLOOR], "s106 --help": [*s106, "--help"],
            "s106 --version": [*s106, "--version"]}


def wall_seconds(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def measure(runs: int = 15) -> dict[str, float]:
    """The median wall time of each command, the floor first."""
    timings: dict[str, list[float]] = {name: [] for name in commands()}
    for command in commands().values():  # once each unmeasured: the files into the page cache
        wall_seconds(command)
    for _ in range(runs):
        for name, command in commands().items():
            timings[name].append(wall_seconds(command))
    return {name: statistics.median(times) for name, times in timings.items()}


def add_to_table(table: Any, runs: int = 15) -> None:
    """`make bench`'s rows: each start-up against `import flask` as its floor."""
    medians = measure(runs)
    for name, seconds in medians.items():
        if name != FLOOR:
            table.add(f"start-up: {name}", "-", "-", seconds, medians[FLOOR], 0,
                      f"floor python -c '{FLOOR}'; target within {TARGET_RATIO:g}x")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    medians = measure(parser.parse_args(argv).runs)
    floor = medians[FLOOR]
    for name, seconds in medians.items():
        print(f"{name:<16} {seconds * 1000:7.0f} ms  {seconds / floor:5.2f}x {FLOOR}")
    worst = max(seconds / floor for name, seconds in medians.items() if name != FLOOR)
    print(f"{'met' if worst <= TARGET_RATIO else 'NOT met'}: start-up within {TARGET_RATIO:g}x (worst {worst:.2f}x)")


if __name__ == "__main__":
    main()
