"""EPCIS 2.0 event hashes, and the off-chain registry of item serials.

Item serials are not on chain. Events commit an ``epcisEventHash``; a claim may supply the
EPCIS events (JSON), which are hashed with :func:`epcis_event_hash` (the GS1 CBV 2.0 event
hash, :mod:`ledger.epcis`) and must match an on-chain event. Serials are
then compared through an optional :class:`SerialRegistry` (sightings ingested from
hash-matched EPCIS events, and brand owners' commissioning lists). It is only as complete as
what was fed into it; without it the serial checks are skipped
(:mod:`ledger.verify.checks.serials`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    select,
)

from ledger.epcis import EpcisError, event_hash_digest
from ledger.errors import InvalidClaim, VerificationError
from ledger.index import TimelineEvent
from ledger.verify.evidence import ZERO32

__all__ = ["SerialRegistry", "Sighting", "epcis_event_hash", "epcis_serials", "serial_class"]


_EPCIS_LISTS = ("epcList", "parentID", "childEPCs", "inputEPCList", "outputEPCList")
_EPCIS_SCALARS = ("action", "bizStep", "disposition")


def epcis_event_hash(event: Mapping[str, Any], context: Any = None) -> bytes:
    """The GS1 CBV 2.0 event hash of an EPCIS 2.0 event (JSON-LD form), as the 32 bytes a
    consignment event commits (``epcisEventHash``): :func:`ledger.epcis.event_hash_digest`.

    Raises :class:`~ledger.errors.InvalidClaim` for an event without ``eventTime`` (EPCIS 2.0
    requires it) or one the algorithm cannot read.
    """
    if not isinstance(event, Mapping) or "eventTime" not in event:
        raise InvalidClaim("EPCIS event: eventTime is required (EPCIS 2.0)")
    try:
        return event_hash_digest(event, context)
    except EpcisError as exc:
        raise InvalidClaim(f"EPCIS event: {exc}") from exc


def epcis_serials(event: Mapping[str, Any]) -> list[str]:
    """The item identifiers (EPCs) an EPCIS event names."""
    out: list[str] = []
    for name in ("epcList", "childEPCs", "inputEPCList", "outputEPCList"):
        value = event.get(name)
        if isinstance(value, list | tuple):
            out.extend(str(v) for v in value)
    return sorted(set(out))


def serial_class(serial: str) -> str:
    """The product class of an EPC: ``urn:epc:id:sgtin:CP.IR.SERIAL`` -> ``urn:...:CP.IR``."""
    head, _, _ = serial.rpartition(".")
    return head or serial


_serial_metadata = MetaData()
_sightings = Table(
    "verify_serial_sightings",
    _serial_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("serial", String(200), nullable=False, index=True),
    Column("consignment_id", String(66), nullable=False),
    Column("first_time", BigInteger, nullable=False),
    Column("last_time", BigInteger, nullable=False),
    Column("location", String(5), nullable=False),
    Column("tx_hash", String(66), nullable=False),
    Column("block_number", BigInteger, nullable=False),
    Column("log_index", Integer, nullable=False),
)
_commissions = Table(
    "verify_serial_commissions",
    _serial_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("serial", String(200), nullable=False, index=True),
    Column("serial_class", String(200), nullable=False, index=True),
    Column("brand_owner", String(66), nullable=False),
    Column("commissioned_at", BigInteger, nullable=False),
)


@dataclass(frozen=True, slots=True)
class Sighting:
    serial: str
    consignment_id: bytes
    first_time: int  # the consignment's journey window (first and last event times)
    last_time: int
    location: str  # where the EPCIS event that names the serial was recorded
    tx_hash: str
    block_number: int
    log_index: int


class SerialRegistry:
    """Off-chain table of item serials: where they were seen, and what brand owners commissioned.

    Sightings come only from EPCIS events whose hash matches an on-chain event
    (:meth:`ingest`), so each is bound to a signed record. Commissioning lists come from the
    brand owners (:meth:`commission`); a serial is "never commissioned" only when its product
    class has a list and the serial is not in it.
    """

    def __init__(self, engine_or_url: Engine | str) -> None:
        self.engine = (
            create_engine(engine_or_url) if isinstance(engine_or_url, str) else engine_or_url
        )
        _serial_metadata.create_all(self.engine)

    def commission(self, *, brand_owner: bytes, serials: Iterable[str], at: int) -> int:
        rows = [
            {
                "serial": s,
                "serial_class": serial_class(s),
                "brand_owner": "0x" + brand_owner.hex(),
                "commissioned_at": at,
            }
            for s in serials
        ]
        if rows:
            with self.engine.begin() as conn:
                conn.execute(_commissions.insert(), rows)
        return len(rows)

    def ingest(
        self, *, timeline: Sequence[TimelineEvent], epcis_events: Iterable[Mapping[str, Any]]
    ) -> int:
        """Record the serials of EPCIS events of one consignment (each must match an event of
        ``timeline`` by hash, else :class:`VerificationError`). Returns the sightings added."""
        if not timeline:
            raise VerificationError("a consignment with no events has no EPCIS events")
        by_hash = {e.epcis_event_hash: e for e in timeline if e.epcis_event_hash != ZERO32}
        first = min(e.event_time for e in timeline)
        last = max(e.event_time for e in timeline)
        rows: list[dict[str, Any]] = []
        for doc in epcis_events:
            event = by_hash.get(epcis_event_hash(doc))
            if event is None:
                raise VerificationError("an EPCIS event does not match any on-chain event hash")
            for serial in epcis_serials(doc):
                rows.append(
                    {
                        "serial": serial,
                        "consignment_id": "0x" + event.consignment_id.hex(),
                        "first_time": first,
                        "last_time": last,
                        "location": event.location,
                        "tx_hash": event.tx_hash,
                        "block_number": event.block_number,
                        "log_index": event.log_index,
                    }
                )
        if rows:
            with self.engine.begin() as conn:
                conn.execute(_sightings.insert(), rows)
        return len(rows)

    def sightings(self, serial: str) -> list[Sighting]:
        with self.engine.connect() as conn:
            return [
                Sighting(
                    r.serial,
                    bytes.fromhex(r.consignment_id[2:]),
                    r.first_time,
                    r.last_time,
                    r.location,
                    r.tx_hash,
                    r.block_number,
                    r.log_index,
                )
                for r in conn.execute(select(_sightings).where(_sightings.c.serial == serial))
            ]

    def commissioning(self, serial: str) -> bool | None:
        """True: commissioned; False: its class has a list without it; None: no list known."""
        with self.engine.connect() as conn:
            found = conn.execute(
                select(_commissions.c.id).where(_commissions.c.serial == serial).limit(1)
            ).first()
            if found is not None:
                return True
            listed = conn.execute(
                select(_commissions.c.id)
                .where(_commissions.c.serial_class == serial_class(serial))
                .limit(1)
            ).first()
        return False if listed is not None else None
