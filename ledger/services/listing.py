"""The reads behind the lists the pages and the API show: each a named query, so the views
build no SQL. Collections filter through ``registry.Filters.conditions``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from ledger.domain.dates import financial_year_of
from ledger.models import (
    Agreement,
    Authority,
    Division,
    Entry,
    IndexValue,
    Instalment,
    Invoice,
    Obligation,
    Project,
)
from ledger.services import balances, overview
from ledger.services.registry import Filters, agreements_query, page, projects_query

#: Entries a project page lists (its count is of them all).
PROJECT_ENTRIES_SHOWN = 200


# -- agreements ----------------------------------------------------------------------------
def agreement_list(
    session: Session, filters: Filters, *, offset: int, limit: int, urgent_on: date | None = None,
    red_months: int = 12, amber_months: int = 24,
) -> tuple[list[Agreement], int]:
    """One page of the agreements matching ``filters``, newest first, and how many match.
    With ``urgent_on``, only agreements holding money overdue or due within the red or
    amber band on that day."""
    query = agreements_query(filters)
    if urgent_on is not None:
        urgent = {row.agreement_reference for row in balances.at_risk(
            session, as_of=urgent_on, filters=filters, red_months=red_months, amber_months=amber_months)
                  if row.band in overview.URGENT}
        query = query.where(Agreement.reference.in_(urgent))
    return page(session, query, offset=offset, limit=limit)


@dataclass(frozen=True, slots=True)
class AgreementChoices:
    """What the agreements page's filters offer."""

    authorities: list[Authority]
    divisions: list[Division]
    services: list[str]
    #: Financial years agreements were signed in, latest first.
    years: list[int]


def agreement_choices(session: Session) -> AgreementChoices:
    return AgreementChoices(
        authorities=list(session.scalars(select(Authority).order_by(Authority.name))),
        divisions=list(session.scalars(select(Division).order_by(Division.name))),
        services=sorted(session.scalars(select(Obligation.service).distinct())),
        years=sorted({financial_year_of(d) for d in session.scalars(select(Agreement.signed_on).distinct())},
                     reverse=True),
    )


def agreements(session: Session, filters: Filters) -> list[Agreement]:
    """Every agreement matching ``filters``, newest first."""
    return list(session.scalars(agreements_query(filters)))


def instalments_and_invoices(session: Session, agreement: Agreement) -> list[tuple[Instalment, Invoice | None]]:
    """The agreement's instalments in the order they were added, each with its invoice if issued."""
    rows = session.execute(
        select(Instalment, Invoice).outerjoin(Invoice, Invoice.instalment_id == Instalment.id)
        .where(Instalment.obligation_id.in_([o.id for o in agreement.obligations])).order_by(Instalment.id))
    return [(instalment, invoice) for instalment, invoice in rows]


def instalments_of(session: Session, obligation: Obligation) -> list[Instalment]:
    return list(session.scalars(
        select(Instalment).where(Instalment.obligation_id == obligation.id).order_by(Instalment.id)))


# -- entries -------------------------------------------------------------------------------
def entries_query(filters: Filters, *, kind: str | None = None, obligation: str | None = None,
                  project: str | None = None) -> Select[tuple[Entry]]:
    """Entries matching ``filters`` (on their obligation and its agreement), a kind, an
    obligation reference and a project reference, oldest first."""
    query = (select(Entry).join(Obligation, Entry.obligation_id == Obligation.id)
             .join(Agreement, Obligation.agreement_id == Agreement.id)
             .where(*filters.conditions(Obligation)).order_by(Entry.id))
    if kind:
        query = query.where(Entry.kind == kind)
    if obligation:
        query = query.where(Obligation.reference == obligation)
    if project:
        query = query.where(Entry.project_id.in_(select(Project.id).where(Project.reference == project)))
    return query


def obligation_entries(session: Session, obligation: Obligation) -> list[Entry]:
    """Every entry of the obligation, reversed ones included, by business date."""
    return list(session.scalars(
        select(Entry).where(Entry.obligation_id == obligation.id).order_by(Entry.occurred_on, Entry.id)))


def project_entries(session: Session, project: Project) -> tuple[list[Entry], int]:
    """The project's latest entries (at most PROJECT_ENTRIES_SHOWN) and how many it has."""
    of_project = Entry.project_id == project.id
    shown = session.scalars(
        select(Entry).where(of_project).order_by(Entry.occurred_on.desc()).limit(PROJECT_ENTRIES_SHOWN))
    return list(shown), session.scalar(select(func.count()).select_from(Entry).where(of_project)) or 0


def projects(session: Session, filters: Filters | None = None) -> list[Project]:
    """Every project matching ``filters``, by reference."""
    return list(session.scalars(projects_query(filters or Filters())))


# -- index values and invoices -------------------------------------------------------------
def index_values_query(*, index: str | None = None, newest_first: bool = False) -> Select[tuple[IndexValue]]:
    """Index values by series, then period and publication (oldest first, or newest)."""
    order: tuple[Any, ...] = (IndexValue.period, IndexValue.published_on)
    if newest_first:
        order = tuple(column.desc() for column in order)
    query = select(IndexValue).order_by(IndexValue.index, *order)
    return query.where(IndexValue.index == index) if index else query


def index_values(session: Session) -> list[IndexValue]:
    """Every index value, each series newest first."""
    return list(session.scalars(index_values_query(newest_first=True)))


def invoices_query() -> Select[tuple[Invoice]]:
    """Invoices, newest first."""
    return select(Invoice).order_by(Invoice.id.desc())
