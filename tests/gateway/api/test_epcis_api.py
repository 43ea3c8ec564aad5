"""EPCIS 2.0 over HTTP on the session chain: capture (custodial and client-signed), the
commitment relayed to EpcisCaptures and proven event by event, the simple query, events by
id and EPC, the consignment export, and the write path's refusals."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from _pytest.mark import ParameterSet
from eth_account import Account

from gateway.auth import IssuedKey, KeyStore
from gateway.config import GatewaySettings
from gateway.main import create_app
from gateway.services import GatewayServices
from gateway.writes.ledger_services import LedgerServices
from gateway.writes.relayer import ContractRelayer
from ledger.chain import Ledger, TxManager
from ledger.epcis import document_hash_ids, load_document
from ledger.epcis.validation import check_document
from ledger.index import Index
from ledger.records import KeyAddition, KeyRevocation
from ledger.stack import DemoWorld
from tests.conftest import RELAYER_KEY
from tests.data_paths import data_params
from tests.gateway.conftest import auth, serve, signing_key_store

EXAMPLES = ("epcis", "examples")
INVALID = ("epcis", "invalid")
LD = {"Content-Type": "application/ld+json"}


def _files(folder: Path) -> list[ParameterSet]:
    return [pytest.param(p, id=p.stem) for p in sorted(folder.glob("*.json*"))]


def _services(ledger: Ledger, tmp_path: Path, *, relayer: TxManager | None) -> GatewayServices:
    store = signing_key_store(tmp_path / "keystore")
    index = Index(f"sqlite:///{tmp_path / 'index.db'}", ledger)
    chain = LedgerServices(ledger=ledger, signing_keys=store, index=index)
    relay = ContractRelayer(ledger, relayer, RELAYER_KEY) if relayer is not None else None
    return GatewayServices(relayer=relay, chain=chain)


def _custody(services: GatewayServices, world: DemoWorld) -> None:
    assert services.chain is not None
    assert services.chain.signing_keys is not None
    for party in world.parties.values():
        services.chain.signing_keys.add("0x" + party.org_id.hex(), party.private_key)


@pytest.fixture
def epcis_client(
    settings: GatewaySettings,
    ledger: Ledger,
    relayer_tx: TxManager,
    world: DemoWorld,
    tmp_path: Path,
) -> Iterator[httpx.Client]:
    """The gateway with an index and a relayer: captures reach the chain."""
    services = _services(ledger, tmp_path, relayer=relayer_tx)
    _custody(services, world)
    with serve(create_app(settings, services=services)) as http:
        yield http


@pytest.fixture
def unrelayed(
    settings: GatewaySettings, ledger: Ledger, world: DemoWorld, tmp_path: Path
) -> Iterator[httpx.Client]:
    """The gateway with an index and no relayer: every request meets the same chain state."""
    services = _services(ledger, tmp_path, relayer=None)
    _custody(services, world)
    with serve(create_app(settings, services=services)) as http:
        yield http


def _wait(client: httpx.Client, key: IssuedKey, capture_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        view: dict[str, Any] = client.get(f"/epcis/capture/{capture_id}", headers=auth(key)).json()
        if view.get("status") in ("confirmed", "failed"):
            return view
        time.sleep(0.05)
    raise AssertionError(f"capture {capture_id} not committed in 30 s")


def _capture(
    client: httpx.Client, key: IssuedKey, document: dict[str, Any] | bytes
) -> httpx.Response:
    body = document if isinstance(document, bytes) else json.dumps(document).encode()
    return client.post("/epcis/capture", content=body, headers={**auth(key), **LD})


def _shipment(world: DemoWorld, *, serial: str = "7001", time_: str = "2026-11-20T08:00:00Z"):
    """An ObjectEvent shipping one wine case under the demo consignment's reference, in a
    container (SSCC), with an ILMD-free extension kept whole."""
    return {
        "@context": [
            "https://ref.gs1.org/standards/epcis/epcis-context.jsonld",
            {"example": "https://ns.example.com/epcis/"},
        ],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-11-20T08:05:00Z",
        "epcisBody": {
            "eventList": [
                {
                    "type": "ObjectEvent",
                    "eventTime": time_,
                    "eventTimeZoneOffset": "+10:30",
                    "epcList": [f"urn:epc:id:sgtin:9312345.012345.{serial}"],
                    "action": "OBSERVE",
                    "bizStep": "shipping",
                    "disposition": "in_transit",
                    "readPoint": {"id": "urn:epc:id:sgln:9312345.00001.0"},
                    "bizLocation": {"id": "urn:epc:id:sgln:9312345.00001.0"},
                    "bizTransactionList": [
                        {
                            "type": "bol",
                            "bizTransaction": f"urn:example:ucr:{world.consignment_ref}",
                        }
                    ],
                    "example:temperatureLog": {"example:max": 18.5, "example:unit": "CEL"},
                },
                {
                    "type": "AggregationEvent",
                    "eventTime": time_,
                    "eventTimeZoneOffset": "+10:30",
                    "parentID": "urn:epc:id:sscc:9312345.0000000001",
                    "childEPCs": [f"urn:epc:id:sgtin:9312345.012345.{serial}"],
                    "action": "ADD",
                    "bizStep": "packing",
                    "disposition": "in_progress",
                    "bizLocation": {"id": "urn:epc:id:sgln:9312345.00001.0"},
                },
            ]
        },
    }


# ---------------------------------------------------------------------------- capture


@pytest.mark.parametrize("path", data_params(EXAMPLES, _files))
def test_gs1_example_is_captured_committed_and_provable(
    path: Path,
    epcis_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    ledger: Ledger,
) -> None:
    key = party_keys["carrier"]
    document = load_document(path)
    response = _capture(epcis_client, key, path.read_bytes())
    assert response.status_code == 202, response.text
    capture_id = response.json()["captureID"]
    assert response.headers["Location"] == f"/epcis/capture/{capture_id}"
    view = _wait(epcis_client, key, capture_id)
    assert view["status"] == "confirmed", view
    assert view["success"] is True, view
    committed = ledger.epcis.capture(bytes.fromhex(capture_id[2:]))
    assert "0x" + committed.root.hex() == view["root"]
    assert committed.event_count == len(document_hash_ids(document))
    for hash_id in document_hash_ids(document):
        answer = epcis_client.get(
            f"/epcis/events/{quote(hash_id, safe='')}", params={"proof": "true"}, headers=auth(key)
        ).json()
        events = answer["document"]["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
        assert hash_id in document_hash_ids(answer["document"])
        proof = next(p for p in answer["proofs"] if p["captureID"] == capture_id)
        digest = bytes.fromhex(hash_id.split(";")[1].split("?")[0])
        siblings = [bytes.fromhex(s[2:]) for s in proof["proof"]]
        assert ledger.epcis.prove_event(committed.capture_id, digest, siblings)
        assert len(events) >= 1


def test_capture_keeps_extensions_and_answers_queries(
    epcis_client: httpx.Client, party_keys: dict[str, IssuedKey], world: DemoWorld
) -> None:
    key = party_keys["exporter"]
    document = _shipment(world)
    response = _capture(epcis_client, key, document)
    assert response.status_code == 202, response.text
    _wait(epcis_client, key, response.json()["captureID"])

    def events(**params: Any) -> list[dict[str, Any]]:
        answer = epcis_client.get("/epcis/events", params=params, headers=auth(key))
        assert answer.status_code == 200, answer.text
        result: list[dict[str, Any]] = answer.json()["epcisBody"]["queryResults"]["resultsBody"][
            "eventList"
        ]
        return result

    assert [e["type"] for e in events(eventType="AggregationEvent")] == ["AggregationEvent"]
    shipped = events(EQ_bizStep="https://ref.gs1.org/cbv/BizStep-shipping")
    assert len(shipped) == 1
    assert shipped[0]["example:temperatureLog"] == {"example:max": 18.5, "example:unit": "CEL"}
    assert len(events(EQ_bizStep="urn:epcglobal:cbv:bizstep:shipping")) == 1
    assert len(events(EQ_disposition="in_transit")) == 1
    # MATCH_epc: epcList and childEPCs; a Digital Link spelling finds the EPC URN.
    dl = "https://example.org/01/09312345123452/21/7001"
    assert len(events(MATCH_epc=dl)) == 2
    assert len(events(MATCH_epc="urn:epc:id:sscc:9312345.0000000001")) == 0
    assert len(events(MATCH_anyEPC="urn:epc:id:sscc:9312345.0000000001")) == 1
    assert len(events(EQ_bizLocation="urn:epc:id:sgln:9312345.00001.0")) == 2
    assert len(events(EQ_readPoint="urn:epc:id:sgln:9312345.00001.0")) == 1
    assert (
        len(events(GE_eventTime="2026-11-20T08:00:00Z", LT_eventTime="2026-11-20T09:00:00Z")) == 2
    )
    assert events(GE_eventTime="2026-11-20T08:00:00.001Z") == []
    assert events(LT_eventTime="2026-11-20T18:30:00+10:30") == []
    by_epc = epcis_client.get(
        "/epcis/epcs/urn:epc:id:sgtin:9312345.012345.7001/events", headers=auth(key)
    ).json()
    assert len(by_epc["epcisBody"]["queryResults"]["resultsBody"]["eventList"]) == 2
    assert check_document(by_epc)[0].pointer == "/type"  # a query document, not a capture


def test_paging_with_next_page_token(
    epcis_client: httpx.Client, party_keys: dict[str, IssuedKey], world: DemoWorld
) -> None:
    key = party_keys["carrier"]
    for serial in ("1", "2"):
        response = _capture(epcis_client, key, _shipment(world, serial=serial))
        assert response.status_code == 202, response.text
    seen: list[str] = []
    url: str | None = "/epcis/events?perPage=3"
    pages = 0
    while url is not None:
        answer = epcis_client.get(url, headers=auth(key))
        assert answer.status_code == 200, answer.text
        document = answer.json()
        seen.extend(document_hash_ids(document))
        link = answer.headers.get("Link")
        url = link.split(";")[0].strip("<>") if link else None
        pages += 1
    assert pages == 2
    assert len(seen) == 4
    assert len(set(seen)) == 4
    bad = epcis_client.get("/epcis/events?nextPageToken=%%%", headers=auth(key))
    assert bad.status_code == 422
    assert bad.json()["error"]["field"] == "nextPageToken"


def test_consignment_export_validates_and_matches_commitment(
    epcis_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    world: DemoWorld,
    ledger: Ledger,
) -> None:
    key = party_keys["carrier"]
    document = _shipment(world)
    response = _capture(epcis_client, key, document)
    capture_id = response.json()["captureID"]
    _wait(epcis_client, key, capture_id)
    answer = epcis_client.get(
        f"/epcis/consignments/{world.consignment_ref}",
        params={"container": "urn:epc:id:sscc:9312345.0000000001", "proof": "true"},
        headers=auth(key),
    ).json()
    exported = answer["document"]
    assert check_document(exported) == []
    assert sorted(document_hash_ids(exported)) == sorted(document_hash_ids(document))
    committed = ledger.epcis.capture(bytes.fromhex(capture_id[2:]))
    for hash_id, proof in zip(document_hash_ids(exported), answer["proofs"], strict=True):
        assert proof["eventHashID"] == hash_id
        digest = bytes.fromhex(hash_id.split(";")[1].split("?")[0])
        siblings = [bytes.fromhex(s[2:]) for s in proof["proof"]]
        assert ledger.epcis.prove_event(committed.capture_id, digest, siblings)
    only_ref = epcis_client.get(
        f"/epcis/consignments/{world.consignment_ref}", headers=auth(key)
    ).json()
    assert len(only_ref["epcisBody"]["eventList"]) == 1  # the shipping event names the UCR


# ---------------------------------------------------------------------------- refusals


@pytest.mark.parametrize("path", data_params(INVALID, _files))
def test_invalid_document_is_refused_whole_and_nothing_is_stored(
    path: Path, unrelayed: httpx.Client, party_keys: dict[str, IssuedKey]
) -> None:
    key = party_keys["carrier"]
    response = unrelayed.post(
        "/epcis/capture", content=path.read_bytes(), headers={**auth(key), **LD}
    )
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "epcis_document_rejected"
    assert error["details"]
    for detail in error["details"]:
        assert set(detail) == {"event_index", "pointer", "rule", "message"}
    stored = unrelayed.get("/epcis/events", headers=auth(key)).json()
    assert stored["epcisBody"]["queryResults"]["resultsBody"]["eventList"] == []


def test_malformed_bodies(unrelayed: httpx.Client, party_keys: dict[str, IssuedKey]) -> None:
    key = party_keys["carrier"]
    not_json = unrelayed.post("/epcis/capture", content=b"{", headers={**auth(key), **LD})
    assert not_json.status_code == 422
    assert not_json.json()["error"]["rule"] == "json"
    wrong_type = unrelayed.post(
        "/epcis/capture", content=b"{}", headers={**auth(key), "Content-Type": "text/xml"}
    )
    assert wrong_type.status_code == 422
    assert wrong_type.json()["error"]["field"] == "Content-Type"
    array = unrelayed.post("/epcis/capture", content=b"[]", headers={**auth(key), **LD})
    assert array.status_code == 422
    assert array.json()["error"]["field"] == "body"


def test_issuing_body_may_not_capture(
    unrelayed: httpx.Client, party_keys: dict[str, IssuedKey], world: DemoWorld
) -> None:
    response = _capture(unrelayed, party_keys["chamber"], _shipment(world))
    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == "WrongKind"


def test_missing_scope_is_refused(
    unrelayed: httpx.Client, keys: KeyStore, world: DemoWorld
) -> None:
    party = world.parties["carrier"]
    reader = keys.issue(
        org_id="0x" + party.org_id.hex(), org_kind="carrier", country=party.country, scopes=["read"]
    )
    response = _capture(unrelayed, reader, _shipment(world))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "missing_scope"


def _typed(client: httpx.Client, key: IssuedKey, document: dict[str, Any]) -> dict[str, Any]:
    response = client.post(
        "/epcis/capture/typed-data", content=json.dumps(document), headers={**auth(key), **LD}
    )
    assert response.status_code == 200, response.text
    typed: dict[str, Any] = response.json()
    return typed


def _signed(document: dict[str, Any], typed: dict[str, Any], private_key: str) -> dict[str, Any]:
    signature = Account.sign_typed_data(private_key, full_message=typed["typed_data"]).signature
    return {
        "document": document,
        "message": typed["typed_data"]["message"],
        "signature": "0x" + bytes(signature).hex(),
    }


def test_client_signed_capture_is_committed(
    epcis_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    world: DemoWorld,
    ledger: Ledger,
) -> None:
    key, party = party_keys["carrier"], world.parties["carrier"]
    document = _shipment(world)
    typed = _typed(epcis_client, key, document)
    response = epcis_client.post(
        "/epcis/capture/signed", json=_signed(document, typed, party.private_key), headers=auth(key)
    )
    assert response.status_code == 202, response.text
    assert response.json()["record"]["record_id"] == typed["record_id"]
    view = _wait(epcis_client, key, typed["captureID"])
    assert view["status"] == "confirmed"
    committed = ledger.epcis.capture(bytes.fromhex(typed["captureID"][2:]))
    assert committed.org_id == party.org_id
    assert committed.signer == party.address
    # The same signed capture again: the same record, not a second commitment.
    again = epcis_client.post(
        "/epcis/capture/signed", json=_signed(document, typed, party.private_key), headers=auth(key)
    )
    assert again.status_code == 202
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json()["record"]["record_id"] == typed["record_id"]


def test_signed_capture_by_another_organisation_is_refused(
    unrelayed: httpx.Client, party_keys: dict[str, IssuedKey], world: DemoWorld
) -> None:
    document = _shipment(world)
    typed = _typed(unrelayed, party_keys["carrier"], document)
    body = _signed(document, typed, world.parties["exporter"].private_key)
    response = unrelayed.post(
        "/epcis/capture/signed", json=body, headers=auth(party_keys["carrier"])
    )
    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == "wrong_organisation"


def test_signed_capture_of_other_events_is_refused(
    unrelayed: httpx.Client, party_keys: dict[str, IssuedKey], world: DemoWorld
) -> None:
    key, party = party_keys["carrier"], world.parties["carrier"]
    document = _shipment(world)
    typed = _typed(unrelayed, key, document)
    altered = copy.deepcopy(document)
    altered["epcisBody"]["eventList"][0]["epcList"] = ["urn:epc:id:sgtin:9312345.012345.9999"]
    body = _signed(altered, typed, party.private_key)
    response = unrelayed.post("/epcis/capture/signed", json=body, headers=auth(key))
    assert response.status_code == 422, response.text
    assert response.json()["error"]["rule"] == "merkle_root"


def test_signed_capture_with_revoked_key_is_refused(
    unrelayed: httpx.Client,
    party_keys: dict[str, IssuedKey],
    world: DemoWorld,
    ledger: Ledger,
) -> None:
    key, party = party_keys["carrier"], world.parties["carrier"]
    revoked = Account.create()
    now = int(ledger.w3.eth.get_block("latest")["timestamp"])
    addition = KeyAddition(
        org_id=party.org_id, key=revoked.address, valid_from=now - 86400, valid_until=now + 86400
    )
    ledger.membership.add_key(ledger.sign(addition, party.private_key))
    ledger.membership.revoke_key(
        ledger.sign(
            KeyRevocation(org_id=party.org_id, key=revoked.address, deadline=now + 3600),
            party.private_key,
        )
    )
    document = _shipment(world)
    typed = _typed(unrelayed, key, document)
    body = _signed(document, typed, "0x" + bytes(revoked.key).hex())
    response = unrelayed.post("/epcis/capture/signed", json=body, headers=auth(key))
    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == "KeyRevoked"


def test_signed_capture_with_malformed_signature_is_refused(
    unrelayed: httpx.Client, party_keys: dict[str, IssuedKey], world: DemoWorld
) -> None:
    key, party = party_keys["carrier"], world.parties["carrier"]
    document = _shipment(world)
    typed = _typed(unrelayed, key, document)
    body = _signed(document, typed, party.private_key)
    body["signature"] = "0x1234"
    response = unrelayed.post("/epcis/capture/signed", json=body, headers=auth(key))
    assert response.status_code == 422, response.text


def test_unknown_capture_and_event(
    unrelayed: httpx.Client, party_keys: dict[str, IssuedKey]
) -> None:
    key = party_keys["carrier"]
    assert unrelayed.get("/epcis/capture/0x" + "00" * 32, headers=auth(key)).status_code == 404
    assert unrelayed.get("/epcis/events/urn:uuid:none", headers=auth(key)).status_code == 404
    bad_time = unrelayed.get("/epcis/events?GE_eventTime=yesterday", headers=auth(key))
    assert bad_time.status_code == 422
    assert bad_time.json()["error"]["field"] == "GE_eventTime"
    bad_type = unrelayed.get("/epcis/events?eventType=Party", headers=auth(key))
    assert bad_type.status_code == 422
    assert bad_type.json()["error"]["field"] == "eventType"


# ---------------------------------------------------------------------------- consignments


def _at_port(world: DemoWorld, *, when: str, place: str = "urn:un:locode:CNSGH") -> dict[str, Any]:
    document = _shipment(world, serial="8001", time_=when)
    first = document["epcisBody"]["eventList"][0]
    first["bizLocation"] = {"id": place}
    first["bizStep"] = "arriving"
    return document


def test_event_naming_a_consignment_joins_its_hash_chain(
    epcis_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    world: DemoWorld,
    ledger: Ledger,
) -> None:
    key = party_keys["carrier"]
    now = int(ledger.w3.eth.get_block("latest")["timestamp"])
    when = datetime.fromtimestamp(now - 600, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    document = _at_port(world, when=when)
    before = ledger.consignments.consignment(world.consignment_id).event_count
    response = _capture(epcis_client, key, document)
    assert response.status_code == 202, response.text
    body = response.json()
    (linked,) = body["consignmentEvents"]
    assert linked["event_index"] == 0
    assert linked["reference"] == world.consignment_ref
    assert body["notLinked"] == []  # the aggregation event names no consignment
    _wait(epcis_client, key, body["captureID"])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        view = epcis_client.get(f"/records/{linked['record_id']}", headers=auth(key)).json()
        if view["status"] in ("confirmed", "failed"):
            break
        time.sleep(0.05)
    assert view["status"] == "confirmed", view
    assert ledger.consignments.consignment(world.consignment_id).event_count == before + 1
    logs = ledger.w3.eth.get_logs(
        {
            "address": ledger.consignments.address,
            "fromBlock": view["block_number"],
            "toBlock": view["block_number"],
        }
    )
    recorded = [
        d.args for d in ledger.decode_logs(list(logs)) if d.event == "ConsignmentEventRecorded"
    ]
    digest = bytes.fromhex(document_hash_ids(document)[0].split(";")[1].split("?")[0])
    assert [bytes(r["epcisEventHash"]) for r in recorded] == [digest]


def test_event_without_locode_is_reported_not_linked(
    unrelayed: httpx.Client, party_keys: dict[str, IssuedKey], world: DemoWorld
) -> None:
    response = _capture(unrelayed, party_keys["carrier"], _shipment(world))
    assert response.status_code == 202, response.text
    assert response.json()["consignmentEvents"] == []
    (unlinked,) = response.json()["notLinked"]
    assert unlinked["reference"] == world.consignment_ref
    assert "urn:un:locode:" in unlinked["reason"]


def test_refused_consignment_event_refuses_the_capture_whole(
    unrelayed: httpx.Client,
    party_keys: dict[str, IssuedKey],
    world: DemoWorld,
    ledger: Ledger,
) -> None:
    key = party_keys["carrier"]
    now = int(ledger.w3.eth.get_block("latest")["timestamp"])
    later = datetime.fromtimestamp(now + 2 * 86400, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    response = _capture(unrelayed, key, _at_port(world, when=later))
    assert response.status_code in (409, 422), response.text
    assert "RecordTimeInFuture" in response.text
    stored = unrelayed.get("/epcis/events", headers=auth(key)).json()
    assert stored["epcisBody"]["queryResults"]["resultsBody"]["eventList"] == []


def test_event_naming_a_container_joins_the_consignment_that_carries_it(
    settings: GatewaySettings,
    ledger: Ledger,
    relayer_tx: TxManager,
    world: DemoWorld,
    party_keys: dict[str, IssuedKey],
    tmp_path: Path,
) -> None:
    services = _services(ledger, tmp_path, relayer=relayer_tx)
    _custody(services, world)
    assert services.chain is not None
    assert services.chain.index is not None
    index = services.chain.index
    key = party_keys["carrier"]
    now = int(ledger.w3.eth.get_block("latest")["timestamp"])
    document = {
        "@context": ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld"],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-11-20T08:05:00Z",
        "epcisBody": {
            "eventList": [
                {
                    "type": "ObjectEvent",
                    "eventTime": datetime.fromtimestamp(now - 300, UTC).strftime(
                        "%Y-%m-%dT%H:%M:%SZ"
                    ),
                    "eventTimeZoneOffset": "+08:00",
                    "epcList": ["urn:epc:id:bic:CSQU3054383"],
                    "action": "OBSERVE",
                    "bizStep": "inspecting",
                    "disposition": "in_progress",
                    "bizLocation": {"id": "urn:un:locode:CNSGH"},
                }
            ]
        },
    }
    with serve(create_app(settings, services=services)) as client:
        deadline = time.monotonic() + 30
        while not index.events_by_container("CSQU3054383") and time.monotonic() < deadline:
            time.sleep(0.05)
        response = _capture(client, key, document)
        assert response.status_code == 202, response.text
        (linked,) = response.json()["consignmentEvents"]
    assert linked["reference"] == "0x" + world.consignment_id.hex()


def test_bad_container_number_is_refused(
    unrelayed: httpx.Client, party_keys: dict[str, IssuedKey], world: DemoWorld
) -> None:
    document = _shipment(world)
    document["epcisBody"]["eventList"][0]["epcList"].append("urn:epc:id:bic:CSQU3054384")
    response = _capture(unrelayed, party_keys["carrier"], document)
    assert response.status_code == 422, response.text
    (detail,) = response.json()["error"]["details"]
    assert detail["rule"] == "iso6346"
    assert detail["pointer"] == "/epcisBody/eventList/0/epcList/1"


def test_numbers_come_back_exactly_so_hash_ids_stay_equal(
    unrelayed: httpx.Client, party_keys: dict[str, IssuedKey], world: DemoWorld
) -> None:
    key = party_keys["carrier"]
    text = json.dumps(_shipment(world)).replace(
        '"example:max": 18.5', '"example:max": 18.50000000000000000001'
    )
    assert "18.50000000000000000001" in text
    response = _capture(unrelayed, key, text.encode())
    assert response.status_code == 202, response.text
    sent = load_document(text.encode())
    (hash_id, _) = document_hash_ids(sent)
    answer = unrelayed.get(f"/epcis/events/{quote(hash_id, safe='')}", headers=auth(key))
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/ld+json")
    assert "18.50000000000000000001" in answer.text
    assert document_hash_ids(load_document(answer.content)) == [hash_id]
