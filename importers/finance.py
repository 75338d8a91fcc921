"""Read a finance-system export through a TOML mapping (issue 19, `s106 reconcile import`).

Finance systems differ, so the mapping names the columns, the sign convention (most write
income as a negative credit), which cost codes hold section 106 money and what each holds
(an obligation, a service or a project), and the matching tolerance. docs/examples/
finance-mapping.toml documents every key. The file is CSV, an Excel workbook or a zip of
either (importers.read.read_table), with title rows above the header allowed.

Every row is kept: rows on cost codes the mapping does not name are kept out of scope, and
a row that cannot be read goes to the rejects report with its line and reason. Re-importing
adds nothing: a row's key is its transaction id where the mapping names that column, and
otherwise its date, amount, cost code, reference and description with how many identical
rows came before it in the same file (two equal bank charges on one day are two rows).
"""

from __future__ import annotations

import hashlib
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from importers.plan import REJECTED, ImportIssue, SourceRow
from importers.read import (
    ImportRefused,
    excel_serial_date,
    header_key,
    parse_amount,
    parse_date,
    read_bytes,
    read_table,
)
from ledger.domain.money import ZERO
from ledger.domain.reconcile import Target, TargetKind

#: Fields a mapping's [columns] may name; date, cost_code and an amount (one column, or
#: debit and credit) are required.
FIELDS = ("date", "amount", "debit", "credit", "cost_code", "reference", "description", "transaction_id", "kind")
HEADER_SEARCH_ROWS = 20
TRANSACTION, BALANCE = "transaction", "balance"
#: Largest of the mapping's numbers: a bigger tolerance or remittance would make matching guess.
MAX_TOLERANCE_DAYS, MAX_REMITTANCE_PARTS = 90, 6
TEXT_LIMIT = 255


@dataclass(frozen=True, slots=True, kw_only=True)
class FinanceMapping:
    name: str
    sheet: str | None
    columns: dict[str, str]
    #: True where the file writes money in (income, a credit) as a negative number.
    income_negative: bool
    cost_codes: dict[str, Target]
    balance_kinds: frozenset[str]
    tolerance_days: int = 7
    remittance_parts: int = 4


@dataclass(frozen=True, slots=True, kw_only=True)
class FinanceRow:
    key: str
    line: int
    posted_on: date
    #: Money into the section 106 pot: the file's amount with the mapping's sign convention applied.
    amount: Decimal
    cost_code: str
    reference: str | None
    description: str | None
    transaction_id: str | None
    in_scope: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class BalanceRow:
    """A closing balance the export states: an assertion that the cost code held ``amount``."""

    line: int
    cost_code: str
    held_on: date
    amount: Decimal


@dataclass(kw_only=True)
class FinancePlan:
    source: str
    mapping: FinanceMapping
    rows: list[FinanceRow] = field(default_factory=list)
    balances: list[BalanceRow] = field(default_factory=list)
    issues: list[ImportIssue] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def reject(self, line: int, reference: str, amount: Decimal | None, field_name: str, reason: str,
               status: str = TRANSACTION) -> None:
        self.issues.append(ImportIssue(
            source=SourceRow(file=self.source, line=line, reference=reference, status=status, amount=amount),
            field=field_name, reason=reason, severity=REJECTED))


