"""Request models of the write routes: human-friendly JSON in, on-chain records out.

Each ``...Create`` model takes the record as people write it -- ``"location": "NLRTM"``,
``"biz_step": "loading"``, ``"container": "CSQU3054383"``, ``"consignment_ref": "UCR..."``,
``"quantity": {"amount": "12.5", "unit": "TNE"}``, times as ISO 8601 -- validated with the
domain value types of :mod:`ledger.records.values` (a broken rule is a 422 naming the field and the
rule), and :meth:`to_record` converts it to the :mod:`ledger.records.kinds` record that is signed.
Fields the signer must fix but the client need not care about (nonce, deadline, salt) are
filled in when omitted.

:class:`SignedSubmission` is the other way in: the EIP-712 message exactly as signed (as
returned by ``POST /typed-data/{kind}``) and the 65-byte signature.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Literal, Self

from eth_utils.crypto import keccak
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, JsonValue, model_validator

from gateway.auth import BYTES32_PATTERN, OrgKind
from gateway.models.stored import RecordKind
from ledger.records import (
    BusinessStep,
    ContainerNumber,
    CountryCode,
    Disposition,
    HsCode,
    Locode,
    Quantity,
    hs_codes_digest,
)
from ledger.records.kinds import (
    ATTESTATION_BATCH_MAX,
    DRAWDOWN_BATCH_MAX,
    AeoAction,
    AeoActionCode,
    Approval,
    Attestation,
    AttestationRevocation,
    CertificateIssue,
    CertificateRevocation,
    ConsignmentEvent,
    ConsignmentRegistration,
    Drawdown,
    KeyAddition,
    KeyRevocation,
    MraAcceptance,
    MraProposal,
    MraTermination,
    Proposal,
    ProposalAction,
    Record,
    SchemaRegistration,
    SubjectType,
    consignment_id,
    fixed_ascii,
    with_batch_terms,
)

__all__ = [
    "ATTESTATION_BATCH_MAX",
    "CREATE_MODELS",
    "DRAWDOWN_BATCH_MAX",
    "EVENT_BATCH_MAX",
    "AeoActionCreate",
    "ApprovalCreate",
    "AttestationBatchCreate",
    "AttestationBatchSubmission",
    "AttestationCreate",
    "AttestationRevocationCreate",
    "BuildContext",
    "CertificateCreate",
    "CertificateRevocationCreate",
    "ConsignmentCreate",
    "DrawdownBatchCreate",
    "DrawdownBatchSubmission",
    "DrawdownCreate",
    "EventBatchCreate",
    "EventBatchSubmission",
    "EventCreate",
    "ExecutionCreate",
    "KeyAdditionCreate",
    "KeyRevocationCreate",
    "MraAcceptanceCreate",
    "MraProposalCreate",
    "MraTerminationCreate",
    "NonceSource",
    "ProposalCreate",
    "RecordCreate",
    "SchemaCreate",
    "SignedSubmission",
]

Bytes32 = Annotated[
    str,
    Field(pattern=BYTES32_PATTERN, examples=["0x" + "ab" * 32]),
    AfterValidator(str.lower),
]
Address = Annotated[str, Field(pattern=r"^0x[0-9a-fA-F]{40}$")]
Signature = Annotated[
    str,
    Field(
        pattern=r"^0x[0-9a-fA-F]{130}$",
        description="65-byte secp256k1 signature (r, s, v) over the EIP-712 digest, hex.",
    ),
]
Programme = Literal["AEOC", "AEOS", "AEOF"]
PROGRAMME_BITS: dict[str, int] = {"AEOC": 0x1, "AEOS": 0x2, "AEOF": 0x4}

_ORG = "0x" + "0a" * 32
_OTHER = "0x" + "0b" * 32
_CERT = "0x" + "ce" * 32
_SIG = "0x" + "11" * 64 + "1b"
# A ConsignmentEvent message as signed (loading at Adelaide), for the OpenAPI examples.
EXAMPLE_EVENT_MESSAGE: dict[str, JsonValue] = {
    "consignmentId": "0x" + "c0" * 32,
    "bizStep": 20,
    "disposition": 15,
    "location": "0x415541444c",
    "eventTime": 1795422600,
    "container": "0x43535155333035343338330000",
    "sealDigest": "0x" + "5e" * 32,
    "documentsDigest": "0x" + "00" * 32,
    "epcisEventHash": "0x" + "00" * 32,
    "nonce": 1792,
    "deadline": 1795509000,
}
# An Attestation message as signed (a seal check of a consignment), for the OpenAPI examples.
EXAMPLE_ATTESTATION_MESSAGE: dict[str, JsonValue] = {
    "schemaId": "0x" + "5c" * 32,
    "subjectType": 1,
    "subjectId": "0x" + "c0" * 32,
    "dataDigest": "0x" + "da" * 32,
    "refUid": "0x" + "00" * 32,
    "expiresAt": 0,
}
# A Drawdown message as signed (4,500 litres of a certificate for a consignment).
EXAMPLE_DRAWDOWN_MESSAGE: dict[str, JsonValue] = {
    "certificateId": "0x" + "ce" * 32,
    "consignmentId": "0x" + "c0" * 32,
    "quantity": 4500,
}
_DEADLINE_SECONDS = 24 * 3600
_PROPOSAL_SECONDS = 7 * 24 * 3600


def _b32(value: str) -> bytes:
    return bytes.fromhex(value[2:])


def _ts(value: datetime) -> int:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp())


class NonceSource:
    """Sequential nonces per signing key within a random 256-nonce word (thread-safe).

    Consecutive records of one key share a storage word of the contract's nonce bitmap
    (cheaper); a fresh random word is taken every 256 nonces and after a restart, so reuse
    is as unlikely as a 24-bit collision (and a reused nonce is refused by pre-validation).
    """

    def __init__(self) -> None:
        self._next: dict[str, int] = {}
        self._lock = threading.Lock()

    def next(self, signer: str) -> int:
        with self._lock:
            nonce = self._next.get(signer)
            if nonce is None or nonce & 0xFF == 0:
                nonce = secrets.randbits(24) << 8
            self._next[signer] = (nonce + 1) & 0xFFFFFFFF
            return nonce


@dataclass(frozen=True)
class BuildContext:
    """What converting a request needs besides the request: the caller, the time, nonces."""

    org_id: bytes
    now: int
    nonce: Callable[[], int]
    certificate_unit: Callable[[bytes], str | None]


class RecordCreate(BaseModel):
    """Base of the human-friendly request models."""

    model_config = ConfigDict(extra="forbid")
    KIND: ClassVar[RecordKind]

    def to_record(self, ctx: BuildContext) -> Record:  # pragma: no cover - abstract
        raise NotImplementedError


class _ConsignmentRef(RecordCreate):
    consignment_ref: str | None = Field(
        default=None,
        min_length=1,
        max_length=256,
        description="Business key (WCO UCR or carrier reference); the id is its keccak256.",
    )
    consignment_id: Bytes32 | None = Field(
        default=None, description="On-chain consignment id (instead of consignment_ref)."
    )

    @model_validator(mode="after")
    def _one_reference(self) -> Self:
        if (self.consignment_ref is None) == (self.consignment_id is None):
            raise ValueError("give exactly one of consignment_ref and consignment_id")
        return self

    def _consignment(self) -> bytes:
        if self.consignment_id is not None:
            return _b32(self.consignment_id)
        assert self.consignment_ref is not None
        return consignment_id(self.consignment_ref)


class ConsignmentCreate(_ConsignmentRef):
    """Register a consignment (customs, carrier, trader or postal operator)."""

    KIND = RecordKind.CONSIGNMENT
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "consignment_ref": "AU-UCR-2026-000042",
                    "origin": "AU",
                    "destination": "CN",
                    "consignor": _ORG,
                }
            ]
        },
    )
    origin: CountryCode
    destination: CountryCode
    consignor: Bytes32 | None = None
    consignee: Bytes32 | None = None

    def to_record(self, ctx: BuildContext) -> ConsignmentRegistration:
        return ConsignmentRegistration(
            consignment_id=self._consignment(),
            origin=self.origin.to_bytes2(),
            destination=self.destination.to_bytes2(),
            consignor=_b32(self.consignor) if self.consignor else bytes(32),
            consignee=_b32(self.consignee) if self.consignee else bytes(32),
        )


class EventCreate(_ConsignmentRef):
    """A shipment event (EPCIS 2.0 / CBV 2.0 aligned)."""

    KIND = RecordKind.EVENT
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "consignment_ref": "AU-UCR-2026-000042",
                    "biz_step": "loading",
                    "disposition": "in_transit",
                    "location": "AUADL",
                    "event_time": "2026-11-23T08:30:00Z",
                    "container": "CSQU3054383",
                    "seals": ["ML-AU 1234567"],
                }
            ]
        },
    )
    biz_step: BusinessStep = Field(description="CBV 2.0 bizStep word, e.g. 'loading'.")
    disposition: Disposition | None = Field(default=None, description="CBV 2.0 disposition.")
    location: Locode = Field(description="UN/LOCODE, e.g. 'NLRTM'.")
    event_time: datetime
    container: ContainerNumber | None = Field(default=None, description="ISO 6346 number.")
    seals: list[Annotated[str, Field(min_length=1, max_length=64)]] | None = Field(
        default=None, max_length=16, description="Seal numbers; on chain their digest."
    )
    documents_digest: Bytes32 | None = None
    epcis_event_hash: Bytes32 | None = None
    nonce: int | None = Field(default=None, ge=0, lt=2**32)
    deadline: datetime | None = Field(
        default=None, description="Latest time the record may be recorded (default: +24 h)."
    )

    def to_record(self, ctx: BuildContext) -> ConsignmentEvent:
        seal = bytes(32)
        if self.seals:
            seal = keccak(text=",".join(sorted(self.seals)))
        return ConsignmentEvent(
            consignment_id=self._consignment(),
            biz_step=self.biz_step.code,
            disposition=Disposition.code_of(self.disposition),
            location=self.location.to_bytes5(),
            event_time=_ts(self.event_time),
            container=self.container.to_bytes11() if self.container else bytes(11),
            seal_digest=seal,
            documents_digest=_b32(self.documents_digest) if self.documents_digest else bytes(32),
            epcis_event_hash=_b32(self.epcis_event_hash) if self.epcis_event_hash else bytes(32),
            nonce=self.nonce if self.nonce is not None else ctx.nonce(),
            deadline=_ts(self.deadline) if self.deadline else ctx.now + _DEADLINE_SECONDS,
        )


class CertificateCreate(RecordCreate):
    """Issue a certificate of origin (issuing body or customs of the origin country)."""

    KIND = RecordKind.CERTIFICATE_ISSUE
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "certificate_number": "CHAFTA-AU-2026-000123",
                    "exporter": _ORG,
                    "origin": "AU",
                    "destination": "CN",
                    "document_digest": "0x" + "d0" * 32,
                    "hs_codes": ["2204.21"],
                    "quantity": {"amount": "9000", "unit": "LTR"},
                    "valid_from": "2026-11-01T00:00:00Z",
                    "valid_until": "2027-11-01T00:00:00Z",
                }
            ]
        },
    )
    certificate_number: str = Field(min_length=1, max_length=128)
    exporter: Bytes32 = Field(description="Organisation id of the exporter (a trader).")
    origin: CountryCode
    destination: CountryCode
    document_digest: Bytes32
    hs_codes: list[HsCode] = Field(min_length=1, max_length=256)
    quantity: Quantity = Field(description="Whole units on chain; use a smaller unit if not.")
    valid_from: datetime
    valid_until: datetime
    issued_at: datetime | None = Field(default=None, description="Default: now.")

    def to_record(self, ctx: BuildContext) -> CertificateIssue:
        amount, unit = self.quantity.to_chain()
        return CertificateIssue(
            certificate_number=keccak(text=self.certificate_number),
            exporter=_b32(self.exporter),
            origin=self.origin.to_bytes2(),
            destination=self.destination.to_bytes2(),
            document_digest=_b32(self.document_digest),
            hs_codes_digest=hs_codes_digest(self.hs_codes),
            quantity=amount,
            unit=unit,
            valid_from=_ts(self.valid_from),
            valid_until=_ts(self.valid_until),
            issued_at=_ts(self.issued_at) if self.issued_at else ctx.now,
        )


class CertificateRevocationCreate(RecordCreate):
    """Revoke a certificate (its issuer only)."""

    KIND = RecordKind.CERTIFICATE_REVOKE
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"certificate_number": "CHAFTA-AU-2026-000123", "reason": "issued in error"}
            ]
        },
    )
    certificate_number: str = Field(min_length=1, max_length=128)
    reason: str | None = Field(default=None, max_length=2000, description="Only its digest.")

    def to_record(self, ctx: BuildContext) -> CertificateRevocation:
        return CertificateRevocation(
            certificate_number=keccak(text=self.certificate_number),
            reason_digest=keccak(text=self.reason) if self.reason else bytes(32),
        )


class DrawdownCreate(_ConsignmentRef):
    """Draw a quantity of a certificate down for a consignment."""

    KIND = RecordKind.DRAWDOWN
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "certificate_id": _CERT,
                    "consignment_ref": "AU-UCR-2026-000042",
                    "quantity": {"amount": "4500", "unit": "LTR"},
                }
            ]
        },
    )
    certificate_id: Bytes32
    quantity: Quantity = Field(description="Converted to the certificate's unit.")

    def to_record(self, ctx: BuildContext) -> Drawdown:
        certificate = _b32(self.certificate_id)
        unit = ctx.certificate_unit(certificate)
        quantity = self.quantity.to(unit) if unit else self.quantity
        amount, _ = quantity.to_chain()
        return Drawdown(
            certificate_id=certificate, consignment_id=self._consignment(), quantity=amount
        )


class SchemaCreate(RecordCreate):
    """Register an attestation schema (any member)."""

    KIND = RecordKind.SCHEMA
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"definition": "seal-check(bytes32 sealDigest,bool intact)"}]
        },
    )
    definition: str = Field(min_length=1, max_length=4096)

    def to_record(self, ctx: BuildContext) -> SchemaRegistration:
        return SchemaRegistration(definition=self.definition)


_SUBJECTS: dict[str, int] = {
    "consignment": SubjectType.CONSIGNMENT,
    "certificate": SubjectType.CERTIFICATE,
    "organisation": SubjectType.ORGANISATION,
    "attestation": SubjectType.ATTESTATION,
}


class AttestationCreate(RecordCreate):
    """Attest something about a consignment, certificate, organisation or attestation."""

    KIND = RecordKind.ATTESTATION
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "schema": "export-release(bytes32 declarationDigest,bytes2 country)",
                    "subject_type": "consignment",
                    "subject_ref": "AU-UCR-2026-000042",
                    "data_digest": "0x" + "da" * 32,
                }
            ]
        },
    )
    schema_: str | None = Field(
        default=None, alias="schema", min_length=1, description="Schema definition text."
    )
    schema_id: Bytes32 | None = Field(default=None, description="Instead of schema.")
    subject_type: Literal["consignment", "certificate", "organisation", "attestation"]
    subject_id: Bytes32 | None = None
    subject_ref: str | None = Field(
        default=None, min_length=1, description="A consignment's business key (consignments)."
    )
    data_digest: Bytes32
    ref_uid: Bytes32 | None = None
    expires_at: datetime | None = None

    @model_validator(mode="after")
    def _choices(self) -> Self:
        if (self.schema_ is None) == (self.schema_id is None):
            raise ValueError("give exactly one of schema and schema_id")
        if (self.subject_id is None) == (self.subject_ref is None):
            raise ValueError("give exactly one of subject_id and subject_ref")
        if self.subject_ref is not None and self.subject_type != "consignment":
            raise ValueError("subject_ref names consignments only; give subject_id")
        return self

    def to_record(self, ctx: BuildContext) -> Attestation:
        if self.schema_id is not None:
            schema = _b32(self.schema_id)
        else:
            assert self.schema_ is not None
            schema = keccak(text=self.schema_)
        subject = (
            _b32(self.subject_id) if self.subject_id else consignment_id(str(self.subject_ref))
        )
        return Attestation(
            schema_id=schema,
            subject_type=_SUBJECTS[self.subject_type],
            subject_id=subject,
            data_digest=_b32(self.data_digest),
            ref_uid=_b32(self.ref_uid) if self.ref_uid else bytes(32),
            expires_at=_ts(self.expires_at) if self.expires_at else 0,
        )


class AttestationRevocationCreate(RecordCreate):
    """Revoke an attestation (its attester only)."""

    KIND = RecordKind.ATTESTATION_REVOKE
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"uid": "0x" + "a7" * 32, "reason": "superseded"}]},
    )
    uid: Bytes32
    reason: str | None = Field(default=None, max_length=2000, description="Only its digest.")

    def to_record(self, ctx: BuildContext) -> AttestationRevocation:
        return AttestationRevocation(
            uid=_b32(self.uid), reason_digest=keccak(text=self.reason) if self.reason else bytes(32)
        )


_AEO_ACTIONS: dict[str, int] = {
    "certify": AeoActionCode.CERTIFY,
    "suspend": AeoActionCode.SUSPEND,
    "reinstate": AeoActionCode.REINSTATE,
    "revoke": AeoActionCode.REVOKE,
}


class AeoActionCreate(RecordCreate):
    """Certify, suspend, reinstate or revoke an AEO (customs of the operator's country)."""

    KIND = RecordKind.AEO_ACTION
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "action": "certify",
                    "operator_id": _ORG,
                    "programme": "AEOF",
                    "valid_from": "2026-11-01T00:00:00Z",
                    "valid_until": "2029-11-01T00:00:00Z",
                }
            ]
        },
    )
    action: Literal["certify", "suspend", "reinstate", "revoke"]
    operator_id: Bytes32
    programme: Programme
    valid_from: datetime | None = Field(default=None, description="certify only.")
    valid_until: datetime | None = Field(default=None, description="certify only.")
    nonce: int | None = Field(default=None, ge=0, lt=2**32)
    deadline: datetime | None = None

    @model_validator(mode="after")
    def _validity(self) -> Self:
        dated = self.valid_from is not None and self.valid_until is not None
        if self.action == "certify" and not dated:
            raise ValueError("certify needs valid_from and valid_until")
        if self.action != "certify" and (self.valid_from or self.valid_until):
            raise ValueError(f"{self.action} takes no validity")
        return self

    def to_record(self, ctx: BuildContext) -> AeoAction:
        return AeoAction(
            action=_AEO_ACTIONS[self.action],
            operator_id=_b32(self.operator_id),
            programme=fixed_ascii(self.programme, 8),
            valid_from=_ts(self.valid_from) if self.valid_from else 0,
            valid_until=_ts(self.valid_until) if self.valid_until else 0,
            nonce=self.nonce if self.nonce is not None else ctx.nonce(),
            deadline=_ts(self.deadline) if self.deadline else ctx.now + _DEADLINE_SECONDS,
        )


