"""Records through the real relayer to the session chain: every write route end to end, bulk
events batched and confirmed, the two ways to sign giving one record, idempotency, and the
relayer's three steps against the node (nonces, idempotent broadcast, drops, blame)."""

from __future__ import annotations

import math
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_account import Account
from eth_utils.crypto import keccak

from gateway.auth import IssuedKey
from gateway.client import GatewayClient
from gateway.errors import RecordRejected
from gateway.writes.kinds import KIND_PATHS, record_id
from gateway.writes.outbox import (
    Batch,
    NewRecord,
    Outbox,
    RecordKind,
    RecordStatus,
    Submitter,
    TxState,
)
from gateway.writes.relayer import ContractRelayer
from ledger.chain import Ledger, TxManager
from ledger.errors import ConfigurationError
from ledger.records import (
    Approval,
    Attestation,
    BusinessStep,
    ConsignmentEvent,
    Locode,
    Proposal,
    ProposalAction,
    SubjectType,
    consignment_id,
)
from ledger.stack import DemoWorld
from tests.conftest import RELAYER_KEY
from tests.gateway.chain_cases import BODY_KINDS, EXPECTED, ROLES, body, chain_now, prepare
from tests.gateway.conftest import auth


def wait_final(
    client: httpx.Client, key: IssuedKey, ids: list[str], timeout: float = 30
) -> dict[str, Any]:
    """Poll until every record is confirmed or failed; returns their views by id."""
    deadline = time.monotonic() + timeout
    views: dict[str, Any] = {}
    pending = set(ids)
    while pending and time.monotonic() < deadline:
        for rid in list(pending):
            view = client.get(f"/records/{rid}", headers=auth(key)).json()
            if view["status"] in ("confirmed", "failed"):
                views[rid] = view
                pending.discard(rid)
        if pending:
            time.sleep(0.05)
    assert not pending, f"{len(pending)} records not final in {timeout} s"
    return views


@pytest.mark.parametrize("kind", BODY_KINDS, ids=str)
def test_every_write_route_reaches_the_chain(
    kind: RecordKind,
    chain_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    ledger: Ledger,
    world: DemoWorld,
) -> None:
    prep = prepare(ledger, world, kind)
    role = next(r for r in ROLES if EXPECTED[kind][r] == (202, None))
    key = party_keys[role]
    response = chain_client.post(
        KIND_PATHS[kind], json=body(kind, role, world, prep), headers=auth(key)
    )
    assert response.status_code == 202, response.text
    view = wait_final(chain_client, key, [response.json()["record_id"]])[
        response.json()["record_id"]
    ]
    assert view["status"] == "confirmed", view
    receipt = ledger.w3.eth.get_transaction_receipt(view["tx_hash"])
    assert receipt["status"] == 1
    assert receipt["blockNumber"] == view["block_number"]
    logged = {d.log_index: d.event for d in ledger.decode_logs(receipt["logs"])}
    assert view["log_index"] in logged, "the record's log index points at one of its logs"


def test_bulk_events_are_batched_and_recorded_in_order(
    chain_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    ledger: Ledger,
    world: DemoWorld,
) -> None:
    carrier = world.parties["carrier"]
    client = GatewayClient("http://testserver", party_keys["carrier"].token, http=chain_client)
    head_before, count_before = ledger.consignments.head(world.consignment_id)
    now = chain_now(ledger)
    events = [
        client.sign(
            ConsignmentEvent(
                consignment_id=world.consignment_id,
                biz_step=BusinessStep("sensor_reporting").code,
                location=Locode("CNSHA").to_bytes5(),
                event_time=now - 300 + i,
                nonce=(77 << 8) + i,
                deadline=now + 3600,
            ),
            carrier.private_key,
        )
        for i in range(250)
    ]
    result = client.post_events(events, idempotency_key=str(uuid.uuid4()))
    assert (result.accepted, result.rejected) == (250, 0)
    ids = [item.record.record_id for item in result.items if item.record is not None]
    views = wait_final(chain_client, party_keys["carrier"], ids)
    assert all(v["status"] == "confirmed" for v in views.values())
    head, count = ledger.consignments.head(world.consignment_id)
    assert count == count_before + 250
    # The chain folded the events in submission order: recompute the head the same way.
    expected = head_before
    for signed in events:
        digest = signed.record.digest(ledger.consignments.domain)
        expected = ledger.consignments.next_head(
            expected, digest, org_id=carrier.org_id, signer=carrier.address
        )
    assert head == expected
    # Batched: far fewer transactions than records, each record with its own log.
    txs = {v["tx_hash"] for v in views.values()}
    assert len(txs) < 250 / 5
    assert len({(v["tx_hash"], v["log_index"]) for v in views.values()}) == 250


