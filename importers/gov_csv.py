"""Import the government developer-contributions format (SPEC §5; DOMAIN.md §2-3).

A pipeline of small steps per file, as the national pipeline runs them: read (encoding,
refusals) -> map columns (current and 2019 headers, known variants) -> normalise values
(status and purpose spellings) -> parse (amounts, dates) -> plan (placeholders, unique
references). Row problems are collected as issues, never raised; only a file that cannot
be read at all refuses the import. The plan is written by one service call.
"""

from __future__ import annotations

import functools
import re
import zipfile
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from importers.plan import (
    PLACEHOLDER,
    AgreementPlan,
    DuePlan,
    EntryPlan,
    ImportPlan,
    ObligationPlan,
    SourceRow,
)
from importers.read import (
    ZIP_SIGNATURE,
    ImportRefused,
    PlaceholderDate,
    Table,
    amount_in_words,
    archive_members,
    excel_serial_date,
    header_key,
    parse_amount,
    parse_date,
    parse_units,
    read_bytes,
    read_member,
    read_table,
)
from ledger.domain.entry_kinds import KIND_OF_NEGATIVE_STATUS, KIND_OF_STATUS, KIND_RULES
from ledger.domain.vocab import AgreementType, EntryKind, Purpose, UnitKind

AGREEMENT_FILE = "developer-agreement.csv"
CONTRIBUTION_FILE = "developer-agreement-contribution.csv"
TRANSACTION_FILE = "developer-agreement-transaction.csv"
FILES = (AGREEMENT_FILE, CONTRIBUTION_FILE, TRANSACTION_FILE)
#: Fields that hold dates: only there is a five-digit number read as an Excel serial date.
DATE_FIELDS = ("start-date", "end-date", "entry-date")
#: Rows from the top of a file searched for its header row (title and blank rows above it).
HEADER_SEARCH_ROWS = 20

COMMON_COLUMNS = {
    "name": "name", "notes": "notes", "organisation": "organisation", "organization": "organisation",
    "amount": "amount", "amount£": "amount", "amountgbp": "amount", "units": "units",
    "unitsnonfinancialcontribution": "units", "unitsachieved": "units", "housingunits": "units",
    "entrydate": "entry-date", "created": "entry-date", "startdate": "start-date", "enddate": "end-date",
}
#: Header aliases per file, keyed by header_key(): current `reference` headers, the 2019
#: headers, and variants seen in councils' files (digital-land config column.csv).
COLUMNS = {
    AGREEMENT_FILE: COMMON_COLUMNS | {
        "reference": "reference", "developeragreement": "reference", "developeragreeement": "reference",
        "developeragreementtype": "developer-agreement-type", "developeragreementclassification": "developer-agreement-type",
        "agreementtype": "developer-agreement-type", "planningapplication": "planning-application",
        "documenturl": "document-url", "sitename": "name",
    },
    CONTRIBUTION_FILE: COMMON_COLUMNS | {
        "reference": "reference", "developeragreementcontribution": "reference",
        "developeragreement": "developer-agreement", "developeragreeement": "developer-agreement",
        "contributionpurpose": "contribution-purpose", "contributionpurposecategory": "contribution-purpose",
        "purpose": "contribution-purpose",
    },
    TRANSACTION_FILE: COMMON_COLUMNS | {
        "reference": "reference", "developeragreementtransaction": "reference",
        "developeragreementtransactions1": "reference",
        "developeragreementcontribution": "developer-agreement-contribution",
        "contributionfundingstatus": "contribution-funding-status", "fundingstatus": "contribution-funding-status",
        "status": "contribution-funding-status",
    },
}
REQUIRED = {
    AGREEMENT_FILE: ("reference", "start-date"),
    CONTRIBUTION_FILE: ("reference", "developer-agreement"),
    TRANSACTION_FILE: ("reference", "developer-agreement-contribution", "contribution-funding-status", "amount",
                       "start-date"),
}

#: The funding status read as income due; every other status names a kind (entry_kinds.KIND_OF_STATUS).
SECURED = "secured"
STATUS_PATCHES = {"recieved": "received", "receieved": "received", "recevied": "received", "repaid": "returned",
                  "refunded": "returned", "transfered": "transferred", "spend": "spent"}
