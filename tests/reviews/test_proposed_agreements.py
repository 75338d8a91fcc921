"""Proposed agreements (SPEC 8.7) on SQLite and PostgreSQL: recorded without a signing date,
with the obligations the council asks for; refusing every entry with a 422 naming the
obligation; counting in no statement figure (nor, as known before it was signed, once it is);
signed by a PATCH that keeps the reason in the agreement's history."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from flask import Flask
from freezegun import freeze_time
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from ledger.models import AgreementHistory, AuditEvent, Entry
from ledger.services.ifs import ifs_report
from reports.ifs_workbook import build_ifs_workbook

PROPOSED = {"reference": "24/00009/OUT", "type": "section-106", "authority_code": "E07000105",
            "division_code": "ashford-central", "status": "proposed", "site_name": "Land at Station Road"}
OBLIGATION = {"reference": "24/00009/OUT/1", "purpose": "highways", "service": "highways", "amount": "250000.00",
              "repayment_years": 10, "repayment_basis": "receipt"}
RECEIPT = {"kind": "receipt", "obligation_reference": "24/00009/OUT/1", "amount": "1000.00",
           "occurred_on": "2024-06-03", "reason": "developer paid early"}


def _propose(app: Flask, officer: dict[str, str]) -> None:
    client = app.test_client()
    created = client.post("/api/v1/agreements", json=PROPOSED, headers=officer)
    assert created.status_code == 201, created.json
    assert (created.json["status"], created.json["signed_on"]) == ("proposed", None)
    assert client.post("/api/v1/agreements/24%2F00009%2FOUT/obligations", json=OBLIGATION,
                       headers=officer).status_code == 201


@freeze_time("2024-06-05 10:00:00")
def test_a_proposed_agreement_takes_obligations_but_no_entry(world: Flask, tokens: dict) -> None:
    _propose(world, tokens["officer"])
    client = world.test_client()
    for kind in ("receipt", "opening-balance"):
        refused = client.post("/api/v1/entries", json=RECEIPT | {"kind": kind}, headers=tokens["officer"])
        assert refused.status_code == 422, refused.json
        assert refused.mimetype == "application/problem+json"
        [error] = refused.json["errors"]
        assert error["field"].endswith("obligation_reference") and "proposed" in error["detail"]
    with world.extensions["ledger.sessions"]() as session:
        assert session.scalars(select(Entry.reference)).all() == ["R-1"]  # the world's receipt alone
    listed = client.get("/api/v1/agreements?division=ashford-central", headers=tokens["member"]).json
    assert {a["reference"]: a["status"] for a in listed} == {"20/00001/FUL": "signed", "24/00009/OUT": "proposed"}


@pytest.mark.parametrize(("body", "field"), [
    ({k: v for k, v in PROPOSED.items() if k != "status"}, "signed_on"),
    (PROPOSED | {"signed_on": "2024-06-01"}, "signed_on"),
    (PROPOSED | {"status": "agreed"}, "status"),
], ids=["signed-without-a-date", "proposed-with-a-date", "unknown-status"])
def test_status_and_signing_date_are_checked_together(world: Flask, tokens: dict, body: dict, field: str) -> None:
    refused = world.test_client().post("/api/v1/agreements", json=body, headers=tokens["officer"])
    assert refused.status_code == 422
    assert field in {e["field"].split(".")[-1] for e in refused.json["errors"]}, refused.json


def test_the_database_refuses_a_proposed_agreement_with_a_date(world: Flask) -> None:
    engine = world.extensions["ledger.engine"]
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(text("UPDATE agreements SET status = 'proposed'"))


def test_a_proposed_agreement_counts_in_no_ifs_figure_until_signed(world: Flask, tokens: dict) -> None:
    client, officer = world.test_client(), tokens["officer"]
    sessions = world.extensions["ledger.sessions"]
    with freeze_time("2024-06-05 10:00:00"):
        _propose(world, officer)
        with sessions() as session:
            before = ifs_report(session, year=2024)
    with freeze_time("2024-06-05 15:00:00"):  # signed that afternoon, dated inside the year
        signed = client.patch("/api/v1/agreements/24%2F00009%2FOUT", json={
            "status": "signed", "signed_on": "2024-06-04", "reason": "sealed at committee on 4 June"}, headers=officer)
    assert signed.status_code == 200, signed.json
    assert (signed.json["status"], signed.json["signed_on"]) == ("signed", "2024-06-04")
    assert before.value("s106_a_money_secured") == Decimal("0.00")
    assert [r.obligation_reference for r in before.secured] == []
    with freeze_time("2024-06-06 10:00:00"), sessions() as session:
        after = ifs_report(session, year=2024)
        # As known before it was signed, the statement is the one published then.
        as_known = ifs_report(session, year=2024, as_known_at=datetime(2024, 6, 5, 12, tzinfo=UTC))
        workbook = build_ifs_workbook(after)
    assert after.value("s106_a_money_secured") == Decimal("250000.00")
    assert [r.obligation_reference for r in after.secured] == ["24/00009/OUT/1"]
    assert as_known.value("s106_a_money_secured") == Decimal("0.00") and as_known.secured == []
    assert workbook  # the statement is produced: every reconciliation held
    with freeze_time("2024-06-06 10:00:00"):
        assert client.post("/api/v1/entries", json=RECEIPT, headers=officer).status_code == 201
    with sessions() as session:
        [kept] = session.scalars(select(AgreementHistory)).all()
        assert kept.reason == "sealed at committee on 4 June"
        [event] = session.scalars(select(AuditEvent).where(AuditEvent.action == "update-agreement")).all()
        assert (event.before["status"], event.after["status"]) == ("proposed", "signed")
        assert (event.before["signed_on"], event.after["signed_on"]) == (None, "2024-06-04")


@pytest.mark.parametrize(("agreement", "change", "field"), [
    ("20%2F00001%2FFUL", {"status": "proposed"}, "status"),
    ("20%2F00001%2FFUL", {"signed_on": "2020-07-01"}, "signed_on"),
    ("24%2F00009%2FOUT", {"status": "signed"}, "signed_on"),
    ("24%2F00009%2FOUT", {"signed_on": "2024-06-01"}, "signed_on"),
], ids=["signed-back-to-proposed", "signed-date-moved", "signed-without-a-date", "dated-but-still-proposed"])
def test_only_signing_a_proposed_agreement_with_its_date_is_allowed(world: Flask, tokens: dict, agreement: str,
                                                                    change: dict, field: str) -> None:
    _propose(world, tokens["officer"])
    refused = world.test_client().patch(f"/api/v1/agreements/{agreement}", json=change | {"reason": "try"},
                                        headers=tokens["officer"])
    assert refused.status_code == 422, refused.json
    assert field in {e["field"].split(".")[-1] for e in refused.json["errors"]}, refused.json
    with world.extensions["ledger.sessions"]() as session:
        assert session.scalars(select(AgreementHistory)).all() == []


def test_a_proposed_agreement_is_on_its_divisions_list_and_nowhere_in_its_money(world: Flask, tokens: dict) -> None:
    from ledger.services.balances import division_summary
    from ledger.services.division_report import division_report, proposed_agreements

    with freeze_time("2024-06-05 10:00:00"):
        _propose(world, tokens["officer"])
    with world.extensions["ledger.sessions"]() as session:
        [proposed] = proposed_agreements(session, "ashford-central")
        assert (proposed.reference, proposed.asked, proposed.obligations, proposed.recorded_on) == (
            "24/00009/OUT", Decimal("250000.00"), 1, date(2024, 6, 5))
        summary = division_summary(session, "ashford-central", on=date(2024, 6, 5))
        assert (summary.agreements, summary.secured) == (1, Decimal("100000.00"))
        assert [a.reference for a in division_report(session, "ashford-central", on=date(2024, 6, 5)).agreements] == [
            "20/00001/FUL"]


def test_the_government_files_leave_a_proposed_agreement_out_until_it_is_signed(world: Flask, tokens: dict) -> None:
    from ledger.services.exports import gov_csv_rows

    client, officer = world.test_client(), tokens["officer"]
    sessions = world.extensions["ledger.sessions"]
    with freeze_time("2024-06-05 10:00:00"):
        _propose(world, officer)
        with sessions() as session:
            rows = gov_csv_rows(session)
        assert "24/00009/OUT" not in {a["reference"] for a in rows.agreements}
        assert "24/00009/OUT/1" not in {c["reference"] for c in rows.contributions}
    with freeze_time("2024-06-05 15:00:00"):
        assert client.patch("/api/v1/agreements/24%2F00009%2FOUT", json={
            "status": "signed", "signed_on": "2024-06-04", "reason": "sealed"}, headers=officer).status_code == 200
        with sessions() as session:
            signed = gov_csv_rows(session)
            before_signing = gov_csv_rows(session, as_known_at=datetime(2024, 6, 5, 12, tzinfo=UTC))
    assert {"24/00009/OUT"} <= {a["reference"] for a in signed.agreements}
    assert "24/00009/OUT/1" in {c["reference"] for c in signed.contributions}
    assert "24/00009/OUT" not in {a["reference"] for a in before_signing.agreements}


def test_a_proposed_agreement_takes_no_milestone_so_issues_no_invoice(world: Flask, tokens: dict) -> None:
    from ledger.domain.errors import InvalidInput
    from ledger.services import income
    from tests.factories import OFFICER

    with freeze_time("2024-06-05 10:00:00"):
        _propose(world, tokens["officer"])
        with world.extensions["ledger.sessions"]() as session, pytest.raises(InvalidInput, match="proposed"):
            income.record_milestone(session, "24/00009/OUT", kind="commencement", on=date(2024, 6, 1), actor=OFFICER)
