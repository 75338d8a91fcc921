"""What every page's frame needs: which section of the navigation a page belongs to (its
link carries aria-current="page"), and the words people read for the ledger's codes."""

from __future__ import annotations

from ledger.domain.vocab import AgreementType, Index, Purpose, Role

#: Sections of the main navigation by the paths that belong to them, longest first where
#: one is inside another. A page of a record belongs to its list's section (an obligation
#: and its forms to Agreements), so pages added later find their section by their path.
NAV_SECTIONS: tuple[tuple[str, str], ...] = (
    ("/dashboard", "dashboard"),
    ("/agreements", "agreements"),
    ("/obligations", "agreements"),
    ("/entries", "agreements"),
    ("/projects", "projects"),
    ("/at-risk", "at-risk"),
    ("/divisions", "divisions"),
    ("/income-due", "income-due"),
    ("/invoices", "income-due"),
    ("/index-values", "indices"),
    ("/reports", "reports"),
    ("/imports", "imports"),
    ("/reconciliation", "reconciliation"),
    ("/audit", "audit"),
    ("/admin/users", "users"),
    ("/admin/tokens", "tokens"),
    ("/account", "account"),
)


def nav_section(path: str, *, my_division: str | None = None) -> str | None:
    """The navigation section of the page at ``path``, or None for a page in none (sign-in,
    the accessibility statement). A councillor's own division is "my-division", not
    "divisions", so exactly one link is marked."""
    if my_division and path.rstrip("/") == f"/divisions/{my_division}":
        return "my-division"
    for prefix, section in NAV_SECTIONS:
        if path == prefix or path.startswith((prefix + "/", prefix + ".")):
            return section
    return None


ROLE_NAMES = {Role.ADMIN: "Admin", Role.OFFICER: "Officer", Role.MEMBER: "Councillor"}


def _words(code: str) -> str:
    """A government slug in words: ``open-space-and-leisure`` as "Open space and leisure"."""
    return code.replace("-", " ").capitalize()


PURPOSE_LABELS = {purpose.value: _words(purpose) for purpose in Purpose} | {
    "cil-administration-costs": "CIL administration costs",
    "community-infrastructure-levy": "Community Infrastructure Levy",
    "mayoral-community-infrastructure-levy": "Mayoral Community Infrastructure Levy",
    "neighbourhood-community-infrastructure-levy": "Neighbourhood Community Infrastructure Levy",
}
AGREEMENT_TYPE_LABELS = {
    AgreementType.SECTION_106: "Section 106 agreement",
    AgreementType.UNILATERAL_UNDERTAKING: "Unilateral undertaking",
    AgreementType.DEED_OF_VARIATION: "Deed of variation",
    AgreementType.SECTION_278: "Section 278 agreement",
    AgreementType.COMMUNITY_INFRASTRUCTURE_LEVY: "Community Infrastructure Levy",
}
INDEX_LABELS = {
    Index.NONE: "No index",
    Index.BCIS_TPI: "BCIS All-in Tender Price Index",
    Index.BCIS_GBCI: "BCIS General Building Cost Index",
    Index.ROADCON: "ROADCON road construction index",
    Index.RPI: "Retail Prices Index (RPI)",
    Index.CPI: "Consumer Prices Index (CPI)",
    Index.PUBSEC: "Public Sector Building Tender Price Index (PUBSEC)",
}
#: An entry's kind as a noun (the entry-kind rules' labels are the verbs of their forms).
KIND_NAMES = {"receipt": "Receipt", "allocation": "Allocation", "deallocation": "Taken back from a project",
              "spend": "Spend", "transfer": "Transfer", "repayment": "Repayment",
              "opening-balance": "Opening balance"}


#: What an instalment falls due on, as the income-due lists say it.
TRIGGER_NAMES = {"commencement": "Commencement", "date": "A date in the deed", "manual": "Recorded by an officer",
                 "secured (imported)": "Secured (imported)"}


def label(code: str | None, labels: dict[str, str]) -> str:
    """A code's words from ``labels``; a code added since, in words of its own."""
    if not code:
        return ""
    return labels.get(code) or _words(code)


def purpose_label(code: str | None) -> str:
    return label(code, PURPOSE_LABELS)


def agreement_type_label(code: str | None) -> str:
    return label(code, AGREEMENT_TYPE_LABELS)


def index_label(code: str | None) -> str:
    return label(code, INDEX_LABELS)  # type: ignore[arg-type]


def kind_name(code: str | None) -> str:
    return label(code, KIND_NAMES)


def trigger_name(trigger: str | None) -> str:
    return "" if not trigger else TRIGGER_NAMES.get(trigger) or trigger[:1].upper() + trigger[1:]
