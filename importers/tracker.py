"""Import a council's spreadsheet tracker with a mapping file (SPEC §6 `s106 import tracker`).

Trackers differ from council to council, so a TOML mapping names the sheet, the header
row and which column means what (docs/examples/tracker-mapping.toml documents every key).
The same pipeline as the CSV importer: read (merged cells filled, totals rows skipped) ->
map -> parse (money as text or number, dates as Excel dates, serials or text) -> plan.
"""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils.datetime import from_excel

from importers.gov_csv import normalise_purpose, normalise_type
from importers.plan import AgreementPlan, EntryPlan, ImportPlan, ObligationPlan, SourceRow
from importers.read import (
    ImportRefused,
    header_key,
    parse_amount,
    parse_date,
    parse_units,
    plausible,
)
from ledger.domain.dates import MAX_REPAYMENT_YEARS
from ledger.domain.entry_kinds import KIND_RULES
from ledger.domain.money import PENNY
from ledger.domain.vocab import SERVICE_PURPOSE, AgreementType, EntryKind, RepaymentBasis, UnitKind

#: Fields a mapping may name, and which of them every mapping must name.
AGREEMENT_FIELDS = ("agreement_reference", "agreement_type", "signed_on", "site_name", "planning_application",
                    "developer", "authority")
OBLIGATION_FIELDS = ("obligation_reference", "purpose", "service", "amount_secured", "units", "trigger",
                     "repayment_years")
MONEY_FIELDS = ("receipt_reference", "received_on", "amount_received", "spend_reference", "spent_on", "amount_spent",
                "project_reference")
KNOWN_FIELDS = set(AGREEMENT_FIELDS + OBLIGATION_FIELDS + MONEY_FIELDS)
REQUIRED_FIELDS = ("agreement_reference", "signed_on", "purpose")


@dataclass(frozen=True, slots=True)
class Mapping:
    sheet: str
    header_row: int
    columns: dict[str, str]
    organisation: str
    purposes: dict[str, str]
    services: dict[str, str]
    skip_rows_containing: tuple[str, ...]
    fill_down: tuple[str, ...]


