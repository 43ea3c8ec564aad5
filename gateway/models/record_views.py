"""Models of the record routes: a submission, a record's view and page, bulk answers, typed
data to sign, batches signed together. Views are built from the stored
:class:`~gateway.models.stored.OutboxRecord` with ``from_stored``; each carries an OpenAPI
example."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from gateway.auth import BYTES32_PATTERN
from gateway.models.error_views import ErrorDetail
from gateway.models.record_fields import (
    EXAMPLE_ATTESTATION_MESSAGE,
    EXAMPLE_DRAWDOWN_MESSAGE,
    EXAMPLE_EVENT_MESSAGE,
)
from gateway.models.stored import OutboxRecord, RecordKind, RecordStatus
from ledger.records import Proposal, certificate_id

__all__ = [
    "AttestationBatchTypedDataView",
    "AttestationBatchView",
    "BulkItemResult",
    "BulkResult",
    "DomainList",
    "DrawdownBatchTypedDataView",
    "DrawdownBatchView",
    "EventBatchTypedDataView",
    "EventBatchView",
    "RecordError",
    "RecordPage",
    "RecordSubmission",
    "RecordView",
    "TypedDataView",
]

Bytes32 = Annotated[str, Field(pattern=BYTES32_PATTERN, examples=["0x" + "ab" * 32])]
Signature = Annotated[
    str,
    Field(
        pattern=r"^0x[0-9a-fA-F]{130}$",
        description="65-byte secp256k1 signature (r, s, v) over the EIP-712 digest, hex.",
    ),
]

_ORG = "0x" + "0a" * 32
_RECORD = "0x" + "5e" * 32
# The EIP-712 domain type of every record's typed data (the examples of the typed-data routes).
_DOMAIN_TYPE: list[JsonValue] = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]
_TX = "0x" + "7c" * 32
_BLOCK = "0x" + "b1" * 32
_SIG = "0x" + "11" * 64 + "1b"
_WHEN = "2026-11-23T18:00:00Z"


class RecordSubmission(BaseModel):
    """A signed record to relay to the chain."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "kind": "event",
                    "record_id": _RECORD,
                    "payload": {
                        "consignmentId": "0x" + "c0" * 32,
                        "bizStep": "departing",
                        "location": "NLRTM",
                        "eventTime": 1795456800,
                        "container": "MSCU1234566",
                        "orgId": _ORG,
                        "nonce": 7,
                        "deadline": 1795460400,
                    },
                    "signature": _SIG,
                }
            ]
        },
    )

    kind: RecordKind = Field(description="What the record is; a batch carries one kind only.")
    record_id: Bytes32 | None = Field(
        default=None,
        description=(
            "Unique id of the record (part of the signed message). Omitted: derived from the "
            "kind and payload. Submitting the same id again returns the stored record."
        ),
    )
    payload: dict[str, Any] = Field(
        description="The EIP-712 message that was signed, as JSON (field names as in the type)."
    )
    signature: Signature


class RecordError(BaseModel):
    code: str = Field(examples=["reverted"])
    reason: str = Field(examples=["ConsignmentUnknown(0xc0c0...)"])