class MraProposalCreate(RecordCreate):
    """Propose a mutual recognition agreement to another customs administration."""

    KIND = RecordKind.MRA_PROPOSAL
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "counterpart": _OTHER,
                    "programmes": ["AEOS", "AEOF"],
                    "valid_from": "2026-12-01T00:00:00Z",
                    "valid_until": "2031-12-01T00:00:00Z",
                }
            ]
        },
    )
    counterpart: Bytes32
    programmes: list[Programme] = Field(min_length=1, description="Programmes recognised.")
    valid_from: datetime
    valid_until: datetime

    def to_record(self, ctx: BuildContext) -> MraProposal:
        scope = 0
        for programme in self.programmes:
            scope |= PROGRAMME_BITS[programme]
        return MraProposal(
            counterpart=_b32(self.counterpart),
            scope=scope,
            valid_from=_ts(self.valid_from),
            valid_until=_ts(self.valid_until),
        )


class MraAcceptanceCreate(RecordCreate):
    """Accept an MRA proposed to this administration."""

    KIND = RecordKind.MRA_ACCEPTANCE
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"mra_id": "0x" + "4d" * 32}]}
    )
    mra_id: Bytes32

    def to_record(self, ctx: BuildContext) -> MraAcceptance:
        return MraAcceptance(mra_id=_b32(self.mra_id))


