"""The reconciliation pages in Chromium (issue 19; the other reconciliation tests are in tests/reconcile): an officer reads the differences on the
demo county with its planted finance export, rejects a bank charge, confirms a proposed
match, matches by hand (a wrong total is refused naming the field), records a balance that
fails, sees it on the dashboard and resolves it with a note; axe finds nothing serious at
1280 and 320 px, and nothing scrolls sideways on a phone."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from ledger.demo_finance import finance_export
from ledger.services import reconcile
from tests.web.conftest import screenshot, sign_in
from tests.web.test_pages import AXE

OFFICER = "officer@demo.s106.test"


@pytest.fixture(scope="module")
def planted(live_app: Flask, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The demo's finance export, imported through the command line; what was planted, and
    the finance transactions by journal number."""
    folder = tmp_path_factory.mktemp("finance")
    with live_app.extensions["ledger.sessions"]() as session:
        export = finance_export(session, seed=19)
    (folder / "export.csv").write_text(export.csv)
    (folder / "mapping.toml").write_text(export.mapping)
    result = live_app.test_cli_runner().invoke(args=["ledger", "reconcile", "import", str(folder / "export.csv"),
                                                     "--mapping", str(folder / "mapping.toml")])
    assert result.exit_code == 0, result.output
    with live_app.extensions["ledger.sessions"]() as session:
        found = reconcile.reconciliation_report(session, as_of=reconcile.clock.today())
    journals = {r.transaction_id: r for r in (*found.matched, *found.finance_only, *found.reversed)}
    return {"planted": export.planted, "journals": journals, "report": found}


def transaction_page(page: Any, row: Any) -> None:
    page.goto(f"/reconciliation/transactions/{row.transaction}")


@pytest.mark.browser
def test_an_officer_clears_differences_in_the_browser(page, planted, live_app: Flask) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, OFFICER)
    page.wait_for_url(re.compile("/dashboard"))
    page.goto("/reconciliation")
    main = page.locator("main").inner_text()
    assert "Not reconciled: 12 differences to clear" in main
    for journal in planted["planted"]["bank_charges"]:
        assert journal in page.locator("table").nth(1).inner_text()  # In finance only
    screenshot(page, "reconciliation")

    charge = planted["journals"][planted["planted"]["bank_charges"][0]]
    transaction_page(page, charge)
    page.get_by_label("Why").fill("bank charge: a journal to the general fund is requested")
    page.get_by_role("button", name="Reject the match").click()
    assert "Match rejected" in page.locator("main").inner_text()
    assert "officer@demo.s106.test" in page.locator("table").last.inner_text()
    assert "reject" in page.locator("table").last.inner_text()

    proposed = next(r for r in planted["report"].matched if r.status == "proposed" and not r.misposted)
    transaction_page(page, proposed)
    page.get_by_label("Why").fill("remittance advice seen")
    page.get_by_role("button", name="Confirm the match").click()
    assert "Match confirmed." in page.locator("main").inner_text()
    assert "Matched (confirmed)" in page.locator("dl.facts").inner_text()

    # Matching by hand: reject another proposal, then match its entry to it by hand.
    other = next(r for r in planted["report"].matched if r.status == "proposed" and r.transaction != proposed.transaction
                 and not r.misposted and len(r.entries) == 1)
    transaction_page(page, other)
    page.get_by_label("Why").fill("checking the remittance")
    page.get_by_role("button", name="Reject the match").click()
    wrong = planted["journals"][planted["planted"]["wrong_amount"][1]]
    transaction_page(page, wrong)  # £100.00 more than the ledger's receipt: refused by hand too
    page.get_by_label(re.compile(re.escape(planted["planted"]["wrong_amount"][0]))).check()
    page.get_by_label("Why").fill("same reference")
    page.get_by_role("button", name="Match by hand").click()
    assert "There is a problem" in page.locator(".error-summary").inner_text()
    assert "must add up to the transaction's amount exactly" in page.locator(".error-summary").inner_text()
    screenshot(page, "reconcile-transaction-refused")
    transaction_page(page, other)
    page.get_by_label(re.compile(re.escape(other.entry_references))).check()
    page.get_by_label("Why").fill("remittance advice checked: it is this receipt")
    page.get_by_role("button", name="Match by hand").click()
    assert "Matched by hand." in page.locator("main").inner_text()
    assert "Matched by hand" in page.locator("dl.facts").inner_text()
    screenshot(page, "reconcile-transaction")

    page.goto("/reconciliation")
    page.get_by_label("Of a").select_option("obligation")
    page.get_by_label("Code or reference").fill(other.obligations)
    page.get_by_label("Held at the end of").fill("2020-03-31")
    page.get_by_label("Balance, in pounds").fill("£1,234.56")
    page.get_by_label("Where the figure comes from").fill("trial balance 2019/20")
    page.get_by_role("button", name="Record the balance").click()
    assert "Balance recorded" in page.locator("main").inner_text()
    page.goto("/dashboard")
    panel = page.locator("section", has=page.get_by_role("heading", name="Balances that disagree with the finance ledger"))
    assert "£1,234.56" in panel.inner_text()
    screenshot(page, "dashboard-failing-assertion")
    panel.get_by_role("link").click()
    page.get_by_label("Note resolving it").first.fill("opening balance not yet in the ledger; see journal 2020/77")
    page.get_by_role("button", name="Resolve").first.click()
    assert "Assertion resolved by a note." in page.locator("main").inner_text()
    page.goto("/dashboard")
    assert page.get_by_role("heading", name="Balances that disagree with the finance ledger").count() == 0


