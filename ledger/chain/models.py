"""What the contracts' view functions return, decoded: one frozen dataclass per answer.

Returned by the typed clients of :mod:`ledger.chain.contracts` (``MembershipClient.organisation``,
``CertificatesClient.certificate``, ``AeoRegistryClient.recognition``, ...): ids as ``bytes``,
addresses checksummed, ``bytesN`` text decoded.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_typing import ChecksumAddress

from ledger.records import Proposal

__all__ = [
    "AttestationState",
    "CertificateState",
    "Certification",
    "ConsignmentState",
    "KeyInfo",
    "Mra",
    "Organisation",
    "ProposalState",
    "ProposedAction",
    "Recognition",
    "StatusChange",
]

ZERO32 = bytes(32)


@dataclass(frozen=True, slots=True)
class Organisation:
    org_id: bytes
    kind: int  # 1 customs, 2 carrier, 3 trader, 4 issuing body, 5 postal operator
    status: int  # 1 active, 2 suspended (0: not registered)
    country: str
    index: int
    admitted_at: int

    @property
    def registered(self) -> bool:
        return self.index != 0


@dataclass(frozen=True, slots=True)
class KeyInfo:
    key: ChecksumAddress
    org_id: bytes
    org_index: int
    kind: int
    status: int
    country: str
    valid_from: int
    valid_until: int
    revoked_at: int

    @property
    def known(self) -> bool:
        return self.org_id != ZERO32

    def valid_at(self, t: int) -> bool:
        """Whether the key may sign at time ``t`` (window covers t, not revoked by then)."""
        if not self.known or not self.valid_from <= t < self.valid_until:
            return False
        return self.revoked_at == 0 or t < self.revoked_at


@dataclass(frozen=True, slots=True)
class ProposalState:
    action: int
    approvals: int
    expires_at: int
    executed: bool


@dataclass(frozen=True, slots=True)
class ProposedAction:
    """A proposal as proposed (its ``ProposalCreated`` log): the message, who proposed it,
    where."""

    proposal: Proposal
    proposer: bytes
    block_number: int
    tx_hash: str


@dataclass(frozen=True, slots=True)
class ConsignmentState:
    consignment_id: bytes
    head: bytes  # bytes28
    event_count: int
    origin: str
    destination: str
    registrant: bytes
    consignor: bytes
    consignee: bytes
    registered_at: int

    @property
    def registered(self) -> bool:
        return self.head != bytes(28)


@dataclass(frozen=True, slots=True)
class CertificateState:
    certificate_id: bytes
    quantity: int
    drawn: int
    valid_from: int
    valid_until: int
    status: int  # 0 none, 1 issued, 2 revoked
    exporter: bytes
    origin: str
    destination: str
    record_hash: bytes  # bytes24: the top 192 bits of the issue record's struct hash
    issuer: bytes  # orgId of the issuing organisation

    @property
    def remaining(self) -> int:
        return self.quantity - self.drawn


@dataclass(frozen=True, slots=True)
class AttestationState:
    uid: bytes
    attester: bytes
    attested_at: int
    expires_at: int
    revoked_at: int


@dataclass(frozen=True, slots=True)
class Certification:
    certification_id: bytes
    administration: bytes
    operator_id: bytes
    programme: str
    valid_from: int
    valid_until: int
    status: int  # 1 active, 2 suspended, 3 revoked


@dataclass(frozen=True, slots=True)
class StatusChange:
    at: int
    status: int
    valid_from: int
    valid_until: int


@dataclass(frozen=True, slots=True)
class Mra:
    mra_id: bytes
    proposer: bytes
    counterpart: bytes
    scope: int
    valid_from: int
    valid_until: int
    proposed_at: int
    accepted_at: int
    terminated_at: int

    def in_force(self, t: int) -> bool:
        return (
            self.accepted_at != 0
            and self.accepted_at <= t
            and self.valid_from <= t < self.valid_until
            and (self.terminated_at == 0 or t < self.terminated_at)
        )


@dataclass(frozen=True, slots=True)
class Recognition:
    recognised: bool
    certification_id: bytes
    mra_id: bytes
