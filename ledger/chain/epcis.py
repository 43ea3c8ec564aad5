"""The typed client of ``EpcisCaptures``: EPCIS captures committed as Merkle roots.

Writes go through :meth:`ledger.chain.client.Ledger.submit` like every record
(:class:`~ledger.records.EpcisCapture` routes to ``commitCapture`` / ``commitCaptures``);
this client reads a commitment and checks an event's inclusion proof on chain.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from eth_utils.address import to_checksum_address

from ledger.chain.contracts import ContractClient
from ledger.chain.txmanager import Receipt
from ledger.records import EpcisCapture, SignedRecord

__all__ = ["CaptureCommitment", "EpcisCapturesClient"]


@dataclass(frozen=True, slots=True)
class CaptureCommitment:
    """A committed capture as the contract stores it."""

    capture_id: bytes
    root: bytes
    org_id: bytes
    signer: str
    captured_at: int
    event_count: int


class EpcisCapturesClient(ContractClient):
    NAME = "EpcisCaptures"

    def commit_capture(self, signed: SignedRecord[EpcisCapture]) -> Receipt:
        return self.transact("commitCapture", *self._sign_args(signed))

    def capture(self, capture_id: bytes) -> CaptureCommitment:
        """The commitment of ``capture_id`` (raises ``UnknownCapture`` if none)."""
        d = self.call("capture", capture_id)
        return CaptureCommitment(
            capture_id=capture_id,
            root=bytes(d["root"]),
            org_id=bytes(d["orgId"]),
            signer=to_checksum_address(str(d["signer"])),
            captured_at=int(d["capturedAt"]),
            event_count=int(d["eventCount"]),
        )

    def prove_event(self, capture_id: bytes, digest: bytes, proof: Sequence[bytes]) -> bool:
        """Whether the contract accepts ``proof`` for the event with hash ``digest``."""
        return bool(self.call("proveEvent", capture_id, digest, list(proof)))
