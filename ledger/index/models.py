"""The index's read models: what its queries return (frozen dataclasses, decoded values).

Built by :class:`~ledger.index.queries.IndexQueries` from the append-only tables of
:mod:`ledger.index.schema`; :class:`SyncResult` and :class:`HeadVerification` report what the
follower (:class:`~ledger.index.follower.Index`) did.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_typing import ChecksumAddress

from ledger.index.codec import _hex

__all__ = [
    "AeoStatus",
    "AttestationRecord",
    "CertificateRecord",
    "ConsignmentRecord",
    "ConsignmentView",
    "DrawdownRecord",
    "Finding",
    "HeadVerification",
    "KeyRecord",
    "KeyValidity",
    "MraRecord",
    "OrganisationRecord",
    "RawLog",
    "SyncResult",
    "TimelineEvent",
]

_PROGRAMME_SCOPE = {"AEOC": 0x1, "AEOS": 0x2, "AEOF": 0x4}


@dataclass(frozen=True, slots=True)
class SyncResult:
    """What one :meth:`Index.sync` call did."""

    from_block: int  # first block processed (cursor + 1 at the start)
    to_block: int  # the cursor at the end
    blocks: int  # blocks processed (after any reorg rollback)
    logs: int  # logs indexed
    consignment_events: int
    reorgs: int  # fork points walked back to
    seconds: float


@dataclass(frozen=True, slots=True)
class TimelineEvent:
    """One consignment event, every field decoded, with its position and the head after it."""

    consignment_id: bytes
    seq: int  # 1-based position in the consignment's chain (eventCount after it)
    biz_step: str  # CBV 2.0 word
    biz_step_code: int
    disposition: str | None  # CBV 2.0 word, None when 0
    disposition_code: int
    location: str  # UN/LOCODE
    event_time: int
    container: str | None  # ISO 6346, None when zero
    seal_digest: bytes
    documents_digest: bytes
    epcis_event_hash: bytes
    signer: ChecksumAddress
    org_id: bytes
    nonce: int
    deadline: int
    digest: bytes  # the record's EIP-712 digest
    head: bytes  # head after this event (bytes28), recomputed by the index
    emitted_head: bytes  # head in the log
    tx_hash: str
    block_number: int
    block_hash: str
    log_index: int
    block_time: int


@dataclass(frozen=True, slots=True)
class ConsignmentRecord:
    consignment_id: bytes  # keccak256(abi.encode(registrant, reference_hash))
    registrant: bytes
    signer: ChecksumAddress
    reference_hash: bytes  # keccak256 of the business key (zero: an index row from before it)
    origin: str
    destination: str
    consignor: bytes
    consignee: bytes
    deadline: int  # the registration's signed deadline (0: an index row from before it)
    registered_at: int  # block time
    digest: bytes  # EIP-712 digest of the registration
    head: bytes  # current recomputed head (bytes28)
    event_count: int
    tx_hash: str
    block_number: int
    log_index: int


@dataclass(frozen=True, slots=True)
class DrawdownRecord:
    certificate_id: bytes
    consignment_id: bytes
    org_id: bytes
    signer: ChecksumAddress
    quantity: int
    drawn: int  # the certificate's total drawn after this drawdown
    drawn_at: int  # block time
    tx_hash: str
    block_number: int
    log_index: int


@dataclass(frozen=True, slots=True)
class CertificateRecord:
    certificate_id: bytes
    issuer: bytes
    exporter: bytes
    signer: ChecksumAddress
    certificate_number: bytes
    origin: str
    destination: str
    document_digest: bytes
    hs_codes_digest: bytes
    quantity: int
    unit: str
    valid_from: int
    valid_until: int
    issued_at: int
    recorded_at: int  # block time of issue
    revoked_at: int | None  # block time of revocation
    revocation_reason: bytes | None
    drawn: int
    drawdowns: tuple[DrawdownRecord, ...]
    tx_hash: str
    block_number: int

    @property
    def remaining(self) -> int:
        return self.quantity - self.drawn

    @property
    def status(self) -> str:
        return "revoked" if self.revoked_at is not None else "issued"

    def usable_at(self, t: int) -> bool:
        """Issued, not revoked by ``t``, validity window covers ``t``, quantity left."""
        revoked = self.revoked_at is not None and self.revoked_at <= t
        return not revoked and self.valid_from <= t < self.valid_until and self.remaining > 0


@dataclass(frozen=True, slots=True)
class AeoStatus:
    """An AEO certification's state at time ``at``, from its status-change events."""

    certification_id: bytes
    operator_id: bytes
    administration: bytes
    programme: str
    status: str  # active | suspended | revoked
    valid_from: int
    valid_until: int
    changed_at: int  # block time of the last change at or before ``at``
    at: int

    @property
    def in_force(self) -> bool:
        return self.status == "active" and self.valid_from <= self.at < self.valid_until


