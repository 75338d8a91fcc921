"""How the statements print: each workbook of a ledger written, timed, printed to PDF by
LibreOffice and its pages counted per sheet (by the page header, which ends ": {sheet}").

    python -m bench.pages --url sqlite:///instance/ledger.sqlite --year 2024 --as-of 2025-06-01

Prints one table: pages per sheet for the public and internal editions of the IFS and for
the at-risk workbook, with the seconds each took to write. Needs LibreOffice (soffice) and
pypdf (the test extras).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import date
from pathlib import Path

from ledger import __version__, create_app


def _pages_per_sheet(soffice: str, folder: Path, name: str, data: bytes) -> Counter[str]:
    import pypdf

    (folder / f"{name}.xlsx").write_bytes(data)
    subprocess.run([soffice, "--headless", "--norestore", f"-env:UserInstallation=file://{folder}/profile",
                    "--convert-to", "pdf", "--outdir", str(folder), str(folder / f"{name}.xlsx")],
                   check=True, capture_output=True, timeout=1800)
    pages: Counter[str] = Counter()
    for page in pypdf.PdfReader(folder / f"{name}.pdf").pages:
        lines = (page.extract_text() or "").strip().splitlines()
        pages[lines[0].rsplit(": ", 1)[-1].strip() if lines else "(blank)"] += 1
    return pages


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="the ledger's database URL")
    parser.add_argument("--year", type=int, required=True, help="the reported financial year, e.g. 2024")
    parser.add_argument("--as-of", type=date.fromisoformat, required=True, help="the at-risk workbook's date")
    parser.add_argument("--council", default="Demo County Council")
    args = parser.parse_args(argv)
    soffice = shutil.which("soffice")
    if soffice is None:
        sys.exit("LibreOffice (soffice) is needed to print the workbooks")

    from ledger.services.balances import at_risk
    from ledger.services.ifs import ifs_report
    from reports.at_risk import at_risk_workbook
    from reports.ifs_workbook import build_ifs_workbook

    app = create_app({"DATABASE_URL": args.url, "SECRET_KEY": "bench", "ENV": "development"})
    workbooks: dict[str, tuple[bytes, float]] = {}
    with app.app_context(), app.extensions["ledger.sessions"]() as session:
        started = time.perf_counter()
        report = ifs_report(session, year=args.year)
        figures = time.perf_counter() - started
        for edition in ("public", "internal"):
            started = time.perf_counter()
            data = build_ifs_workbook(report, edition=edition, council=args.council)
            workbooks[edition] = (data, figures + time.perf_counter() - started)
        started = time.perf_counter()
        rows = at_risk(session, as_of=args.as_of)
        data = at_risk_workbook(rows, as_of=args.as_of, version=__version__, council=args.council)
        workbooks["at-risk"] = (data, time.perf_counter() - started)
    with tempfile.TemporaryDirectory() as temporary:
        counted = {name: _pages_per_sheet(soffice, Path(temporary), name, data)
                   for name, (data, _) in workbooks.items()}
    sheets = list(dict.fromkeys(sheet for pages in counted.values() for sheet in pages))
    print(f"{'sheet':<24}" + "".join(f"{name:>10}" for name in counted))
    for sheet in sheets:
        print(f"{sheet:<24}" + "".join(f"{counted[name].get(sheet, 0) or '-':>10}" for name in counted))
    print(f"{'total pages':<24}" + "".join(f"{sum(pages.values()):>10}" for pages in counted.values()))
    print(f"{'seconds to write':<24}" + "".join(f"{seconds:>10.1f}" for _, seconds in workbooks.values()))


if __name__ == "__main__":
    main()
