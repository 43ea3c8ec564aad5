"""Every single record kind the contracts accept, with its EIP-712 type, by contract.

Each kind is a frozen dataclass on :class:`~ledger.records.record.Record` (which gives the type
hash, struct hash, digest and typed data from ``FIELDS``) and is signed with
:func:`~ledger.records.record.sign`: Membership (:class:`Proposal`, :class:`Approval`,
:class:`KeyAddition`, :class:`KeyRevocation`), Consignments (:class:`ConsignmentRegistration`,
:class:`ConsignmentEvent`), Certificates (:class:`CertificateIssue`,
:class:`CertificateRevocation`, :class:`Drawdown`), Attestations (:class:`SchemaRegistration`,
:class:`Attestation`, :class:`AttestationRevocation`) and AeoRegistry (:class:`AeoAction`,
:class:`MraProposal`, :class:`MraAcceptance`, :class:`MraTermination`), with the action and
subject codes they carry. The kinds that sign many of these at once are in
:mod:`ledger.records.batches`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from eth_abi.abi import encode
from eth_utils.crypto import keccak

from ledger.records.record import ZERO32, ZERO_ADDRESS, Record, consignment_id

__all__ = [
    "AeoAction",
    "AeoActionCode",
    "Approval",
    "Attestation",
    "AttestationRevocation",
    "CertificateIssue",
    "CertificateRevocation",
    "ConsignmentEvent",
    "ConsignmentRegistration",
    "Drawdown",
    "KeyAddition",
    "KeyRevocation",
    "MraAcceptance",
    "MraProposal",
    "MraTermination",
    "Proposal",
    "ProposalAction",
    "SchemaRegistration",
    "SubjectType",
]

# --------------------------------------------------------------------------------------------
# Membership
# --------------------------------------------------------------------------------------------


class ProposalAction:
    """Governance action codes (IMembership.Proposal.action)."""

    ADMIT_MEMBER = 1
    SUSPEND_MEMBER = 2
    REINSTATE_MEMBER = 3
    ADD_CUSTOMS = 4
    SET_THRESHOLD = 5
    REVOKE_KEY = 6
    ADD_RELAYER = 7
    REMOVE_RELAYER = 8
    ADD_KEY = 9
    REPLACE_KEY = 10
    REVOKE_RECORD = 11


@dataclass(frozen=True, slots=True, kw_only=True)
class Proposal(Record):
    """A governance proposal by a customs administration; its id is its struct hash."""

    CONTRACT: ClassVar[str] = "Membership"
    PRIMARY_TYPE: ClassVar[str] = "Proposal"
    FIELDS: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("action", "action", "uint8"),
        ("org_id", "orgId", "bytes32"),
        ("kind", "kind", "uint8"),
        ("country", "country", "bytes2"),
        ("account", "account", "address"),
        ("valid_from", "validFrom", "uint40"),
        ("valid_until", "validUntil", "uint40"),
        ("threshold", "threshold", "uint16"),
        ("expires_at", "expiresAt", "uint40"),
        ("salt", "salt", "bytes32"),
        ("subject", "subject", "bytes32"),
    )
    action: int
    org_id: bytes = ZERO32
    kind: int = 0
    country: bytes = b"\0\0"
    account: str = ZERO_ADDRESS
    valid_from: int = 0
    valid_until: int = 0
    threshold: int = 0
    expires_at: int
    salt: bytes = ZERO32
    subject: bytes = ZERO32

    @property
    def proposal_id(self) -> bytes:
        return self.struct_hash()

    @staticmethod
    def key_subject(key: str) -> bytes:
        """The ``subject`` of a REPLACE_KEY proposal: the replaced key, left-padded to 32
        bytes."""
        return bytes(12) + bytes.fromhex(key.removeprefix("0x"))


@dataclass(frozen=True, slots=True, kw_only=True)
class Approval(Record):
    CONTRACT: ClassVar[str] = "Membership"
    PRIMARY_TYPE: ClassVar[str] = "Approval"
    FIELDS: ClassVar[tuple[tuple[str, str, str], ...]] = (("proposal_id", "proposalId", "bytes32"),)
    proposal_id: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyAddition(Record):
    CONTRACT: ClassVar[str] = "Membership"
    PRIMARY_TYPE: ClassVar[str] = "KeyAddition"
    FIELDS: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("org_id", "orgId", "bytes32"),
        ("key", "key", "address"),
        ("valid_from", "validFrom", "uint40"),
        ("valid_until", "validUntil", "uint40"),
    )
    org_id: bytes
    key: str
    valid_from: int
    valid_until: int


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyRevocation(Record):
    CONTRACT: ClassVar[str] = "Membership"
    PRIMARY_TYPE: ClassVar[str] = "KeyRevocation"
    FIELDS: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("org_id", "orgId", "bytes32"),
        ("key", "key", "address"),
        ("deadline", "deadline", "uint40"),
    )
    org_id: bytes
    key: str
    deadline: int  # last block time (unix seconds) the revocation is accepted at


# --------------------------------------------------------------------------------------------
# Consignments
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsignmentRegistration(Record):
    CONTRACT: ClassVar[str] = "Consignments"
    PRIMARY_TYPE: ClassVar[str] = "ConsignmentRegistration"
    FIELDS: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("reference_hash", "referenceHash", "bytes32"),
        ("origin", "origin", "bytes2"),
        ("destination", "destination", "bytes2"),
        ("consignor", "consignor", "bytes32"),
        ("consignee", "consignee", "bytes32"),
        ("deadline", "deadline", "uint40"),
    )
    reference_hash: bytes  # keccak256 of the business key; see record.reference_hash
    origin: bytes
    destination: bytes
    consignor: bytes = ZERO32
    consignee: bytes = ZERO32
    deadline: int  # last block time (unix seconds) the registration is accepted at; not in the id

    def consignment_id_for(self, registrant: bytes) -> bytes:
        """The id of the consignment this registration creates when signed for organisation
        ``registrant`` (the contract derives it from the signer's organisation)."""
        return consignment_id(self.reference_hash, registrant=registrant)


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsignmentEvent(Record):
    """An EPCIS-aligned event. On chain the small fields travel packed in one word (``meta``)."""

    CONTRACT: ClassVar[str] = "Consignments"
    PRIMARY_TYPE: ClassVar[str] = "ConsignmentEvent"
    FIELDS: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("consignment_id", "consignmentId", "bytes32"),
        ("biz_step", "bizStep", "uint8"),
        ("disposition", "disposition", "uint8"),
        ("location", "location", "bytes5"),
        ("event_time", "eventTime", "uint40"),
        ("container", "container", "bytes11"),
        ("seal_digest", "sealDigest", "bytes32"),
        ("documents_digest", "documentsDigest", "bytes32"),
        ("epcis_event_hash", "epcisEventHash", "bytes32"),
        ("nonce", "nonce", "uint32"),
        ("deadline", "deadline", "uint40"),
    )
    consignment_id: bytes
    biz_step: int
    disposition: int = 0
    location: bytes
    event_time: int
    container: bytes = bytes(11)
    seal_digest: bytes = ZERO32
    documents_digest: bytes = ZERO32
    epcis_event_hash: bytes = ZERO32
    nonce: int
    deadline: int

    def record_time(self) -> int:
        return self.event_time

    @property
    def meta(self) -> bytes:
        """The packed word (layout in contracts/src/libraries/EventMeta.sol)."""
        word = (
            (self.biz_step << 248)
            | (self.disposition << 240)
            | (int.from_bytes(self.location, "big") << 200)
            | (self.event_time << 160)
            | (int.from_bytes(self.container, "big") << 72)
            | (self.deadline << 32)
            | self.nonce
        )
        return word.to_bytes(32, "big")

    @classmethod
    def unpack_meta(cls, meta: bytes) -> dict[str, Any]:
        word = int.from_bytes(meta, "big")
        return {
            "biz_step": word >> 248,
            "disposition": (word >> 240) & 0xFF,
            "location": ((word >> 200) & (2**40 - 1)).to_bytes(5, "big"),
            "event_time": (word >> 160) & (2**40 - 1),
            "container": ((word >> 72) & (2**88 - 1)).to_bytes(11, "big"),
            "deadline": (word >> 32) & (2**40 - 1),
            "nonce": word & 0xFFFFFFFF,
        }

    def onchain(self) -> tuple[Any, ...]:
        return (
            self.consignment_id,
            self.meta,
            self.seal_digest,
            self.documents_digest,
            self.epcis_event_hash,
        )


