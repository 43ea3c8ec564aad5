"""Record kinds of the outbox and the ledger's record types: one kind per contract function.

A stored record is its EIP-712 message as JSON (field names as in the type, bytes as 0x-hex)
and its 65-byte signature; :func:`decode` turns it back into a
:class:`~ledger.records.kinds.SignedRecord`. ``execution`` is the one unsigned kind (governance
``execute(Proposal)``, which any relayer may call once a proposal has its approvals): its
payload is the proposal's message and its signature is ``0x``.

Record ids (:func:`record_id`) are ``keccak256(abi.encode(orgId, digest))`` over the EIP-712
digest that was signed (which binds the chain, the contract and every field), so the same
record of one organisation submitted custodially or non-custodially has the same id, and
identical content of two organisations is two records. An execution's id is
``keccak256("execute" ‖ proposalId ‖ orgId)``.

Records signed together with one batch signature (``signed_batch`` set) store that
signature. An event carries its batch's nonce and deadline in its own fields; an attestation
carries its own deadline, and so does a drawdown (signed in it and checked for each item),
but neither carries its batch's deadline, so its stored payload adds the batch's deadline
under :data:`BATCH_DEADLINE_KEY` (outside the Attestation or Drawdown type: its record id, and
an attestation's uid, are those of the record signed alone).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from eth_utils.crypto import keccak

from gateway.auth import Scope
from gateway.models.stored import RecordKind
from ledger.chain import Ledger
from ledger.errors import InvalidSignature
from ledger.records import (
    AeoAction,
    Approval,
    Attestation,
    AttestationRevocation,
    CertificateIssue,
    CertificateRevocation,
    ConsignmentEvent,
    ConsignmentRegistration,
    Declaration,
    Drawdown,
    EpcisCapture,
    KeyAddition,
    KeyRevocation,
    MraAcceptance,
    MraProposal,
    MraTermination,
    Proposal,
    Record,
    SchemaRegistration,
    SignedRecord,
    recover_digest,
)

__all__ = [
    "BATCH_DEADLINE_KEY",
    "BATCH_FUNCTIONS",
    "KIND_EVENTS",
    "KIND_PATHS",
    "KIND_SCOPES",
    "KIND_TYPES",
    "UNSIGNED",
    "decode",
    "decode_record",
    "execution_id",
    "kind_of",
    "record_id",
    "record_id_for",
    "recover",
]

KIND_TYPES: Mapping[RecordKind, type[Record]] = {
    RecordKind.CONSIGNMENT: ConsignmentRegistration,
    RecordKind.EVENT: ConsignmentEvent,
    RecordKind.CERTIFICATE_ISSUE: CertificateIssue,
    RecordKind.CERTIFICATE_REVOKE: CertificateRevocation,
    RecordKind.DRAWDOWN: Drawdown,
    RecordKind.SCHEMA: SchemaRegistration,
    RecordKind.ATTESTATION: Attestation,
    RecordKind.ATTESTATION_REVOKE: AttestationRevocation,
    RecordKind.AEO_ACTION: AeoAction,
    RecordKind.MRA_PROPOSAL: MraProposal,
    RecordKind.MRA_ACCEPTANCE: MraAcceptance,
    RecordKind.MRA_TERMINATION: MraTermination,
    RecordKind.PROPOSAL: Proposal,
    RecordKind.APPROVAL: Approval,
    RecordKind.EXECUTION: Proposal,
    RecordKind.KEY_ADDITION: KeyAddition,
    RecordKind.KEY_REVOCATION: KeyRevocation,
    RecordKind.DECLARATION: Declaration,
    RecordKind.EPCIS_CAPTURE: EpcisCapture,
}
"""The record type each kind carries (``execution`` carries the proposal it executes)."""

UNSIGNED = frozenset({RecordKind.EXECUTION})

BATCH_DEADLINE_KEY = "batchDeadline"
"""Payload key of an attestation signed in an AttestationBatch, or of a drawdown in a
DrawdownBatch: the batch's deadline."""

