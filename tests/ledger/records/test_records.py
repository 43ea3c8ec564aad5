"""Every record kind: the Python EIP-712 type, struct hash and digest equal the contracts'."""

from __future__ import annotations

import dataclasses
from dataclasses import replace
from typing import Any

import pytest
from eth_abi.abi import encode
from eth_account import Account
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from ledger.chain import Ledger
from ledger.errors import InvalidSignature, ValidationError
from ledger.records import (
    RECORD_TYPES,
    AeoAction,
    Approval,
    Attestation,
    AttestationBatch,
    AttestationRevocation,
    CertificateIssue,
    CertificateRevocation,
    ConsignmentEvent,
    ConsignmentRegistration,
    Declaration,
    Domain,
    Drawdown,
    DrawdownBatch,
    EventBatch,
    KeyAddition,
    KeyRevocation,
    MraAcceptance,
    MraProposal,
    MraTermination,
    Proposal,
    Record,
    SchemaRegistration,
    SignedRecord,
    consignment_id,
    fixed_ascii,
    hash_typed_data,
    recover_typed_data,
    reference_hash,
    sign,
    sign_typed_data,
)

KEY = "0x" + "11" * 32
ADDRESS = Account.from_key(KEY).address
B32 = keccak(text="thirty-two")

SAMPLES: list[Record] = [
    Proposal(
        action=1,
        org_id=B32,
        kind=2,
        country=b"SG",
        account=ADDRESS,
        valid_from=1,
        valid_until=2,
        threshold=3,
        expires_at=4,
        salt=keccak(text="salt"),
    ),
    Approval(proposal_id=B32),
    KeyAddition(org_id=B32, key=ADDRESS, valid_from=10, valid_until=20),
    KeyRevocation(org_id=B32, key=ADDRESS, deadline=1_800_000_000),
    ConsignmentRegistration(
        reference_hash=B32,
        origin=b"AU",
        destination=b"CN",
        consignor=keccak(text="a"),
        consignee=keccak(text="b"),
        deadline=1_800_000_000,
    ),
    ConsignmentEvent(
        consignment_id=B32,
        biz_step=20,
        disposition=17,
        location=b"AUADL",
        event_time=1_700_000_000,
        container=b"CSQU3054383",
        seal_digest=keccak(text="s"),
        documents_digest=keccak(text="d"),
        epcis_event_hash=keccak(text="e"),
        nonce=0xDEADBEEF,
        deadline=1_800_000_000,
    ),
    CertificateIssue(
        certificate_number=keccak(text="n"),
        exporter=B32,
        origin=b"AU",
        destination=b"CN",
        document_digest=keccak(text="doc"),
        hs_codes_digest=keccak(text="hs"),
        quantity=9000,
        unit=fixed_ascii("LTR", 8),
        valid_from=1,
        valid_until=2,
        issued_at=3,
    ),
    CertificateRevocation(
        certificate_number=keccak(text="n"), reason_digest=keccak(text="r"), deadline=1_800_000_000
    ),
    Drawdown(
        certificate_id=B32, consignment_id=keccak(text="c"), quantity=12, deadline=1_800_000_000
    ),
    SchemaRegistration(
        definition="export-release(bytes32 declarationDigest)", deadline=1_800_000_001
    ),
    Attestation(
        schema_id=B32,
        subject_type=1,
        subject_id=keccak(text="c"),
        data_digest=keccak(text="d"),
        ref_uid=keccak(text="r"),
        expires_at=99,
        deadline=1_800_000_002,
    ),
    AttestationRevocation(uid=B32, reason_digest=keccak(text="why"), deadline=1_800_000_003),
    AeoAction(
        action=1,
        operator_id=B32,
        programme=fixed_ascii("AEOF", 8),
        valid_from=1,
        valid_until=2,
        nonce=7,
        deadline=8,
    ),
    MraProposal(counterpart=B32, scope=7, valid_from=1, valid_until=2, deadline=1_800_000_004),
    MraAcceptance(mra_id=B32, deadline=1_800_000_005),
    MraTermination(mra_id=B32, deadline=1_800_000_006),
    EventBatch(events_hash=keccak(text="events"), nonce=0xDEADBEEF, deadline=1_800_000_000),
    AttestationBatch(attestations_hash=keccak(text="attestations"), deadline=1_800_000_000),
    DrawdownBatch(drawdowns_hash=keccak(text="drawdowns"), deadline=1_800_000_000),
    Declaration(
        declaration_ref=keccak(text="D-1"),
        administration=B32,
        consignment_id=keccak(text="c"),
        certificate_id=keccak(text="cert"),
        values_digest=keccak(text="values"),
        amends=keccak(text="earlier"),
        lodged_at=1_750_000_000,
    ),
]