def test_custodial_and_signed_submissions_are_one_record(
    chain_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    ledger: Ledger,
    world: DemoWorld,
) -> None:
    """The typed data of a body, signed with eth-account by the client, is the record the
    gateway would sign for it: same id, and the second submission is an idempotent repeat."""
    key = party_keys["carrier"]
    data = dict(body(RecordKind.EVENT, "carrier", world, prepare(ledger, world, RecordKind.EVENT)))
    data.update(nonce=4242, deadline="2099-01-01T00:00:00Z")
    typed = chain_client.post("/typed-data/event", json=data, headers=auth(key)).json()
    signature = Account.sign_typed_data(
        world.parties["carrier"].private_key, full_message=typed["typed_data"]
    ).signature
    custodial = chain_client.post("/events", json=data, headers=auth(key))
    assert custodial.status_code == 202
    assert custodial.json()["record_id"] == typed["record_id"]
    signed = chain_client.post(
        "/events/signed",
        json={
            "message": typed["typed_data"]["message"],
            "signature": "0x" + bytes(signature).hex(),
        },
        headers=auth(key),
    )
    assert signed.status_code == 202
    assert signed.json()["record_id"] == typed["record_id"]
    assert signed.headers["idempotent-replayed"] == "true"
    view = wait_final(chain_client, key, [typed["record_id"]])[typed["record_id"]]
    assert view["status"] == "confirmed"
    assert (
        typed["digest"]
        == "0x"
        + ledger.consignments.call(
            "hashTypedData",
            ledger.consignments.call(
                "hashEvent",
                ConsignmentEvent.from_message(typed["typed_data"]["message"]).onchain(),
            ),
        ).hex()
    )


def test_typed_data_signed_by_eth_account_is_accepted_for_every_kind(
    unrelayed_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    ledger: Ledger,
    world: DemoWorld,
) -> None:
    for kind in (k for k in BODY_KINDS if k is not RecordKind.EXECUTION):
        prep = prepare(ledger, world, kind)
        role = next(r for r in ROLES if EXPECTED[kind][r] == (202, None))
        key = party_keys[role]
        typed = unrelayed_client.post(
            f"/typed-data/{kind.value}", json=body(kind, role, world, prep), headers=auth(key)
        ).json()
        signature = Account.sign_typed_data(
            world.parties[role].private_key, full_message=typed["typed_data"]
        ).signature
        response = unrelayed_client.post(
            f"{KIND_PATHS[kind]}/signed",
            json={
                "message": typed["typed_data"]["message"],
                "signature": "0x" + bytes(signature).hex(),
            },
            headers=auth(key),
        )
        assert response.status_code == 202, (kind, response.text)
        assert response.json()["record_id"] == typed["record_id"]


