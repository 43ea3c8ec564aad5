"""Batch-signed consignment events (``Consignments.postEventBatch``) against the session anvil.

One EventBatch signature covers a list of events: the Python type and hashes equal the
contract's, the events are chained and logged exactly as singly signed events (so the index
recomputes the same heads), and every security rule is enforced with the right contract error.
"""

from __future__ import annotations

import secrets
from dataclasses import replace
from pathlib import Path

import pytest
from eth_account import Account
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from ledger.chain import ROUTES, Ledger
from ledger.chain import contract_errors as ce
from ledger.errors import ValidationError
from ledger.index import Index, event_digest, next_head
from ledger.records import (
    Approval,
    BusinessStep,
    ConsignmentEvent,
    ConsignmentRegistration,
    EventBatch,
    KeyAddition,
    Locode,
    Proposal,
    ProposalAction,
    SignedEventBatch,
    consignment_id,
    events_hash,
    hash_typed_data,
    recover_typed_data,
    reference_hash,
    sign,
    sign_event_batch,
    with_batch_terms,
)
from ledger.stack import DemoWorld, Party


def now(ledger: Ledger) -> int:
    return int(ledger.w3.eth.get_block("latest")["timestamp"])


def register(ledger: Ledger, world: DemoWorld) -> bytes:
    ref = f"UCR-BATCH-{secrets.token_hex(4)}"
    cid = consignment_id(ref, registrant=world.parties["carrier"].org_id)
    record = ConsignmentRegistration(
        reference_hash=reference_hash(ref),
        origin=b"AU",
        destination=b"CN",
        consignor=world.parties["exporter"].org_id,
        deadline=now(ledger) + 3600,
    )
    ledger.consignments.register(ledger.sign(record, world.parties["carrier"].private_key))
    return cid


def events(
    ledger: Ledger, consignments: list[bytes], count: int, *, nonce: int, deadline: int
) -> list[ConsignmentEvent]:
    """``count`` distinct events, round robin over ``consignments``, with the batch's terms."""
    t = now(ledger)
    steps = ("loading", "departing", "arriving", "unloading")
    return [
        ConsignmentEvent(
            consignment_id=consignments[i % len(consignments)],
            biz_step=BusinessStep(steps[i % len(steps)]).code,
            location=Locode("CNSGH").to_bytes5(),
            event_time=t - 60 * (count - i),
            seal_digest=keccak(text=f"seal {nonce} {i}"),
            documents_digest=keccak(text=f"docs {nonce} {i}"),
            nonce=nonce,
            deadline=deadline,
        )
        for i in range(count)
    ]


def batch_for(
    ledger: Ledger, world: DemoWorld, count: int = 3, consignments: list[bytes] | None = None
) -> list[ConsignmentEvent]:
    return events(
        ledger,
        consignments or [world.consignment_id],
        count,
        nonce=secrets.randbits(32),
        deadline=now(ledger) + 600,
    )


def carrier(world: DemoWorld) -> Party:
    return world.parties["carrier"]


# ------------------------------------------------------------------------------------------
# Types and hashes equal the contract's
# ------------------------------------------------------------------------------------------


def test_typehash_equals_the_contract_constant(ledger: Ledger) -> None:
    assert EventBatch.type_string() == (
        "EventBatch(bytes32 eventsHash,uint32 nonce,uint40 deadline)"
    )
    assert bytes(ledger.consignments.call("EVENT_BATCH_TYPEHASH")) == EventBatch.typehash()


def test_events_hash_struct_hash_and_digest_equal_the_contract(
    ledger: Ledger, world: DemoWorld
) -> None:
    evs = batch_for(ledger, world, 4)
    batch = EventBatch.of(evs)
    client = ledger.consignments
    on_chain = client.events_hash(evs, nonce=batch.nonce, deadline=batch.deadline)
    assert batch.events_hash == on_chain
    assert on_chain == keccak(b"".join(bytes(client.call("hashEvent", e.onchain())) for e in evs))
    assert client.hash_event_batch(batch) == batch.struct_hash()
    digest = bytes(client.call("hashTypedData", batch.struct_hash()))
    assert batch.digest(client.domain) == digest
    assert hash_typed_data(batch.typed_data(client.domain)) == digest


def test_the_contract_sets_the_batch_terms_in_every_event(ledger: Ledger, world: DemoWorld) -> None:
    """The events hash is over the events as the batch carries them, whatever ``meta`` says."""
    evs = batch_for(ledger, world, 2)
    batch = EventBatch.of(evs)
    unset = [replace(e, nonce=0, deadline=0) for e in evs]
    assert ledger.consignments.events_hash(unset, nonce=batch.nonce, deadline=batch.deadline) == (
        batch.events_hash
    )


def test_a_wallet_signature_over_the_typed_data_is_the_batch_signature(
    ledger: Ledger, world: DemoWorld
) -> None:
    signed = ledger.sign_event_batch(batch_for(ledger, world), carrier(world).private_key)
    typed = signed.record.typed_data(ledger.consignments.domain)
    assert recover_typed_data(typed, signed.signature) == carrier(world).address
    assert ledger.signer(signed) == carrier(world).address


