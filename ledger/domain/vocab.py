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
    RECEIPT = "receipt"
    COMPLETION = "completion"


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
