"""Evidence of index records, and the words and dates findings are written in.

Every finding names the on-chain records it rests on (transaction hash, block, log index and
record id): :func:`ev_event`, :func:`ev_registration`, :func:`ev_drawdown`,
:func:`ev_attestation` build that :class:`~ledger.verify.findings.Evidence` from the index's
records.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ledger.index import AttestationRecord, ConsignmentRecord, DrawdownRecord, TimelineEvent
from ledger.verify.findings import Evidence

__all__ = [
    "KIND_NAMES",
    "ZERO32",
    "date",
    "duration",
    "ev_attestation",
    "ev_drawdown",
    "ev_event",
    "ev_registration",
    "h",
]

ZERO32 = bytes(32)

#: Organisation kinds in words (Membership's kind codes).
KIND_NAMES = {
    1: "customs administration",
    2: "carrier",
    3: "trader",
    4: "issuing body",
    5: "postal operator",
}


def h(raw: bytes) -> str:
    return "0x" + raw.hex()


def date(t: int) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M UTC")


def duration(seconds: int) -> str:
    td = timedelta(seconds=abs(seconds))
    if td.days >= 2:
        return f"{td.days} days"
    hours = td.total_seconds() / 3600
    return f"{hours:.1f} hours"


def ev_event(e: TimelineEvent, note: str = "") -> Evidence:
    return Evidence(
        "event",
        f"{h(e.consignment_id)}#{e.seq}",
        e.tx_hash,
        e.block_number,
        e.log_index,
        note or f"event #{e.seq}: {e.biz_step} at {e.location} on {date(e.event_time)}",
    )


def ev_registration(c: ConsignmentRecord) -> Evidence:
    return Evidence(
        "registration",
        h(c.consignment_id),
        c.tx_hash,
        c.block_number,
        c.log_index,
        f"registered {c.origin} -> {c.destination}",
    )


def ev_drawdown(d: DrawdownRecord) -> Evidence:
    return Evidence(
        "drawdown",
        f"{h(d.certificate_id)}/{h(d.consignment_id)}",
        d.tx_hash,
        d.block_number,
        d.log_index,
        f"drew {d.quantity} for consignment {h(d.consignment_id)[:12]}...",
    )


def ev_attestation(a: AttestationRecord, note: str = "") -> Evidence:
    return Evidence("attestation", h(a.uid), a.tx_hash, a.block_number, a.log_index, note)
