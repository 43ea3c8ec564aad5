"""Request models of the trade records: consignments and their events, certificates of origin
and their drawdowns, attestation schemas and attestations (custodial ``POST`` bodies)."""

from __future__ import annotations

from typing import Annotated, Literal, Self

from eth_utils.crypto import keccak
from pydantic import ConfigDict, Field, model_validator

from gateway.models.record_fields import (
    _CERT,
    _ORG,
    BuildContext,
    Bytes32,
    FreeText,
    Nonce,
    RecordCreate,
    TextLine,
    Timestamp,
    _b32,
    _ConsignmentRef,
    _deadline,
    _ts,
    absent,
    branch,
    given,
    one_of_fields,
)
from gateway.models.stored import RecordKind
from ledger.errors import ValidationError
from ledger.records import (
    Attestation,
    AttestationRevocation,
    BusinessStep,
    CertificateIssue,
    CertificateRevocation,
    ConsignmentEvent,
    ConsignmentRegistration,
    ContainerNumber,
    CountryCode,
    Disposition,
    Drawdown,
    ListedHsCode,
    ListedLocode,
    Quantity,
    SchemaRegistration,
    SubjectType,
    hs_codes_digest,
    reference_hash,
)

__all__ = [
    "AttestationCreate",
    "AttestationRevocationCreate",
    "CertificateCreate",
    "CertificateRevocationCreate",
    "ConsignmentCreate",
    "DrawdownCreate",
    "EventCreate",
    "SchemaCreate",
]


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
    deadline: Timestamp | None = Field(
        default=None, description="Latest time the record may be recorded (default: +24 h)."
    )
    SCHEMA_RULES = (branch(given("consignment_ref"), absent("consignment_registrant")),)

    def to_record(self, ctx: BuildContext) -> ConsignmentRegistration:
        # The id is derived on chain from the caller's organisation and the reference: a
        # registration names its reference, never an id or another registrant.
        if self.consignment_ref is None:
            raise ValidationError(
                "consignment_ref",
                "is required to register (the consignment id is derived from it and the "
                "registering organisation)",
            )
        if self.consignment_registrant is not None:
            raise ValidationError(
                "consignment_registrant", "is not given when registering (the caller registers)"
            )
        return ConsignmentRegistration(
            reference_hash=reference_hash(self.consignment_ref),
            origin=self.origin.to_bytes2(),
            destination=self.destination.to_bytes2(),
            consignor=_b32(self.consignor) if self.consignor else bytes(32),
            consignee=_b32(self.consignee) if self.consignee else bytes(32),
            deadline=_deadline(self.deadline, ctx),
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
    location: ListedLocode = Field(
        description="UN/LOCODE, e.g. 'NLRTM'; must be in the UN/LOCODE list in force."
    )
    event_time: Timestamp
    container: ContainerNumber | None = Field(default=None, description="ISO 6346 number.")
    seals: list[Annotated[TextLine, Field(min_length=1, max_length=64)]] | None = Field(
        default=None, max_length=16, description="Seal numbers; on chain their digest."
    )
    documents_digest: Bytes32 | None = None
    epcis_event_hash: Bytes32 | None = None
    nonce: Nonce | None = Field(default=None)
    deadline: Timestamp | None = Field(
        default=None, description="Latest time the record may be recorded (default: +24 h)."
    )

    def to_record(self, ctx: BuildContext) -> ConsignmentEvent:
        seal = bytes(32)
        if self.seals:
            seal = keccak(text=",".join(sorted(self.seals)))
        return ConsignmentEvent(
            consignment_id=self._consignment(ctx),
            biz_step=self.biz_step.code,
            disposition=Disposition.code_of(self.disposition),
            location=self.location.to_bytes5(),
            event_time=_ts(self.event_time),
            container=self.container.to_bytes11() if self.container else bytes(11),
            seal_digest=seal,
            documents_digest=_b32(self.documents_digest) if self.documents_digest else bytes(32),
            epcis_event_hash=_b32(self.epcis_event_hash) if self.epcis_event_hash else bytes(32),
            nonce=self.nonce if self.nonce is not None else ctx.nonce(),
            deadline=_deadline(self.deadline, ctx),
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
    certificate_number: TextLine = Field(min_length=1, max_length=128)
    exporter: Bytes32 = Field(description="Organisation id of the exporter (a trader).")
    origin: CountryCode
    destination: CountryCode
    document_digest: Bytes32 = Field(
        description=(
            "keccak-256 (Ethereum's Keccak, not NIST SHA3-256) of the certificate document's "
            "bytes, as 0x + 64 hex: `eth_utils.keccak(document)`; the document stays off chain."
        )
    )
    hs_codes: list[ListedHsCode] = Field(
        min_length=1, max_length=256, description="HS 2022 subheadings, e.g. '2204.21'."
    )
    quantity: Quantity = Field(description="Whole units on chain; use a smaller unit if not.")
    valid_from: Timestamp
    valid_until: Timestamp
    issued_at: Timestamp | None = Field(default=None, description="Default: now.")

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
    certificate_number: TextLine = Field(min_length=1, max_length=128)
    reason: FreeText | None = Field(default=None, max_length=2000, description="Only its digest.")
    deadline: Timestamp | None = Field(
        default=None, description="Latest time the record may be recorded (default: +24 h)."
    )

    def to_record(self, ctx: BuildContext) -> CertificateRevocation:
        return CertificateRevocation(
            certificate_number=keccak(text=self.certificate_number),
            reason_digest=keccak(text=self.reason) if self.reason else bytes(32),
            deadline=_deadline(self.deadline, ctx),
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
    deadline: Timestamp | None = Field(
        default=None, description="Latest time the record may be recorded (default: +24 h)."
    )

    def to_record(self, ctx: BuildContext) -> Drawdown:
        certificate = _b32(self.certificate_id)
        unit = ctx.certificate_unit(certificate)
        quantity = self.quantity.to(unit) if unit else self.quantity
        amount, _ = quantity.to_chain()
        return Drawdown(
            certificate_id=certificate,
            consignment_id=self._consignment(ctx),
            quantity=amount,
            deadline=_deadline(self.deadline, ctx),
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
    definition: FreeText = Field(min_length=1, max_length=4096)
    deadline: Timestamp | None = Field(
        default=None, description="Latest time the record may be recorded (default: +24 h)."
    )

    def to_record(self, ctx: BuildContext) -> SchemaRegistration:
        return SchemaRegistration(
            definition=self.definition, deadline=_deadline(self.deadline, ctx)
        )


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
    schema_: FreeText | None = Field(
        default=None, alias="schema", min_length=1, description="Schema definition text."
    )
    schema_id: Bytes32 | None = Field(default=None, description="Instead of schema.")
    subject_type: Literal["consignment", "certificate", "organisation", "attestation"]
    subject_id: Bytes32 | None = None
    subject_ref: TextLine | None = Field(
        default=None, min_length=1, description="A consignment's business key (consignments)."
    )
    data_digest: Bytes32
    ref_uid: Bytes32 | None = None
    expires_at: Timestamp | None = None
    deadline: Timestamp | None = Field(
        default=None, description="Latest time the record may be recorded (default: +24 h)."
    )

    SCHEMA_RULES = (
        one_of_fields("schema", "schema_id"),
        one_of_fields("subject_id", "subject_ref"),
        {
            "anyOf": [
                absent("subject_ref"),
                {"properties": {"subject_type": {"const": "consignment"}}},
            ]
        },
    )

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
            _b32(self.subject_id)
            if self.subject_id
            else ctx.consignment_of(str(self.subject_ref), None, "subject_ref")
        )
        return Attestation(
            schema_id=schema,
            subject_type=_SUBJECTS[self.subject_type],
            subject_id=subject,
            data_digest=_b32(self.data_digest),
            ref_uid=_b32(self.ref_uid) if self.ref_uid else bytes(32),
            expires_at=_ts(self.expires_at) if self.expires_at else 0,
            deadline=_deadline(self.deadline, ctx),
        )


class AttestationRevocationCreate(RecordCreate):
    """Revoke an attestation (its attester only)."""

    KIND = RecordKind.ATTESTATION_REVOKE
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"uid": "0x" + "a7" * 32, "reason": "superseded"}]},
    )
    uid: Bytes32
    reason: FreeText | None = Field(default=None, max_length=2000, description="Only its digest.")
    deadline: Timestamp | None = Field(
        default=None, description="Latest time the record may be recorded (default: +24 h)."
    )

    def to_record(self, ctx: BuildContext) -> AttestationRevocation:
        return AttestationRevocation(
            uid=_b32(self.uid),
            reason_digest=keccak(text=self.reason) if self.reason else bytes(32),
            deadline=_deadline(self.deadline, ctx),
        )