class RecordView(BaseModel):
    """A record and where it is on its way to the chain."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "record_id": _RECORD,
                    "kind": "event",
                    "org_id": _ORG,
                    "status": "confirmed",
                    "final": True,
                    "batch_id": "4f1c2d0e9b8a47d6a1e3c5b7d9f0a2c4",
                    "tx_hash": _TX,
                    "block_number": 1042,
                    "block_hash": _BLOCK,
                    "log_index": 3,
                    "error": None,
                    "created_at": _WHEN,
                    "updated_at": _WHEN,
                }
            ]
        }
    )

    record_id: str
    kind: RecordKind
    org_id: str
    status: RecordStatus = Field(description="accepted, submitted, confirmed or failed.")
    final: bool = Field(
        default=False,
        description=(
            "Whether the block that holds it is at the network's finality (`confirmations` "
            "blocks on top: 0 on anvil and Besu QBFT, half the signers plus one on Clique). A "
            "confirmed record that is not final yet is checked again; if its block is replaced "
            "it goes back to `submitted` and reaches the chain again, once."
        ),
    )
    batch_id: str | None = None
    tx_hash: str | None = None
    block_number: int | None = None
    block_hash: str | None = None
    log_index: int | None = None
    error: RecordError | None = None
    created_at: datetime
    updated_at: datetime
    signed_batch: str | None = Field(
        default=None,
        description=(
            "For an event signed with others in one EventBatch signature "
            "(`POST /events/batch/signed`), an attestation in one AttestationBatch "
            "signature (`POST /attestations/batch/signed`) or a drawdown in one DrawdownBatch "
            "signature (`POST /certificates/drawdowns/batch/signed`): the id of that batch. "
            "Its records "
            "travel in one transaction and share its fate; `signature` is the batch's."
        ),
    )

    certificate_id: str | None = Field(
        default=None,
        description=(
            "For a certificate issue: the certificate's id, "
            "`keccak256(abi.encode(issuer org id, keccak256(certificate number)))`, as "
            "`GET /certificates/{certificate_id}` and drawdowns name it."
        ),
    )

    proposal_id: str | None = Field(
        default=None,
        description=(
            "For a governance proposal: its id (the struct hash), which approvals name and "
            "`GET /governance/proposals/{proposal_id}` reads; for an approval: the proposal "
            "it approves."
        ),
    )
    proposal: dict[str, Any] | None = Field(
        default=None,
        description=(
            "For a governance proposal: its EIP-712 message as proposed, with the salt and "
            "expiry (`expiresAt`) a custodial proposal was given."
        ),
    )

    @classmethod
    def from_stored(cls, record: OutboxRecord) -> RecordView:
        error = None
        if record.status is RecordStatus.FAILED:
            error = RecordError(
                code=record.error_code or "failed", reason=record.error_reason or ""
            )
        return cls(
            record_id=record.record_id,
            kind=record.kind,
            org_id=record.org_id,
            status=record.status,
            final=record.final,
            batch_id=record.batch_id,
            tx_hash=record.tx_hash,
            block_number=record.block_number,
            block_hash=record.block_hash,
            log_index=record.log_index,
            error=error,
            created_at=record.created_at,
            updated_at=record.updated_at,
            signed_batch=record.signed_batch,
            certificate_id=_certificate_id(record),
            **_proposal_fields(record),
        )


def _proposal_fields(record: OutboxRecord) -> dict[str, Any]:
    if record.kind is RecordKind.PROPOSAL:
        try:
            proposal = Proposal.from_message(record.payload)
        except (ValueError, TypeError):
            return {}
        return {"proposal_id": "0x" + proposal.proposal_id.hex(), "proposal": record.payload}
    if record.kind is RecordKind.APPROVAL:
        value = record.payload.get("proposalId")
        return {"proposal_id": value} if isinstance(value, str) else {}
    return {}


def _certificate_id(record: OutboxRecord) -> str | None:
    if record.kind is not RecordKind.CERTIFICATE_ISSUE:
        return None
    number = record.payload.get("certificateNumber")
    if not isinstance(number, str):
        return None
    try:
        issuer = bytes.fromhex(record.org_id.removeprefix("0x"))
        return "0x" + certificate_id(issuer, bytes.fromhex(number.removeprefix("0x"))).hex()
    except ValueError:
        return None


class RecordPage(BaseModel):
    """One page of the caller's records; pass ``next_after`` as ``after`` for the next."""

    items: list[RecordView]
    next_after: int | None = Field(default=None, examples=[1042])


