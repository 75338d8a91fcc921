"""Authorities, divisions, agreements, obligations and projects."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest.pagination import PaginationParameters

from ledger.api import schemas
from ledger.api.common import Blueprint, actor, filters, paged
from ledger.extensions import get_session
from ledger.models import Agreement, Authority, Division, Obligation, Project
from ledger.services import registry, variations

PREFIX = "/api/v1"

authorities = Blueprint("authorities", __name__, url_prefix=f"{PREFIX}/authorities", description="Planning authorities")
divisions = Blueprint("divisions", __name__, url_prefix=f"{PREFIX}/divisions", description="County electoral divisions")
agreements = Blueprint("agreements", __name__, url_prefix=f"{PREFIX}/agreements", description="Signed planning obligation deeds")
obligations = Blueprint("obligations", __name__, url_prefix=f"{PREFIX}/obligations", description="Obligations (contributions) of agreements")
projects = Blueprint("projects", __name__, url_prefix=f"{PREFIX}/projects", description="Infrastructure projects money is allocated to")

BLUEPRINTS = (authorities, divisions, agreements, obligations, projects)


@authorities.route("")
class Authorities(MethodView):
    @authorities.arguments(schemas.Filters, location="query")
    @authorities.response(200, schemas.Authority(many=True))
    @authorities.paginate()
    def get(self, args: dict[str, Any], pagination_parameters: PaginationParameters) -> list[Authority]:
        """List planning authorities"""
        return paged(registry.authorities_query(filters(args)), pagination_parameters)

    @authorities.arguments(schemas.Authority)
    @authorities.response(201, schemas.Authority)
    def post(self, data: dict[str, Any]) -> Authority:
        """Add a planning authority"""
        return registry.create_authority(get_session(), data, actor=actor())


@authorities.route("/<path:code>")
class AuthorityByCode(MethodView):
    @authorities.response(200, schemas.Authority)
    def get(self, code: str) -> Authority:
        """One planning authority"""
        return registry.get_one(get_session(), Authority, "code", code, what="authority")

    @authorities.arguments(schemas.AuthorityTerms)
    @authorities.response(200, schemas.Authority)
    def patch(self, data: dict[str, Any], code: str) -> Authority:
        """Set the repayment terms the authority's new obligations take when given none, with a reason"""
        return registry.set_authority_terms(get_session(), code, basis=data["default_repayment_basis"],
                                            years=data["default_repayment_years"], actor=actor(),
                                            reason=data["reason"])


@divisions.route("")
class Divisions(MethodView):
    @divisions.arguments(schemas.Filters, location="query")
    @divisions.response(200, schemas.Division(many=True))
    @divisions.paginate()
    def get(self, args: dict[str, Any], pagination_parameters: PaginationParameters) -> list[Division]:
        """List electoral divisions"""
        return paged(registry.divisions_query(filters(args)), pagination_parameters)

    @divisions.arguments(schemas.Division)
    @divisions.response(201, schemas.Division)
    def post(self, data: dict[str, Any]) -> Division:
        """Add an electoral division"""
        return registry.create_division(get_session(), data, actor=actor())


@divisions.route("/<code>")
class DivisionByCode(MethodView):
    @divisions.response(200, schemas.Division)
    def get(self, code: str) -> Division:
        """One electoral division"""
        return registry.get_one(get_session(), Division, "code", code, what="division")


@agreements.route("")
class Agreements(MethodView):
    @agreements.arguments(schemas.Filters, location="query")
    @agreements.response(200, schemas.Agreement(many=True))
    @agreements.paginate()
    def get(self, args: dict[str, Any], pagination_parameters: PaginationParameters) -> list[Agreement]:
        """List agreements, newest signed first"""
        return paged(registry.agreements_query(filters(args)), pagination_parameters)

    @agreements.arguments(schemas.Agreement)
    @agreements.response(201, schemas.Agreement)
    def post(self, data: dict[str, Any]) -> Agreement:
        """Record a signed agreement"""
        return registry.create_agreement(get_session(), data, actor=actor())


@agreements.route("/<path:reference>/obligations")
class AgreementObligations(MethodView):
    @agreements.arguments(schemas.Filters, location="query")
    @agreements.response(200, schemas.Obligation(many=True))
    @agreements.paginate()
    def get(self, args: dict[str, Any], reference: str, pagination_parameters: PaginationParameters) -> list[Obligation]:
        """List an agreement's obligations"""
        registry.get_one(get_session(), Agreement, "reference", reference, what="agreement")
        return paged(registry.obligations_query(filters(args), agreement_reference=reference), pagination_parameters)

    @agreements.arguments(schemas.Obligation)
    @agreements.response(201, schemas.Obligation)
    def post(self, data: dict[str, Any], reference: str) -> Obligation:
        """Add an obligation to an agreement"""
        return registry.create_obligation(get_session(), reference, data, actor=actor())