# --------------------------------------------------------------------------------------------
# Certificates of origin
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class CertificateIssue(Record):
    CONTRACT: ClassVar[str] = "Certificates"
    PRIMARY_TYPE: ClassVar[str] = "CertificateIssue"
    FIELDS: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("certificate_number", "certificateNumber", "bytes32"),
        ("exporter", "exporter", "bytes32"),
        ("origin", "origin", "bytes2"),
        ("destination", "destination", "bytes2"),
        ("document_digest", "documentDigest", "bytes32"),
        ("hs_codes_digest", "hsCodesDigest", "bytes32"),
        ("quantity", "quantity", "uint64"),
        ("unit", "unit", "bytes8"),
        ("valid_from", "validFrom", "uint40"),
        ("valid_until", "validUntil", "uint40"),
        ("issued_at", "issuedAt", "uint40"),
    )
    certificate_number: bytes  # keccak256 of the issuer's certificate number
    exporter: bytes
    origin: bytes
    destination: bytes
    document_digest: bytes
    hs_codes_digest: bytes
    quantity: int
    unit: bytes
    valid_from: int
    valid_until: int
    issued_at: int

    def record_time(self) -> int:
        return self.issued_at


@dataclass(frozen=True, slots=True, kw_only=True)
class CertificateRevocation(Record):
    CONTRACT: ClassVar[str] = "Certificates"
    PRIMARY_TYPE: ClassVar[str] = "CertificateRevocation"
    FIELDS: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("certificate_number", "certificateNumber", "bytes32"),
        ("reason_digest", "reasonDigest", "bytes32"),
        ("deadline", "deadline", "uint40"),
    )
    certificate_number: bytes
    reason_digest: bytes = ZERO32
    deadline: int  # last block time (unix seconds) the revocation is accepted at