PURPOSE_PATCHES = {
    "open-spaces-and-leisure": Purpose.OPEN_SPACE_AND_LEISURE, "open-space-leisure": Purpose.OPEN_SPACE_AND_LEISURE,
    "cil": Purpose.COMMUNITY_INFRASTRUCTURE_LEVY, "s106-monitoring": Purpose.MONITORING_FEES,
    "monitoring-fee": Purpose.MONITORING_FEES, "monitoring": Purpose.MONITORING_FEES,
    "education-primary": Purpose.EDUCATION, "education-secondary": Purpose.EDUCATION,
}
PURPOSE_PATTERNS = ((r"monitoring", Purpose.MONITORING_FEES), (r"health", Purpose.HEALTH),
                    (r"transport.*travel", Purpose.TRANSPORT_AND_TRAVEL), (r"^education", Purpose.EDUCATION),
                    (r"affordable.housing", Purpose.AFFORDABLE_HOUSING))
TYPE_PATTERNS = ((r"106$|^s106|section.?106", AgreementType.SECTION_106), (r"278$", AgreementType.SECTION_278),
                 (r"^cil$|infrastructure.levy", AgreementType.COMMUNITY_INFRASTRUCTURE_LEVY),
                 (r"variation|^dov$", AgreementType.DEED_OF_VARIATION),
                 (r"unilateral|^uu$", AgreementType.UNILATERAL_UNDERTAKING))
PURPOSE_CODES = frozenset(Purpose)
AGREEMENT_TYPE_CODES = frozenset(AgreementType)
#: Council service an imported purpose is filed under (the format has no service).
PURPOSE_SERVICE = {Purpose.MONITORING_FEES: "monitoring", Purpose.HIGHWAYS: "highways"}
UNKNOWN_RECIPIENT = "not recorded (imported)"


@dataclass(frozen=True, slots=True)
class Row:
    line: int
    #: Canonical field -> cell text, surrounding spaces removed.
    values: dict[str, str]
    #: (field, kind, what was done) for each value not taken as written: each is a warning.
    readings: tuple[tuple[str, str, str], ...] = ()

    def get(self, name: str) -> str:
        return self.values.get(name, "")


def map_columns(file: str, headers: list[str]) -> dict[int, str]:
    """Column index -> canonical field; unknown columns are ignored, required ones checked."""
    mapping, missing, _ = _columns(file, headers)
    if missing:
        raise ImportRefused(f"{file}: missing required column {', '.join(missing)} (found: {', '.join(h.strip() for h in headers)})")
    return mapping


def _columns(file: str, headers: list[str]) -> tuple[dict[int, str], list[str], bool]:
    """(column index -> canonical field, required fields missing, whether the entry-date
    stands in for a missing start-date). The first column wins where two map to one field
    (`reference` before the 2019 name)."""
    aliases = COLUMNS[file]
    mapping: dict[int, str] = {}
    taken: dict[str, int] = {}
    ordered = sorted(range(len(headers)), key=lambda i: header_key(headers[i]) != "reference")
    for index in ordered:
        field = aliases.get(header_key(headers[index]))
        if field and field not in taken:
            mapping[index] = field
            taken[field] = index
    # Some councils publish the day a row was entered and no start-date: the only date there is.
    entry_date_for_start = "start-date" in REQUIRED[file] and "start-date" not in taken and "entry-date" in taken
    if entry_date_for_start:
        mapping[taken["entry-date"]] = "start-date"
        taken["start-date"] = taken.pop("entry-date")
    return mapping, [f for f in REQUIRED[file] if f not in taken], entry_date_for_start


@dataclass(frozen=True, slots=True)
class Found:
    """One of the three files, wherever it was found: its name for messages, and its bytes."""

    name: str
    read: Callable[[], bytes]


def _role(name: str) -> str:
    """Which file a name is, whatever its extension or case: `Developer_Agreement.xlsx`,
    `developer-agreement.csv.zip` -> `developeragreement`."""
    return header_key(Path(name).name.split(".")[0])


ROLES = {_role(file): file for file in FILES}


def find_files(path: Path) -> dict[str, Found]:
    """The three files in a directory (as CSV, workbooks, or zip archives holding one file,
    named for the file they hold), in any zip archive there, or in a zip archive given in
    place of the directory. What each is comes from its content (read_table), not its name."""
    if path.is_dir():
        candidates = [found for child in sorted(path.iterdir()) if child.is_file() for found in _candidates(child)]
    elif path.is_file() and _archive(path) is not None:
        candidates = _members(path)
    else:
        raise ImportRefused(f"{path}: not a directory or zip archive")
    files = {}
    for file in FILES:
        matches = [found for role, found in candidates if role == _role(file)]
        if not matches:
            raise ImportRefused(f"{path}: {file} not found (nor as an Excel workbook or in a zip archive)")
        if len(matches) > 1:
            raise ImportRefused(f"{path}: {file} is there {len(matches)} times "
                                f"({', '.join(m.name for m in matches)}): keep one")
        files[file] = matches[0]
    return files