@agreements.route("/<path:reference>")
class AgreementByReference(MethodView):
    @agreements.response(200, schemas.Agreement)
    def get(self, reference: str) -> Agreement:
        """One agreement (references may contain '/', percent-encoded or not)"""
        return registry.get_one(get_session(), Agreement, "reference", reference, what="agreement")

    @agreements.arguments(schemas.AgreementChanges)
    @agreements.response(200, schemas.Agreement)
    def patch(self, data: dict[str, Any], reference: str) -> Agreement:
        """Correct or complete an agreement's details (milestones, supersession), with a reason"""
        reason = data.pop("reason")
        return registry.update_agreement(get_session(), reference, data, actor=actor(), reason=reason)


@obligations.route("")
class Obligations(MethodView):
    @obligations.arguments(schemas.Filters, location="query")
    @obligations.response(200, schemas.Obligation(many=True))
    @obligations.paginate()
    def get(self, args: dict[str, Any], pagination_parameters: PaginationParameters) -> list[Obligation]:
        """List obligations"""
        return paged(registry.obligations_query(filters(args)), pagination_parameters)


@obligations.route("/<path:reference>")
class ObligationByReference(MethodView):
    @obligations.response(200, schemas.Obligation)
    def get(self, reference: str) -> Obligation:
        """One obligation"""
        return registry.get_one(get_session(), Obligation, "reference", reference, what="obligation")

    @obligations.arguments(schemas.ObligationChanges)
    @obligations.response(200, schemas.Obligation)
    def patch(self, data: dict[str, Any], reference: str) -> Obligation:
        """Correct an obligation's purpose, service, trigger or repayment terms as read from the deed, with a reason"""
        reason = data.pop("reason")
        return registry.update_obligation(get_session(), reference, data, actor=actor(), reason=reason)


@projects.route("")
class Projects(MethodView):
    @projects.arguments(schemas.Filters, location="query")
    @projects.response(200, schemas.Project(many=True))
    @projects.paginate()
    def get(self, args: dict[str, Any], pagination_parameters: PaginationParameters) -> list[Project]:
        """List projects"""
        return paged(registry.projects_query(filters(args)), pagination_parameters)

    @projects.arguments(schemas.Project)
    @projects.response(201, schemas.Project)
    def post(self, data: dict[str, Any]) -> Project:
        """Add a project"""
        return registry.create_project(get_session(), data, actor=actor())


@projects.route("/<path:reference>")
class ProjectByReference(MethodView):
    @projects.response(200, schemas.Project)
    def get(self, reference: str) -> Project:
        """One project"""
        return registry.get_one(get_session(), Project, "reference", reference, what="project")

    @projects.arguments(schemas.ProjectChanges)
    @projects.response(200, schemas.Project)
    def patch(self, data: dict[str, Any], reference: str) -> Project:
        """Correct a project's name, service, division or whether it repays borrowing, with a reason"""
        reason = data.pop("reason")
        return registry.update_project(get_session(), reference, data, actor=actor(), reason=reason)


@obligations.route("/<path:reference>/terms")
class ObligationTerms(MethodView):
    @obligations.response(200, schemas.TermsOut(many=True))
    def get(self, reference: str) -> list[variations.TermsRecord]:
        """An obligation's repayment terms: its deed's own, then each change from a date"""
        return variations.terms_records(get_session(), reference)

    @obligations.arguments(schemas.TermsIn)
    @obligations.response(201, schemas.TermsOut)
    def post(self, data: dict[str, Any], reference: str) -> variations.TermsRecord:
        """Change an obligation's repayment terms from a date (a deed of variation), with a reason"""
        row = variations.change_terms(get_session(), reference, basis=data["repayment_basis"],
                                      years=data["repayment_years"], in_force_from=data["in_force_from"],
                                      variation=data["variation"], reason=data["reason"], actor=actor())
        return variations.record_of(row)


@agreements.route("/<path:reference>/variation-terms")
class VariationTerms(MethodView):
    @agreements.arguments(schemas.VariationTermsIn)
    @agreements.response(201, schemas.TermsOut(many=True))
    def post(self, data: dict[str, Any], reference: str) -> list[variations.TermsRecord]:
        """Record a deed of variation's new repayment terms for the agreement it varies, from the deed's date"""
        rows = variations.vary_terms(get_session(), reference, basis=data["repayment_basis"],
                                     years=data["repayment_years"], obligations=data["obligations"],
                                     reason=data["reason"], actor=actor())
        return [variations.record_of(row) for row in rows]