# ------------------------------------------------------------------------------------------
# The Python record
# ------------------------------------------------------------------------------------------


def test_event_batch_of_refuses_events_with_other_terms(ledger: Ledger, world: DemoWorld) -> None:
    evs = batch_for(ledger, world, 3)
    evs[2] = replace(evs[2], nonce=evs[2].nonce ^ 1)
    with pytest.raises(ValidationError) as caught:
        EventBatch.of(evs)
    assert caught.value.field == "events[2]"
    with pytest.raises(ValidationError):
        EventBatch.of(evs[:2], nonce=evs[0].nonce, deadline=evs[0].deadline + 1)
    with pytest.raises(ValidationError):
        EventBatch.of([])


def test_sign_event_batch_sets_the_terms_when_given(ledger: Ledger, world: DemoWorld) -> None:
    evs = batch_for(ledger, world, 3)
    mixed = [replace(e, nonce=i, deadline=i) for i, e in enumerate(evs)]
    signed = sign_event_batch(
        mixed, carrier(world).private_key, ledger.consignments.domain, nonce=7, deadline=99
    )
    assert {(e.nonce, e.deadline) for e in signed.events} == {(7, 99)}
    assert signed.events == with_batch_terms(mixed, nonce=7, deadline=99)
    assert signed.record == EventBatch(events_hash=events_hash(signed.events), nonce=7, deadline=99)
    with pytest.raises(ValidationError):
        sign_event_batch(mixed, carrier(world).private_key, ledger.consignments.domain)


def test_routes_send_a_signed_batch_to_post_event_batch(ledger: Ledger, world: DemoWorld) -> None:
    assert ROUTES[EventBatch][:2] == ("Consignments", "postEventBatch")
    signed = ledger.sign_event_batch(batch_for(ledger, world), carrier(world).private_key)
    client, function, args = ledger.call_for(signed)
    assert (client, function) == (ledger.consignments, "postEventBatch")
    assert args == signed.onchain()
    alone = sign(signed.record, carrier(world).private_key, ledger.consignments.domain)
    with pytest.raises(ValueError, match="sent with its events"):
        ledger.call_for(alone)


# ------------------------------------------------------------------------------------------
# Recording: the chain and the index
# ------------------------------------------------------------------------------------------


def test_a_batch_is_recorded_and_the_head_fold_equals_the_chain(
    ledger: Ledger, world: DemoWorld
) -> None:
    second = register(ledger, world)
    ids = [world.consignment_id, second]
    heads = {cid: ledger.consignments.head(cid) for cid in ids}
    signed = ledger.sign_event_batch(batch_for(ledger, world, 5, ids), carrier(world).private_key)

    receipt = ledger.consignments.post_event_batch(signed)

    assert receipt.succeeded
    logs = [d for d in ledger.decode_logs(receipt.logs) if d.event == "ConsignmentEventRecorded"]
    assert len(logs) == len(signed)
    domain = ledger.consignments.domain
    fold = {cid: head for cid, (head, _) in heads.items()}
    for event, log in zip(signed.events, logs, strict=True):
        fold[event.consignment_id] = next_head(
            fold[event.consignment_id],
            event.digest(domain),
            org_id=carrier(world).org_id,
            signer=carrier(world).address,  # the batch signer
        )
        assert to_checksum_address(log.args["signer"]) == carrier(world).address
        assert log.args["orgId"] == carrier(world).org_id
        assert log.args["meta"] == event.meta
        assert log.args["head"] == fold[event.consignment_id]
    for cid in ids:
        head, count = ledger.consignments.head(cid)
        assert head == fold[cid]
        assert count == heads[cid][1] + sum(e.consignment_id == cid for e in signed.events)
    assert ledger.consignments.call("isNonceUsed", carrier(world).address, signed.record.nonce)


def test_the_index_recomputes_the_same_heads(
    ledger: Ledger, world: DemoWorld, tmp_path: Path
) -> None:
    second = register(ledger, world)
    ids = [world.consignment_id, second]
    signed = ledger.sign_event_batch(batch_for(ledger, world, 6, ids), carrier(world).private_key)
    ledger.submit(signed)

    index = Index(f"sqlite:///{tmp_path / 'index.db'}", ledger)
    try:
        index.sync()
        verification = index.verify_heads(ids)
        assert verification.ok
        assert verification.checked == 2
        separator = ledger.consignments.domain.separator
        for cid in ids:
            timeline = index.consignment_timeline(cid)
            assert timeline[-1].head == ledger.consignments.head(cid)[0]
            batch_rows = [e for e in timeline if e.nonce == signed.record.nonce]
            mine = [e for e in signed.events if e.consignment_id == cid]
            assert len(batch_rows) == len(mine) == 3
            for row, event in zip(batch_rows, mine, strict=True):
                assert row.signer == carrier(world).address
                assert row.deadline == signed.record.deadline
                assert row.digest == event.digest(ledger.consignments.domain)
                assert row.digest == event_digest(
                    separator,
                    consignment_id=cid,
                    meta=event.meta,
                    seal_digest=event.seal_digest,
                    documents_digest=event.documents_digest,
                    epcis_event_hash=event.epcis_event_hash,
                )
    finally:
        index.engine.dispose()