def _candidates(path: Path) -> list[tuple[str, Found]]:
    if path.name.startswith((".", "~$")):  # hidden files, Excel's lock files
        return []
    if _role(path.name) in ROLES:
        return [(_role(path.name), Found(name=path.name, read=lambda: read_bytes(path)))]
    return _members(path) if _archive(path) is not None else []


def _archive(path: Path) -> zipfile.ZipFile | None:
    """The zip archive at ``path`` if it is one that can be opened (a workbook is not one),
    else None."""
    with path.open("rb") as handle:
        if handle.read(4) != ZIP_SIGNATURE:
            return None
    try:
        archive = zipfile.ZipFile(path)  # reads the archive's directory, not its files
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return None
    return None if "xl/workbook.xml" in archive.namelist() else archive


def _members(path: Path) -> list[tuple[str, Found]]:
    archive = _archive(path)
    assert archive is not None
    return [(_role(member.filename), Found(name=f"{path.name}/{member.filename}",
                                           read=functools.partial(read_member, archive, member, f"{path.name}/{member.filename}")))
            for member in archive_members(archive) if _role(member.filename) in ROLES]


def read_rows(found: Found, file: str) -> tuple[list[tuple[int, str, str, str]], Iterator[Row]]:
    """What was done to read the file, as (line, field, kind, what) for warnings, and its rows. A
    file that cannot be read, or with no header row holding the required columns in its
    first rows (in any sheet), is refused here, before any row is read."""
    data = found.read()
    first_headers: list[str] | None = None
    for table in read_table(data, found.name):
        top = [row for _, row in zip(range(HEADER_SEARCH_ROWS), table.rows, strict=False)]
        for position, (line, headers) in enumerate(top):
            if not "".join(headers).strip():
                continue
            first_headers = first_headers if first_headers is not None else headers
            mapping, missing, entry_date_for_start = _columns(file, headers)
            if missing:
                continue
            notes = _header_notes(table, top[:position], line, entry_date_for_start)
            rows = _rows(mapping, [*top[position + 1:]], table.rows, entry_date_for_start)
            return notes, rows
    if first_headers is None:
        raise ImportRefused(f"{found.name}: no header row (the first {HEADER_SEARCH_ROWS} rows are empty)")
    _, missing, _ = _columns(file, first_headers)
    raise ImportRefused(f"{found.name}: missing required column {', '.join(missing)} "
                        f"(found: {', '.join(h.strip() for h in first_headers if h.strip())})")


def _header_notes(table: Table, above: list[tuple[int, list[str]]], line: int,
                  entry_date_for_start: bool) -> list[tuple[int, str, str, str]]:
    notes = []
    if table.how:
        notes.append((line, "file", "file-shape", f"{table.name}: {table.how}"))
    skipped = [" ".join(c.strip() for c in cells if c.strip()) for _, cells in above]
    skipped = [text for text in skipped if text]
    if skipped:
        notes.append((line, "header", "title-rows", f"header row found on line {line}; {len(skipped)} row(s) above it skipped "
                                      f"(a title, not data): {' | '.join(skipped)[:200]!r}"))
    if entry_date_for_start:
        notes.append((line, "start-date", "entry-date-as-start-date", "no start-date column: each row's entry-date is taken as its start-date"))
    return notes


def _rows(mapping: dict[int, str], first: list[tuple[int, list[str]]], rest: Iterator[tuple[int, list[str]]],
          entry_date_for_start: bool) -> Iterator[Row]:
    columns = list(mapping.items())
    for source in (first, rest):
        for line, cells in source:
            if not "".join(cells).strip():  # a blank row
                continue
            values = {field: cells[i].strip() for i, field in columns if i < len(cells)}
            readings = []
            if entry_date_for_start:
                readings.append(("start-date", "entry-date-as-start-date", f"entry-date {values.get('start-date')!r} taken as the start-date "
                                               "(the file has no start-date column)"))
            for field in DATE_FIELDS:
                serial = excel_serial_date(values.get(field, ""))
                if serial is not None:
                    readings.append((field, "excel-serial-date", f"{field} {values[field]!r} read as an Excel serial number: "
                                            f"{serial.isoformat()}"))
                    values[field] = serial.isoformat()
            yield Row(line=line, values=values, readings=tuple(readings))


_SPACES = re.compile(r"\s+")


