"""Read routes over the log index and the contract views, through the typed client."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from gateway.auth import IssuedKey, KeyStore
from gateway.client import GatewayClient
from gateway.config import GatewaySettings
from gateway.errors import InvalidRequest, NotFound, PermissionDenied, ServiceUnavailable
from gateway.main import create_app
from gateway.services import GatewayServices
from gateway.writes.ledger_services import LedgerServices
from gateway.writes.relayer import ContractRelayer
from ledger.chain import Ledger, TxManager
from ledger.index import Index
from ledger.records import certificate_id
from ledger.stack import DemoWorld
from tests.conftest import RELAYER_KEY
from tests.gateway.chain_cases import iso
from tests.gateway.conftest import org_hex, serve, signing_key_store
from tests.gateway.writes.test_chain_relay import wait_final


@pytest.fixture
def index(ledger: Ledger, tmp_path: Path) -> Index:
    return Index(f"sqlite:///{tmp_path / 'index.sqlite3'}", ledger)


@pytest.fixture
def indexed_client(
    settings: GatewaySettings,
    ledger: Ledger,
    relayer_tx: TxManager,
    index: Index,
    world: DemoWorld,
    tmp_path: Path,
) -> Iterator[httpx.Client]:
    store = signing_key_store(tmp_path / "keystore")
    for party in world.parties.values():
        store.add(org_hex(party), party.private_key)
    services = GatewayServices(
        relayer=ContractRelayer(ledger, relayer_tx, RELAYER_KEY),
        chain=LedgerServices(ledger=ledger, signing_keys=store, index=index),
        index_lag=index.lag,
    )
    with serve(create_app(settings, services=services)) as http:
        yield http


def _client(http: httpx.Client, key: IssuedKey) -> GatewayClient:
    return GatewayClient("http://testserver", key.token, http=http)


def test_reads_answer_from_index_and_contracts(
    indexed_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    ledger: Ledger,
    world: DemoWorld,
    index: Index,
) -> None:
    carrier = _client(indexed_client, party_keys["carrier"])
    chamber = _client(indexed_client, party_keys["chamber"])
    exporter = _client(indexed_client, party_keys["exporter"])
    customs = _client(indexed_client, party_keys["au"])
    now = datetime.now(UTC)
    ref = f"READS-{secrets.token_hex(4)}"
    number = f"CERT-READS-{secrets.token_hex(4)}"
    exporter_id = org_hex(world.parties["exporter"])
    ids = [
        carrier.register_consignment(
            {"consignment_ref": ref, "origin": "AU", "destination": "CN", "consignor": exporter_id}
        ).record_id,
        chamber.issue_certificate(
            {
                "certificate_number": number,
                "exporter": exporter_id,
                "origin": "AU",
                "destination": "CN",
                "document_digest": "0x" + "d0" * 32,
                "hs_codes": ["2204.21"],
                "quantity": {"amount": "12", "unit": "TNE"},
                "valid_from": iso(int(now.timestamp()) - 3600),
                "valid_until": iso(int(now.timestamp()) + 86_400 * 30),
            }
        ).record_id,
    ]
    wait_final(indexed_client, party_keys["carrier"], ids[:1])
    wait_final(indexed_client, party_keys["chamber"], ids[1:])
    steps = [("loading", "AUADL"), ("departing", "AUADL"), ("arriving", "CNSHA")]
    bulk = carrier.post_events(
        [
            {
                "consignment_ref": ref,
                "biz_step": step,
                "disposition": "in_transit",
                "location": where,
                "event_time": iso(int(now.timestamp()) - 600 + i),
                "container": "CSQU3054383",
            }
            for i, (step, where) in enumerate(steps)
        ]
    )
    cert_id = "0x" + certificate_id(world.parties["chamber"].org_id, number).hex()
    # In the certificate's unit (TNE) 2,500 kg is not a whole number: refused, not rounded.
    with pytest.raises(InvalidRequest) as fraction:
        exporter.draw_down(
            {
                "certificate_id": cert_id,
                "consignment_ref": ref,
                "quantity": {"amount": "2500", "unit": "KGM"},
            }
        )
    assert (fraction.value.status_code, fraction.value.rule) == (422, "quantity")
    drawdown = exporter.draw_down(
        {
            "certificate_id": cert_id,
            "consignment_ref": ref,
            "quantity": {"amount": "2000", "unit": "KGM"},
        }
    )
    attestation = customs.attest(
        {
            "schema": "seal-check(bytes32 sealDigest,bool intact)",
            "subject_type": "consignment",
            "subject_ref": ref,
            "data_digest": "0x" + "5c" * 32,
        }
    )
    wait_final(
        indexed_client,
        party_keys["carrier"],
        [i.record.record_id for i in bulk.items if i.record is not None],
    )
    wait_final(indexed_client, party_keys["exporter"], [drawdown.record_id])
    wait_final(indexed_client, party_keys["au"], [attestation.record_id])
    index.sync()

    consignment = carrier.consignment(ref)
    head, _ = ledger.consignments.head(bytes.fromhex(consignment.consignment_id[2:]))
    assert (consignment.origin, consignment.destination, consignment.event_count) == ("AU", "CN", 3)
    assert consignment.head == "0x" + head.hex()
    assert consignment.consignor == exporter_id

    timeline = carrier.timeline(ref)
    assert timeline.head_matches_chain
    assert [(e.biz_step, e.location) for e in timeline.events] == steps
    assert {e.container for e in timeline.events} == {"CSQU3054383"}
    assert timeline.events[-1].head == "0x" + head.hex()

    certificate = customs.certificate(cert_id)
    assert (certificate.quantity, certificate.unit, certificate.drawn) == (12, "TNE", 2)
    assert certificate.remaining == 10
    assert certificate.usable_now
    assert certificate.drawdowns is not None
    assert [d.consignment_id for d in certificate.drawdowns] == [consignment.consignment_id]

    attestations = customs.attestations(ref)
    assert len(attestations.items) == 1
    uid = attestations.items[0].uid
    assert attestations.items[0].valid
    single = customs.attestation(uid)
    assert (single.attester, single.subject_id) == (
        org_hex(world.parties["au"]),
        consignment.consignment_id,
    )

    aeo_now = customs.operator_aeo(exporter_id)
    assert [(c.programme, c.status, c.in_force) for c in aeo_now.certifications] == [
        ("AEOF", "active", True)
    ]
    before = customs.operator_aeo(exporter_id, at=now - timedelta(days=30))
    assert before.certifications == []

    cn_id, au_id = org_hex(world.parties["cn"]), org_hex(world.parties["au"])
    via_mra = customs.recognition(operator_id=exporter_id, administration=cn_id)
    assert via_mra.recognised
    assert via_mra.mra_id == "0x" + world.mra_id.hex()
    direct = customs.recognition(operator_id=exporter_id, administration=au_id)
    assert direct.recognised
    assert direct.mra_id is None
    mras = customs.mras(au_id, cn_id)
    assert [(m.mra_id, m.in_force) for m in mras.items] == [("0x" + world.mra_id.hex(), True)]

    directory = customs.organisations()
    assert {o.org_id: o.kind for o in directory.items} == {
        org_hex(p): {1: "customs", 2: "carrier", 3: "trader", 4: "issuing_body"}.get(p.kind, "?")
        for p in world.parties.values()
    }
    carrier_org = customs.organisation(org_hex(world.parties["carrier"]))
    assert carrier_org.keys is not None
    assert [k.key for k in carrier_org.keys if k.valid_now] == [world.parties["carrier"].address]


def test_reads_of_unknown_things_are_404(
    chain_client: httpx.Client, party_keys: dict[str, IssuedKey]
) -> None:
    client = _client(chain_client, party_keys["au"])
    with pytest.raises(NotFound) as consignment:
        client.consignment("NO-SUCH-UCR")
    assert consignment.value.code == "UnknownConsignment"
    with pytest.raises(NotFound) as certificate:
        client.certificate("0x" + "00" * 31 + "01")
    assert certificate.value.code == "UnknownCertificate"
    with pytest.raises(NotFound):
        client.attestation("0x" + "00" * 31 + "02")
    with pytest.raises(NotFound):
        client.organisation("0x" + "00" * 31 + "03")


def test_without_an_index_history_queries_are_503_and_views_still_answer(
    chain_client: httpx.Client, party_keys: dict[str, IssuedKey], world: DemoWorld
) -> None:
    client = _client(chain_client, party_keys["au"])
    with pytest.raises(ServiceUnavailable) as timeline:
        client.timeline(world.consignment_ref)
    assert timeline.value.code == "index_unavailable"
    assert client.consignment(world.consignment_ref).event_count == 5
    directory = client.organisations()
    assert len(directory.items) == 5
    assert all(o.keys is None for o in directory.items)
    exporter_id = org_hex(world.parties["exporter"])
    assert [c.programme for c in client.operator_aeo(exporter_id).certifications] == ["AEOF"]


def test_reads_need_the_read_scope(
    chain_client: httpx.Client, keys: KeyStore, world: DemoWorld
) -> None:
    writer = keys.issue(
        org_id=org_hex(world.parties["carrier"]),
        org_kind="carrier",
        country="SG",
        scopes=["events:write"],
    )
    with pytest.raises(PermissionDenied) as denied:
        _client(chain_client, writer).consignment(world.consignment_ref)
    assert denied.value.code == "missing_scope"


def test_the_directory_names_organisations(
    chain_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    world: DemoWorld,
    settings: GatewaySettings,
) -> None:
    headers = {"Authorization": f"Bearer {party_keys['au'].token}"}
    items = chain_client.get("/organisations", headers=headers).json()["items"]
    assert {o["org_id"]: o["name"] for o in items} == {
        org_hex(p): p.name for p in world.parties.values()
    }
    carrier = org_hex(world.parties["carrier"])
    one = chain_client.get(f"/organisations/{carrier}", headers=headers).json()
    assert one["name"] == "Oceanic Container Line"
    # A names file that does not read is the operator's to fix: 503 naming it.
    (settings.data_dir / "organisation-names.json").write_text("{not json", encoding="utf-8")
    broken = chain_client.get("/organisations", headers=headers)
    assert broken.status_code == 503
    assert broken.json()["error"]["code"] == "organisation_names_unreadable"
    assert "organisation-names.json" in broken.json()["error"]["message"]
