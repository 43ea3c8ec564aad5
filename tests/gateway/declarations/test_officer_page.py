"""The officer's selection page in a real browser (headless Chromium driven by Playwright,
skipped outside CI when Chromium is missing, as the verifier page's tests are): paste the
administration's key, show the selection with its reasons and findings, record a result."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
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
from tests.gateway.api.browser import chromium, shot
from tests.gateway.conftest import auth
from tests.gateway.declarations.test_declarations_api import declaration_body
from tests.gateway.declarations.test_selection_api import trained
from tests.gateway.writes.test_chain_relay import wait_final

__all__ = ["trained"]  # a fixture used here


@pytest.fixture
def browser_page() -> Iterator[Any]:
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1360, "height": 900})
        page = context.new_page()
        page.set_default_timeout(60_000)
        try:
            yield page
        finally:
            context.close()


@pytest.fixture
def base_url(
    settings: GatewaySettings,
    chain_services: GatewayServices,
    custodial: dict[str, str],
    ledger: Ledger,
    tmp_path: Path,
) -> Iterator[str]:
    index = Index(f"sqlite:///{tmp_path / 'index.sqlite3'}", ledger)
    index.sync()
    assert chain_services.chain is not None
    chain = LedgerServices(
        ledger=ledger, signing_keys=chain_services.chain.signing_keys, index=index
    )
    app = create_app(
        settings, services=GatewayServices(relayer=chain_services.relayer, chain=chain)
    )
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="officer-page-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive(), "uvicorn stopped while starting"
        assert time.monotonic() < deadline, "uvicorn did not start within 30 s"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.mark.usefixtures("trained")
def test_officer_sees_the_selection_and_records_a_result(
    base_url: str,
    browser_page: Any,
    party_keys: dict[str, IssuedKey],
    world: DemoWorld,
    tmp_path: Path,
) -> None:
    exporter = party_keys["exporter"]
    with httpx.Client(base_url=base_url, timeout=60) as client:
        rids = []
        for origin in ("AU", "NZ"):
            response = client.post(
                "/declarations",
                json=declaration_body(world, origin_country=origin),
                headers=auth(exporter),
            )
            assert response.status_code == 202, response.text
            rids.append(response.json()["record_id"])
        wait_final(client, exporter, rids)

    page = browser_page
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("dialog", lambda dialog: dialog.accept("false origin"))
    page.goto(f"{base_url}/risk/officer")
    assert page.title().startswith("Inspection selection")
    page.fill("#key", party_keys["cn"].token)
    page.fill("#rate", "1")
    with page.expect_response(lambda r: "/risk/selection" in r.url):
        page.click("#load")
    page.wait_for_selector("#rows tr")
    assert page.locator("#rows tr").count() == 2
    assert "2 of 2 declarations selected" in page.inner_text("#summary")
    table = page.inner_text("#rows")
    assert "ORIGIN_MISMATCH" in table, "the provenance finding behind the selection"
    assert "AEO recognised" in table or "aeo" in table.lower()
    shot(page, "officer-selection")

    row = page.locator("#rows tr", has_text="ORIGIN_MISMATCH").first
    with page.expect_response(lambda r: r.url.endswith("/inspections")) as answer:
        row.locator("button", has_text="fraud").first.click()
    assert answer.value.status == 202
    page.wait_for_function(
        "() => document.querySelector('#rows').innerText.includes('recorded: fraud')"
    )
    assert "false origin" in page.inner_text("#rows")

    # A key that is not an administration's is told why, not shown a table.
    page.fill("#key", exporter.token)
    page.click("#load")
    page.wait_for_function(
        "() => !document.querySelector('#status').innerText.startsWith('Loading')"
    )
    assert "only customs administrations" in page.inner_text("#status")
    assert errors == []
