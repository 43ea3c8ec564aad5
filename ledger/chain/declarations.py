"""The Declarations contract's typed client: goods declarations lodged on chain.

Writes take signed :class:`~ledger.records.Declaration` records; reads return
:class:`DeclarationState`. The declared values themselves are not on chain: the record holds
their digest (:func:`~ledger.records.values_digest`), which :meth:`DeclarationState.matches`
compares with a record rebuilt from the stored values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ledger.chain.contracts import ContractClient
from ledger.chain.txmanager import Receipt
from ledger.records import Declaration, SignedRecord

__all__ = ["DeclarationState", "DeclarationsClient"]

ZERO32 = b"\0" * 32


@dataclass(frozen=True, slots=True)
class DeclarationState:
    """A declaration as the contract stores it (``declarant`` zero: none with that id)."""

    declaration_id: bytes
    declarant: bytes
    administration: bytes
    record_hash: bytes  # struct hash of the signed Declaration
    lodged_at: int
    recorded_at: int
    amended_by: bytes  # zero: not amended

    @property
    def exists(self) -> bool:
        return self.declarant != ZERO32

    def matches(self, record: Declaration) -> bool:
        """Whether ``record`` (e.g. rebuilt from stored values) is the one recorded."""
        return self.exists and record.struct_hash() == self.record_hash


class DeclarationsClient(ContractClient):
    NAME = "Declarations"

    def lodge(self, signed: SignedRecord[Declaration]) -> Receipt:
        return self.transact("lodge", *self._sign_args(signed))

    def lodge_batch(self, batch: Sequence[SignedRecord[Declaration]]) -> Receipt:
        return self.transact(
            "lodgeBatch", [s.record.onchain() for s in batch], [s.sig() for s in batch]
        )

    def declaration(self, declaration_id: bytes) -> DeclarationState:
        d = self.call("declaration", declaration_id)
        return DeclarationState(
            declaration_id,
            bytes(d["declarant"]),
            bytes(d["administration"]),
            bytes(d["recordHash"]),
            int(d["lodgedAt"]),
            int(d["recordedAt"]),
            bytes(d["amendedBy"]),
        )

    def declaration_id(self, declarant: bytes, declaration_ref: bytes) -> bytes:
        return bytes(self.call("declarationId", declarant, declaration_ref))

    def hash_declaration(self, record: Declaration) -> bytes:
        return bytes(self.call("hashDeclaration", record.onchain()))
