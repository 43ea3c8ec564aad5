"""The verification routes: the page, claims and proof bundles, over the seeded demo chain."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from datetime import time as dt_time
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


def test_verified_claim_carries_its_evidence_and_names(
    verify_client: httpx.Client, party_keys: dict[str, IssuedKey], world: DemoWorld
) -> None:
    claim = {
        "consignment_ref": world.consignment_ref,
        "certificate": {
            "number": world.certificate_number,
            "issuer": "Australian Chamber of Commerce and Industry",
        },
        "aeo_operators": ["Barossa Valley Wine Exports"],
    }
    verdict = verify_client.post("/verify", json=claim, headers=auth(party_keys["cn"])).json()
    assert verdict["status"] == "verified", verdict["findings"]
    record = verdict["record"]
    assert record["consignment"]["reference"] == world.consignment_ref
    journey = record["journey"]
    assert [e["biz_step"] for e in journey] == [
        "packing",
        "loading",
        "departing",
        "arriving",
        "unloading",
    ]
    assert [e["location"] for e in journey] == ["AUADL"] * 3 + ["CNSGH"] * 2
    for event in journey:
        assert event["tx_hash"].startswith("0x")
        assert event["block_number"] > 0
        assert "place" in event  # None where the loaded UN/LOCODE list has no entry
    assert record["certificate"]["number"] == world.certificate_number
    assert record["certificate"]["certificate_id"] == "0x" + world.certificate_id.hex()
    assert [d["quantity"] for d in record["drawdowns"]] == [4500]
    assert [a["schema"] for a in record["attestations"]] == ["export-release"]
    assert record["attestations"][0]["valid_at_verification"] is True
    names = {o["name"] for o in verdict["organisations"].values()}
    assert {
        "Oceanic Container Line",
        "Barossa Valley Wine Exports",
        "Australian Chamber of Commerce and Industry",
        "Australian Border Force",
        "General Administration of Customs of China",
    } <= names
    carrier = "0x" + world.parties["carrier"].org_id.hex()
    assert verdict["organisations"][carrier] == {
        "name": "Oceanic Container Line",
        "kind": "carrier",
        "country": "SG",
        "status": "active",
        "member": True,
    }


def test_findings_name_organisations_the_claim_typed(
    verify_client: httpx.Client, party_keys: dict[str, IssuedKey], world: DemoWorld
) -> None:
    claim = {"consignment_ref": world.consignment_ref, "aeo_operators": ["Kiwi Fruit Traders"]}
    verdict = verify_client.post("/verify", json=claim, headers=auth(party_keys["cn"])).json()
    finding = next(f for f in verdict["findings"] if f["code"] == "AEO_NOT_CERTIFIED")
    assert "Kiwi Fruit Traders (not a member)" in finding["explanation"]
    assert "0x" not in finding["explanation"]


def test_as_of_before_the_export_release_it_is_missing_not_revoked(
    verify_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    world: DemoWorld,
    ledger: Ledger,
) -> None:
    """The root of "ATTESTATION_REVOKED on today's date": an attestation made after the
    verification time did not exist then; it was never revoked."""
    made = ledger.attestations.attestation(world.attestation_uids[0]).attested_at
    claim = {"consignment_ref": world.consignment_ref, "at": made - 1}
    verdict = verify_client.post("/verify", json=claim, headers=auth(party_keys["cn"])).json()
    codes = [f["code"] for f in verdict["findings"]]
    assert "ATTESTATION_REVOKED" not in codes
    missing = next(f for f in verdict["findings"] if f["code"] == "ATTESTATION_MISSING")
    assert "after the verification time" in missing["explanation"]
    assert missing["evidence"][0]["kind"] == "attestation"
    assert verdict["record"]["attestations"][0]["valid_at_verification"] is False
    # As of the moment it was made, it is there.
    claim["at"] = made
    later = verify_client.post("/verify", json=claim, headers=auth(party_keys["cn"])).json()
    assert "ATTESTATION_MISSING" not in [f["code"] for f in later["findings"]]


@pytest.mark.parametrize(
    ("claim", "field", "words"),
    [
        ({"container": "CSQU3054384"}, "container", "check digit"),
        ({"consignment_ref": "X", "quantity": "many", "unit": "LTR"}, "quantity", "quantity"),
        ({"consignment_ref": "X", "at": "yesterday"}, "at", "ISO 8601"),
        ({"origin": "AU"}, "consignment_ref", "must name a consignment"),
    ],
)
def test_claim_errors_name_the_field(
    verify_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    claim: dict[str, object],
    field: str,
    words: str,
) -> None:
    answer = verify_client.post("/verify", json=claim, headers=auth(party_keys["cn"]))
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["code"] == "invalid_claim"
    assert error["field"] == field
    assert words in error["message"]
    assert "not on the ledger" not in error["message"]


def test_a_day_is_verified_as_of_its_end_or_now(
    verify_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    world: DemoWorld,
    ledger: Ledger,
) -> None:
    """The fresh demo, verified on the day it was recorded, verifies: "as of today" is now,
    not noon (before the export release existed)."""
    made = ledger.attestations.attestation(world.attestation_uids[0]).attested_at
    day = datetime.fromtimestamp(made, UTC).date()
    claim = {"consignment_ref": world.consignment_ref, "at": day.isoformat()}
    before = int(time.time())
    verdict = verify_client.post("/verify", json=claim, headers=auth(party_keys["cn"])).json()
    assert verdict["status"] == "verified", verdict["findings"]
    end_of_day = int(datetime.combine(day, dt_time(23, 59, 59), UTC).timestamp())
    assert made <= verdict["at"] <= end_of_day
    if end_of_day > before:  # the day is not over: as of now
        assert verdict["at"] >= before
    # The day before: the export release did not exist yet.
    claim["at"] = (day - timedelta(days=1)).isoformat()
    earlier = verify_client.post("/verify", json=claim, headers=auth(party_keys["cn"])).json()
    assert earlier["at"] == end_of_day - 86400
    assert "ATTESTATION_MISSING" in [f["code"] for f in earlier["findings"]]
    bad = verify_client.post(
        "/verify",
        json={"consignment_ref": world.consignment_ref, "at": "2026-02-30"},
        headers=auth(party_keys["cn"]),
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["field"] == "at"