TYPEHASH_CONSTANTS = {
    Proposal: "PROPOSAL_TYPEHASH",
    Approval: "APPROVAL_TYPEHASH",
    KeyAddition: "KEY_ADDITION_TYPEHASH",
    KeyRevocation: "KEY_REVOCATION_TYPEHASH",
    ConsignmentRegistration: "REGISTRATION_TYPEHASH",
    ConsignmentEvent: "EVENT_TYPEHASH",
    EventBatch: "EVENT_BATCH_TYPEHASH",
    AttestationBatch: "ATTESTATION_BATCH_TYPEHASH",
    CertificateIssue: "ISSUE_TYPEHASH",
    CertificateRevocation: "REVOCATION_TYPEHASH",
    Drawdown: "DRAWDOWN_TYPEHASH",
    DrawdownBatch: "DRAWDOWN_BATCH_TYPEHASH",
    SchemaRegistration: "SCHEMA_TYPEHASH",
    Attestation: "ATTESTATION_TYPEHASH",
    AttestationRevocation: "REVOCATION_TYPEHASH",
    AeoAction: "AEO_ACTION_TYPEHASH",
    MraProposal: "MRA_PROPOSAL_TYPEHASH",
    MraAcceptance: "MRA_ACCEPTANCE_TYPEHASH",
    MraTermination: "MRA_TERMINATION_TYPEHASH",
    Declaration: "DECLARATION_TYPEHASH",
}

HASH_FUNCTIONS: dict[type[Record], tuple[str, Any]] = {
    Proposal: ("hashProposal", lambda r: (r.onchain(),)),
    Approval: ("hashApproval", lambda r: (r.proposal_id,)),
    KeyAddition: ("hashKeyAddition", lambda r: (r.onchain(),)),
    KeyRevocation: ("hashKeyRevocation", lambda r: (r.onchain(),)),
    ConsignmentRegistration: ("hashRegistration", lambda r: (r.onchain(),)),
    ConsignmentEvent: ("hashEvent", lambda r: (r.onchain(),)),
    EventBatch: ("hashEventBatch", lambda r: (r.onchain(),)),
    AttestationBatch: ("hashAttestationBatch", lambda r: (r.onchain(),)),
    CertificateIssue: ("hashIssue", lambda r: (r.onchain(),)),
    CertificateRevocation: ("hashRevocation", lambda r: (r.onchain(),)),
    Drawdown: ("hashDrawdown", lambda r: (r.onchain(),)),
    DrawdownBatch: ("hashDrawdownBatch", lambda r: (r.onchain(),)),
    SchemaRegistration: ("hashSchema", lambda r: r.onchain()),
    Attestation: ("hashAttestation", lambda r: (r.onchain(),)),
    AttestationRevocation: ("hashRevocation", lambda r: (r.onchain(),)),
    AeoAction: ("hashAeoAction", lambda r: (r.onchain(),)),
    MraProposal: ("hashMraProposal", lambda r: (r.onchain(),)),
    MraAcceptance: ("hashMraAcceptance", lambda r: r.onchain()),
    MraTermination: ("hashMraTermination", lambda r: r.onchain()),
    Declaration: ("hashDeclaration", lambda r: (r.onchain(),)),
}


def _id(record: Record) -> str:
    return type(record).__name__


def test_every_record_kind_has_a_sample() -> None:
    assert {type(r) for r in SAMPLES} == set(RECORD_TYPES)


@pytest.mark.parametrize("record", SAMPLES, ids=_id)
def test_typehash_equals_the_contract_constant(ledger: Ledger, record: Record) -> None:
    client = ledger.clients[record.CONTRACT]
    assert bytes(client.call(TYPEHASH_CONSTANTS[type(record)])) == record.typehash()


@pytest.mark.parametrize("record", SAMPLES, ids=_id)
def test_struct_hash_equals_the_contract(ledger: Ledger, record: Record) -> None:
    function, args = HASH_FUNCTIONS[type(record)]
    client = ledger.clients[record.CONTRACT]
    assert bytes(client.call(function, *args(record))) == record.struct_hash()


@pytest.mark.parametrize("record", SAMPLES, ids=_id)
def test_digest_equals_the_contract_and_eth_account(ledger: Ledger, record: Record) -> None:
    domain = ledger.domain(record)
    client = ledger.clients[record.CONTRACT]
    on_chain = bytes(client.call("hashTypedData", record.struct_hash()))
    assert record.digest(domain) == on_chain
    assert hash_typed_data(record.typed_data(domain)) == on_chain
    assert bytes(client.call("domainSeparator")) == domain.separator


@pytest.mark.parametrize("record", SAMPLES, ids=_id)
def test_signature_recovers_to_the_signer(ledger: Ledger, record: Record) -> None:
    domain = ledger.domain(record)
    signed = sign(record, KEY, domain)
    assert signed.signer(domain) == ADDRESS
    assert recover_typed_data(record.typed_data(domain), signed.signature) == ADDRESS
    assert sign_typed_data(KEY, record.typed_data(domain)) == signed.signature


@pytest.mark.parametrize("record", SAMPLES, ids=_id)
def test_from_message_round_trips(record: Record) -> None:
    assert type(record).from_message(record.json_message()) == record


