"""Attestations signed together (``POST /attestations/batch/signed``): relayed as one
``attestSignedBatch`` transaction, one record per attestation, exactly once; and refused at
submission, as a whole, for everything the contract would refuse (wrong signer, revoked or
expired key, replay, wrong organisation, missing scope, malformed input)."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from eth_account import Account
from eth_utils.crypto import keccak

from gateway.auth import IssuedKey, KeyStore, Scope
from gateway.client import GatewayClient
from gateway.config import GatewaySettings
from gateway.db import create_gateway_engine
from gateway.errors import IdempotencyConflict, PermissionDenied
from gateway.writes.kinds import BATCH_DEADLINE_KEY
from gateway.writes.outbox import Outbox, RecordStatus
from ledger.chain import Ledger
from ledger.records import (
    ATTESTATION_BATCH_MAX,
    Approval,
    Attestation,
    Proposal,
    ProposalAction,
    SignedAttestationBatch,
    SubjectType,
    sign_attestation_batch,
)
from ledger.stack import DemoWorld
from tests.gateway.chain_cases import assert_nothing_stored, chain_now, status_and_code
from tests.gateway.conftest import auth, org_hex
from tests.gateway.writes.test_chain_relay import wait_final
from tests.gateway.writes.test_write_errors import _extra_keys

PATH = "/attestations/batch/signed"


def _attestations(world: DemoWorld, count: int, *, tag: str = "") -> list[Attestation]:
    label = tag or secrets.token_hex(4)
    return [
        Attestation(
            schema_id=world.schema_ids["seal-check"],
            subject_type=SubjectType.CONSIGNMENT,
            subject_id=world.consignment_id,
            data_digest=keccak(text=f"seal check {label} {i}"),
            deadline=4_102_444_800,  # 2100: far ahead of the tests' chain time
        )
        for i in range(count)
    ]


def _signed(
    ledger: Ledger,
    world: DemoWorld,
    count: int = 3,
    *,
    key: bytes | str | None = None,
    deadline: int | None = None,
) -> SignedAttestationBatch:
    signer = world.parties["au"].private_key if key is None else key
    return sign_attestation_batch(
        _attestations(world, count),
        signer,
        ledger.attestations.domain,
        deadline=chain_now(ledger) + 3600 if deadline is None else deadline,
    )


def _body(batch: SignedAttestationBatch) -> dict[str, Any]:
    return {
        "attestations": [a.json_message() for a in batch.attestations],
        "deadline": batch.deadline,
        "signature": "0x" + batch.signature.hex(),
    }


def test_a_signed_batch_is_one_transaction_and_one_record_per_attestation(
    chain_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    ledger: Ledger,
    world: DemoWorld,
) -> None:
    key = party_keys["au"]
    au = world.parties["au"]
    client = GatewayClient("http://testserver", key.token, http=chain_client)
    batch = client.sign_attestation_batch(
        _attestations(world, 30), au.private_key, deadline=chain_now(ledger) + 3600
    )
    view = client.post_attestation_batch(batch, idempotency_key=str(uuid.uuid4()))
    assert len(view.records) == 30
    assert view.signer == au.address
    assert view.deadline == batch.deadline
    assert {r.signed_batch for r in view.records} == {view.batch_id}
    assert {r.kind for r in view.records} == {"attestation"}
    # Each attestation has the record id it would have if signed alone (same digest) and the
    # uid it would get alone.
    domain = ledger.attestations.domain
    assert [r.record_id for r in view.records] == [
        "0x" + keccak(bytes.fromhex(org_hex(au)[2:]) + a.digest(domain)).hex()
        for a in batch.attestations
    ]
    assert view.uids == ["0x" + a.uid(au.org_id).hex() for a in batch.attestations]
    ids = [r.record_id for r in view.records]
    views = wait_final(chain_client, key, ids)
    assert {v["status"] for v in views.values()} == {"confirmed"}
    # One attestSignedBatch transaction, an Attested log per attestation, in batch order.
    txs = {v["tx_hash"] for v in views.values()}
    assert len(txs) == 1
    tx = ledger.w3.eth.get_transaction(txs.pop())
    selector = ledger.attestations.calldata("attestSignedBatch", *batch.onchain())[:4]
    assert bytes(tx["input"])[:4] == selector
    indices = [views[rid]["log_index"] for rid in ids]
    assert indices == sorted(indices)
    assert len(set(indices)) == 30
    for uid in view.uids:
        state = ledger.attestations.attestation(bytes.fromhex(uid[2:]))
        assert state.attester == au.org_id
        assert ledger.attestations.is_valid(bytes.fromhex(uid[2:]))
    # The same batch again: the stored records, nothing new.
    again = chain_client.post(PATH, json=_body(batch), headers=auth(key))
    assert again.status_code == 202
    assert again.headers["Idempotent-Replayed"] == "true"
    assert [r["record_id"] for r in again.json()["records"]] == ids
    assert {r["status"] for r in again.json()["records"]} == {"confirmed"}


def test_the_outbox_keeps_a_signed_batch_whole_with_its_deadline(
    unrelayed_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    settings: GatewaySettings,
    ledger: Ledger,
    world: DemoWorld,
) -> None:
    """The outbox (unchanged) groups the records of one signed batch as one batch of their
    own, whole and in order, even when there are more than its batch size."""
    batch = _signed(ledger, world, 7)
    response = unrelayed_client.post(PATH, json=_body(batch), headers=auth(party_keys["au"]))
    assert response.status_code == 202, response.text
    stored = response.json()
    engine = create_gateway_engine(settings.gateway_db_url)
    try:
        ready = Outbox(engine).ready_batches(max_size=3, linger=0.0)
    finally:
        engine.dispose()
    groups = [records for _, records in ready.batches if records[0].signed_batch]
    assert len(groups) == 1
    assert [r.record_id for r in groups[0]] == [r["record_id"] for r in stored["records"]]
    assert {r.payload[BATCH_DEADLINE_KEY] for r in groups[0]} == {batch.deadline}
    assert {r.signature for r in groups[0]} == {"0x" + batch.signature.hex()}


def test_typed_data_of_a_batch_signed_by_eth_account_is_accepted(
    unrelayed_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    ledger: Ledger,
    world: DemoWorld,
) -> None:
    key = party_keys["au"]
    items = [
        {
            "schema": "inspection(bytes32 reportDigest,bytes32 newSealDigest,bool passed)",
            "subject_type": "consignment",
            "subject_ref": world.consignment_ref,
            "data_digest": "0x" + keccak(text=f"report {i}").hex(),
        }
        for i in range(3)
    ]
    own = chain_now(ledger) + 7200  # item 2 gives its own deadline; the others take the batch's
    items[2]["deadline"] = datetime.fromtimestamp(own, UTC).isoformat()
    typed = unrelayed_client.post(
        "/typed-data/attestation_batch", json={"items": items}, headers=auth(key)
    )
    assert typed.status_code == 200, typed.text
    data = typed.json()
    assert data["typed_data"]["primaryType"] == "AttestationBatch"
    assert data["typed_data"]["message"]["deadline"] == data["deadline"]
    assert [a["deadline"] for a in data["attestations"]] == [data["deadline"]] * 2 + [own]
    signature = Account.sign_typed_data(
        world.parties["au"].private_key, full_message=data["typed_data"]
    ).signature
    response = unrelayed_client.post(
        PATH,
        json={
            "attestations": data["attestations"],
            "deadline": data["deadline"],
            "signature": "0x" + bytes(signature).hex(),
        },
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
    carrier = world.parties["carrier"].private_key
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
    # A genuine signature over altered attestations, reordered ones or another deadline
    # recovers another address.
    genuine = _body(_signed(ledger, world, key=carrier))
    altered = dict(genuine, attestations=[dict(a) for a in genuine["attestations"]])
    altered["attestations"][1]["dataDigest"] = "0x" + "ee" * 32
    assert status_and_code(unrelayed_client.post(PATH, json=altered, headers=auth(key))) == (
        403,
        "UnknownKey",
    )
    reordered = dict(genuine, attestations=genuine["attestations"][::-1])
    assert status_and_code(unrelayed_client.post(PATH, json=reordered, headers=auth(key))) == (
        403,
        "UnknownKey",
    )
    later = dict(genuine, deadline=genuine["deadline"] + 1)
    assert status_and_code(unrelayed_client.post(PATH, json=later, headers=auth(key))) == (
        403,
        "UnknownKey",
    )
    # A key of this organisation with the API key of another.
    wrong_org = unrelayed_client.post(PATH, json=genuine, headers=auth(party_keys["exporter"]))
    assert status_and_code(wrong_org) == (403, "wrong_organisation")
    assert_nothing_stored(unrelayed_client, key, "attestation")
    # And the genuine one is accepted: the refusals were about the signer only.
    assert unrelayed_client.post(PATH, json=genuine, headers=auth(key)).status_code == 202


def test_missing_scope_and_a_suspended_member_are_refused(
    unrelayed_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    keys: KeyStore,
    ledger: Ledger,
    world: DemoWorld,
) -> None:
    # Any member may attest, so the role that matters is the API key's scope.
    events_only = keys.issue(
        org_id=org_hex(world.parties["carrier"]),
        org_kind="carrier",
        country=world.parties["carrier"].country,
        scopes=(Scope.EVENTS_WRITE, Scope.READ),
    )
    batch = _signed(ledger, world, key=world.parties["carrier"].private_key)
    response = unrelayed_client.post(PATH, json=_body(batch), headers=auth(events_only))
    assert status_and_code(response) == (403, "missing_scope")
    # A suspended organisation may not attest.
    proposal = Proposal(
        action=ProposalAction.SUSPEND_MEMBER,
        org_id=world.parties["carrier"].org_id,
        expires_at=chain_now(ledger) + 3600,
    )
    ledger.membership.propose(ledger.sign(proposal, world.parties["au"].private_key))
    ledger.membership.approve(
        ledger.sign(Approval(proposal_id=proposal.proposal_id), world.parties["cn"].private_key)
    )
    ledger.membership.execute(proposal)
    response = unrelayed_client.post(PATH, json=_body(batch), headers=auth(party_keys["carrier"]))
    assert status_and_code(response) == (403, "MemberNotActive")
    assert_nothing_stored(unrelayed_client, party_keys["carrier"], "attestation")


def test_replays_and_expired_deadlines_are_refused(
    unrelayed_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    ledger: Ledger,
    world: DemoWorld,
) -> None:
    key = party_keys["au"]
    au = world.parties["au"]
    # Recorded by another relayer already: the first attestation's uid is taken on chain.
    recorded = _signed(ledger, world)
    ledger.attestations.attest_signed_batch(recorded)
    response = unrelayed_client.post(PATH, json=_body(recorded), headers=auth(key))
    assert status_and_code(response) == (409, "AttestationExists")
    assert response.json()["error"]["field"] == "attestations[0]"
    # One attestation recorded alone already: the batch is refused naming it.
    items = _attestations(world, 3)
    ledger.attestations.attest(ledger.sign(items[2], au.private_key))
    partly = sign_attestation_batch(
        items, au.private_key, ledger.attestations.domain, deadline=chain_now(ledger) + 3600
    )
    response = unrelayed_client.post(PATH, json=_body(partly), headers=auth(key))
    assert status_and_code(response) == (409, "AttestationExists")
    assert response.json()["error"]["field"] == "attestations[2]"
    # An attestation stored with its batch (not yet on chain), sent again in another batch.
    first = _signed(ledger, world, 2)
    assert unrelayed_client.post(PATH, json=_body(first), headers=auth(key)).status_code == 202
    client = GatewayClient("http://testserver", key.token, http=unrelayed_client)
    again = sign_attestation_batch(
        [*_attestations(world, 1), first.attestations[1]],
        au.private_key,
        ledger.attestations.domain,
        deadline=first.deadline + 60,
    )
    with pytest.raises(IdempotencyConflict) as raised:
        client.post_attestation_batch(again)
    assert raised.value.field == "attestations[1]"
    # ... or alone.
    alone = ledger.sign(first.attestations[0], au.private_key)
    response = unrelayed_client.post(
        "/attestations/signed",
        json={"message": alone.record.json_message(), "signature": "0x" + alone.signature.hex()},
        headers=auth(key),
    )
    assert response.status_code == 409
    # A deadline that has passed (an hour before the latest block).
    latest = int(ledger.w3.eth.get_block("latest")["timestamp"])
    expired = _signed(ledger, world, deadline=latest - 3600)
    response = unrelayed_client.post(PATH, json=_body(expired), headers=auth(key))
    assert status_and_code(response) == (422, "DeadlineExpired")


def test_an_attestation_that_would_fail_refuses_the_whole_batch(
    unrelayed_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    ledger: Ledger,
    world: DemoWorld,
) -> None:
    key = party_keys["au"]
    items = _attestations(world, 3)
    items[1] = replace(items[1], schema_id=keccak(text="no such schema"))
    batch = sign_attestation_batch(
        items,
        world.parties["au"].private_key,
        ledger.attestations.domain,
        deadline=chain_now(ledger) + 3600,
    )
    response = unrelayed_client.post(PATH, json=_body(batch), headers=auth(key))
    assert status_and_code(response) == (404, "UnknownSchema")
    assert response.json()["error"]["field"] == "attestations[1]"
    assert_nothing_stored(unrelayed_client, key, "attestation")


def test_an_attestation_past_its_own_deadline_is_named(
    unrelayed_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    ledger: Ledger,
    world: DemoWorld,
) -> None:
    """The batch's deadline is ahead, attestation 1's own has passed: 422 naming its deadline."""
    key = party_keys["au"]
    items = _attestations(world, 3)
    items[1] = replace(items[1], deadline=chain_now(ledger) - 60)
    batch = sign_attestation_batch(
        items,
        world.parties["au"].private_key,
        ledger.attestations.domain,
        deadline=chain_now(ledger) + 3600,
    )
    response = unrelayed_client.post(PATH, json=_body(batch), headers=auth(key))
    assert status_and_code(response) == (422, "DeadlineExpired")
    assert response.json()["error"]["field"] == "attestations[1].deadline"
    assert_nothing_stored(unrelayed_client, key, "attestation")


def test_attestations_signed_again_with_other_deadlines_are_refused_while_on_their_way(
    unrelayed_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    ledger: Ledger,
    world: DemoWorld,
) -> None:
    key = party_keys["au"]
    items = _attestations(world, 2)
    first = sign_attestation_batch(
        items,
        world.parties["au"].private_key,
        ledger.attestations.domain,
        deadline=chain_now(ledger) + 3600,
    )
    assert unrelayed_client.post(PATH, json=_body(first), headers=auth(key)).status_code == 202
    again = sign_attestation_batch(
        [replace(a, deadline=a.deadline - 60) for a in items],
        world.parties["au"].private_key,
        ledger.attestations.domain,
        deadline=chain_now(ledger) + 3600,
    )
    response = unrelayed_client.post(PATH, json=_body(again), headers=auth(key))
    assert status_and_code(response) == (409, "AttestationExists")
    assert response.json()["error"]["field"] == "attestations[0]"


def test_malformed_batches_are_422(
    unrelayed_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    ledger: Ledger,
    world: DemoWorld,
) -> None:
    key = party_keys["au"]
    good = _body(_signed(ledger, world))

    def post(body: dict[str, Any]) -> tuple[int, str, str | None]:
        response = unrelayed_client.post(PATH, json=body, headers=auth(key))
        error = response.json()["error"]
        return response.status_code, error["code"], error.get("field")

    assert post(dict(good, attestations=[]))[0] == 422
    too_many = good["attestations"] * (ATTESTATION_BATCH_MAX // 3 + 1)
    assert post(dict(good, attestations=too_many))[0] == 422
    assert post(dict(good, signature="0x1234"))[0] == 422
    assert post({k: v for k, v in good.items() if k != "deadline"})[0] == 422
    assert post(dict(good, deadline=-1))[0] == 422
    broken = dict(good, attestations=[dict(a) for a in good["attestations"]])
    broken["attestations"][0]["schemaId"] = "0x1234"
    status, _, field = post(broken)
    assert (status, field) == (422, "attestations[0].schemaId")
    missing = dict(good, attestations=[dict(a) for a in good["attestations"]])
    del missing["attestations"][2]["subjectId"]
    status, _, field = post(missing)
    assert (status, field) == (422, "attestations[2].subjectId")
    once = _attestations(world, 1)
    doubled = sign_attestation_batch(
        [once[0], once[0]],
        world.parties["au"].private_key,
        ledger.attestations.domain,
        deadline=chain_now(ledger) + 3600,
    )
    assert post(_body(doubled)) == (422, "invalid_request", "attestations[1]")
    assert_nothing_stored(unrelayed_client, key, "attestation")


def test_client_errors_are_raised(
    unrelayed_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    ledger: Ledger,
    world: DemoWorld,
) -> None:
    client = GatewayClient("http://testserver", party_keys["au"].token, http=unrelayed_client)
    with pytest.raises(PermissionDenied) as raised:
        client.post_attestation_batch(_signed(ledger, world, key=Account.create().key))
    assert raised.value.code == "UnknownKey"
    typed = client.attestation_batch_typed_data(
        [
            {
                "schema_id": "0x" + world.schema_ids["seal-check"].hex(),
                "subject_type": "consignment",
                "subject_id": "0x" + world.consignment_id.hex(),
                "data_digest": "0x" + "da" * 32,
            }
        ]
    )
    assert typed.typed_data["primaryType"] == "AttestationBatch"
    assert len(typed.record_ids) == 1
