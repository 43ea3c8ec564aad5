"""Writing one range of logs: the rows of every log kind, the hash chain checked on the way.

:class:`_IndexWriter` is the part of :class:`~ledger.index.follower.Index` that turns the logs
of a block range (fetched and decoded by the follower, :mod:`ledger.index.logs`) into rows and
writes them with the new cursor in one database transaction. On the way it recomputes each
consignment's head (:mod:`ledger.index.heads`) and records a ``log_head_mismatch`` finding where
a log's head differs. Private to :mod:`ledger.index`.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, Engine, Table, delete, func, select

from ledger.index.codec import _hex, _text
from ledger.index.heads import ZERO28, event_digest, next_head, registration_digest
from ledger.index.logs import _domain_row, _HotEvent, _Log
from ledger.index.schema import (
    blocks,
    consignment_events,
    consignments,
    findings,
    raw_logs,
    state,
)

# The follower's logger: head mismatches are reported on it, whichever module finds them.
log = logging.getLogger("ledger.index.follower")

HEAD_CACHE_LIMIT = 200_000

_EVENT_COLUMNS = (
    "block_number",
    "log_index",
    "block_hash",
    "tx_hash",
    "block_time",
    "tx_index",
    "consignment_id",
    "seq",
    "org_id",
    "signer",
    "biz_step",
    "disposition",
    "location",
    "event_time",
    "container",
    "seal_digest",
    "documents_digest",
    "epcis_event_hash",
    "nonce",
    "deadline",
    "digest",
    "head",
    "emitted_head",
)
_ZERO11 = bytes(11)


def _consignor_state(conn: Connection, consignor: bytes) -> tuple[int, int, int]:
    """(block of the consignor's latest indexed registration, its registrations before that
    block, its registrations up to and including it); (-1, 0, 0) when it has none."""
    c = consignments.c
    latest = conn.execute(
        select(c.block_number, c.consignor_earlier)
        .where(c.consignor == consignor)
        .order_by(c.block_number.desc())
        .limit(1)
    ).first()
    if latest is None:
        return -1, 0, 0
    block = int(latest.block_number)
    in_block = select(func.count()).where(c.consignor == consignor, c.block_number == block)
    if latest.consignor_earlier is None:  # indexed before the count was kept: count them all
        upto = int(conn.execute(select(func.count()).where(c.consignor == consignor)).scalar_one())
        before = upto - int(conn.execute(in_block).scalar_one())
        return block, before, upto
    before = int(latest.consignor_earlier)
    return block, before, before + int(conn.execute(in_block).scalar_one())


class _IndexWriter:
    """Writes ranges of logs for :class:`~ledger.index.follower.Index` (a base class of it)."""

    engine: Engine
    keep_blocks: int
    _separator: bytes  # the Consignments domain's separator
    _heads: dict[bytes, tuple[bytes, int]]  # consignment -> (head, event count), a cache
    _compiled: dict[tuple[str, tuple[str, ...]], tuple[str, tuple[str, ...] | None]]

    def _write(
        self,
        cursor: int,
        end: int,
        end_hash: bytes,
        logs: list[_Log | _HotEvent],
        headers: Mapping[int, tuple[bytes, int]],
    ) -> int:
        """Write one range and the new cursor in one transaction; returns consignment events."""
        rows: dict[Any, list[dict[str, Any]]] = defaultdict(list)
        event_rows: list[tuple[Any, ...]] = []
        found: list[dict[str, Any]] = []
        n_events = 0
        with self.engine.begin() as conn:
            for entry in logs:
                if isinstance(entry, tuple):
                    event_rows.append(self._event_row(conn, entry, headers[entry[0]][1], found))
                    continue
                block_time = headers[entry.block_number][1]
                pos = {
                    "block_number": entry.block_number,
                    "log_index": entry.log_index,
                    "block_hash": entry.block_hash,
                    "tx_hash": entry.tx_hash,
                    "block_time": block_time,
                }
                table, row, consignment = self._row(conn, entry, found)
                if table is not None and row is not None:
                    row.update(pos)
                    rows[table].append(row)
                topics: list[bytes | None] = [*entry.topics, None, None, None]
                rows[raw_logs].append(
                    {
                        **pos,
                        "tx_index": entry.tx_index,
                        "address": entry.address,
                        "contract": entry.contract,
                        "event": entry.event,
                        "topic0": topics[0],
                        "topic1": topics[1],
                        "topic2": topics[2],
                        "topic3": topics[3],
                        "data": entry.data,
                        "consignment_id": consignment,
                    }
                )
            if rows.get(consignments):
                self._count_earlier(conn, rows[consignments])
            for table, table_rows in rows.items():
                if table is raw_logs:
                    self._bulk_insert(conn, table, table_rows)
                else:
                    conn.execute(table.insert(), table_rows)
            if event_rows:
                # The event row holds every bit of its log (raw_logs() rebuilds it): no raw copy
                # of the highest-volume log.
                self._bulk_insert_tuples(conn, consignment_events, _EVENT_COLUMNS, event_rows)
                n_events = len(event_rows)
            if found:
                conn.execute(findings.insert(), found)
            known = {number: h for number, (h, _) in headers.items()}
            conn.execute(
                blocks.insert(),
                [{"block_number": n, "block_hash": h} for n, h in sorted(known.items())],
            )
            conn.execute(delete(blocks).where(blocks.c.block_number < end - self.keep_blocks))
            conn.execute(
                state.update()
                .where(state.c.id == 1)
                .values(cursor_block=end, cursor_hash=end_hash, updated_at=int(time.time()))
            )
        if len(self._heads) > HEAD_CACHE_LIMIT:
            self._heads.clear()
        log.debug("indexed blocks %d..%d: %d logs", cursor + 1, end, len(logs))
        return n_events

    @staticmethod
    def _count_earlier(conn: Connection, registrations: list[dict[str, Any]]) -> None:
        """Set each new registration row's ``consignor_earlier``: the consignor's consignments
        in earlier blocks, those already indexed (all in blocks before this range) and those
        before it in this range. Found from the consignor's latest indexed registration (its
        count, plus the registrations in its block), counted only when that row predates the
        column. The count stays right for as long as the row exists: rows in earlier blocks
        are never added later (a reorg removes every row after the fork point, this one too).
        """
        # consignor -> (block of its latest registration, registrations before that block,
        # registrations up to and including it)
        known: dict[bytes, tuple[int, int, int]] = {}
        for row in registrations:  # chain order
            consignor, block = row["consignor"], row["block_number"]
            state = known.get(consignor)
            if state is None:
                state = _consignor_state(conn, consignor)
            latest, before, upto = state
            if block > latest:
                latest, before = block, upto
            row["consignor_earlier"] = before
            known[consignor] = (latest, before, upto + 1)

    def _bulk_insert(self, conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
        """executemany of a statement compiled once per dialect, without SQLAlchemy's per-row
        parameter processing (for the high-volume tables, whose values need no conversion)."""
        keys = tuple(rows[0])
        cached = self._compiled.get((table.name, keys))
        if cached is None:
            compiled = table.insert().compile(dialect=conn.dialect, column_keys=list(keys))
            order = tuple(compiled.positiontup or ()) if compiled.positional else None
            cached = self._compiled[(table.name, keys)] = (str(compiled), order)
        sql, order = cached
        if order is None:
            conn.exec_driver_sql(sql, rows)
        else:
            conn.exec_driver_sql(sql, [tuple(row[k] for k in order) for row in rows])

    def _bulk_insert_tuples(
        self,
        conn: Connection,
        table: Table,
        columns: tuple[str, ...],
        rows: list[tuple[Any, ...]],
    ) -> None:
        cached = self._compiled.get((table.name, columns))
        if cached is None:
            compiled = table.insert().compile(dialect=conn.dialect, column_keys=list(columns))
            order = tuple(compiled.positiontup or ()) if compiled.positional else None
            cached = self._compiled[(table.name, columns)] = (str(compiled), order)
        sql, order = cached
        if order is None:
            conn.exec_driver_sql(sql, [dict(zip(columns, row, strict=True)) for row in rows])
        elif order == columns:
            conn.exec_driver_sql(sql, rows)
        else:
            picks = [columns.index(name) for name in order]
            conn.exec_driver_sql(sql, [tuple(row[i] for i in picks) for row in rows])

    def _previous_head(self, conn: Connection, consignment_id: bytes) -> tuple[bytes, int] | None:
        cached = self._heads.get(consignment_id)
        if cached is not None:
            return cached
        row = conn.execute(
            select(consignment_events.c.head, consignment_events.c.seq)
            .where(consignment_events.c.consignment_id == consignment_id)
            .order_by(consignment_events.c.seq.desc())
            .limit(1)
        ).first()
        if row is not None:
            return bytes(row.head), int(row.seq)
        reg = conn.execute(
            select(consignments.c.head).where(consignments.c.consignment_id == consignment_id)
        ).first()
        return None if reg is None else (bytes(reg.head), 0)

    def _log_mismatch(
        self,
        found: list[dict[str, Any]],
        position: tuple[int, int],
        consignment_id: bytes,
        *,
        computed: bytes,
        emitted: bytes,
        detail: str,
    ) -> None:
        log.error(
            "head mismatch in the log stream: consignment %s at block %d log %d: recomputed "
            "%s, log says %s (%s)",
            _hex(consignment_id),
            position[0],
            position[1],
            _hex(computed),
            _hex(emitted),
            detail,
        )
        found.append(
            {
                "kind": "log_head_mismatch",
                "consignment_id": consignment_id,
                "block_number": position[0],
                "expected": emitted,
                "found": computed,
                "detail": detail,
                "recorded_at": int(time.time()),
            }
        )

    def _event_row(
        self,
        conn: Connection,
        hot: _HotEvent,
        block_time: int,
        found: list[dict[str, Any]],
    ) -> tuple[Any, ...]:
        """The row of a ConsignmentEventRecorded log (the hot path: decoded word by word, row
        as a tuple in ``_EVENT_COLUMNS`` order); checks the emitted head against the fold."""
        block_number, log_index, block_hash, tx_hash, tx_index, topics, data = hot
        cid = bytes.fromhex(topics[1][2:])
        meta = data[:32]
        seal, documents, epcis = data[32:64], data[64:96], data[96:128]
        emitted = data[128:156]
        seq = int.from_bytes(data[160:192], "big")
        digest = event_digest(
            self._separator,
            consignment_id=cid,
            meta=meta,
            seal_digest=seal,
            documents_digest=documents,
            epcis_event_hash=epcis,
        )
        org_id = bytes.fromhex(topics[2][2:])
        signer = bytes.fromhex(topics[3][26:])
        previous = self._previous_head(conn, cid)
        if previous is None:
            head = next_head(ZERO28, digest, org_id=org_id, signer=signer)
            self._log_mismatch(
                found,
                (block_number, log_index),
                cid,
                computed=head,
                emitted=emitted,
                detail="event for a consignment the index never saw registered",
            )
        else:
            head = next_head(previous[0], digest, org_id=org_id, signer=signer)
            if head != emitted or seq != previous[1] + 1:
                self._log_mismatch(
                    found,
                    (block_number, log_index),
                    cid,
                    computed=head,
                    emitted=emitted,
                    detail=f"event #{seq} after #{previous[1]}",
                )
        self._heads[cid] = (head, seq)
        container = meta[12:23]
        return (
            block_number,
            log_index,
            block_hash,
            bytes.fromhex(tx_hash[2:]),
            block_time,
            tx_index,
            cid,
            seq,
            org_id,
            signer,
            meta[0],
            meta[1],
            _text(meta[2:7]),
            int.from_bytes(meta[7:12], "big"),
            None if container == _ZERO11 else _text(container),
            seal,
            documents,
            epcis,
            int.from_bytes(meta[28:32], "big"),
            int.from_bytes(meta[23:28], "big"),
            digest,
            head,
            emitted,
        )

    def _row(  # one branch per event kind
        self, conn: Connection, entry: _Log, found: list[dict[str, Any]]
    ) -> tuple[Any, dict[str, Any] | None, bytes | None]:
        """The domain table and row for a log, and the consignment it concerns (if any)."""
        a = entry.args
        ev = entry.event
        if ev == "ConsignmentRegistered":
            cid = a["consignmentId"]
            digest = registration_digest(
                self._separator,
                reference_hash=a["referenceHash"],
                origin=a["origin"],
                destination=a["destination"],
                consignor=a["consignor"],
                consignee=a["consignee"],
                deadline=a["deadline"],
            )
            head = next_head(ZERO28, digest, org_id=a["registrant"], signer=a["signer"])
            if head != a["head"]:
                self._log_mismatch(
                    found,
                    (entry.block_number, entry.log_index),
                    cid,
                    computed=head,
                    emitted=a["head"],
                    detail="registration",
                )
            self._heads[cid] = (head, 0)
            return (
                consignments,
                {
                    "consignment_id": cid,
                    "registrant": a["registrant"],
                    "signer": a["signer"],
                    "reference_hash": a["referenceHash"],
                    "origin": _text(a["origin"]),
                    "destination": _text(a["destination"]),
                    "consignor": a["consignor"],
                    "consignee": a["consignee"],
                    "deadline": a["deadline"],
                    "digest": digest,
                    "head": head,
                    "emitted_head": a["head"],
                },
                cid,
            )
        return _domain_row(entry)