class TypedDataView(BaseModel):
    """A record to sign: the ``eth_signTypedData_v4`` JSON, its digest and its record id.

    Sign ``typed_data`` (e.g. ``eth_account.Account.sign_typed_data(full_message=...)``) and
    submit ``{"message": typed_data["message"], "signature": ...}`` to the kind's ``/signed``
    route.
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "kind": "consignment",
                    "record_id": _RECORD,
                    "digest": _RECORD,
                    "typed_data": {
                        "types": {
                            "EIP712Domain": _DOMAIN_TYPE,
                            "ConsignmentRegistration": [
                                {"name": "referenceHash", "type": "bytes32"},
                                {"name": "origin", "type": "bytes2"},
                                {"name": "destination", "type": "bytes2"},
                                {"name": "consignor", "type": "bytes32"},
                                {"name": "consignee", "type": "bytes32"},
                                {"name": "deadline", "type": "uint40"},
                            ],
                        },
                        "primaryType": "ConsignmentRegistration",
                        "domain": {
                            "name": "TradeLedger Consignments",
                            "version": "1",
                            "chainId": 31337,
                            "verifyingContract": "0x" + "5f" * 20,
                        },
                        "message": {
                            "referenceHash": "0x" + "4e" * 32,
                            "origin": "0x4155",
                            "destination": "0x434e",
                            "consignor": _ORG,
                            "consignee": "0x" + "00" * 32,
                            "deadline": 1795509000,
                        },
                    },
                }
            ]
        }
    )

    kind: RecordKind
    record_id: str = Field(
        description="The record id it will have: keccak256(abi.encode(orgId, digest))."
    )
    digest: str = Field(description="The EIP-712 digest to sign.")
    typed_data: dict[str, Any]


class BulkItemResult(BaseModel):
    """What happened to one item of a bulk request."""

    index: int
    status: int = Field(description="202 accepted (200: already stored), or the error status.")
    record: RecordView | None = None
    error: ErrorDetail | None = None


class BulkResult(BaseModel):
    """Per-item answers of a bulk request, in request order."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "accepted": 1,
                    "replayed": 0,
                    "rejected": 1,
                    "items": [
                        {
                            "index": 0,
                            "status": 202,
                            "record": {
                                "record_id": _RECORD,
                                "kind": "event",
                                "org_id": _ORG,
                                "status": "accepted",
                                "created_at": _WHEN,
                                "updated_at": _WHEN,
                            },
                            "error": None,
                        },
                        {
                            "index": 1,
                            "status": 404,
                            "record": None,
                            "error": {
                                "code": "UnknownConsignment",
                                "message": "UnknownConsignment: ...",
                                "rule": "contract",
                            },
                        },
                    ],
                }
            ]
        }
    )

    accepted: int
    replayed: int
    rejected: int
    items: list[BulkItemResult]


class DomainList(BaseModel):
    """EIP-712 domains by contract name."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "domains": {
                        "Consignments": {
                            "name": "TradeLedger Consignments",
                            "version": "1",
                            "chainId": 31337,
                            "verifyingContract": "0x" + "5f" * 20,
                        }
                    }
                }
            ]
        }
    )

    domains: dict[str, dict[str, Any]]


class EventBatchView(BaseModel):
    """Events signed together, as stored: one record per event, in batch order."""

    batch_id: str = Field(
        description="keccak256(abi.encode(orgId, digest)) of the EventBatch digest signed."
    )
    signer: str = Field(description="The key that signed the batch.")
    nonce: int
    deadline: int
    records: list[RecordView] = Field(description="One per event, in the order signed.")


class EventBatchTypedDataView(BaseModel):
    """An EventBatch to sign: its typed data, and the events it covers as they must be sent.

    Sign ``typed_data`` and submit ``{"events": events, "signature": ...}`` to
    ``POST /events/batch/signed``.
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "batch_id": _RECORD,
                    "digest": _RECORD,
                    "typed_data": {
                        "types": {
                            "EIP712Domain": _DOMAIN_TYPE,
                            "EventBatch": [
                                {"name": "eventsHash", "type": "bytes32"},
                                {"name": "nonce", "type": "uint32"},
                                {"name": "deadline", "type": "uint40"},
                            ],
                        },
                        "primaryType": "EventBatch",
                        "domain": {
                            "name": "TradeLedger Consignments",
                            "version": "1",
                            "chainId": 31337,
                            "verifyingContract": "0x" + "c1" * 20,
                        },
                        "message": {
                            "eventsHash": "0x" + "e5" * 32,
                            "nonce": 1793,
                            "deadline": 1795509000,
                        },
                    },
                    "events": [{**EXAMPLE_EVENT_MESSAGE, "nonce": 1793}],
                    "record_ids": [_RECORD],
                }
            ]
        }
    )

    batch_id: str
    digest: str = Field(description="The EIP-712 digest of the EventBatch (what is signed).")
    typed_data: dict[str, Any] = Field(description="`eth_signTypedData_v4` JSON of the batch.")
    events: list[dict[str, Any]] = Field(
        description="The ConsignmentEvent messages, with the batch's nonce and deadline."
    )
    record_ids: list[str] = Field(description="The record id of each event, in order.")