@dataclass(frozen=True, slots=True, kw_only=True)
class Drawdown(Record):
    CONTRACT: ClassVar[str] = "Certificates"
    PRIMARY_TYPE: ClassVar[str] = "Drawdown"
    FIELDS: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("certificate_id", "certificateId", "bytes32"),
        ("consignment_id", "consignmentId", "bytes32"),
        ("quantity", "quantity", "uint64"),
        ("deadline", "deadline", "uint40"),
    )
    certificate_id: bytes
    consignment_id: bytes
    quantity: int
    deadline: int  # last block time (unix seconds) it is accepted at; not part of the pair


# --------------------------------------------------------------------------------------------
# Attestations
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class SchemaRegistration(Record):
    CONTRACT: ClassVar[str] = "Attestations"
    PRIMARY_TYPE: ClassVar[str] = "SchemaRegistration"
    FIELDS: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("definition", "definition", "string"),
        ("deadline", "deadline", "uint40"),
    )
    definition: str
    deadline: int

    @property
    def schema_id(self) -> bytes:
        return keccak(text=self.definition)

    def onchain(self) -> tuple[Any, ...]:
        return (self.definition, self.deadline)


class SubjectType:
    CONSIGNMENT = 1
    CERTIFICATE = 2
    ORGANISATION = 3
    ATTESTATION = 4


