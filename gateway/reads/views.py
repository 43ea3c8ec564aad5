"""Response models of the read routes (built from the index's and the contracts' read models).

Bytes are 0x-hex, times ISO 8601 UTC, codes in their human form (CBV words, UN/LOCODEs,
ISO 6346 container numbers, country codes).
"""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AttestationList",
    "AttestationView",
    "CertificateView",
    "CertificationView",
    "ConsignmentView",
    "DrawdownView",
    "EventView",
    "KeyView",
    "MraList",
    "MraView",
    "OperatorAeoView",
    "OrganisationList",
    "OrganisationView",
    "RecognitionView",
    "TimelineView",
    "hx",
    "when",
]

_ORG = "0x" + "0a" * 32
_ID = "0x" + "c0" * 32
_TX = "0x" + "7c" * 32
_T = "2026-11-23T18:00:00Z"


def hx(value: bytes) -> str:
    return "0x" + value.hex()


def when(value: int | None) -> datetime | None:
    return None if not value else datetime.fromtimestamp(value, UTC)


class ConsignmentView(BaseModel):
    """A consignment as the chain has it: parties, countries and its hash-chain head."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "consignment_id": _ID,
                    "origin": "AU",
                    "destination": "CN",
                    "registrant": _ORG,
                    "consignor": _ORG,
                    "consignee": None,
                    "registered_at": _T,
                    "head": "0x" + "4e" * 28,
                    "event_count": 5,
                }
            ]
        }
    )

    consignment_id: str
    origin: str
    destination: str
    registrant: str
    consignor: str | None
    consignee: str | None
    registered_at: datetime | None
    head: str = Field(description="The on-chain hash-chain head (bytes28).")
    event_count: int


class EventView(BaseModel):
    seq: int = Field(description="1-based position in the consignment's chain.")
    biz_step: str
    disposition: str | None
    location: str
    event_time: datetime | None
    container: str | None
    seal_digest: str
    documents_digest: str
    epcis_event_hash: str
    org_id: str
    signer: str
    digest: str = Field(description="The event's EIP-712 digest (what was signed).")
    head: str
    tx_hash: str
    block_number: int
    log_index: int


class TimelineView(BaseModel):
    """Every event of a consignment in chain order, and whether the index agrees with the
    chain's head."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "consignment_id": _ID,
                    "head": "0x" + "4e" * 28,
                    "event_count": 1,
                    "head_matches_chain": True,
                    "events": [
                        {
                            "seq": 1,
                            "biz_step": "loading",
                            "disposition": "in_transit",
                            "location": "AUADL",
                            "event_time": _T,
                            "container": "CSQU3054383",
                            "seal_digest": "0x" + "5e" * 32,
                            "documents_digest": "0x" + "00" * 32,
                            "epcis_event_hash": "0x" + "00" * 32,
                            "org_id": _ORG,
                            "signer": "0x" + "5a" * 20,
                            "digest": "0x" + "5e" * 32,
                            "head": "0x" + "4e" * 28,
                            "tx_hash": _TX,
                            "block_number": 42,
                            "log_index": 0,
                        }
                    ],
                }
            ]
        }
    )

    consignment_id: str
    head: str
    event_count: int
    head_matches_chain: bool
    events: list[EventView]


class DrawdownView(BaseModel):
    certificate_id: str
    consignment_id: str
    org_id: str
    quantity: int
    drawn_after: int
    drawn_at: datetime | None
    tx_hash: str
    block_number: int


class CertificateView(BaseModel):
    """A certificate of origin: balance and status on chain, drawdowns from the index."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "certificate_id": "0x" + "ce" * 32,
                    "status": "issued",
                    "exporter": _ORG,
                    "origin": "AU",
                    "destination": "CN",
                    "quantity": 9000,
                    "unit": "LTR",
                    "drawn": 4500,
                    "remaining": 4500,
                    "valid_from": _T,
                    "valid_until": "2027-11-23T18:00:00Z",
                    "usable_now": True,
                    "drawdowns": [],
                }
            ]
        }
    )

    certificate_id: str
    status: str = Field(description="issued or revoked.")
    exporter: str
    origin: str
    destination: str
    quantity: int
    unit: str | None = Field(description="UN/ECE Rec 20 unit (from the index).")
    drawn: int
    remaining: int
    valid_from: datetime | None
    valid_until: datetime | None
    usable_now: bool = Field(description="Issued, not revoked, valid now, quantity left.")
    drawdowns: list[DrawdownView] | None = Field(
        default=None, description="From the index (null when this gateway has none)."
    )


class AttestationView(BaseModel):
    """An attestation: who attested what about which subject, and whether it holds now."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "uid": "0x" + "a7" * 32,
                    "schema_id": "0x" + "5c" * 32,
                    "subject_type": 1,
                    "subject_id": _ID,
                    "attester": _ORG,
                    "data_digest": "0x" + "da" * 32,
                    "ref_uid": "0x" + "00" * 32,
                    "attested_at": _T,
                    "expires_at": None,
                    "revoked_at": None,
                    "valid": True,
                }
            ]
        }
    )

    uid: str
    schema_id: str | None = None
    subject_type: int | None = None
    subject_id: str | None = None
    attester: str
    data_digest: str | None = None
    ref_uid: str | None = None
    attested_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None
    valid: bool


