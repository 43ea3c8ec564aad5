"""Batch-signed attestations (``Attestations.attestSignedBatch``) against the session anvil.

One AttestationBatch signature covers a list of attestations: the Python type and hashes equal
the contract's, every attestation is stored and logged exactly as if signed alone (so the index
needs nothing new), and every security rule is enforced with the right contract error.
"""

from __future__ import annotations

import secrets
from dataclasses import replace
from pathlib import Path

import pytest
from eth_account import Account
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from web3.exceptions import ContractLogicError

from ledger.chain import MAX_TX_GAS, ROUTES, Ledger, decode_revert
from ledger.chain import contract_errors as ce
from ledger.errors import ValidationError
from ledger.index import Index
from ledger.records import (
    ATTESTATION_BATCH_MAX,
    Approval,
    Attestation,
    AttestationBatch,
    KeyAddition,
    Proposal,
    ProposalAction,
    SignedAttestationBatch,
    SubjectType,
    attestations_hash,
    hash_typed_data,
    recover_typed_data,
    sign,
    sign_attestation_batch,
)
from ledger.stack import DemoWorld, Party


def now(ledger: Ledger) -> int:
    return int(ledger.w3.eth.get_block("latest")["timestamp"])


def customs(world: DemoWorld) -> Party:
    return world.parties["au"]


# Each attestation's own deadline: far ahead (the tests' chain time may run ahead of the clock).
DEADLINE = 4_102_444_800  # 2100-01-01


def attestations(world: DemoWorld, count: int = 3, *, tag: str = "") -> list[Attestation]:
    """``count`` distinct attestations about the demo consignment."""
    label = tag or secrets.token_hex(4)
    return [
        Attestation(
            schema_id=world.schema_ids["inspection"],
            subject_type=SubjectType.CONSIGNMENT,
            subject_id=world.consignment_id,
            data_digest=keccak(text=f"inspection report {label} {i}"),
            deadline=DEADLINE,
        )
        for i in range(count)
    ]


def signed_batch(
    ledger: Ledger, world: DemoWorld, count: int = 3, *, key: bytes | str | None = None
) -> SignedAttestationBatch:
    return ledger.sign_attestation_batch(
        attestations(world, count),
        customs(world).private_key if key is None else key,
        deadline=now(ledger) + 600,
    )


def govern(ledger: Ledger, world: DemoWorld, proposal: Proposal) -> None:
    """Propose (AU customs), approve (CN customs), execute."""
    ledger.membership.propose(ledger.sign(proposal, world.parties["au"].private_key))
    ledger.membership.approve(
        ledger.sign(Approval(proposal_id=proposal.proposal_id), world.parties["cn"].private_key)
    )
    ledger.membership.execute(proposal)


# ------------------------------------------------------------------------------------------
# Types and hashes equal the contract's
# ------------------------------------------------------------------------------------------


def test_typehash_equals_the_contract_constant(ledger: Ledger) -> None:
    assert AttestationBatch.type_string() == (
        "AttestationBatch(bytes32 attestationsHash,uint40 deadline)"
    )
    assert (
        bytes(ledger.attestations.call("ATTESTATION_BATCH_TYPEHASH")) == AttestationBatch.typehash()
    )


def test_attestations_hash_struct_hash_and_digest_equal_the_contract(
    ledger: Ledger, world: DemoWorld
) -> None:
    items = attestations(world, 4)
    items[1] = replace(items[1], ref_uid=world.attestation_uids[0], expires_at=now(ledger) + 99)
    batch = AttestationBatch.of(items, deadline=now(ledger) + 600)
    client = ledger.attestations
    on_chain = client.attestations_hash(items)
    assert batch.attestations_hash == on_chain == attestations_hash(items)
    assert on_chain == keccak(
        b"".join(bytes(client.call("hashAttestation", a.onchain())) for a in items)
    )
    assert client.hash_attestation_batch(batch) == batch.struct_hash()
    digest = bytes(client.call("hashTypedData", batch.struct_hash()))
    assert batch.digest(client.domain) == digest
    assert hash_typed_data(batch.typed_data(client.domain)) == digest


def test_a_wallet_signature_over_the_typed_data_is_the_batch_signature(
    ledger: Ledger, world: DemoWorld
) -> None:
    signed = signed_batch(ledger, world)
    typed = signed.record.typed_data(ledger.attestations.domain)
    assert typed["primaryType"] == "AttestationBatch"
    assert recover_typed_data(typed, signed.signature) == customs(world).address
    assert ledger.signer(signed) == customs(world).address


# ------------------------------------------------------------------------------------------
# The Python record
# ------------------------------------------------------------------------------------------