class MraTerminationCreate(RecordCreate):
    """Terminate (or withdraw) an MRA this administration is party to."""

    KIND = RecordKind.MRA_TERMINATION
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"mra_id": "0x" + "4d" * 32}]}
    )
    mra_id: Bytes32

    def to_record(self, ctx: BuildContext) -> MraTermination:
        return MraTermination(mra_id=_b32(self.mra_id))


_PROPOSAL_ACTIONS: dict[str, int] = {
    "admit_member": ProposalAction.ADMIT_MEMBER,
    "suspend_member": ProposalAction.SUSPEND_MEMBER,
    "reinstate_member": ProposalAction.REINSTATE_MEMBER,
    "add_customs": ProposalAction.ADD_CUSTOMS,
    "set_threshold": ProposalAction.SET_THRESHOLD,
    "revoke_key": ProposalAction.REVOKE_KEY,
    "add_relayer": ProposalAction.ADD_RELAYER,
    "remove_relayer": ProposalAction.REMOVE_RELAYER,
}
_KIND_CODES: dict[OrgKind, int] = {
    OrgKind.CUSTOMS: 1,
    OrgKind.CARRIER: 2,
    OrgKind.TRADER: 3,
    OrgKind.ISSUING_BODY: 4,
    OrgKind.POSTAL_OPERATOR: 5,
}


