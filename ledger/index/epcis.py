"""Captured EPCIS 2.0 documents, their events, and where each serial and logistic unit was.

Off chain, beside the log index (same database): a capture's document is kept whole as it was
received (extensions, ILMD, sensor data and all), with one row per event for the standard's
simple queries and one row per EPC an event names. The chain holds only each capture's Merkle
root (``EpcisCaptures``); every event row carries its hash digest and its position, so an
inclusion proof is rebuilt from the capture's rows (:meth:`EpcisStore.proof`).

Everything here is derived from the stored documents: :meth:`EpcisStore.rebuild` drops the
event and EPC rows and reads them again from the documents.

Sightings (:meth:`EpcisStore.sightings`) answer "where was this serial, or this container,
when, and in what": an EPC's events, with the parent it was aggregated into at that time
(aggregation ``ADD``/``OBSERVE`` puts children in a parent, ``DELETE`` takes them out).
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Engine,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    and_,
    delete,
    exists,
    or_,
    select,
)
from sqlalchemy.sql.elements import ColumnElement

from ledger.epcis import document_events
from ledger.epcis.events import EventSummary, canonical_epc, exact_json, summarise
from ledger.epcis.merkle import MerkleTree

__all__ = [
    "COMMISSIONING",
    "CaptureRow",
    "EpcisStore",
    "EventQuery",
    "EventRow",
    "Sighting",
    "epcis_store",
]

COMMISSIONING = "https://ref.gs1.org/cbv/BizStep-commissioning"

epcis_metadata = MetaData()

epcis_captures = Table(
    "epcis_captures",
    epcis_metadata,
    Column("capture_id", String(66), primary_key=True),  # 0x-hex bytes32
    Column("org_id", String(66), nullable=False),
    Column("record_id", String(66), nullable=False),  # the outbox record that commits it
    Column("root", LargeBinary(32), nullable=False),
    Column("event_count", Integer, nullable=False),
    Column("captured_at", BigInteger, nullable=False),  # unix seconds
    Column("document", Text, nullable=False),  # the document as received (JSON)
)

epcis_events = Table(
    "epcis_events",
    epcis_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("capture_id", String(66), nullable=False, index=True),
    Column("position", Integer, nullable=False),  # index in the capture's eventList
    Column("event_id", String(512), nullable=True, index=True),
    Column("hash_id", String(100), nullable=False, index=True),
    Column("digest", LargeBinary(32), nullable=False),
    Column("event_type", String(40), nullable=False),
    Column("event_time", BigInteger, nullable=False, index=True),  # UTC milliseconds
    Column("action", String(10), nullable=True),
    Column("biz_step", String(300), nullable=True),
    Column("disposition", String(300), nullable=True),
    Column("read_point", String(512), nullable=True),
    Column("biz_location", String(512), nullable=True),
    Column("biz_transactions", Text, nullable=False),  # JSON list
    Column("org_id", String(66), nullable=False),
)

epcis_event_epcs = Table(
    "epcis_event_epcs",
    epcis_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_row", Integer, nullable=False, index=True),
    Column("role", String(8), nullable=False),  # epc, child, input, output, parent
    Column("epc", String(512), nullable=False),
    Index("ix_epcis_event_epcs_epc", "epc", "role"),
)


def _dumps(document: Mapping[str, Any]) -> str:
    # Numbers read as Decimal are written back exactly (a float could change a hash id).
    return exact_json(document)


@dataclass(frozen=True, slots=True)
class CaptureRow:
    capture_id: str
    org_id: str
    record_id: str
    root: bytes
    event_count: int
    captured_at: int
    document: dict[str, Any]


@dataclass(frozen=True, slots=True)
class EventRow:
    row: int  # the store's own row number (paging)
    capture_id: str
    position: int
    event_id: str | None
    hash_id: str
    digest: bytes
    event_type: str
    event_time: int
    org_id: str
    event: dict[str, Any]  # the event as captured


@dataclass(frozen=True)
class EventQuery:
    """The EPCIS 2.0 simple query parameters that the store answers (all optional, ANDed).

    Values of ``EQ_bizStep``, ``EQ_disposition`` and EPCs must be canonical (the caller
    canonicalises them: :func:`ledger.epcis.events.canonical_term`, ``canonical_epc``).
    """

    event_types: Sequence[str] = ()
    ge_event_time: int | None = None  # UTC ms, inclusive
    lt_event_time: int | None = None  # UTC ms, exclusive
    biz_steps: Sequence[str] = ()
    dispositions: Sequence[str] = ()
    match_epc: Sequence[str] = ()  # epcList and childEPCs
    match_any_epc: Sequence[str] = ()  # every role
    biz_locations: Sequence[str] = ()
    read_points: Sequence[str] = ()
    after_row: int = 0  # paging: rows after this one
    limit: int = 100


@dataclass(frozen=True, slots=True)
class Sighting:
    """An EPC named by a captured event: where, when, in what, by whom."""

    epc: str
    role: str
    event_time: int  # UTC ms
    hash_id: str
    capture_id: str
    org_id: str
    biz_step: str | None
    biz_location: str | None
    read_point: str | None
    action: str | None
    event_type: str
    parent: str | None  # the logistic unit it was in (aggregation parent), if known
    biz_transactions: tuple[str, ...]


class EpcisStore:
    """The captures table set on the index database (SQLite or PostgreSQL)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        epcis_metadata.create_all(engine)

    # -------------------------------------------------------------- writes

    def add_capture(
        self,
        *,
        capture_id: str,
        org_id: str,
        record_id: str,
        captured_at: int,
        document: Mapping[str, Any],
    ) -> CaptureRow:
        """Store a validated document as capture ``capture_id`` (a repeat is a no-op)."""
        existing = self.capture(capture_id)
        if existing is not None:
            return existing
        events = document_events(document)
        summaries = summarise(events, document.get("@context"))
        tree = MerkleTree.of_digests([s.digest for s in summaries])
        text = _dumps(document)
        with self.engine.begin() as conn:
            conn.execute(
                epcis_captures.insert(),
                {
                    "capture_id": capture_id,
                    "org_id": org_id,
                    "record_id": record_id,
                    "root": tree.root,
                    "event_count": len(summaries),
                    "captured_at": captured_at,
                    "document": text,
                },
            )
            self._insert_events(conn, capture_id, org_id, summaries)
        stored = self.capture(capture_id)
        assert stored is not None
        return stored

    def _insert_events(
        self, conn: Any, capture_id: str, org_id: str, summaries: Sequence[EventSummary]
    ) -> None:
        first = conn.execute(
            select(epcis_events.c.id).order_by(epcis_events.c.id.desc()).limit(1)
        ).scalar()
        rows = [
            {
                "capture_id": capture_id,
                "position": s.index,
                "event_id": s.event_id,
                "hash_id": s.hash_id,
                "digest": s.digest,
                "event_type": s.event_type,
                "event_time": s.event_time,
                "action": s.action,
                "biz_step": s.biz_step,
                "disposition": s.disposition,
                "read_point": s.read_point,
                "biz_location": s.biz_location,
                "biz_transactions": json.dumps(list(s.biz_transactions)),
                "org_id": org_id,
            }
            for s in summaries
        ]
        if not rows:
            return
        conn.execute(epcis_events.insert(), rows)
        ids = conn.execute(
            select(epcis_events.c.id, epcis_events.c.position)
            .where(epcis_events.c.capture_id == capture_id)
            .where(epcis_events.c.id > (first or 0))
        ).all()
        by_position = {position: row_id for row_id, position in ids}
        epc_rows = [
            {"event_row": by_position[s.index], "role": role, "epc": epc}
            for s in summaries
            for role, epc in s.epcs
        ]
        if epc_rows:
            conn.execute(epcis_event_epcs.insert(), epc_rows)

    def rebuild(self) -> int:
        """Drop every event and EPC row and read them again from the stored documents."""
        with self.engine.begin() as conn:
            conn.execute(delete(epcis_event_epcs))
            conn.execute(delete(epcis_events))
            count = 0
            for row in conn.execute(select(epcis_captures)).all():
                document = json.loads(row.document, parse_float=Decimal)
                summaries = summarise(document_events(document), document.get("@context"))
                self._insert_events(conn, row.capture_id, row.org_id, summaries)
                count += len(summaries)
        return count

    # -------------------------------------------------------------- reads

    def capture(self, capture_id: str) -> CaptureRow | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(epcis_captures).where(epcis_captures.c.capture_id == capture_id)
            ).first()
        if row is None:
            return None
        return CaptureRow(
            row.capture_id,
            row.org_id,
            row.record_id,
            bytes(row.root),
            row.event_count,
            row.captured_at,
            json.loads(row.document, parse_float=Decimal),
        )

    def capture_by_record(self, record_id: str) -> CaptureRow | None:
        with self.engine.connect() as conn:
            capture_id = conn.execute(
                select(epcis_captures.c.capture_id).where(epcis_captures.c.record_id == record_id)
            ).scalar()
        return None if capture_id is None else self.capture(capture_id)

    def _event_rows(
        self, where: ColumnElement[bool], *, limit: int | None = None
    ) -> list[EventRow]:
        stmt = (
            select(epcis_events, epcis_captures.c.document)
            .join(epcis_captures, epcis_captures.c.capture_id == epcis_events.c.capture_id)
            .where(where)
            .order_by(epcis_events.c.id)
        )
        if limit is not None:
            stmt = stmt.limit(limit)
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        documents: dict[str, list[Mapping[str, Any]]] = {}
        out: list[EventRow] = []
        for r in rows:
            if r.capture_id not in documents:
                documents[r.capture_id] = document_events(
                    json.loads(r.document, parse_float=Decimal)
                )
            out.append(
                EventRow(
                    row=r.id,
                    capture_id=r.capture_id,
                    position=r.position,
                    event_id=r.event_id,
                    hash_id=r.hash_id,
                    digest=bytes(r.digest),
                    event_type=r.event_type,
                    event_time=r.event_time,
                    org_id=r.org_id,
                    event=dict(documents[r.capture_id][r.position]),
                )
            )
        return out

    def query(self, q: EventQuery) -> list[EventRow]:
        """Events matching ``q`` in capture order, at most ``q.limit`` after ``q.after_row``."""
        e = epcis_events.c
        clauses: list[ColumnElement[bool]] = [e.id > q.after_row]
        if q.event_types:
            clauses.append(e.event_type.in_(list(q.event_types)))
        if q.ge_event_time is not None:
            clauses.append(e.event_time >= q.ge_event_time)
        if q.lt_event_time is not None:
            clauses.append(e.event_time < q.lt_event_time)
        if q.biz_steps:
            clauses.append(e.biz_step.in_(list(q.biz_steps)))
        if q.dispositions:
            clauses.append(e.disposition.in_(list(q.dispositions)))
        if q.biz_locations:
            clauses.append(e.biz_location.in_(list(q.biz_locations)))
        if q.read_points:
            clauses.append(e.read_point.in_(list(q.read_points)))
        x = epcis_event_epcs.c
        if q.match_epc:
            clauses.append(
                exists().where(
                    and_(
                        x.event_row == e.id,
                        x.role.in_(["epc", "child"]),
                        x.epc.in_([canonical_epc(v) for v in q.match_epc]),
                    )
                )
            )
        if q.match_any_epc:
            clauses.append(
                exists().where(
                    and_(
                        x.event_row == e.id,
                        x.epc.in_([canonical_epc(v) for v in q.match_any_epc]),
                    )
                )
            )
        return self._event_rows(and_(*clauses), limit=q.limit)

    def events_by_id(self, event_id: str) -> list[EventRow]:
        """Events whose document eventID, or CBV 2.0 hash id, is ``event_id``."""
        return self.events_by_ids([event_id])

    def events_by_ids(self, event_ids: Sequence[str]) -> list[EventRow]:
        """Events whose document eventID, or CBV 2.0 hash id, is one of ``event_ids``, in
        capture order (one query per 500 ids)."""
        e = epcis_events.c
        wanted = sorted(set(event_ids))
        found: dict[int, EventRow] = {}
        for i in range(0, len(wanted), 500):
            chunk = wanted[i : i + 500]
            for row in self._event_rows(or_(e.event_id.in_(chunk), e.hash_id.in_(chunk))):
                found[row.row] = row
        return [found[k] for k in sorted(found)]

    def events_for_reference(
        self, reference: str, *, containers: Sequence[str] = ()
    ) -> list[EventRow]:
        """Events that concern a consignment: a business transaction whose id is ``reference``
        (or ends in ``/reference`` or ``:reference``, as a URI carrying it does), or an EPC
        that is one of ``containers``; in capture order."""
        ref = reference.strip()

        def names_reference(row: EventRow) -> bool:
            for t in row.event.get("bizTransactionList") or ():
                value = str(t.get("bizTransaction", "")).strip() if isinstance(t, Mapping) else ""
                if value == ref or value.endswith(("/" + ref, ":" + ref)):
                    return True
            return False

        e, x = epcis_events.c, epcis_event_epcs.c
        found = {r.row: r for r in self._event_rows(e.biz_transactions.contains(ref))}
        found = {k: r for k, r in found.items() if names_reference(r)}
        if containers:
            wanted = [canonical_epc(c) for c in containers]
            for r in self._event_rows(exists().where(and_(x.event_row == e.id, x.epc.in_(wanted)))):
                found[r.row] = r
        return [found[k] for k in sorted(found)]

    def capture_events(self, capture_id: str) -> list[EventRow]:
        return self._event_rows(epcis_events.c.capture_id == capture_id)

    def proof(self, capture_id: str, position: int) -> list[bytes]:
        """The inclusion proof of event ``position`` of a capture (for ``proveEvent``)."""
        with self.engine.connect() as conn:
            digests: list[bytes] = [
                bytes(row.digest)
                for row in conn.execute(
                    select(epcis_events.c.digest)
                    .where(epcis_events.c.capture_id == capture_id)
                    .order_by(epcis_events.c.position)
                ).all()
            ]
        return MerkleTree.of_digests(digests).proof(position)

    def sightings(self, epc: str) -> list[Sighting]:
        """Every captured event naming ``epc`` (any role), oldest first, with the logistic
        unit it was in at that time (the latest aggregation ADD/OBSERVE not undone by a
        DELETE before it)."""
        wanted = canonical_epc(epc)
        return list(self._sightings(wanted))

    def _sightings(self, epc: str) -> Iterator[Sighting]:
        e, x = epcis_events.c, epcis_event_epcs.c
        stmt = (
            select(e.id, x.role, e.event_time, e.hash_id, e.capture_id, e.org_id, e.biz_step)
            .add_columns(e.biz_location, e.read_point, e.action, e.event_type, e.biz_transactions)
            .join(epcis_event_epcs, x.event_row == e.id)
            .where(x.epc == epc)
            .order_by(e.event_time, e.id)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
            parents: dict[int, str] = {
                row.event_row: row.epc
                for row in conn.execute(
                    select(x.event_row, x.epc)
                    .where(x.role == "parent")
                    .where(x.event_row.in_([r.id for r in rows if r.role == "child"]))
                ).all()
            }
        current: str | None = None
        for r in rows:
            if r.role == "child" and r.event_type == "AggregationEvent":
                parent = parents.get(r.id)
                current = None if r.action == "DELETE" else parent
                inside = parent
            else:
                inside = current if r.role != "parent" else None
            yield Sighting(
                epc=epc,
                role=r.role,
                event_time=r.event_time,
                hash_id=r.hash_id,
                capture_id=r.capture_id,
                org_id=r.org_id,
                biz_step=r.biz_step,
                biz_location=r.biz_location,
                read_point=r.read_point,
                action=r.action,
                event_type=r.event_type,
                parent=inside,
                biz_transactions=tuple(json.loads(r.biz_transactions)),
            )

    def commissioning(self, epc: str) -> bool | None:
        """Whether a captured commissioning event (bizStep commissioning) made ``epc``: the
        brand owners' commissioning events are the registry of genuine serials. ``None`` when
        no serial of its product class (the same GTIN) was ever commissioned here, so there is
        no registry to judge by; ``False`` when the class has one without this serial."""
        wanted = canonical_epc(epc)
        e, x = epcis_events.c, epcis_event_epcs.c
        base = (
            select(e.id)
            .join(epcis_event_epcs, x.event_row == e.id)
            .where(x.role.in_(["epc", "output"]))
            .where(e.biz_step == COMMISSIONING)
        )
        with self.engine.connect() as conn:
            if conn.execute(base.where(x.epc == wanted).limit(1)).first() is not None:
                return True
            product, marker, _ = wanted.partition("/21/")
            if not marker:
                return None
            listed = conn.execute(base.where(x.epc.startswith(product + "/21/")).limit(1)).first()
        return False if listed is not None else None


_STORES: weakref.WeakKeyDictionary[Engine, EpcisStore] = weakref.WeakKeyDictionary()


def epcis_store(engine: Engine) -> EpcisStore:
    """The store on ``engine`` (one per engine; its tables are made once)."""
    store = _STORES.get(engine)
    if store is None:
        store = _STORES[engine] = EpcisStore(engine)
    return store