def test_event_meta_packs_like_the_contract(ledger: Ledger) -> None:
    event = next(r for r in SAMPLES if isinstance(r, ConsignmentEvent))
    fields = (
        event.biz_step,
        event.disposition,
        event.location,
        event.event_time,
        event.container,
        event.deadline,
        event.nonce,
    )
    assert bytes(ledger.consignments.call("packEventMeta", fields)) == event.meta
    unpacked = ConsignmentEvent.unpack_meta(event.meta)
    assert unpacked["container"] == event.container
    assert unpacked["nonce"] == event.nonce


def test_domain_matches_eip712_domain_of_each_contract(ledger: Ledger) -> None:
    for client in ledger.clients.values():
        fields = client.call("eip712Domain")
        assert fields["name"] == client.domain.name
        assert fields["version"] == client.domain.version
        assert fields["chainId"] == client.domain.chain_id
        assert to_checksum_address(fields["verifyingContract"]) == client.domain.verifying_contract


def test_malformed_signature_is_refused() -> None:
    with pytest.raises(InvalidSignature, match="65 bytes"):
        SignedRecord(SAMPLES[1], b"\x01" * 64)
    good = sign(SAMPLES[1], KEY, _domain())
    high_s = good.signature[:32] + (2**256 - 1).to_bytes(32, "big") + good.signature[64:]
    with pytest.raises(InvalidSignature, match="low s"):
        SignedRecord(SAMPLES[1], high_s)


def test_from_message_names_the_bad_field() -> None:
    message = SAMPLES[5].json_message()
    message["location"] = "0x1234"
    with pytest.raises(ValidationError, match="location: must be 5 bytes"):
        ConsignmentEvent.from_message(message)
    del message["location"]
    with pytest.raises(ValidationError, match="location: is required"):
        ConsignmentEvent.from_message(message)
    message = SAMPLES[8].json_message()
    message["quantity"] = 2**64
    with pytest.raises(ValidationError, match="quantity: must fit in uint64"):
        Drawdown.from_message(message)


def _domain() -> Any:
    from ledger.records import Domain

    return Domain.for_contract("Consignments", chain_id=1, address="0x" + "00" * 19 + "01")


def test_consignment_id_is_bound_to_the_registrant() -> None:
    """keccak256(abi.encode(registrant, keccak256(reference))), as Consignments derives it: the
    same reference gives each registering organisation its own consignment."""
    carrier, competitor = keccak(text="org:carrier"), keccak(text="org:competitor")
    ref = "AU-UCR-2026-000042"
    expected = keccak(carrier + keccak(text=ref))
    assert consignment_id(ref, registrant=carrier) == expected
    assert consignment_id(f"  {ref} ", registrant=carrier) == expected  # surrounding space
    assert consignment_id(reference_hash(ref), registrant=carrier) == expected
    assert consignment_id(ref, registrant=competitor) != expected
    registration = ConsignmentRegistration(
        reference_hash=reference_hash(ref), origin=b"AU", destination=b"CN", deadline=1_800_000_000
    )
    assert registration.consignment_id_for(carrier) == expected
    # The deadline is signed but is no part of the id: a registration signed again later (a
    # new deadline) names the same consignment.
    later = dataclasses.replace(registration, deadline=1_900_000_000)
    domain = Domain.for_contract("Consignments", chain_id=1, address="0x" + "11" * 20)
    assert later.digest(domain) != registration.digest(domain)
    assert later.consignment_id_for(carrier) == expected
    with pytest.raises(ValidationError, match="registrant: must be a non-zero"):
        consignment_id(ref, registrant=bytes(32))
    with pytest.raises(ValidationError, match="consignment_ref: must not be empty"):
        consignment_id(" ", registrant=carrier)


def test_attestation_uid_and_mra_id_equal_the_contract_and_ignore_the_deadline(
    ledger: Ledger,
) -> None:
    attestation = next(r for r in SAMPLES if isinstance(r, Attestation))
    proposal = next(r for r in SAMPLES if isinstance(r, MraProposal))
    attester = keccak(text="attester")
    uid = attestation.uid(attester)
    assert uid == ledger.attestations.attestation_uid(attester, attestation)
    assert uid == keccak(
        encode(
            ["bytes32", "bytes32", "uint8", "bytes32", "bytes32", "bytes32", "uint40"],
            [attester, B32, 1, keccak(text="c"), keccak(text="d"), keccak(text="r"), 99],
        )
    )
    later = replace(attestation, deadline=attestation.deadline + 3600)
    assert later.struct_hash() != attestation.struct_hash()  # the deadline is signed
    assert later.uid(attester) == uid
    mra_id = proposal.mra_id(attester)
    assert mra_id == ledger.aeo.mra_id(attester, proposal)
    assert mra_id == keccak(
        encode(["bytes32", "bytes32", "uint32", "uint40", "uint40"], [attester, B32, 7, 1, 2])
    )
    assert replace(proposal, deadline=1).mra_id(attester) == mra_id