class ProposalCreate(RecordCreate):
    """A governance proposal of a customs administration (k-of-n)."""

    KIND = RecordKind.PROPOSAL
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "action": "admit_member",
                    "org_id": _OTHER,
                    "org_kind": "carrier",
                    "country": "SG",
                    "account": "0x" + "5a" * 20,
                    "valid_from": "2026-11-23T00:00:00Z",
                    "valid_until": "2031-11-23T00:00:00Z",
                }
            ]
        },
    )
    action: Literal[
        "admit_member",
        "suspend_member",
        "reinstate_member",
        "add_customs",
        "set_threshold",
        "revoke_key",
        "add_relayer",
        "remove_relayer",
    ]
    org_id: Bytes32 | None = None
    org_kind: OrgKind | None = None
    country: CountryCode | None = None
    account: Address | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    threshold: int | None = Field(default=None, ge=1, lt=2**16)
    expires_at: datetime | None = Field(default=None, description="Default: in 7 days.")
    salt: Bytes32 | None = Field(default=None, description="Default: random.")

    def to_record(self, ctx: BuildContext) -> Proposal:
        return Proposal(
            action=_PROPOSAL_ACTIONS[self.action],
            org_id=_b32(self.org_id) if self.org_id else bytes(32),
            kind=_KIND_CODES[self.org_kind] if self.org_kind else 0,
            country=self.country.to_bytes2() if self.country else b"\0\0",
            account=self.account or "0x" + "00" * 20,
            valid_from=_ts(self.valid_from) if self.valid_from else 0,
            valid_until=_ts(self.valid_until) if self.valid_until else 0,
            threshold=self.threshold or 0,
            expires_at=_ts(self.expires_at) if self.expires_at else ctx.now + _PROPOSAL_SECONDS,
            salt=_b32(self.salt) if self.salt else secrets.token_bytes(32),
        )