@functools.lru_cache(maxsize=1024)  # a file spells its statuses a handful of ways
def normalise_status(text: str) -> str:
    value = _SPACES.sub(" ", text.strip().lower())
    if value.startswith("allocated"):
        return "allocated"
    return STATUS_PATCHES.get(value, value)


def normalise_purpose(text: str) -> tuple[str, bool]:
    """(purpose code, known). Unknown purposes become `other`, flagged for review."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.strip().lower()).strip("-")
    if slug in PURPOSE_CODES:
        return slug, True
    if slug in PURPOSE_PATCHES:
        return PURPOSE_PATCHES[slug].value, True
    for pattern, purpose in PURPOSE_PATTERNS:
        if re.search(pattern, slug):
            return purpose.value, True
    return Purpose.OTHER.value, False


def normalise_type(text: str) -> str | None:
    slug = re.sub(r"[^a-z0-9]+", "-", text.strip().lower()).strip("-")
    if slug in AGREEMENT_TYPE_CODES:
        return slug
    for pattern, kind in TYPE_PATTERNS:
        if re.search(pattern, slug):
            return kind.value
    return None


def _unique(reference: str, seen: Counter[str]) -> str:
    """Real files repeat references for separate instalments: the n-th becomes `ref#n`."""
    seen[reference] += 1
    return reference if seen[reference] == 1 else f"{reference}#{seen[reference]}"


def _end_date(row: Row) -> date | None:
    try:
        return parse_date(row.get("end-date")) if row.get("end-date") else None
    except ValueError:
        return None


def replacements(rows: list[Row]) -> dict[int, int]:
    """Line of each row another row with the same reference replaces -> that row's line. A
    row is replaced when it has an end-date and another row with its reference runs on past
    it (no end-date, or a later one): the council end-dated it and published its successor
    (Tonbridge and Malling re-publishes a transaction as secured, a contribution with its
    corrected amount). Which rows' end-dates count is superseded()'s to say."""
    by_reference: dict[str, list[tuple[Row, date | None]]] = defaultdict(list)
    for row in rows:
        if row.get("reference"):
            by_reference[row.get("reference")].append((row, _end_date(row)))
    found: dict[int, int] = {}
    for same in by_reference.values():
        for row, end in same if len(same) > 1 else ():
            if end is None:
                continue
            successor = next((other for other, other_end in same
                              if other is not row and (other_end is None or other_end > end)), None)
            if successor is not None:
                found[row.line] = successor.line
    return found


def _unit_kind(purpose: str) -> str:
    return {Purpose.AFFORDABLE_HOUSING.value: UnitKind.AFFORDABLE_HOUSING_UNITS.value,
            Purpose.EDUCATION.value: UnitKind.SCHOOL_PLACES.value}.get(purpose, UnitKind.OTHER.value)


def _source_of(row: Row, file: str) -> SourceRow:
    """The SourceRow the step reading ``file`` makes for ``row``."""
    if file == AGREEMENT_FILE:
        return SourceRow(file=file, line=row.line, reference=row.get("reference"), status="agreement")
    status = SECURED if file == CONTRIBUTION_FILE else normalise_status(row.get("contribution-funding-status")) or "(blank)"
    return SourceRow(file=file, line=row.line, reference=row.get("reference"), status=status, amount=_amount(row)[0])


def _with_amount_words(trigger: str | None, amount_words: str | None) -> str | None:
    """An obligation's trigger, with the words its contribution row gives where the amount belongs."""
    return "; ".join(text for text in (trigger, amount_words and f"amount published as: {amount_words}") if text) or None


def _amount(row: Row) -> tuple[Decimal | None, str | None]:
    """The row's amount, or None when blank; an unreadable one gives the reason instead
    (amount_in_words tells words, which a contribution keeps, from an unreadable number)."""
    if not row.get("amount"):
        return None, None
    try:
        return parse_amount(row.get("amount")), None
    except ValueError as error:
        return None, str(error)




