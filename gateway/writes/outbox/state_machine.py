"""The outbox's state machine: the transitions of the submitter side, each one database
transaction (accepted -> submitted -> confirmed or failed, and back to accepted only when the
transaction can never be mined); the states are drawn in :mod:`gateway.writes.outbox`."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, bindparam, func, insert, select, update

from gateway.errors import Conflict
from gateway.models.stored import OutboxRecord, RecordKind, RecordStatus
from gateway.writes.outbox.protocol import Batch, BatchResult, RecordOutcome, SignedTx, TxState
from gateway.writes.outbox.rows import _accepted_record, _dt, _mined, _row_to_record
from gateway.writes.outbox.schema import (
    _FINAL,
    _LIVE,
    _MINED,
    _STATE_COLUMNS,
    _chunks,
    _select_records,
    _status,
    batches_table,
    records_table,
    states_table,
    txs_table,
)
from gateway.writes.outbox.store import OutboxStore

__all__ = ["FinalityBlock", "Outbox"]


def _batch_state(result: BatchResult) -> str:
    """The state a batch takes for the relayer's answer: ``final`` or ``mined`` (not final
    yet) for a mined one, else the answer's own name."""
    if result.state is TxState.MINED:
        return _FINAL if result.final else _MINED
    return result.state.value


@dataclass(frozen=True, slots=True)
class FinalityBlock:
    """A block that holds mined batches: its number and hash."""

    number: int
    hash: str


@dataclass(frozen=True, slots=True)
class _Ready:
    batches: list[tuple[RecordKind, list[OutboxRecord]]]
    next_deadline: float | None
    more: bool = False  # the scan was cut short: more accepted records wait behind these


