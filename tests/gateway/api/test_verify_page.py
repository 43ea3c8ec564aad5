"""The verifier page in a real browser: headless Chromium (Debian's package, driven by
Playwright) against ``ledger up`` itself, a process with its embedded anvil, the demo world
seeded on a fresh chain and the gateway, as a user starts it.

An officer pastes a key and verifies the fresh demo consignment on today's date (it must
verify, with the journey, the route map and names), a false claim (it fails, in words), a
mistyped container (the field is pointed at, the old verdict is gone); downloads the proof
bundle and checks it; prints. Screenshots go to ``test-artifacts/browser/`` at the root of the
repository (git-ignored; pytest's summary names the directory): look at them. The browser:
:mod:`tests.gateway.api.browser`.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import free_port
from tests.gateway.api.browser import ARTIFACTS, chromium, shot

pytestmark = pytest.mark.slow

# Two UN/LOCODE entries with their coordinates, in the seaports CSV format the library reads.
UNLOCODE_CSV = (
    "country,location,unlocode,name,nameWoDiacritics,subdivision,status,function,iata,lat,lon,"
    "geocoded\n"
    "AU,ADL,AUADL,Adelaide,Adelaide,SA,AC,12345---,,-34.92,138.58,\n"
    "CN,SGH,CNSGH,Shanghai,Shanghai,SH,AS,12345---,,31.23,121.48,\n"
)


@dataclass(frozen=True)
class Up:
    """``ledger up`` running: its gateway's base URL, demo API keys and demo summary."""

    base_url: str
    keys: dict[str, Any]
    demo: dict[str, Any]

    def key(self, name: str) -> str:
        return str(self.keys[name]["api_key"])


def _ledger_command() -> list[str]:
    script = Path(sys.executable).parent / "ledger"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from gateway.cli import main; sys.exit(main())"]