class GovCsvImport:
    """Builds an ImportPlan from a directory holding the three files."""

    def __init__(self, directory: Path, *, organisation: str | None = None, opening_balances: bool = True) -> None:
        self.directory = directory
        self.organisation = organisation
        #: Bring money in as opening balances where the files cannot date it or lack its receipts.
        self.opening_balances = opening_balances
        self.plan = ImportPlan(label=str(directory))
        self.agreement_refs: dict[str, AgreementPlan] = {}
        #: Agreements by planning application: some councils' contribution files name the
        #: application where the agreement's reference belongs.
        self.by_application: dict[str, list[AgreementPlan]] = {}
        self.obligation_refs: dict[str, ObligationPlan] = {}
        #: Every obligation reference planned so far, so a placeholder never takes one.
        self.planned_references: set[str] = set()

    def build(self) -> ImportPlan:
        # Open every file and check its header first, so a bad file refuses the import before any work.
        files = find_files(self.directory)
        agreements, contributions, transactions = (self.read(files[file], file) for file in FILES)
        self.agreements(agreements)
        self.contributions(contributions)
        self.transactions(transactions)
        self.plan.refuse_unstorable()
        return self.plan

    def read(self, found: Found, file: str) -> Iterator[Row]:
        """The file's rows, with a warning for what was done to read the file (a workbook, a
        zip archive, a title above the header) and for each value not taken as written."""
        notes, rows = read_rows(found, file)
        for line, field, kind, reason in notes:
            self.plan.warn(SourceRow(file=file, line=line, reference="", status="(file)"), field, reason, kind=kind)
        return self.with_readings(rows, file)

    def with_readings(self, rows: Iterator[Row], file: str) -> Iterator[Row]:
        """Each row, after a warning for each of its readings, on the row as the step that
        reads the file describes it (its SourceRow: reference, status, amount)."""
        for row in rows:
            for field, kind, reason in row.readings:
                self.plan.warn(_source_of(row, file), field, reason, kind=kind)
            yield row

    def superseded(self, row: Row, start: date | None, source: SourceRow, replaced: dict[int, int]) -> date | None:
        """The guidance leaves end-date blank unless a row was superseded: the row is taken as
        superseded (this returns its end-date) only when another row with the same reference
        replaces it (``replaced``, from replacements()). Any other end-date after the start-date
        is a warning and the row is kept: a council's end-date is not proof of a replacement.
        An end-date equal to the start date is a one-day event (North Tyneside publishes every
        row that way); one that is no date the ledger takes (9999-12-31 for "open-ended") is
        ignored, with a warning."""
        text = row.get("end-date")
        if not text:
            return None
        try:
            end = parse_date(text)
        except ValueError as error:
            self.plan.warn(source, "end-date", f"end-date {error}: ignored")
            return None
        if start is None or end <= start:
            return None
        if row.line in replaced:
            return end
        self.plan.warn(source, "end-date", f"end-date {end.isoformat()} is after the start-date, but no other row "
                       f"with reference {row.get('reference')!r} replaces this one: kept", kind="end-date-kept")
        return None

    def unique(self, reference: str, seen: Counter[str], source: SourceRow) -> str:
        found = _unique(reference, seen)
        if found != reference:
            self.plan.warn(source, "reference", f"repeated reference kept as {found}")
        return found

    # -- developer-agreement.csv --------------------------------------------------------------
    def authority(self, row: Row) -> str:
        code = self.organisation or row.get("organisation") or "unknown-organisation"
        self.plan.authorities.setdefault(code, code)
        return code

    def agreements(self, rows: Iterator[Row]) -> None:
        seen: Counter[str] = Counter()
        identical: dict[str, tuple[tuple[str, str], ...]] = {}
        rows = list(rows)  # type: ignore[assignment]  # read twice: once for the rows that replace others
        replaced = replacements(rows)  # type: ignore[arg-type]
        for row in rows:
            raw_reference = row.get("reference")
            source = SourceRow(file=AGREEMENT_FILE, line=row.line, reference=raw_reference, status="agreement")
            self.plan.sources.append(source)
            if not raw_reference:
                self.plan.reject(source, "reference", "reference is empty")
                continue
            content = tuple(sorted((k, v) for k, v in row.values.items() if k != "entry-date"))
            if identical.get(raw_reference) == content:
                self.plan.warn(source, "reference", "identical to an earlier row: merged with it")
                continue
            identical.setdefault(raw_reference, content)
            try:
                signed_on = parse_date(row.get("start-date"))
            except ValueError as error:
                self.plan.reject(source, "start-date", f"start-date {error}")
                continue
            superseded_on = self.superseded(row, signed_on, source, replaced)
            if superseded_on:
                self.plan.reject(source, "end-date", f"superseded on {superseded_on.isoformat()}: line "
                                 f"{replaced[row.line]} replaces it", kind="superseded")
                continue
            reference = self.unique(raw_reference, seen, source)
            agreement_type = normalise_type(row.get("developer-agreement-type")) if row.get("developer-agreement-type") else None
            if agreement_type is None:
                self.plan.warn(source, "developer-agreement-type",
                               f"type {row.get('developer-agreement-type')!r} not recognised: taken as section-106")
            plan = AgreementPlan(
                reference=reference, type=agreement_type or AgreementType.SECTION_106.value,
                authority_code=self.authority(row), signed_on=signed_on,
                planning_application=row.get("planning-application") or None, site_name=row.get("name") or None,
                document_url=row.get("document-url") or None, notes=row.get("notes") or None,
                # An end-date no row explains is kept as the date the agreement ended (warned above).
                superseded_on=end if (end := _end_date(row)) and end > signed_on else None, needs_review=agreement_type is None, source=source,
            )
            self.plan.agreements.append(plan)
            self.agreement_refs.setdefault(raw_reference, plan)
            if plan.planning_application:
                self.by_application.setdefault(plan.planning_application, []).append(plan)

    def placeholder_agreement(self, reference: str, *, signed_on: date, source: SourceRow) -> AgreementPlan:
        existing = self.agreement_refs.get(reference)
        if existing:
            return existing
        plan = AgreementPlan(
            reference=reference, type=AgreementType.SECTION_106.value,
            authority_code=self.organisation or next(iter(self.plan.authorities), "unknown-organisation"),
            signed_on=signed_on, notes=f"{PLACEHOLDER} named by {source.describe()} but not in {AGREEMENT_FILE}",
            needs_review=True,
        )
        self.plan.authorities.setdefault(plan.authority_code, plan.authority_code)
        self.plan.warn(source, "developer-agreement", f"agreement {reference!r} is not in {AGREEMENT_FILE}: "
                       "kept against a placeholder agreement flagged needs-review")
        self.plan.agreements.append(plan)
        self.agreement_refs[reference] = plan
        return plan

    # -- developer-agreement-contribution.csv ----------------------------------------------------
    def contributions(self, rows: Iterator[Row]) -> None:
        seen: Counter[str] = Counter()
        rows = list(rows)  # type: ignore[assignment]  # read twice: once for the rows that replace others
        replaced = replacements(rows)  # type: ignore[arg-type]
        for row in rows:
            raw_reference = row.get("reference")
            amount, amount_error = _amount(row)
            source = SourceRow(file=CONTRIBUTION_FILE, line=row.line, reference=raw_reference, status=SECURED,
                               amount=amount)
            self.plan.sources.append(source)
            if not raw_reference:
                self.plan.reject(source, "reference", "reference is empty")
                continue
            amount_words = row.get("amount") if amount_error and amount_in_words(row.get("amount")) else None
            if amount_words:
                self.plan.warn(source, "amount", f"amount {amount_words!r} is words, not a number: the obligation is "
                               "kept with no amount and the words in its trigger", kind="amount-in-words")
            elif amount_error:
                self.plan.reject(source, "amount", amount_error)
                continue
            start = None
            if row.get("start-date"):
                try:
                    start = parse_date(row.get("start-date"))
                except ValueError as error:
                    self.plan.warn(source, "start-date", f"start-date {error}: ignored")
            superseded = self.superseded(row, start, source, replaced)
            if superseded:
                self.plan.reject(source, "end-date", f"superseded on {superseded.isoformat()}: line "
                                 f"{replaced[row.line]} replaces it", kind="superseded")
                continue
            if amount is not None and amount < 0:
                self.plan.warn(source, "amount", f"negative amount {amount} read as {abs(amount)}", kind="negative-amount")
                amount = abs(amount)
            units = None
            if row.get("units"):
                try:
                    units = parse_units(row.get("units"))
                except ValueError as error:
                    self.plan.warn(source, "units", f"units {error}: ignored")
            purpose, known = normalise_purpose(row.get("contribution-purpose"))
            if not known:
                self.plan.warn(source, "contribution-purpose",
                               f"purpose {row.get('contribution-purpose')!r} is not a government code: kept as other, "
                               "flagged needs-review")
            agreement_reference = row.get("developer-agreement")
            agreement = (self.agreement_refs.get(agreement_reference)
                         or self.agreement_named_otherwise(agreement_reference, raw_reference, source)
                         or self.placeholder_agreement(agreement_reference or f"{raw_reference} (agreement)",
                                                       signed_on=start or date(2000, 1, 1), source=source))
            reference = self.unique(raw_reference, seen, source)
            unit_kind = _unit_kind(purpose) if units else None
            plan = ObligationPlan(
                reference=reference, agreement_reference=agreement.reference, purpose=purpose,
                service=PURPOSE_SERVICE.get(Purpose(purpose), purpose), amount=amount, units=units,
                unit_kind=unit_kind, needs_review=not known,
                trigger=_with_amount_words(row.get("notes") or (None if known else f"published purpose: {row.get('contribution-purpose')}"),
                                           amount_words),
                source=source,
            )
            self.plan.obligations.append(plan)
            self.planned_references.add(plan.reference)
            self.obligation_refs.setdefault(raw_reference, plan)

    def agreement_named_otherwise(self, named: str, contribution: str, source: SourceRow) -> AgreementPlan | None:
        """The agreement a contribution means when the agreement it names is not in the file,
        if the file says which beyond doubt: an agreement with the contribution's own reference
        (North Tyneside's CIL rows: contribution and agreement `19/00425/FUL/0001`, naming
        `19/00425/FUL`), else the one agreement whose reference differs only in capitals
        (`17/01162/s106`), else the one agreement for the planning application it names, or
        that the contribution's reference names (Wiltshire's s106 rows: `16/10513/S106`). Without
        this the money would sit on a section 106 placeholder, CIL counted as s106."""
        agreement = self.agreement_refs.get(contribution)
        how = "has the contribution's own reference"
        if agreement is None:
            same_letters = [plan for reference, plan in self.agreement_refs.items() if reference.casefold() == named.casefold()]
            if len(same_letters) == 1:
                agreement, how = same_letters[0], "differs from it only in capitals"
        for application in (named, contribution):  # Wiltshire names the application as the contribution
            candidates = self.by_application.get(application, [])
            if agreement is None and len(candidates) == 1:
                agreement, how = candidates[0], f"is the only agreement for planning application {application!r}"
        if agreement is None:
            return None
        self.plan.warn(source, "developer-agreement",
                       f"agreement {named!r} is not in {AGREEMENT_FILE}: taken as {agreement.reference!r}, which {how}")
        return agreement

    def placeholder_obligation(self, reference: str, *, on: date, source: SourceRow) -> ObligationPlan:
        existing = self.obligation_refs.get(reference)
        if existing:
            return existing
        agreement = self.agreement_refs.get(reference) or self.placeholder_agreement(
            reference, signed_on=on, source=source)
        plan = ObligationPlan(
            reference=reference if reference not in self.planned_references else f"{reference} (placeholder)",
            agreement_reference=agreement.reference, purpose=Purpose.OTHER.value, service="other",
            needs_review=True, trigger=f"{PLACEHOLDER} named by {source.describe()} but not in {CONTRIBUTION_FILE}",
        )
        self.plan.warn(source, "developer-agreement-contribution",
                       f"contribution {reference!r} is not in {CONTRIBUTION_FILE}: kept against a placeholder "
                       "obligation flagged needs-review")
        self.plan.obligations.append(plan)
        self.planned_references.add(plan.reference)
        self.obligation_refs[reference] = plan
        return plan

    def signed_on(self, obligation: ObligationPlan) -> date:
        """The day the agreement of this obligation was entered into."""
        return next(a.signed_on for a in self.plan.agreements if a.reference == obligation.agreement_reference)

    def units_only(self, row: Row, obligation: ObligationPlan, source: SourceRow) -> None:
        """A row with units and no money (North Tyneside's affordable homes `Received`, 37
        units): the ledger records money, and units on the contribution, so the units go on
        the contribution when it has none and are otherwise named in a warning; either way
        the row is kept, never refused for the money it does not carry."""
        try:
            units = parse_units(row.get("units"))
        except ValueError as error:
            self.plan.reject(source, "units", f"no amount, and units {error}", kind="no-amount")
            return
        if obligation.units is None and obligation.source is not None:
            obligation.units, obligation.unit_kind = units, _unit_kind(obligation.purpose)
            self.plan.warn(source, "units", f"no money, {units} units: kept as the units of contribution "
                           f"{obligation.reference!r}, which gives none", kind="units-only")
            return
        held = f"its {obligation.units} units" if obligation.units is not None else "no units (a placeholder)"
        self.plan.warn(source, "units", f"no money, {units} units {source.status}: contribution "
                       f"{obligation.reference!r} keeps {held}; the ledger records no units per "
                       "transaction", kind="units-only")

    # -- developer-agreement-transaction.csv -----------------------------------------------------
    def transactions(self, rows: Iterator[Row]) -> None:
        seen: dict[str, Counter[str]] = defaultdict(Counter)
        rows = list(rows)  # type: ignore[assignment]  # read twice: once for the rows that replace others
        # A transaction is replaced by a row of its reference under any status (Tonbridge and
        # Malling end-dates a receipt and publishes it again as secured).
        replaced = replacements(rows)  # type: ignore[arg-type]
        for row in rows:
            raw_reference = row.get("reference")
            status = normalise_status(row.get("contribution-funding-status"))
            amount, amount_error = _amount(row)
            source = SourceRow(file=TRANSACTION_FILE, line=row.line, reference=raw_reference, status=status or "(blank)",
                               amount=amount)
            self.plan.sources.append(source)
            if status not in KIND_OF_STATUS and status != SECURED:
                self.plan.reject(source, "contribution-funding-status",
                                 f"status {row.get('contribution-funding-status')!r} is not one of "
                                 f"{', '.join([*KIND_OF_STATUS, SECURED])}")
                continue
            if amount_error:
                self.plan.reject(source, "amount", amount_error)
                continue
            if amount is None and status != SECURED and not row.get("units"):
                self.plan.reject(source, "amount", "amount is empty", kind="no-amount")
                continue
            undated = False
            try:
                occurred_on = parse_date(row.get("start-date"))
            except PlaceholderDate as error:
                # Money received on a day nobody recorded: held all the same (SPEC 8.3).
                if not (self.opening_balances and KIND_OF_STATUS.get(status) is EntryKind.RECEIPT):
                    self.plan.reject(source, "start-date", f"start-date {error}")
                    continue
                undated, occurred_on = True, date.min  # dated below, once its agreement is known
            except ValueError as error:
                self.plan.reject(source, "start-date", f"start-date {error}")
                continue
            superseded = self.superseded(row, None if undated else occurred_on, source, replaced)
            if superseded:
                self.plan.reject(source, "end-date", f"superseded on {superseded.isoformat()}: line "
                                 f"{replaced[row.line]} replaces it", kind="superseded")
                continue
            if not raw_reference:
                self.plan.reject(source, "reference", "reference is empty")
                continue
            kind = KIND_OF_STATUS.get(status)
            if amount is not None and amount < 0:
                if status in KIND_OF_NEGATIVE_STATUS:
                    # A kind with no status of its own (allocated money handed back) is published
                    # as a negative amount of another kind's status, so that is how it is read back.
                    kind = KIND_OF_NEGATIVE_STATUS[status]
                    self.plan.warn(source, "amount", f"negative {status} amount {amount} read as a {kind}",
                                   kind="negative-amount")
                else:
                    self.plan.warn(source, "amount",
                                   f"negative amount {amount} read as {abs(amount)} (finance sign convention)",
                                   kind="negative-amount")
                amount = abs(amount)
            if not amount and not row.get("units"):
                self.plan.warn(source, "amount", "amount is zero: nothing to record", kind="zero-amount")
                known = self.obligation_refs.get(row.get("developer-agreement-contribution"))
                if known is not None:
                    self.plan.noted.append((source, known.reference))
                continue
            contribution = row.get("developer-agreement-contribution")
            obligation = self.obligation_refs.get(contribution) or self.placeholder_obligation(
                contribution or f"{raw_reference} (contribution)", on=occurred_on, source=source)
            if undated:
                occurred_on, kind = self.signed_on(obligation), EntryKind.OPENING_BALANCE
                self.plan.warn(source, "start-date",
                               f"start-date {row.get('start-date')!r} is a placeholder: the receipt is brought in as "
                               f"an opening balance dated {occurred_on.isoformat()}, when its agreement was entered "
                               "into, with no date of receipt (repayment date unknown, never a receipt of any "
                               "year's statement); flagged for review", kind="undated-receipt")
            if not amount:
                self.units_only(row, obligation, source)
                self.plan.noted.append((source, obligation.reference))
                continue
            reference = self.unique(raw_reference, seen[status], source)
            if status == SECURED:
                self.plan.dues.append(DuePlan(reference=reference, obligation_reference=obligation.reference,
                                              amount=amount, due_on=occurred_on, source=source))
                continue
            assert kind is not None
            self.plan.entries.append(EntryPlan(
                kind=kind, reference=reference, obligation_reference=obligation.reference, amount=amount,  # type: ignore[arg-type]
                occurred_on=occurred_on, source=source,
                recipient=UNKNOWN_RECIPIENT if KIND_RULES[kind].recipient else None,
            ))


def plan_gov_csv(directory: Path, *, organisation: str | None = None, opening_balances: bool = True) -> ImportPlan:
    """Read the three files in ``directory`` into an ImportPlan (no database). Files that
    start mid-history bring in opening balances where outflows exceed the receipts, unless
    ``opening_balances`` is false (SPEC 8.3)."""
    plan = GovCsvImport(directory, organisation=organisation, opening_balances=opening_balances).build()
    plan.opening_balances = opening_balances
    return plan
