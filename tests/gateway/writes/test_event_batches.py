"""Events signed together (``POST /events/batch/signed``): relayed as one ``postEventBatch``
transaction, one record per event, exactly once; and refused at submission, as a whole,
for everything the contract would refuse (wrong signer, revoked or expired key, replay,
wrong organisation, wrong role, malformed input)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from eth_account import Account

from gateway.auth import IssuedKey, KeyStore, Scope
from gateway.client import GatewayClient
from gateway.errors import IdempotencyConflict, PermissionDenied
from gateway.writes.outbox import RecordStatus
from ledger.chain import Ledger
from ledger.records import (
    BusinessStep,
    ConsignmentEvent,
    Locode,
    SignedEventBatch,
    consignment_id,
    sign_event_batch,
)
from ledger.stack import DemoWorld
from tests.gateway.chain_cases import assert_nothing_stored, chain_now, iso, status_and_code
from tests.gateway.conftest import auth, org_hex
from tests.gateway.writes.test_chain_relay import wait_final
from tests.gateway.writes.test_write_errors import _extra_keys

PATH = "/events/batch/signed"


def _events(
    ledger: Ledger, world: DemoWorld, count: int, *, start: int = 0
) -> list[ConsignmentEvent]:
    now = chain_now(ledger)
    return [
        ConsignmentEvent(
            consignment_id=world.consignment_id,
            biz_step=BusinessStep("sensor_reporting").code,
            location=Locode("CNSHA").to_bytes5(),
            event_time=now - 300 + start + i,
            nonce=0,
            deadline=0,
        )
        for i in range(count)
    ]


def _signed(
    ledger: Ledger,
    world: DemoWorld,
    count: int = 3,
    *,
    key: bytes | str | None = None,
    nonce: int | None = None,
) -> SignedEventBatch:
    signer = world.parties["carrier"].private_key if key is None else key
    return sign_event_batch(
        _events(ledger, world, count),
        signer,
        ledger.consignments.domain,
        nonce=(91 << 8) + 1 if nonce is None else nonce,
        deadline=chain_now(ledger) + 3600,
    )


def _body(batch: SignedEventBatch) -> dict[str, Any]:
    return {
        "events": [event.json_message() for event in batch.events],
        "signature": "0x" + batch.signature.hex(),
    }


def test_a_signed_batch_is_one_transaction_and_one_record_per_event(
    chain_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    ledger: Ledger,
    world: DemoWorld,
) -> None:
    key = party_keys["carrier"]
    client = GatewayClient("http://testserver", key.token, http=chain_client)
    head_before, count_before = ledger.consignments.head(world.consignment_id)
    batch = client.sign_event_batch(
        _events(ledger, world, 40),
        world.parties["carrier"].private_key,
        nonce=(92 << 8) + 5,
        deadline=chain_now(ledger) + 3600,
    )
    view = client.post_event_batch(batch, idempotency_key=str(uuid.uuid4()))
    assert len(view.records) == 40
    assert view.signer == world.parties["carrier"].address
    assert (view.nonce, view.deadline) == (batch.record.nonce, batch.record.deadline)
    assert {r.signed_batch for r in view.records} == {view.batch_id}
    # Each event has the record id it would have if signed alone (same digest).
    domain = ledger.consignments.domain
    alone = [
        client.sign(event, world.parties["carrier"].private_key).record.digest(domain)
        for event in batch.events
    ]
    assert [r.record_id for r in view.records] == [
        "0x" + ledger.w3.keccak(bytes.fromhex(org_hex(world.parties["carrier"])[2:]) + d).hex()
        for d in alone
    ]
    ids = [r.record_id for r in view.records]
    views = wait_final(chain_client, key, ids)
    assert {v["status"] for v in views.values()} == {"confirmed"}
    # One postEventBatch transaction, a log per event, in batch order.
    txs = {v["tx_hash"] for v in views.values()}
    assert len(txs) == 1
    tx = ledger.w3.eth.get_transaction(txs.pop())
    selector = ledger.consignments.calldata("postEventBatch", *batch.onchain())[:4]
    assert bytes(tx["input"])[:4] == selector
    indices = [views[rid]["log_index"] for rid in ids]
    assert indices == sorted(indices)
    assert len(set(indices)) == 40
    head, count = ledger.consignments.head(world.consignment_id)
    assert count == count_before + 40
    expected = head_before
    carrier = world.parties["carrier"]  # the batch signer: each event's step names it
    for event in batch.events:
        expected = ledger.consignments.next_head(
            expected, event.digest(domain), org_id=carrier.org_id, signer=carrier.address
        )
    assert head == expected
    # The same batch again: the stored records, nothing new.
    again = chain_client.post(PATH, json=_body(batch), headers=auth(key))
    assert again.status_code == 202
    assert again.headers["Idempotent-Replayed"] == "true"
    assert [r["record_id"] for r in again.json()["records"]] == ids
    assert {r["status"] for r in again.json()["records"]} == {"confirmed"}
    assert ledger.consignments.head(world.consignment_id)[1] == count


def test_typed_data_of_a_batch_signed_by_eth_account_is_accepted(
    unrelayed_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    ledger: Ledger,
    world: DemoWorld,
) -> None:
    key = party_keys["carrier"]
    now = chain_now(ledger)
    items = [
        {
            "consignment_ref": world.consignment_ref,
            "biz_step": step,
            "location": "AUADL",
            "event_time": iso(now - 60 + i),
            "container": "CSQU3054383",
        }
        for i, step in enumerate(["loading", "departing", "arriving"])
    ]
    typed = unrelayed_client.post(
        "/typed-data/event_batch", json={"items": items}, headers=auth(key)
    )
    assert typed.status_code == 200, typed.text
    data = typed.json()
    assert data["typed_data"]["primaryType"] == "EventBatch"
    assert len({e["nonce"] for e in data["events"]}) == 1
    signature = Account.sign_typed_data(
        world.parties["carrier"].private_key, full_message=data["typed_data"]
    ).signature
    response = unrelayed_client.post(
        PATH,
        json={"events": data["events"], "signature": "0x" + bytes(signature).hex()},
        headers=auth(key),
    )
    assert response.status_code == 202, response.text
    stored = response.json()
    assert stored["batch_id"] == data["batch_id"]
    assert [r["record_id"] for r in stored["records"]] == data["record_ids"]
    assert {r["status"] for r in stored["records"]} == {RecordStatus.ACCEPTED.value}


def test_bad_signers_are_refused_and_nothing_is_stored(
    unrelayed_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    ledger: Ledger,
    world: DemoWorld,
) -> None:
    key = party_keys["carrier"]
    revoked, expired = _extra_keys(ledger, world, "carrier")
    stranger = unrelayed_client.post(
        PATH, json=_body(_signed(ledger, world, key=Account.create().key)), headers=auth(key)
    )
    assert status_and_code(stranger) == (403, "UnknownKey")
    by_revoked = unrelayed_client.post(
        PATH, json=_body(_signed(ledger, world, key=revoked.key)), headers=auth(key)
    )
    assert status_and_code(by_revoked) == (403, "KeyRevoked")
    by_expired = unrelayed_client.post(
        PATH, json=_body(_signed(ledger, world, key=expired.key)), headers=auth(key)
    )
    assert status_and_code(by_expired) == (403, "KeyExpired")
    # A genuine signature over altered events (or reordered ones) recovers another address.
    genuine = _body(_signed(ledger, world))
    altered = dict(genuine, events=[dict(e) for e in genuine["events"]])
    altered["events"][1]["bizStep"] = 21
    assert status_and_code(unrelayed_client.post(PATH, json=altered, headers=auth(key))) == (
        403,
        "UnknownKey",
    )
    reordered = dict(genuine, events=genuine["events"][::-1])
    assert status_and_code(unrelayed_client.post(PATH, json=reordered, headers=auth(key))) == (
        403,
        "UnknownKey",
    )
    # A key of this organisation with the API key of another.
    other = party_keys["exporter"]
    wrong_org = unrelayed_client.post(PATH, json=genuine, headers=auth(other))
    assert status_and_code(wrong_org) == (403, "wrong_organisation")
    assert_nothing_stored(unrelayed_client, key, "event")
    # And the genuine one is accepted: the refusals were about the signer only.
    assert unrelayed_client.post(PATH, json=genuine, headers=auth(key)).status_code == 202


def test_wrong_role_and_missing_scope_are_refused(
    unrelayed_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    keys: KeyStore,
    ledger: Ledger,
    world: DemoWorld,
) -> None:
    # An issuing body that is no party of the consignment may not post its events.
    chamber = world.parties["chamber"]
    batch = _signed(ledger, world, key=chamber.private_key)
    response = unrelayed_client.post(PATH, json=_body(batch), headers=auth(party_keys["chamber"]))
    assert status_and_code(response) == (403, "NotConsignmentParty")
    assert response.json()["error"]["field"].startswith("events[0]")
    read_only = keys.issue(
        org_id=org_hex(world.parties["carrier"]),
        org_kind="carrier",
        country=world.parties["carrier"].country,
        scopes=(Scope.READ,),
    )
    response = unrelayed_client.post(
        PATH, json=_body(_signed(ledger, world)), headers=auth(read_only)
    )
    assert status_and_code(response) == (403, "missing_scope")
    assert_nothing_stored(unrelayed_client, party_keys["carrier"], "event")


def test_replays_and_held_nonces_are_refused(
    unrelayed_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    ledger: Ledger,
    world: DemoWorld,
) -> None:
    key = party_keys["carrier"]
    # Recorded by another relayer already: the nonce is used on chain.
    recorded = _signed(ledger, world, nonce=(93 << 8) + 1)
    ledger.consignments.post_event_batch(recorded)
    response = unrelayed_client.post(PATH, json=_body(recorded), headers=auth(key))
    assert status_and_code(response) == (409, "NonceAlreadyUsed")
    # A nonce held by a record on its way to the chain (accepted, not yet sent).
    first = _signed(ledger, world, 2, nonce=(93 << 8) + 2)
    assert unrelayed_client.post(PATH, json=_body(first), headers=auth(key)).status_code == 202
    other = sign_event_batch(
        _events(ledger, world, 2, start=50),
        world.parties["carrier"].private_key,
        ledger.consignments.domain,
        nonce=(93 << 8) + 2,
        deadline=chain_now(ledger) + 3600,
    )
    response = unrelayed_client.post(PATH, json=_body(other), headers=auth(key))
    assert status_and_code(response) == (409, "NonceAlreadyUsed")
    # ... and so is a single event signed with that nonce.
    alone = _events(ledger, world, 1, start=70)[0]
    single = ledger.sign(
        ConsignmentEvent(
            **{**_fields(alone), "nonce": (93 << 8) + 2, "deadline": other.record.deadline}
        ),
        world.parties["carrier"].private_key,
    )
    response = unrelayed_client.post(
        "/events/signed",
        json={"message": single.record.json_message(), "signature": "0x" + single.signature.hex()},
        headers=auth(key),
    )
    assert status_and_code(response) == (409, "NonceAlreadyUsed")
    # An event already stored with its batch, sent again in another batch (here: alone).
    client = GatewayClient("http://testserver", key.token, http=unrelayed_client)
    part = sign_event_batch(
        first.events[:1], world.parties["carrier"].private_key, ledger.consignments.domain
    )
    with pytest.raises(IdempotencyConflict) as raised:
        client.post_event_batch(part)
    assert raised.value.field == "events[0]"


def _fields(event: ConsignmentEvent) -> dict[str, Any]:
    return {attr: getattr(event, attr) for attr, _, _ in event.FIELDS}


def test_an_event_that_would_fail_refuses_the_whole_batch(
    unrelayed_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    ledger: Ledger,
    world: DemoWorld,
) -> None:
    key = party_keys["carrier"]
    events = _events(ledger, world, 3)
    events[1] = ConsignmentEvent(
        **{
            **_fields(events[1]),
            "consignment_id": consignment_id(
                "NEVER-REGISTERED", registrant=world.parties["carrier"].org_id
            ),
        }
    )
    batch = sign_event_batch(
        events,
        world.parties["carrier"].private_key,
        ledger.consignments.domain,
        nonce=(94 << 8) + 1,
        deadline=chain_now(ledger) + 3600,
    )
    response = unrelayed_client.post(PATH, json=_body(batch), headers=auth(key))
    assert status_and_code(response) == (404, "UnknownConsignment")
    assert response.json()["error"]["field"] == "events[1]"
    assert_nothing_stored(unrelayed_client, key, "event")


def test_malformed_batches_are_422(
    unrelayed_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    ledger: Ledger,
    world: DemoWorld,
) -> None:
    key = party_keys["carrier"]
    good = _body(_signed(ledger, world))

    def post(body: dict[str, Any]) -> tuple[int, str, str | None]:
        response = unrelayed_client.post(PATH, json=body, headers=auth(key))
        error = response.json()["error"]
        return response.status_code, error["code"], error.get("field")

    assert post(dict(good, events=[]))[0] == 422
    assert post(dict(good, events=good["events"] * 400))[0] == 422  # 1,200 > 1,000
    assert post(dict(good, signature="0x1234"))[0] == 422
    mixed = dict(good, events=[dict(e) for e in good["events"]])
    mixed["events"][2]["nonce"] += 1
    status, _, field = post(mixed)
    assert (status, field) == (422, "events[2]")
    broken = dict(good, events=[dict(e) for e in good["events"]])
    broken["events"][0]["location"] = "0x1234"
    status, _, field = post(broken)
    assert (status, field) == (422, "events[0].location")
    twice = _signed(ledger, world, 1)
    doubled = sign_event_batch(
        [twice.events[0], twice.events[0]],
        world.parties["carrier"].private_key,
        ledger.consignments.domain,
    )
    assert post(_body(doubled)) == (422, "invalid_request", "events[1]")
    assert_nothing_stored(unrelayed_client, key, "event")


def test_client_errors_are_raised(
    unrelayed_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    ledger: Ledger,
    world: DemoWorld,
) -> None:
    client = GatewayClient("http://testserver", party_keys["carrier"].token, http=unrelayed_client)
    with pytest.raises(PermissionDenied) as raised:
        client.post_event_batch(_signed(ledger, world, key=Account.create().key))
    assert raised.value.code == "UnknownKey"