@pytest.fixture(scope="module")
def up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Up]:
    """``ledger up`` in a fresh data directory: node, deployment, demo world, gateway."""
    home = tmp_path_factory.mktemp("ledger-up")
    data_dir = home / "data"
    codes = home / "unlocode.csv"
    codes.write_text(UNLOCODE_CSV, encoding="utf-8")
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")},
        "LEDGER_DATA_DIR": str(data_dir),
        "LEDGER_NODE_PORT": str(free_port()),
        "LEDGER_GATEWAY_PORT": str(port),
        "LEDGER_UNLOCODE_CSV": str(codes),
    }
    log = (home / "ledger-up.log").open("wb")
    process = subprocess.Popen(
        [*_ledger_command(), "up"], cwd=home, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            if process.poll() is not None:
                pytest.fail(f"ledger up exited with {process.returncode}: see {log.name}")
            try:
                if httpx.get(f"{base_url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, f"ledger up not ready in 180 s: see {log.name}"
            time.sleep(0.5)
        keys = json.loads((data_dir / "demo-api-keys.json").read_text())
        demo = json.loads((data_dir / "demo.json").read_text())
        yield Up(base_url, keys, demo)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as instance:
        yield instance


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(accept_downloads=True, viewport={"width": 1360, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(60_000)
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        yield tab
    finally:
        context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


def _verify(page: Any, fields: dict[str, str]) -> None:
    for field, value in fields.items():
        page.fill(f"#{field}", value)
    with page.expect_response(lambda r: r.url.endswith("/verify") and r.request.method == "POST"):
        page.click("#run")


def _verdict(page: Any) -> None:
    page.wait_for_selector("#verdict", state="visible")


def test_fresh_demo_verifies_on_todays_date_with_its_evidence(up: Up, page: Any) -> None:
    page.goto(f"{up.base_url}/verify")
    assert page.title().startswith("Provenance verifier")
    page.fill("#api_key", up.key("General Administration of Customs of China"))
    today = datetime.now(UTC).date().isoformat()
    _verify(
        page,
        {
            "consignment_ref": up.demo["consignment"]["ref"],
            "cert_number": up.demo["certificate"]["number"],
            "cert_issuer": "Australian Chamber of Commerce and Industry",
            "origin": "AU",
            "hs_codes": "2204.21",
            "quantity": "4500",
            "unit": "LTR",
            "aeo_operators": "Barossa Valley Wine Exports",
            "at": today,
        },
    )
    _verdict(page)
    shot(page, "verified-today")
    assert page.inner_text("#status") == "Verified", page.inner_text("#findings")
    assert "verified" in (page.get_attribute("#banner", "class") or "")
    subject = page.inner_text("#subject")
    assert f"as of {today}" in subject
    assert "No finding" in page.inner_text("#findings")
    # Every check's outcome is a word, not a colour.
    outcomes = page.locator("#checks .badge").all_inner_texts()
    assert outcomes
    assert all(o in {"✓ Passed", "\u2013 Skipped"} for o in outcomes), outcomes
    assert "✓ Passed" in outcomes
    # Positive evidence: the journey, with places, times, signers and transactions.
    journey = page.inner_text("#journey")
    assert "Loaded at Adelaide (AUADL)" in journey
    assert "Arrived at Shanghai (CNSGH)" in journey
    assert "Oceanic Container Line" in journey
    assert "block " in journey
    assert " UTC" in journey
    assert page.locator("#journey li").count() == 5
    record = page.inner_text("#record")
    assert "Australian Chamber of Commerce and Industry" in record
    assert "Barossa Valley Wine Exports" in record
    assert "export-release" in record
    assert "Australian Border Force" in record
    assert "4500 drawn" in record
    # The route, drawn from the UN/LOCODE coordinates.
    route = page.locator("#map svg")
    assert route.count() == 1
    assert route.get_attribute("aria-label") == "Route: Adelaide (AUADL) → Shanghai (CNSGH)"
    assert page.locator("#map svg circle").count() == 2
    # Names everywhere, ids (and full hashes) on demand.
    full_id = re.compile(r"0x[0-9a-f]{64}")
    assert not full_id.search(page.inner_text("#record") + journey)
    page.check("#show_ids")
    demo_id = up.demo["consignment"]["id"]
    assert demo_id in page.inner_text("#record")
    assert len(full_id.findall(page.inner_text("#journey"))) >= 10  # signer and tx per event
    page.uncheck("#show_ids")
    assert page.locator("#risk_score").inner_text().isdigit()
    # The printable report: the form is left out, the verdict and evidence stay.
    page.emulate_media(media="print")
    assert page.is_hidden("#claim_column")
    assert page.is_visible("#record_card")
    printed_claim = page.inner_text("#claim_card")
    assert "Consignment reference" in printed_claim
    assert up.demo["consignment"]["ref"] in printed_claim
    assert "Barossa Valley Wine Exports" in printed_claim
    assert "As of (UTC)" in printed_claim
    shot(page, "verified-today-print")
    page.pdf(path=str(ARTIFACTS / "verified-today-report.pdf"))
    page.emulate_media(media="screen")


def test_false_claim_fails_in_words_with_evidence(up: Up, page: Any) -> None:
    page.goto(f"{up.base_url}/verify")
    page.fill("#api_key", up.key("General Administration of Customs of China"))
    _verify(
        page,
        {
            "consignment_ref": up.demo["consignment"]["ref"],
            "origin": "NZ",
            "aeo_operators": "Kiwi Fruit Traders",
        },
    )
    _verdict(page)
    shot(page, "failed-claim")
    assert page.inner_text("#status") == "Failed"
    findings = page.inner_text("#findings")
    assert "ORIGIN_MISMATCH" in findings
    assert "✕ Critical" in findings
    assert "Kiwi Fruit Traders (not a member)" in findings
    assert "block " in findings
    assert "log null" not in findings
    failed = page.locator("#checks .badge.failed")
    assert failed.count() >= 1
    assert failed.first.inner_text() == "✕ Failed"
    # A failed check's outcome is legible: dark text on a light tint, not red on red.
    colour, background = page.evaluate(
        "(el) => [getComputedStyle(el).color, getComputedStyle(el).backgroundColor]",
        failed.first.element_handle(),
    )
    assert colour != background
    assert _contrast(colour, background) >= 4.5


def _contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two CSS ``rgb(...)`` colours."""

    def luminance(css: str) -> float:
        parts = [float(p) for p in css[css.index("(") + 1 : css.index(")")].split(",")[:3]]
        lin = [
            (c / 255) / 12.92 if c / 255 <= 0.03928 else ((c / 255 + 0.055) / 1.055) ** 2.4
            for c in parts
        ]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_input_error_replaces_the_verdict_and_points_at_the_field(up: Up, page: Any) -> None:
    page.goto(f"{up.base_url}/verify")
    page.fill("#api_key", up.key("General Administration of Customs of China"))
    _verify(page, {"consignment_ref": up.demo["consignment"]["ref"]})
    _verdict(page)
    # The check digit of CSQU3054383 is 3: a 4 is a typing error, not a missing consignment.
    _verify(page, {"consignment_ref": "", "container": "CSQU3054384"})
    page.wait_for_selector("#error", state="visible")
    shot(page, "input-error")
    error = page.inner_text("#error")
    assert "422" in error
    assert "container" in error
    assert "check digit" in error
    assert "not on the ledger" not in error
    assert page.is_hidden("#verdict")
    assert page.get_attribute("#container", "aria-invalid") == "true"
    assert "check digit" in page.inner_text("#container_error")
    assert page.evaluate("document.activeElement.id") == "container"
    # Fixed, the same container finds the consignment and the mark goes.
    _verify(page, {"container": "CSQU3054383"})
    _verdict(page)
    assert page.get_attribute("#container", "aria-invalid") is None
    assert page.is_hidden("#error")


def test_places_without_coordinates_degrade_to_words(up: Up, page: Any) -> None:
    """Where the UN/LOCODE list has no coordinates for a place (or no entry), the journey
    still names it and the map says what it could not draw."""

    def strip_places(route: Any) -> None:
        if route.request.method != "POST":
            route.continue_()
            return
        answer = route.fetch()
        verdict = answer.json()
        for event in verdict["record"]["journey"]:
            if event["location"] == "CNSGH":
                event["place"] = None
        route.fulfill(response=answer, json=verdict)

    page.route("**/verify", lambda route: strip_places(route))
    page.goto(f"{up.base_url}/verify")
    page.fill("#api_key", up.key("General Administration of Customs of China"))
    _verify(page, {"consignment_ref": up.demo["consignment"]["ref"]})
    _verdict(page)
    shot(page, "route-without-coordinates")
    assert "Arrived at CNSGH (place not in the loaded UN/LOCODE list)" in page.inner_text(
        "#journey"
    )
    assert page.locator("#map svg circle").count() == 1
    assert "Not drawn, no coordinates in the UN/LOCODE list: CNSGH." in page.inner_text("#map")

    def no_places(route: Any) -> None:
        if route.request.method != "POST":
            route.continue_()
            return
        answer = route.fetch()
        verdict = answer.json()
        for event in verdict["record"]["journey"]:
            event["place"] = None
        route.fulfill(response=answer, json=verdict)

    page.unroute("**/verify")
    page.route("**/verify", lambda route: no_places(route))
    _verify(page, {})
    page.wait_for_function("!document.querySelector('#map svg')")
    assert "the route cannot be drawn" in page.inner_text("#map")


def test_placeholders_look_like_examples(up: Up, page: Any) -> None:
    page.goto(f"{up.base_url}/verify")
    assert page.get_attribute("#consignment_ref", "placeholder") == "e.g. AU-UCR-…"
    style = page.evaluate(
        "(() => { const s = getComputedStyle(document.querySelector('#origin'), '::placeholder');"
        " return [s.fontStyle, s.color]; })()"
    )
    assert style[0] == "italic"
    assert page.input_value("#origin") == ""
    assert "end of this day" in page.inner_text("#at_hint")
    assert "high" in page.inner_text("#how")


def test_bundle_download_and_check(up: Up, page: Any, tmp_path: Path) -> None:
    page.goto(f"{up.base_url}/verify")
    page.fill("#api_key", up.key("General Administration of Customs of China"))
    page.fill("#consignment_ref", up.demo["consignment"]["ref"])
    with page.expect_download() as download_info:
        page.click("#export")
    bundle_path = tmp_path / "bundle.json"
    download_info.value.save_as(bundle_path)
    bundle = json.loads(bundle_path.read_text())
    assert bundle["chain_id"] == 31337
    assert bundle["consignment"]["event_count"] == 5
    page.set_input_files("#bundle_file", str(bundle_path))
    with page.expect_response(lambda r: r.url.endswith("/verify/bundle")):
        page.click("#check_bundle")
    page.wait_for_function("document.getElementById('status').textContent === 'Verified'")
    shot(page, "bundle-verified")
    text = page.inner_text("#verdict")
    assert "supports the claim" not in text
    assert "does not check a claim" in text
    assert page.is_hidden("#record_card")

    bundle["consignment"]["event_count"] -= 1
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(bundle))
    page.set_input_files("#bundle_file", str(tampered))
    with page.expect_response(lambda r: r.url.endswith("/verify/bundle")):
        page.click("#check_bundle")
    page.wait_for_function("document.getElementById('status').textContent === 'Failed'")
    shot(page, "bundle-tampered")
    findings = page.inner_text("#findings")
    assert "BUNDLE_HEAD_MISMATCH" in findings
    assert "null" not in findings


def test_page_without_a_valid_key_says_so(up: Up, page: Any) -> None:
    page.goto(f"{up.base_url}/verify")
    page.evaluate("sessionStorage.clear()")
    page.fill("#api_key", "clk_not_a_key")
    page.fill("#consignment_ref", up.demo["consignment"]["ref"])
    page.click("#run")
    page.wait_for_selector("#error", state="visible")
    assert "401" in page.inner_text("#error")
    assert page.get_attribute("#api_key", "aria-invalid") == "true"
    assert page.is_hidden("#verdict")


def test_organisations_have_names(up: Up) -> None:
    answer = httpx.get(
        f"{up.base_url}/organisations",
        headers={"Authorization": f"Bearer {up.key('Oceanic Container Line')}"},
    )
    assert answer.status_code == 200, answer.text
    names = {o["name"] for o in answer.json()["items"]}
    assert set(up.keys) <= names