def test_idempotency_keys_and_repeats(
    chain_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    ledger: Ledger,
    world: DemoWorld,
) -> None:
    key = party_keys["carrier"]
    data = body(RecordKind.EVENT, "carrier", world, prepare(ledger, world, RecordKind.EVENT))
    headers = {**auth(key), "Idempotency-Key": "evt-1"}
    first = chain_client.post("/events", json=data, headers=headers)
    again = chain_client.post("/events", json=data, headers=headers)
    assert first.status_code == again.status_code == 202
    assert again.json()["record_id"] == first.json()["record_id"]
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    # The same key for another kind of record is a conflict, not a silent replay.
    other = chain_client.post(
        "/attestations/schemas", json={"definition": "x(bytes32 y)"}, headers=headers
    )
    assert (other.status_code, other.json()["error"]["code"]) == (409, "idempotency_conflict")
    # So is the same key for the same kind of record with another body: the gateway signs a
    # custodial record afresh each time, so the body itself is what a repeat is compared with.
    changed = chain_client.post("/events", json=dict(data, biz_step="departing"), headers=headers)
    assert (changed.status_code, changed.json()["error"]["code"]) == (409, "idempotency_conflict")
    assert changed.json()["error"]["field"] == "Idempotency-Key"
    # After confirmation the repeat still answers with the stored record (not a 409 from
    # the chain, where it now is).
    wait_final(chain_client, key, [first.json()["record_id"]])
    late = chain_client.post("/events", json=data, headers=headers)
    assert late.status_code == 202
    assert late.json()["status"] == "confirmed"
    # Bulk: item i under "<key>:<i>", so a repeated request replays every item.
    bulk = [dict(data, biz_step="departing"), dict(data, biz_step="arriving")]
    bulk_headers = {**auth(key), "Idempotency-Key": "bulk-1"}
    one = chain_client.post("/events/bulk", json={"items": bulk}, headers=bulk_headers).json()
    two = chain_client.post("/events/bulk", json={"items": bulk}, headers=bulk_headers).json()
    assert [i["status"] for i in one["items"]] == [202, 202]
    assert [i["status"] for i in two["items"]] == [200, 200]
    assert [i["record"]["record_id"] for i in one["items"]] == [
        i["record"]["record_id"] for i in two["items"]
    ]
    # The same bulk key with an item changed: that item conflicts, the other replays.
    edited = [bulk[0], dict(bulk[1], biz_step="unloading")]
    three = chain_client.post("/events/bulk", json={"items": edited}, headers=bulk_headers)
    assert three.status_code == 207, three.text
    items = three.json()["items"]
    assert items[0]["status"] == 200
    assert items[0]["record"]["record_id"] == one["items"][0]["record"]["record_id"]
    assert (items[1]["status"], items[1]["error"]["code"]) == (409, "idempotency_conflict")


def test_drawdowns_that_together_overdraw_are_refused(
    unrelayed_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    ledger: Ledger,
    world: DemoWorld,
) -> None:
    """Each drawdown alone fits the certificate's balance (4,500 LTR); the pending ones in
    the outbox count too, so the one that would overdraw is refused at submission."""
    prep = prepare(ledger, world, RecordKind.DRAWDOWN)
    key = party_keys["exporter"]
    answers = []
    for role in ("au", "cn", "exporter"):
        data = {
            "certificate_id": "0x" + world.certificate_id.hex(),
            "consignment_ref": prep.consignment_refs[role],
            "quantity": {"amount": "2000", "unit": "LTR"},
        }
        response = unrelayed_client.post("/certificates/drawdowns", json=data, headers=auth(key))
        answers.append((response.status_code, (response.json().get("error") or {}).get("code")))
    assert answers == [(202, None), (202, None), (409, "QuantityExceeded")]
    # A second drawdown of the same certificate for the same consignment, while the first
    # is on its way, is refused too.
    again = {
        "certificate_id": "0x" + world.certificate_id.hex(),
        "consignment_ref": prep.consignment_refs["au"],
        "quantity": {"amount": "1", "unit": "LTR"},
    }
    response = unrelayed_client.post("/certificates/drawdowns", json=again, headers=auth(key))
    assert (response.status_code, response.json()["error"]["code"]) == (409, "AlreadyDrawn")