class ApprovalCreate(RecordCreate):
    """Approve a governance proposal."""

    KIND = RecordKind.APPROVAL
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"proposal_id": "0x" + "9a" * 32}]}
    )
    proposal_id: Bytes32

    def to_record(self, ctx: BuildContext) -> Approval:
        return Approval(proposal_id=_b32(self.proposal_id))


class ExecutionCreate(BaseModel):
    """Execute a proposal that has its approvals (unsigned: the proposal's message)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "proposal": {
                        "action": 1,
                        "orgId": _OTHER,
                        "kind": 2,
                        "country": "0x5347",
                        "account": "0x" + "5a" * 20,
                        "validFrom": 1795392000,
                        "validUntil": 1953158400,
                        "threshold": 0,
                        "expiresAt": 1796000000,
                        "salt": "0x" + "00" * 32,
                    }
                }
            ]
        },
    )
    proposal: dict[str, Any] = Field(description="The Proposal's EIP-712 message, as proposed.")


class KeyAdditionCreate(RecordCreate):
    """Register another signing key of the caller's organisation."""

    KIND = RecordKind.KEY_ADDITION
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "key": "0x" + "5b" * 20,
                    "valid_from": "2026-11-23T00:00:00Z",
                    "valid_until": "2028-11-23T00:00:00Z",
                }
            ]
        },
    )
    key: Address
    valid_from: datetime
    valid_until: datetime

    def to_record(self, ctx: BuildContext) -> KeyAddition:
        return KeyAddition(
            org_id=ctx.org_id,
            key=self.key,
            valid_from=_ts(self.valid_from),
            valid_until=_ts(self.valid_until),
        )


