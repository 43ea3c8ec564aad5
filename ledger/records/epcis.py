"""The EPCIS capture record: one signed Merkle root over a capture's events (``EpcisCaptures``).

A capture of an EPCIS 2.0 document is committed as ``Capture(captureId, root, eventCount,
capturedAt, deadline)``: ``root`` is the Merkle root over its events' CBV 2.0 hash digests
(:mod:`ledger.epcis.merkle`), ``captureId`` the capture's unique id (committed once: the replay
guard), ``capturedAt`` the organisation's capture time (the signer's key must be valid then).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ledger.records.record import Record

__all__ = ["EpcisCapture"]


@dataclass(frozen=True, slots=True, kw_only=True)
class EpcisCapture(Record):
    CONTRACT: ClassVar[str] = "EpcisCaptures"
    PRIMARY_TYPE: ClassVar[str] = "Capture"
    FIELDS: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("capture_id", "captureId", "bytes32"),
        ("root", "root", "bytes32"),
        ("event_count", "eventCount", "uint32"),
        ("captured_at", "capturedAt", "uint40"),
        ("deadline", "deadline", "uint40"),
    )
    capture_id: bytes
    root: bytes
    event_count: int
    captured_at: int
    deadline: int

    def record_time(self) -> int:
        return self.captured_at