def load_mapping(path: Path) -> FinanceMapping:
    """Read and check a finance mapping; a bad one refuses the import with one line."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ImportRefused(f"{path.name}: not a readable TOML mapping ({error})") from None
    finance, columns = data.get("finance", {}), data.get("columns", {})
    unknown = sorted(set(columns) - set(FIELDS))
    if unknown:
        raise ImportRefused(f"{path.name}: unknown field(s) in [columns]: {', '.join(unknown)}")
    missing = [f for f in ("date", "cost_code") if f not in columns]
    if "amount" not in columns and not {"debit", "credit"} <= set(columns):
        missing.append("amount (or debit and credit)")
    if missing:
        raise ImportRefused(f"{path.name}: [columns] must name {', '.join(missing)}")
    sign = finance.get("income_sign")
    if sign not in ("negative", "positive"):
        raise ImportRefused(f"{path.name}: [finance] income_sign must be \"negative\" (income written as a "
                            "negative credit) or \"positive\"")
    tolerance, parts = finance.get("tolerance_days", 7), finance.get("remittance_parts", 4)
    if not (isinstance(tolerance, int) and 0 <= tolerance <= MAX_TOLERANCE_DAYS):
        raise ImportRefused(f"{path.name}: [finance] tolerance_days must be a whole number from 0 to {MAX_TOLERANCE_DAYS}")
    if not (isinstance(parts, int) and 1 <= parts <= MAX_REMITTANCE_PARTS):
        raise ImportRefused(f"{path.name}: [finance] remittance_parts must be a whole number from 1 to "
                            f"{MAX_REMITTANCE_PARTS}")
    codes: dict[str, Target] = {}
    for code, holds in data.get("cost_codes", {}).items():
        named = [(kind, holds[kind]) for kind in TargetKind if isinstance(holds, dict) and kind in holds]
        if len(named) != 1 or not isinstance(named[0][1], str) or len(holds) != 1:
            raise ImportRefused(f"{path.name}: [cost_codes] {code!r} must name one of obligation, service or "
                                "project, e.g. { service = \"education-primary\" }")
        codes[code.strip()] = Target(TargetKind(named[0][0]), named[0][1])
    if not codes:
        raise ImportRefused(f"{path.name}: [cost_codes] must name at least one cost code holding section 106 money")
    return FinanceMapping(
        name=path.name, sheet=finance.get("sheet"), columns=dict(columns), income_negative=sign == "negative",
        cost_codes=codes, balance_kinds=frozenset(header_key(v) for v in data.get("balances", {}).get("kinds", [])),
        tolerance_days=tolerance, remittance_parts=parts)


def plan_finance(path: Path, mapping_path: Path) -> FinancePlan:
    """Read a finance export with its mapping into rows to store, balances and rejections.
    Refuses the whole file (ImportRefused) only when it cannot be read as a table at all."""
    mapping = load_mapping(mapping_path)
    if not path.is_file():
        raise ImportRefused(f"{path}: no such file")
    tables = list(read_table(read_bytes(path), path.name))
    chosen = next((t for t in tables if mapping.sheet is None or t.name.endswith(f"sheet {mapping.sheet!r}")), None)
    if chosen is None:
        raise ImportRefused(f"{path.name}: no sheet named {mapping.sheet!r}")
    plan = FinancePlan(source=path.name, mapping=mapping)
    if chosen.how:
        plan.notes.append(f"{chosen.name}: {chosen.how}")
    wanted = {field_name: header_key(heading) for field_name, heading in mapping.columns.items()}
    for line, headers in chosen.rows:
        if line > HEADER_SEARCH_ROWS:
            break
        keys = [header_key(h) for h in headers]
        if set(wanted.values()) <= set(keys):
            positions = {field_name: keys.index(key) for field_name, key in wanted.items()}
            _read_rows(plan, positions, chosen.rows)
            return plan
    raise ImportRefused(f"{chosen.name}: no header row holding the mapped columns "
                        f"({', '.join(mapping.columns.values())}) in its first {HEADER_SEARCH_ROWS} rows")


def _read_rows(plan: FinancePlan, positions: dict[str, int], rows: Any) -> None:
    mapping = plan.mapping
    seen: Counter[str] = Counter()
    for line, cells in rows:
        if not "".join(cells).strip():
            continue
        values = {f: (cells[i].strip() if i < len(cells) else "") for f, i in positions.items()}
        reference = values.get("reference") or ""
        written = _amount(plan, line, reference, values)
        if written is None:
            continue
        into_pot = -written if mapping.income_negative else written
        posted_on = _date(plan, line, reference, written, values["date"])
        if posted_on is None:
            continue
        code = values["cost_code"]
        if not code:
            plan.reject(line, reference, written, "cost_code", "is empty: every row needs a cost code")
            continue
        too_long = next((f for f in ("cost_code", "reference", "transaction_id") if len(values.get(f, "")) > TEXT_LIMIT
                         or (f == "cost_code" and len(code) > 64)), None)
        if too_long:
            plan.reject(line, reference[:40], written, too_long, "is longer than the ledger keeps")
            continue
        if mapping.balance_kinds and header_key(values.get("kind", "")) in mapping.balance_kinds:
            if code not in mapping.cost_codes:
                plan.reject(line, reference, written, "cost_code",
                            f"a balance for {code!r}, which the mapping does not name as holding section 106 money",
                            status=BALANCE)
            else:
                plan.balances.append(BalanceRow(line=line, cost_code=code, held_on=posted_on, amount=into_pot))
            continue
        if into_pot == ZERO:
            plan.reject(line, reference, written, "amount", "is zero: no money moved")
            continue
        transaction_id = values.get("transaction_id") or None
        if transaction_id:
            key_text = f"id|{transaction_id}"
        else:
            content = "|".join((posted_on.isoformat(), f"{into_pot:.2f}", code, reference, values.get("description", "")))
            seen[content] += 1
            key_text = f"row|{content}|{seen[content]}"
        plan.rows.append(FinanceRow(
            key=hashlib.sha256(key_text.encode()).hexdigest(), line=line, posted_on=posted_on, amount=into_pot,
            cost_code=code, reference=reference or None, description=values.get("description") or None,
            transaction_id=transaction_id, in_scope=code in mapping.cost_codes))


def _amount(plan: FinancePlan, line: int, reference: str, values: dict[str, str]) -> Decimal | None:
    """The amount as the file writes it (debit less credit where the file splits them)."""
    try:
        if "amount" in values:
            return parse_amount(values["amount"])
        debit = parse_amount(values["debit"]) if values["debit"] else ZERO
        credit = parse_amount(values["credit"]) if values["credit"] else ZERO
        return debit - credit
    except ValueError as error:
        column = "amount" if "amount" in values else "debit or credit"
        plan.reject(line, reference, None, column, str(error))
        return None


def _date(plan: FinancePlan, line: int, reference: str, amount: Decimal, text: str) -> date | None:
    try:
        return parse_date(text)
    except ValueError as error:
        serial = excel_serial_date(text)
        if serial is not None:
            return serial
        plan.reject(line, reference, amount, "date", str(error))
        return None