@dataclass(frozen=True, slots=True)
class MraRecord:
    mra_id: bytes
    proposer: bytes
    counterpart: bytes
    scope: int  # bit mask: 0x1 AEOC, 0x2 AEOS, 0x4 AEOF
    valid_from: int
    valid_until: int
    proposed_at: int
    accepted_at: int | None
    terminated_at: int | None

    @property
    def programmes(self) -> tuple[str, ...]:
        return tuple(p for p, bit in _PROGRAMME_SCOPE.items() if self.scope & bit)

    def in_force(self, t: int) -> bool:
        return (
            self.accepted_at is not None
            and self.accepted_at <= t
            and self.valid_from <= t < self.valid_until
            and (self.terminated_at is None or t < self.terminated_at)
        )

    def covers(self, programme: str) -> bool:
        return bool(self.scope & _PROGRAMME_SCOPE.get(programme.strip(), 0))


@dataclass(frozen=True, slots=True)
class AttestationRecord:
    uid: bytes
    schema_id: bytes
    subject_type: int  # 1 consignment, 2 certificate, 3 organisation, 4 attestation
    subject_id: bytes
    attester: bytes
    signer: ChecksumAddress
    data_digest: bytes
    ref_uid: bytes
    expires_at: int  # 0: never
    attested_at: int  # block time
    revoked_at: int | None  # block time
    revocation_reason: bytes | None
    tx_hash: str
    block_number: int
    log_index: int

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    def valid_at(self, t: int) -> bool:
        if t < self.attested_at or (self.revoked_at is not None and self.revoked_at <= t):
            return False
        return self.expires_at == 0 or t < self.expires_at


@dataclass(frozen=True, slots=True)
class KeyRecord:
    key: ChecksumAddress
    org_id: bytes
    valid_from: int
    valid_until: int
    revoked_at: int | None
    added_at: int  # block time
    signer: ChecksumAddress | None  # the key that signed the addition (None: governance)

    def valid_at(self, t: int) -> bool:
        if not self.valid_from <= t < self.valid_until:
            return False
        return self.revoked_at is None or t < self.revoked_at


@dataclass(frozen=True, slots=True)
class KeyValidity:
    """Whether ``key`` could sign at ``at``, and why not."""

    key: ChecksumAddress
    at: int
    valid: bool
    reason: str  # "valid" | "unknown" | "not_yet_valid" | "expired" | "revoked"
    record: KeyRecord | None


@dataclass(frozen=True, slots=True)
class OrganisationRecord:
    org_id: bytes
    kind: int
    kind_name: str
    country: str
    status: str  # active | suspended
    org_index: int
    admitted_at: int  # block time
    keys: tuple[KeyRecord, ...]


@dataclass(frozen=True, slots=True)
class RawLog:
    """A log exactly as the chain returned it (for proof bundles)."""

    address: ChecksumAddress
    contract: str
    event: str
    topics: tuple[bytes, ...]
    data: bytes
    block_number: int
    block_hash: str
    tx_hash: str
    tx_index: int
    log_index: int
    block_time: int

    def as_rpc(self) -> dict[str, Any]:
        """The ``eth_getLogs`` JSON form."""
        return {
            "address": self.address,
            "topics": [_hex(t) for t in self.topics],
            "data": _hex(self.data),
            "blockNumber": hex(self.block_number),
            "blockHash": self.block_hash,
            "transactionHash": self.tx_hash,
            "transactionIndex": hex(self.tx_index),
            "logIndex": hex(self.log_index),
            "removed": False,
        }


@dataclass(frozen=True, slots=True)
class Finding:
    kind: str  # "log_head_mismatch" (while indexing) | "chain_head_mismatch" (verify_heads)
    consignment_id: bytes
    block_number: int
    expected: bytes | None  # the chain's head
    found: bytes | None  # the index's recomputed head
    detail: str
    recorded_at: int


@dataclass(frozen=True, slots=True)
class ConsignmentView:
    """What the index holds about one consignment, read on one connection: the registration,
    every event in chain order, the attestations about it and its drawdowns."""

    consignment: ConsignmentRecord
    timeline: list[TimelineEvent]
    attestations: list[AttestationRecord]
    drawdowns: list[DrawdownRecord]
    # the consignor's consignments registered in earlier blocks, as counted when the
    # registration was indexed (None: indexed before the index kept the count)
    consignor_earlier: int | None = None


@dataclass(frozen=True, slots=True)
class HeadVerification:
    block_number: int  # the indexed block the heads were compared at
    checked: int
    mismatches: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        return not self.mismatches