def test_attestation_batch_of_refuses_empty_too_large_and_foreign_lists(world: DemoWorld) -> None:
    with pytest.raises(ValidationError) as caught:
        AttestationBatch.of([], deadline=1)
    assert caught.value.field == "attestations"
    AttestationBatch.of(attestations(world, ATTESTATION_BATCH_MAX), deadline=1)
    with pytest.raises(ValidationError, match="at most 350"):
        AttestationBatch.of(attestations(world, ATTESTATION_BATCH_MAX + 1), deadline=1)
    items: list[object] = [*attestations(world, 2), "not an attestation"]
    with pytest.raises(ValidationError) as caught:
        AttestationBatch.of(items, deadline=1)  # type: ignore[arg-type]
    assert caught.value.field == "attestations[2]"


def test_signed_batch_derives_its_record_and_uids(ledger: Ledger, world: DemoWorld) -> None:
    items = attestations(world, 3)
    deadline = now(ledger) + 600
    signed = sign_attestation_batch(
        items, customs(world).private_key, ledger.attestations.domain, deadline=deadline
    )
    assert signed.record == AttestationBatch(
        attestations_hash=attestations_hash(items), deadline=deadline
    )
    assert len(signed) == 3
    assert signed.uids(customs(world).org_id) == [a.uid(customs(world).org_id) for a in items]
    assert signed.onchain() == ([a.onchain() for a in items], deadline, signed.sig())
    with pytest.raises(ValidationError):
        SignedAttestationBatch((), deadline, signed.signature)


def test_routes_send_a_signed_batch_to_attest_signed_batch(
    ledger: Ledger, world: DemoWorld
) -> None:
    assert ROUTES[AttestationBatch][:2] == ("Attestations", "attestSignedBatch")
    signed = signed_batch(ledger, world)
    client, function, args = ledger.call_for(signed)
    assert (client, function) == (ledger.attestations, "attestSignedBatch")
    assert args == signed.onchain()
    alone = sign(signed.record, customs(world).private_key, ledger.attestations.domain)
    with pytest.raises(ValueError, match="sent with its attestations"):
        ledger.call_for(alone)


# ------------------------------------------------------------------------------------------
# Recording: storage, logs and the index
# ------------------------------------------------------------------------------------------


def test_a_batch_is_recorded_as_single_attestations(ledger: Ledger, world: DemoWorld) -> None:
    party = world.parties["carrier"]
    signed = signed_batch(ledger, world, 4, key=party.private_key)

    receipt = ledger.attestations.attest_signed_batch(signed)

    assert receipt.succeeded
    mined_at = int(ledger.w3.eth.get_block(receipt.block_number)["timestamp"])
    logs = [d for d in ledger.decode_logs(receipt.logs) if d.event == "Attested"]
    assert len(logs) == len(signed)
    uids = signed.uids(party.org_id)
    for attestation, uid, log in zip(signed.attestations, uids, logs, strict=True):
        assert uid == ledger.attestations.attestation_uid(party.org_id, attestation)
        assert log.args["uid"] == uid
        assert log.args["attester"] == party.org_id
        assert to_checksum_address(log.args["signer"]) == party.address  # the batch signer
        assert log.args["dataDigest"] == attestation.data_digest
        assert log.args["schemaId"] == attestation.schema_id
        state = ledger.attestations.attestation(uid)
        assert state.attester == party.org_id
        assert state.attested_at == mined_at
        assert ledger.attestations.is_valid(uid)


def test_the_index_holds_batch_signed_attestations_as_single_ones(
    ledger: Ledger, world: DemoWorld, tmp_path: Path
) -> None:
    signed = signed_batch(ledger, world, 5)
    single = attestations(world, 1)[0]
    ledger.submit(signed)
    ledger.submit(ledger.sign(single, customs(world).private_key))

    index = Index(f"sqlite:///{tmp_path / 'index.db'}", ledger)
    try:
        index.sync()
        rows = {a.uid: a for a in index.attestations_for(world.consignment_id)}
        org = customs(world).org_id
        for attestation, uid in zip(signed.attestations, signed.uids(org), strict=True):
            row = rows[uid]
            assert row.attester == org
            assert row.signer == customs(world).address
            assert row.data_digest == attestation.data_digest
            assert row.schema_id == attestation.schema_id
            assert not row.revoked
        alone = rows[single.uid(org)]
        batch_row = rows[signed.uids(org)[0]]
        assert (alone.signer, alone.attester) == (batch_row.signer, batch_row.attester)
    finally:
        index.engine.dispose()