def test_drawdown_quantity_is_converted_to_the_certificate_unit(
    chain_client: httpx.Client,
    party_keys: dict[str, IssuedKey],
    ledger: Ledger,
    world: DemoWorld,
) -> None:
    prep = prepare(ledger, world, RecordKind.DRAWDOWN)
    key = party_keys["exporter"]
    data = {
        "certificate_id": "0x" + world.certificate_id.hex(),
        "consignment_ref": prep.consignment_refs["exporter"],
        "quantity": {"amount": "1.5", "unit": "HLT"},  # 150 LTR
    }
    response = chain_client.post("/certificates/drawdowns", json=data, headers=auth(key))
    assert response.status_code == 202, response.text
    wait_final(chain_client, key, [response.json()["record_id"]])
    cid = consignment_id(
        prep.consignment_refs["exporter"], registrant=world.parties["carrier"].org_id
    )
    assert ledger.certificates.drawn_for(world.certificate_id, cid) == 150


# --- the relayer's three steps against the node -------------------------------------------


def _event(world: DemoWorld, ledger: Ledger, nonce: int, step: str = "arriving") -> Any:
    now = chain_now(ledger)
    record = ConsignmentEvent(
        consignment_id=world.consignment_id,
        biz_step=BusinessStep(step).code,
        location=Locode("CNSHA").to_bytes5(),
        event_time=now - 60,
        nonce=nonce,
        deadline=now + 3600,
    )
    return ledger.sign(record, world.parties["carrier"].private_key)


def _accept(outbox: Outbox, ledger: Ledger, world: DemoWorld, signed: Any) -> str:
    org = "0x" + world.parties["carrier"].org_id.hex()
    rid = record_id(ledger, signed.record, org_id=org)
    outbox.accept(
        org_id=org,
        kind=RecordKind.EVENT,
        record_id=rid,
        payload=signed.record.json_message(),
        signature="0x" + signed.signature.hex(),
    )
    return rid


def _settled(relayer: ContractRelayer, batch: Batch, tx: Any) -> Any:
    """The relayer's answer once the transaction is no longer pending (automine: the node
    knows a transaction a moment before it is mined)."""
    result = relayer.receipt(batch, tx)
    deadline = time.monotonic() + 10
    while result.state is TxState.PENDING and time.monotonic() < deadline:
        time.sleep(0.02)
        result = relayer.receipt(batch, tx)
    return result


@pytest.fixture
def outbox(tmp_path: Path) -> Any:
    with Outbox.open(f"sqlite:///{tmp_path / 'outbox.sqlite3'}") as box:
        yield box


def test_sign_has_no_side_effect_and_broadcast_is_idempotent(
    ledger: Ledger, relayer_tx: TxManager, world: DemoWorld, outbox: Outbox
) -> None:
    relayer = ContractRelayer(ledger, relayer_tx, RELAYER_KEY)
    _accept(outbox, ledger, world, _event(world, ledger, 9001))
    _accept(outbox, ledger, world, _event(world, ledger, 9002))
    first, second = outbox.ready_batches(max_size=1, linger=0).batches
    one = Batch("b1", RecordKind.EVENT, tuple(first[1]))
    two = Batch("b2", RecordKind.EVENT, tuple(second[1]))
    t1 = relayer.sign(one)
    t2 = relayer.sign(two)
    assert t1.nonce == t2.nonce  # t1 was never stored or sent: its nonce is still free
    assert relayer.receipt(one, t1).state is TxState.UNKNOWN  # stored, not sent: send again
    relayer.broadcast(two, t2)
    relayer.broadcast(two, t2)  # the same bytes again: harmless
    mined = _settled(relayer, two, t2)
    assert mined.state is TxState.MINED
    assert mined.outcomes[second[1][0].record_id].log_index is not None
    # t1's nonce went to t2: t1 can never be mined, its records go back to be batched.
    assert relayer.receipt(one, t1).state is TxState.DROPPED
    # The next transaction takes the next nonce: no gap, no reuse.
    t3 = relayer.sign(one)
    assert t3.nonce == t2.nonce + 1


