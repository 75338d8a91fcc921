"""Import history through the API (issue 14 item 4): an import run through the command line
is listed with its money and counts, read with its summary, and its issues paged and
filtered; officers and admins only, described in OpenAPI."""

from __future__ import annotations

import json
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from tests.factories import write_gov_files
from tests.importers.test_opening_balances import MID_HISTORY


def imported(app: Flask, tmp_path: Path) -> Path:
    files = write_gov_files(tmp_path / "files", MID_HISTORY)
    result = app.test_cli_runner().invoke(args=["ledger", "import", "gov-csv", str(files)])
    assert result.exit_code == 0, result.output
    return files


def test_the_api_lists_and_reads_an_import_run(app: Flask, client: FlaskClient, headers: dict, tmp_path: Path) -> None:
    files = imported(app, tmp_path)
    listed = client.get("/api/v1/imports", headers=headers["officer"])
    assert listed.status_code == 200, listed.json
    [run] = listed.json
    assert (run["actor"], run["format"], run["source"], run["committed"]) == ("system", "gov-csv", str(files), True)
    assert (run["opening_balances"], run["opening_balance_money"], run["rejected_money"]) == (1, "900.00", "50.00")
    assert (run["source_money"], run["rejections"]) == ("3550.00", 1)
    assert run["warnings"] >= 1

    detail = client.get(f"/api/v1/imports/{run['id']}", headers=headers["admin"]).json
    transactions = [line for line in detail["summary"] if line["file"] == "developer-agreement-transaction.csv"]
    assert sum(line["rows"] for line in transactions) == len(MID_HISTORY)
    assert {line["status"]: line["rejected"] for line in transactions}["allocated"] == "50.00"

    issues = client.get(f"/api/v1/imports/{run['id']}/issues", headers=headers["officer"])
    assert len(issues.json) == run["warnings"] + run["rejections"]
    assert json.loads(issues.headers["X-Pagination"])["total"] == len(issues.json)
    [refused] = client.get(f"/api/v1/imports/{run['id']}/issues?severity=rejected", headers=headers["officer"]).json
    assert (refused["reference"], refused["line"], refused["status"]) == ("T-4", 5, "allocated")
    assert refused["amount"] == "-50.00" and "allocat" in refused["reason"]


def test_members_are_refused_and_bad_requests_are_named(
    app: Flask, client: FlaskClient, headers: dict, tmp_path: Path,
) -> None:
    imported(app, tmp_path)
    for path in ("/api/v1/imports", "/api/v1/imports/1", "/api/v1/imports/1/issues"):
        refused = client.get(path, headers=headers["member"])
        assert refused.status_code == 403 and refused.content_type == "application/problem+json"
    assert client.get("/api/v1/imports/2", headers=headers["officer"]).status_code == 404
    assert client.get("/api/v1/imports/99999999999", headers=headers["officer"]).status_code == 404
    bad = client.get("/api/v1/imports/1/issues?severity=fatal", headers=headers["officer"])
    assert bad.status_code == 422 and "severity" in bad.get_data(as_text=True)
    assert client.get("/api/v1/imports", headers=headers["officer"]).status_code == 200


def test_openapi_describes_the_import_history(client: FlaskClient) -> None:
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert {"/api/v1/imports", "/api/v1/imports/{run_id}", "/api/v1/imports/{run_id}/issues"} <= set(paths)
    assert "summary" in str(paths["/api/v1/imports/{run_id}"])