def test_the_largest_batch_fits_the_transaction_gas_cap(ledger: Ledger, world: DemoWorld) -> None:
    """ATTESTATION_BATCH_MAX attestations that each read two more cold attestations (subject
    type 4 and a reference) stay under EIP-7825's cap with the relayer's gas margin: the
    relayer cannot split the batch."""
    n = ATTESTATION_BATCH_MAX
    key, org = customs(world).private_key, customs(world).org_id
    earlier: list[list[bytes]] = []
    for tag in ("first", "second"):
        batch = ledger.sign_attestation_batch(
            attestations(world, n, tag=tag), key, deadline=now(ledger) + 600
        )
        ledger.submit(batch)
        earlier.append(batch.uids(org))
    worst = [
        replace(a, subject_type=SubjectType.ATTESTATION, subject_id=subject, ref_uid=ref)
        for a, subject, ref in zip(
            attestations(world, n, tag="worst"), earlier[0], earlier[1], strict=True
        )
    ]
    signed = ledger.sign_attestation_batch(worst, key, deadline=now(ledger) + 600)
    client = ledger.attestations
    assert ledger.tx is not None
    gas = ledger.w3.eth.estimate_gas(
        {
            "from": ledger.tx.address,
            "to": client.address,
            "data": "0x" + client.calldata("attestSignedBatch", *signed.onchain()).hex(),
        }
    )
    # With a cold schema each too (2,100 more) and the relayer's margin (x 1.2): under the cap.
    assert (gas + n * 2_100) * 1.2 < MAX_TX_GAS, gas
    assert ledger.submit(signed).succeeded


# ------------------------------------------------------------------------------------------
# Security rules, each with its decoded contract error
# ------------------------------------------------------------------------------------------


def test_refuses_an_unknown_signer(ledger: Ledger, world: DemoWorld) -> None:
    stranger = Account.create()
    signed = signed_batch(ledger, world, key=stranger.key)
    with pytest.raises(ce.UnknownKey) as caught:
        ledger.submit(signed)
    assert caught.value.args_map["key"].lower() == stranger.address.lower()


def test_refuses_a_revoked_key(ledger: Ledger, world: DemoWorld) -> None:
    party = world.parties["carrier"]
    signed = signed_batch(ledger, world, key=party.private_key)
    govern(
        ledger,
        world,
        Proposal(
            action=ProposalAction.REVOKE_KEY, account=party.address, expires_at=now(ledger) + 3600
        ),
    )
    with pytest.raises(ce.KeyRevoked):
        ledger.submit(signed)


def test_refuses_a_suspended_member(ledger: Ledger, world: DemoWorld) -> None:
    party = world.parties["carrier"]
    signed = signed_batch(ledger, world, key=party.private_key)
    govern(
        ledger,
        world,
        Proposal(
            action=ProposalAction.SUSPEND_MEMBER, org_id=party.org_id, expires_at=now(ledger) + 3600
        ),
    )
    with pytest.raises(ce.MemberNotActive):
        ledger.submit(signed)


@pytest.mark.parametrize(("offset", "error"), [(600, ce.KeyNotYetValid), (-1, ce.KeyExpired)])
def test_refuses_a_key_outside_its_window(
    ledger: Ledger, world: DemoWorld, offset: int, error: type[ce.ContractError]
) -> None:
    party = world.parties["exporter"]
    fresh = Account.create()
    t = now(ledger)
    window = (t + offset, t + 86400) if offset > 0 else (t - 3600, t + 5)
    addition = KeyAddition(
        org_id=party.org_id, key=fresh.address, valid_from=window[0], valid_until=window[1]
    )
    ledger.membership.add_key(ledger.sign(addition, party.private_key))
    signed = signed_batch(ledger, world, key=fresh.key)
    if offset < 0:
        ledger.w3.provider.make_request("evm_increaseTime", [10])  # type: ignore[arg-type]
        ledger.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    with pytest.raises(error) as caught:
        ledger.attestations.simulate_signed_batch(signed)
    assert caught.value.args_map["key"].lower() == fresh.address.lower()


def test_refuses_a_replayed_batch_naming_its_first_attestation(
    ledger: Ledger, world: DemoWorld
) -> None:
    signed = signed_batch(ledger, world)
    ledger.submit(signed)
    with pytest.raises(ce.BatchItemFailed) as caught:
        ledger.submit(signed)
    assert caught.value.index == 0
    assert isinstance(caught.value.cause, ce.AttestationExists)
    assert caught.value.cause.args_map["uid"] == signed.uids(customs(world).org_id)[0]