def _second_relayer(ledger: Ledger, world: DemoWorld) -> TxManager:
    """Another allow-listed relayer account (by governance: propose, approve, execute)."""
    key = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"  # anvil #1
    other = TxManager(ledger.w3, key, poll_interval=0.05)
    now = chain_now(ledger)
    proposal = Proposal(
        action=ProposalAction.ADD_RELAYER, account=other.address, expires_at=now + 86_400
    )
    ledger.membership.propose(ledger.sign(proposal, world.parties["au"].private_key))
    approval = Approval(proposal_id=proposal.proposal_id)
    ledger.membership.approve(ledger.sign(approval, world.parties["cn"].private_key))
    ledger.membership.execute(proposal)
    return other


def test_a_record_that_would_fail_its_batch_is_failed_alone(
    ledger: Ledger, relayer_tx: TxManager, world: DemoWorld, outbox: Outbox
) -> None:
    """Two events with one nonce: pre-validation of the batch names the second
    (BatchItemFailed), which fails unsent; the first is confirmed."""
    relayer = ContractRelayer(ledger, relayer_tx, RELAYER_KEY)
    good = _accept(outbox, ledger, world, _event(world, ledger, 9100, "arriving"))
    bad = _accept(outbox, ledger, world, _event(world, ledger, 9100, "departing"))
    submitter = Submitter(outbox, relayer, max_batch=10, linger=0)
    for _ in range(5):
        submitter.run_once()
    assert outbox.get(good).status is RecordStatus.CONFIRMED
    failed = outbox.get(bad)
    assert failed.status is RecordStatus.FAILED
    assert failed.error_code == "NonceAlreadyUsed"
    assert failed.tx_hash is None


def test_a_reverted_batch_blames_the_record_and_resends_the_others(
    ledger: Ledger, relayer_tx: TxManager, world: DemoWorld, outbox: Outbox
) -> None:
    relayer = ContractRelayer(ledger, relayer_tx, RELAYER_KEY)
    first = _accept(outbox, ledger, world, _event(world, ledger, 9200))
    clash = _event(world, ledger, 9201)
    second = _accept(outbox, ledger, world, clash)
    other_relayer = _second_relayer(ledger, world)
    records = outbox.ready_batches(max_size=10, linger=0).batches[0][1]
    batch = Batch("b-revert", RecordKind.EVENT, tuple(records))
    tx = relayer.sign(batch)
    outbox.mark_submitted(batch, tx)
    other = Ledger(ledger.w3, ledger.deployment, tx=other_relayer)
    other.submit(clash)  # another relayer records the second event first
    relayer.broadcast(batch, tx)
    result = _settled(relayer, batch, tx)
    assert result.state is TxState.REVERTED
    assert not result.outcomes[second].ok
    assert result.outcomes[second].code == "NonceAlreadyUsed"
    outbox.apply(batch, result)
    assert outbox.get(second).status is RecordStatus.FAILED
    assert outbox.get(first).status is RecordStatus.ACCEPTED
    submitter = Submitter(outbox, relayer, max_batch=10, linger=0)
    for _ in range(5):
        submitter.run_once()
    assert outbox.get(first).status is RecordStatus.CONFIRMED


def test_batches_shrink_to_fit_the_gas_cap(
    ledger: Ledger, relayer_tx: TxManager, world: DemoWorld, outbox: Outbox
) -> None:
    relayer = ContractRelayer(ledger, relayer_tx, RELAYER_KEY, gas_cap=1_000_000, default_limit=200)
    ids = [_accept(outbox, ledger, world, _event(world, ledger, 9300 + i)) for i in range(60)]
    submitter = Submitter(outbox, relayer, max_batch=200, linger=0)
    for _ in range(20):
        submitter.run_once()
        if all(outbox.get(i).status is RecordStatus.CONFIRMED for i in ids):
            break
    assert all(outbox.get(i).status is RecordStatus.CONFIRMED for i in ids)
    limit = relayer.batch_limit(RecordKind.EVENT)
    assert 1 < limit < 60
    for tx_hash in {outbox.get(i).tx_hash for i in ids}:
        assert ledger.w3.eth.get_transaction(tx_hash)["gas"] <= 1_000_000


