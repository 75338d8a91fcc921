"""Vocabularies. Values are the government slugs (developer-contributions-collection) where
one exists, so the CSV format maps one-to-one; the rest are the council's own lists."""

from __future__ import annotations

from enum import StrEnum


class EntryKind(StrEnum):
    """What each kind does is its row in ledger.domain.entry_kinds.KINDS."""

    RECEIPT = "receipt"
    ALLOCATION = "allocation"
    DEALLOCATION = "deallocation"
    SPEND = "spend"
    TRANSFER = "transfer"
    REPAYMENT = "repayment"
    OPENING_BALANCE = "opening-balance"
    COMMITMENT = "commitment"
    DECOMMITMENT = "decommitment"


class AuthorityKind(StrEnum):
    COUNTY = "county"
    DISTRICT = "district"
    UNITARY = "unitary"
    NATIONAL_PARK = "national-park"


class AgreementType(StrEnum):
    SECTION_106 = "section-106"
    UNILATERAL_UNDERTAKING = "unilateral-undertaking"
    DEED_OF_VARIATION = "deed-of-variation"
    SECTION_278 = "section-278"
    COMMUNITY_INFRASTRUCTURE_LEVY = "community-infrastructure-levy"


class Purpose(StrEnum):
    """Government contribution-purpose codes (shared/data/codelists), retired ones included."""

    AFFORDABLE_HOUSING = "affordable-housing"
    BONDS = "bonds"
    CIL_ADMINISTRATION_COSTS = "cil-administration-costs"
    COMMUNITY_FACILITIES = "community-facilities"
    COMMUNITY_INFRASTRUCTURE_LEVY = "community-infrastructure-levy"
    DIGITAL_INFRASTRUCTURE = "digital-infrastructure"
    ECONOMIC_DEVELOPMENT = "economic-development"
    EDUCATION = "education"
    FLOOD = "flood"
    FLOOD_AND_WATER_MANAGEMENT = "flood-and-water-management"
    GREEN_INFRASTRUCTURE = "green-infrastructure"
    HEALTH = "health"
    HIGHWAYS = "highways"
    LAND = "land"
    MAYORAL_COMMUNITY_INFRASTRUCTURE_LEVY = "mayoral-community-infrastructure-levy"
    MONITORING_FEES = "monitoring-fees"
    NEIGHBOURHOOD_COMMUNITY_INFRASTRUCTURE_LEVY = "neighbourhood-community-infrastructure-levy"
    OPEN_SPACE = "open-space"
    OPEN_SPACE_AND_LEISURE = "open-space-and-leisure"
    OTHER = "other"
    TRANSPORT = "transport"
    TRANSPORT_AND_TRAVEL = "transport-and-travel"


#: The council's own service list (SPEC §2); extendable, so services are validated as slugs.
SERVICES = (
    "education-primary",
    "education-secondary",
    "send",
    "libraries",
    "community-learning",
    "youth",
    "adult-social-care",
    "highways",
    "public-rights-of-way",
    "waste",
    "monitoring",
    "other",
)

#: Each service's name as a council writes it, for reports and pages people read.
SERVICE_LABELS = {
    "education-primary": "Primary education",
    "education-secondary": "Secondary education",
    "send": "Special educational needs and disabilities",
    "libraries": "Libraries",
    "community-learning": "Community learning",
    "youth": "Youth services",
    "adult-social-care": "Adult social care",
    "highways": "Highways",
    "public-rights-of-way": "Public rights of way",
    "waste": "Waste",
    "monitoring": "Monitoring",
    "other": "Other",
}


def service_label(service: str | None) -> str:
    """A service's name; a service added since (SERVICES is extendable) as its slug in words."""
    if not service:
        return "(none recorded)"
    return SERVICE_LABELS.get(service) or service.replace("-", " ").capitalize()