class AttestationList(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "subject_id": _ID,
                    "items": [
                        {
                            "uid": "0x" + "a7" * 32,
                            "schema_id": "0x" + "5c" * 32,
                            "subject_type": 1,
                            "subject_id": _ID,
                            "attester": _ORG,
                            "data_digest": "0x" + "da" * 32,
                            "ref_uid": "0x" + "00" * 32,
                            "attested_at": _T,
                            "expires_at": None,
                            "revoked_at": None,
                            "valid": True,
                        }
                    ],
                }
            ]
        }
    )

    subject_id: str
    items: list[AttestationView]


class CertificationView(BaseModel):
    certification_id: str
    administration: str
    operator_id: str
    programme: str
    status: str = Field(description="active, suspended or revoked, as of `at`.")
    valid_from: datetime | None
    valid_until: datetime | None
    in_force: bool


class OperatorAeoView(BaseModel):
    """An operator's AEO certifications as of a time."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "operator_id": _ORG,
                    "at": _T,
                    "certifications": [
                        {
                            "certification_id": "0x" + "ae" * 32,
                            "administration": "0x" + "0c" * 32,
                            "operator_id": _ORG,
                            "programme": "AEOF",
                            "status": "active",
                            "valid_from": _T,
                            "valid_until": "2029-11-23T18:00:00Z",
                            "in_force": True,
                        }
                    ],
                }
            ]
        }
    )

    operator_id: str
    at: datetime
    certifications: list[CertificationView]


class RecognitionView(BaseModel):
    """Is the operator recognised by the administration at ``at``, and through what."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "operator_id": _ORG,
                    "administration": "0x" + "0c" * 32,
                    "at": _T,
                    "recognised": True,
                    "certification_id": "0x" + "ae" * 32,
                    "mra_id": "0x" + "4d" * 32,
                }
            ]
        }
    )

    operator_id: str
    administration: str
    at: datetime
    recognised: bool
    certification_id: str | None
    mra_id: str | None = Field(description="Null: certified by the administration itself.")


class MraView(BaseModel):
    mra_id: str
    proposer: str
    counterpart: str
    programmes: list[str]
    valid_from: datetime | None
    valid_until: datetime | None
    proposed_at: datetime | None
    accepted_at: datetime | None
    terminated_at: datetime | None
    in_force: bool = Field(description="In force at `at`.")


class MraList(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "at": _T,
                    "items": [
                        {
                            "mra_id": "0x" + "4d" * 32,
                            "proposer": _ORG,
                            "counterpart": "0x" + "0c" * 32,
                            "programmes": ["AEOC", "AEOS", "AEOF"],
                            "valid_from": _T,
                            "valid_until": "2036-11-23T18:00:00Z",
                            "proposed_at": _T,
                            "accepted_at": _T,
                            "terminated_at": None,
                            "in_force": True,
                        }
                    ],
                }
            ]
        }
    )

    at: datetime
    items: list[MraView]


class KeyView(BaseModel):
    key: str
    valid_from: datetime | None
    valid_until: datetime | None
    revoked_at: datetime | None
    valid_now: bool


class OrganisationView(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "org_id": _ORG,
                    "name": "Oceanic Container Line",
                    "kind": "carrier",
                    "country": "SG",
                    "status": "active",
                    "admitted_at": _T,
                    "keys": [
                        {
                            "key": "0x" + "5a" * 20,
                            "valid_from": _T,
                            "valid_until": "2031-11-23T18:00:00Z",
                            "revoked_at": None,
                            "valid_now": True,
                        }
                    ],
                }
            ]
        }
    )

    org_id: str
    name: str | None = Field(
        default=None,
        description=(
            "The organisation's name where this gateway knows it (the chain holds ids only; "
            "an id is keccak256 of the name): the demo world's, the bootstrap file's and "
            "<data_dir>/organisation-names.json. Null when unknown."
        ),
    )
    kind: str
    country: str
    status: str
    admitted_at: datetime | None
    keys: list[KeyView] | None = Field(
        default=None, description="From the index (null when this gateway has none)."
    )


class OrganisationList(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "org_id": _ORG,
                            "name": "Oceanic Container Line",
                            "kind": "carrier",
                            "country": "SG",
                            "status": "active",
                            "admitted_at": _T,
                            "keys": None,
                        }
                    ]
                }
            ]
        }
    )

    items: list[OrganisationView]
