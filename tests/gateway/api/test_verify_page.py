"""The verifier page in a real browser: headless Chromium (Debian's package, driven by Playwright)
against the gateway served by uvicorn over the seeded demo chain.

An officer pastes a key, enters a claim and presses Verify; exports a consignment's proof bundle
and checks the file. `make test` installs Chromium (scripts/system-deps); outside CI the tests
are skipped when it is missing, in CI (CI=true) that is a failure.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from gateway.auth import IssuedKey
from gateway.config import GatewaySettings
from gateway.main import create_app
from gateway.services import GatewayServices
from gateway.writes.ledger_services import LedgerServices
from ledger.chain import Ledger
from ledger.index import Index
from ledger.stack import DemoWorld
from tests.conftest import free_port
from tests.system_services import unavailable

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def page_url(settings: GatewaySettings, ledger: Ledger, tmp_path: Path) -> Iterator[str]:
    """The gateway with its verification routes, served by uvicorn on a free loopback port."""
    index = Index(f"sqlite:///{tmp_path / 'index.sqlite3'}", ledger)
    index.sync()
    app = create_app(
        settings, services=GatewayServices(chain=LedgerServices(ledger=ledger, index=index))
    )
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="verify-page-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive(), "uvicorn stopped while starting"
        assert time.monotonic() < deadline, "uvicorn did not start within 30 s"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}/verify"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture
def browser_page(tmp_path: Path) -> Iterator[Any]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        unavailable("the browser tests", "Chromium is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("the browser tests", "Playwright is not installed (pip install -e '.[dev]')")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_FLAGS)
        try:
            context = browser.new_context(accept_downloads=True)
            page = context.new_page()
            page.set_default_timeout(60_000)
            yield page
            context.close()
        finally:
            browser.close()


def _verify(page: Any, claim: dict[str, str]) -> None:
    for field, value in claim.items():
        page.fill(f"#{field}", value)
    with page.expect_response(lambda r: r.url.endswith("/verify") and r.request.method == "POST"):
        page.click("#run")
    page.wait_for_selector("#verdict", state="visible")


def test_officer_verifies_claims_and_checks_a_bundle(
    page_url: str,
    browser_page: Any,
    party_keys: dict[str, IssuedKey],
    world: DemoWorld,
    tmp_path: Path,
) -> None:
    page = browser_page
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(page_url)
    assert page.title().startswith("Provenance verifier")
    page.fill("#api_key", party_keys["cn"].token)

    # A genuine claim: the demo consignment, from Australia, by the AEO that China recognises.
    _verify(
        page,
        {
            "consignment_ref": world.consignment_ref,
            "origin": "AU",
            "aeo_operators": "Barossa Valley Wine Exports",
        },
    )
    assert page.inner_text("#status") == "Verified"
    assert "verified" in (page.get_attribute("#banner", "class") or "")
    assert "No finding" in page.inner_text("#findings")
    assert int(page.inner_text("#risk_score")) < 40
    assert page.locator("#risk_rows tr").count() >= 1
    checks = page.inner_text("#checks")
    assert "hash chain equals on-chain head" in checks

    # A false origin: the page shows the failure, the finding code and its on-chain evidence.
    page.fill("#aeo_operators", "")
    _verify(page, {"origin": "NZ"})
    assert page.inner_text("#status") == "Failed"
    findings = page.inner_text("#findings")
    assert "ORIGIN_MISMATCH" in findings
    assert "0x" in findings
    assert "block " in findings

    # A bad claim is explained, not rendered as a verdict.
    page.fill("#consignment_ref", "")
    page.fill("#origin", "AU")
    page.click("#run")
    page.wait_for_selector("#error", state="visible")
    assert "422" in page.inner_text("#error")

    # Export the consignment's proof bundle, then check the downloaded file.
    page.fill("#consignment_ref", world.consignment_ref)
    with page.expect_download() as download_info:
        page.click("#export")
    bundle_path = tmp_path / "bundle.json"
    download_info.value.save_as(bundle_path)
    bundle = json.loads(bundle_path.read_text())
    assert bundle["chain_id"] == 31337
    assert bundle["consignment"]["event_count"] > 0
    assert bundle["logs"]
    page.set_input_files("#bundle_file", str(bundle_path))
    with page.expect_response(lambda r: r.url.endswith("/verify/bundle")):
        page.click("#check_bundle")
    page.wait_for_function("document.getElementById('status').textContent === 'Verified'")

    # The same bundle claiming one event fewer is refused, with the reason shown.
    bundle["consignment"]["event_count"] -= 1
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(bundle))
    page.set_input_files("#bundle_file", str(tampered))
    with page.expect_response(lambda r: r.url.endswith("/verify/bundle")):
        page.click("#check_bundle")
    page.wait_for_function("document.getElementById('status').textContent === 'Failed'")
    assert "BUNDLE_HEAD_MISMATCH" in page.inner_text("#findings")
    assert errors == []


def test_page_without_a_key_says_so(page_url: str, browser_page: Any, world: DemoWorld) -> None:
    page = browser_page
    page.goto(page_url)
    page.evaluate("sessionStorage.clear()")
    page.fill("#api_key", "clk_not_a_key")
    page.fill("#consignment_ref", world.consignment_ref)
    page.click("#run")
    page.wait_for_selector("#error", state="visible")
    assert "401" in page.inner_text("#error")
    assert page.is_hidden("#verdict")