class KeyRevocationCreate(RecordCreate):
    """Revoke a signing key of the caller's organisation (a key may revoke itself)."""

    KIND = RecordKind.KEY_REVOCATION
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"key": "0x" + "5b" * 20}]}
    )
    key: Address

    def to_record(self, ctx: BuildContext) -> KeyRevocation:
        return KeyRevocation(org_id=ctx.org_id, key=self.key)


CREATE_MODELS: dict[RecordKind, type[RecordCreate]] = {
    model.KIND: model
    for model in (
        ConsignmentCreate,
        EventCreate,
        CertificateCreate,
        CertificateRevocationCreate,
        DrawdownCreate,
        SchemaCreate,
        AttestationCreate,
        AttestationRevocationCreate,
        AeoActionCreate,
        MraProposalCreate,
        MraAcceptanceCreate,
        MraTerminationCreate,
        ProposalCreate,
        ApprovalCreate,
        KeyAdditionCreate,
        KeyRevocationCreate,
    )
}
"""The human-friendly model of every signed kind."""


class SignedSubmission(BaseModel):
    """A record signed by the client: the EIP-712 message as signed, and the signature."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "message": EXAMPLE_EVENT_MESSAGE,
                    "signature": _SIG,
                }
            ]
        },
    )
    message: dict[str, Any] = Field(
        description="The EIP-712 message (field names as in the type; bytes as 0x-hex)."
    )
    signature: Signature


EVENT_BATCH_MAX = 1000
"""Most events in one signed batch (one transaction; ~9,900 gas each, under the 2^24 cap)."""


class EventBatchSubmission(BaseModel):
    """Events signed together by the client with one EventBatch signature.

    ``events`` are the ConsignmentEvent messages, in the order signed, each carrying the
    batch's ``nonce`` and ``deadline``; ``signature`` is over
    ``EventBatch(eventsHash, nonce, deadline)`` in the Consignments domain (see
    ``POST /typed-data/event_batch``).
    """

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "events": [
                        {
                            **EXAMPLE_EVENT_MESSAGE,
                            "bizStep": step,
                            "eventTime": 1795422600 + i,
                            "nonce": 1793,
                        }
                        for i, step in enumerate((20, 11))
                    ],
                    "signature": _SIG,
                }
            ]
        },
    )
    events: list[dict[str, Any]] = Field(
        min_length=1,
        max_length=EVENT_BATCH_MAX,
        description="ConsignmentEvent messages in the order signed, each with the batch's "
        "nonce and deadline.",
    )
    signature: Signature


class EventBatchCreate(BaseModel):
    """Events to be signed together (the body of ``POST /typed-data/event_batch``)."""

    model_config = ConfigDict(extra="forbid")
    items: list[EventCreate] = Field(min_length=1, max_length=EVENT_BATCH_MAX)
    nonce: int | None = Field(
        default=None, ge=0, lt=2**32, description="The batch's nonce (default: the next one)."
    )
    deadline: datetime | None = Field(
        default=None, description="Latest time the batch may be recorded (default: +24 h)."
    )

    def to_events(self, ctx: BuildContext) -> tuple[ConsignmentEvent, ...]:
        """The events, each with the batch's nonce and deadline (an item's own are replaced)."""
        nonce = self.nonce if self.nonce is not None else ctx.nonce()
        deadline = _ts(self.deadline) if self.deadline else ctx.now + _DEADLINE_SECONDS
        events = [item.model_copy(update={"nonce": nonce}).to_record(ctx) for item in self.items]
        return with_batch_terms(events, nonce=nonce, deadline=deadline)


class AttestationBatchSubmission(BaseModel):
    """Attestations signed together by the client with one AttestationBatch signature.

    ``attestations`` are the Attestation messages, in the order signed; ``signature`` is over
    ``AttestationBatch(attestationsHash, deadline)`` in the Attestations domain (see
    ``POST /typed-data/attestation_batch``). No nonce: each attestation's uid is its replay
    protection.
    """

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "attestations": [
                        {**EXAMPLE_ATTESTATION_MESSAGE, "dataDigest": "0x" + digest * 32}
                        for digest in ("da", "db")
                    ],
                    "deadline": 1795509000,
                    "signature": _SIG,
                }
            ]
        },
    )
    attestations: list[dict[str, Any]] = Field(
        min_length=1,
        max_length=ATTESTATION_BATCH_MAX,
        description="Attestation messages in the order signed.",
    )
    deadline: int = Field(
        ge=0, lt=2**40, description="The batch's deadline (unix seconds), as signed."
    )
    signature: Signature


class AttestationBatchCreate(BaseModel):
    """Attestations to be signed together (the body of ``POST /typed-data/attestation_batch``)."""

    model_config = ConfigDict(extra="forbid")
    items: list[AttestationCreate] = Field(min_length=1, max_length=ATTESTATION_BATCH_MAX)
    deadline: datetime | None = Field(
        default=None, description="Latest time the batch may be recorded (default: +24 h)."
    )

    def to_attestations(self, ctx: BuildContext) -> tuple[tuple[Attestation, ...], int]:
        """The attestations, and the batch's deadline."""
        deadline = _ts(self.deadline) if self.deadline else ctx.now + _DEADLINE_SECONDS
        return tuple(item.to_record(ctx) for item in self.items), deadline