def load_mapping(path: Path) -> Mapping:
    """Read and check a mapping file; a bad mapping refuses the import with one line."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ImportRefused(f"{path.name}: not a readable TOML mapping ({error})") from None
    tracker = data.get("tracker", {})
    columns = data.get("columns", {})
    unknown = set(columns) - KNOWN_FIELDS
    if unknown:
        raise ImportRefused(f"{path.name}: unknown field(s) in [columns]: {', '.join(sorted(unknown))}")
    missing = [f for f in REQUIRED_FIELDS if f not in columns]
    if missing:
        raise ImportRefused(f"{path.name}: [columns] must name {', '.join(missing)}")
    if "sheet" not in tracker or "organisation" not in tracker:
        raise ImportRefused(f"{path.name}: [tracker] must set sheet and organisation")
    return Mapping(
        sheet=tracker["sheet"], header_row=int(tracker.get("header_row", 1)), columns=dict(columns),
        organisation=tracker["organisation"], purposes={header_key(k): v for k, v in data.get("purposes", {}).items()},
        services={header_key(k): v for k, v in data.get("services", {}).items()},
        skip_rows_containing=tuple(s.lower() for s in tracker.get("skip_rows_containing", ["total"])),
        fill_down=tuple(tracker.get("fill_down", AGREEMENT_FIELDS)),
    )


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()[:10]
    return str(value).strip()


def cell_money(value: Any) -> Decimal | None:
    """Money typed as a number or as text (`£1,200.50`). Numbers come from Excel as binary
    fractions: their shortest decimal form is what was typed, and it must have at most
    two decimal places (a formula's 1234.5666 is refused, never rounded)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return Decimal(value).quantize(PENNY)
    if isinstance(value, str):
        return parse_amount(value)
    typed = Decimal(repr(value))
    if typed != typed.quantize(PENNY):
        raise ValueError(f"{value!r} has more than two decimal places")
    return typed.quantize(PENNY)


def cell_date(value: Any) -> date:
    """An Excel date, an Excel serial number, or text in a declared format."""
    if isinstance(value, datetime):
        found = value.date()
    elif isinstance(value, date):
        found = value
    elif isinstance(value, int | Decimal) or (value is not None and not isinstance(value, str)):
        try:
            found = from_excel(value).date()
        except (OverflowError, ValueError, TypeError):
            # A serial past the calendar's end (or not a number at all) is no date.
            raise ValueError(f"{value!r} is not a date") from None
    else:
        return parse_date(value or "")
    return plausible(found, found.isoformat())


def read_sheet(path: Path, mapping: Mapping) -> list[tuple[int, dict[str, Any]]]:
    """Rows under the header row as {field: value}, merged cells filled from their top-left
    cell, and rows the mapping says to skip (totals) left out."""
    if not path.exists():
        raise ImportRefused(f"{path}: not found")
    try:
        workbook = load_workbook(path, data_only=True)
    except Exception as error:  # openpyxl raises many types for a file that is not a workbook
        raise ImportRefused(f"{path.name}: not an Excel workbook ({type(error).__name__})") from None
    if mapping.sheet not in workbook.sheetnames:
        raise ImportRefused(f"{path.name}: no sheet {mapping.sheet!r} (sheets: {', '.join(workbook.sheetnames)})")
    sheet = workbook[mapping.sheet]
    merged = {}
    for cell_range in sheet.merged_cells.ranges:
        top_left = sheet.cell(row=cell_range.min_row, column=cell_range.min_col).value
        for row in range(cell_range.min_row, cell_range.max_row + 1):
            for column in range(cell_range.min_col, cell_range.max_col + 1):
                merged[(row, column)] = top_left
    headers = {header_key(cell_text(c.value)): c.column for c in sheet[mapping.header_row] if c.value is not None}
    positions = {}
    for field, heading in mapping.columns.items():
        column = headers.get(header_key(heading))
        if column is None:
            raise ImportRefused(f"{path.name}: column {heading!r} (for {field}) not found in row {mapping.header_row}")
        positions[field] = column
    rows = []
    for row_number in range(mapping.header_row + 1, sheet.max_row + 1):
        values = {f: merged.get((row_number, c), sheet.cell(row=row_number, column=c).value) for f, c in positions.items()}
        texts = [cell_text(v).lower() for v in values.values()]
        if not any(texts) or any(t.startswith(mapping.skip_rows_containing) for t in texts if t):
            continue
        rows.append((row_number, values))
    return rows


def plan_tracker(path: Path, mapping_path: Path) -> ImportPlan:
    """Read a tracker workbook through its mapping into an ImportPlan (no database)."""
    mapping = load_mapping(mapping_path)
    rows = read_sheet(path, mapping)
    plan = ImportPlan(label=str(path), format="tracker")
    plan.authorities[mapping.organisation] = mapping.organisation
    file = path.name
    agreements: dict[str, AgreementPlan] = {}
    obligations: dict[str, ObligationPlan] = {}
    last: dict[str, Any] = {}
    references: Counter[str] = Counter()
    for line, values in rows:
        for field in mapping.fill_down:  # blank agreement cells below a filled one repeat it
            if field in values and values[field] in (None, "") and field in last:
                values[field] = last[field]
        last.update({k: v for k, v in values.items() if v not in (None, "")})
        reference = cell_text(values.get("agreement_reference"))
        source = SourceRow(file=file, line=line, reference=reference, status="agreement")
        if not reference:
            plan.sources.append(source)
            plan.reject(source, "agreement_reference", "agreement reference is empty")
            continue
        if reference not in agreements:
            plan.sources.append(source)
            try:
                signed_on = cell_date(values.get("signed_on"))
            except ValueError as error:
                plan.reject(source, "signed_on", f"date of agreement {error}")
                continue
            agreement_type = normalise_type(cell_text(values.get("agreement_type")) or "section-106")
            agreements[reference] = AgreementPlan(
                reference=reference, type=agreement_type or AgreementType.SECTION_106.value,
                authority_code=cell_text(values.get("authority")) or mapping.organisation, signed_on=signed_on,
                site_name=cell_text(values.get("site_name")) or None,
                planning_application=cell_text(values.get("planning_application")) or None,
                notes=f"developer: {cell_text(values.get('developer'))}" if values.get("developer") else None,
                source=source)
            plan.authorities.setdefault(agreements[reference].authority_code, agreements[reference].authority_code)
            plan.agreements.append(agreements[reference])
        obligation = _obligation(plan, mapping, file, line, values, agreements[reference], obligations)
        if obligation is None:
            continue
        _money(plan, file, line, values, obligation, references)
    plan.refuse_unstorable()
    return plan


def _obligation(plan: ImportPlan, mapping: Mapping, file: str, line: int, values: dict[str, Any],
                agreement: AgreementPlan, obligations: dict[str, ObligationPlan]) -> ObligationPlan | None:
    wording = cell_text(values.get("purpose"))
    purpose = mapping.purposes.get(header_key(wording))
    known = purpose is not None
    if purpose is None:
        purpose, known = normalise_purpose(wording)
    service = mapping.services.get(header_key(wording)) or cell_text(values.get("service")) or next(
        (s for s, p in SERVICE_PURPOSE.items() if p == purpose), "other")
    reference = cell_text(values.get("obligation_reference")) or f"{agreement.reference}/{re.sub(r'[^a-z0-9]+', '-', wording.lower()).strip('-') or 'other'}"
    if reference in obligations:
        return obligations[reference]
    try:
        amount = cell_money(values.get("amount_secured"))
    except ValueError as error:
        amount = None
        source = SourceRow(file=file, line=line, reference=reference, status="secured")
        plan.sources.append(source)
        plan.reject(source, "amount_secured", f"amount secured {error}")
        return None
    source = SourceRow(file=file, line=line, reference=reference, status="secured", amount=amount)
    plan.sources.append(source)
    if not known:
        plan.warn(source, "purpose", f"purpose {wording!r} not in the mapping or the code list: kept as other")
    units = None
    if values.get("units") not in (None, ""):
        try:
            units = parse_units(cell_text(values.get("units")))
        except ValueError as error:
            plan.warn(source, "units", f"units {error}: ignored")
    repayment_basis, repayment_years, needs_review = None, None, not known
    years_text = cell_text(values.get("repayment_years"))
    if years_text:
        try:
            repayment_basis, repayment_years = read_repayment_terms(years_text)
        except ValueError as error:
            repayment_basis, needs_review = RepaymentBasis.UNKNOWN.value, True
            plan.warn(source, "repayment_years", f"repayment years {error}: terms unknown until read from the deed")
    obligation = ObligationPlan(
        reference=reference, agreement_reference=agreement.reference, purpose=purpose, service=service,
        amount=amount, units=units,
        unit_kind=(UnitKind.AFFORDABLE_HOUSING_UNITS.value if purpose == "affordable-housing"
                   else UnitKind.SCHOOL_PLACES.value if purpose == "education" else UnitKind.OTHER.value) if units else None,
        trigger=cell_text(values.get("trigger")) or None,
        repayment_basis=repayment_basis, repayment_years=repayment_years,
        needs_review=needs_review, source=source)
    obligations[reference] = obligation
    plan.obligations.append(obligation)
    return obligation


#: Words for whole numbers of years a tracker may spell out ("seven years", "twenty-five").
_NUMBER_WORDS = {word: n for n, word in enumerate((
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
    "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"))} | {"twenty": 20, "thirty": 30}
#: Cells that say the deed sets no time limit.
_NO_LIMIT = frozenset({"none", "no limit", "no time limit", "n/a", "na", "not applicable", "nil", "-"})


def read_repayment_terms(text: str) -> tuple[str, int | None]:
    """(basis, years) from a tracker's "repayment years" cell (SPEC 8.2): "7", "7 years",
    "7.0", "seven years" are 7 years from receipt, what such a column means; "none", "no
    limit", "n/a" no time limit. Anything else is a ValueError: never a default."""
    cleaned = re.sub(r"\s+", " ", text.strip().lower())
    if cleaned in _NO_LIMIT:
        return RepaymentBasis.NONE.value, None
    number = re.sub(r"\s*\b(years?|yrs?)$", "", cleaned).strip()
    if re.fullmatch(r"[0-9]{1,3}(\.0*)?", number):
        years = int(Decimal(number))
    else:
        tens, _, ones = number.replace("-", " ").partition(" ")
        if tens not in _NUMBER_WORDS or (ones and (tens not in ("twenty", "thirty") or ones not in _NUMBER_WORDS
                                                    or not 1 <= _NUMBER_WORDS[ones] <= 9)):
            raise ValueError(f"{text!r} is not a number of years or 'none'")
        years = _NUMBER_WORDS[tens] + (_NUMBER_WORDS[ones] if ones else 0)
    if not 1 <= years <= MAX_REPAYMENT_YEARS:
        raise ValueError(f"{text!r} is not between 1 and {MAX_REPAYMENT_YEARS} years")
    return RepaymentBasis.RECEIPT.value, years


def _money(plan: ImportPlan, file: str, line: int, values: dict[str, Any], obligation: ObligationPlan,
           references: Counter[str]) -> None:
    """A receipt and a spend on the row, if it has them."""
    for kind, ref_field, date_field, amount_field in (
        (EntryKind.RECEIPT, "receipt_reference", "received_on", "amount_received"),
        (EntryKind.SPEND, "spend_reference", "spent_on", "amount_spent"),
    ):
        raw = values.get(amount_field)
        if raw in (None, "") or (isinstance(raw, str) and not raw.strip()):
            continue
        status = KIND_RULES[kind].status
        try:
            amount = cell_money(raw)
        except ValueError as error:
            source = SourceRow(file=file, line=line, reference=obligation.reference, status=status)
            plan.sources.append(source)
            plan.reject(source, amount_field, str(error))
            continue
        assert amount is not None
        try:
            occurred_on = cell_date(values.get(date_field))
        except ValueError as error:
            source = SourceRow(file=file, line=line, reference=obligation.reference, status=status, amount=amount)
            plan.sources.append(source)
            plan.reject(source, date_field, f"{date_field} {error}")
            continue
        # Without a finance reference, the key is what the payment is: stable across re-imports.
        reference = cell_text(values.get(ref_field)) or f"{obligation.reference}/{status}/{occurred_on.isoformat()}/{amount}"
        references[reference] += 1
        if references[reference] > 1:
            reference = f"{reference}#{references[reference]}"
        source = SourceRow(file=file, line=line, reference=reference, status=status, amount=amount)
        plan.sources.append(source)
        if amount < 0:
            plan.warn(source, amount_field, f"negative amount {amount} read as {abs(amount)}")
            amount = abs(amount)
        if amount == 0:
            plan.reject(source, amount_field, "amount is zero: nothing to record")
            continue
        plan.entries.append(EntryPlan(
            kind=kind, reference=reference, obligation_reference=obligation.reference, amount=amount,
            occurred_on=occurred_on, source=source,
            project_reference=cell_text(values.get("project_reference")) or None if KIND_RULES[kind].project else None,
        ))
