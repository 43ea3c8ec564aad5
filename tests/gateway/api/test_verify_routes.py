"""The verification routes: the page, claims and proof bundles, over the seeded demo chain."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gateway.auth import IssuedKey
from gateway.config import GatewaySettings
from gateway.main import create_app
from gateway.services import GatewayServices
from gateway.writes.ledger_services import LedgerServices
from ledger.chain import Ledger
from ledger.index import Index
from ledger.stack import DemoWorld
from tests.gateway.conftest import auth, serve
from tests.ledger.scenarios import DIRECT, Builder, Leg


@pytest.fixture
def verify_client(
    settings: GatewaySettings, ledger: Ledger, tmp_path: Path
) -> Iterator[httpx.Client]:
    index = Index(f"sqlite:///{tmp_path / 'index.sqlite3'}", ledger)
    index.sync()
    services = GatewayServices(chain=LedgerServices(ledger=ledger, index=index))
    with serve(create_app(settings, services=services)) as http:
        yield http


def test_page_is_served_without_a_key(verify_client: httpx.Client) -> None:
    page = verify_client.get("/verify")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "Provenance verifier" in page.text


def test_genuine_claim_is_verified_for_the_callers_administration(
    verify_client: httpx.Client, party_keys: dict[str, IssuedKey], world: DemoWorld
) -> None:
    claim = {
        "consignment_ref": world.consignment_ref,
        "origin": "AU",
        "aeo_operators": ["Barossa Valley Wine Exports"],
    }
    answer = verify_client.post("/verify", json=claim, headers=auth(party_keys["cn"]))
    assert answer.status_code == 200, answer.text
    verdict = answer.json()
    assert verdict["status"] == "verified"
    assert verdict["findings"] == []
    assert verdict["risk"]["score"] < 40  # the recognised AEO lowers the base risk
    assert verdict["risk"]["band"] == "low"  # a clean verified consignment


def test_false_origin_fails_with_the_finding_and_its_evidence(
    verify_client: httpx.Client, party_keys: dict[str, IssuedKey], world: DemoWorld
) -> None:
    claim = {"consignment_ref": world.consignment_ref, "origin": "NZ"}
    verdict = verify_client.post("/verify", json=claim, headers=auth(party_keys["cn"])).json()
    assert verdict["status"] == "failed"
    finding = next(f for f in verdict["findings"] if f["code"] == "ORIGIN_MISMATCH")
    assert finding["evidence"][0]["tx_hash"].startswith("0x")
    assert finding["evidence"][0]["block_number"] > 0


def test_travel_times_are_checked_with_no_setting(
    settings: GatewaySettings,
    ledger: Ledger,
    world: DemoWorld,
    party_keys: dict[str, IssuedKey],
    tmp_path: Path,
) -> None:
    """A 10-minute Adelaide -> Shanghai voyage fails on a gateway with default settings: the
    packaged UN/LOCODE list gives the coordinates."""
    assert settings.unlocode_csv is None
    legs = (
        *DIRECT[:3],
        Leg("arriving", "CNSGH", 3 + 10 / 60, disposition="in_transit"),
        Leg("unloading", "CNSGH", 3.5, disposition="in_progress"),
    )
    shipment = Builder(ledger, world).shipment(legs=legs)
    index = Index(f"sqlite:///{tmp_path / 'index.sqlite3'}", ledger)
    index.sync()
    services = GatewayServices(chain=LedgerServices(ledger=ledger, index=index))
    with serve(create_app(settings, services=services)) as http:
        claim = {"consignment_ref": shipment.ref, "origin": "AU"}
        answer = http.post("/verify", json=claim, headers=auth(party_keys["cn"]))
    assert answer.status_code == 200, answer.text
    verdict = answer.json()
    assert verdict["status"] == "failed"
    travel = next(f for f in verdict["findings"] if f["code"] == "IMPOSSIBLE_TRAVEL")
    assert "AUADL and CNSGH" in travel["explanation"]


def test_claim_errors_are_422_and_a_key_is_required(
    verify_client: httpx.Client, party_keys: dict[str, IssuedKey]
) -> None:
    empty = verify_client.post("/verify", json={"origin": "AU"}, headers=auth(party_keys["cn"]))
    assert empty.status_code == 422
    assert empty.json()["error"]["code"] == "invalid_claim"
    unknown = verify_client.post(
        "/verify", json={"consignment_ref": "X", "colour": "red"}, headers=auth(party_keys["cn"])
    )
    assert unknown.status_code == 422
    assert "colour" in unknown.json()["error"]["message"]
    assert verify_client.post("/verify", json={"consignment_ref": "X"}).status_code == 401


def test_bundle_export_and_check(
    verify_client: httpx.Client, party_keys: dict[str, IssuedKey], world: DemoWorld
) -> None:
    headers = auth(party_keys["cn"])
    exported = verify_client.get(
        "/verify/bundle", params={"consignment_ref": world.consignment_ref}, headers=headers
    )
    assert exported.status_code == 200, exported.text
    bundle = exported.json()
    checked = verify_client.post("/verify/bundle", json=bundle, headers=headers).json()
    assert checked["status"] == "verified", checked
    bundle["consignment"]["event_count"] -= 1
    tampered = verify_client.post("/verify/bundle", json=bundle, headers=headers).json()
    assert tampered["status"] == "failed"
    assert "BUNDLE_HEAD_MISMATCH" in [f["code"] for f in tampered["findings"]]
    missing = verify_client.get(
        "/verify/bundle", params={"consignment_ref": "NO-SUCH-UCR"}, headers=headers
    )
    assert missing.status_code == 404