class DrawdownBatchSubmission(BaseModel):
    """Drawdowns signed together by the client with one DrawdownBatch signature.

    ``drawdowns`` are the Drawdown messages, in the order signed; ``signature`` is over
    ``DrawdownBatch(drawdownsHash, deadline)`` in the Certificates domain (see
    ``POST /typed-data/drawdown_batch``). No nonce: each (certificate, consignment) pair is
    drawn once, ever.
    """

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "drawdowns": [
                        {**EXAMPLE_DRAWDOWN_MESSAGE, "consignmentId": "0x" + c * 32}
                        for c in ("c0", "c1")
                    ],
                    "deadline": 1795509000,
                    "signature": _SIG,
                }
            ]
        },
    )
    drawdowns: list[dict[str, Any]] = Field(
        min_length=1,
        max_length=DRAWDOWN_BATCH_MAX,
        description="Drawdown messages in the order signed.",
    )
    deadline: int = Field(
        ge=0, lt=2**40, description="The batch's deadline (unix seconds), as signed."
    )
    signature: Signature


class DrawdownBatchCreate(BaseModel):
    """Drawdowns to be signed together (the body of ``POST /typed-data/drawdown_batch``)."""

    model_config = ConfigDict(extra="forbid")
    items: list[DrawdownCreate] = Field(min_length=1, max_length=DRAWDOWN_BATCH_MAX)
    deadline: datetime | None = Field(
        default=None, description="Latest time the batch may be recorded (default: +24 h)."
    )

    def to_drawdowns(self, ctx: BuildContext) -> tuple[tuple[Drawdown, ...], int]:
        """The drawdowns, and the batch's deadline."""
        deadline = _ts(self.deadline) if self.deadline else ctx.now + _DEADLINE_SECONDS
        return tuple(item.to_record(ctx) for item in self.items), deadline
