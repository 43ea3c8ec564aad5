"""Inspection results and risk selection through the gateway: who may record a result, the
attestation it becomes, the selection with reasons and ledger findings, and the page."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from gateway.auth import IssuedKey
from gateway.config import GatewaySettings
from gateway.main import create_app
from gateway.services import GatewayServices
from gateway.writes.ledger_services import LedgerServices
from ledger.chain import Ledger
from ledger.index import Index
from ledger.risk import Declaration, ModelParams, declarations_frame, train_model
from ledger.stack import DemoWorld
from tests.gateway.chain_cases import status_and_code
from tests.gateway.conftest import auth, org_hex, serve
from tests.gateway.declarations.test_declarations_api import (
    declaration_body,
    declaration_id_of,
    lodge,
)
from tests.gateway.writes.test_chain_relay import wait_final


def lodged(client: httpx.Client, key: IssuedKey, body: dict[str, Any]) -> str:
    response = lodge(client, key, body)
    assert response.status_code == 202, response.text
    return declaration_id_of(client, key, response.json()["record_id"])


def test_inspection_results_are_attested_by_the_administration_only(
    chain_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    ledger: Ledger,
    world: DemoWorld,
) -> None:
    did = lodged(chain_client, party_keys["exporter"], declaration_body(world))
    body = {"declaration_id": did, "result": "fraud", "kind": "undervaluation"}
    # Another administration, the declarant, a carrier: refused.
    assert status_and_code(
        chain_client.post("/inspections", json=body, headers=auth(party_keys["au"]))
    ) == (404, "declaration_not_found")
    assert status_and_code(
        chain_client.post("/inspections", json=body, headers=auth(party_keys["exporter"]))
    ) == (403, "WrongKind")
    malformed = dict(body, result="suspicious")
    assert (
        chain_client.post("/inspections", json=malformed, headers=auth(party_keys["cn"]))
    ).status_code == 422
    cn = {**auth(party_keys["cn"]), "Idempotency-Key": "inspection-1"}
    recorded = chain_client.post("/inspections", json=body, headers=cn)
    assert recorded.status_code == 202, recorded.text
    repeat = chain_client.post("/inspections", json=body, headers=cn)
    assert repeat.status_code == 202
    assert repeat.json()["record_id"] == recorded.json()["record_id"]
    other = chain_client.post("/inspections", json=dict(body, result="critical_fraud"), headers=cn)
    assert status_and_code(other) == (409, "idempotency_conflict")
    rid = recorded.json()["record_id"]
    view = wait_final(chain_client, party_keys["cn"], [rid])[rid]
    assert view["status"] == "confirmed", view
    receipt = ledger.w3.eth.get_transaction_receipt(view["tx_hash"])
    events = [d.event for d in ledger.decode_logs(receipt["logs"])]
    assert "Attested" in events
    again = chain_client.post("/inspections", json=body, headers=auth(party_keys["cn"]))
    assert status_and_code(again) == (409, "InspectionExists")


def _training_rows(n: int, seed: int = 3) -> list[Declaration]:
    rng = np.random.default_rng(seed)
    start = dt.date(2026, 1, 1)
    rows = []
    for i in range(n):
        origin = "AU" if rng.random() < 0.7 else "CN"
        price = float(rng.lognormal(8, 0.5))
        fraud = bool(rng.random() < (0.5 if origin != "AU" else 0.1))
        rows.append(
            Declaration(
                declaration_id=f"T{i}",
                date=start + dt.timedelta(days=int(i * 200 / n)),
                office_id="2200",
                process_type="B",
                import_type="11",
                import_use="",
                payment_type="",
                transport_mode="10",
                declarant_id=f"D{rng.integers(0, 5)}",
                importer_id=f"I{rng.integers(0, 9)}",
                seller_id=f"S{rng.integers(0, 9)}",
                courier_id="",
                hs6=str(rng.choice(["220421", "220429", "940350"])),
                departure_country="AU",
                origin_country=origin,
                tax_rate=float("nan"),
                tax_type="A",
                origin_indicator="",
                net_mass_kg=float(rng.integers(10, 5000)),
                item_price=price,
                fraud=fraud,
                critical=fraud and bool(rng.random() < 0.2),
            )
        )
    return rows


@pytest.fixture
def trained(settings: GatewaySettings) -> None:
    """A small model in the gateway's default model directory."""
    params = ModelParams(max_rounds=30, early_stopping=10, inner_months=2, num_leaves=15)
    model = train_model(declarations_frame(_training_rows(400)), params=params)
    model.save(settings.risk_model_path)


def test_selection_needs_a_trained_model(
    chain_client: httpx.Client, party_keys: dict[str, IssuedKey]
) -> None:
    response = chain_client.get("/risk/selection", headers=auth(party_keys["cn"]))
    assert status_and_code(response) == (409, "no_risk_model")