def test_refuses_a_duplicate_inside_the_batch_and_one_attested_alone(
    ledger: Ledger, world: DemoWorld
) -> None:
    items = attestations(world, 3)
    key, deadline = customs(world).private_key, now(ledger) + 600
    duplicate = ledger.sign_attestation_batch([*items, items[1]], key, deadline=deadline)
    with pytest.raises(ce.BatchItemFailed) as caught:
        ledger.submit(duplicate)
    assert (caught.value.index, type(caught.value.cause)) == (3, ce.AttestationExists)
    ledger.submit(ledger.sign(items[2], key))
    with pytest.raises(ce.BatchItemFailed) as caught:
        ledger.submit(ledger.sign_attestation_batch(items, key, deadline=deadline))
    assert (caught.value.index, type(caught.value.cause)) == (2, ce.AttestationExists)


def test_refuses_an_invalid_attestation_naming_it(ledger: Ledger, world: DemoWorld) -> None:
    items = attestations(world, 3)
    items[1] = replace(items[1], schema_id=keccak(text="no such schema"))
    with pytest.raises(ce.BatchItemFailed) as caught:
        ledger.submit(
            ledger.sign_attestation_batch(
                items, customs(world).private_key, deadline=now(ledger) + 600
            )
        )
    assert caught.value.index == 1
    assert isinstance(caught.value.cause, ce.UnknownSchema)


def test_refuses_an_attestation_altered_after_signing(ledger: Ledger, world: DemoWorld) -> None:
    """A relayer that changes a signed attestation makes the signature recover another key."""
    signed = signed_batch(ledger, world)
    items = list(signed.attestations)
    items[1] = replace(items[1], data_digest=keccak(text="forged report"))
    altered = SignedAttestationBatch(tuple(items), signed.deadline, signed.signature)
    with pytest.raises(ce.UnknownKey) as caught:
        ledger.submit(altered)
    assert caught.value.args_map["key"].lower() == ledger.signer(altered).lower()
    assert ledger.signer(altered) != customs(world).address


def test_refuses_an_expired_deadline(ledger: Ledger, world: DemoWorld) -> None:
    signed = ledger.sign_attestation_batch(
        attestations(world, 2), customs(world).private_key, deadline=now(ledger) - 1
    )
    with pytest.raises(ce.DeadlineExpired):
        ledger.submit(signed)


def test_refuses_an_attestation_past_its_own_deadline_naming_it(
    ledger: Ledger, world: DemoWorld
) -> None:
    """The batch's deadline is ahead; attestation 1's own deadline has passed."""
    items = attestations(world, 3)
    items[1] = replace(items[1], deadline=now(ledger) - 1)
    signed = ledger.sign_attestation_batch(
        items, customs(world).private_key, deadline=now(ledger) + 600
    )
    with pytest.raises(ce.BatchItemFailed) as caught:
        ledger.submit(signed)
    assert (caught.value.index, type(caught.value.cause)) == (1, ce.DeadlineExpired)


def test_an_attestation_signed_again_with_another_deadline_is_refused_as_recorded(
    ledger: Ledger, world: DemoWorld
) -> None:
    items = attestations(world, 2)
    key = customs(world).private_key
    ledger.submit(ledger.sign_attestation_batch(items, key, deadline=now(ledger) + 600))
    again = [replace(a, deadline=a.deadline - 1) for a in items]
    with pytest.raises(ce.BatchItemFailed) as caught:
        ledger.submit(ledger.sign_attestation_batch(again, key, deadline=now(ledger) + 600))
    assert (caught.value.index, type(caught.value.cause)) == (0, ce.AttestationExists)
    assert caught.value.cause.args_map["uid"] == items[0].uid(customs(world).org_id)


def test_refuses_an_empty_batch(ledger: Ledger, world: DemoWorld) -> None:
    empty = AttestationBatch(attestations_hash=keccak(b""), deadline=now(ledger) + 600)
    signed = sign(empty, customs(world).private_key, ledger.attestations.domain)
    with pytest.raises(ce.LengthMismatch):
        ledger.attestations.simulate("attestSignedBatch", [], empty.deadline, signed.sig())


def test_refuses_a_sender_that_is_not_a_relayer(ledger: Ledger, world: DemoWorld) -> None:
    signed = signed_batch(ledger, world)
    client = ledger.attestations
    data = client.calldata("attestSignedBatch", *signed.onchain())
    outsider = Account.create().address
    with pytest.raises(ContractLogicError) as caught:
        ledger.w3.eth.call({"from": outsider, "to": client.address, "data": "0x" + data.hex()})
    error = decode_revert(str(caught.value.data))
    assert isinstance(error, ce.RelayerNotAllowed)
    assert error.args_map["sender"].lower() == outsider.lower()
