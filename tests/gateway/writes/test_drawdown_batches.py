"""Drawdowns signed together (``POST /certificates/drawdowns/batch/signed``): relayed as one
``drawDownSignedBatch`` transaction, one record per drawdown, exactly once; and refused at
submission, as a whole, for everything the contract would refuse (wrong signer, revoked or
expired key, replay, wrong organisation or role, missing scope, malformed input), counting
drawdowns accepted but not yet on chain as single drawdowns do."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import replace
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
    DRAWDOWN_BATCH_MAX,
    Approval,
    ConsignmentRegistration,
    Drawdown,
    Proposal,
    ProposalAction,
    SignedDrawdownBatch,
    consignment_id,
    reference_hash,
    sign_drawdown_batch,
)
from ledger.stack import DemoWorld
from tests.gateway.chain_cases import assert_nothing_stored, chain_now, status_and_code
from tests.gateway.conftest import auth, org_hex
from tests.gateway.writes.test_chain_relay import wait_final
from tests.gateway.writes.test_write_errors import _extra_keys

PATH = "/certificates/drawdowns/batch/signed"


def _register(ledger: Ledger, world: DemoWorld, count: int) -> list[str]:
    """``count`` consignments registered on chain (by the carrier); their references."""
    label = secrets.token_hex(4)
    refs = [f"UCR-GW-DD-{label}-{i}" for i in range(count)]
    ledger.consignments.register_batch(
        [
            ledger.sign(
                ConsignmentRegistration(
                    reference_hash=reference_hash(ref),
                    origin=b"AU",
                    destination=b"CN",
                    consignor=world.parties["exporter"].org_id,  # drawn on: the exporter's
                    deadline=chain_now(ledger) + 3600,
                ),
                world.parties["carrier"].private_key,
            )
            for ref in refs
        ]
    )
    return refs


def _drawdowns(
    ledger: Ledger, world: DemoWorld, count: int, *, quantity: int = 10
) -> list[Drawdown]:
    """``count`` drawdowns of the demo certificate, each for a new registered consignment."""
    return [
        Drawdown(
            certificate_id=world.certificate_id,
            consignment_id=consignment_id(ref, registrant=world.parties["carrier"].org_id),
            quantity=quantity,
            deadline=chain_now(ledger) + 3600,
        )
        for ref in _register(ledger, world, count)
    ]


def _signed(
    ledger: Ledger,
    world: DemoWorld,
    count: int = 3,
    *,
    key: bytes | str | None = None,
    deadline: int | None = None,
) -> SignedDrawdownBatch:
    signer = world.parties["exporter"].private_key if key is None else key
    return sign_drawdown_batch(
        _drawdowns(ledger, world, count),
        signer,
        ledger.certificates.domain,
        deadline=chain_now(ledger) + 3600 if deadline is None else deadline,
    )


def _body(batch: SignedDrawdownBatch) -> dict[str, Any]:
    return {
        "drawdowns": [d.json_message() for d in batch.drawdowns],
        "deadline": batch.deadline,
        "signature": "0x" + batch.signature.hex(),
    }


def test_a_signed_batch_is_one_transaction_and_one_record_per_drawdown(
    chain_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    ledger: Ledger,
    world: DemoWorld,
) -> None:
    key = party_keys["exporter"]
    exporter = world.parties["exporter"]
    client = GatewayClient("http://testserver", key.token, http=chain_client)
    before = ledger.certificates.remaining(world.certificate_id)
    batch = client.sign_drawdown_batch(
        _drawdowns(ledger, world, 20), exporter.private_key, deadline=chain_now(ledger) + 3600
    )
    view = client.post_drawdown_batch(batch, idempotency_key=str(uuid.uuid4()))
    assert len(view.records) == 20
    assert view.signer == exporter.address
    assert view.deadline == batch.deadline
    assert {r.signed_batch for r in view.records} == {view.batch_id}
    assert {r.kind for r in view.records} == {"drawdown"}
    # Each drawdown has the record id it would have if signed alone (same digest).
    domain = ledger.certificates.domain
    assert [r.record_id for r in view.records] == [
        "0x" + keccak(bytes.fromhex(org_hex(exporter)[2:]) + d.digest(domain)).hex()
        for d in batch.drawdowns
    ]
    ids = [r.record_id for r in view.records]
    views = wait_final(chain_client, key, ids)
    assert {v["status"] for v in views.values()} == {"confirmed"}
    # One drawDownSignedBatch transaction, a QuantityDrawn log per drawdown, in batch order.
    txs = {v["tx_hash"] for v in views.values()}
    assert len(txs) == 1
    tx = ledger.w3.eth.get_transaction(txs.pop())
    selector = ledger.certificates.calldata("drawDownSignedBatch", *batch.onchain())[:4]
    assert bytes(tx["input"])[:4] == selector
    indices = [views[rid]["log_index"] for rid in ids]
    assert indices == sorted(indices)
    assert len(set(indices)) == 20
    for drawdown in batch.drawdowns:
        assert ledger.certificates.drawn_for(drawdown.certificate_id, drawdown.consignment_id) == 10
    assert ledger.certificates.remaining(world.certificate_id) == before - 200
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
    batch = _signed(ledger, world, 7)
    response = unrelayed_client.post(PATH, json=_body(batch), headers=auth(party_keys["exporter"]))
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
    key = party_keys["exporter"]
    items = [
        {
            "certificate_id": "0x" + world.certificate_id.hex(),
            "consignment_ref": ref,
            "quantity": {"amount": "5", "unit": "HLT"},  # converted to the certificate's LTR
        }
        for ref in _register(ledger, world, 3)
    ]
    typed = unrelayed_client.post(
        "/typed-data/drawdown_batch", json={"items": items}, headers=auth(key)
    )
    assert typed.status_code == 200, typed.text
    data = typed.json()
    assert data["typed_data"]["primaryType"] == "DrawdownBatch"
    assert data["typed_data"]["message"]["deadline"] == data["deadline"]
    assert [d["quantity"] for d in data["drawdowns"]] == [500, 500, 500]
    signature = Account.sign_typed_data(
        world.parties["exporter"].private_key, full_message=data["typed_data"]
    ).signature
    response = unrelayed_client.post(
        PATH,
        json={
            "drawdowns": data["drawdowns"],
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
    key = party_keys["exporter"]
    revoked, expired = _extra_keys(ledger, world, "exporter")
    exporter = world.parties["exporter"].private_key
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
    # A genuine signature over an altered quantity, reordered drawdowns or another deadline
    # recovers another address.
    genuine = _body(_signed(ledger, world, key=exporter))
    altered = dict(genuine, drawdowns=[dict(d) for d in genuine["drawdowns"]])
    altered["drawdowns"][1]["quantity"] = 4000
    assert status_and_code(unrelayed_client.post(PATH, json=altered, headers=auth(key))) == (
        403,
        "UnknownKey",
    )
    reordered = dict(genuine, drawdowns=genuine["drawdowns"][::-1])
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
    wrong_org = unrelayed_client.post(PATH, json=genuine, headers=auth(party_keys["au"]))
    assert status_and_code(wrong_org) == (403, "wrong_organisation")
    assert_nothing_stored(unrelayed_client, key, "drawdown")
    # And the genuine one is accepted: the refusals were about the signer only.
    assert unrelayed_client.post(PATH, json=genuine, headers=auth(key)).status_code == 202


def test_wrong_roles_missing_scope_and_a_suspended_member_are_refused(
    unrelayed_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    keys: KeyStore,
    ledger: Ledger,
    world: DemoWorld,
) -> None:
    # Neither the exporter nor customs of the origin or destination: the carrier, the chamber.
    for role in ("carrier", "chamber"):
        batch = _signed(ledger, world, key=world.parties[role].private_key)
        response = unrelayed_client.post(PATH, json=_body(batch), headers=auth(party_keys[role]))
        assert status_and_code(response) == (403, "NotAuthorisedToDraw")
        assert response.json()["error"]["field"] == "drawdowns[0].certificateId"
    # Customs of the destination country may draw.
    cn = _signed(ledger, world, key=world.parties["cn"].private_key)
    response = unrelayed_client.post(PATH, json=_body(cn), headers=auth(party_keys["cn"]))
    assert response.status_code == 202, response.text
    exporter = world.parties["exporter"]
    events_only = keys.issue(
        org_id=org_hex(exporter),
        org_kind="trader",
        country=exporter.country,
        scopes=(Scope.EVENTS_WRITE, Scope.READ),
    )
    batch = _signed(ledger, world)
    response = unrelayed_client.post(PATH, json=_body(batch), headers=auth(events_only))
    assert status_and_code(response) == (403, "missing_scope")
    proposal = Proposal(
        action=ProposalAction.SUSPEND_MEMBER,
        org_id=exporter.org_id,
        expires_at=chain_now(ledger) + 3600,
    )
    ledger.membership.propose(ledger.sign(proposal, world.parties["au"].private_key))
    ledger.membership.approve(
        ledger.sign(Approval(proposal_id=proposal.proposal_id), world.parties["cn"].private_key)
    )
    ledger.membership.execute(proposal)
    response = unrelayed_client.post(PATH, json=_body(batch), headers=auth(party_keys["exporter"]))
    assert status_and_code(response) == (403, "MemberNotActive")
    assert_nothing_stored(unrelayed_client, party_keys["exporter"], "drawdown")


def test_replays_and_expired_deadlines_are_refused(
    unrelayed_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    ledger: Ledger,
    world: DemoWorld,
) -> None:
    key = party_keys["exporter"]
    exporter = world.parties["exporter"]
    # Recorded by another relayer already: the first pair is drawn on chain.
    recorded = _signed(ledger, world)
    ledger.certificates.draw_down_signed_batch(recorded)
    response = unrelayed_client.post(PATH, json=_body(recorded), headers=auth(key))
    assert status_and_code(response) == (409, "AlreadyDrawn")
    assert response.json()["error"]["field"] == "drawdowns[0]"
    # One drawdown recorded alone already: the batch is refused naming it.
    items = _drawdowns(ledger, world, 3)
    ledger.certificates.draw_down(ledger.sign(items[2], exporter.private_key))
    partly = sign_drawdown_batch(
        items, exporter.private_key, ledger.certificates.domain, deadline=chain_now(ledger) + 3600
    )
    response = unrelayed_client.post(PATH, json=_body(partly), headers=auth(key))
    assert status_and_code(response) == (409, "AlreadyDrawn")
    assert response.json()["error"]["field"] == "drawdowns[2]"
    # A drawdown stored with its batch (not yet on chain), sent again in another batch ...
    first = _signed(ledger, world, 2)
    assert unrelayed_client.post(PATH, json=_body(first), headers=auth(key)).status_code == 202
    client = GatewayClient("http://testserver", key.token, http=unrelayed_client)
    again = sign_drawdown_batch(
        [*_drawdowns(ledger, world, 1), first.drawdowns[1]],
        exporter.private_key,
        ledger.certificates.domain,
        deadline=first.deadline + 60,
    )
    with pytest.raises(IdempotencyConflict) as raised:
        client.post_drawdown_batch(again)
    assert raised.value.field == "drawdowns[1]"
    # ... or alone.
    alone = ledger.sign(first.drawdowns[0], exporter.private_key)
    response = unrelayed_client.post(
        "/certificates/drawdowns/signed",
        json={"message": alone.record.json_message(), "signature": "0x" + alone.signature.hex()},
        headers=auth(key),
    )
    assert response.status_code == 409
    # ... or the same pair with another quantity (another record): already on its way.
    other = sign_drawdown_batch(
        [replace(first.drawdowns[0], quantity=11)],
        exporter.private_key,
        ledger.certificates.domain,
        deadline=first.deadline,
    )
    response = unrelayed_client.post(PATH, json=_body(other), headers=auth(key))
    assert status_and_code(response) == (409, "AlreadyDrawn")
    assert response.json()["error"]["field"] == "drawdowns[0].consignmentId"
    # A deadline that has passed (an hour before the latest block).
    latest = int(ledger.w3.eth.get_block("latest")["timestamp"])
    expired = _signed(ledger, world, deadline=latest - 3600)
    response = unrelayed_client.post(PATH, json=_body(expired), headers=auth(key))
    assert status_and_code(response) == (422, "DeadlineExpired")


def test_pending_drawdowns_count_against_the_balance(
    unrelayed_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    ledger: Ledger,
    world: DemoWorld,
) -> None:
    """Accepted but not yet mined drawdowns (single or batch-signed) count against the
    certificate's balance, together with the batch's own earlier drawdowns."""
    key = party_keys["exporter"]
    exporter = world.parties["exporter"]
    remaining = ledger.certificates.remaining(world.certificate_id)
    single = _drawdowns(ledger, world, 1, quantity=remaining - 100)[0]
    signed = ledger.sign(single, exporter.private_key)
    response = unrelayed_client.post(
        "/certificates/drawdowns/signed",
        json={"message": signed.record.json_message(), "signature": "0x" + signed.signature.hex()},
        headers=auth(key),
    )
    assert response.status_code == 202, response.text
    # 60 + 50 > the 100 left after the pending single drawdown: the second item is named.
    items = _drawdowns(ledger, world, 2)
    items = [replace(items[0], quantity=60), replace(items[1], quantity=50)]
    over = sign_drawdown_batch(
        items, exporter.private_key, ledger.certificates.domain, deadline=chain_now(ledger) + 3600
    )
    response = unrelayed_client.post(PATH, json=_body(over), headers=auth(key))
    assert status_and_code(response) == (409, "QuantityExceeded")
    assert response.json()["error"]["field"] == "drawdowns[1].quantity"
    # 60 + 40 fits; then nothing is left for a single drawdown.
    fits = sign_drawdown_batch(
        [items[0], replace(items[1], quantity=40)],
        exporter.private_key,
        ledger.certificates.domain,
        deadline=chain_now(ledger) + 3600,
    )
    assert unrelayed_client.post(PATH, json=_body(fits), headers=auth(key)).status_code == 202
    last = ledger.sign(_drawdowns(ledger, world, 1, quantity=1)[0], exporter.private_key)
    response = unrelayed_client.post(
        "/certificates/drawdowns/signed",
        json={"message": last.record.json_message(), "signature": "0x" + last.signature.hex()},
        headers=auth(key),
    )
    assert status_and_code(response) == (409, "QuantityExceeded")


def test_a_drawdown_that_would_fail_refuses_the_whole_batch(
    unrelayed_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    ledger: Ledger,
    world: DemoWorld,
) -> None:
    key = party_keys["exporter"]
    items = _drawdowns(ledger, world, 3)
    items[1] = replace(items[1], consignment_id=keccak(text="no such consignment"))
    batch = sign_drawdown_batch(
        items,
        world.parties["exporter"].private_key,
        ledger.certificates.domain,
        deadline=chain_now(ledger) + 3600,
    )
    response = unrelayed_client.post(PATH, json=_body(batch), headers=auth(key))
    assert status_and_code(response) == (404, "UnknownConsignment")
    assert response.json()["error"]["field"] == "drawdowns[1]"
    assert_nothing_stored(unrelayed_client, key, "drawdown")


def test_malformed_batches_are_422(
    unrelayed_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    ledger: Ledger,
    world: DemoWorld,
) -> None:
    key = party_keys["exporter"]
    good = _body(_signed(ledger, world))

    def post(body: dict[str, Any]) -> tuple[int, str, str | None]:
        response = unrelayed_client.post(PATH, json=body, headers=auth(key))
        error = response.json()["error"]
        return response.status_code, error["code"], error.get("field")

    assert post(dict(good, drawdowns=[]))[0] == 422
    too_many = good["drawdowns"] * (DRAWDOWN_BATCH_MAX // 3 + 1)
    assert post(dict(good, drawdowns=too_many))[0] == 422
    assert post(dict(good, signature="0x1234"))[0] == 422
    assert post({k: v for k, v in good.items() if k != "deadline"})[0] == 422
    assert post(dict(good, deadline=-1))[0] == 422
    broken = dict(good, drawdowns=[dict(d) for d in good["drawdowns"]])
    broken["drawdowns"][0]["certificateId"] = "0x1234"
    status, _, field = post(broken)
    assert (status, field) == (422, "drawdowns[0].certificateId")
    missing = dict(good, drawdowns=[dict(d) for d in good["drawdowns"]])
    del missing["drawdowns"][2]["consignmentId"]
    status, _, field = post(missing)
    assert (status, field) == (422, "drawdowns[2].consignmentId")
    once = _drawdowns(ledger, world, 1)
    doubled = sign_drawdown_batch(
        [once[0], replace(once[0], quantity=3)],
        world.parties["exporter"].private_key,
        ledger.certificates.domain,
        deadline=chain_now(ledger) + 3600,
    )
    assert post(_body(doubled)) == (422, "invalid_request", "drawdowns[1]")
    assert_nothing_stored(unrelayed_client, key, "drawdown")


def test_client_errors_are_raised(
    unrelayed_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    ledger: Ledger,
    world: DemoWorld,
) -> None:
    client = GatewayClient("http://testserver", party_keys["exporter"].token, http=unrelayed_client)
    with pytest.raises(PermissionDenied) as raised:
        client.post_drawdown_batch(_signed(ledger, world, key=Account.create().key))
    assert raised.value.code == "UnknownKey"
    (ref,) = _register(ledger, world, 1)
    typed = client.drawdown_batch_typed_data(
        [
            {
                "certificate_id": "0x" + world.certificate_id.hex(),
                "consignment_ref": ref,
                "quantity": {"amount": "10", "unit": "LTR"},
            }
        ]
    )
    assert typed.typed_data["primaryType"] == "DrawdownBatch"
    assert typed.drawdowns == [
        {
            "certificateId": "0x" + world.certificate_id.hex(),
            "consignmentId": "0x"
            + consignment_id(ref, registrant=world.parties["carrier"].org_id).hex(),
            "quantity": 10,
            "deadline": typed.deadline,  # an item's own deadline defaults to the batch's
        }
    ]
    assert len(typed.record_ids) == 1
