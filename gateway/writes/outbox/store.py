"""The outbox's store: opening the database (upgrading an older outbox), storing records
durably and once, and the lookups of the API side."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Self

from sqlalchemy import Engine, func, insert, literal, or_, select
from sqlalchemy.exc import IntegrityError

from gateway.db import create_gateway_engine
from gateway.errors import GatewayError, IdempotencyConflict, PermissionDenied
from gateway.models.stored import AcceptResult, NewRecord, OutboxRecord, RecordKind, RecordStatus
from gateway.writes.outbox.rows import (
    _accepted_state,
    _data_values,
    _dt,
    _new_outbox_record,
    _row_to_record,
    _state_values,
    request_digest,
)
from gateway.writes.outbox.schema import (
    _STATE_COLUMNS,
    _chunks,
    _select_records,
    _status,
    batches_table,
    metadata,
    records_table,
    states_table,
)
from gateway.writes.outbox.upgrade import _upgrade

__all__ = ["OutboxStore"]

_HANDED_LIMIT = 10_000  # records accepted and not yet scanned that the outbox keeps in memory


class OutboxStore:
    """The API side of the outbox: records stored durably, once, and read back (see
    :mod:`gateway.writes.outbox`). :class:`~gateway.writes.outbox.Outbox` adds the
    transitions that the submitter makes."""

    def __init__(self, engine: Engine, *, clock: Callable[[], float] = time.time) -> None:
        self._engine = engine
        self._clock = clock
        self._listeners: list[Callable[[], None]] = []
        # Records this object accepted and no scan has seen yet, in the same form (as
        # stored: the submitter need not read back and parse what was just written).
        self._handed: dict[int, tuple[tuple[Any, ...], OutboxRecord]] = {}
        self._handed_lock = threading.Lock()
        _upgrade(engine)
        metadata.create_all(engine)

    @classmethod
    def open(cls, url: str, *, clock: Callable[[], float] = time.time) -> Self:
        """Open (creating if needed, upgrading if of an older schema) the outbox at a
        SQLAlchemy URL."""
        engine = create_gateway_engine(url)
        try:
            return cls(engine, clock=clock)
        except BaseException:
            engine.dispose()
            raise

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def exclusive(self, name: str) -> Iterator[None]:
        """Hold a lock named ``name`` across every gateway on this database, for a check
        that reads the outbox and a write that depends on it (the drawdown balance).

        On PostgreSQL (replicas sharing one database) it is a session advisory lock
        (``pg_advisory_lock``) on a connection of its own, released at the end; on SQLite
        (one gateway per file) the caller's in-process lock is enough and this holds nothing.
        """
        if self._engine.dialect.name != "postgresql":
            yield
            return
        key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
        with self._engine.connect() as conn:
            conn.exec_driver_sql("SELECT pg_advisory_lock(%s)", (key,))
            conn.commit()
            try:
                yield
            finally:
                conn.exec_driver_sql("SELECT pg_advisory_unlock(%s)", (key,))
                conn.commit()

    def on_accept(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` after each newly accepted record (the submitter's wake-up)."""
        self._listeners.append(listener)

    # --- the API side -------------------------------------------------------------------

    def accept(
        self,
        *,
        org_id: str,
        kind: RecordKind,
        record_id: str,
        payload: Mapping[str, Any],
        signature: str,
        idempotency_key: str | None = None,
        signer_nonce: str | None = None,
        signed_batch: str | None = None,
        body_sha256: str | None = None,
    ) -> AcceptResult:
        """Store a record durably, once.

        Submitting the same record again (same record id, or the same ``idempotency_key`` from
        the same organisation) returns the stored one with ``created=False``. Raises
        :class:`IdempotencyConflict` if the id or key was used for different content, and
        :class:`PermissionDenied` if the record id belongs to another organisation.
        """
        return self._accept_one(
            NewRecord(
                org_id=org_id,
                kind=kind,
                record_id=record_id,
                payload=payload,
                signature=signature,
                idempotency_key=idempotency_key,
                signer_nonce=signer_nonce,
                signed_batch=signed_batch,
                body_sha256=body_sha256,
            )
        )

    def _accept_one(self, item: NewRecord) -> AcceptResult:
        try:
            (stored,) = self.accept_many_atomic([item])
        except IntegrityError:
            existing = self._find_existing(
                org_id=item.org_id, record_id=item.record_id, idempotency_key=item.idempotency_key
            )
            if existing is None:  # pragma: no cover - a constraint we do not know of
                raise
            row_org, row_digest, record = existing
            if row_org != item.org_id:
                raise PermissionDenied(
                    "this record id belongs to another organisation",
                    code="record_id_taken",
                    field="record_id",
                ) from None
            digest = request_digest(
                kind=item.kind,
                record_id=item.record_id,
                payload=item.payload,
                signature=item.signature,
            )
            if row_digest != digest:
                which = "record id" if record.record_id == item.record_id else "Idempotency-Key"
                raise IdempotencyConflict(
                    f"this {which} was already used for a different record",
                    field="record_id" if which == "record id" else "Idempotency-Key",
                    rule="same_content",
                ) from None
            return AcceptResult(record, created=False)
        return stored

    def accept_many(self, items: Sequence[NewRecord]) -> list[AcceptResult | GatewayError]:
        """Store several records durably in one database transaction (one fsync).

        The answer for each item is what :meth:`accept` would give; if any item collides with
        a stored one (same record id or idempotency key), the items are stored one by one
        instead and the colliding ones answer as :meth:`accept` does (a repeat, or the
        :class:`IdempotencyConflict` / :class:`PermissionDenied` it raises, returned).
        """
        if not items:
            return []
        try:
            return list(self.accept_many_atomic(items))
        except IntegrityError:
            pass
        results: list[AcceptResult | GatewayError] = []
        for item in items:
            try:
                results.append(self._accept_one(item))
            except GatewayError as exc:
                results.append(exc)
        return results

    def accept_batch(self, items: Sequence[NewRecord]) -> list[AcceptResult]:
        """Store the records of one signed event batch (``signed_batch`` set, the same for
        all) durably in one transaction, all or none.

        Sent again, the same batch answers with the stored records (``created=False``).
        Raises :class:`IdempotencyConflict` (and stores nothing) if any record id or
        idempotency key was used for another record: a signed batch is never stored in part.
        """
        if not items:
            return []
        group = items[0].signed_batch
        if group is None or any(item.signed_batch != group for item in items):
            raise ValueError("accept_batch takes the records of one signed batch")
        try:
            results = self.accept_many_atomic(items)
        except IntegrityError:
            stored = self.get_many([item.record_id for item in items])
            same = len(stored) == len(items) and all(
                stored[item.record_id].signed_batch == group
                and stored[item.record_id].org_id == item.org_id
                for item in items
            )
            if not same:
                raise IdempotencyConflict(
                    "an event of this batch (or its Idempotency-Key) was already used for "
                    "another record",
                    field="events",
                    rule="same_content",
                ) from None
            return [AcceptResult(stored[item.record_id], created=False) for item in items]
        return results

    def accept_many_atomic(self, items: Sequence[NewRecord]) -> list[AcceptResult]:
        """Store new records in one transaction; raises ``IntegrityError`` (nothing stored)
        if any collides with a stored one. :meth:`accept_many` answers collisions instead."""
        now = self._clock()
        rows = [_data_values(item, now) for item in items]
        with self._engine.begin() as conn:
            if self._engine.dialect.name == "sqlite":
                # executemany, then the rowids: SQLite writes one transaction at a time, so
                # the rows of this one got the consecutive seqs up to the largest; their state
                # rows are one INSERT ... SELECT (the write lock is held meanwhile).
                conn.execute(insert(records_table), rows)
                rc = records_table.c
                last = int(conn.execute(select(func.max(rc.seq))).scalar_one())
                seqs = list(range(last - len(rows) + 1, last + 1))
                accepted = _state_values(0, now)
                columns = [c.name for c in _STATE_COLUMNS if c.name in accepted]
                conn.execute(
                    insert(states_table).from_select(
                        columns,
                        select(
                            rc.seq,
                            *(literal(accepted[n], states_table.c[n].type) for n in columns[1:]),
                        ).where(rc.seq >= seqs[0]),
                    )
                )
            else:
                returned = conn.execute(
                    insert(records_table).returning(
                        records_table.c.seq, sort_by_parameter_order=True
                    ),
                    rows,
                )
                seqs = [int(row.seq) for row in returned]
                conn.execute(insert(states_table), [_state_values(seq, now) for seq in seqs])
        at = _dt(now)
        stored = [_new_outbox_record(seq, item, at) for seq, item in zip(seqs, items, strict=True)]
        with self._handed_lock:
            if len(self._handed) + len(stored) <= _HANDED_LIMIT:
                state = _accepted_state(0, now)[1:]  # the same for all but the seq
                self._handed.update((r.seq, ((r.seq, *state), r)) for r in stored)
        for listener in self._listeners:
            listener()
        return [AcceptResult(record, created=True) for record in stored]

    def _find_existing(
        self, *, org_id: str, record_id: str, idempotency_key: str | None
    ) -> tuple[str, str, OutboxRecord] | None:
        rc = records_table.c
        condition = rc.record_id == record_id
        if idempotency_key is not None:
            condition = or_(
                condition, (rc.org_id == org_id) & (rc.idempotency_key == idempotency_key)
            )
        # Prefer the idempotency-key match: it is the client's own statement of identity.
        with self._engine.connect() as conn:
            rows = list(conn.execute(_select_records().where(condition)).all())
        if not rows:
            return None
        rows.sort(key=lambda r: r.idempotency_key != idempotency_key or r.org_id != org_id)
        row = rows[0]
        return row.org_id, row.request_sha256, _row_to_record(row)

    def by_idempotency_key(self, *, org_id: str, idempotency_key: str) -> OutboxRecord | None:
        """The record an organisation stored under ``idempotency_key``, if any."""
        rc = records_table.c
        with self._engine.connect() as conn:
            row = conn.execute(
                _select_records().where(rc.org_id == org_id, rc.idempotency_key == idempotency_key)
            ).first()
        return None if row is None else _row_to_record(row)

    def get_many(self, record_ids: Sequence[str]) -> dict[str, OutboxRecord]:
        """The stored records among ``record_ids`` (one query), by record id."""
        out: dict[str, OutboxRecord] = {}
        with self._engine.connect() as conn:
            for chunk in _chunks(list(dict.fromkeys(record_ids))):
                query = _select_records().where(records_table.c.record_id.in_(chunk))
                out.update((row.record_id, _row_to_record(row)) for row in conn.execute(query))
        return out

    def claimed_nonces(self, signer_nonces: Sequence[str]) -> dict[str, list[OutboxRecord]]:
        """Records on their way to the chain (accepted or submitted) that hold one of
        ``signer_nonces`` (``contract:signer:nonce``), by that value.

        The chain cannot see a nonce that an accepted record will use: this is how a second
        record with the same nonce is refused before it is accepted.
        """
        out: dict[str, list[OutboxRecord]] = {}
        live = [RecordStatus.ACCEPTED.value, RecordStatus.SUBMITTED.value]
        with self._engine.connect() as conn:
            for chunk in _chunks(list(dict.fromkeys(signer_nonces))):
                query = _select_records().where(
                    records_table.c.signer_nonce.in_(chunk), _status().in_(live)
                )
                for row in conn.execute(query):
                    out.setdefault(row.signer_nonce, []).append(_row_to_record(row))
        return out

    def get(self, record_id: str) -> OutboxRecord | None:
        with self._engine.connect() as conn:
            row = conn.execute(
                _select_records().where(records_table.c.record_id == record_id)
            ).first()
        return None if row is None else _row_to_record(row)

    def records(
        self,
        *,
        org_id: str,
        status: RecordStatus | None = None,
        kind: RecordKind | None = None,
        after: int = 0,
        limit: int = 100,
    ) -> list[OutboxRecord]:
        """Records of one organisation in acceptance order, after the cursor ``after`` (seq)."""
        rc, sc = records_table.c, states_table.c
        if status is None:
            query = _select_records().where(rc.org_id == org_id, rc.seq > after).order_by(rc.seq)
        else:
            # In the order of the status index: a few accepted among a million confirmed.
            query = (
                _select_records()
                .where(sc.status == status.value, sc.seq > after, rc.org_id == org_id)
                .order_by(sc.seq)
            )
        query = query.limit(limit)
        if kind is not None:
            query = query.where(rc.kind == kind.value)
        with self._engine.connect() as conn:
            return [_row_to_record(row) for row in conn.execute(query)]

    def counts(self) -> dict[RecordStatus, int]:
        """Number of records in each state."""
        sc = states_table.c
        query = select(sc.status, func.count()).group_by(sc.status)
        counts = dict.fromkeys(RecordStatus, 0)
        with self._engine.connect() as conn:
            for row in conn.execute(query):
                counts[RecordStatus(str(row[0]))] = int(row[1])
        return counts

    def pending(self, kind: RecordKind) -> list[OutboxRecord]:
        """Records of ``kind`` on their way to the chain (accepted or submitted), oldest first.

        Pre-validation uses it for what ``eth_call`` cannot see: e.g. drawdowns of one
        certificate that are accepted but not mined yet.
        """
        query = (
            _select_records()
            .where(
                records_table.c.kind == kind.value,
                states_table.c.status.in_(
                    [RecordStatus.ACCEPTED.value, RecordStatus.SUBMITTED.value]
                ),
            )
            .order_by(records_table.c.seq)
        )
        with self._engine.connect() as conn:
            return [_row_to_record(row) for row in conn.execute(query)]

    def ping(self) -> None:
        """Raise if the database cannot be read (a readiness check)."""
        with self._engine.connect() as conn:
            conn.execute(select(func.count()).select_from(batches_table)).scalar_one()