class Outbox(OutboxStore):
    """The durable outbox in the gateway database (see :mod:`gateway.writes.outbox`): the
    store of :class:`~gateway.writes.outbox.store.OutboxStore` and the transitions of the
    submitter side."""

    def __init__(self, engine: Engine, *, clock: Callable[[], float] = time.time) -> None:
        self._live: dict[str, tuple[Batch, SignedTx]] = {}  # see live_batches
        # The accepted records of the last scan, by seq, with their state rows' values.
        self._accepted: dict[int, tuple[tuple[Any, ...], OutboxRecord]] = {}  # ready_batches
        super().__init__(engine, clock=clock)

    def ready_batches(
        self,
        *,
        max_size: int | Callable[[RecordKind], int],
        linger: float,
        scan_limit: int = 5_000,
    ) -> _Ready:
        """Accepted records packed into batches (one kind each, at most ``max_size``, which may
        be a function of the kind: the relayer's limit for it).

        Full batches are ready at once; a partial one when its oldest record has waited
        ``linger`` seconds. ``next_deadline`` is when the next partial batch becomes ready.
        Records marked ``isolate`` (their batch reverted) travel alone. The records of a
        signed event batch are one batch of their own, whole and in order, ready at once.
        """
        sc = states_table.c
        query = (
            select(*_STATE_COLUMNS)
            .where(sc.status == RecordStatus.ACCEPTED.value)
            .order_by(sc.seq)
            .limit(scan_limit)
        )
        with self._engine.connect() as conn:
            # A record waits here for a pass or more, and only its small state row changes:
            # each pass reads the state rows, and a record's written-once row is read (and
            # its payload parsed) once, the first time it is seen.
            states = conn.execute(query).all()
            known = self._accepted
            unseen = [row.seq for row in states if row.seq not in known]
            with self._handed_lock:
                handed = {seq: self._handed.pop(seq) for seq in unseen if seq in self._handed}
            if handed:
                known = {**known, **handed}
                unseen = [seq for seq in unseen if seq not in handed]
            data: dict[int, Any] = {}
            for chunk in _chunks(unseen):
                query = select(records_table).where(records_table.c.seq.in_(chunk))
                data.update((int(row.seq), row) for row in conn.execute(query))
        rows: list[OutboxRecord] = []
        waiting: dict[int, tuple[tuple[Any, ...], OutboxRecord]] = {}
        for state in states:
            values = tuple(state)
            seen = known.get(state.seq)
            if seen is None:
                record = _row_to_record(data[state.seq], state)
            elif seen[0] != values:
                record = _accepted_record(seen[1], state)
            else:
                record = seen[1]
            rows.append(record)
            waiting[state.seq] = (values, record)
        self._accepted = waiting
        now = self._clock()
        by_kind: dict[RecordKind, list[OutboxRecord]] = {}
        groups: dict[str, list[OutboxRecord]] = {}
        ready: list[tuple[RecordKind, list[OutboxRecord]]] = []
        for record in rows:
            if record.signed_batch is not None:
                groups.setdefault(record.signed_batch, []).append(record)
            elif record.isolate:
                ready.append((record.kind, [record]))
            else:
                by_kind.setdefault(record.kind, []).append(record)
        truncated = len(rows) == scan_limit
        for group in groups.values():
            # Stored in one transaction, a group's rows are consecutive; one cut by the scan
            # limit waits for the next pass.
            if truncated and group[-1].seq == rows[-1].seq:
                continue
            ready.append((group[0].kind, group))
        deadline: float | None = None
        for kind, records in by_kind.items():
            size = max(1, max_size(kind) if callable(max_size) else max_size)
            for start in range(0, len(records), size):
                chunk = records[start : start + size]
                due = chunk[0].created_at.timestamp() + linger
                if len(chunk) == size or due <= now:
                    ready.append((kind, chunk))
                else:
                    deadline = due if deadline is None else min(deadline, due)
        ready.sort(key=lambda item: item[1][0].seq)
        return _Ready(ready, deadline, more=truncated)

    def mark_submitted(self, batch: Batch, tx: SignedTx) -> None:
        """Store the signed transaction and move the batch's records to ``submitted``.

        One transaction: either the batch row exists and all its records point at it, or
        nothing changed. Raises :class:`Conflict` (and changes nothing) if any record is no
        longer ``accepted``.
        """
        now = self._clock()
        sc = states_table.c
        accepted = _status() == RecordStatus.ACCEPTED.value
        submitted = {
            "status": RecordStatus.SUBMITTED.value,
            "batch_id": batch.batch_id,
            "updated_at": now,
        }
        with self._engine.begin() as conn:
            conn.execute(
                insert(batches_table).values(
                    batch_id=batch.batch_id,
                    kind=batch.kind.value,
                    tx_hash=tx.tx_hash,
                    nonce=tx.nonce,
                    size=len(batch.records),
                    state=_LIVE,
                    broadcasts=0,
                    created_at=now,
                    updated_at=now,
                )
            )
            conn.execute(insert(txs_table).values(batch_id=batch.batch_id, raw_tx=tx.raw_tx))
            if batch.signed_batch is not None:
                # A signed batch is stored and moved whole: found by its id.
                whole = select(records_table.c.seq).where(
                    records_table.c.signed_batch == batch.signed_batch
                )
                moved = conn.execute(
                    update(states_table).where(sc.seq.in_(whole), accepted).values(**submitted)
                ).rowcount
            else:
                moved = 0
                for chunk in _chunks([r.seq for r in batch.records]):
                    moved += conn.execute(
                        update(states_table).where(sc.seq.in_(chunk), accepted).values(**submitted)
                    ).rowcount
            if moved != len(batch.records):
                raise Conflict(f"batch {batch.batch_id}: some records are no longer accepted")
        # Committed: the batch is live, and its records are what the update above wrote (the
        # guard saw every one still accepted as read), so live_batches need not read back a
        # thousand rows that were just written.
        at = _dt(now)
        records = tuple(
            dataclasses.replace(
                record,
                status=RecordStatus.SUBMITTED,
                batch_id=batch.batch_id,
                tx_hash=tx.tx_hash,
                updated_at=at,
            )
            for record in batch.records
        )
        self._live[batch.batch_id] = (Batch(batch.batch_id, batch.kind, records), tx)

    def isolate(self, record_ids: Sequence[str]) -> int:
        """Mark accepted records to travel alone (their batch could not be built); the
        records of a signed event batch cannot travel alone and are left as they are."""
        rc = records_table.c
        now = self._clock()
        changed = 0
        with self._engine.begin() as conn:
            for chunk in _chunks(list(record_ids)):
                alone = select(rc.seq).where(rc.record_id.in_(chunk), rc.signed_batch.is_(None))
                changed += conn.execute(
                    update(states_table)
                    .where(states_table.c.seq.in_(alone), _status() == RecordStatus.ACCEPTED.value)
                    .values(isolate=True, updated_at=now)
                ).rowcount
        return changed

    def fail_unsent(self, record_id: str, *, code: str, reason: str) -> OutboxRecord | None:
        """Fail an accepted record that can never be sent (nothing of it reached the chain).

        A record of a signed event batch fails with all of its batch: one signature covers
        them all, so none can be sent without it.
        """
        rc, sc = records_table.c, states_table.c
        now = self._clock()
        accepted = _status() == RecordStatus.ACCEPTED.value
        failed = {"status": RecordStatus.FAILED.value, "updated_at": now}
        with self._engine.begin() as conn:
            conn.execute(
                update(states_table)
                .where(sc.seq.in_(select(rc.seq).where(rc.record_id == record_id)), accepted)
                .values(**failed, error_code=code, error_reason=reason)
            )
            group: str | None = conn.execute(
                select(rc.signed_batch).where(rc.record_id == record_id)
            ).scalar()
            if group is not None:
                conn.execute(
                    update(states_table)
                    .where(sc.seq.in_(select(rc.seq).where(rc.signed_batch == group)), accepted)
                    .values(
                        **failed,
                        error_code=code,
                        error_reason=f"an event of its signed batch failed: {reason}",
                    )
                )
        return self.get(record_id)

    def note_broadcast(self, batch_id: str) -> None:
        """Count a re-send of the batch's stored transaction (``broadcasts``)."""
        with self._engine.begin() as conn:
            conn.execute(
                update(batches_table)
                .where(batches_table.c.batch_id == batch_id)
                .values(broadcasts=batches_table.c.broadcasts + 1, updated_at=self._clock())
            )

    def live_batches(self) -> list[tuple[Batch, SignedTx]]:
        """Stored transactions not yet known to be mined, reverted or dropped.

        A live batch's transaction and records do not change until :meth:`apply` ends it,
        so each is read once (a batch is a thousand records and a 200 kB transaction) and
        kept while it is live; every call asks the database which batches are live.
        """
        bc, sc = batches_table.c, states_table.c
        with self._engine.connect() as conn:
            live_ids = [
                str(row.batch_id)
                for row in conn.execute(
                    select(bc.batch_id).where(bc.state == _LIVE).order_by(bc.created_at)
                )
            ]
            for batch_id in live_ids:
                if batch_id in self._live:
                    continue
                row = conn.execute(
                    select(bc.kind, bc.tx_hash, bc.nonce, txs_table.c.raw_tx)
                    .select_from(batches_table.join(txs_table))
                    .where(bc.batch_id == batch_id)
                ).one()
                records = conn.execute(
                    _select_records()
                    .where(sc.batch_id == batch_id, _status() == RecordStatus.SUBMITTED.value)
                    .order_by(records_table.c.seq)
                ).all()
                batch = Batch(
                    batch_id, RecordKind(row.kind), tuple(_row_to_record(r) for r in records)
                )
                self._live[batch_id] = (batch, SignedTx(row.tx_hash, bytes(row.raw_tx), row.nonce))
        wanted = set(live_ids)
        for batch_id in [b for b in self._live if b not in wanted]:
            del self._live[batch_id]
        return [self._live[batch_id] for batch_id in live_ids]

    def apply(self, batch: Batch, result: BatchResult) -> list[OutboxRecord]:
        """Record the final fate of a batch transaction; returns the records it changed.

        ``PENDING`` and ``UNKNOWN`` change nothing (the caller waits or re-broadcasts).
        """
        if result.state in (TxState.PENDING, TxState.UNKNOWN):
            return []
        now = self._clock()
        sc = states_table.c
        in_batch = (sc.batch_id == batch.batch_id) & (_status() == RecordStatus.SUBMITTED.value)
        seqs = {record.record_id: record.seq for record in batch.records}
        with self._engine.begin() as conn:
            # The batch's state is its records' transaction and block: one small row.
            claimed = conn.execute(
                update(batches_table)
                .where(batches_table.c.batch_id == batch.batch_id, batches_table.c.state == _LIVE)
                .values(
                    state=_batch_state(result),
                    block_number=result.block_number,
                    block_hash=result.block_hash,
                    reason=result.reason,
                    updated_at=now,
                )
            ).rowcount
            if claimed != 1:
                return []
            if result.state is TxState.MINED:
                # One statement, executed for every record (executemany).
                params: list[dict[str, Any]] = []
                for record in batch.records:
                    outcome = result.outcomes.get(record.record_id, RecordOutcome())
                    params.append(
                        {
                            "record_seq": record.seq,
                            "new_status": (
                                RecordStatus.CONFIRMED if outcome.ok else RecordStatus.FAILED
                            ).value,
                            "new_log_index": outcome.log_index,
                            "new_code": None if outcome.ok else outcome.code or "rejected",
                            "new_reason": (
                                None if outcome.ok else outcome.reason or "rejected by the contract"
                            ),
                        }
                    )
                conn.execute(
                    update(states_table)
                    .where(in_batch, sc.seq == bindparam("record_seq"))
                    .values(
                        status=bindparam("new_status"),
                        log_index=bindparam("new_log_index"),
                        error_code=func.coalesce(bindparam("new_code"), sc.error_code),
                        error_reason=func.coalesce(bindparam("new_reason"), sc.error_reason),
                        updated_at=now,
                    ),
                    params,
                )
            elif result.state is TxState.REVERTED:
                # Nothing of a reverted batch is on chain. The items the relayer blames
                # (BatchItemFailed(index, reason)) fail; the others go back to be batched again.
                # With no culprit named, a lone record fails and several are retried one by one.
                # A signed event batch is one unit: it fails as a whole, or goes back whole.
                culprits = {rid for rid, o in result.outcomes.items() if not o.ok}
                culprits &= set(batch.record_ids)
                whole = batch.signed_batch is not None
                if not culprits and (len(batch.records) <= 1 or whole) and result.isolate:
                    culprits = set(batch.record_ids)
                blamed = next(iter(culprits), None)
                if whole and blamed is not None:
                    culprits = set(batch.record_ids)
                for record_id in culprits:
                    outcome = result.outcomes.get(
                        record_id, result.outcomes.get(blamed or "", RecordOutcome(ok=False))
                    )
                    # A failed record stays in the batch: its block is the batch's.
                    conn.execute(
                        update(states_table)
                        .where(in_batch, sc.seq == seqs[record_id])
                        .values(
                            status=RecordStatus.FAILED.value,
                            error_code=outcome.code or "reverted",
                            error_reason=outcome.reason or result.reason or "transaction reverted",
                            updated_at=now,
                        )
                    )
                requeue: dict[str, Any] = {
                    "status": RecordStatus.ACCEPTED.value,
                    "batch_id": None,
                    "attempts": sc.attempts + 1,
                    "updated_at": now,
                }
                if not culprits and result.isolate and not whole:
                    requeue["isolate"] = True
                conn.execute(update(states_table).where(in_batch).values(**requeue))
            else:  # DROPPED: the transaction can never be mined; none of it is on chain
                conn.execute(
                    update(states_table)
                    .where(in_batch)
                    .values(
                        status=RecordStatus.ACCEPTED.value,
                        batch_id=None,
                        attempts=sc.attempts + 1,
                        updated_at=now,
                    )
                )
            known = result.state is TxState.MINED and all(
                r.status is RecordStatus.SUBMITTED and r.batch_id == batch.batch_id
                for r in batch.records
            )
            changed: list[Any] = []
            if not known:
                for chunk in _chunks(list(seqs.values())):
                    changed += conn.execute(
                        _select_records()
                        .where(records_table.c.seq.in_(chunk))
                        .order_by(records_table.c.seq)
                    ).all()
        self._live.pop(batch.batch_id, None)
        if known:
            # What the update above wrote, from the batch's records as stored (submitted,
            # from live_batches): a mined batch is a thousand rows, not read back.
            return [_mined(record, result, now) for record in batch.records]
        return [_row_to_record(row) for row in changed]

    # --- finality -----------------------------------------------------------------------

    def unfinal_blocks(self, limit: int = 256) -> list[FinalityBlock]:
        """The blocks that hold mined batches not final yet, oldest first."""
        bc = batches_table.c
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(bc.block_number, bc.block_hash)
                .where(bc.state == _MINED)
                .group_by(bc.block_number, bc.block_hash)
                .order_by(bc.block_number)
                .limit(limit)
            ).all()
        return [FinalityBlock(int(r.block_number), str(r.block_hash)) for r in rows]

    def final_blocks(self, *, at_most: int | None = None, limit: int = 64) -> list[FinalityBlock]:
        """The blocks that hold final batches, newest first (at or below ``at_most``)."""
        bc = batches_table.c
        query = select(bc.block_number, bc.block_hash).where(bc.state == _FINAL)
        if at_most is not None:
            query = query.where(bc.block_number <= at_most)
        with self._engine.connect() as conn:
            rows = conn.execute(
                query.group_by(bc.block_number, bc.block_hash)
                .order_by(bc.block_number.desc())
                .limit(limit)
            ).all()
        return [FinalityBlock(int(r.block_number), str(r.block_hash)) for r in rows]

    def mark_final(self, block: FinalityBlock) -> int:
        """The mined batches of ``block`` are final; returns how many."""
        bc = batches_table.c
        with self._engine.begin() as conn:
            return int(
                conn.execute(
                    update(batches_table)
                    .where(
                        bc.state == _MINED,
                        bc.block_number == block.number,
                        bc.block_hash == block.hash,
                    )
                    .values(state=_FINAL, updated_at=self._clock())
                ).rowcount
            )

    def unfinalize_above(self, block_number: int) -> int:
        """Final batches in blocks after ``block_number`` are checked again (``mined``): the
        chain went back below them (a node that lost its last blocks). Returns how many."""
        bc = batches_table.c
        with self._engine.begin() as conn:
            return int(
                conn.execute(
                    update(batches_table)
                    .where(bc.state == _FINAL, bc.block_number > block_number)
                    .values(state=_MINED, updated_at=self._clock())
                ).rowcount
            )

    def reopen(self, block: FinalityBlock) -> list[str]:
        """The batches mined in ``block``, which is no longer on the chain, are live again:
        their records go back to ``submitted`` (a record confirmed, or refused by the contract,
        in that block was not, after all), and the submitter follows their stored
        transactions as any other (the same bytes are sent again if the node lost them; a
        transaction whose nonce another one took is dropped and its records batched again).
        Returns the batch ids."""
        bc, sc = batches_table.c, states_table.c
        now = self._clock()
        with self._engine.begin() as conn:
            batch_ids = [
                str(row.batch_id)
                for row in conn.execute(
                    select(bc.batch_id).where(
                        bc.state.in_((_MINED, _FINAL)),
                        bc.block_number == block.number,
                        bc.block_hash == block.hash,
                    )
                )
            ]
            for chunk in _chunks(batch_ids):
                conn.execute(
                    update(batches_table)
                    .where(bc.batch_id.in_(chunk), bc.state.in_((_MINED, _FINAL)))
                    .values(state=_LIVE, block_number=None, block_hash=None, updated_at=now)
                )
                conn.execute(
                    update(states_table)
                    .where(
                        sc.batch_id.in_(chunk),
                        _status().in_((RecordStatus.CONFIRMED.value, RecordStatus.FAILED.value)),
                    )
                    .values(
                        status=RecordStatus.SUBMITTED.value,
                        log_index=None,
                        error_code=None,
                        error_reason=None,
                        updated_at=now,
                    )
                )
        for batch_id in batch_ids:
            self._live.pop(batch_id, None)
        return batch_ids