class AttestationBatchView(BaseModel):
    """Attestations signed together, as stored: one record per attestation, in batch order."""

    batch_id: str = Field(
        description="keccak256(abi.encode(orgId, digest)) of the AttestationBatch digest signed."
    )
    signer: str = Field(description="The key that signed the batch.")
    deadline: int
    uids: list[str] = Field(description="The uid each attestation gets on chain, in order.")
    records: list[RecordView] = Field(description="One per attestation, in the order signed.")


def _deadline_batch_example(
    primary: str, contract: str, items: str, item: dict[str, Any]
) -> dict[str, Any]:
    """The OpenAPI example of a batch signed with a deadline (``AttestationBatch``,
    ``DrawdownBatch``): its typed data, one item and its record id."""
    hash_field = f"{items}Hash"
    return {
        "examples": [
            {
                "batch_id": _RECORD,
                "digest": _RECORD,
                "typed_data": {
                    "types": {
                        "EIP712Domain": _DOMAIN_TYPE,
                        primary: [
                            {"name": hash_field, "type": "bytes32"},
                            {"name": "deadline", "type": "uint40"},
                        ],
                    },
                    "primaryType": primary,
                    "domain": {
                        "name": f"TradeLedger {contract}",
                        "version": "1",
                        "chainId": 31337,
                        "verifyingContract": "0x" + "ce" * 20,
                    },
                    "message": {hash_field: "0x" + "e5" * 32, "deadline": 1795509000},
                },
                items: [item],
                "deadline": 1795509000,
                "record_ids": [_RECORD],
            }
        ]
    }


class AttestationBatchTypedDataView(BaseModel):
    """An AttestationBatch to sign: its typed data, and the attestations it covers.

    Sign ``typed_data`` and submit ``{"attestations": attestations, "deadline": deadline,
    "signature": ...}`` to ``POST /attestations/batch/signed``.
    """

    model_config = ConfigDict(
        json_schema_extra=_deadline_batch_example(
            "AttestationBatch", "Attestations", "attestations", EXAMPLE_ATTESTATION_MESSAGE
        )
    )

    batch_id: str
    digest: str = Field(description="The EIP-712 digest of the AttestationBatch (what is signed).")
    typed_data: dict[str, Any] = Field(description="`eth_signTypedData_v4` JSON of the batch.")
    attestations: list[dict[str, Any]] = Field(description="The Attestation messages, in order.")
    deadline: int = Field(description="The batch's deadline (unix seconds).")
    record_ids: list[str] = Field(description="The record id of each attestation, in order.")


class DrawdownBatchView(BaseModel):
    """Drawdowns signed together, as stored: one record per drawdown, in batch order."""

    batch_id: str = Field(
        description="keccak256(abi.encode(orgId, digest)) of the DrawdownBatch digest signed."
    )
    signer: str = Field(description="The key that signed the batch.")
    deadline: int
    records: list[RecordView] = Field(description="One per drawdown, in the order signed.")


class DrawdownBatchTypedDataView(BaseModel):
    """A DrawdownBatch to sign: its typed data, and the drawdowns it covers.

    Sign ``typed_data`` and submit ``{"drawdowns": drawdowns, "deadline": deadline,
    "signature": ...}`` to ``POST /certificates/drawdowns/batch/signed``.
    """

    model_config = ConfigDict(
        json_schema_extra=_deadline_batch_example(
            "DrawdownBatch", "Certificates", "drawdowns", EXAMPLE_DRAWDOWN_MESSAGE
        )
    )

    batch_id: str
    digest: str = Field(description="The EIP-712 digest of the DrawdownBatch (what is signed).")
    typed_data: dict[str, Any] = Field(description="`eth_signTypedData_v4` JSON of the batch.")
    drawdowns: list[dict[str, Any]] = Field(description="The Drawdown messages, in order.")
    deadline: int = Field(description="The batch's deadline (unix seconds).")
    record_ids: list[str] = Field(description="The record id of each drawdown, in order.")
