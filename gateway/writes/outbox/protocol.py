"""What passes between the outbox and its relayer: batches, signed transactions, their fate.

:class:`Relayer` is the protocol the ledger implements
(:class:`gateway.writes.relayer.ContractRelayer`); its duties are in :mod:`gateway.writes.outbox`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol, runtime_checkable

from gateway.models.stored import OutboxRecord, RecordKind

__all__ = [
    "Batch",
    "BatchResult",
    "BlockState",
    "RecordOutcome",
    "Relayer",
    "SignedTx",
    "TxState",
]


class TxState(StrEnum):
    """What the relayer knows about a stored batch transaction."""

    PENDING = "pending"  # known to the node, not mined yet: wait
    MINED = "mined"  # mined and successful: per-record outcomes (``final`` at finality depth)
    REVERTED = "reverted"  # mined and reverted: no effect on chain
    UNKNOWN = "unknown"  # not mined, not known to the node: broadcast the same tx again
    DROPPED = "dropped"  # provably never minable (its nonce was used by another tx)


class BlockState(StrEnum):
    """Where a block that holds mined batches stands on the node's chain now."""

    FINAL = "final"  # on the chain, buried under the network's finality depth
    UNFINAL = "unfinal"  # on the chain, not deep enough yet
    REPLACED = "replaced"  # no longer on the chain: another block (or none) has its number


@dataclass(frozen=True, slots=True)
class Batch:
    """Records of one kind that travel in one transaction."""

    batch_id: str
    kind: RecordKind
    records: tuple[OutboxRecord, ...]

    @property
    def record_ids(self) -> tuple[str, ...]:
        return tuple(r.record_id for r in self.records)

    @property
    def signed_batch(self) -> str | None:
        """The signed event batch these records are (all of it), or None."""
        return self.records[0].signed_batch if self.records else None


@dataclass(frozen=True, slots=True)
class SignedTx:
    """A signed, not necessarily broadcast, transaction: stored before it is sent."""

    tx_hash: str
    raw_tx: bytes
    nonce: int | None = None


@dataclass(frozen=True, slots=True)
class RecordOutcome:
    """What the mined transaction did with one record (default: accepted, log index unknown)."""

    ok: bool = True
    log_index: int | None = None
    code: str | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class BatchResult:
    """The relayer's answer about a batch transaction."""

    state: TxState
    block_number: int | None = None
    block_hash: str | None = None
    outcomes: Mapping[str, RecordOutcome] = field(default_factory=dict)
    reason: str | None = None
    isolate: bool = True
    """``REVERTED`` with no record blamed: send the records alone next (the default), or,
    when False (the transaction ran out of gas: no record's fault), batch them again."""
    final: bool = True
    """``MINED``: whether the block is at the network's finality (buried under the
    ``confirmations`` it needs). A mined batch that is not final yet is checked again until
    it is, and taken back if its block is replaced."""


@runtime_checkable
class Relayer(Protocol):
    """Sends batches of signed records to the chain (implemented by the ledger).

    Three steps instead of one ``relay(batch)`` call, because the outbox has to store the
    signed transaction between signing and sending (see :mod:`gateway.writes.outbox`).
    """

    def sign(self, batch: Batch) -> SignedTx:
        """Build and sign the batch transaction; no effect on the chain."""
        ...

    def broadcast(self, batch: Batch, tx: SignedTx) -> None:
        """Send ``tx`` (idempotent: sending the same signed transaction again is harmless)."""
        ...

    def receipt(self, batch: Batch, tx: SignedTx) -> BatchResult:
        """Where ``tx`` is: pending, mined (per-record outcomes, final or not yet), reverted,
        unknown, dropped."""
        ...

    def block_state(self, block_number: int, block_hash: str) -> BlockState:
        """Whether the block ``block_hash`` at ``block_number`` is final, on the chain but not
        final yet, or replaced."""
        ...