KIND_SCOPES: Mapping[RecordKind, Scope] = {
    RecordKind.CONSIGNMENT: Scope.EVENTS_WRITE,
    RecordKind.EVENT: Scope.EVENTS_WRITE,
    RecordKind.CERTIFICATE_ISSUE: Scope.CERTIFICATES_WRITE,
    RecordKind.CERTIFICATE_REVOKE: Scope.CERTIFICATES_WRITE,
    RecordKind.DRAWDOWN: Scope.CERTIFICATES_WRITE,
    RecordKind.SCHEMA: Scope.ATTESTATIONS_WRITE,
    RecordKind.ATTESTATION: Scope.ATTESTATIONS_WRITE,
    RecordKind.ATTESTATION_REVOKE: Scope.ATTESTATIONS_WRITE,
    RecordKind.AEO_ACTION: Scope.AEO_WRITE,
    RecordKind.MRA_PROPOSAL: Scope.AEO_WRITE,
    RecordKind.MRA_ACCEPTANCE: Scope.AEO_WRITE,
    RecordKind.MRA_TERMINATION: Scope.AEO_WRITE,
    RecordKind.PROPOSAL: Scope.GOVERNANCE_WRITE,
    RecordKind.APPROVAL: Scope.GOVERNANCE_WRITE,
    RecordKind.EXECUTION: Scope.GOVERNANCE_WRITE,
    RecordKind.KEY_ADDITION: Scope.GOVERNANCE_WRITE,
    RecordKind.KEY_REVOCATION: Scope.GOVERNANCE_WRITE,
    RecordKind.DECLARATION: Scope.DECLARATIONS_WRITE,
    RecordKind.EPCIS_CAPTURE: Scope.EVENTS_WRITE,
}
"""The API-key scope needed to submit each kind of record."""

KIND_PATHS: Mapping[RecordKind, str] = {
    RecordKind.CONSIGNMENT: "/consignments",
    RecordKind.EVENT: "/events",
    RecordKind.CERTIFICATE_ISSUE: "/certificates",
    RecordKind.CERTIFICATE_REVOKE: "/certificates/revocations",
    RecordKind.DRAWDOWN: "/certificates/drawdowns",
    RecordKind.SCHEMA: "/attestations/schemas",
    RecordKind.ATTESTATION: "/attestations",
    RecordKind.ATTESTATION_REVOKE: "/attestations/revocations",
    RecordKind.AEO_ACTION: "/aeo/actions",
    RecordKind.MRA_PROPOSAL: "/aeo/mras",
    RecordKind.MRA_ACCEPTANCE: "/aeo/mras/acceptances",
    RecordKind.MRA_TERMINATION: "/aeo/mras/terminations",
    RecordKind.PROPOSAL: "/governance/proposals",
    RecordKind.APPROVAL: "/governance/approvals",
    RecordKind.EXECUTION: "/governance/executions",
    RecordKind.KEY_ADDITION: "/organisations/keys",
    RecordKind.KEY_REVOCATION: "/organisations/keys/revocations",
    RecordKind.DECLARATION: "/declarations",
    RecordKind.EPCIS_CAPTURE: "/epcis/capture",
}
"""Where each kind is submitted: ``POST {path}`` (custodial), ``POST {path}/signed``."""

BATCH_FUNCTIONS: Mapping[RecordKind, str] = {
    RecordKind.CONSIGNMENT: "registerBatch",
    RecordKind.EVENT: "postEvents",
    RecordKind.CERTIFICATE_ISSUE: "issueBatch",
    RecordKind.DRAWDOWN: "drawDownBatch",
    RecordKind.ATTESTATION: "attestBatch",
    RecordKind.ATTESTATION_REVOKE: "revokeBatch",
    RecordKind.DECLARATION: "lodgeBatch",
    RecordKind.EPCIS_CAPTURE: "commitCaptures",
}
"""Kinds with a batch function; every other kind travels one record per transaction."""

