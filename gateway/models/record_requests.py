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

The models are by record family: :mod:`~gateway.models.record_fields` (field types, the build
context, the base class), :mod:`~gateway.models.trade_requests`,
:mod:`~gateway.models.governance_requests`; this module has the table of them by kind
(:data:`CREATE_MODELS`), the signed submission and the batches signed together.
"""

from __future__ import annotations

from dataclasses import replace

from pydantic import BaseModel, ConfigDict, Field

from gateway.models.declaration_requests import DeclarationCreate
from gateway.models.governance_requests import (
    AeoActionCreate,
    ApprovalCreate,
    KeyAdditionCreate,
    KeyRevocationCreate,
    MraAcceptanceCreate,
    MraProposalCreate,
    MraTerminationCreate,
    ProposalCreate,
)
from gateway.models.record_fields import (
    _SIG,
    EXAMPLE_ATTESTATION_MESSAGE,
    EXAMPLE_DRAWDOWN_MESSAGE,
    EXAMPLE_EVENT_MESSAGE,
    BuildContext,
    Message,
    Nonce,
    RecordCreate,
    Signature,
    Timestamp,
    _deadline,
)
from gateway.models.stored import RecordKind
from gateway.models.trade_requests import (
    AttestationCreate,
    AttestationRevocationCreate,
    CertificateCreate,
    CertificateRevocationCreate,
    ConsignmentCreate,
    DrawdownCreate,
    EventCreate,
    SchemaCreate,
)
from ledger.records import (
    ATTESTATION_BATCH_MAX,
    DRAWDOWN_BATCH_MAX,
    Attestation,
    ConsignmentEvent,
    Drawdown,
    with_batch_terms,
)

__all__ = [
    "ATTESTATION_BATCH_MAX",
    "CREATE_MODELS",
    "DRAWDOWN_BATCH_MAX",
    "EVENT_BATCH_MAX",
    "AttestationBatchCreate",
    "AttestationBatchSubmission",
    "DrawdownBatchCreate",
    "DrawdownBatchSubmission",
    "EventBatchCreate",
    "EventBatchSubmission",
    "SignedSubmission",
]

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
        DeclarationCreate,
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
    message: Message = Field(
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
    events: list[Message] = Field(
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
    nonce: Nonce | None = Field(
        default=None, description="The batch's nonce (default: the next one)."
    )
    deadline: Timestamp | None = Field(
        default=None, description="Latest time the batch may be recorded (default: +24 h)."
    )

    def to_events(self, ctx: BuildContext) -> tuple[ConsignmentEvent, ...]:
        """The events, each with the batch's nonce and deadline (an item's own are replaced)."""
        nonce = self.nonce if self.nonce is not None else ctx.nonce()
        deadline = _deadline(self.deadline, ctx)
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
    attestations: list[Message] = Field(
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
    deadline: Timestamp | None = Field(
        default=None,
        description="Latest time the batch may be recorded (default: +24 h); also the "
        "deadline of each attestation that gives none of its own.",
    )

    def to_attestations(self, ctx: BuildContext) -> tuple[tuple[Attestation, ...], int]:
        """The attestations, and the batch's deadline (also an item's own when it gives none)."""
        deadline = _deadline(self.deadline, ctx)
        items = tuple(item.to_record(ctx) for item in self.items)
        return tuple(
            a if item.deadline else replace(a, deadline=deadline)
            for item, a in zip(self.items, items, strict=True)
        ), deadline


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
    drawdowns: list[Message] = Field(
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
    deadline: Timestamp | None = Field(
        default=None, description="Latest time the batch may be recorded (default: +24 h)."
    )

    def to_drawdowns(self, ctx: BuildContext) -> tuple[tuple[Drawdown, ...], int]:
        """The drawdowns, and the batch's deadline."""
        deadline = _deadline(self.deadline, ctx)
        return tuple(item.to_record(ctx) for item in self.items), deadline