@dataclass(frozen=True, slots=True, kw_only=True)
class Attestation(Record):
    CONTRACT: ClassVar[str] = "Attestations"
    PRIMARY_TYPE: ClassVar[str] = "Attestation"
    FIELDS: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("schema_id", "schemaId", "bytes32"),
        ("subject_type", "subjectType", "uint8"),
        ("subject_id", "subjectId", "bytes32"),
        ("data_digest", "dataDigest", "bytes32"),
        ("ref_uid", "refUid", "bytes32"),
        ("expires_at", "expiresAt", "uint40"),
        ("deadline", "deadline", "uint40"),
    )
    schema_id: bytes
    subject_type: int
    subject_id: bytes
    data_digest: bytes
    ref_uid: bytes = ZERO32
    expires_at: int = 0
    deadline: int

    def uid(self, attester: bytes) -> bytes:
        """keccak256(abi.encode(attester orgId, schemaId, subjectType, subjectId, dataDigest,
        refUid, expiresAt)): every field but the deadline, so the same attestation signed again
        with another deadline has the same uid."""
        return keccak(
            encode(
                ["bytes32", "bytes32", "uint8", "bytes32", "bytes32", "bytes32", "uint40"],
                [
                    attester,
                    self.schema_id,
                    self.subject_type,
                    self.subject_id,
                    self.data_digest,
                    self.ref_uid,
                    self.expires_at,
                ],
            )
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class AttestationRevocation(Record):
    CONTRACT: ClassVar[str] = "Attestations"
    PRIMARY_TYPE: ClassVar[str] = "AttestationRevocation"
    FIELDS: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("uid", "uid", "bytes32"),
        ("reason_digest", "reasonDigest", "bytes32"),
        ("deadline", "deadline", "uint40"),
    )
    uid: bytes
    reason_digest: bytes = ZERO32
    deadline: int


# --------------------------------------------------------------------------------------------
# AEO certifications and mutual recognition agreements
# --------------------------------------------------------------------------------------------


class AeoActionCode:
    """AEO action codes (IAeoRegistry.AeoAction.action)."""

    CERTIFY = 1
    SUSPEND = 2
    REINSTATE = 3
    REVOKE = 4


@dataclass(frozen=True, slots=True, kw_only=True)
class AeoAction(Record):
    CONTRACT: ClassVar[str] = "AeoRegistry"
    PRIMARY_TYPE: ClassVar[str] = "AeoAction"
    FIELDS: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("action", "action", "uint8"),
        ("operator_id", "operatorId", "bytes32"),
        ("programme", "programme", "bytes8"),
        ("valid_from", "validFrom", "uint40"),
        ("valid_until", "validUntil", "uint40"),
        ("nonce", "nonce", "uint32"),
        ("deadline", "deadline", "uint40"),
    )
    action: int
    operator_id: bytes
    programme: bytes
    valid_from: int = 0
    valid_until: int = 0
    nonce: int
    deadline: int


@dataclass(frozen=True, slots=True, kw_only=True)
class MraProposal(Record):
    CONTRACT: ClassVar[str] = "AeoRegistry"
    PRIMARY_TYPE: ClassVar[str] = "MraProposal"
    FIELDS: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("counterpart", "counterpart", "bytes32"),
        ("scope", "scope", "uint32"),
        ("valid_from", "validFrom", "uint40"),
        ("valid_until", "validUntil", "uint40"),
        ("deadline", "deadline", "uint40"),
    )
    counterpart: bytes
    scope: int
    valid_from: int
    valid_until: int
    deadline: int

    def mra_id(self, proposer: bytes) -> bytes:
        """The id of the MRA this proposal creates when signed for administration ``proposer``:
        keccak256(abi.encode(proposer, counterpart, scope, validFrom, validUntil)), not the
        deadline (the contract's ``mraIdOf``)."""
        return keccak(
            encode(
                ["bytes32", "bytes32", "uint32", "uint40", "uint40"],
                [proposer, self.counterpart, self.scope, self.valid_from, self.valid_until],
            )
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class MraAcceptance(Record):
    CONTRACT: ClassVar[str] = "AeoRegistry"
    PRIMARY_TYPE: ClassVar[str] = "MraAcceptance"
    FIELDS: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("mra_id", "mraId", "bytes32"),
        ("deadline", "deadline", "uint40"),
    )
    mra_id: bytes
    deadline: int


@dataclass(frozen=True, slots=True, kw_only=True)
class MraTermination(Record):
    CONTRACT: ClassVar[str] = "AeoRegistry"
    PRIMARY_TYPE: ClassVar[str] = "MraTermination"
    FIELDS: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("mra_id", "mraId", "bytes32"),
        ("deadline", "deadline", "uint40"),
    )
    mra_id: bytes
    deadline: int