def test_an_attestation_held_past_its_deadline_fails_unsent(
    ledger: Ledger, relayer_tx: TxManager, world: DemoWorld, outbox: Outbox
) -> None:
    """An attestation accepted but not relayed before its deadline (the relayer was down, the
    chain busy) fails with DeadlineExpired at pre-validation; no transaction is sent."""
    relayer = ContractRelayer(ledger, relayer_tx, RELAYER_KEY)
    cn = world.parties["cn"]
    now = chain_now(ledger)
    attestation = Attestation(
        schema_id=world.schema_ids["seal-check"],
        subject_type=SubjectType.CONSIGNMENT,
        subject_id=world.consignment_id,
        data_digest=keccak(text=f"held back {uuid.uuid4()}"),
        deadline=now + 30,
    )
    signed = ledger.sign(attestation, cn.private_key)
    org = "0x" + cn.org_id.hex()
    rid = record_id(ledger, attestation, org_id=org)
    outbox.accept(
        org_id=org,
        kind=RecordKind.ATTESTATION,
        record_id=rid,
        payload=attestation.json_message(),
        signature="0x" + signed.signature.hex(),
    )
    ledger.w3.provider.make_request("evm_setNextBlockTimestamp", [now + 120])  # type: ignore[arg-type]
    ledger.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    submitter = Submitter(outbox, relayer, max_batch=10, linger=0)
    for _ in range(5):
        submitter.run_once()
    failed = outbox.get(rid)
    assert failed.status is RecordStatus.FAILED
    assert failed.error_code == "DeadlineExpired"
    assert failed.tx_hash is None
    assert ledger.attestations.attestation(attestation.uid(cn.org_id)).attested_at == 0


def test_rejected_by_prevalidation_is_a_record_rejected(
    ledger: Ledger, relayer_tx: TxManager, world: DemoWorld, outbox: Outbox
) -> None:
    relayer = ContractRelayer(ledger, relayer_tx, RELAYER_KEY)
    signed = _event(world, ledger, 9400)
    ledger.submit(signed)
    rid = _accept(outbox, ledger, world, signed)
    records = outbox.ready_batches(max_size=10, linger=0).batches[0][1]
    with pytest.raises(RecordRejected) as caught:
        relayer.sign(Batch("b-dup", RecordKind.EVENT, tuple(records)))
    assert caught.value.record_id == rid
    assert caught.value.code == "NonceAlreadyUsed"


def test_the_relayer_key_must_be_the_transaction_managers(
    ledger: Ledger, relayer_tx: TxManager
) -> None:
    with pytest.raises(ConfigurationError):
        ContractRelayer(ledger, relayer_tx, Account.create().key)


def _accept_simulated(
    outbox: Outbox, ledger: Ledger, world: DemoWorld, signed: Any, *, at: float
) -> str:
    """Store an event as the intake does after its simulation passed (``simulated_at``)."""
    org = "0x" + world.parties["carrier"].org_id.hex()
    rid = record_id(ledger, signed.record, org_id=org)
    outbox.accept_many(
        [
            NewRecord(
                org_id=org,
                kind=RecordKind.EVENT,
                record_id=rid,
                payload=signed.record.json_message(),
                signature="0x" + signed.signature.hex(),
                simulated_at=at,
            )
        ]
    )
    return rid