@pytest.mark.browser
def test_members_get_403(page, planted) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, "member@demo.s106.test")
    page.wait_for_url(re.compile("/divisions/"))
    for path in ("/reconciliation", "/reconciliation.xlsx", "/reconciliation/transactions/1"):
        assert page.request.get(path).status == 403


@pytest.mark.browser
@pytest.mark.parametrize("width", [1280, 320])
@pytest.mark.parametrize("which", ["list", "transaction"])
def test_the_pages_are_accessible_and_reflow(browser, base_url: str, planted, which: str, width: int) -> None:  # type: ignore[no-untyped-def]
    if not AXE.exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("axe-core is required under CI=true: `make test` installs it with npm")
        pytest.skip("axe-core not installed (needs npm)")
    context = browser.new_context(base_url=base_url, bypass_csp=True, viewport={"width": width, "height": 900})
    page = context.new_page()
    sign_in(page, OFFICER)
    page.wait_for_url(re.compile("/dashboard"))
    wrong = planted["journals"][planted["planted"]["wrong_amount"][1]]
    page.goto("/reconciliation" if which == "list" else f"/reconciliation/transactions/{wrong.transaction}")
    screenshot(page, f"reconcile-{which}-{'desktop' if width == 1280 else 'phone'}")
    if width == 320:
        assert page.evaluate("document.documentElement.scrollWidth") <= 320, "scrolls sideways at 320 px"
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    serious = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
    context.close()
    assert serious == [], json.dumps([(v["id"], v["help"], [n["target"] for n in v["nodes"][:3]]) for v in serious])


def test_the_download_is_the_workbook(planted, live_app: Flask, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    client = live_app.test_client()
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True))
    assert csrf
    client.post("/login", data={"email": OFFICER, "password": "demo-password", "csrf_token": csrf[1]})
    response = client.get("/reconciliation.xlsx")
    assert response.status_code == 200 and response.data.startswith(b"PK")
    assert client.get("/reconciliation?as_of=2024-02-30").status_code == 400
    assert client.get("/reconciliation/transactions/99999999999").status_code == 404
    assert client.get("/reconciliation/transactions/2147483647").status_code == 404
