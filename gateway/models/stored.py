"""Stored models: a record in the outbox, as accepted and as it moves to the chain.

:class:`OutboxRecord` is what :class:`gateway.writes.outbox.Outbox` stores and answers with
(its states are drawn in :mod:`gateway.writes.outbox`); :class:`NewRecord` is a record to
store, :class:`AcceptResult` the answer to storing it. The API keys' stored models
(``KeyRecord``, ``IssuedKey``) are :mod:`gateway.auth`'s, next to their store.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

__all__ = ["AcceptResult", "NewRecord", "OutboxRecord", "RecordKind", "RecordStatus"]


class RecordKind(StrEnum):
    """Kinds of signed record, one per contract function; a batch carries one kind only."""

    CONSIGNMENT = "consignment"  # ConsignmentRegistration -> register / registerBatch
    EVENT = "event"  # ConsignmentEvent -> postEvent / postEvents
    CERTIFICATE_ISSUE = "certificate_issue"  # CertificateIssue -> issue / issueBatch
    CERTIFICATE_REVOKE = "certificate_revoke"  # CertificateRevocation -> revoke
    DRAWDOWN = "drawdown"  # Drawdown -> drawDown / drawDownBatch
    SCHEMA = "schema"  # SchemaRegistration -> registerSchema
    ATTESTATION = "attestation"  # Attestation -> attest / attestBatch
    ATTESTATION_REVOKE = "attestation_revoke"  # AttestationRevocation -> revoke / revokeBatch
    AEO_ACTION = "aeo_action"  # AeoAction -> applyAction
    MRA_PROPOSAL = "mra_proposal"  # MraProposal -> proposeMra
    MRA_ACCEPTANCE = "mra_acceptance"  # MraAcceptance -> acceptMra
    MRA_TERMINATION = "mra_termination"  # MraTermination -> terminateMra
    PROPOSAL = "proposal"  # Proposal -> propose
    APPROVAL = "approval"  # Approval -> approve
    EXECUTION = "execution"  # Proposal (unsigned) -> execute
    KEY_ADDITION = "key_addition"  # KeyAddition -> addKey
    KEY_REVOCATION = "key_revocation"  # KeyRevocation -> revokeKey
    DECLARATION = "declaration"  # Declaration -> lodge / lodgeBatch
    EPCIS_CAPTURE = "epcis_capture"  # EpcisCapture -> commitCapture / commitCaptures


class RecordStatus(StrEnum):
    """Where a record is on its way to the chain (see :mod:`gateway.writes.outbox`)."""

    ACCEPTED = "accepted"
    SUBMITTED = "submitted"
    CONFIRMED = "confirmed"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class OutboxRecord:
    """A stored record and its relay state."""

    seq: int
    record_id: str
    org_id: str
    kind: RecordKind
    payload: Mapping[str, Any]
    signature: str
    status: RecordStatus
    idempotency_key: str | None
    batch_id: str | None
    tx_hash: str | None
    block_number: int | None
    block_hash: str | None
    log_index: int | None
    error_code: str | None
    error_reason: str | None
    attempts: int
    isolate: bool
    created_at: datetime
    updated_at: datetime
    signer_nonce: str | None = None
    """``<contract>:<signer>:<nonce>`` for records that use a signer's nonce (events, AEO
    actions): a nonce that a record on its way to the chain holds (see
    :meth:`~gateway.writes.outbox.Outbox.claimed_nonces`)."""
    signed_batch: str | None = None
    """The id of the signed event batch (``postEventBatch``) this record travels with: the
    records of one signed batch go in one transaction, together, in order, or fail together."""
    simulated_at: datetime | None = None
    """When the intake ran the record on the pending block (with the records of its request)
    and it passed; None when it was accepted without that (the relayer checks it then)."""
    body_sha256: str | None = None
    """SHA-256 of the custodial request the gateway signed this record from (None for a
    record the client signed): an ``Idempotency-Key`` sent again with another body is a
    conflict, not a repeat."""
    final: bool = False
    """Whether the block that holds it is at the network's finality: a ``confirmed`` record
    that is not final yet is checked again, and sent again if its block is replaced."""


@dataclass(frozen=True, slots=True)
class NewRecord:
    """A record to store with :meth:`~gateway.writes.outbox.Outbox.accept_many`."""

    org_id: str
    kind: RecordKind
    record_id: str
    payload: Mapping[str, Any]
    signature: str
    idempotency_key: str | None = None
    signer_nonce: str | None = None
    signed_batch: str | None = None
    simulated_at: float | None = None
    body_sha256: str | None = None


@dataclass(frozen=True, slots=True)
class AcceptResult:
    """The stored record and whether this call created it (False: an idempotent repeat)."""

    record: OutboxRecord
    created: bool