@pytest.mark.usefixtures("trained")
def test_selection_with_reasons_findings_and_scopes(
    chain_client: httpx.Client, party_keys: dict[str, IssuedKey], world: DemoWorld
) -> None:
    exporter = party_keys["exporter"]
    ids = [
        lodged(
            chain_client,
            exporter,
            declaration_body(
                world,
                origin_country="CN" if i % 3 == 0 else "AU",
                item_price=1000 + 97 * i,
            ),
        )
        for i in range(12)
    ]
    unknown_cert = lodged(
        chain_client,
        exporter,
        declaration_body(
            world,
            certificate_number="NOT-ISSUED-1",
            consignment_ref="",
            consignment_registrant=None,
        ),
    )
    wait_final(
        chain_client,
        exporter,
        [
            i["record_id"]
            for i in chain_client.get("/declarations", headers=auth(exporter)).json()["items"]
        ],
    )
    inspected = ids[0]
    result = chain_client.post(
        "/inspections",
        json={"declaration_id": inspected, "result": "no_irregularity"},
        headers=auth(party_keys["cn"]),
    )
    assert result.status_code == 202, result.text

    # Only a customs administration sees a selection, of what was lodged with it.
    denied = chain_client.get("/risk/selection", headers=auth(exporter))
    assert status_and_code(denied) == (403, "WrongKind")
    empty = chain_client.get("/risk/selection", headers=auth(party_keys["au"])).json()
    assert (empty["considered"], empty["items"]) == (0, [])

    got = chain_client.get(
        "/risk/selection",
        params={"rate": 0.5, "exploration": 0.2},
        headers=auth(party_keys["cn"]),
    )
    assert got.status_code == 200, got.text
    sel = got.json()
    assert sel["considered"] == 12, "the inspected declaration is not selected again"
    assert len(sel["items"]) == 6
    assert [i["by"] for i in sel["items"]].count("exploration") == 1
    assert inspected not in {i["declaration_id"] for i in sel["items"]}
    for item in sel["items"]:
        assert item["reasons"]
        assert all(isinstance(r, str) and r for r in item["reasons"])
        assert 0.0 <= item["score"] <= 1.0
    # The demo exporter is an AEO of Australia, recognised in China through the MRA: a
    # bounded credit, shown with its findings.
    codes = {f["code"] for i in sel["items"] for f in i["findings"]}
    assert "aeo_recognised" in codes
    everything = chain_client.get(
        "/risk/selection", params={"rate": 1.0}, headers=auth(party_keys["cn"])
    ).json()
    by_id = {i["declaration_id"]: i for i in everything["items"]}
    cert_findings = [f for f in by_id[unknown_cert]["findings"] if f["source"] == "certificate"]
    assert cert_findings, by_id[unknown_cert]["findings"]
    assert {f["severity"] for f in cert_findings} & {"critical", "warning"}
    bad = chain_client.get("/risk/selection", params={"rate": 2}, headers=auth(party_keys["cn"]))
    assert bad.status_code == 422


def test_officer_page_is_served_without_a_cdn(chain_client: httpx.Client) -> None:
    page = chain_client.get("/risk/officer")
    assert page.status_code == 200
    assert "Declarations selected for inspection" in page.text
    assert not re.search(r"""(src|href)=["']https?://""", page.text)
    assert "/risk/selection" in page.text
    assert "/inspections" in page.text


def test_recognised_credit_is_bounded_never_an_exemption() -> None:
    from ledger.risk import MAX_CREDIT, choose

    ids = [f"D{i}" for i in range(10)]
    scores = [0.9] + [0.1] * 9
    by_risk, _, credited = choose(ids, scores, rate=0.1, exploration=0.0, credits={"D0": 1.0})
    assert credited[0] == pytest.approx(0.9 - MAX_CREDIT)
    assert by_risk == [0], "a credited declaration still ranks by its lowered score"
    assert org_hex  # imported helper used by the other tests of this package


@pytest.fixture
def indexed_client(
    settings: GatewaySettings,
    chain_services: GatewayServices,
    custodial: dict[str, str],
    ledger: Ledger,
    tmp_path: Path,
) -> Iterator[httpx.Client]:
    """The chain gateway with an index of the demo world: selection runs the verifier."""
    index = Index(f"sqlite:///{tmp_path / 'index.sqlite3'}", ledger)
    index.sync()
    assert chain_services.chain is not None
    chain = LedgerServices(
        ledger=ledger, signing_keys=chain_services.chain.signing_keys, index=index
    )
    services = GatewayServices(relayer=chain_services.relayer, chain=chain)
    with serve(create_app(settings, services=services)) as http:
        yield http


@pytest.mark.usefixtures("trained")
def test_selection_shows_the_verification_findings_behind_a_declaration(
    indexed_client: httpx.Client, party_keys: dict[str, IssuedKey], world: DemoWorld
) -> None:
    exporter = party_keys["exporter"]
    genuine = lodged(indexed_client, exporter, declaration_body(world))
    laundered = lodged(indexed_client, exporter, declaration_body(world, origin_country="NZ"))
    sel = indexed_client.get(
        "/risk/selection", params={"rate": 1.0, "exploration": 0}, headers=auth(party_keys["cn"])
    )
    assert sel.status_code == 200, sel.text
    by_id = {i["declaration_id"]: i for i in sel.json()["items"]}
    assert set(by_id) == {genuine, laundered}
    serious = {
        f["code"] for f in by_id[laundered]["findings"] if f["severity"] in ("critical", "warning")
    }
    assert {"ORIGIN_MISMATCH", "CERT_ISSUER_NOT_AUTHORISED"} <= serious
    sources = {f["code"]: f["source"] for f in by_id[laundered]["findings"]}
    assert sources["CERT_ISSUER_NOT_AUTHORISED"] == "certificate"
    assert sources["ORIGIN_MISMATCH"] == "consignment"
    genuine_serious = {f["code"] for f in by_id[genuine]["findings"] if f["severity"] == "critical"}
    assert not genuine_serious & serious - {"aeo_recognised"}, (genuine_serious, serious)
    # the ledger's critical findings move the score, and the reasons say so
    assert any("critical finding" in r for r in by_id[laundered]["reasons"])
    assert not any("critical finding" in r for r in by_id[genuine]["reasons"])