#: Purpose code each service is published under (DOMAIN.md §2.4: no codes for libraries,
#: social care, waste, youth, SEND or rights of way; counties map them as Norfolk does).
SERVICE_PURPOSE = {
    "education-primary": Purpose.EDUCATION,
    "education-secondary": Purpose.EDUCATION,
    "send": Purpose.EDUCATION,
    "libraries": Purpose.COMMUNITY_FACILITIES,
    "community-learning": Purpose.COMMUNITY_FACILITIES,
    "youth": Purpose.COMMUNITY_FACILITIES,
    "adult-social-care": Purpose.COMMUNITY_FACILITIES,
    "highways": Purpose.HIGHWAYS,
    "public-rights-of-way": Purpose.GREEN_INFRASTRUCTURE,
    "waste": Purpose.OTHER,
    "monitoring": Purpose.MONITORING_FEES,
    "other": Purpose.OTHER,
}


class UnitKind(StrEnum):
    AFFORDABLE_HOUSING_UNITS = "affordable-housing-units"
    SCHOOL_PLACES = "school-places"
    OTHER = "other"


class SchoolCategory(StrEnum):
    PRIMARY = "primary"
    SECONDARY = "secondary"
    SEND = "send"
    POST_16 = "post-16"
    EARLY_YEARS = "early-years"


class Index(StrEnum):
    NONE = "none"
    BCIS_TPI = "bcis-tpi"
    BCIS_GBCI = "bcis-gbci"
    ROADCON = "roadcon"
    RPI = "rpi"
    CPI = "cpi"
    PUBSEC = "pubsec"


class RepaymentBasis(StrEnum):
    """What a repayment deadline counts from (SPEC 8.2)."""

    RECEIPT = "receipt"  # years from each receipt
    COMPLETION = "completion"  # years from the development's completion
    LAST_PAYMENT = "last-payment"  # years from the obligation's last receipt
    NONE = "none"  # no time limit: CIL, and deeds without a repayment clause
    UNKNOWN = "unknown"  # terms not yet read from the deed


#: Bases that take a number of years; the others take none.
BASES_WITH_YEARS = frozenset({RepaymentBasis.RECEIPT, RepaymentBasis.COMPLETION, RepaymentBasis.LAST_PAYMENT})


class AgreementClass(StrEnum):
    """Which report of the Infrastructure Funding Statement an agreement's money belongs in
    (SPEC 8.1): planning obligations (Schedule 2 paragraph 3), CIL (paragraph 1) or highway
    agreements under section 278 (paragraph 4)."""

    S106 = "s106"
    CIL = "cil"
    S278 = "s278"


AGREEMENT_CLASS = {
    AgreementType.SECTION_106: AgreementClass.S106,
    AgreementType.UNILATERAL_UNDERTAKING: AgreementClass.S106,
    AgreementType.DEED_OF_VARIATION: AgreementClass.S106,
    AgreementType.COMMUNITY_INFRASTRUCTURE_LEVY: AgreementClass.CIL,
    AgreementType.SECTION_278: AgreementClass.S278,
}
#: Agreement types whose obligations are planning obligations (the s106 figures).
PLANNING_OBLIGATION_TYPES = frozenset(t.value for t, c in AGREEMENT_CLASS.items() if c is AgreementClass.S106)


class Role(StrEnum):
    ADMIN = "admin"
    OFFICER = "officer"
    MEMBER = "member"


class Band(StrEnum):
    """At-risk bands (SPEC rule 9), most urgent first."""

    OVERDUE = "overdue"
    RED = "red"
    AMBER = "amber"
    GREEN = "green"
    UNKNOWN_DEADLINE = "unknown-deadline"
    NO_DEADLINE = "no-deadline"


#: Each band as people read it, on pages and in workbooks: the code stays ``overdue`` (API,
#: CSV), the words say "past repayment date", not "overdue": the clause may need a request
#: from the developer before money is repaid, or a variation may have extended it.
BAND_LABELS = {
    Band.OVERDUE: "Past repayment date",
    Band.RED: "Due within 12 months",
    Band.AMBER: "Due within 24 months",
    Band.GREEN: "Later",
    Band.UNKNOWN_DEADLINE: "Repayment date not yet known",
    Band.NO_DEADLINE: "No repayment date",
}