# ------------------------------------------------------------------------------------------
# Security rules, each with its decoded contract error
# ------------------------------------------------------------------------------------------


def test_refuses_an_unknown_signer(ledger: Ledger, world: DemoWorld) -> None:
    stranger = Account.create()
    signed = ledger.sign_event_batch(batch_for(ledger, world), stranger.key)
    with pytest.raises(ce.UnknownKey) as caught:
        ledger.submit(signed)
    assert caught.value.args_map["key"].lower() == stranger.address.lower()


def test_refuses_a_revoked_key(ledger: Ledger, world: DemoWorld) -> None:
    signed = ledger.sign_event_batch(batch_for(ledger, world), carrier(world).private_key)
    t = now(ledger)
    proposal = Proposal(
        action=ProposalAction.REVOKE_KEY, account=carrier(world).address, expires_at=t + 3600
    )
    au, cn = world.parties["au"], world.parties["cn"]
    ledger.membership.propose(ledger.sign(proposal, au.private_key))
    ledger.membership.approve(
        ledger.sign(Approval(proposal_id=proposal.proposal_id), cn.private_key)
    )
    ledger.membership.execute(proposal)
    with pytest.raises(ce.KeyRevoked):
        ledger.submit(signed)


def test_refuses_a_replayed_batch(ledger: Ledger, world: DemoWorld) -> None:
    signed = ledger.sign_event_batch(batch_for(ledger, world), carrier(world).private_key)
    ledger.submit(signed)
    with pytest.raises(ce.NonceAlreadyUsed) as caught:
        ledger.submit(signed)
    assert caught.value.args_map["nonce"] == signed.record.nonce


def test_refuses_the_wrong_role_naming_the_event(ledger: Ledger, world: DemoWorld) -> None:
    signed = ledger.sign_event_batch(batch_for(ledger, world), world.parties["chamber"].private_key)
    with pytest.raises(ce.BatchItemFailed) as caught:
        ledger.submit(signed)
    assert caught.value.index == 0
    assert isinstance(caught.value.cause, ce.NotConsignmentParty)


def test_refuses_an_event_outside_the_key_window_naming_it(
    ledger: Ledger, world: DemoWorld
) -> None:
    party = carrier(world)
    fresh = Account.create()
    t = now(ledger)
    addition = KeyAddition(
        org_id=party.org_id, key=fresh.address, valid_from=t - 500, valid_until=t + 86400
    )
    ledger.membership.add_key(ledger.sign(addition, party.private_key))
    evs = batch_for(ledger, world, 3)
    evs[1] = replace(evs[1], event_time=t - 1000)  # before the new key's window
    with pytest.raises(ce.BatchItemFailed) as caught:
        ledger.submit(ledger.sign_event_batch(evs, fresh.key))
    assert caught.value.index == 1
    assert isinstance(caught.value.cause, ce.KeyNotYetValid)
    assert caught.value.cause.args_map["at"] == t - 1000


def test_refuses_an_event_altered_after_signing(ledger: Ledger, world: DemoWorld) -> None:
    """A relayer that changes a signed event makes the signature recover another key."""
    signed = ledger.sign_event_batch(batch_for(ledger, world), carrier(world).private_key)
    events_ = list(signed.events)
    events_[1] = replace(events_[1], seal_digest=keccak(text="forged seal"))
    altered = SignedEventBatch(tuple(events_), signed.signature)
    with pytest.raises(ce.UnknownKey) as caught:
        ledger.submit(altered)
    assert caught.value.args_map["key"].lower() == ledger.signer(altered).lower()
    assert ledger.signer(altered) != carrier(world).address


def test_refuses_an_expired_deadline(ledger: Ledger, world: DemoWorld) -> None:
    t = now(ledger)
    evs = events(ledger, [world.consignment_id], 2, nonce=secrets.randbits(32), deadline=t - 1)
    with pytest.raises(ce.DeadlineExpired):
        ledger.submit(ledger.sign_event_batch(evs, carrier(world).private_key))


def test_refuses_an_empty_batch(ledger: Ledger, world: DemoWorld) -> None:
    empty = EventBatch(events_hash=keccak(b""), nonce=1, deadline=now(ledger) + 600)
    signed = sign(empty, carrier(world).private_key, ledger.consignments.domain)
    with pytest.raises(ce.LengthMismatch):
        ledger.consignments.simulate(
            "postEventBatch", [], empty.nonce, empty.deadline, signed.sig()
        )