def _run_until_final(submitter: Submitter, outbox: Outbox, ids: list[str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        submitter.run_once()
        states = {outbox.get(i).status for i in ids}
        if states <= {RecordStatus.CONFIRMED, RecordStatus.FAILED}:
            return
        time.sleep(0.02)  # automine: a transaction is known a moment before it is mined
    raise AssertionError("records not final")


def test_known_per_item_gas_skips_the_estimate_and_too_little_falls_back(
    ledger: Ledger,
    relayer_tx: TxManager,
    world: DemoWorld,
    outbox: Outbox,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    relayer = ContractRelayer(ledger, relayer_tx, RELAYER_KEY)
    estimates: list[int] = []
    real = ledger.w3.eth.estimate_gas

    def counted(*args: Any, **kwargs: Any) -> Any:
        estimates.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(ledger.w3.eth, "estimate_gas", counted)
    submitter = Submitter(outbox, relayer, max_batch=5, linger=0)
    first = [_accept(outbox, ledger, world, _event(world, ledger, 9500 + i)) for i in range(5)]
    _run_until_final(submitter, outbox, first)
    assert len(estimates) == 1  # the first batch of the kind is estimated
    per_item = relayer._item_gas["event"]
    second = [_accept(outbox, ledger, world, _event(world, ledger, 9510 + i)) for i in range(5)]
    _run_until_final(submitter, outbox, second)
    assert len(estimates) == 1  # the second is not: its gas is items x per-item x margin
    assert {outbox.get(i).status for i in first + second} == {RecordStatus.CONFIRMED}
    (tx_hash,) = {outbox.get(i).tx_hash for i in second}
    gas = int(ledger.w3.eth.get_transaction(tx_hash)["gas"])
    assert gas == math.ceil(5 * per_item * relayer.gas_margin) + 60_000
    # A per-item gas that is too low is found by the pre-validation (run with that gas):
    # the batch is estimated instead, nothing runs out of gas on chain.
    relayer._item_gas["event"] = 1_000.0
    third = [_accept(outbox, ledger, world, _event(world, ledger, 9520 + i)) for i in range(5)]
    _run_until_final(submitter, outbox, third)
    assert len(estimates) == 2
    assert {outbox.get(i).status for i in third} == {RecordStatus.CONFIRMED}


def test_events_the_intake_simulated_are_not_prevalidated_and_a_revert_heals(
    ledger: Ledger, relayer_tx: TxManager, world: DemoWorld, outbox: Outbox
) -> None:
    """Pre-validation is skipped for events the intake has just simulated; if one of them
    fails on chain all the same (here: recorded by another relayer since), the transaction
    reverts, the record is blamed and fails alone, and the others are sent again."""
    relayer = ContractRelayer(ledger, relayer_tx, RELAYER_KEY)
    submitter = Submitter(outbox, relayer, max_batch=10, linger=0)
    warm = [_accept(outbox, ledger, world, _event(world, ledger, 9600 + i)) for i in range(2)]
    _run_until_final(submitter, outbox, warm)  # the per-item gas of events is known now
    now = time.time()
    good = _accept_simulated(outbox, ledger, world, _event(world, ledger, 9610), at=now)
    clash = _event(world, ledger, 9611)
    bad = _accept_simulated(outbox, ledger, world, clash, at=now)
    other = Ledger(ledger.w3, ledger.deployment, tx=_second_relayer(ledger, world))
    other.submit(clash)
    records = outbox.ready_batches(max_size=10, linger=0).batches[0][1]
    batch = Batch("b-trusted", RecordKind.EVENT, tuple(records))
    tx = relayer.sign(batch)  # no RecordRejected: not pre-validated
    outbox.mark_submitted(batch, tx)
    relayer.broadcast(batch, tx)
    result = _settled(relayer, batch, tx)
    assert result.state is TxState.REVERTED
    assert result.outcomes[bad].code == "NonceAlreadyUsed"
    outbox.apply(batch, result)
    assert outbox.get(bad).status is RecordStatus.FAILED
    again = outbox.get(good)
    assert again.status is RecordStatus.ACCEPTED
    assert again.attempts == 1  # pre-validated next time
    _run_until_final(submitter, outbox, [good])
    assert outbox.get(good).status is RecordStatus.CONFIRMED
    # Simulated too long ago: pre-validated (and refused unsent).
    stale = _event(world, ledger, 9612)
    other.submit(stale)
    old = _accept_simulated(outbox, ledger, world, stale, at=now - 3600)
    records = outbox.ready_batches(max_size=10, linger=0).batches[0][1]
    with pytest.raises(RecordRejected) as caught:
        relayer.sign(Batch("b-stale", RecordKind.EVENT, tuple(records)))
    assert caught.value.record_id == old


def _pass_until(submitter: Submitter, done: Any, *, passes: int = 60) -> None:
    for _ in range(passes):
        submitter.run_once()
        if done():
            return
        time.sleep(0.05)


@pytest.mark.parametrize("confirmations", [3, 0], ids=["not-final-yet", "final-then-lost"])
def test_records_whose_block_is_lost_reach_the_chain_again_once(
    ledger: Ledger, relayer_tx: TxManager, world: DemoWorld, outbox: Outbox, confirmations: int
) -> None:
    """The node loses the block that holds confirmed records (a split network that heals, a
    node that crashed before saving its last blocks): the outbox notices, the records go back
    to submitted and reach the chain again, each once."""
    relayer = ContractRelayer(ledger, relayer_tx, RELAYER_KEY, confirmations=confirmations)
    submitter = Submitter(
        outbox, relayer, max_batch=10, linger=0, poll_interval=0, final_check_interval=0
    )
    _, before = ledger.consignments.head(world.consignment_id)
    ids = [_accept(outbox, ledger, world, _event(world, ledger, 9400 + i)) for i in range(3)]
    _pass_until(submitter, lambda: all(outbox.get(i).status is RecordStatus.CONFIRMED for i in ids))
    mined = {outbox.get(i).block_number for i in ids}
    assert len(mined) == 1
    assert {outbox.get(i).final for i in ids} == {confirmations == 0}
    (block,) = mined
    rpc = ledger.w3.provider.make_request
    assert "error" not in rpc("anvil_rollback", [int(ledger.w3.eth.block_number) - block + 1])
    assert ledger.consignments.head(world.consignment_id)[1] == before  # the events are gone
    rpc("evm_mine", [])  # the chain goes on without them

    def settled() -> bool:
        records = [outbox.get(i) for i in ids]
        return all(r.status is RecordStatus.CONFIRMED and r.final for r in records) and (
            ledger.consignments.head(world.consignment_id)[1] == before + 3
        )

    for _ in range(confirmations + 2):  # blocks on top, so that the records become final
        _pass_until(submitter, settled, passes=20)
        rpc("evm_mine", [])
    assert settled()
    assert ledger.consignments.head(world.consignment_id)[1] == before + 3  # once each


def test_batches_stay_under_the_networks_transaction_size(
    ledger: Ledger, relayer_tx: TxManager, world: DemoWorld, outbox: Outbox
) -> None:
    """go-ethereum refuses a transaction over 128 KiB whatever its gas: batches are cut to
    the calldata limit (here a small one, to need several batches)."""
    relayer = ContractRelayer(
        ledger, relayer_tx, RELAYER_KEY, default_limit=200, max_calldata_bytes=4_000
    )
    ids = [_accept(outbox, ledger, world, _event(world, ledger, 9500 + i)) for i in range(40)]
    submitter = Submitter(outbox, relayer, max_batch=200, linger=0)
    _pass_until(submitter, lambda: all(outbox.get(i).status is RecordStatus.CONFIRMED for i in ids))
    assert all(outbox.get(i).status is RecordStatus.CONFIRMED for i in ids)
    hashes = {outbox.get(i).tx_hash for i in ids}
    assert len(hashes) > 1
    for tx_hash in hashes:
        assert len(ledger.w3.eth.get_transaction(tx_hash)["input"]) <= 4_000
    assert 1 < relayer.batch_limit(RecordKind.EVENT) < 40


def test_a_record_too_large_for_one_transaction_fails_with_the_reason(
    ledger: Ledger, relayer_tx: TxManager, world: DemoWorld, outbox: Outbox
) -> None:
    relayer = ContractRelayer(ledger, relayer_tx, RELAYER_KEY, max_calldata_bytes=100)
    rid = _accept(outbox, ledger, world, _event(world, ledger, 9600))
    submitter = Submitter(outbox, relayer, max_batch=10, linger=0)
    _pass_until(submitter, lambda: outbox.get(rid).status is RecordStatus.FAILED)
    failed = outbox.get(rid)
    assert failed.status is RecordStatus.FAILED
    assert failed.error_code == "TransactionTooLarge"
    assert "100" in (failed.error_reason or "")