KIND_EVENTS: Mapping[RecordKind, frozenset[str]] = {
    RecordKind.CONSIGNMENT: frozenset({"ConsignmentRegistered"}),
    RecordKind.EVENT: frozenset({"ConsignmentEventRecorded"}),
    RecordKind.CERTIFICATE_ISSUE: frozenset({"CertificateIssued"}),
    RecordKind.CERTIFICATE_REVOKE: frozenset({"CertificateRevoked"}),
    RecordKind.DRAWDOWN: frozenset({"QuantityDrawn"}),
    RecordKind.SCHEMA: frozenset({"SchemaRegistered"}),
    RecordKind.ATTESTATION: frozenset({"Attested"}),
    RecordKind.ATTESTATION_REVOKE: frozenset({"AttestationRevoked"}),
    RecordKind.AEO_ACTION: frozenset(
        {"AeoCertified", "AeoSuspended", "AeoReinstated", "AeoRevoked"}
    ),
    RecordKind.MRA_PROPOSAL: frozenset({"MraProposed"}),
    RecordKind.MRA_ACCEPTANCE: frozenset({"MraAccepted"}),
    RecordKind.MRA_TERMINATION: frozenset({"MraTerminated"}),
    RecordKind.PROPOSAL: frozenset({"ProposalCreated"}),
    RecordKind.APPROVAL: frozenset({"ProposalApproved"}),
    RecordKind.EXECUTION: frozenset({"ProposalExecuted"}),
    RecordKind.KEY_ADDITION: frozenset({"SigningKeyAdded"}),
    RecordKind.KEY_REVOCATION: frozenset({"SigningKeyRevoked"}),
    RecordKind.DECLARATION: frozenset({"DeclarationLodged"}),
    RecordKind.EPCIS_CAPTURE: frozenset({"CaptureCommitted"}),
}
"""The log each record of a kind emits once (in item order): its log index is the record's."""

_SIGNED_KIND: Mapping[type[Record], RecordKind] = {
    cls: kind for kind, cls in KIND_TYPES.items() if kind not in UNSIGNED
}


def kind_of(record: Record) -> RecordKind:
    """The outbox kind of a signed record."""
    return _SIGNED_KIND[type(record)]


def decode_record(kind: RecordKind, message: Mapping[str, Any]) -> Record:
    """The record of ``kind`` from its EIP-712 message (raises ``ValidationError``)."""
    return KIND_TYPES[kind].from_message(message)


def decode(kind: RecordKind, message: Mapping[str, Any], signature: str) -> SignedRecord[Any]:
    """A stored (or submitted) signed record; raises ``ValidationError`` if it is malformed."""
    record = decode_record(kind, message)
    text = signature.removeprefix("0x")
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise InvalidSignature("signature", "must be 0x-hex", signature) from None
    return SignedRecord(record, raw)


def execution_id(proposal: Proposal, org_id: str) -> str:
    """The record id of ``org_id``'s request to execute ``proposal``."""
    return "0x" + keccak(b"execute" + proposal.proposal_id + bytes.fromhex(org_id[2:])).hex()


def record_id_for(digest: bytes, *, org_id: str) -> str:
    """The record id of ``org_id``'s record with the EIP-712 ``digest`` (see :func:`record_id`)."""
    return "0x" + keccak(bytes.fromhex(org_id[2:]).ljust(32, b"\0") + digest).hex()


def recover(digest: bytes, signature: bytes) -> str:
    """The checksummed address that signed ``digest`` (422 ``InvalidSignature`` if none)."""
    return str(recover_digest(digest, signature))


def record_id(ledger: Ledger, record: Record, *, org_id: str) -> str:
    """The record id of a signed record of organisation ``org_id`` (0x-hex):
    ``keccak256(abi.encode(orgId, digest))`` with ``digest`` the EIP-712 digest it signed.

    The organisation is part of the id because identical content signed by two members is
    two records (two approvals of one proposal, two attestations of the same content, two
    issuers' certificates with the same number); the digest binds chain, contract and
    every field. Custodial or not, the same record of the same organisation has one id.
    """
    return record_id_for(record.digest(ledger.domain(record)), org_id=org_id)
